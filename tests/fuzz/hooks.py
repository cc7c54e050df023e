"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS): the project's own checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, cast

import schemathesis
from hypothesis.internal import lambda_sources

_describe_lambda = cast(Callable[[Any], str], lambda_sources.lambda_description)


def _lambda_description_or_placeholder(f: Any) -> str:
    """Hypothesis names a filtered strategy by parsing its lambda's source, and CPython
    3.11's `ast.parse` can fail there with "SystemError: AST constructor recursion depth
    mismatch", depending on the stack depth of the thread that asks (it crashed
    schemathesis's coverage phase once in CI, on a strategy of its own). The name is only
    a repr: a placeholder changes no generated case and no check."""
    try:
        return _describe_lambda(f)
    except SystemError:
        return "lambda"


lambda_sources.lambda_description = _lambda_description_or_placeholder

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "https://timeline.invalid/problems/"


@schemathesis.check
def problem_json_errors(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx and 5xx is an RFC 9457 problem: `application/problem+json` with `type`,
    `title`, `status` (the response's own) and `detail`."""
    status = response.status_code
    if status < 400:
        return None
    media = response.headers.get("content-type", [""])
    media = (media[0] if isinstance(media, list) else media).split(";", 1)[0].strip().lower()
    if media != PROBLEM_MEDIA_TYPE:
        raise AssertionError(f"a {status} answered {media or 'no media type'!r}, not {PROBLEM_MEDIA_TYPE}")
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"a {status} problem is not JSON") from None
    if not isinstance(body, dict):
        raise AssertionError(f"a {status} problem is not a JSON object")
    missing = [name for name in ("type", "title", "status", "detail") if name not in body]
    if missing:
        raise AssertionError(f"a {status} problem lacks {', '.join(missing)}")
    if body["status"] != status:
        raise AssertionError(f"a {status} problem says status {body['status']!r}")
    if not (isinstance(body["type"], str) and body["type"].startswith(PROBLEM_TYPE_PREFIX)):
        raise AssertionError(f"a {status} problem has type {body['type']!r}")
    for name in ("title", "detail"):
        if not isinstance(body[name], str) or not body[name]:
            raise AssertionError(f"a {status} problem's {name} is not a non-empty string")
    return None
