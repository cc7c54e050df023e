"""Instants and reported periods: the formats the contract fixes.

Every instant the service writes is `YYYY-MM-DDTHH:MM:SS.ffffffZ`, so that
instants compare correctly as strings on every backend.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache

# [0-9], not \d (which matches other scripts' digits), and \Z, not $ (which allows a final newline).
DATE_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,6}))?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})\Z"
)
_YEAR = re.compile(r"[0-9]{4}\Z")
_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}\Z")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
ONE_MICROSECOND = timedelta(microseconds=1)


class BadInstant(ValueError):
    """A string that is not an instant of the accepted forms."""


def format_instant(moment: datetime) -> str:
    """The one form of every instant the service writes."""
    # strftime does not pad years below 1000 on every platform.
    m = moment.astimezone(UTC)
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T"
        f"{m.hour:02d}:{m.minute:02d}:{m.second:02d}.{m.microsecond:06d}Z"
    )


def parse_instant(text: str) -> datetime:
    """An instant written in the service's own form (trusted input)."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def parse_date_time(text: str) -> datetime:
    """An RFC 3339 date-time with an offset, in the contract's strict form."""
    match = DATE_TIME.match(text)
    if not match:
        raise BadInstant("expected a date-time like 2025-04-26T17:30:00Z, with seconds and an offset")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        if offset == "Z":
            tz = UTC
        else:
            sign = 1 if offset[0] == "+" else -1
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            if hours > 23 or minutes > 59:
                raise ValueError("offset out of range")
            tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int((fraction or "0").ljust(6, "0")),
            tzinfo=tz,
        )
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise BadInstant(f"{text!r} is not a valid date-time") from None


def parse_date(text: str) -> date:
    if not _DAY.match(text):
        raise BadInstant("expected a date like 2025-04-26")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadInstant(f"{text!r} is not a valid date") from None


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(frozen=True)
class Period:
    """The window of a reported occurred_at: [start, end), or one instant."""

    precision: str  # year, month, day or instant
    start: datetime
    end: datetime

    occurred_from: str = field(init=False, repr=False, compare=False)
    occurred_until: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Formatted once: read when the draft is made and again under the append lock.
        object.__setattr__(self, "occurred_from", format_instant(self.start))
        object.__setattr__(self, "occurred_until", format_instant(self.end))


# Reports cluster on the same days and instants; a Period is immutable, so one can serve
# every draft that gives the same text (a fifth of validation's time was spent here).
@lru_cache(maxsize=4096)
def parse_occurred_at(text: str) -> Period:
    """`YYYY`, `YYYY-MM`, `YYYY-MM-DD` or a date-time with an offset."""
    try:
        if _YEAR.match(text):
            year = int(text)
            return Period("year", _midnight(date(year, 1, 1)), _midnight(date(year + 1, 1, 1)))
        if _MONTH.match(text):
            year, month = int(text[:4]), int(text[5:7])
            start = date(year, month, 1)
            following = date(year + month // 12, month % 12 + 1, 1)
            return Period("month", _midnight(start), _midnight(following))
        if _DAY.match(text):
            day = date.fromisoformat(text)
            return Period("day", _midnight(day), _midnight(day) + timedelta(days=1))
    except (ValueError, OverflowError):
        raise BadInstant(f"{text!r} is not a valid year, month or date") from None
    moment = parse_date_time(text)
    return Period("instant", moment, moment)


def parse_query_instant(text: str) -> datetime:
    """as_of / known_at: a date-time with an offset, or a date D meaning D 23:59:59.999999Z."""
    if _DAY.match(text):
        # Combined, not D+1 minus a microsecond: D+1 does not exist for 9999-12-31.
        return datetime.combine(parse_date(text), time.max, tzinfo=UTC)
    return parse_date_time(text)


def parse_day_or_date_time(text: str, *, end_of_day: bool) -> datetime:
    """Ceasefire `starts`/`ends`: a date means its start, or for ends its exclusive end."""
    if _DAY.match(text):
        start = _midnight(parse_date(text))
        try:
            return start + timedelta(days=1) if end_of_day else start
        except OverflowError:
            # The end of 9999-12-31 cannot be written as an instant: a refusal, not an error.
            raise BadInstant(f"{text!r} ends after 9999-12-31T23:59:59.999999Z") from None
    return parse_date_time(text)
