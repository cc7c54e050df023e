"""The pages people open: the viewer at `/`, and the API documentation at `/docs` and `/redoc`.

Everything is served by this process from files shipped in the package: the service
often runs on machines without internet, so no page loads anything from elsewhere.
The viewer's own files are plain HTML, CSS and JavaScript modules (no build step);
Swagger UI's and ReDoc's are those the `fastapi-offline` package ships.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import re
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

VIEWER = Path(__file__).parent / "viewer"
# The viewer's pages run only their own scripts and styles, and talk only to this service.
VIEWER_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Revalidated on every load (a cheap 304), so an upgraded service is never mixed
    # with the browser's copy of the last one.
    "Cache-Control": "no-cache",
}
DOCS_ASSETS = "/docs-assets"

router = APIRouter(include_in_schema=False)


def docs_assets_folder() -> Path:
    """Swagger UI and ReDoc as `fastapi-offline` ships them (found without importing it)."""
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the fastapi-offline package, which ships the docs' assets, is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


class ViewerFiles(StaticFiles):
    """The viewer's static files, each with the viewer's security headers."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(VIEWER_HEADERS)
        return response


@router.get("/")
async def viewer() -> Response:
    return FileResponse(VIEWER / "index.html", headers=VIEWER_HEADERS, media_type="text/html")


def with_docs_policy(page: HTMLResponse) -> HTMLResponse:
    """Swagger UI and ReDoc are third-party bundles: a policy holds them to this service.
    ReDoc's sidebar, for one, shows a logo from its vendor's CDN, which the policy turns
    into no request at all. Their pages' one inline script is allowed by its hash; their
    styles are injected at run time, hence 'unsafe-inline' for styles alone."""
    body = bytes(page.body).decode()
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in re.findall(r"<script>(.*?)</script>", body, re.S)
    )
    page.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; worker-src 'self' blob:; base-uri 'none'; frame-ancestors 'none'"
    )
    return page


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    return with_docs_policy(
        get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Timeline service: API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url="/viewer/favicon.svg",
            # Swagger UI otherwise asks validator.swagger.io about the document.
            swagger_ui_parameters={"validatorUrl": None},
        )
    )


@router.get("/redoc")
async def redoc() -> HTMLResponse:
    return with_docs_policy(
        get_redoc_html(
            openapi_url="/openapi.json",
            title="Timeline service: API",
            redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url="/viewer/favicon.svg",
            with_google_fonts=False,
        )
    )


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/viewer", ViewerFiles(directory=VIEWER), name="viewer")
    app.mount(DOCS_ASSETS, StaticFiles(directory=docs_assets_folder()), name="docs-assets")
