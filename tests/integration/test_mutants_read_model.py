"""The read-model equivalence tests of test_read_model.py, small enough for the mutation run.

mutmut runs, for each mutant, the tests that reached its function; the full property tests
(200 and 100 histories, over a minute each) would cost minutes per surviving mutant of
`projections/sql/`, so they are not in its selection and the read model's code had no test
it could see. These run the same bodies on a dozen histories each, drawn from the seed the
mutation run fixes (`--hypothesis-seed=0`), so a mutant lives or dies by its code, not by
the draw. In the ordinary suite they are a quick first check before the big ones.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.drafts import draft_from_json
from events.store import EventStore
from service import state_query
from tests.databases import Databases
from tests.factories import envelope
from tests.integration.histories import growing_histories, histories
from tests.integration.test_read_model import (
    answers_as_the_fold_does,
    windowed_answers_are_the_full_answer_cut,
)

SMALL = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@SMALL
@given(history=histories, data=st.data())
def test_a_few_histories_answer_as_the_fold_does(
    databases: Databases, history: Any, data: st.DataObject
) -> None:
    answers_as_the_fold_does(databases, history, data)


@SMALL
@given(history=growing_histories, data=st.data())
def test_a_few_windowed_and_paged_answers_are_the_full_answer_cut(
    databases: Databases, history: Any, data: st.DataObject
) -> None:
    windowed_answers_are_the_full_answer_cut(databases, history, data)


def test_an_areas_history_shows_every_clash_in_the_window(store: EventStore) -> None:
    # Clashes are a kind every event of which is shown: the history keeps each by its
    # position, not one per slot (assemble.history_32 kept only the newest).
    def clash(at: str, claimant: str) -> dict[str, Any]:
        data = {"area": "a-east", "parties": ["kp", "ua"], "claimant": claimant}
        return envelope("forces.clash_reported", data, occurred_at=at)

    store.append([draft_from_json(e) for e in (clash("2025-03-01", "acled"), clash("2025-03-05", "ucdp"))])
    got = state_query.history(store, "a-east")
    assert got == state_query.reference_history(store, "a-east")
    assert max(len(interval["clashes"]) for interval in got["intervals"]) == 2  # both, from 03-05
