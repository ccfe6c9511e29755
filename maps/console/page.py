"""The desk console: one page, a static shell with no data of any day in it, that a dispatcher
runs the day from (upload a day or pick a stored day or plan from the service's lists, solve
it and watch the search, read the plan as a timeline beside the map, post delays and
cancellations and see whom to call).

How it is guarded. A browser sends no ``Authorization`` header when it opens a page, and a
dispatcher's key must never travel in a URL (``api.auth``: URLs end up in logs, histories and
proxies). So the page itself is public and holds nothing: the same bytes for everyone, with
no plan, no day and no key in them. It asks for the key once (a password field), keeps it in
the tab's ``sessionStorage`` (gone when the tab closes, never written to a cookie, so no
request carries it unasked and there is no cross-site request to forge) and sends it as
``Authorization: Bearer`` on every call to the JSON API, which checks it as it checks any
client's. A 401 or 403 forgets the key and shows the form again. The desk's map
(``GET /v1/plans/{id}/map``) needs the key as well: the page fetches it with the header and
shows it in an ``<iframe sandbox="allow-scripts" srcdoc=…>``, an opaque origin that can run
Leaflet but cannot read this page's storage.

Why plain JavaScript and no library. The issue suggests htmx or a small component library from
the npm registry. htmx earns its keep when the server renders HTML fragments; this page's data
is the API's JSON (plans, jobs, versions, changes), and its main view is a timeline whose bars
are positioned by arithmetic on times, which htmx does not do. Using it would mean a second,
HTML rendering of every resource on the server for one page, and a vendored script (pinned,
checked, served) to keep up to date, in exchange for replacing a few ``fetch`` calls. The page
is one file of about 800 lines of dependency-free JavaScript (``console.js``) over the DOM,
with no build step; Leaflet stays what draws the map, inside the map page as before.

What reaches the page. Every text of a day (customers, addresses, phones, reasons, names, ids)
is put into the DOM as text (``textContent`` through one helper, ``el``), never as HTML;
``tel:`` links keep only digits and ``+``. The script and the style are read from this
package's files (``console.js``, ``console.css``, ``console.html``) and written into the page,
so nothing is fetched from anywhere but the service: the page works with no internet.
:func:`maps.base.page_policy` is the Content-Security-Policy the service sends with it, as with
every page of it.

What must not live here: HTTP (the route is ``api.routes.console``), or any data of a day.
"""

from __future__ import annotations

import functools
from importlib import resources

from dispatch.contract.schema import PolicyIn
from maps.base import script_json

__all__ = [
    "AT_RISK_MIN",
    "JOB_POLL_MS",
    "LIST_LIMIT",
    "REFRESH_S",
    "console_page",
]

#: How often the page asks whether the plan has a new version (from a driver's phone or
#: another desk), in seconds: often enough that a report shows within a glance, rarely enough
#: that 50 open consoles cost the service 10 small requests a second.
REFRESH_S = 5

#: How often the page asks how a solve is going while it runs, in milliseconds.
JOB_POLL_MS = 500

#: A visit with a window is shown at risk when its service is planned to start less than this
#: many minutes before the window closes (an appointment: when the technician is planned to
#: reach the door after the policy's arrival band); late when it starts after.
AT_RISK_MIN = 15

#: How many stored days and how many plans the page offers to pick from, the newest first
#: (``GET /v1/problems?limit=`` and ``GET /v1/plans?limit=``, which allow 1 to 200): a week or
#: two of a desk's work; an older one is opened by typing its id.
LIST_LIMIT = 50

_FILES = resources.files("maps.console")


def _text(name: str) -> str:
    return (_FILES / name).read_text(encoding="utf-8")


@functools.cache
def console_page() -> str:
    """The console's HTML: the shell, its style and script inline, and its settings.

    Returns
    -------
    The same page for every caller (nothing of a day or a key is in it).

    Raises
    ------
    RuntimeError
        When the packaged script or style holds text that would end its element early.
    """
    script, style = _text("console.js"), _text("console.css")
    if "</script" in script.lower() or "</style" in style.lower():
        raise RuntimeError("the console's script or style cannot be inlined into its page")
    policy = PolicyIn()
    config = {
        "early_band_min": list(policy.early_arrival_min),
        "time_limit_s": policy.time_limit_s,
        "refresh_s": REFRESH_S,
        "job_poll_ms": JOB_POLL_MS,
        "at_risk_min": AT_RISK_MIN,
        "list_limit": LIST_LIMIT,
    }
    return (
        _text("console.html")
        .replace("/*STYLE*/", style)
        .replace("/*CONFIG*/", script_json(config))
        .replace("/*SCRIPT*/", script)
    )
