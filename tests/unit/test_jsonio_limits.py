"""The strict JSON reader's refusals, word for word, and its limits from both sides.

tests/unit/test_jsonio.py checks that the reader's fast path answers as walking every value
would, but its reference walks with `_walk` itself: a wrong message or path there is wrong on
both sides and passes. Here each refusal is pinned as a client receives it (the 422's detail,
each field error's pointer and message, the limit named), each limit is tried exactly at it and
one past it, and the shortcuts that skip the checks (counting commas and brackets, the hooks'
notes) are tried where they decide.
"""

from __future__ import annotations

import contextlib
import json
import threading
from typing import Any

import pytest

from events import jsonio
from events.errors import FieldError, InvalidInput
from events.jsonio import MAX_ARRAY, MAX_DEPTH, MAX_SAFE_INTEGER, _walk, parse_json, parse_json_noting_form

REFUSED_VALUES = "The JSON holds values the contract refuses."
NULL = "null is not accepted: omit an optional key instead"
STRINGS = "strings may not hold U+0000 or lone surrogates"
KEYS = "keys may not hold U+0000 or lone surrogates"
INTEGERS = "integers must lie within ±(2^53 − 1)"
NUMBERS = "numbers must lie within ±(2^53 − 1)"
FINITE = "numbers must be finite"
# A string with an escape: the hooks cannot vouch for it, so the whole value is walked.
WALKED = '"\\u0041"'


def refusal(text: str | bytes) -> InvalidInput:
    with pytest.raises(InvalidInput) as refused:
        parse_json_noting_form(text)
    return refused.value


def refused_at(text: str | bytes) -> list[tuple[str, str]]:
    refused = refusal(text)
    assert refused.detail == REFUSED_VALUES
    return [(error.path, error.message) for error in refused.errors]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def too_deep(path: str) -> tuple[str, list[FieldError], dict[str, Any]]:
    return (
        "The JSON nests deeper than 32 levels (the limit).",
        [FieldError(path, "nested deeper than 32 levels")],
        {"limit": {"max_depth": 32}},
    )


def answer(refused: InvalidInput) -> tuple[str, list[FieldError], dict[str, Any]]:
    return refused.detail, refused.errors, refused.extra


# --- Not JSON, not UTF-8 ----------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "byte"), [(b'{"a": "\xff"}', 7), (b"\xc3", 0), (b'["\xc3\xa9", "\xe9"]', 8)])
def test_bytes_that_are_not_utf8_are_refused_at_the_first_bad_byte(raw: bytes, byte: int) -> None:
    refused = refusal(raw)
    assert (refused.detail, refused.errors) == (
        "The body is not valid UTF-8.",
        [FieldError("", f"invalid UTF-8 at byte {byte}")],
    )


def test_utf8_bytes_are_read_as_the_text_they_spell() -> None:
    assert parse_json_noting_form('{"é": [1]}'.encode()) == ({"é": [1]}, False)
    assert parse_json_noting_form(b'{"a": [1]}') == ({"a": [1]}, True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Expecting value: line 1 column 1 (char 0)"),
        ("{", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        ("[1] x", "Extra data: line 1 column 5 (char 4)"),
        ("[NaN]", "NaN is not a JSON number"),
        ('{"a": Infinity}', "Infinity is not a JSON number"),
        ("[-Infinity]", "-Infinity is not a JSON number"),
    ],
)
def test_what_is_not_json_is_refused_with_the_decoders_reason(text: str, message: str) -> None:
    refused = refusal(text)
    assert (refused.detail, refused.errors) == ("The body is not valid JSON.", [FieldError("", message)])


# --- Nesting depth ------------------------------------------------------------------------------


