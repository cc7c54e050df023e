"""Keys never reach a log line: the stream's `access_token` is redacted from request lines."""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"(access_token=)[^&\s\"']*")


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
