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

from tests.databases import Databases
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
