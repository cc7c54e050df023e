"""RFC 8785 (JCS) canonical JSON, fast where it is provably the same.

Client-supplied values (source, data) go through the maintained `rfc8785`
package. The stored event's own keys are ASCII and its server-made values are
strings, integers and null, whose JCS form we write directly; a property test
proves the result byte-equal to the package on whole events.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import rfc8785

_MAX_SAFE_INTEGER = 2**53 - 1


def canonical(value: Any) -> str:
    """The JCS text of any JSON value: the fast form where it is the same, else the package."""
    if _fast_form_is_jcs(value):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
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
    return json.dumps(value, ensure_ascii=False)


def canonical_object(members: Mapping[str, str]) -> str:
    """A JSON object from ASCII keys and already canonical member values.

    JCS sorts keys by UTF-16 code units; for ASCII keys that is plain sorting.
    """
    return "{" + ",".join(f'"{key}":{members[key]}' for key in sorted(members)) + "}"
