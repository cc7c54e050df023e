"""A small Server-Sent Events client for tests: a thread reads the stream into a queue."""

from __future__ import annotations

import contextlib
import http.client
import queue
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit


@dataclass
class Message:
    id: str | None = None
    event: str | None = None
    data: str | None = None
    retry: int | None = None
    comments: tuple[str, ...] = ()

    @property
    def position(self) -> int:
        assert self.id is not None
        return int(self.id)


class SSEClient:
    """Reads with http.client, so that `close()` can shut the socket and end the read at once."""

    def __init__(self, url: str, *, params: Any = None, headers: dict[str, str] | None = None) -> None:
        self.messages: queue.Queue[Message | BaseException] = queue.Queue()
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.ended_cleanly = False
        parts = urlsplit(url)
        query = "&".join(q for q in (parts.query, urlencode(params or {}, doseq=True)) if q)
        self._path = parts.path + ("?" + query if query else "")
        self._connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
        self._request_headers = {"Accept": "text/event-stream", **(headers or {})}
        # http.client sends header values as latin-1, as browsers' bytes arrive.
        self._connected = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        if not self._connected.wait(10):
            raise TimeoutError("the stream did not answer in 10 s")

    def _read(self) -> None:
        try:
            self._connection.request("GET", self._path, headers=self._request_headers)
            response = self._connection.getresponse()
            self.status = response.status
            self.headers = {k.lower(): v for k, v in response.getheaders()}
            assert self._connection.sock is not None
            self._connection.sock.settimeout(None)
            self._connected.set()
            current, comments = Message(), list[str]()
            while True:
                raw = response.readline()
                if not raw:
                    self.ended_cleanly = True  # the last chunk came: not a dropped connection
                    break
                line = raw.decode("utf-8").rstrip("\r\n")
                if line == "":
                    current.comments = tuple(comments)
                    self.messages.put(current)
                    current, comments = Message(), []
                elif line.startswith(":"):
                    comments.append(line[1:].strip())
                else:
                    field, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if field == "id":
                        current.id = value
                    elif field == "event":
                        current.event = value
                    elif field == "data":
                        current.data = value if current.data is None else current.data + "\n" + value
                    elif field == "retry":
                        current.retry = int(value)
        except BaseException as exc:  # surfaced to the test by next()
            if not self._closing:
                self.messages.put(exc)
        finally:
            self._connected.set()
            self.messages.put(EOFError("the stream ended"))

    def next(self, timeout: float = 10) -> Message:
        item = self.messages.get(timeout=timeout)
        if isinstance(item, BaseException):
            raise item
        return item

    def events(self, count: int, timeout: float = 30) -> list[Message]:
        """The next `count` messages that carry data (checkpoints, pings and retry are skipped)."""
        found: list[Message] = []
        deadline = time.monotonic() + timeout
        while len(found) < count:
            message = self.next(max(deadline - time.monotonic(), 0.01))
            if message.data is not None:
                found.append(message)
        return found

    def close(self) -> None:
        self._closing = True
        sock = self._connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._connection.close()
        self._thread.join(5)

    def __enter__(self) -> SSEClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
