"""docs/api.md §§5 and 7, one test per rule: given these events, then this state."""

from __future__ import annotations

from tests.unit.state_log import Log, ids

AREA = "ru-kursk-oblast"

# -- section 5: corrections ------------------------------------------------------


def test_a_retracted_event_does_not_count() -> None:
    log = Log()
    claim = log.claim(AREA, "ru")
    log.retraction(claim)
    assert log.area(AREA) is None


def test_retracting_a_retraction_restores_its_target() -> None:
    log = Log()
    claim = log.claim(AREA, "ru")
    first = log.retraction(claim)
    log.retraction(first)
    assert ids(log.area(AREA)["claims"]) == [claim.id]


def test_only_the_end_of_a_supersede_chain_is_in_effect() -> None:
    log = Log()
    a = log.claim(AREA, "ru", extent="full")
    b = log.claim(AREA, "ru", extent="partial", supersedes=a.id)
    c = log.claim(AREA, "ru", controller="ua", supersedes=b.id)
    assert ids(log.area(AREA)["claims"]) == [c.id]


def test_retracting_the_last_corrector_brings_back_the_one_before_not_the_first() -> None:
    log = Log()
    a = log.claim(AREA, "ru", extent="full")
    b = log.claim(AREA, "ru", extent="partial", supersedes=a.id)
    c = log.claim(AREA, "ru", controller="ua", supersedes=b.id)
    log.retraction(c)
    assert ids(log.area(AREA)["claims"]) == [b.id]


def test_corrections_act_on_system_time_only() -> None:
    log = Log()
    a = log.claim(AREA, "ru", occurred_at="2025-04-01")
    b = log.claim(AREA, "ru", extent="partial", occurred_at="2025-05-01", supersedes=a.id)
    # Before b occurred, a is still replaced: the correction's own occurred_at plays no part.
    assert log.area(AREA, as_of="2025-04-15") is None
    assert ids(log.area(AREA, as_of="2025-05-01")["claims"]) == [b.id]
    # A retraction dated long before its target still removes it.
    c = log.claim(AREA, "ua", occurred_at="2025-06-01")
    log.retraction(c, occurred_at="2020")
    assert ids(log.area(AREA, as_of="2025-06-30")["claims"]) == [b.id]


def test_an_earlier_known_at_sees_what_was_in_effect_then() -> None:
    log = Log()
    a = log.claim(AREA, "ru")
    seen = log.denial(AREA, "ua")
    log.retraction(a)
    assert ids(log.area(AREA, known_at=seen)["claims"]) == [a.id]
    assert log.area(AREA)["claims"] == []


def test_a_superseding_event_may_move_the_subject() -> None:
    log = Log()
    wrong = log.claim("ru-belgorod-oblast", "ru")
    log.claim(AREA, "ru", supersedes=wrong.id)
    state = log.state("2025-12-31")["territory"]["areas"]
    assert list(state) == [AREA]


# -- section 6: which events count, and in what order -------------------------------


def test_an_event_counts_once_its_window_has_begun() -> None:
    log = Log()
    log.claim(AREA, "ua", controller="ua", extent="partial", occurred_at="2024-08")
    assert log.area(AREA, as_of="2024-07-31") is None
    assert log.area(AREA, as_of="2024-08-01T00:00:00Z") is not None


def test_tentative_until_the_last_microsecond_of_the_window() -> None:
    log = Log()
    log.claim(AREA, "ua", occurred_at="2024-08")
    assert log.area(AREA, as_of="2024-08-15")["claims"][0]["tentative"] is True
    assert log.area(AREA, as_of="2024-08-31T23:59:59.999998Z")["claims"][0]["tentative"] is True
    # A date means its last microsecond, which is the month's last one too.
    assert log.area(AREA, as_of="2024-08-31")["claims"][0]["tentative"] is False
    assert log.area(AREA, as_of="2024-09-01")["claims"][0]["tentative"] is False


def test_an_instant_is_never_tentative_once_it_counts() -> None:
    log = Log()
    log.claim(AREA, "ru", occurred_at="2025-04-26T10:00:00Z")
    assert log.area(AREA, as_of="2025-04-26T10:00:00Z")["claims"][0]["tentative"] is False


def test_the_later_occurred_from_wins_whatever_the_position() -> None:
    log = Log()
    newer = log.claim(AREA, "ru", extent="full", occurred_at="2025-04-26")
    log.claim(AREA, "ru", extent="partial", occurred_at="2025-03")  # arrives late, occurred earlier
    assert ids(log.area(AREA)["claims"]) == [newer.id]


