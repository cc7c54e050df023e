"""Long commands show their progress with the rate and the time left, on a terminal (a
rich bar) and in a log (plain lines)."""

from __future__ import annotations

import io
import re

import pytest

from service import progress as progress_module
from service.progress import LazyProgress, Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(progress_module, "time", type("FakeTime", (), {"monotonic": staticmethod(fake)}))
    return fake


def test_a_log_gets_sparse_lines_with_rate_and_time_left(clock: Clock) -> None:
    out = io.StringIO()
    bar = Progress(1000, "events", out)
    clock.now += 10
    bar.update(250, "checking")
    clock.now += 1
    bar.update(300, "checking")  # within PLAIN_EVERY of the last line: not shown
    clock.now += 9
    bar.update(500, "half")
    bar.finish("done")
    lines = out.getvalue().splitlines()
    assert lines[0] == "25.0% 250 events of 1,000 events 25 events/s 0:00:10 elapsed 0:00:30 left checking"
    assert lines[1] == "50.0% 500 events of 1,000 events 25 events/s 0:00:20 elapsed 0:00:20 left half"
    assert lines[2].startswith("100.0% 1,000 events of 1,000 events") and lines[2].endswith("done")
    assert len(lines) == 3


def test_bytes_are_shown_in_units_a_reader_knows(clock: Clock) -> None:
    out = io.StringIO()
    bar = Progress(10_000_000, "bytes", out)
    clock.now += 2
    bar.update(5_000_000, "")
    assert out.getvalue().startswith("50.0% 5.0 MB of 10.0 MB 2.5 MB/s 0:00:02 elapsed 0:00:02 left")


def test_a_terminal_gets_a_live_bar_with_rate_and_time_left() -> None:
    out = Terminal()
    bar = Progress(1000, "events", out)
    bar.update(400, "building")
    bar.finish("built")
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())  # without the colours
    assert "1000/1000" in shown and "events/s" in shown and "built" in shown
    # The time left itself, not just its label: rich shows "-:--:--" until it knows a rate.
    assert re.search(r"left\s+(\d+:\d\d:\d\d|-:--:--)", shown)


def test_a_lazy_bar_shows_nothing_for_instant_work() -> None:
    out = io.StringIO()
    with LazyProgress("events", "building the read model", out):
        pass
    assert out.getvalue() == ""
    with LazyProgress("events", "building the read model", out) as bar:
        bar(5, 10)
        bar(10, 10)
    assert "building the read model" in out.getvalue()


def test_the_bar_goes_to_stderr_as_it_is_when_made(monkeypatch: pytest.MonkeyPatch) -> None:
    # The default was once sys.stderr as it was at import: a program (or a test's capture)
    # that replaced stderr since got its bar on the old stream, or a closed one.
    for make in (lambda: Progress(10, "events"), lambda: LazyProgress("events", "building")):
        now = io.StringIO()
        monkeypatch.setattr("sys.stderr", now)
        bar = make()
        if isinstance(bar, LazyProgress):
            bar(10, 10)
        else:
            bar.finish("built")
        assert now.getvalue() != ""
