"""A progress line on stderr for long commands: a bar on a terminal, sparse lines elsewhere."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, unit: str, stream: TextIO = sys.stderr) -> None:
        self.total = max(total, 1)
        self.unit = unit
        self.stream = stream
        self.started = time.monotonic()
        self.last_shown = 0.0
        self.tty = stream.isatty()
        self.done = 0

    def update(self, done: int, note: str = "") -> None:
        self.done = done
        now = time.monotonic()
        if now - self.last_shown < (0.2 if self.tty else 5.0) and done < self.total:
            return
        self.last_shown = now
        self._show(note)

    def _show(self, note: str) -> None:
        fraction = min(self.done / self.total, 1.0)
        elapsed = max(time.monotonic() - self.started, 1e-9)
        bar = "#" * int(fraction * 30)
        line = f"[{bar:<30}] {fraction:6.1%}  {note}  {elapsed:,.1f}s"
        if self.tty:
            self.stream.write("\r" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self, note: str = "") -> None:
        if self.done < self.total or self.tty:
            self.done = self.total
            self._show(note)
        if self.tty:
            self.stream.write("\n")
        self.stream.flush()


class LazyProgress:
    """A progress callback `(done, total)` that shows a bar only once work is reported:
    for steps that are usually instant (a migration that may have to rebuild)."""

    def __init__(self, unit: str, note: str, stream: TextIO = sys.stderr) -> None:
        self.unit, self.note, self.stream = unit, note, stream
        self.bar: Progress | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = Progress(total, self.unit, self.stream)
        self.bar.total = max(total, 1)
        self.bar.update(done, self.note)

    def __enter__(self) -> LazyProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.finish(self.note)