def test_on_a_tie_the_higher_position_wins() -> None:
    log = Log()
    log.claim(AREA, "ru", extent="full")
    second = log.claim(AREA, "ru", extent="partial")
    assert ids(log.area(AREA)["claims"]) == [second.id]


def test_lists_are_ordered_by_since_then_position() -> None:
    log = Log()
    later = log.claim(AREA, "ru", occurred_at="2025-04-26")
    earlier = log.claim(AREA, "ua", occurred_at="2024-08")
    tied = log.claim(AREA, "by", occurred_at="2025-04-26")
    assert ids(log.area(AREA)["claims"]) == [earlier.id, later.id, tied.id]


# -- territory -------------------------------------------------------------------


def test_one_current_claim_per_claimant() -> None:
    log = Log()
    log.claim(AREA, "ru", occurred_at="2025-01")
    ru = log.claim(AREA, "ru", occurred_at="2025-04-26")
    ua = log.claim(AREA, "ua", occurred_at="2025-02")
    assert ids(log.area(AREA)["claims"]) == [ua.id, ru.id]


def test_a_denial_stands_until_its_party_claims_anew() -> None:
    log = Log()
    log.claim(AREA, "ru")
    denial = log.denial(AREA, "ua", occurred_at="2025-04-27")
    log.claim(AREA, "ua", occurred_at="2025-04-20")  # older than the denial: it still stands
    assert ids(log.area(AREA)["denials"]) == [denial.id]
    log.claim(AREA, "ua", occurred_at="2025-04-28")
    assert log.area(AREA)["denials"] == []
    assert ids(log.area(AREA, as_of="2025-04-27")["denials"]) == [denial.id]


def test_a_claim_by_another_party_does_not_lift_a_denial() -> None:
    log = Log()
    denial = log.denial(AREA, "ua", occurred_at="2025-04-01")
    log.claim(AREA, "ru", occurred_at="2025-04-26")
    assert ids(log.area(AREA)["denials"]) == [denial.id]


def test_the_latest_standing_denial_per_claimant() -> None:
    log = Log()
    log.denial(AREA, "ua", occurred_at="2025-04-01")
    latest = log.denial(AREA, "ua", occurred_at="2025-04-26")
    assert ids(log.area(AREA)["denials"]) == [latest.id]


def test_one_current_assessment_per_assessor() -> None:
    log = Log()
    log.assessment(AREA, "isw", "ua", occurred_at="2025-03")
    latest = log.assessment(AREA, "isw", "ru", occurred_at="2025-04")
    other = log.assessment(AREA, "criticalthreats", "ua", occurred_at="2025-04-26")
    assert ids(log.area(AREA)["assessments"]) == [latest.id, other.id]


def test_one_forces_item_per_force_and_claimant() -> None:
    log = Log()
    log.forces(AREA, "kp", "ru", "denied", occurred_at="2024-12")
    acknowledged = log.forces(AREA, "kp", "ru", "acknowledged")
    reported = log.forces(AREA, "kp", "kr", "reported", occurred_at="2024")
    area = log.area(AREA)
    assert ids(area["forces"]) == [reported.id, acknowledged.id]
    assert area["forces"][1]["status"] == "acknowledged"


def test_within_comes_from_the_latest_claim_that_sets_it_and_nothing_rolls_up() -> None:
    log = Log()
    gornal = "ru-kursk-oblast-gornal"
    log.claim(gornal, "ru", within="ru-kursk", occurred_at="2025-04-01")
    log.claim(gornal, "ua", within=AREA, occurred_at="2025-04-20")
    log.claim(gornal, "ru", occurred_at="2025-04-26")  # sets no within: the older one stays
    state = log.state("2025-12-31")["territory"]["areas"]
    assert state[gornal]["within"] == AREA
    assert AREA not in state
    assert log.area(gornal, as_of="2025-04-10")["within"] == "ru-kursk"


def test_status_unknown_uncontested_contested() -> None:
    log = Log()
    log.forces(AREA, "kp", "ru", "acknowledged")
    assert log.area(AREA)["status"] == "unknown"
    log.claim(AREA, "ru", controller="ru", extent="full")
    assert log.area(AREA)["status"] == "uncontested"
    log.assessment(AREA, "isw", "ru", extent="full")
    assert log.area(AREA)["status"] == "uncontested"
    log.assessment(AREA, "isw", "ru", extent="partial")
    assert log.area(AREA)["status"] == "contested"


