"""``/docs``: the API's interactive documentation (Swagger UI), from a pinned release checked by
its hash.

FastAPI's own page loads ``swagger-ui-dist@5`` from a CDN, whatever 5.x is newest that day,
with no integrity check, into the page where a dispatcher pastes their key (an outside hunt).
Here the release is pinned and the browser refuses a script or style whose bytes are not the
ones hashed below (Subresource Integrity, the hashes of the npm package's files, which the CDN
serves as they are); the page is sent with a policy that lets in nothing else. ReDoc
(``/redoc``, from another floating CDN release) is not served. Outside ``/v1`` and the schema,
as the console is.
"""

from __future__ import annotations

import re

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from api.pages import html_page

__all__ = ["SWAGGER_UI", "router"]

router = APIRouter(tags=["docs"])

#: The Swagger UI release the page loads, and where from.
SWAGGER_UI = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.36.0"
#: SHA-384 of that release's files (``npm pack swagger-ui-dist@5.36.0``; ``openssl dgst
#: -sha384 -binary FILE | base64``): a file served with other bytes is refused by the browser.
_INTEGRITY = {
    "swagger-ui-bundle.js": (
        "sha384-fUpRgC19yPykTqzdrUbdAg8NTiu16NEKf9U12J+IJWCg8/1mEI8f2+PEIz60Wyd+"
    ),
    "swagger-ui.css": "sha384-z/AtSaOHGn5MJ5auAHXUypohywlIWLBZo1jeGmhdpVIbCnFhxAH92cwdV41oyINc",
}
#: What the page may load and run: the pinned release, its own start-up script, the schema.
_POLICY = "; ".join(
    [
        "default-src 'none'",
        f"script-src {SWAGGER_UI}/ 'unsafe-inline'",
        f"style-src {SWAGGER_UI}/ 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)


#: FastAPI's favicon, from its own site.
_FAVICON = re.compile(r'<link rel="shortcut icon" href="[^"]*">')


def _pinned(page: str) -> str:
    """FastAPI's page with each file of the release checked by its hash, and no favicon from
    elsewhere."""
    for name, digest in _INTEGRITY.items():
        url = f'"{SWAGGER_UI}/{name}"'
        if url not in page:  # FastAPI changed its page: fail loudly, never serve it unchecked
            raise RuntimeError(f"the docs page no longer loads {name} as expected")
        page = page.replace(url, f'{url} integrity="{digest}" crossorigin="anonymous"')
    return _FAVICON.sub("", page)


@router.get("/docs", include_in_schema=False)
async def get_docs() -> HTMLResponse:
    """The interactive documentation of the API; the key is typed into its Authorize box."""
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="fieldroute API",
        swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
    )
    return html_page(_pinned(bytes(page.body).decode()), _POLICY)
