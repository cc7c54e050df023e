"""The refusals' own shape (events/errors.py): what the problem+json answers are built from."""

from __future__ import annotations

from events.errors import Conflict, FieldError, InvalidInput


def test_a_field_error_moved_under_a_prefix_keeps_its_message_and_location() -> None:
    error = FieldError("/area", "this key is required", "query")
    assert error.prefixed("/events/3") == FieldError("/events/3/area", "this key is required", "query")


def test_a_refusal_reads_as_its_detail_and_claims_no_id_unless_told() -> None:
    # str() is what a log line shows; an id-less refusal is answered as itself by the store
    refusal = InvalidInput("The event has no type.")
    assert str(refusal) == "The event has no type." and refusal.claimed_id is None
    conflict = Conflict("taken", existing_position=3)
    assert (str(conflict), conflict.extra) == ("taken", {"existing_position": 3})