def test_a_standing_denial_makes_an_area_contested() -> None:
    log = Log()
    log.claim(AREA, "ru")
    log.denial(AREA, "ua")
    assert log.area(AREA)["status"] == "contested"


def test_an_area_with_only_a_denial_appears_with_status_unknown() -> None:
    log = Log()
    log.denial(AREA, "ua")
    area = log.area(AREA)
    assert area["status"] == "unknown" and len(area["denials"]) == 1


# -- talks -------------------------------------------------------------------------


def test_the_latest_offer_per_pair_unless_rejected() -> None:
    log = Log()
    log.offer("ru", "ua", occurred_at="2025-03")
    latest = log.offer("ru", "ua", occurred_at="2025-04-26")
    other_way = log.offer("ua", "ru", occurred_at="2025-04-01")
    assert ids(log.track("ru-ua")["offers"]) == [other_way.id, latest.id]
    log.rejection(latest, "ua", occurred_at="2025-04-27")
    assert ids(log.track("ru-ua", as_of="2025-04-26")["offers"]) == [other_way.id, latest.id]
    assert ids(log.track("ru-ua", as_of="2025-04-27")["offers"]) == [other_way.id]


def test_a_track_with_only_a_rejected_offer_does_not_appear() -> None:
    log = Log()
    offer = log.offer("ru", "ua")
    log.rejection(offer, "ua")
    assert log.track("ru-ua") is None


def test_a_retracted_rejection_reopens_the_offer() -> None:
    log = Log()
    offer = log.offer("ru", "ua")
    rejection = log.rejection(offer, "ua")
    log.retraction(rejection)
    assert ids(log.track("ru-ua")["offers"]) == [offer.id]


def test_ceasefires_in_force_at_as_of() -> None:
    log = Log()
    truce = log.add(
        "talks.ceasefire_declared",
        "ru-ua",
        "2025-04-19",
        parties=["ru", "ua"],
        declared_by="ru",
        starts="2025-04-19T15:00:00Z",
        ends="2025-04-20",
    )
    assert log.track("ru-ua", as_of="2025-04-19T14:59:59Z") is None  # declared, not yet started
    assert ids(log.track("ru-ua", as_of="2025-04-19T15:00:00Z")["ceasefires"]) == [truce.id]
    assert log.track("ru-ua", as_of="2025-04-20T23:59:59.999999Z")["status"] == "ceasefire"
    assert log.track("ru-ua", as_of="2025-04-21T00:00:00Z") is None  # a date `ends` is exclusive after D


def test_an_open_ended_ceasefire_stays_in_force() -> None:
    log = Log()
    log.add(
        "talks.ceasefire_declared",
        "ru-ua",
        "2025-05",
        parties=["ru", "ua"],
        declared_by="ua",
        starts="2025-05-08",
    )
    assert log.track("ru-ua", as_of="2030-01-01")["status"] == "ceasefire"


def test_rounds_and_proposals_all_so_far_positions_latest_per_party() -> None:
    log = Log()
    first = log.add("talks.round_held", "ru-ua", "2025-05-16", parties=["ru", "ua"], place="tr-istanbul")
    second = log.add("talks.round_held", "ru-ua", "2025-06-02", parties=["ru", "ua"], place="tr-istanbul")
    proposal = log.add(
        "talks.proposal_made",
        "ru-ua",
        "2025-04-26",
        proposer="us",
        parties=["ru", "ua"],
        terms=["ceasefire first"],
    )
    log.add("talks.position_stated", "ru-ua", "2025-04-01", party="ru", counterparty="ua", position="old")
    ru = log.add(
        "talks.position_stated", "ru-ua", "2025-04-26", party="ru", counterparty="ua", position="new"
    )
    ua = log.add("talks.position_stated", "ru-ua", "2025-04-02", party="ua", counterparty="ru", position="no")
    track = log.track("ru-ua")
    assert ids(track["rounds"]) == [first.id, second.id]
    assert ids(track["proposals"]) == [proposal.id]
    assert ids(track["positions"]) == [ua.id, ru.id]
    assert ids(log.track("ru-ua", as_of="2025-05-31")["rounds"]) == [first.id]


