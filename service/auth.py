"""Bearer keys with scopes (docs/api.md §11)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

SCOPES = ("read", "write", "admin")
# What each configured scope may do: admin includes write, and every key may read.
GRANTS = {"read": {"read"}, "write": {"read", "write"}, "admin": {"read", "write", "admin"}}


class Unauthorized(Exception):
    """No key, or an unknown one."""


class Forbidden(Exception):
    """A valid key without the scope needed."""


@dataclass(frozen=True)
class ApiKeys:
    keys: tuple[tuple[str, bytes], ...]  # (scope, key)

    @classmethod
    def parse(cls, spec: str) -> ApiKeys:
        keys = []
        for item in filter(None, (part.strip() for part in spec.split(","))):
            scope, sep, key = item.partition(":")
            if not sep or scope not in SCOPES or not key:
                raise ValueError(
                    "TIMELINE_API_KEYS holds scope:key pairs with scopes read, write or admin; "
                    f"cannot read the entry starting {item[:6]!r}"
                )
            keys.append((scope, key.encode()))
        return cls(tuple(keys))

    @property
    def reads_need_key(self) -> bool:
        return any(scope == "read" for scope, _ in self.keys)

    def scopes_of(self, presented: str) -> set[str]:
        """Compare with every key in constant time, so timing tells nothing."""
        candidate = presented.encode()
        granted: set[str] = set()
        for scope, key in self.keys:
            if hmac.compare_digest(candidate, key):
                granted |= GRANTS[scope]
        return granted

    def authorise(self, presented: str | None, scope: str) -> None:
        if scope == "read" and not self.reads_need_key:
            return
        if not presented:
            raise Unauthorized("This needs an `Authorization: Bearer <key>` header.")
        granted = self.scopes_of(presented)
        if not granted:
            raise Unauthorized("The key is not valid.")
        if scope not in granted:
            raise Forbidden(f"The key lacks the {scope!r} scope.")


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    kind, _, token = header.partition(" ")
    return token.strip() if kind.lower() == "bearer" and token.strip() else None
