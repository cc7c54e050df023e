"""The viewer's sources keep the rules its safety rests on, read from the files themselves:
no API that parses HTML or evaluates text, nothing from another host, no inline script."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

VIEWER = Path(__file__).resolve().parents[2] / "service" / "viewer"
SCRIPTS = sorted((VIEWER / "js").glob("*.js"))
# Each of these turns text into markup or code: an event's quote must never reach one.
FORBIDDEN = [
    r"\.innerHTML\b",
    r"\.outerHTML\b",
    r"insertAdjacentHTML",
    r"document\.write",
    r"\beval\s*\(",
    r"new\s+Function\b",
    r"createContextualFragment",
    r"DOMParser",
    r"setTimeout\(\s*['\"`]",
    r"\.srcdoc\b",
    r"localStorage",  # the write key lives in sessionStorage only
]


def test_there_are_scripts_to_check() -> None:
    assert len(SCRIPTS) >= 10


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_no_script_parses_html_or_evaluates_text(script: Path) -> None:
    text = script.read_text()
    for pattern in FORBIDDEN:
        assert not re.search(pattern, text), f"{script.name} uses {pattern}"


PAGES = [*SCRIPTS, VIEWER / "index.html", VIEWER / "viewer.css"]


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_nothing_is_loaded_from_another_host(path: Path) -> None:
    text = path.read_text()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", text), path.name
    assert not re.search(r"@import|url\(\s*['\"]?(?:https?:)?//", text), path.name
    assert not re.search(r"""fetch\(\s*["'`]https?:""", text), path.name


def test_the_key_is_never_put_in_a_url() -> None:
    for script in SCRIPTS:
        text = script.read_text()
        assert "access_token" not in text, script.name
    api = (VIEWER / "js" / "api.js").read_text()
    assert "sessionStorage" in api and "Authorization" in api


def test_the_checker_itself_finds_what_it_forbids(tmp_path: Path) -> None:
    planted = "el.innerHTML = quote;"
    assert any(re.search(p, planted) for p in FORBIDDEN)
