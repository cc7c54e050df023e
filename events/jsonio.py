"""Strict JSON input: what the contract refuses that `json.loads` lets through.

`json.loads` accepts duplicate keys (the last wins), `NaN` and `Infinity`,
numbers that overflow to infinity, lone surrogates from `\\ud800` escapes,
U+0000 and integers of any size. Each of those is a 422 here, reported with
the JSON Pointer of the offending value.
"""

from __future__ import annotations

import json
import math
import re
import threading
from typing import Any

from events.errors import FieldError, InvalidInput

MAX_SAFE_INTEGER = 2**53 - 1
# Shapes no event needs (an envelope nests four or five levels; a batch holds 1,000
# events): refused with their limit named, rather than parsed into a RecursionError (a 500)
# or a list of half a million items that every later check would walk.
MAX_DEPTH = 32
MAX_ARRAY = 10_000
_FORBIDDEN_CHARS = re.compile("[\x00\ud800-\udfff]")


class _DuplicateKeyObject(dict[str, Any]):
    """An object in which a key appeared twice; the walk reports it with its path."""

    duplicate_key: str


def _pairs_to_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            marked = _DuplicateKeyObject(obj)
            marked.duplicate_key = key
            return marked
        obj[key] = value
    return obj


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def pointer_token(key: str | int) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


class _StrictReader(threading.local):
    """A decoder, built once per thread, whose hooks do on the way what the walk would do
    afterwards: make integral floats integers, and note anything the walk must look at
    (a duplicate key, a non-finite or unsafe number). Most bodies then skip the walk."""

    def __init__(self) -> None:
        self.suspect = False
        self.fractions = False
        self.decoder = json.JSONDecoder(
            object_pairs_hook=self._object,
            parse_float=self._float,
            parse_int=self._int,
            parse_constant=_refuse_constant,
        )

    def _object(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = _pairs_to_object(pairs)
        if isinstance(obj, _DuplicateKeyObject):
            self.suspect = True
        return obj

    def _float(self, literal: str) -> float | int:
        value = float(literal)
        if not math.isfinite(value) or abs(value) > MAX_SAFE_INTEGER:
            self.suspect = True
            return value
        if value.is_integer():
            return int(value)
        self.fractions = True
        return value

    def _int(self, literal: str) -> int:
        value = int(literal)
        if len(literal) > 15 and abs(value) > MAX_SAFE_INTEGER:
            self.suspect = True
        return value

    def read(self, text: str) -> tuple[Any, bool]:
        """The value, and whether the walk must check it."""
        self.suspect = self.fractions = False
        value = self.decoder.decode(text)
        # The hooks do not see null, U+0000 or lone surrogates. Escaped, the last two are
        # spelt with \u; raw, U+0000 is invalid JSON and the search finds a raw surrogate.
        clean = not self.suspect and "null" not in text and "\\u" not in text
        return value, not (clean and not _FORBIDDEN_CHARS.search(text))


_reader = _StrictReader()


def parse_json(raw: bytes | str) -> Any:
    """Parse one JSON document strictly; raise InvalidInput on any refused form."""
    return parse_json_noting_form(raw)[0]


def parse_json_noting_form(raw: bytes | str) -> tuple[Any, bool]:
    """`parse_json`, and whether `json.dumps` of any part of the value is known to be its
    JCS (see `events.canonical.canonical`): no fractional number (integral ones are
    integers now) and every key ASCII, which text that is ASCII without `\\u` escapes
    guarantees. Parsing learns this for free; walking the value afterwards would not be."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                "The body is not valid UTF-8.",
                [FieldError("", f"invalid UTF-8 at byte {exc.start}")],
            ) from None
    else:
        text = raw
    try:
        value, suspect = _reader.read(text)
    except ValueError as exc:
        raise InvalidInput("The body is not valid JSON.", [FieldError("", str(exc))]) from None
    except RecursionError:
        raise _too_deep("") from None
    # Counted in C: fewer brackets than levels, or fewer commas than items, cannot break a
    # limit, so most bodies skip the walk.
    if text.count(",") >= MAX_ARRAY or text.count("[") + text.count("{") > MAX_DEPTH:
        _check_shape(value)
    fast_form = not _reader.fractions and text.isascii() and "\\u" not in text
    if not suspect:
        return value, fast_form
    errors: list[FieldError] = []
    normalised = _walk(value, "", errors)
    if errors:
        raise InvalidInput("The JSON holds values the contract refuses.", errors)
    return normalised, fast_form


def _too_deep(path: str) -> InvalidInput:
    return InvalidInput(
        f"The JSON nests deeper than {MAX_DEPTH} levels (the limit).",
        [FieldError(path, f"nested deeper than {MAX_DEPTH} levels")],
        limit={"max_depth": MAX_DEPTH},
    )


def _check_shape(value: Any) -> None:
    """Refuse a value nested deeper than MAX_DEPTH or with an array over MAX_ARRAY items.
    The first pass keeps no paths (a batch of 1,000 events is checked in about 2 ms); only
    a refused value is walked again to say where."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH or (isinstance(node, list) and len(node) > MAX_ARRAY):
            _refuse_shape(value, 1, "")
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def _refuse_shape(node: Any, depth: int, path: str) -> None:
    if depth > MAX_DEPTH:
        raise _too_deep(path)
    if isinstance(node, list) and len(node) > MAX_ARRAY:
        raise InvalidInput(
            f"An array holds {len(node):,} items; at most {MAX_ARRAY:,} (the limit).",
            [FieldError(path, f"more than {MAX_ARRAY:,} items")],
            limit={"max_array_items": MAX_ARRAY},
        )
    pairs = node.items() if isinstance(node, dict) else enumerate(node)
    for key, child in pairs:
        if isinstance(child, dict | list):
            _refuse_shape(child, depth + 1, f"{path}/{pointer_token(key)}")


def _walk(value: Any, path: str, errors: list[FieldError]) -> Any:
    """Check every value and return it with integral floats made integers.

    JCS writes the float 5.0 as `5`; storing it as the integer 5 makes what we
    serve, what we hash and what an auditor recomputes agree byte for byte.
    """
    if isinstance(value, dict):
        if isinstance(value, _DuplicateKeyObject):
            errors.append(
                FieldError(
                    path + "/" + pointer_token(value.duplicate_key),
                    f"the key {value.duplicate_key!r} appears more than once",
                )
            )
            return value
        out: dict[str, Any] = {}
        for key, item in value.items():
            child = path + "/" + pointer_token(key)
            if _FORBIDDEN_CHARS.search(key):
                errors.append(FieldError(child, "keys may not hold U+0000 or lone surrogates"))
            out[key] = _walk(item, child, errors)
        return out
    if isinstance(value, list):
        return [_walk(item, f"{path}/{i}", errors) for i, item in enumerate(value)]
    if isinstance(value, str):
        if _FORBIDDEN_CHARS.search(value):
            errors.append(FieldError(path, "strings may not hold U+0000 or lone surrogates"))
        return value
    if value is None:
        errors.append(FieldError(path, "null is not accepted: omit an optional key instead"))
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            errors.append(FieldError(path, "integers must lie within ±(2^53 − 1)"))
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            errors.append(FieldError(path, "numbers must be finite"))
            return value
        if abs(value) > MAX_SAFE_INTEGER:
            # Every double this large is an integer, and JCS cannot carry it exactly.
            errors.append(FieldError(path, "numbers must lie within ±(2^53 − 1)"))
            return value
        if value.is_integer():
            return int(value)
        return value
    raise TypeError(f"unexpected JSON value {value!r}")  # pragma: no cover
