"""Windows on the lists that grow with the whole log, and pages of areas and tracks.

A windowed answer is the full answer cut: each windowed list keeps the items whose
`since` lies in [since, until), and of those the latest `limit` (the list keeps its
(since, position) order); `more` names the lists that `limit` shortened. Statuses,
and which areas and tracks appear, are those of the full answer: a window only
shortens what is shown. A page is the first `limit` areas (or tracks) after a name,
in name order, of the full answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

# The lists that grow with the log rather than with the parties of an area or a track.
WINDOWED = ("proposals", "ceasefires", "rounds", "meetings", "statements")
T = TypeVar("T")


@dataclass(frozen=True)
class Window:
    since: str | None = None  # instants, as the service writes them
    until: str | None = None
    limit: int | None = None

    @property
    def given(self) -> bool:
        return self.since is not None or self.until is not None or self.limit is not None

    def holds(self, since: str) -> bool:
        return (self.since is None or since >= self.since) and (self.until is None or since < self.until)

    def cut(self, items: Sequence[T], since_of: Any) -> tuple[list[T], bool]:
        """Items in (since, position) order, cut; and whether `limit` shortened them."""
        kept = [item for item in items if self.holds(since_of(item))]
        if self.limit is not None and len(kept) > self.limit:
            return kept[len(kept) - self.limit :], True
        return kept, False


NO_WINDOW = Window()


def cut_shown(shown: Mapping[str, Any], window: Window) -> dict[str, Any]:
    """A rendered track or diplomacy part, cut by the window, with its `more` marker."""
    if not window.given:
        return dict(shown)
    cut = dict(shown)
    more: dict[str, bool] = {}
    for name in WINDOWED:
        if name in shown:
            cut[name], shortened = window.cut(shown[name], lambda item: item["since"])
            if shortened:
                more[name] = True
    cut["more"] = more
    return cut


@dataclass(frozen=True)
class Page:
    after: str | None = None
    limit: int | None = None

    @property
    def given(self) -> bool:
        return self.after is not None or self.limit is not None


NO_PAGE = Page()


def page_of(names: Sequence[str], page: Page) -> tuple[list[str], str | None]:
    """Of the sorted names, the page; and the name to pass as `after` for the next (None at the end)."""
    after = [name for name in names if page.after is None or name > page.after]
    if page.limit is None or len(after) <= page.limit:
        return after, None
    shown = after[: page.limit]
    return shown, shown[-1]
