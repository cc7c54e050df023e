"""The project's own Schemathesis check refuses what it should (it runs inside the CLI in
test_schemathesis.py, where a check that never fails would go unnoticed)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.fuzz.hooks import problem_json_errors


@dataclass
class FakeResponse:
    status_code: int
    body: Any
    media_type: str = "application/problem+json"
    headers: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.headers = {"content-type": [self.media_type]}
        self.content = self.body if isinstance(self.body, bytes) else json.dumps(self.body).encode()


def problem(status: int, **changes: Any) -> dict[str, Any]:
    body = {
        "type": "https://timeline.invalid/problems/validation",
        "title": "Invalid input",
        "status": status,
        "detail": "The request's parameters are not valid.",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def test_a_problem_passes_and_success_is_not_looked_at() -> None:
    assert problem_json_errors(None, FakeResponse(422, problem(422, errors=[])), None) is None
    assert problem_json_errors(None, FakeResponse(200, [1], "application/json"), None) is None


@pytest.mark.parametrize(
    ("response", "says"),
    [
        (FakeResponse(404, problem(404), "application/json"), r"not application/problem\+json"),
        (FakeResponse(500, b"Internal Server Error", "text/plain"), r"not application/problem\+json"),
        (FakeResponse(422, b"{not json"), "not JSON"),
        (FakeResponse(422, [problem(422)]), "not a JSON object"),
        (FakeResponse(422, problem(422, detail=None)), "lacks detail"),
        (FakeResponse(409, problem(422)), "says status 422"),
        (FakeResponse(422, problem(422, type="about:blank")), "has type"),
        (FakeResponse(422, problem(422, title="")), "title is not a non-empty string"),
    ],
)
def test_anything_else_fails(response: FakeResponse, says: str) -> None:
    with pytest.raises(AssertionError, match=says):
        problem_json_errors(None, response, None)
