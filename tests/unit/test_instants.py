"""occurred_at precisions and the as_of / known_at forms (docs/api.md §§2 and 7)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from events.instants import (
    BadInstant,
    Period,
    format_instant,
    parse_date_time,
    parse_day_or_date_time,
    parse_occurred_at,
    parse_query_instant,
)
from events.types import CeasefireDeclared


@pytest.fixture(autouse=True)
def cold_cache() -> Iterator[None]:
    """Each test parses occurred_at cold: a Period cached by an earlier test, or by the
    process mutmut forks its runs from, would answer without the parsing under test."""
    parse_occurred_at.cache_clear()
    yield
    parse_occurred_at.cache_clear()


@pytest.fixture
def local_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A server whose local zone is UTC+05:30: instants must still be read and written in
    UTC, which a host running in UTC cannot show."""
    monkeypatch.setenv("TZ", "IST-5:30")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


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


def test_cache_is_transparent() -> None:
    cold = parse_occurred_at("2024-08")
    warm = parse_occurred_at("2024-08")
    assert warm == cold
    assert (warm.occurred_from, warm.occurred_until) == (cold.occurred_from, cold.occurred_until)
    for _ in range(2):  # a refusal is not cached as an answer
        with pytest.raises(BadInstant, match="is not a valid year, month or date"):
            parse_occurred_at("2024-13")


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2024-02", "2024-02-01T00:00:00.000000Z", "2024-03-01T00:00:00.000000Z"),
        ("2023-02", "2023-02-01T00:00:00.000000Z", "2023-03-01T00:00:00.000000Z"),
        ("2024-11", "2024-11-01T00:00:00.000000Z", "2024-12-01T00:00:00.000000Z"),
        ("2023-12-31", "2023-12-31T00:00:00.000000Z", "2024-01-01T00:00:00.000000Z"),
        ("0001", "0001-01-01T00:00:00.000000Z", "0002-01-01T00:00:00.000000Z"),
        ("9998", "9998-01-01T00:00:00.000000Z", "9999-01-01T00:00:00.000000Z"),
        ("9999-11", "9999-11-01T00:00:00.000000Z", "9999-12-01T00:00:00.000000Z"),
        ("9999-12-30", "9999-12-30T00:00:00.000000Z", "9999-12-31T00:00:00.000000Z"),
    ],
)
def test_month_day_and_year_edges(text: str, start: str, end: str) -> None:
    period = parse_occurred_at(text)
    assert (period.occurred_from, period.occurred_until) == (start, end)


@pytest.mark.parametrize("text", ["9999-12", "9999-12-31", "0000", "2024-00", "2024-04-31"])
def test_windows_past_the_calendar_are_refused(text: str) -> None:
    with pytest.raises(BadInstant, match=f"^'{text}' is not a valid year, month or date$"):
        parse_occurred_at(text)


def test_period_formats_its_own_window() -> None:
    """A Period built directly (not parsed) still reports its window in the server's form."""
    start = datetime(2025, 4, 26, 12, 0, 0, 5, tzinfo=timezone(timedelta(hours=2)))
    period = Period("day", start, start + timedelta(days=1))
    assert period.occurred_from == "2025-04-26T10:00:00.000005Z"
    assert period.occurred_until == "2025-04-27T10:00:00.000005Z"


@pytest.mark.parametrize(
    ("moment", "written"),
    [
        (datetime(2025, 1, 1, tzinfo=UTC), "2025-01-01T00:00:00.000000Z"),
        (
            datetime(2025, 1, 1, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=2))),
            "2024-12-31T23:02:03.000004Z",
        ),
        (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00.000000Z"),
        (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "9999-12-31T23:59:59.999999Z"),
    ],
)
def test_written_in_utc_whatever_the_local_zone(local_zone: None, moment: datetime, written: str) -> None:
    assert format_instant(moment) == written


