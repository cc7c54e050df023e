"""The fast canonical form must be byte-equal to the RFC 8785 package."""

from __future__ import annotations

from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from events.canonical import canonical, canonical_object, canonical_scalar

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


def test_floats_take_the_package_path() -> None:
    for value, expected in [(5.0, "5"), (1e21, "1e+21"), (0.1, "0.1"), ({"a": [1.5e-7]}, '{"a":[1.5e-7]}')]:
        assert canonical(value) == expected