def test_talks_status_precedence() -> None:
    log = Log()
    log.add("talks.position_stated", "ru-ua", party="ru", counterparty="ua", position="p")
    assert log.track("ru-ua")["status"] == "none"
    log.add("talks.proposal_made", "ru-ua", proposer="us", parties=["ru", "ua"], terms=[])
    assert log.track("ru-ua")["status"] == "proposed"
    log.offer("ru", "ua")
    assert log.track("ru-ua")["status"] == "offered"
    log.add("talks.round_held", "ru-ua", parties=["ru", "ua"], place="tr-istanbul")
    assert log.track("ru-ua")["status"] == "talks_held"
    log.add("talks.ceasefire_declared", "ru-ua", parties=["ru", "ua"], declared_by="ru", starts="2025-04-26")
    assert log.track("ru-ua")["status"] == "ceasefire"


# -- diplomacy ---------------------------------------------------------------------


def test_every_meeting_so_far_and_the_latest_statement_per_speaker() -> None:
    log = Log()
    vatican = log.add(
        "diplomacy.meeting_held", "diplomacy", "2025-04-26", participants=["trump", "zelenskyy"], place="va"
    )
    moscow = log.add(
        "diplomacy.meeting_held",
        "diplomacy",
        "2025-04-25",
        participants=["putin", "witkoff"],
        place="ru-moscow",
    )
    log.add("diplomacy.statement_made", "diplomacy", "2025-04-01", speaker="peskov", text="old")
    peskov = log.add("diplomacy.statement_made", "diplomacy", "2025-04-26", speaker="peskov", text="new")
    putin = log.add("diplomacy.statement_made", "diplomacy", "2025-04-10", speaker="putin", text="x")
    diplomacy = log.state("2025-12-31")["diplomacy"]
    assert ids(diplomacy["meetings"]) == [moscow.id, vatican.id]
    assert ids(diplomacy["statements"]) == [putin.id, peskov.id]
    assert ids(log.state("2025-04-25")["diplomacy"]["meetings"]) == [moscow.id]


def test_a_round_shows_its_parties_place_and_what_it_may_add() -> None:
    # Only ids were compared: a round's own fields went unchecked (round_fields_1/_2).
    log = Log()
    full = log.add(
        "talks.round_held",
        "ru-ua",
        "2025-05-16",
        parties=["ru", "ua"],
        place="tr-istanbul",
        mediator="tr",
        outcome="prisoner exchange",
    )
    plain = log.add("talks.round_held", "ru-ua", "2025-06-02", parties=["ru", "ua"], place="tr-istanbul")
    assert log.track("ru-ua")["rounds"] == [
        {
            "parties": ["ru", "ua"],
            "place": "tr-istanbul",
            "mediator": "tr",
            "outcome": "prisoner exchange",
            "since": "2025-05-16T00:00:00.000000Z",
            "tentative": False,
            "event_id": full.id,
        },
        {
            "parties": ["ru", "ua"],
            "place": "tr-istanbul",
            "mediator": None,  # the optional fields are there, as null
            "outcome": None,
            "since": "2025-06-02T00:00:00.000000Z",
            "tentative": False,
            "event_id": plain.id,
        },
    ]


def test_a_ceasefire_shows_what_was_declared_and_a_date_starts_at_its_first_instant() -> None:
    # Only ids and status were compared: the item's own fields went unchecked
    # (ceasefire_fields_*), and no date `starts` was asked about at its first instant.
    log = Log()
    truce = log.add(
        "talks.ceasefire_declared",
        "ru-ua",
        "2025-05",
        parties=["ru", "ua"],
        declared_by="ua",
        starts="2025-05-08",
        ends="2025-05-10",
        scope="energy infrastructure",
    )
    assert log.track("ru-ua", as_of="2025-05-07T23:59:59.999999Z") is None
    assert log.track("ru-ua", as_of="2025-05-08T00:00:00Z")["ceasefires"] == [
        {
            "parties": ["ru", "ua"],
            "declared_by": "ua",
            "starts": "2025-05-08",
            "ends": "2025-05-10",
            "scope": "energy infrastructure",
            "since": "2025-05-01T00:00:00.000000Z",
            "tentative": True,
            "event_id": truce.id,
        }
    ]
    plain = Log()
    plain.add(
        "talks.ceasefire_declared",
        "ru-ua",
        "2025-05-08",
        parties=["ru", "ua"],
        declared_by="ru",
        starts="2025-05-08",
    )
    [item] = plain.track("ru-ua")["ceasefires"]
    assert (item["ends"], item["scope"]) == (None, None)
