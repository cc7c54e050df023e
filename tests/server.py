"""A real `uvicorn` process on a free port: streams and concurrency need a real server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    def __init__(self, database_url: str, log_path: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        environment = {
            **os.environ,
            "TIMELINE_DATABASE_URL": database_url,
            "TIMELINE_API_KEYS": "write:test-write,admin:test-admin",
            **(env or {}),
        }
        self.environment = environment
        self._log = log_path.open("wb")
        self.start()

    def start(self) -> None:
        """Start the server process (again, after `stop(close_log=False)`) and wait for it."""
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "service.app:app_from_environment",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "info",
            ],
            env=self.environment,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        try:
            wait_ready(self.url, self.process)
        except RuntimeError:
            # Never left running: a server that failed to start is in no fixture's list.
            self.process.kill()
            self.process.wait()
            self._log.close()  # else its ResourceWarning fails whichever test comes next
            raise RuntimeError(f"server did not start: {self.log_path.read_text()}") from None

    def restart(self) -> None:
        """Stop the process and start a new one on the same port and database."""
        self.stop(close_log=False)
        self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, *, close_log: bool = True) -> None:
        if self.process.poll() is not None:
            if close_log:
                self._log.close()
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            self._log.close()  # else its ResourceWarning fails whichever test comes next
        if close_log:
            self._log.close()


def wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not become ready in {seconds} s")
