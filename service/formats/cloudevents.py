"""CloudEvents 1.0 in its JSON format (docs/api.md §13), as pure functions.

Out: a stored event as one structured-mode CloudEvent, whose `data` is the stored event's
own text byte for byte (so its hash still checks); a page as a JSON batch; a live stream's
`data:` lines re-encoded. In: a batch of CloudEvents whose `data` are envelopes, read back
into the envelopes `POST /events/batch` takes, with every refusal located in the batch.

The extension attributes (lowercase a-z and 0-9 only, as the spec requires of every
attribute name): `recordedtime` (the stored `recorded_at`), `sequence` (the documented
Sequence extension: the position, zero-padded to 19 digits so that string order is log
order, as that extension requires) and `hash` (the stored event's hash).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from events.errors import FieldError, InvalidInput, TimelineError

MEDIA_TYPE = "application/cloudevents+json"
BATCH_MEDIA_TYPE = "application/cloudevents-batch+json"
SPEC_VERSION = "1.0"
DATA_CONTENT_TYPE = "application/json"
# 2**63 - 1, the largest position a BIGINT holds, has 19 digits.
SEQUENCE_DIGITS = 19
# The names of stored ids made from a CloudEvent's (source, id) when its id is not a UUID:
# uuid5(ID_NAMESPACE, source + " " + id). Fixed forever: a re-sent CloudEvent must get the
# same id, so that it is an idempotent retry (docs/api.md §13.4).
# (It is uuid5(NAMESPACE_URL, "urn:timeline:cloudevents").)
ID_NAMESPACE = uuid.UUID("4c5d38c4-927b-5350-ac77-033988b3b6db")

_CONTEXT = frozenset(
    {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema"}
)
_MEMBERS = _CONTEXT | {"data", "data_base64"}
_ATTRIBUTE_NAME = re.compile(r"[a-z0-9]+\Z")
_JSON_MEDIA = re.compile(r"(application|text)/([a-z0-9!#$&^_.+-]+\+)?json\s*(;.*)?\Z", re.IGNORECASE)
_NO_WHITESPACE = re.compile(r"\S+\Z")
_BATCH_PATH = re.compile(r"/events/([0-9]+)(/.*)?\Z")


@dataclass(frozen=True)
class Naming:
    """What the operator calls this log (TIMELINE_CLOUDEVENTS_SOURCE) and the prefix of its
    types (TIMELINE_CLOUDEVENTS_TYPE_PREFIX)."""

    source: str
    type_prefix: str


# -- out ------------------------------------------------------------------------------


def sequence_of(position: int) -> str:
    return f"{position:0{SEQUENCE_DIGITS}d}"


def attributes_of(stored: dict[str, Any], naming: Naming) -> dict[str, str]:
    """The context attributes of a stored event, in the order they are written."""
    return {
        "specversion": SPEC_VERSION,
        "id": stored["id"],
        "source": naming.source,
        "type": naming.type_prefix + stored["type"],
        "subject": stored["subject"],
        "time": stored["occurred_from"],
        "datacontenttype": DATA_CONTENT_TYPE,
        "recordedtime": stored["recorded_at"],
        "sequence": sequence_of(stored["position"]),
        "hash": stored["hash"],
    }


def cloudevent_text(body: str, naming: Naming) -> str:
    """The structured-mode CloudEvent of a stored event, from its stored text, on one line."""
    head = json.dumps(attributes_of(json.loads(body), naming), ensure_ascii=False, separators=(",", ":"))
    return head[:-1] + ',"data":' + body + "}"


def batch_text(bodies: Iterable[str], naming: Naming) -> str:
    """A JSON batch (an array) of the CloudEvents of stored events, in the order given."""
    return "[" + ",".join(cloudevent_text(body, naming) for body in bodies) + "]"


def reencode_sse(chunk: bytes, naming: Naming) -> bytes:
    """SSE messages with each `data:` line (a stored event) made its CloudEvent; `id:`,
    `event:`, `retry:`, comments and checkpoints pass as they are. A stored event is one
    line of JSON (JCS escapes every control character), so lines split at CR LF."""
    if b"data: " not in chunk:
        return chunk
    lines = chunk.split(b"\r\n")
    for index, line in enumerate(lines):
        if line.startswith(b"data: "):
            lines[index] = b"data: " + cloudevent_text(line[6:].decode(), naming).encode()
    return b"\r\n".join(lines)


async def as_cloudevents(messages: AsyncGenerator[bytes, None], naming: Naming) -> AsyncIterator[bytes]:
    """A stream's messages with every event as a CloudEvent. Closing this closes the stream
    it wraps at once, so that its own clean-up (the subscriber count) runs then, not when
    the collector gets to it."""
    try:
        async for chunk in messages:
            yield reencode_sse(chunk, naming)
    finally:
        await messages.aclose()


def prefers_batch(accept: str | None) -> bool:
    """Whether an Accept header asks for a CloudEvents batch: it names the batch type with a
    q above 0, and no higher q for application/json. Wildcards do not compete: an Accept of
    `*/*` alone (or none) keeps the plain JSON answer."""
    if not accept:
        return False
    wanted: float | None = None
    plain = 0.0
    for member in accept.split(","):
        media, *parameters = (part.strip() for part in member.split(";"))
        q = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        media = media.lower()
        if media == BATCH_MEDIA_TYPE:
            wanted = max(wanted or 0.0, q)
        elif media == "application/json":
            plain = max(plain, q)
    return wanted is not None and wanted > 0 and wanted >= plain


def is_batch_media(content_type: str | None) -> bool:
    return content_type is not None and content_type.split(";", 1)[0].strip().lower() == BATCH_MEDIA_TYPE


# -- in -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Incoming:
    """A batch of CloudEvents read: for each, its envelope or its refusal, and which of the
    envelope's keys came from the CloudEvent's own attributes (so that a refusal about one
    of them is reported at the attribute, not in `data`)."""

    items: list[dict[str, Any] | InvalidInput]
    filled: list[frozenset[str]]

    def envelopes(self) -> list[Any]:
        """What `drafts_from_batch` takes: a refused CloudEvent holds its place with an empty
        object, whose own refusal `placed` then replaces."""
        return [{} if isinstance(item, InvalidInput) else item for item in self.items]

    def placed(self, drafts: Sequence[Any]) -> list[Any]:
        return [
            item if isinstance(item, InvalidInput) else draft
            for item, draft in zip(self.items, drafts, strict=True)
        ]

    def relocate(self, exc: TimelineError) -> TimelineError:
        """A refusal located as in `{"events": [...]}` (`/events/3/data/area`), located in the
        array of CloudEvents instead (`/3/data/data/area`; `/3/type` for a filled key)."""
        if not exc.errors or not any(_BATCH_PATH.match(e.path) for e in exc.errors):
            return exc
        moved = type(exc)(exc.detail, [self._moved(e) for e in exc.errors], **exc.extra)
        moved.claimed_id = exc.claimed_id
        return moved

    def _moved(self, error: FieldError) -> FieldError:
        found = _BATCH_PATH.match(error.path)
        if found is None:
            return error
        index, rest = int(found.group(1)), found.group(2) or ""
        key = rest[1:].split("/", 1)[0]
        filled = index < len(self.filled) and key in self.filled[index]
        return FieldError(
            f"/{index}{rest}" if filled else f"/{index}/data{rest}", error.message, error.location
        )


def read_batch(body: Any, naming: Naming, max_batch: int) -> Incoming:
    """A parsed `application/cloudevents-batch+json` body: a JSON array of 1 to `max_batch`
    structured CloudEvents."""
    if not isinstance(body, list) or not 1 <= len(body) <= max_batch:
        raise InvalidInput(
            f"A CloudEvents batch is a JSON array of 1 to {max_batch} CloudEvents.",
            [FieldError("", f"expected an array of 1 to {max_batch} CloudEvents")],
        )
    items: list[dict[str, Any] | InvalidInput] = []
    filled: list[frozenset[str]] = []
    for index, element in enumerate(body):
        try:
            envelope, keys = envelope_of(element, naming)
        except InvalidInput as exc:
            located = exc.at_index(index, f"/{index}")
            assert isinstance(located, InvalidInput)
            items.append(located)
            filled.append(frozenset())
        else:
            items.append(envelope)
            filled.append(keys)
    return Incoming(items, filled)


class _Errors(list[FieldError]):
    """The problems of one CloudEvent, all reported in one answer."""

    def add(self, path: str, message: str) -> None:
        self.append(FieldError(path, message))


def _uuid(value: Any) -> uuid.UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _check_context(event: dict[str, Any], errors: _Errors) -> None:
    if event.get("specversion") != SPEC_VERSION:
        errors.add("/specversion", f'expected "{SPEC_VERSION}"')
    for name in ("id", "source", "type"):
        if name not in event:
            errors.add(f"/{name}", "this attribute is required")
        elif not isinstance(event[name], str) or not event[name]:
            errors.add(f"/{name}", "expected a non-empty string")
    if isinstance(event.get("source"), str) and event["source"] and not _NO_WHITESPACE.match(event["source"]):
        errors.add("/source", "expected a URI-reference (no white space)")
    for name in ("subject", "time", "dataschema"):
        if name in event and (not isinstance(event[name], str) or not event[name]):
            errors.add(f"/{name}", "expected a non-empty string")
    kind = event.get("datacontenttype")
    if kind is not None and (not isinstance(kind, str) or not _JSON_MEDIA.match(kind)):
        errors.add("/datacontenttype", "the data must be JSON (application/json): the event's envelope")
    for name in event:
        if name not in _MEMBERS and not _ATTRIBUTE_NAME.match(name):
            errors.add(f"/{name}", "not a CloudEvents attribute name (lowercase a-z and 0-9 only)")
    if "data_base64" in event:
        errors.add("/data_base64", "the data must be the event's envelope as JSON, not base64")
    elif not isinstance(event.get("data"), dict):
        errors.add("/data", "expected the event's envelope, an object")


def envelope_of(event: Any, naming: Naming) -> tuple[dict[str, Any], frozenset[str]]:
    """The envelope a CloudEvent carries, and the keys it took from the CloudEvent.

    `data` is the envelope, as `POST /events/batch` takes it. The CloudEvent's `type`,
    `subject` and `id` fill the envelope's when it has none, and must agree with them when
    it has: `type` with or without the prefix; `id` when the CloudEvent's is a UUID. An
    `id` that is not a UUID becomes uuid5(ID_NAMESPACE, source + " " + id): CloudEvents
    with the same source and id are the same event, so a re-sent one is an idempotent
    retry. `time` and extension attributes are not stored: `occurred_at` says when.
    """
    if not isinstance(event, dict):
        raise InvalidInput("A CloudEvent is a JSON object.", [FieldError("", "expected a CloudEvent object")])
    errors = _Errors()
    _check_context(event, errors)
    if errors:
        raise InvalidInput("The CloudEvent is not valid.", list(errors))

    envelope = dict(event["data"])
    filled: set[str] = set()
    prefix, ce_type = naming.type_prefix, event["type"]
    if "type" not in envelope:
        envelope["type"] = ce_type[len(prefix) :] if prefix and ce_type.startswith(prefix) else ce_type
        filled.add("type")
    elif isinstance(envelope["type"], str) and ce_type not in (envelope["type"], prefix + envelope["type"]):
        errors.add(
            "/type", f"the data's type is {envelope['type']!r}: expected {prefix + envelope['type']!r}"
        )

    if "subject" in event:
        if "subject" not in envelope:
            envelope["subject"] = event["subject"]
            filled.add("subject")
        elif envelope["subject"] != event["subject"]:
            errors.add("/subject", f"the data's subject is {envelope['subject']!r}")

    ce_id = _uuid(event["id"])
    if "id" not in envelope:
        name = f"{event['source']} {event['id']}"
        envelope["id"] = str(ce_id if ce_id is not None else uuid.uuid5(ID_NAMESPACE, name))
        filled.add("id")
    else:
        given = _uuid(envelope["id"])
        if ce_id is not None and given is not None and ce_id != given:
            errors.add("/id", f"the data's id is {given}: a CloudEvent id that is a UUID must be the same")
    if errors:
        raise InvalidInput("The CloudEvent contradicts its data.", list(errors))
    return envelope, frozenset(filled)
