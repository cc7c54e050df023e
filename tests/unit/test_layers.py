"""The rules a contributor keeps about imports, read from the code itself: no cycles between
modules, the layers point one way (service -> projections -> events), the domain imports
neither FastAPI nor SQLAlchemy, and only the HTTP layer imports FastAPI."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("events", "projections", "importers", "service")
LAYER = {"events": 0, "projections": 1, "importers": 1, "service": 2}


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports_of(path: Path) -> set[str]:
    """Every module this file imports, at its top or inside a function (a lazy import is
    still a dependency, and can still close a cycle at run time)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def graph() -> dict[str, set[str]]:
    known = modules()
    edges = {}
    for name, path in known.items():
        edges[name] = {m for m in imports_of(path) if m in known and m != name}
        # `from projections.sql import parallel` names a module; a package's own
        # __init__ is not an edge to each of its modules.
        edges[name] -= {m for m in edges[name] if m in PACKAGES}
    return edges


def test_no_module_imports_itself_back_through_others() -> None:
    edges = graph()
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for after in sorted(edges[node]):
            if state.get(after) == 1:
                cycle = [*path[path.index(after) :], after]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if after not in state:
                visit(after)
        path.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)


def test_the_layers_point_one_way() -> None:
    for name, targets in graph().items():
        for target in targets:
            assert LAYER[target.split(".")[0]] <= LAYER[name.split(".")[0]], f"{name} imports {target}"


def test_the_domain_imports_neither_fastapi_nor_sqlalchemy() -> None:
    """Projections outside `projections/sql/` are the specification: pure functions."""
    for name, path in modules().items():
        if name.startswith("projections") and not name.startswith("projections.sql"):
            for imported in imports_of(path):
                assert imported.split(".")[0] not in {"fastapi", "sqlalchemy", "starlette"}, (
                    f"{name} imports {imported}"
                )


def test_only_the_service_speaks_http() -> None:
    for name, path in modules().items():
        if not name.startswith("service"):
            for imported in imports_of(path):
                assert imported.split(".")[0] not in {"fastapi", "starlette", "sse_starlette"}, (
                    f"{name} imports {imported}"
                )


# What gives a backend away: naming one, asking which one a connection is, or reaching
# past SQLAlchemy to the driver. Only the recorders (and the listener, which is
# PostgreSQL's LISTEN itself) may.
BACKEND_MARKS = (".dialect.name", "get_backend_name(", "driver_connection", "psycopg", "sqlite3", "pg_")
BACKEND_MODULES = ("events.recorders", "service.listener")


def test_backend_differences_live_in_the_recorders_only() -> None:
    for name, path in modules().items():
        if name.startswith(BACKEND_MODULES):
            continue
        source = path.read_text()
        for mark in BACKEND_MARKS:
            assert mark not in source, (
                f"{name} holds backend-specific code ({mark!r}): move it into its recorder"
            )
