"""occurred_at precisions and the as_of / known_at forms (docs/api.md §§2 and 7)."""

from __future__ import annotations

import pytest

from events.instants import BadInstant, format_instant, parse_occurred_at, parse_query_instant


@pytest.mark.parametrize(
    ("text", "precision", "start", "end"),
    [
        ("2024", "year", "2024-01-01T00:00:00.000000Z", "2025-01-01T00:00:00.000000Z"),
        ("2024-08", "month", "2024-08-01T00:00:00.000000Z", "2024-09-01T00:00:00.000000Z"),
        ("2024-12", "month", "2024-12-01T00:00:00.000000Z", "2025-01-01T00:00:00.000000Z"),
        ("2024-02-29", "day", "2024-02-29T00:00:00.000000Z", "2024-03-01T00:00:00.000000Z"),
        (
            "2025-04-26T17:30:00+02:00",
            "instant",
            "2025-04-26T15:30:00.000000Z",
            "2025-04-26T15:30:00.000000Z",
        ),
        ("2025-04-26T17:30:00.25Z", "instant", "2025-04-26T17:30:00.250000Z", "2025-04-26T17:30:00.250000Z"),
        ("0999-01-01", "day", "0999-01-01T00:00:00.000000Z", "0999-01-02T00:00:00.000000Z"),
    ],
)
def test_precision_windows(text: str, precision: str, start: str, end: str) -> None:
    period = parse_occurred_at(text)
    assert (period.precision, period.occurred_from, period.occurred_until) == (precision, start, end)


@pytest.mark.parametrize(
    "text",
    [
        "2024-13",
        "2023-02-29",
        "24",
        "2024-8",
        "2025-04-26T17:30Z",
        "2025-04-26T17:30:00",
        "2025-04-26 17:30:00Z",
        "2025-04-26T17:30:00+0200",
        "2025-04-26T24:00:00Z",
        "2025-04-26T17:30:00+24:00",
        "0001-01-01T00:00:00+01:00",
        "9999",
        "",
    ],
)
def test_refused_occurred_at(text: str) -> None:
    with pytest.raises(BadInstant):
        parse_occurred_at(text)


def test_query_instants() -> None:
    assert format_instant(parse_query_instant("2025-04-26")) == "2025-04-26T23:59:59.999999Z"
    assert format_instant(parse_query_instant("2025-04-26T10:00:00-01:00")) == "2025-04-26T11:00:00.000000Z"
    for text in ["2025", "2025-04", "2025-04-26T10:00:00"]:
        with pytest.raises(BadInstant):
            parse_query_instant(text)
