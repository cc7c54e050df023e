"""The registry of the state's parts (`projections.parts`) covers the catalog."""

from __future__ import annotations

import typing

from events.types import KNOWN_TYPES, RETRACTED
from projections.parts import BY_NAME, NAMES, PARTS, part_of_type
from projections.sql.reader import KINDS
from service import state_api


def test_every_type_of_the_catalog_feeds_one_part_except_a_retraction() -> None:
    for type_name in KNOWN_TYPES:
        part = part_of_type(type_name)
        if type_name == RETRACTED:
            assert part is None
        else:
            assert part is not None, f"{type_name} feeds no part"
            assert type_name.split(".")[1] in part.kinds, f"{type_name} has no kind of row in {part.name}"
    assert part_of_type("unknown.type") is None


def test_every_kind_of_row_is_a_type_of_the_catalog() -> None:
    # but `within`: a control claim also fills the slot of where the area lies
    # (projections/selection.py)
    for part in PARTS:
        for kind in set(part.kinds) - {"within"}:
            assert any(f"{family}.{kind}" in KNOWN_TYPES for family in part.families), (part.name, kind)


def test_the_parts_are_named_alike_everywhere() -> None:
    assert NAMES == ("territory", "talks", "diplomacy") and list(BY_NAME) == list(NAMES)
    assert set(KINDS) == set(NAMES)
    literal = typing.get_args(typing.get_args(state_api.Part)[0])[0]  # Literal[...] | None
    assert typing.get_args(literal) == NAMES
