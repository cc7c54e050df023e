"""Progress of long commands on stderr, with the rate and the time left: a live bar drawn by
rich on a terminal; elsewhere (CI logs, a pipe) a plain line every few seconds, since a
redrawn bar would fill a log with control characters."""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from typing import TextIO

from rich.console import Console
from rich.filesize import decimal
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.progress import Progress as RichProgress
from rich.text import Text

PLAIN_EVERY = 5.0  # seconds between plain lines


class RateColumn(ProgressColumn):
    """`12,345 events/s`: rich's own speed column speaks only bytes."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} {self.unit}/s", style="progress.data.speed")


def _duration(seconds: float) -> str:
    return str(timedelta(seconds=int(seconds)))


def _amount(count: float, unit: str) -> str:
    # rich's decimal units (kB, MB, GB), as its DownloadColumn shows them on a terminal.
    return decimal(int(count)) if unit == "bytes" else f"{count:,.0f} {unit}"


class Progress:
    """`update(done, note)` as work goes, `finish(note)` at the end. `total` may be raised
    while running (a step that learns its size late)."""

    def __init__(self, total: int, unit: str, stream: TextIO | None = None) -> None:
        self.total = max(total, 1)
        self.unit = unit
        # sys.stderr when called, not when imported: a caller (or a test's capture) that
        # replaced it since must get the bar, never a stream that has been closed.
        self.stream = stream if stream is not None else sys.stderr
        self.started = time.monotonic()
        self.last_shown = 0.0
        self.done = 0
        self.tty = self.stream.isatty()
        self.bar: RichProgress | None = None
        if self.tty:
            amount: list[ProgressColumn] = (
                [DownloadColumn(), TransferSpeedColumn()]
                if unit == "bytes"
                else [MofNCompleteColumn(), RateColumn(unit)]
            )
            self.bar = RichProgress(
                BarColumn(),
                TaskProgressColumn(),
                *amount,
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                TextColumn("{task.description}"),
                console=Console(file=self.stream),
            )
            self.task = self.bar.add_task("", total=self.total)
            self.bar.start()

    def update(self, done: int, note: str = "") -> None:
        self.done = done
        if self.bar is not None:
            self.bar.update(self.task, completed=done, total=self.total, description=note)
            return
        now = time.monotonic()
        if now - self.last_shown >= PLAIN_EVERY or done >= self.total:
            self.last_shown = now
            self._plain(note)

    def _plain(self, note: str) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        fraction = min(self.done / self.total, 1.0)
        left = (
            f"{_duration((self.total - self.done) / rate)} left"
            if rate > 0 and self.done < self.total
            else ""
        )
        line = (
            f"{fraction:6.1%}  {_amount(self.done, self.unit)} of {_amount(self.total, self.unit)}"
            f"  {_amount(rate, self.unit)}/s  {_duration(elapsed)} elapsed  {left}  {note}"
        )
        self.stream.write(" ".join(line.split()) + "\n")
        self.stream.flush()

    def finish(self, note: str = "") -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=max(self.done, self.total), description=note)
            self.bar.stop()
            return
        if self.done < self.total:
            self.done = self.total
            self._plain(note)
        self.stream.flush()


class LazyProgress:
    """A progress callback `(done, total)` that shows a bar only once work is reported:
    for steps that are usually instant (a migration that may have to rebuild)."""

    def __init__(self, unit: str, note: str, stream: TextIO | None = None) -> None:
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
