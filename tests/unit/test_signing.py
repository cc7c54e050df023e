"""Signed tree heads (events/signing.py, docs/api.md "Signed tree heads"): the keys an operator
may give, and a signature an auditor can check with the published public key alone."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from events.signing import (
    BadKey,
    load_private_key,
    load_public_key,
    public_key_base64,
    public_key_pem,
    sign_head,
    signature_valid,
    signed_bytes,
)

SEED = bytes(range(32))
HEAD: dict[str, Any] = {"tree_size": 3, "root_hash": "ab" * 32, "timestamp": "2026-01-01T00:00:00.000000Z"}


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def test_only_the_three_members_are_signed_in_jcs() -> None:
    assert signed_bytes({**HEAD, "signature": "x", "extra": 1}) == rfc8785.dumps(HEAD)


@pytest.mark.parametrize("form", ["hex", "base64", "pem", "hex with spaces"])
def test_a_private_key_in_each_form_gives_the_same_key(form: str) -> None:
    expected = Ed25519PrivateKey.from_private_bytes(SEED)
    text = {
        "hex": SEED.hex(),
        "base64": base64.b64encode(SEED).decode(),
        "pem": expected.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        "hex with spaces": f"  {SEED.hex()}\n",
    }[form]
    assert raw_public(load_private_key(text)) == raw_public(expected)


@pytest.mark.parametrize(
    "text", ["", "00" * 31, "00" * 33, base64.b64encode(b"x" * 31).decode(), "not a key"]
)
def test_a_private_key_of_another_size_is_refused_with_what_is_accepted(text: str) -> None:
    with pytest.raises(
        BadKey, match=r"^TIMELINE_SIGNING_KEY must be a PEM key, or 32 bytes in hex or base64$"
    ):
        load_private_key(text)


def test_a_pem_key_of_another_kind_is_refused() -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    private_pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = public_key_pem_of(other)
    with pytest.raises(BadKey, match=r"^TIMELINE_SIGNING_KEY is not an Ed25519 key$"):
        load_private_key(private_pem)
    with pytest.raises(BadKey, match=r"^not an Ed25519 public key$"):
        load_public_key(public_pem)


def public_key_pem_of(key: ec.EllipticCurvePrivateKey) -> str:
    public = key.public_key()
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def test_the_published_public_key_checks_a_signed_head_in_each_form() -> None:
    key = load_private_key(SEED.hex())
    signed = sign_head(HEAD, key)
    assert {k: v for k, v in signed.items() if k != "signature"} == HEAD
    public = key.public_key()
    assert base64.b64decode(public_key_base64(public)) == raw_public(key)
    for text in (public_key_base64(public), raw_public(key).hex(), public_key_pem(public)):
        assert public_key_pem(load_public_key(text)) == public_key_pem(public)
        assert signature_valid(signed, load_public_key(text))
    assert public_key_pem(public).startswith("-----BEGIN PUBLIC KEY-----")


def test_a_changed_head_or_a_bad_signature_does_not_check() -> None:
    key = load_private_key(SEED.hex())
    signed = sign_head(HEAD, key)
    public = key.public_key()
    assert not signature_valid({**signed, "tree_size": 4}, public)
    assert not signature_valid({**signed, "signature": "not base64!"}, public)
    # the right signature with a stray character is not base64: refused, not read past
    assert not signature_valid({**signed, "signature": "!" + signed["signature"]}, public)
    assert not signature_valid(HEAD, public)  # none at all
    other = Ed25519PrivateKey.from_private_bytes(bytes(32)).public_key()
    assert not signature_valid(signed, other)


def test_a_public_key_of_another_size_is_refused() -> None:
    with pytest.raises(BadKey, match=r"^a public key must be PEM, or 32 bytes in hex or base64$"):
        load_public_key("00" * 31)
