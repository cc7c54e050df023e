"""Upcasting: what the state rules see of an event stored under an older schema version.

The stored event is never changed (it is served and hashed as stored); an
upcaster maps its `data` to the shape the current rules expect. Version 1
is the only version so far, so the chain is empty.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from events.types import SCHEMA_VERSION

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

# (type, from_version) -> function giving the data of version from_version + 1
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def upcast(type_name: str, schema_version: int, data: dict[str, Any]) -> dict[str, Any]:
    version = schema_version
    while version < SCHEMA_VERSION:
        step = UPCASTERS.get((type_name, version))
        if step is not None:
            data = step(data)
        version += 1
    return data
