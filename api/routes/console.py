"""``/console``: the desk console, the page a dispatcher runs the day from in a browser.

It is served outside ``/v1`` (as ``/docs`` is) because it is no resource of the versioned API
but a client of it: the page is a static shell that holds nothing of any day, so it is served
to anyone, and every piece of data it shows comes from ``/v1`` with the dispatcher's key in the
``Authorization`` header (how and why: ``maps.console.page``). A browser cannot send that
header when it opens a page, and the key must never be in a URL. Left out of the OpenAPI
schema: generated clients have no use for it.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.deps import TilesDep
from api.pages import html_page
from maps.base import page_policy
from maps.console import console_page

__all__ = ["router"]

router = APIRouter(tags=["console"])


@router.get("/console", include_in_schema=False)
async def get_console(tiles: TilesDep) -> HTMLResponse:
    """The desk console's page: the same bytes for everyone; it asks for the key itself."""
    return html_page(console_page(), page_policy(tiles), cache="no-cache")
