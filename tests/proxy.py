"""A TCP proxy for tests that the test can cut and restore: a database that goes away.

`cut()` closes every connection it carries and refuses new ones (the listening socket
is closed, so a connect fails at once, as it does when a database host goes down);
`restore()` listens again on the same port. The service under test is given the
proxy's address instead of the database's.
"""

from __future__ import annotations

import contextlib
import socket
import threading

from sqlalchemy.engine import make_url


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.port = 0
        self.accepted = 0  # connections carried since the start
        self._trigger: tuple[bytes, bool] | None = None
        self.failed = False  # the armed failure happened
        self._listen()

    @classmethod
    def to_database(cls, database_url: str) -> TcpProxy:
        url = make_url(database_url)
        return cls(url.host or "127.0.0.1", url.port or 5432)

    def url_through(self, database_url: str) -> str:
        """`database_url` with its host and port replaced by the proxy's."""
        url = make_url(database_url).set(host="127.0.0.1", port=self.port)
        return url.render_as_string(hide_password=False)

    # -- control ---------------------------------------------------------------------------

    def cut(self) -> None:
        """Close every carried connection and refuse new ones."""
        with self._lock:
            listener, self._listener = self._listener, None
            carried, self._sockets = self._sockets, set()
        if listener is not None:
            _close(listener)
        for sock in carried:
            _close(sock)

    def fail_on(self, marker: bytes, *, deliver: bool) -> None:
        """Fail the next connection that sends `marker` to the database, once.

        `deliver=False`: the connection dies before the database sees the message (a
        transaction left open is rolled back). `deliver=True`: the database gets the
        message and ends the connection after it, but the answer never reaches the
        client: for `COMMIT`, a commit whose outcome the client cannot know.
        """
        with self._lock:
            self._trigger, self.failed = (marker, deliver), False

    def _armed(self, data: bytes) -> bool | None:
        """None when `data` does not fire the trigger, else whether to deliver it."""
        with self._lock:
            if self._trigger is None or self._trigger[0] not in data:
                return None
            deliver = self._trigger[1]
            self._trigger, self.failed = None, True
            return deliver

    def restore(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
        self._listen()

    @property
    def is_cut(self) -> bool:
        return self._listener is None

    def close(self) -> None:
        self.cut()

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- carrying --------------------------------------------------------------------------

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self.port = listener.getsockname()[1]
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    _close(client)
                    _close(upstream)
                    return
                self._sockets |= {client, upstream}
                self.accepted += 1
            for source, sink, outgoing in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pump, args=(source, sink, outgoing), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, outgoing: bool) -> None:
        try:
            while data := source.recv(65536):
                deliver = self._armed(data) if outgoing else None
                if deliver is not None:
                    self._fail(source, sink, data, deliver)
                    return
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._sockets -= {source, sink}
            _close(source)
            _close(sink)

    def _fail(self, client: socket.socket, upstream: socket.socket, data: bytes, deliver: bool) -> None:
        with self._lock:
            self._sockets -= {client, upstream}
        if deliver:
            upstream.sendall(data)
            _close(client)  # the answer has nowhere to go
            # End the database's side with a FIN after the message, not a reset: it reads
            # and runs the message first, then sees the end of the connection.
            with contextlib.suppress(OSError):
                upstream.shutdown(socket.SHUT_WR)
            upstream.settimeout(10)
            with contextlib.suppress(OSError):
                while upstream.recv(65536):
                    pass  # the answer, dropped
        _close(client)
        _close(upstream)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