def test_a_depth_past_what_the_decoder_can_recurse_is_refused_at_the_top() -> None:
    # The decoder's RecursionError (a 500 before): refused as too deep, with no pointer.
    assert answer(refusal(nested(200_000))) == too_deep("")


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_one_level_past_the_limit_is_refused_at_the_deepest_value(opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    token = "/0" if opener == "[" else "/a"
    text = opener * MAX_DEPTH + "[]" + closer * MAX_DEPTH
    assert answer(refusal(text)) == too_deep(token * MAX_DEPTH)


def test_exactly_the_limit_is_read_even_when_the_brackets_make_the_reader_look() -> None:
    # 32 levels and a sibling: 33 brackets, so the shape is checked, and passes.
    assert parse_json("[" + nested(MAX_DEPTH - 1) + ",[]]") == [nested_list(MAX_DEPTH - 1), []]
    deep = '{"a":' * (MAX_DEPTH - 2) + "{}" + "}" * (MAX_DEPTH - 2)
    assert parse_json('{"x":{},"y":' + deep + "}") == {"x": {}, "y": json.loads(deep)}


def nested_list(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_the_path_to_a_value_too_deep_names_each_member_and_index() -> None:
    # Mixed objects and arrays, with a key that must be escaped in a JSON Pointer.
    inner = '{"a/b":[' * (MAX_DEPTH // 2) + "{}" + "]}" * (MAX_DEPTH // 2)
    text = '[1, {"~": 2}, ' + inner + "]"
    expected = "/2" + "/a~1b/0" * (MAX_DEPTH // 2 - 1) + "/a~1b"
    assert answer(refusal(text)) == too_deep(expected)


def test_the_value_too_deep_is_the_one_named_not_its_neighbour_at_the_limit() -> None:
    text = "[" + nested(MAX_DEPTH - 1) + "," + nested(MAX_DEPTH) + "]"
    assert answer(refusal(text)) == too_deep("/1" + "/0" * (MAX_DEPTH - 1))
    # Of two too deep, the first.
    text = "[" + nested(MAX_DEPTH + 5) + "," + nested(MAX_DEPTH) + "]"
    assert answer(refusal(text)) == too_deep("/0" * MAX_DEPTH)


# --- Array length -------------------------------------------------------------------------------


def items(count: int) -> str:
    return "[" + ",".join(["0"] * count) + "]"


def test_an_array_of_exactly_the_limit_is_read_when_other_commas_make_the_reader_look() -> None:
    # 9,999 commas in the array and one outside it: the shape is checked, and passes.
    parsed = parse_json('{"a":' + items(MAX_ARRAY) + ',"b":1}')
    assert len(parsed["a"]) == MAX_ARRAY and parsed["b"] == 1


@pytest.mark.parametrize(("prefix", "suffix", "path"), [("", "", ""), ('{"x":1,"a~":[', "]}", "/a~0/0")])
def test_one_item_past_the_limit_is_refused_with_the_limit_named(prefix: str, suffix: str, path: str) -> None:
    refused = refusal(prefix + items(MAX_ARRAY + 1) + suffix)
    assert answer(refused) == (
        "An array holds 10,001 items; at most 10,000 (the limit).",
        [FieldError(path, "more than 10,000 items")],
        {"limit": {"max_array_items": 10_000}},
    )


def test_the_array_named_is_the_one_over_the_limit_not_its_neighbours() -> None:
    text = "[" + items(MAX_ARRAY) + "," + items(MAX_ARRAY + 5) + "]"
    refused = refusal(text)
    assert refused.detail == "An array holds 10,005 items; at most 10,000 (the limit)."
    assert refused.errors == [FieldError("/1", "more than 10,000 items")]


def test_commas_inside_strings_do_not_hide_an_array_under_the_limit() -> None:
    # Counting commas is only a shortcut: commas in strings make the reader look, no more.
    text = '{"s":"' + "," * MAX_ARRAY + '","a":' + items(3) + "}"
    assert parse_json(text) == {"s": "," * MAX_ARRAY, "a": [0, 0, 0]}


# --- Integers and other numbers at the safe-integer edge -------------------------------------------


@pytest.mark.parametrize("sign", ["", "-"])
def test_integers_up_to_the_safe_limit_are_read_and_one_past_is_refused(sign: str) -> None:
    edge = MAX_SAFE_INTEGER
    assert parse_json_noting_form(f"[{sign}{edge}]") == ([int(f"{sign}{edge}")], True)
    assert refused_at(f"[{sign}{edge + 1}]") == [("/0", INTEGERS)]
    # Also when something else makes the reader walk every value.
    assert parse_json(f"[{WALKED}, {sign}{edge}]") == ["A", int(f"{sign}{edge}")]
    assert refused_at(f"[{WALKED}, {sign}{edge + 1}]") == [("/1", INTEGERS)]
    assert parse_json(f"[{sign}1000000000000000]") == [int(f"{sign}1000000000000000")]


@pytest.mark.parametrize("sign", ["", "-"])
def test_floats_at_the_safe_limit_become_integers_and_one_past_is_refused(sign: str) -> None:
    edge = MAX_SAFE_INTEGER
    for text in (f"[{sign}{edge}.0]", f"[{WALKED}, {sign}{edge}.0]"):
        parsed = parse_json(text)
        assert parsed[-1] == int(f"{sign}{edge}") and type(parsed[-1]) is int
    assert refused_at(f"[{sign}{edge + 1}.0]") == [("/0", NUMBERS)]
    assert refused_at(f"[{WALKED}, {sign}9007199254740992.0]") == [("/1", NUMBERS)]
    assert refused_at(f"[{sign}1e300]") == [("/0", NUMBERS)]
    assert refused_at(f"[{sign}1e400]") == [("/0", FINITE)]


def test_fractions_are_kept_and_said_not_to_be_in_the_fast_form() -> None:
    assert parse_json_noting_form("[0.5, -2.25]") == ([0.5, -2.25], False)
    assert parse_json_noting_form(f"[{WALKED}, 0.5]") == (["A", 0.5], False)
    assert parse_json_noting_form("[1.0, 2e0, -0.0]") == ([1, 2, 0], True)


# --- What the walk notes ------------------------------------------------------------------------


def test_each_refused_value_is_named_at_its_pointer_in_document_order() -> None:
    text = '{"a": null, "b": [1e400, "\\u0000", {"c~/": "\\ud800"}], "d": true, "e": 9007199254740992}'
    assert refused_at(text) == [
        ("/a", NULL),
        ("/b/0", FINITE),
        ("/b/1", STRINGS),
        ("/b/2/c~0~1", STRINGS),
        ("/e", INTEGERS),
    ]


def test_a_key_that_holds_a_forbidden_character_is_named_and_its_value_still_checked() -> None:
    assert refused_at('{"\\u0000": 1}') == [("/\x00", KEYS)]
    assert refused_at('{"k\\udc00": null}') == [("/k\udc00", KEYS), ("/k\udc00", NULL)]


def test_a_raw_lone_surrogate_is_refused_where_it_is() -> None:
    assert refused_at('["ok", "\ud800"]') == [("/1", STRINGS)]


def test_a_repeated_key_is_named_once_and_its_object_not_walked_further() -> None:
    # The object is already refused: its null and its second copy add nothing.
    assert refused_at('{"o": {"k": null, "k": 1, "j": null}, "p": null}') == [
        ("/o/k", "the key 'k' appears more than once"),
        ("/p", NULL),
    ]
    assert refused_at('{"a/b": 1, "a/b": 2}') == [("/a~1b", "the key 'a/b' appears more than once")]


def test_null_and_escapes_inside_strings_make_the_reader_walk_but_are_taken() -> None:
    assert parse_json_noting_form('["nullify", "null"]') == (["nullify", "null"], True)
    assert parse_json_noting_form('{"k": "\\u00e9", "t": true, "f": false}') == (
        {"k": "é", "t": True, "f": False},
        False,
    )
    assert parse_json_noting_form('{"\\u0041": "x"}') == ({"A": "x"}, False)


def test_the_walk_returns_integral_floats_as_integers() -> None:
    # A float reaches the walk whole only when the hooks did not see it (a value built in
    # Python): the walk is what guarantees the stored form is 5, not 5.0.
    errors: list[FieldError] = []
    walked = _walk({"a": [5.0, -0.0, 2.5, True, "s"], "b": {"c": 1e2}}, "/x", errors)
    assert walked == {"a": [5, 0, 2.5, True, "s"], "b": {"c": 100}} and errors == []
    assert [type(v) for v in walked["a"]] == [int, int, float, bool, str]
    assert type(walked["b"]["c"]) is int
    _walk({"n": float("nan"), "i": -(2**53), "m": 2.0**53}, "/x", errors)
    assert errors == [FieldError("/x/n", FINITE), FieldError("/x/i", INTEGERS), FieldError("/x/m", NUMBERS)]


def test_the_walk_keeps_values_at_the_edge() -> None:
    errors: list[FieldError] = []
    edge = [MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, float(MAX_SAFE_INTEGER), -float(MAX_SAFE_INTEGER)]
    assert _walk(edge, "", errors) == [MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER] * 2 and errors == []


# --- A new thread's reader ------------------------------------------------------------------------


def test_a_new_threads_reader_refuses_and_converts_alike() -> None:
    # The reader is built per thread, the first thread's at import (before mutmut's fork): its
    # hooks are only seen as built when a thread builds them during a test.
    texts = ['{"k": 1, "k": 2}', "[NaN]", "[9007199254740992]", "[1.0]", "[2.5]", "[1e400]"]
    seen: list[Any] = []

    def read_all() -> None:
        for text in texts:
            try:
                value, fast = parse_json_noting_form(text)
                seen.append((value, [type(v) for v in value], fast))
            except InvalidInput as exc:
                seen.append([(e.path, e.message) for e in exc.errors])

    worker = threading.Thread(target=read_all)
    worker.start()
    worker.join()
    assert seen == [
        [("/k", "the key 'k' appears more than once")],
        [("", "NaN is not a JSON number")],
        [("/0", INTEGERS)],
        ([1], [int], True),
        ([2.5], [float], False),
        [("/0", FINITE)],
    ]


def test_the_walk_refuses_what_no_json_could_give() -> None:
    with pytest.raises(TypeError, match=r"^unexpected JSON value \(1, 2\)$"):
        _walk((1, 2), "", [])


# --- The shortcuts: what is checked a second time, and what is not ------------------------------
# A wrong shortcut gives the same answers, only slower: every body walked value by value, every
# batch of 1,000 events walked twice. The module's claim is that most bodies skip the walk and
# that only a refused shape is walked again to say where; these pin it at the edges.


class Calls:
    """Wraps a function of events.jsonio and counts its calls."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
        self.count = 0
        original = getattr(jsonio, name)

        def counted(*args: Any) -> Any:
            self.count += 1
            return original(*args)

        monkeypatch.setattr(jsonio, name, counted)


@pytest.mark.parametrize(
    "text",
    [
        '{"a": [1, 2.5, "x", true, false, {}], "b": -0.0}',
        f"[{MAX_SAFE_INTEGER}, -{MAX_SAFE_INTEGER}]",  # the safe edge, as integers
        f"[{MAX_SAFE_INTEGER}.0, -{MAX_SAFE_INTEGER}.0]",  # and as floats
        "[1000000000000000, -1000000000000000]",  # long literals, well inside the range
        '["é", "\U0001f600"]',  # raw non-ASCII is neither NUL nor a lone surrogate
    ],
)
def test_a_body_the_hooks_vouch_for_is_not_walked(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    walks = Calls(monkeypatch, "_walk")
    parse_json_noting_form(text)
    assert walks.count == 0


@pytest.mark.parametrize(
    "text",
    [f"[{MAX_SAFE_INTEGER + 1}]", f"[{MAX_SAFE_INTEGER + 1}.0]", "[null]", f"[{WALKED}]", '["\ud800"]'],
)
def test_a_body_the_hooks_cannot_vouch_for_is_walked(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    walks = Calls(monkeypatch, "_walk")
    with contextlib.suppress(InvalidInput):
        parse_json_noting_form(text)
    assert walks.count > 0  # the walk recurses through the module's name: once per value


def test_a_body_with_no_more_brackets_than_levels_allowed_is_not_shape_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checks = Calls(monkeypatch, "_check_shape")
    parse_json(nested(MAX_DEPTH))
    parse_json(items(MAX_ARRAY))  # 9,999 commas
    assert checks.count == 0
    parse_json("[" + nested(MAX_DEPTH - 1) + ",[]]")
    assert checks.count == 1


def test_a_shape_at_the_limits_is_not_walked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    again = Calls(monkeypatch, "_refuse_shape")
    parse_json("[" + nested(MAX_DEPTH - 1) + ",[]]")
    parse_json('{"a":' + items(MAX_ARRAY) + ',"b":1}')
    # An object of more members than an array may hold items is no array.
    parse_json("{" + ",".join(f'"k{i}":0' for i in range(MAX_ARRAY + 1)) + "}")
    assert again.count == 0
    with pytest.raises(InvalidInput):
        parse_json("[" + nested(MAX_DEPTH) + ",[]]")
    assert again.count > 0
