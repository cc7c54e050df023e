"""The fast canonical form must be byte-equal to the RFC 8785 package."""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from events.canonical import (
    _fast_form_is_jcs,
    canonical,
    canonical_object,
    canonical_scalar,
    loads_noting_form,
)
from events.envelope import seal_unsealed, unsealed_of

# Text as validation lets it through: no lone surrogates, no U+0000.
texts = st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))
safe_ints = st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)
json_values = st.recursive(
    st.none() | st.booleans() | safe_ints | st.floats(allow_nan=False, allow_infinity=False) | texts,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=12,
)
ascii_keys = st.from_regex(r"[a-z_]{1,12}", fullmatch=True)


@given(st.one_of(texts, safe_ints, st.none()))
@settings(max_examples=500)
def test_scalars_match_the_package(value: str | int | None) -> None:
    assert canonical_scalar(value) == rfc8785.dumps(value).decode()


@given(st.text(alphabet=st.characters(max_codepoint=127, exclude_characters="\x00")))
@settings(max_examples=500)
def test_ascii_scalars_match_the_package(value: str) -> None:
    # Mostly ASCII, with quotes, backslashes, control characters and DEL: the fast path's edges.
    assert canonical_scalar(value) == rfc8785.dumps(value).decode()


@given(st.dictionaries(ascii_keys, json_values, max_size=10))
@settings(max_examples=300)
def test_objects_assembled_from_members_match_the_package(obj: dict[str, Any]) -> None:
    members = {key: canonical(value) for key, value in obj.items()}
    assert canonical_object(members) == rfc8785.dumps(obj).decode()


@given(json_values)
@settings(max_examples=1000)
def test_canonical_matches_the_package_on_any_value(value: Any) -> None:
    # Floats, non-ASCII keys and escapes included: the fast path must step aside where it would differ.
    assert canonical(value) == rfc8785.dumps(value).decode()


non_ascii_keys = st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=1, max_size=3)


@given(st.dictionaries(non_ascii_keys, safe_ints | texts, max_size=6))
@settings(max_examples=300)
def test_key_order_follows_utf16_code_units(obj: dict[str, Any]) -> None:
    assert canonical(obj) == rfc8785.dumps(obj).decode()


unsafe_ints = st.integers(min_value=2**53, max_value=2**70) | st.integers(
    max_value=-(2**53), min_value=-(2**70)
)


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | safe_ints
        | unsafe_ints
        | st.floats(allow_nan=False, allow_infinity=False)
        | texts,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
        max_leaves=12,
    ),
    st.booleans(),
)
@settings(max_examples=1000)
def test_what_parsing_notes_as_fast_is_jcs(value: Any, ascii_only: bool) -> None:
    """Verification trusts the parser's note to skip the walk: where it says fast, the
    fast form must be the package's bytes, whatever the text (escaped or not, spaced or not)."""
    text = json.dumps(value, ensure_ascii=ascii_only)
    parsed, fast = loads_noting_form(text)
    assert parsed == json.loads(text)
    if fast:
        assert canonical(parsed, fast_form_known=True) == rfc8785.dumps(parsed).decode()


def test_escaped_keys_are_never_taken_as_fast() -> None:
    """Code-point order puts U+FFFF before an emoji, UTF-16 order after it (its surrogates
    are lower): ASCII text can spell such keys with escapes."""
    text = '{"\\uffff": 1, "\\ud83d\\ude00": 2}'
    parsed, fast = loads_noting_form(text)
    assert not fast
    assert canonical(parsed) == rfc8785.dumps(parsed).decode()


@pytest.mark.parametrize("text", ["[1.0]", '{"a": 9007199254740993}', "[NaN]", '{"k": -Infinity}', "[1e3]"])
def test_floats_unsafe_integers_and_constants_are_not_fast(text: str) -> None:
    assert loads_noting_form(text)[1] is False


def test_floats_take_the_package_path() -> None:
    for value, expected in [(5.0, "5"), (1e21, "1e+21"), (0.1, "0.1"), ({"a": [1.5e-7]}, '{"a":[1.5e-7]}')]:
        assert canonical(value) == expected


instants = st.from_regex(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z", fullmatch=True)


@given(
    st.fixed_dictionaries(
        {
            "id": texts,
            "type": texts,
            "subject": texts,
            "occurred_at": texts,
            "occurred_precision": texts,
            "occurred_from": texts,
            "occurred_until": texts,
            "reported_at": st.none() | texts,
            "source": st.dictionaries(texts, json_values, max_size=4),
            "data": st.dictionaries(texts, json_values, max_size=4),
            "supersedes": st.none() | texts,
            "schema_version": safe_ints,
            "position": st.integers(min_value=1, max_value=2**53 - 1),
            "version": st.integers(min_value=1, max_value=2**53 - 1),
            "recorded_at": instants,
            "prev_hash": st.from_regex(r"[0-9a-f]{64}", fullmatch=True),
        }
    )
)
@settings(max_examples=500)
def test_sealing_from_pieces_matches_the_package(event: dict[str, Any]) -> None:
    """The store seals by concatenating pieces made outside its lock: the same bytes as
    the package's JCS of the whole event, before and after the hash is added."""
    unsealed = unsealed_of(
        id=event["id"],
        type=event["type"],
        occurred_at=event["occurred_at"],
        occurred_precision=event["occurred_precision"],
        occurred_from=event["occurred_from"],
        occurred_until=event["occurred_until"],
        reported_at=event["reported_at"],
        source_jcs=canonical(event["source"]),
        data_jcs=canonical(event["data"]),
        supersedes=event["supersedes"],
        schema_version=event["schema_version"],
    )
    digest, body = seal_unsealed(
        unsealed,
        subject=event["subject"],
        position=event["position"],
        prev_hash=event["prev_hash"],
        recorded_at=event["recorded_at"],
        version=event["version"],
    )
    assert digest == hashlib.sha256(rfc8785.dumps(event)).hexdigest()
    assert body == rfc8785.dumps({**event, "hash": digest}).decode()


# -- the fast path is taken where it is safe: what makes parsing and hashing cheap -------


@pytest.mark.parametrize(
    "text",
    ['{"a": 1, "b": [true, null, "x"]}', "[9007199254740991]", "[-9007199254740991]", "[1000000000000000]"],
)
def test_plain_values_are_noted_fast(text: str) -> None:
    # integers up to the safe limit, however many digits, keep the fast form
    value, fast = loads_noting_form(text)
    assert fast is True and json.dumps(value, sort_keys=True, separators=(",", ":")) == canonical(value)


def test_every_thread_notes_the_form_alike() -> None:
    # The reader is per thread (requests are parsed in a pool): a new thread builds its own.
    seen: list[list[bool]] = []
    texts = ["[1]", "[1.0]", "[NaN]", "[9007199254740992]"]
    worker = threading.Thread(target=lambda: seen.append([loads_noting_form(t)[1] for t in texts]))
    worker.start()
    worker.join()
    assert seen == [[True, False, False, False]]


@pytest.mark.parametrize(
    ("value", "fast"),
    [
        ({"a": [1, "x", None, True]}, True),
        (2**53 - 1, True),
        (-(2**53 - 1), True),
        (2**53, False),
        ({"a": 5.0}, False),
        ({"é": 1}, False),
    ],
)
def test_the_fast_form_is_taken_for_plain_values_only(value: Any, fast: bool) -> None:
    assert _fast_form_is_jcs(value) is fast


def test_booleans_are_jcs_literals() -> None:
    assert (canonical_scalar(True), canonical_scalar(False)) == ("true", "false")
