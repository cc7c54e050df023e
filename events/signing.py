"""Signed tree heads: Ed25519 over the JCS bytes of {"tree_size", "root_hash", "timestamp"}."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIGNED_KEYS = ("tree_size", "root_hash", "timestamp")


class BadKey(ValueError):
    """A key that cannot be read."""


def signed_bytes(head: dict[str, Any]) -> bytes:
    return rfc8785.dumps({key: head[key] for key in SIGNED_KEYS})


def _raw_32(text: str) -> bytes | None:
    text = text.strip()
    for decode in (bytes.fromhex, base64.b64decode):
        try:
            raw = decode(text)
        except (ValueError, binascii.Error):
            continue
        if len(raw) == 32:
            return raw
    return None


def load_private_key(text: str) -> Ed25519PrivateKey:
    """PEM (PKCS#8), or the 32-byte seed in hex or base64."""
    if "BEGIN" in text:
        key = serialization.load_pem_private_key(text.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise BadKey("TIMELINE_SIGNING_KEY is not an Ed25519 key")
        return key
    raw = _raw_32(text)
    if raw is None:
        raise BadKey("TIMELINE_SIGNING_KEY must be a PEM key, or 32 bytes in hex or base64")
    return Ed25519PrivateKey.from_private_bytes(raw)


def load_public_key(text: str) -> Ed25519PublicKey:
    """PEM (SubjectPublicKeyInfo), or the 32 raw bytes in hex or base64."""
    if "BEGIN" in text:
        key = serialization.load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise BadKey("not an Ed25519 public key")
        return key
    raw = _raw_32(text)
    if raw is None:
        raise BadKey("a public key must be PEM, or 32 bytes in hex or base64")
    return Ed25519PublicKey.from_public_bytes(raw)


def public_key_base64(key: Ed25519PublicKey) -> str:
    return base64.b64encode(
        key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ).decode()


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def sign_head(head: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    return {**head, "signature": base64.b64encode(key.sign(signed_bytes(head))).decode()}


def signature_valid(head: dict[str, Any], key: Ed25519PublicKey) -> bool:
    try:
        key.verify(base64.b64decode(head["signature"], validate=True), signed_bytes(head))
    except (InvalidSignature, KeyError, ValueError, binascii.Error):
        return False
    return True
