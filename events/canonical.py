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


def canonical(value: Any) -> str:
    """The JCS text of any JSON value."""
    return rfc8785.dumps(value).decode("utf-8")


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
