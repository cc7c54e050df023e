"""What the client raises: the server's problem (RFC 9457), kept whole."""

from __future__ import annotations

from typing import Any


class ProblemError(Exception):
    """The server refused the request; `problem` is its `application/problem+json` body
    (`errors`, `index`, `existing_position`, `actual_version`... as docs/api.md §4.7 lists)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        detail = problem.get("detail") or problem.get("title") or "no detail"
        super().__init__(f"{status}: {detail}")

    @property
    def type(self) -> str | None:
        value = self.problem.get("type")
        return value if isinstance(value, str) else None

    @property
    def errors(self) -> list[dict[str, Any]]:
        value = self.problem.get("errors")
        return value if isinstance(value, list) else []
