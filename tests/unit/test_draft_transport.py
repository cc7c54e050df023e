"""Drafts sent between processes (an import's validating worker) arrive equal."""

from __future__ import annotations

import pickle

from bench.asof_log import LogMaker
from events.drafts import Draft, draft_from_json
from tests.factories import claim, offer, rejection, retraction


def test_drafts_of_every_kind_survive_pickling() -> None:
    maker = LogMaker(3000, seed=4)
    envelopes = [maker.make(i) for i in range(3000)]
    made = offer()
    envelopes += [
        claim(data_extra={"area_km2": 1295.5, "note": 'Курск \u2028 "quoted" \\ 😀'}),
        made,
        rejection(made["id"]),
        retraction(made["id"]),
    ]
    drafts = [draft_from_json(e) for e in envelopes]
    arrived = pickle.loads(pickle.dumps(drafts))
    assert arrived == drafts
    for sent, got in zip(drafts, arrived, strict=True):
        assert isinstance(got, Draft)
        assert (got.period.occurred_from, got.period.occurred_until) == (
            sent.period.occurred_from,
            sent.period.occurred_until,
        )
        assert got.unsealed == sent.unsealed and got.reference == sent.reference
        assert got.data == sent.data and got.source == sent.source
