"""An in-memory log for "given these events, then this state" tests of the reducers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from events.instants import format_instant, parse_occurred_at, parse_query_instant
from projections.facts import Fact
from projections.state import render_state, world_at

RECORDING_STARTS = datetime(2026, 1, 1, tzinfo=UTC)


class Log:
    def __init__(self) -> None:
        self.facts: list[Fact] = []

    def add(
        self,
        type_name: str,
        subject: str,
        occurred_at: str = "2025-04-26",
        supersedes: str | None = None,
        **data: Any,
    ) -> Fact:
        period = parse_occurred_at(occurred_at)
        position = len(self.facts) + 1
        fact = Fact(
            id=str(uuid.uuid4()),
            type=type_name,
            subject=subject,
            position=position,
            recorded_at=format_instant(RECORDING_STARTS + timedelta(seconds=position)),
            occurred_from=period.occurred_from,
            occurred_until=period.occurred_until,
            data=data,
            supersedes=supersedes,
        )
        self.facts.append(fact)
        return fact

    # Shorthands for the catalog's types, with the subject derived as the store would.
    def claim(
        self,
        area: str,
        claimant: str,
        controller: str | None = None,
        extent: str = "full",
        occurred_at: str = "2025-04-26",
        supersedes: str | None = None,
        **extra: Any,
    ) -> Fact:
        return self.add(
            "territory.control_claimed",
            area,
            occurred_at,
            supersedes,
            area=area,
            claimant=claimant,
            controller=controller or claimant,
            extent=extent,
            **extra,
        )

    def denial(self, area: str, claimant: str, occurred_at: str = "2025-04-26") -> Fact:
        return self.add("territory.claim_denied", area, occurred_at, area=area, claimant=claimant)

    def assessment(
        self,
        area: str,
        assessor: str,
        controller: str,
        extent: str = "partial",
        occurred_at: str = "2025-04-26",
    ) -> Fact:
        return self.add(
            "territory.assessed",
            area,
            occurred_at,
            area=area,
            assessor=assessor,
            controller=controller,
            extent=extent,
        )

    def forces(
        self, area: str, force: str, claimant: str, status: str, occurred_at: str = "2025-04-26"
    ) -> Fact:
        return self.add(
            "forces.involvement_reported",
            area,
            occurred_at,
            area=area,
            force=force,
            supporting="ru",
            claimant=claimant,
            status=status,
        )

    def clash(
        self,
        area: str,
        parties: list[str],
        claimant: str = "acled",
        occurred_at: str = "2025-04-26",
        supersedes: str | None = None,
        **extra: Any,
    ) -> Fact:
        return self.add(
            "forces.clash_reported",
            area,
            occurred_at,
            supersedes,
            area=area,
            parties=parties,
            claimant=claimant,
            **extra,
        )

    def offer(
        self,
        party: str,
        counterparty: str,
        occurred_at: str = "2025-04-26",
        preconditions: list[str] | None = None,
    ) -> Fact:
        track = "-".join(sorted([party, counterparty]))
        return self.add(
            "talks.offer_made",
            track,
            occurred_at,
            party=party,
            counterparty=counterparty,
            preconditions=preconditions or [],
        )

    def rejection(self, offer: Fact, party: str, occurred_at: str = "2025-04-26") -> Fact:
        return self.add(
            "talks.offer_rejected", offer.subject, occurred_at, party=party, offer_event_id=offer.id
        )

    def retraction(self, target: Fact, occurred_at: str = "2025-04-26") -> Fact:
        return self.add(
            "event.retracted", target.subject, occurred_at, target_event_id=target.id, reason="false"
        )

    def state(self, as_of: str, known_at: Fact | None = None) -> dict[str, Any]:
        """The state as of a date or instant, as known when `known_at` was recorded (default: all)."""
        cut = known_at.position if known_at else len(self.facts)
        instant = format_instant(parse_query_instant(as_of))
        return render_state(world_at(self.facts[:cut], instant), instant)

    def area(self, area: str, as_of: str = "2025-12-31", known_at: Fact | None = None) -> Any:
        return self.state(as_of, known_at)["territory"]["areas"].get(area)

    def track(self, track: str, as_of: str = "2025-12-31", known_at: Fact | None = None) -> Any:
        return self.state(as_of, known_at)["talks"]["tracks"].get(track)


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["event_id"] for item in items]
