"""Strict JSON input: the hooks' fast path answers as checking every value would."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from events.canonical import canonical
from events.errors import InvalidInput
from events.jsonio import (
    MAX_ARRAY,
    MAX_DEPTH,
    _pairs_to_object,
    _refuse_constant,
    _walk,
    parse_json,
    parse_json_noting_form,
)

keys = st.text(max_size=6)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
    max_leaves=10,
)


def reference(text: str) -> Any:
    """Every value walked: the definition the fast path must agree with."""
    value = json.loads(text, object_pairs_hook=_pairs_to_object, parse_constant=_refuse_constant)
    errors: list[Any] = []
    normalised = _walk(value, "", errors)
    if errors:
        raise InvalidInput("refused", errors)
    return normalised


def outcome(parse: Any, text: str) -> Any:
    try:
        return ("value", json.dumps(parse(text), sort_keys=True))
    except InvalidInput as exc:
        return ("refused", [(e.path, e.message) for e in exc.errors])


def texts_of(value: Any) -> list[str]:
    """The value written plainly, with every non-ASCII character escaped, and with a key
    repeated; big literals stand for numbers beyond the safe range and overflows."""
    plain = json.dumps(value, ensure_ascii=False)
    escaped = json.dumps(value, ensure_ascii=True)
    found = [plain, escaped, plain.replace('"', '"\\u0000', 1), '{"k": 1e400}', '{"k": [1.0, 2.5, -0.0]}']
    if plain.startswith("{") and plain != "{}":
        found.append(plain[:-1] + ", " + plain[1:])  # every key twice
    return found


@given(values)
@settings(max_examples=500)
def test_parse_json_answers_as_the_full_walk(value: Any) -> None:
    for text in texts_of(value):
        try:
            expected = outcome(reference, text)
        except ValueError:  # not JSON at all
            with pytest.raises(InvalidInput):
                parse_json(text)
            continue
        assert outcome(parse_json, text) == expected, text


@given(values)
@settings(max_examples=500)
def test_what_parsing_notes_as_fast_is_jcs(value: Any) -> None:
    for text in texts_of(value):
        try:
            parsed, fast = parse_json_noting_form(text)
        except InvalidInput:
            continue
        if fast:
            assert canonical(parsed, fast_form_known=True) == rfc8785.dumps(parsed).decode(), text


def test_fractions_non_ascii_and_escapes_are_not_fast() -> None:
    for text in ['{"a": 2.5}', r'{"\u00e9": 1}', '{"é": 1}', r'{"a": "\u0041"}']:
        assert parse_json_noting_form(text)[1] is False
    assert parse_json_noting_form('{"a": [1, 2.0, "x"], "b": {"c": true}}') == (
        {"a": [1, 2, "x"], "b": {"c": True}},
        True,
    )


def test_lone_surrogates_and_nul_are_refused_raw_or_escaped() -> None:
    for text in ['{"a": "\\ud800"}', '{"a": "\ud800"}', '{"\\u0000": 1}', '{"a": null}']:
        with pytest.raises(InvalidInput):
            parse_json(text)


def test_integral_floats_become_integers() -> None:
    parsed = parse_json('{"a": 5.0, "b": [1e2, 2.5], "c": -0.0}')
    assert parsed == {"a": 5, "b": [100, 2.5], "c": 0}
    assert isinstance(parsed["a"], int) and isinstance(parsed["b"][0], int)
    assert not math.isnan(parsed["b"][1])


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5_000, 200_000])
def test_nesting_deeper_than_the_limit_is_refused_with_the_limit_named(depth: int) -> None:
    # 200,000 levels made the decoder raise RecursionError: a 500, not a refusal.
    with pytest.raises(InvalidInput) as refused:
        parse_json("[" * depth + "]" * depth)
    assert refused.value.extra["limit"] == {"max_depth": MAX_DEPTH}
    assert "32 levels" in refused.value.detail


def test_nesting_up_to_the_limit_is_read() -> None:
    assert parse_json("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    nested = '{"a":' * (MAX_DEPTH - 1) + "[]" + "}" * (MAX_DEPTH - 1)
    assert parse_json(nested) is not None
    with pytest.raises(InvalidInput) as refused:
        parse_json('{"a":' * MAX_DEPTH + "[]" + "}" * MAX_DEPTH)
    assert refused.value.errors[0].path == "/a" * MAX_DEPTH


def test_an_array_over_the_limit_is_refused_at_its_pointer() -> None:
    assert len(parse_json("[" + ",".join("1" * MAX_ARRAY) + "]")) == MAX_ARRAY
    with pytest.raises(InvalidInput) as refused:
        parse_json('{"data":{"list":[' + ",".join("1" * (MAX_ARRAY + 1)) + "]}}")
    assert refused.value.errors[0].path == "/data/list"
    assert refused.value.extra["limit"] == {"max_array_items": MAX_ARRAY}
