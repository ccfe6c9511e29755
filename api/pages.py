"""How the service sends a page: the headers every HTML answer carries, in one place.

The console, the desk's map, a driver's page and the time card are all sent with the same
Content-Security-Policy (``maps.base.page_policy``: nothing loaded from elsewhere, never framed),
``nosniff`` and no referrer (a driver's page has its link, token and all, in its URL). The map
and the card had none of them, and a driver's Done button could be framed by another site.
"""

from __future__ import annotations

from fastapi.responses import HTMLResponse

from maps.base import Tiles, page_policy

__all__ = ["html_page"]


def html_page(body: str, tiles: Tiles, *, cache: str | None = None) -> HTMLResponse:
    """``body`` as an HTML answer with the service's page headers (``cache``: its
    ``Cache-Control``, when one is wanted)."""
    headers = {
        "Content-Security-Policy": page_policy(tiles),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    if cache is not None:
        headers["Cache-Control"] = cache
    return HTMLResponse(body, headers=headers)
