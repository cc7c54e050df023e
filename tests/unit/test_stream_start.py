"""Where a stream starts: `Last-Event-ID` (digits, HTTP white space around them) over `after`."""

from __future__ import annotations

import pytest

from service.stream import start_after


@pytest.mark.parametrize("header", ["7", " 7", "7 ", "\t7\t", " \t 7 "])
def test_digits_with_http_white_space_resume_after_them(header: str) -> None:
    assert start_after(header, 3) == 7


@pytest.mark.parametrize(
    "header",
    # No-break space (latin-1 0xA0), NEL (0x85), the separators 0x1C-0x1F, VT, FF, CR: str.strip()
    # took them all as white space and read "\xa07" as 7.
    ["\xa07", "7\xa0", "\x857", "\x1c7", "\x1f7", "\x0b7", "\x0c7", "\r7", "7\n", "", " ", "\u00b2", "1e3"],
)
def test_anything_else_is_ignored(header: str) -> None:
    assert start_after(header, 3) == 3
    assert start_after(header, None) is None


def test_no_header_is_after() -> None:
    assert start_after(None, 3) == 3
    assert start_after(None, None) is None
