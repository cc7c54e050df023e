"""What a request's query may carry: declared parameters only, and integers the database
can hold (the body's rules are in `service/requests.py`). A parameter that an endpoint does not take is
refused rather than ignored, so a typo (`/state?area=x`, `limit` on a part without lists)
never silently answers a different question."""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from events.errors import FieldError, InvalidInput, UriTooLong

# The largest position or size a BIGINT column holds (SQLite's INTEGER too); versions are
# INTEGER columns.
MAX_BIGINT = 2**63 - 1
MAX_INT = 2**31 - 1
# A query string longer than this is refused before any of it is read: the longest the API
# needs (a hundred repeated `subject`s) is under half of it.
MAX_QUERY_BYTES = 8192

_declared: dict[int, frozenset[str]] = {}


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def declared_query_parameters(route: APIRoute) -> frozenset[str]:
    found = _declared.get(id(route))
    if found is None:
        found = _declared[id(route)] = frozenset(_query_names(route.dependant))
    return found


async def refuse_unknown_parameters(request: Request) -> None:
    """An app-wide dependency: 414 for a query string over MAX_QUERY_BYTES, 422 for a query
    parameter the route does not declare. The viewer's pages (outside the API's schema)
    read their own query in the browser."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not route.include_in_schema:
        return
    length = len(request.scope.get("query_string", b""))
    if length > MAX_QUERY_BYTES:
        raise UriTooLong(
            f"The query string is {length:,} bytes; at most {MAX_QUERY_BYTES:,} (the limit).",
            limit={"max_query_bytes": MAX_QUERY_BYTES},
        )
    declared = declared_query_parameters(route)
    unknown = sorted(set(request.query_params) - declared)
    if unknown:
        takes = ", ".join(f"`{name}`" for name in sorted(declared)) or "no query parameters"
        raise InvalidInput(
            f"{route.path} does not take {', '.join(f'`{name}`' for name in unknown)}; it takes {takes}.",
            [FieldError(f"/{name}", "not a parameter of this endpoint", "query") for name in unknown],
        )
    refuse_nul(request)


def refuse_nul(request: Request) -> None:
    """U+0000 in a query or path parameter is a 422 naming it, as in a body
    (events/jsonio.py): PostgreSQL's text cannot hold it, and a subject, type, area or
    track holding it would otherwise be a 500 there and a silent miss on SQLite."""
    found = [(name, "query") for name, value in request.query_params.multi_items() if "\x00" in value]
    found += [(name, "path") for name, value in request.path_params.items() if "\x00" in str(value)]
    if found:
        names = sorted({name for name, _ in found})
        raise InvalidInput(
            f"U+0000 is not accepted in {', '.join(f'`{name}`' for name in names)}.",
            [
                FieldError(f"/{name}", "U+0000 is not accepted", where)
                for name, where in sorted(set(found), key=lambda item: item[0])
            ],
        )
