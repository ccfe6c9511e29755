"""How the service sends a page: the headers every HTML answer carries, in one place.

Every page is sent with a Content-Security-Policy, ``nosniff`` and no referrer (a driver's page
has its link, token and all, in its URL). The console, the desk's map, a driver's page and the
time card share one policy (``maps.base.page_policy``: nothing loaded from elsewhere, never
framed); the map and the card once had none, and a driver's Done button could be framed by
another site. The API's documentation has its own (``api.routes.docs``).
"""

from __future__ import annotations

from fastapi.responses import HTMLResponse

__all__ = ["html_page"]


def html_page(body: str, policy: str, *, cache: str | None = None) -> HTMLResponse:
    """``body`` as an HTML answer with the service's page headers, ``policy`` its
    Content-Security-Policy (``cache``: its ``Cache-Control``, when one is wanted)."""
    headers = {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    if cache is not None:
        headers["Cache-Control"] = cache
    return HTMLResponse(body, headers=headers)
