"""RFC 8785 (JCS) canonical JSON, fast where it is provably the same.

Client-supplied values (source, data) go through the maintained `rfc8785`
package. The stored event's own keys are ASCII and its server-made values are
strings, integers and null, whose JCS form we write directly; a property test
proves the result byte-equal to the package on whole events.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

import rfc8785

_MAX_SAFE_INTEGER = 2**53 - 1
# Built once: `json.dumps` with options builds an encoder on every call.
_SORTED_COMPACT = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical(value: Any, *, fast_form_known: bool = False) -> str:
    """The JCS text of any JSON value: the fast form where it is the same, else the package.

    `fast_form_known`: the caller has already established what `_fast_form_is_jcs` checks
    (as `loads_noting_form` does while parsing), so the walk is skipped.
    """
    if fast_form_known or _fast_form_is_jcs(value):
        return _SORTED_COMPACT.encode(value)
    return rfc8785.dumps(value).decode("utf-8")


def _fast_form_is_jcs(value: Any) -> bool:
    """`json.dumps` with sorted keys is JCS for values without floats whose keys are all ASCII.

    Floats are where the two differ (JCS writes 5.0 as `5` and 1e21 as `1e+21`), and JCS sorts
    keys by UTF-16 code units, which only for ASCII is Python's order. Strings escape alike
    (proven in tests/unit/test_canonical.py); integers must be within the safe range, which
    input validation guarantees and the package would refuse anyway.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if not (isinstance(key, str) and key.isascii()):
                    return False
                stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, float) or (type(item) is int and abs(item) > _MAX_SAFE_INTEGER):
            return False
    return True


class _FormReader(threading.local):
    """A JSON decoder whose hooks note what keeps `json.dumps` from being JCS. One per
    thread, built once: building a decoder costs about as much as a small parse."""

    fast: bool  # set by each read, cleared by the hooks

    def __init__(self) -> None:
        self.decoder = json.JSONDecoder(
            parse_float=self._not_fast, parse_int=self._int, parse_constant=self._not_fast
        )

    def _not_fast(self, literal: str) -> float:
        self.fast = False
        return float(literal)

    def _int(self, literal: str) -> int:
        number = int(literal)
        if len(literal) > 15 and abs(number) > _MAX_SAFE_INTEGER:
            self.fast = False
        return number

    def read(self, text: str) -> tuple[Any, bool]:
        self.fast = True
        value = self.decoder.decode(text)
        # ASCII text can still spell non-ASCII keys with \u escapes, and a pair of them
        # above U+FFFF is where code-point and UTF-16 order part: any escape takes the walk.
        return value, self.fast and text.isascii() and "\\u" not in text


_reader = _FormReader()


def loads_noting_form(text: str) -> tuple[Any, bool]:
    """Parse JSON text, and say whether `json.dumps` of the value is known to be its JCS.

    The parser's hooks see every float and integer as it goes, so this costs a fraction of
    walking the value afterwards; keys are known ASCII when the whole text is ASCII and
    holds no `\\u` escape (a cheap, sufficient test: any other text just takes the walk).
    NaN and Infinity, which are not JSON, leave the value to the package, which refuses them.
    """
    return _reader.read(text)


def canonical_scalar(value: str | int | None) -> str:
    """JCS of a string, an integer or null.

    For strings without lone surrogates (which input validation refuses),
    `json.dumps(ensure_ascii=False)` escapes exactly what JCS escapes: the
    quote, the backslash and control characters, the latter as \\b \\t \\n \\f
    \\r or \\u00xx in lowercase hex.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'  # nothing to escape: most ids, types, instants and subjects
    return json.dumps(value, ensure_ascii=False)


def canonical_object(members: Mapping[str, str]) -> str:
    """A JSON object from ASCII keys and already canonical member values.

    JCS sorts keys by UTF-16 code units; for ASCII keys that is plain sorting.
    """
    return "{" + ",".join(f'"{key}":{members[key]}' for key in sorted(members)) + "}"
