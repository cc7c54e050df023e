"""From a client's JSON object to a validated draft: everything checkable without the log.

This runs before the append lock is taken, so that the work done while
holding it stays small (docs/architecture.md, "One append").
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError

from events.canonical import canonical
from events.envelope import Unsealed, unsealed_of
from events.errors import FieldError, InvalidInput
from events.instants import BadInstant, Period, parse_occurred_at
from events.jsonio import pointer_token
from events.types import KNOWN_TYPES, REFERENCE_KEYS, RETRACTED, SCHEMA_VERSION, SUBMISSION

MAX_SUBJECT_LENGTH = 200
T = TypeVar("T")


@dataclass(frozen=True)
class Reference:
    """A data key that names an earlier event, and the type that event must have."""

    key: str
    event_id: str
    required_type: str | None


@dataclass(frozen=True)
class Draft:
    """A submitted event that passed every check that needs no stored event."""

    id: str
    id_given: bool
    type: str
    subject: str | None  # None until the referenced event is known (retractions, rejections)
    subject_given: str | None
    occurred_at: str
    period: Period
    reported_at: str | None
    source: dict[str, Any]
    data: dict[str, Any]
    source_jcs: str
    data_jcs: str
    supersedes: str | None
    expected_version: int | None
    reference: Reference | None
    unsealed: Unsealed

    def __reduce__(self) -> tuple[Any, ...]:
        # Sent between processes (an import validates ahead in a worker), a draft travels
        # as plain values: source and data as their JCS text, which json.loads reads back
        # in microseconds. Unpickling the objects cost 28 us an event, as much as
        # validating it, and would have eaten what the worker saves.
        state = dict(self.__dict__)
        state["source"] = state["data"] = None
        state["period"] = dict(self.period.__dict__)
        state["unsealed"] = dict(self.unsealed.__dict__)
        state["reference"] = None if self.reference is None else dict(self.reference.__dict__)
        return (_draft_from_state, (state,))


def _draft_from_state(state: dict[str, Any]) -> Draft:
    """The inverse of `Draft.__reduce__`, without running the dataclasses' __init__ again:
    the values were checked when the draft was made."""
    state["source"] = json.loads(state["source_jcs"])
    state["data"] = json.loads(state["data_jcs"])
    state["period"] = _rebuilt(Period, state["period"])
    state["unsealed"] = _rebuilt(Unsealed, state["unsealed"])
    if state["reference"] is not None:
        state["reference"] = _rebuilt(Reference, state["reference"])
    return _rebuilt(Draft, state)


def _rebuilt(cls: type[T], state: dict[str, Any]) -> T:
    made = object.__new__(cls)
    made.__dict__.update(state)
    return made


def track_of(parties: list[str]) -> str:
    """The talks track of some parties: distinct, sorted, joined by '-'."""
    return "-".join(sorted(set(parties)))


def derive_subject(type_name: str, data: dict[str, Any]) -> str | None:
    """The subject of an event, when its own data decides it (docs/api.md §3)."""
    if type_name.startswith(("territory.", "forces.")):
        return str(data["area"])
    if type_name in ("talks.offer_made", "talks.position_stated"):
        return track_of([data["party"], data["counterparty"]])
    if type_name in ("talks.proposal_made", "talks.ceasefire_declared", "talks.round_held"):
        return track_of(list(data["parties"]))
    if type_name.startswith("diplomacy."):
        return "diplomacy"
    return None  # decided by the referenced event


def _pydantic_errors(exc: ValidationError, type_name: str) -> list[FieldError]:
    errors = []
    for error in exc.errors():
        loc = list(error["loc"])
        if loc and loc[0] == type_name:  # the discriminated union's tag
            loc = loc[1:]
        if loc and loc[-1] == "[key]":  # pydantic's mark of a bad key: the pointer names its member
            loc = loc[:-1]
        path = "".join("/" + pointer_token(part) for part in loc)
        message = error["msg"]
        if error["type"] == "missing":
            message = "this key is required"
        elif error["type"] == "extra_forbidden":
            message = "this key is not part of the schema"
        errors.append(FieldError(path, message))
    return errors


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")


def _lower_uuid(value: str) -> str:
    if _CANONICAL_UUID.match(value):  # already in the form uuid.UUID would give
        return value
    return str(uuid.UUID(value))


def draft_from_json(obj: Any, *, fast_form_known: bool = False) -> Draft:
    """Validate one submitted envelope, or raise InvalidInput listing every problem.

    `fast_form_known`: the JSON parser found `json.dumps` of the envelope's values to be
    their JCS (`events.jsonio.parse_json_noting_form`), so canonicalising needs no walk.
    """
    if not isinstance(obj, dict):
        raise InvalidInput("An event must be a JSON object.", [FieldError("", "expected an object")])
    type_name = obj.get("type")
    if type_name is None:
        raise InvalidInput("The event has no type.", [FieldError("/type", "this key is required")])
    if type_name not in KNOWN_TYPES:
        raise InvalidInput(
            f"Unknown event type {type_name!r}.",
            [FieldError("/type", "not a type of the catalog; see known_types")],
            known_types=KNOWN_TYPES,
        )
    try:
        submission = SUBMISSION.validate_python(obj)
    except ValidationError as exc:
        raise InvalidInput(
            f"The {type_name} event does not match its schema.", _pydantic_errors(exc, type_name)
        ) from None

    errors: list[FieldError] = []
    try:
        period = parse_occurred_at(submission.occurred_at)
    except BadInstant as exc:
        errors.append(FieldError("/occurred_at", f"expected YYYY, YYYY-MM, YYYY-MM-DD or a date-time: {exc}"))

    data = dict(obj["data"])
    reference = None
    if type_name in REFERENCE_KEYS:
        key, required_type = REFERENCE_KEYS[type_name]
        if key in data:
            data[key] = _lower_uuid(data[key])
            reference = Reference(key, data[key], required_type)
    supersedes = _lower_uuid(submission.supersedes) if submission.supersedes else None
    if supersedes is not None and type_name == RETRACTED:
        errors.append(FieldError("/supersedes", "a retraction cannot supersede; retract instead"))

    subject = derive_subject(type_name, data)
    if subject is not None and len(subject) > MAX_SUBJECT_LENGTH:
        errors.append(FieldError("/data", f"the derived subject is over {MAX_SUBJECT_LENGTH} characters"))
    if submission.subject is not None and subject is not None and submission.subject != subject:
        errors.append(FieldError("/subject", f"the subject of this event is {subject!r}"))
    if errors:
        raise InvalidInput(f"The {type_name} event is not valid.", errors)

    event_id = _lower_uuid(submission.id) if submission.id else str(uuid.uuid4())
    source_jcs = canonical(obj["source"], fast_form_known=fast_form_known)
    data_jcs = canonical(data, fast_form_known=fast_form_known)
    return Draft(
        id=event_id,
        id_given=submission.id is not None,
        type=type_name,
        subject=subject,
        subject_given=submission.subject,
        occurred_at=submission.occurred_at,
        period=period,
        reported_at=submission.reported_at,
        source=obj["source"],
        data=data,
        source_jcs=source_jcs,
        data_jcs=data_jcs,
        supersedes=supersedes,
        expected_version=submission.expected_version,
        reference=reference,
        unsealed=unsealed_of(
            id=event_id,
            type=type_name,
            occurred_at=submission.occurred_at,
            occurred_precision=period.precision,
            occurred_from=period.occurred_from,
            occurred_until=period.occurred_until,
            reported_at=submission.reported_at,
            source_jcs=source_jcs,
            data_jcs=data_jcs,
            supersedes=supersedes,
            schema_version=SCHEMA_VERSION,
        ),
    )


def draft_or_refusal(obj: Any, *, fast_form_known: bool = False) -> Draft | InvalidInput:
    """The draft, or the refusal carrying the id the event claimed (for idempotency)."""
    try:
        return draft_from_json(obj, fast_form_known=fast_form_known)
    except InvalidInput as exc:
        if isinstance(obj, dict) and isinstance(obj.get("id"), str):
            with contextlib.suppress(ValueError):
                exc.claimed_id = _lower_uuid(obj["id"])
        return exc


def drafts_from_batch(
    items: Any, path: str = "/events", *, fast_form_known: bool = False
) -> list[Draft | InvalidInput]:
    """Validate each event of a batch; a refusal stays in its place so that order decides."""
    if not isinstance(items, list):
        raise InvalidInput("`events` must be a list.", [FieldError(path, "expected a list")])
    results: list[Draft | InvalidInput] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        prefix = f"{path}/{index}"
        draft = draft_or_refusal(item, fast_form_known=fast_form_known)
        if isinstance(draft, InvalidInput):
            results.append(_located(draft, index, prefix))
            continue
        if draft.id_given and draft.id in seen:
            results.append(
                _located(
                    InvalidInput(
                        "The same id appears twice in the batch.",
                        [FieldError("/id", "this id appears earlier in the batch")],
                    ),
                    index,
                    prefix,
                )
            )
            continue
        seen.add(draft.id)
        results.append(draft)
    return results


def _located(exc: InvalidInput, index: int, prefix: str) -> InvalidInput:
    located = exc.at_index(index, prefix)
    assert isinstance(located, InvalidInput)
    return located
