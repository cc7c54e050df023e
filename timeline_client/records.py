"""A state answer as flat records: one per item, with where it stands.

A record is the item as the server shows it (docs/api.md §7), plus `part`, `list` (the
state list: `claims`, `offers`, `meetings`...), and for territory `area`,
`area_status`, `area_within`, for talks `track`, `track_status`. Item keys never use
these names, so nothing is overwritten.
"""

from __future__ import annotations

from typing import Any

PARTS = ("territory", "talks", "diplomacy")
SCOPES = {"territory": ("areas", "area"), "talks": ("tracks", "track")}


class StateRecords(list[dict[str, Any]]):
    """The records of one state answer, and the cut it was answered at: ask again with this
    `known_at` (and `as_of`) for the same answer."""

    def __init__(self, records: list[dict[str, Any]], answer: dict[str, Any]) -> None:
        super().__init__(records)
        self.as_of: str = answer["as_of"]
        self.known_at: str = answer["known_at"]
        self.position: int = answer["position"]
        self.answer = answer


def part_records(part: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The records of one part, `body` being the part as `/state/{part}` answers it (or as
    `/state` nests it)."""
    records: list[dict[str, Any]] = []
    if part == "diplomacy":
        for list_name in sorted(k for k, v in body.items() if isinstance(v, list)):
            records += [{"part": part, "list": list_name, **item} for item in body[list_name]]
        return records
    group, label = SCOPES[part]
    for name, entry in body[group].items():
        scope = {"part": part, label: name}
        scope.update({f"{label}_{k}": v for k, v in entry.items() if not isinstance(v, list | dict)})
        for list_name in sorted(k for k, v in entry.items() if isinstance(v, list)):
            records += [{**scope, "list": list_name, **item} for item in entry[list_name]]
    return records


def state_records(part: str | None, answer: dict[str, Any]) -> StateRecords:
    if part is not None:
        return StateRecords(part_records(part, answer), answer)
    records: list[dict[str, Any]] = []
    for name in PARTS:
        records += part_records(name, answer[name])
    return StateRecords(records, answer)


def frame(records: StateRecords) -> Any:
    """A pandas DataFrame of the records, with the cut in `DataFrame.attrs`."""
    try:
        import pandas
    except ImportError as exc:
        raise ImportError(
            "Client.state_frame needs pandas, which is optional: `pip install pandas` "
            "(Client.state gives the same records as a list of dicts)"
        ) from exc
    table = pandas.DataFrame.from_records(list(records))
    table.attrs.update(as_of=records.as_of, known_at=records.known_at, position=records.position)
    return table
