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