def test_read_in_utc_whatever_the_local_zone(local_zone: None) -> None:
    for text in ["2025-04-26T17:30:00Z", "2025-04-26T23:00:00+05:30"]:
        moment = parse_date_time(text)
        assert moment.utcoffset() == timedelta(0)
        assert format_instant(moment) == "2025-04-26T17:30:00.000000Z"
        assert (moment.hour, moment.minute) == (17, 30)
    # A date as as_of is an aware UTC instant, comparable with the others.
    assert parse_query_instant("2025-04-26") == datetime(2025, 4, 26, 23, 59, 59, 999999, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2025-04-26T12:00:00+05:30", "2025-04-26T06:30:00.000000Z"),
        ("2025-04-26T12:00:00-09:45", "2025-04-26T21:45:00.000000Z"),
        ("2025-04-26T12:00:00+23:00", "2025-04-25T13:00:00.000000Z"),
        ("2025-04-26T12:00:00-23:59", "2025-04-27T11:59:00.000000Z"),
        ("2025-04-26T12:00:00.25Z", "2025-04-26T12:00:00.250000Z"),
        ("2025-04-26T12:00:00.5Z", "2025-04-26T12:00:00.500000Z"),
        ("2025-04-26T12:00:00.000001Z", "2025-04-26T12:00:00.000001Z"),
        ("2025-04-26T12:00:00.123456Z", "2025-04-26T12:00:00.123456Z"),
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000000Z"),
        ("9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999999Z"),
    ],
)
def test_offsets_and_fractions(text: str, utc: str) -> None:
    assert format_instant(parse_date_time(text)) == utc
    assert parse_occurred_at(text).occurred_from == utc


@pytest.mark.parametrize(
    "text",
    [
        "2025-04-26T12:00:00+05:60",
        "2025-04-26T12:00:00+24:00",
        "2025-04-26T12:00:00-00:99",
        "2025-02-29T12:00:00Z",
        "2025-04-26T12:60:00Z",
        "9999-12-31T23:59:59-01:00",
    ],
)
def test_invalid_date_times_name_the_text(text: str) -> None:
    with pytest.raises(BadInstant) as refused:
        parse_date_time(text)
    assert str(refused.value) == f"{text!r} is not a valid date-time"


@pytest.mark.parametrize(
    "text", ["2025-04-26t12:00:00z", "2025-04-26T12:00Z", "2025-04-26T12:00:00.1234567Z"]
)
def test_malformed_date_times_show_the_form(text: str) -> None:
    with pytest.raises(BadInstant) as refused:
        parse_date_time(text)
    assert str(refused.value) == "expected a date-time like 2025-04-26T17:30:00Z, with seconds and an offset"


def test_query_instant_extremes_and_refusals() -> None:
    assert format_instant(parse_query_instant("0001-01-01")) == "0001-01-01T23:59:59.999999Z"
    assert format_instant(parse_query_instant("9999-12-31")) == "9999-12-31T23:59:59.999999Z"
    with pytest.raises(BadInstant) as refused:
        parse_query_instant("2025-02-30")
    assert str(refused.value) == "'2025-02-30' is not a valid date"


def test_day_or_date_time_bounds() -> None:
    """Ceasefire starts/ends and window bounds: a date is its start, or for an end the next midnight."""
    start = datetime(2025, 4, 26, tzinfo=UTC)
    assert parse_day_or_date_time("2025-04-26", end_of_day=False) == start
    assert parse_day_or_date_time("2025-04-26", end_of_day=True) == start + timedelta(days=1)
    moment = datetime(2025, 4, 26, 10, tzinfo=UTC)
    for end_of_day in (False, True):
        assert parse_day_or_date_time("2025-04-26T12:00:00+02:00", end_of_day=end_of_day) == moment
    assert parse_day_or_date_time("9999-12-31", end_of_day=False) == datetime(9999, 12, 31, tzinfo=UTC)
    with pytest.raises(BadInstant, match=re.escape("ends after 9999-12-31T23:59:59.999999Z")):
        parse_day_or_date_time("9999-12-31", end_of_day=True)
    with pytest.raises(BadInstant) as refused:
        parse_day_or_date_time("2025-04-31", end_of_day=True)
    assert str(refused.value) == "'2025-04-31' is not a valid date"


def test_ceasefire_ending_on_the_last_day_is_a_refusal() -> None:
    """Its end, 10000-01-01, cannot be written; validation refused with an OverflowError (a 500)."""
    data = {"parties": ["ru", "ua"], "declared_by": "ru", "starts": "2025-01-01", "ends": "9999-12-31"}
    with pytest.raises(ValidationError, match=re.escape("ends after 9999-12-31T23:59:59.999999Z")):
        CeasefireDeclared.model_validate(data)
