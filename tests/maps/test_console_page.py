"""The desk console's page as ``maps.console`` builds it: one self-contained shell that loads
nothing from anywhere, holds no data, builds no HTML from text, and the policy it is sent with."""

from __future__ import annotations

import json
import re
from functools import partial
from html.parser import HTMLParser

import pytest

from dispatch.contract.sheets import read_table, read_workbook
from dispatch.errors import InputError
from maps import OSM_TILES, Tiles
from maps.base import page_policy
from maps.console import (
    AT_RISK_MIN,
    JOB_POLL_MS,
    LIST_LIMIT,
    REFRESH_S,
    console_page,
)

#: What turns text into markup or code in a browser; the console's script uses none of them.
HTML_SINKS = (
    "innerHTML",
    "outerHTML",
    "insertAdjacentHTML",
    "document.write",
    "eval(",
    "new Function",
    "DOMParser",
    "createContextualFragment",
)


class Elements(HTMLParser):
    """Every start tag of a page, with its attributes, and the text of its scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def parsed() -> Elements:
    elements = Elements()
    elements.feed(console_page())
    return elements


def test_the_page_loads_nothing_from_anywhere() -> None:
    page = console_page()
    assert re.findall(r"(?i)\b(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", page) == []
    elements = parsed()
    for tag, attrs in elements.tags:
        assert "src" not in attrs, f"<{tag} src> fetches something"
        if tag == "link":
            assert attrs.get("href") == "data:,", "only the empty icon, inline"
    assert re.findall(r"url\((?!data:)", page) == []
    assert "@import" not in page


def test_the_script_and_style_are_inline_and_whole() -> None:
    page = console_page()
    elements = parsed()
    (config, script) = elements.scripts
    assert "function showPlan(plan)" in script and "fr-bar" in script
    assert ".fr-bar {" in page and "/*STYLE*/" not in page and "/*SCRIPT*/" not in page
    assert json.loads(config) == {
        "early_band_min": [5.0, 10.0],
        "time_limit_s": 10.0,
        "refresh_s": REFRESH_S,
        "job_poll_ms": JOB_POLL_MS,
        "at_risk_min": AT_RISK_MIN,
        "list_limit": LIST_LIMIT,
    }
    assert 1 <= LIST_LIMIT <= 200, "what GET /v1/problems and /v1/plans accept as ?limit="


def test_the_script_builds_no_html_from_text() -> None:
    (_, script) = parsed().scripts
    assert [sink for sink in HTML_SINKS if sink in script] == []
    assert "textContent" in script


def test_without_a_key_only_the_key_form_shows() -> None:
    """Everything but the key form sits in an element the page starts hidden."""
    hidden: list[str] = []
    shown_forms: list[str] = []

    class Visibility(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.stack: list[tuple[str, bool]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found = dict(attrs)
            inside_hidden = any(h for _, h in self.stack) or "hidden" in found
            if "hidden" in found and found.get("id"):
                hidden.append(str(found["id"]))
            if tag in {"form", "button", "input", "select"} and not inside_hidden:
                shown_forms.append(f"{tag}#{found.get('id')}")
            if tag not in {"input", "meta", "link", "br", "img"}:
                self.stack.append((tag, inside_hidden))

        def handle_endtag(self, tag: str) -> None:
            while self.stack:
                if self.stack.pop()[0] == tag:
                    break

    Visibility().feed(console_page())
    assert "console" in hidden and "forget-key" in hidden
    assert shown_forms == ["form#key-form", "input#key-input", "button#None"]
    assert 'type="password"' in console_page()


def test_every_control_has_a_label() -> None:
    elements = parsed()
    labelled = {attrs.get("for") for tag, attrs in elements.tags if tag == "label"}
    controls = [
        attrs.get("id")
        for tag, attrs in elements.tags
        if tag in {"input", "select", "progress"} and attrs.get("type") != "hidden"
    ]
    assert controls and [c for c in controls if c not in labelled] == []


def test_the_file_pickers_offer_only_files_the_service_reads() -> None:
    # They offered .xls, which the service refuses: the desk picked one and got a 422.
    accepted = {
        attrs["id"]: (attrs.get("accept") or "").split(",")
        for tag, attrs in parsed().tags
        if tag == "input" and attrs.get("type") == "file" and attrs["id"] != "json-file"
    }
    assert set(accepted) == {"sheets-technicians", "sheets-visits", "sheets-workbook"}
    for field, suffixes in accepted.items():
        read = read_workbook if field == "sheets-workbook" else partial(read_table, sheet="visits")
        for suffix in suffixes:
            with pytest.raises(InputError) as caught:
                read(f"day{suffix}", b"")  # empty: refused, but as a file it reads
            assert "send a" not in caught.value.errors[0].message, (field, suffix)
            assert "must be an .xlsx" not in caught.value.errors[0].message, (field, suffix)


def test_stored_days_and_plans_are_picked_from_lists() -> None:
    """Two labelled lists, each in its own form with its button, filled from the service's
    lists (asked with ``limit`` only: the API refuses parameters it does not know), and a
    field for an id the lists do not reach."""
    elements = parsed()
    labels = {attrs.get("for") for tag, attrs in elements.tags if tag == "label"}
    forms: dict[str, list[str]] = {}
    current = ""
    for tag, attrs in elements.tags:
        if tag == "form":
            current = str(attrs.get("id"))
        forms.setdefault(current, []).append(f"{tag}#{attrs.get('id')}")
    assert forms["open-day-form"][:3] == ["form#open-day-form", "label#None", "select#open-problem"]
    assert forms["open-plan-form"][:3] == ["form#open-plan-form", "label#None", "select#open-plan"]
    assert forms["open-id-form"][:3] == ["form#open-id-form", "label#None", "input#open-id"]
    assert {"open-problem", "open-plan", "open-id"} <= labels
    (_, script) = elements.scripts
    assert "`?limit=${CONFIG.list_limit}`" in script
    assert "`/v1/problems${query}`" in script and "`/v1/plans${query}`" in script


def test_the_policy_allows_the_service_and_the_tiles_only() -> None:
    blank = page_policy(Tiles(None))
    assert "connect-src 'self'" in blank and "frame-ancestors 'none'" in blank
    assert "img-src 'self' data: blob:;" in blank
    assert "'unsafe-eval'" not in blank and "default-src 'none'" in blank
    osm = page_policy(OSM_TILES)
    assert "img-src 'self' data: blob: https://tile.openstreetmap.org;" in osm
    own = page_policy(Tiles("https://{s}.tiles.example.com/{z}/{x}/{y}.png"))
    assert "https://*.tiles.example.com;" in own
    odd = page_policy(Tiles("http://tiles-{s}.example.com/{z}/{x}/{y}.png"))
    assert "img-src 'self' data: blob: http:;" in odd
