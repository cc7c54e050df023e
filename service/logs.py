"""Keys never reach a log line.

The stream's `access_token` is taken out of the query string before the
request reaches the app (uvicorn's access log reads the same scope), however
its name is percent-encoded; a log filter redacts anything that slips past.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

ACCESS_TOKEN = "access_token"
_TOKEN = re.compile(r"(access(?:_|%5f)token=)[^&\s\"']*", re.IGNORECASE)


def redact(text: str) -> str:
    return _TOKEN.sub(r"\1[redacted]", text)


class RedactAccessToken(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install_redaction() -> None:
    for name in ("uvicorn.access", "uvicorn.error", "uvicorn", "timeline"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactAccessToken) for f in logger.filters):
            logger.addFilter(RedactAccessToken())


class JsonLines(logging.Formatter):
    """One JSON object a line: `time` (UTC), `level`, `logger`, `message`, the fields of a
    request line (service/request_log.py) and `exception` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        fields = getattr(record, "request", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def install_app_logging(level: str) -> None:
    """The service's own lines (`timeline`, `timeline.stream`, `timeline.request`) on stderr
    beside uvicorn's, as JSON lines, at the configured level; without a handler Python shows
    only warnings and errors."""
    logger = logging.getLogger("timeline")
    logger.setLevel(level.upper())
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonLines())
        handler.addFilter(RedactAccessToken())
        logger.addHandler(handler)
        logger.propagate = False


class StripAccessToken:
    """Pure ASGI middleware: moves `access_token` from the query string to scope["state"]."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        raw = scope.get("query_string", b"") if scope["type"] == "http" else b""
        if raw:
            pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
            tokens = [value for name, value in pairs if name == ACCESS_TOKEN]
            if tokens:
                kept = [(name, value) for name, value in pairs if name != ACCESS_TOKEN]
                scope["query_string"] = urlencode(kept).encode("latin-1")
                scope.setdefault("state", {})[ACCESS_TOKEN] = tokens[-1]
        await self.app(scope, receive, send)
