"""Leaflet for pages that work offline: its JavaScript and CSS, read from the installed
``XStatic-Leaflet`` package and written into the page itself, so a map needs no CDN and no
network (a service desk may have none; neither do our test machines)."""

from __future__ import annotations

import base64
import functools
import re
from pathlib import Path

import xstatic.pkg.leaflet as leaflet

__all__ = ["LEAFLET_VERSION", "leaflet_head"]

LEAFLET_VERSION: str = leaflet.VERSION
_DATA = Path(leaflet.BASE_DIR)


def _inline_images(css: str) -> str:
    """``url(images/x.png)`` → a ``data:`` URL of that image, so nothing is fetched."""

    def data_url(found: re.Match[str]) -> str:
        image = (_DATA / "images" / found.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(image).decode()})"

    return re.sub(r"url\(images/([\w.-]+\.png)\)", data_url, css)


@functools.cache
def leaflet_head() -> str:
    """``<style>`` and ``<script>`` elements carrying Leaflet whole, for a page's head."""
    script = (_DATA / "leaflet.js").read_text(encoding="utf-8")
    css = _inline_images((_DATA / "leaflet.css").read_text(encoding="utf-8"))
    if "</script" in script.lower() or "</style" in css.lower():  # would end the element early
        raise RuntimeError("the installed Leaflet cannot be inlined into a page")
    return f"<style>{css}</style>\n<script>{script}</script>"
