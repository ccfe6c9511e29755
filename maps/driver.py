"""The driver's page: one route on a map with big numbered markers and its line (along the roads
when the plan carries them, else in straight legs), and beside it (below it on a phone) the
stops in order with the planned arrival, the window promised to the customer, the address and
the phone to tap.

On a day with spare parts the list also holds each depot call in its place (the first ones, the
pick list, say what to load before leaving), with the store's address, opening hours and the
parts to take, and each stop names the parts its visit uses and where they come from; the map
marks the depots with a square store pin. The contract has no events for a depot call, so it
has no buttons.

Served over HTTP, the page also reports from the field: per stop, buttons Arrived, Started,
Done, Could not complete (asks for a reason) and Undo arrival (takes back an Arrived or Started
tapped at the wrong stop: ``retracted``), and for the route Running late (asks for minutes).
A tap is stamped with the phone's clock (``HH:MM`` in the plan's timezone), queued in the
phone's ``localStorage`` and posted, oldest first and one tap per batch, to the route's
``events`` beside the page, with the driver's link (``Authorization: Bearer``); the batch's
``at`` is the latest of the phone's clock, the tap's time and the plan's last re-plan. When the
plan was re-planned meanwhile by the desk or another phone (a 409, or a 422 on the batch's
``at``: that re-plan was at a time after the phone's clock), the page reads its route again
(its version and last re-plan) and sends the tap again, its own ``at`` as tapped (a report may
be before the last re-plan, docs/contract.md); a 422 on ``at`` no re-plan explains (the phone's
clock runs ahead of the service's) is a refusal. Any other refusal (4xx) is shown with the
server's message and the tap dropped; a network failure, a 408, a 429 or a 5xx is retried with
backoff, at once when the phone is back online, as the same batch (its ``at`` kept: the answer
may have been lost after the service stored it, and the tap's ``report_id`` takes the same
batch once only; timed afresh, it was refused and the stored delay said "Not recorded"). The
answer (the route in the new version)
updates each stop's status. The queue outlives a reload; the page
registers a small service worker (:func:`driver_worker`, served beside it as ``offline.js``)
that keeps its last copy, so it opens again without signal.

The page data reaches the script as JSON (:func:`~maps.base.script_json`) in a
``<script type="application/json">``, and the script writes text only with ``textContent``: no
typed text becomes HTML or script. Opened from a file (``fieldroute map``), the buttons hide."""

from __future__ import annotations

import folium

from dispatch.contract.schema import (
    DriverDepotStopOut,
    DriverPartOut,
    DriverRouteOut,
    DriverStopOut,
    LocationIn,
    PlanOut,
    ProblemIn,
)
from dispatch.desk.driver import driver_route
from dispatch.units import counted, format_iso_clock
from maps.base import (
    LegPath,
    Places,
    Point,
    Popup,
    RawHtml,
    Tiles,
    Tooltip,
    colour,
    draw_line,
    escape,
    new_map,
    page_of,
    road_line,
    route_line,
    script_json,
    typed,
)

__all__ = ["driver_page", "driver_worker"]

_STYLE = """<style>
html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; font: 16px/1.4 system-ui, sans-serif; }
.fr-head { order: 0; padding: 8px 12px; background: #1f2d3d; color: #fff; }
.fr-head b { font-size: 18px; }
.folium-map { order: 1; flex: 0 0 42vh; height: 42vh !important; width: 100% !important; }
.fr-list { order: 2; flex: 1 1 auto; overflow-y: auto; margin: 0; padding: 0; list-style: none; }
.fr-item { display: flex; gap: 10px; padding: 10px 12px; border-bottom: 1px solid #ddd; }
.fr-item .fr-num { flex: 0 0 34px; height: 34px; border-radius: 50%; color: #fff;
  font-weight: bold; display: flex; align-items: center; justify-content: center; }
.fr-item .fr-what { flex: 1; min-width: 0; overflow-wrap: anywhere; }
.fr-eta { font-size: 20px; font-weight: bold; }
.fr-tell { color: #064; }
.fr-phone { display: inline-block; margin-top: 4px; padding: 6px 12px; border-radius: 18px;
  background: #0a7d32; color: #fff; text-decoration: none; font-weight: bold; }
.fr-break { padding: 6px 12px; background: #f3f3f3; color: #555; }
.fr-done { opacity: .5; }
.fr-pin { display: flex; align-items: center; justify-content: center; width: 36px;
  height: 36px; border-radius: 50%; border: 3px solid #fff; color: #fff;
  font: bold 17px/1 system-ui, sans-serif; box-shadow: 0 0 4px rgba(0, 0, 0, .7);
  box-sizing: border-box; }
.fr-base { width: 40px; height: 26px; border-radius: 4px; font-size: 12px; }
.fr-store { border-radius: 4px; }
.fr-depot { display: flex; gap: 10px; padding: 10px 12px; border-bottom: 1px solid #ddd;
  background: #fbf4e8; }
.fr-depot .fr-num { flex: 0 0 34px; height: 34px; border-radius: 4px; color: #fff;
  font-weight: bold; display: flex; align-items: center; justify-content: center; }
.fr-depot .fr-what { flex: 1; min-width: 0; overflow-wrap: anywhere; }
.fr-parts { margin: 4px 0 0; padding-left: 20px; }
.fr-need { margin-top: 4px; }
.fr-head { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 12px; }
.fr-title { flex: 1 1 auto; min-width: 0; overflow-wrap: anywhere; }
.fr-sync:empty { display: none; }
.fr-sync { flex: 0 0 100%; font-size: 15px; color: #ffe08a; }
.fr-state { margin-top: 4px; font-weight: bold; color: #333; }
.fr-state:empty { display: none; }
.fr-acts { display: grid; grid-template-columns: 1fr 1fr; gap: 8px; margin-top: 8px; }
.fr-btn { min-height: 48px; padding: 8px 10px; border: 2px solid #1f2d3d; border-radius: 8px;
  background: #fff; color: #1f2d3d; font: bold 17px/1.2 system-ui, sans-serif;
  cursor: pointer; touch-action: manipulation; }
.fr-btn:focus-visible { outline: 4px solid #ffbf47; outline-offset: 1px; }
.fr-btn:disabled { opacity: .45; cursor: default; }
.fr-btn.fr-no { border-color: #a4262c; color: #a4262c; }
.fr-late { background: #ffbf47; border-color: #ffbf47; color: #1f2d3d; }
.fr-static .fr-acts, .fr-static .fr-late { display: none; }
.fr-item.fr-done .fr-acts { display: none; }
.fr-msg { position: fixed; left: 8px; right: 8px; bottom: 8px; z-index: 2000; display: flex;
  gap: 8px; align-items: center; padding: 10px 12px; border-radius: 8px; background: #a4262c;
  color: #fff; box-shadow: 0 2px 8px rgba(0, 0, 0, .4); overflow-wrap: anywhere; }
.fr-msg[hidden] { display: none; }
.fr-msg span { flex: 1; min-width: 0; }
.fr-ask { width: min(92vw, 420px); border: 0; border-radius: 10px; padding: 16px; }
.fr-ask label { display: block; font-weight: bold; margin-bottom: 8px; }
.fr-ask input { width: 100%; box-sizing: border-box; min-height: 48px; font-size: 18px; }
.fr-ask menu { display: flex; gap: 8px; justify-content: flex-end; margin: 12px 0 0;
  padding: 0; }
@media (min-width: 800px) {
  body { display: grid; grid-template-columns: 62% 38%; grid-template-rows: auto 1fr; }
  .fr-head { grid-column: 1 / 3; }
  .folium-map { grid-row: 2; grid-column: 1; height: 100% !important; min-height: 0; }
  .fr-list { grid-row: 2; grid-column: 2; min-height: 0; }
}
</style>"""

#: The colour of a depot: its pin, its calls in the list.
_STORE = "#5b3a1e"

_VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'

#: What a stop's status line says before the script takes over (the script says the same).
_STATE = {
    "planned": "",
    "arrived": "Arrived",
    "in_progress": "Started",
    "done": "Done",
    "not_completed": "Could not complete",
}
#: When each status happened, among the stop's reported times.
_STATE_TIME = {
    "arrived": "actual_arrival",
    "in_progress": "actual_start",
    "done": "actual_departure",
    "not_completed": "actual_departure",
}

#: The buttons of a stop: the event each posts, and its label.
_BUTTONS = (
    ("arrived", "Arrived", "fr-btn"),
    ("started", "Started", "fr-btn"),
    ("completed", "Done", "fr-btn"),
    ("not_completed", "Could not complete", "fr-btn fr-no"),
    ("retracted", "Undo arrival", "fr-btn fr-no"),
)

_DIALOG = """<dialog class="fr-ask" id="fr-ask" aria-labelledby="fr-ask-label">
<form method="dialog"><label id="fr-ask-label" for="fr-ask-input"></label>
<input id="fr-ask-input" autocomplete="off" required>
<menu><button class="fr-btn" type="button" value="cancel" id="fr-ask-cancel">Cancel</button>
<button class="fr-btn fr-late" type="submit" value="ok">Send</button></menu></form></dialog>
<div class="fr-msg" id="fr-msg" role="alert" hidden><span id="fr-msg-text"></span>
<button class="fr-btn" type="button" id="fr-msg-close">OK</button></div>"""

# The reporting script: plain, small, and data only from the JSON block (#fr-data). Text
# reaches the page through textContent alone.
_SCRIPT = r"""<script>
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("fr-data").textContent);
  var token = new URLSearchParams(location.search).get("token");
  if (!/^https?:$/.test(location.protocol)) {
    document.body.classList.add("fr-static");
    return;
  }
  var target = new URL("events", location.href);
  target.search = "";
  var route = new URL(target.href);  // the route as JSON: its version and last re-plan
  route.pathname = route.pathname.replace(/\/events$/, "");
  var key = "fieldroute:taps:" + data.plan_id + ":" + data.technician_id;
  var PAGES = "fieldroute-driver-pages";
  var SAID = {arrived: "Arrived", started: "Started", in_progress: "Started",
    completed: "Done", done: "Done", not_completed: "Could not complete", planned: "",
    retracted: "Arrival taken back", delay: "Running late"};
  var WHEN = {arrived: "actual_arrival", in_progress: "actual_start", done: "actual_departure",
    not_completed: "actual_departure"};
  var sending = false, wait = 0, timer = null;
  var clock = new Intl.DateTimeFormat("en-GB", {timeZone: data.timezone, hour: "2-digit",
    minute: "2-digit", hourCycle: "h23"});

  function now() {
    var parts = {};
    clock.formatToParts(new Date()).forEach(function (p) { parts[p.type] = p.value; });
    return parts.hour + ":" + parts.minute;
  }
  function read() {
    try { return JSON.parse(localStorage.getItem(key)) || []; } catch (e) { return []; }
  }
  function write(taps) { localStorage.setItem(key, JSON.stringify(taps)); }
  function item(visitId) {
    var found = null;
    document.querySelectorAll(".fr-item").forEach(function (li) {
      if (li.dataset.visit === visitId) found = li;
    });
    return found;
  }
  function state(li, text, finished) {
    li.querySelector(".fr-state").textContent = text;
    li.classList.toggle("fr-done", finished);
  }
  function tell(text) {
    document.getElementById("fr-msg-text").textContent = text;
    document.getElementById("fr-msg").hidden = false;
  }
  function sync(text) { document.getElementById("fr-sync").textContent = text; }
  // What the service last said of each stop; a tap not yet sent is shown over it.
  var known = {};
  document.querySelectorAll(".fr-item").forEach(function (li) {
    known[li.dataset.visit] = [li.querySelector(".fr-state").textContent,
      li.classList.contains("fr-done")];
  });
  function pending() {
    var taps = read();
    document.querySelectorAll(".fr-item").forEach(function (li) {
      var said = known[li.dataset.visit];
      if (said) state(li, said[0], said[1]);
    });
    taps.forEach(function (tap) {
      var li = tap.event.visit_id && item(tap.event.visit_id);
      if (li) state(li, SAID[tap.event.type] + " " + tap.at + " \u00b7 not sent yet", false);
    });
    sync(taps.length ? taps.length + " report(s) waiting to be sent" : "");
  }
  function shown(view) {
    data.at = view.at || data.at;
    data.version = view.version;
    var order = [];
    view.stops.forEach(function (stop) {
      order.push(stop.visit_id);
      var li = item(stop.visit_id);
      if (!li) return;
      var time = stop[WHEN[stop.status]];
      var text = SAID[stop.status] + (time ? " " + time.slice(11, 16) : "");
      known[stop.visit_id] = [text, stop.status === "done" || stop.status === "not_completed"];
      state(li, text, known[stop.visit_id][1]);
    });
    var calls = (view.depot_stops || []).map(function (call) {
      return call.depot_id + "@" + (call.before_visit_id || "");
    });
    if (order.join(" ") !== data.stops.join(" ") || calls.join(" ") !== data.calls.join(" ")) {
      tell("Your route changed: reload the page to see it.");
    }
  }
  function refusal(answer) {
    var text = (answer && answer.detail) || "the server refused this report";
    ((answer && answer.errors) || []).forEach(function (e) { text += "; " + e.message; });
    return text;
  }
  function later() {
    wait = Math.min(wait ? wait * 2 : 2000, 60000);
    clearTimeout(timer);
    timer = setTimeout(send, wait);
  }
  function drop(id) {
    write(read().filter(function (tap) { return tap.id !== id; }));
  }
  // The batch time a tap was sent with, kept until the service answers: sent again after a
  // lost answer under its report_id, it must be the same batch (another time is refused).
  function sentAt(id, at) {
    write(read().map(function (tap) {
      if (tap.id === id) tap.sent = at;
      return tap;
    }));
  }
  // Whether the service refused the batch's time: the plan was re-planned since the page
  // last heard of it (by the desk or another phone), at a time after this phone's clock.
  function stale(answer) {
    return ((answer && answer.errors) || []).some(function (e) { return e.path === "at"; });
  }
  // Read the route as it is now (its version and last re-plan) and show it.
  function catchUp() {
    return fetch(route, {headers: {"Authorization": "Bearer " + token}, cache: "no-store"})
      .then(function (response) {
        if (!response.ok) throw new Error("the route could not be read: " + response.status);
        return response.json();
      })
      .then(shown);
  }
  // The service refused the tap for good: say why, and go on with the next.
  function refuse(tap, answer) {
    drop(tap.id);
    tell("Not recorded (" + SAID[tap.event.type || ""] + " " + tap.at + "): " + refusal(answer));
    pending();
    send();
  }
  function send() {
    var taps = read();
    pending();
    if (sending || !taps.length) return;
    if (!token) {
      tell("Open this page from the link the desk sent you to report from it.");
      return;
    }
    var tap = taps[0];
    var at = tap.sent || [now(), tap.at, data.at || "00:00"].sort().pop();
    sentAt(tap.id, at);
    sending = true;
    fetch(target, {method: "POST", headers: {"Content-Type": "application/json",
      "Authorization": "Bearer " + token},
      body: JSON.stringify({at: at, events: [tap.event], report_id: tap.id})})
      .then(function (response) {
        return response.json().catch(function () { return null; }).then(function (answer) {
          sending = false;
          if (response.ok) {
            wait = 0;
            drop(tap.id);
            shown(answer);
            send();
          } else if ((response.status === 422 && stale(answer)) || response.status === 409) {
            // Re-planned elsewhere meanwhile: send the tap again after that re-plan. The
            // tap's own time stays as tapped (a report may be before the last re-plan).
            sending = true;  // nothing is sent until the route is read
            sentAt(tap.id, undefined);  // refused, nothing stored: timed afresh
            catchUp().then(function () {
              sending = false;
              if (response.status === 409) later();
              else if (data.at > at) send();
              else refuse(tap, answer);  // no re-plan explains it: the phone's clock is off
            }, function () { sending = false; later(); });
          } else if (response.status >= 400 && response.status < 500 &&
                     [408, 429].indexOf(response.status) < 0) {
            refuse(tap, answer);
          } else {
            later();
          }
        });
      }, function () { sending = false; later(); });
  }
  function tap(event) {
    var taps = read();
    var at = now();
    if (event.type !== "delay" && event.type !== "retracted") event.at = at;
    taps.push({id: Date.now() + "-" + Math.random().toString(36).slice(2), at: at,
      event: event});
    write(taps);
    wait = 0;
    send();
  }
  var ask = document.getElementById("fr-ask");
  var input = document.getElementById("fr-ask-input");
  var asked = null;
  function question(label, type, then) {
    document.getElementById("fr-ask-label").textContent = label;
    input.type = type;
    input.value = "";
    if (type === "number") { input.min = "1"; input.max = "600"; input.inputMode = "numeric"; }
    else { input.removeAttribute("min"); input.removeAttribute("max"); input.maxLength = 500; }
    asked = then;
    ask.showModal();
  }
  ask.addEventListener("close", function () {
    var then = asked;
    asked = null;
    if (ask.returnValue === "ok" && then && input.value.trim()) then(input.value.trim());
  });
  document.getElementById("fr-ask-cancel").addEventListener("click", function () {
    ask.close("cancel");
  });
  document.getElementById("fr-msg-close").addEventListener("click", function () {
    document.getElementById("fr-msg").hidden = true;
  });
  document.querySelectorAll(".fr-acts .fr-btn").forEach(function (button) {
    button.addEventListener("click", function () {
      var visitId = button.closest(".fr-item").dataset.visit;
      var type = button.dataset.event;
      if (type === "not_completed") {
        question("Why could it not be completed?", "text", function (reason) {
          tap({type: type, visit_id: visitId, reason: reason});
        });
      } else {
        tap({type: type, visit_id: visitId});
      }
    });
  });
  document.getElementById("fr-late").addEventListener("click", function () {
    question("How many minutes late are you?", "number", function (minutes) {
      tap({type: "delay", technician_id: data.technician_id, minutes: Number(minutes),
        reason: "reported by the driver"});
    });
  });
  window.addEventListener("online", function () { wait = 0; send(); });
  if ("serviceWorker" in navigator && token) {
    // The worker keeps each copy of the page it serves; the first one it did not serve.
    var first = !navigator.serviceWorker.controller;
    navigator.serviceWorker.register(new URL("offline.js" + location.search, location.href))
      .then(function () {
        if (!first) return null;
        return caches.open(PAGES).then(function (kept) { return kept.add(location.href); });
      })
      .catch(function () { /* the page works without it, only not offline */ });
  }
  send();
})();
</script>"""

# The service worker (``offline.js``): the page from the network when there is one, else its
# last copy. Everything else (the reports) goes to the network as it is, from the worker (so
# that it fails as the page's loads do when there is no signal).
_WORKER = """"use strict";
var PAGES = "fieldroute-driver-pages";
self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });
self.addEventListener("fetch", function (event) {
  if (event.request.mode !== "navigate" || event.request.method !== "GET") {
    event.respondWith(fetch(event.request));  // the reports: to the network, as they are
    return;
  }
  event.respondWith(caches.open(PAGES).then(function (cache) {
    return fetch(event.request).then(function (response) {
      if (response.ok) cache.put(event.request, response.clone());
      return response;
    }, function () {
      return cache.match(event.request).then(function (kept) {
        return kept || Response.error();
      });
    });
  }));
});
"""


def driver_worker() -> str:
    """The driver page's service worker, served beside the page as ``offline.js``: it answers
    the page's loads from the network, and from the last copy it kept when there is none."""
    return _WORKER


def _pin(label: str, fill: str, css_class: str = "fr-pin", *, up: int = 0) -> folium.DivIcon:
    """A marker's pin, centred on its place, or ``up`` pixels above it."""
    return folium.DivIcon(
        html=f'<div class="{css_class}" style="background:{fill}">{escape(label)}</div>',
        icon_size=(36, 36),
        icon_anchor=(18, 18 + up),
        class_name="fr-icon",
    )


def _tell(stop: DriverStopOut) -> str:
    if stop.appointment:
        return f"agreed time {escape(stop.appointment)}"
    if stop.promised_window is not None:
        window = stop.promised_window
        start, end = format_iso_clock(window.start), format_iso_clock(window.end)
        return f"tell the customer {escape(start)}&ndash;{escape(end)}"
    return ""


def _item(stop: DriverStopOut, fill: str) -> str:
    phone = (
        f'<a class="fr-phone" href="tel:{escape(stop.phone)}">Call {typed(stop.phone)}</a>'
        if stop.phone
        else ""
    )
    place = _place(stop.location, stop.address)
    notes = f"<div>{typed(stop.notes)}</div>" if stop.notes else ""
    needs = (
        f'<div class="fr-need">Parts: {", ".join(_need(part) for part in stop.parts)}</div>'
        if stop.parts
        else ""
    )
    done = " fr-done" if stop.status in ("done", "not_completed") else ""
    who = typed(stop.customer or stop.visit_id)
    buttons = "".join(
        f'<button type="button" class="{css}" data-event="{event}">{label}</button>'
        for event, label, css in _BUTTONS
    )
    return (
        f'<li class="fr-item{done}" id="stop-{stop.sequence}" data-visit="{escape(stop.visit_id)}">'
        f'<div class="fr-num" style="background:{fill}">{stop.sequence}</div>'
        f'<div class="fr-what"><span class="fr-eta">{escape(format_iso_clock(stop.eta))}</span> '
        f'<span class="fr-tell">{_tell(stop)}</span>'
        f"<div><b>{who}</b> · {typed(stop.kind)} · "
        f"{stop.duration_min:g} min</div><div>{place}</div>{notes}{needs}{phone}"
        f'<div class="fr-state" aria-live="polite">{escape(_state(stop))}</div>'
        f'<div class="fr-acts" role="group" aria-label="Report on stop {stop.sequence}: '
        f'{escape(stop.customer or stop.visit_id)}">'
        f"{buttons}</div></div></li>"
    )


def _need(part: DriverPartOut) -> str:
    """One part a visit uses, and where it comes from."""
    if part.source == "van":
        source = "in the van"
    else:
        source = f"picked up at {typed(part.depot_id)} on the way"
    return f"{part.quantity} &times; <b>{typed(part.part)}</b> {source}"


def _place(location: LocationIn | None, address: str) -> str:
    """An address, a link that opens the place in the phone's maps when it has coordinates."""
    place = typed(address) if address else ""
    if location is None:
        return place
    where = f"geo:{location.lat:.6f},{location.lon:.6f}"
    return f'<a href="{where}">{place or "open in maps"}</a>'


def _call(number: int, call: DriverDepotStopOut) -> str:
    """A depot call as a list entry: when, which store, where, its hours and what to take."""
    title = "Before leaving: load at" if call.before_leaving else "Depot call:"
    store = typed(call.name or call.depot_id)
    ident = f" ({typed(call.depot_id)})" if call.name else ""
    opening = f"open {escape(call.opening.start)}&ndash;{escape(call.opening.end)}"
    parts = "".join(
        f"<li>{item.quantity} &times; <b>{typed(item.part)}</b></li>" for item in call.parts
    )
    return (
        f'<li class="fr-depot" id="depot-{number}" data-depot="{escape(call.depot_id)}">'
        f'<div class="fr-num" style="background:{_STORE}" aria-hidden="true">D</div>'
        '<div class="fr-what">'
        f'<span class="fr-eta">{escape(format_iso_clock(call.arrival))}</span> '
        f"<b>{title} {store}</b>{ident}"
        f"<div>{_place(call.location, call.address)} · {opening}</div>"
        f'<ul class="fr-parts" aria-label="Parts to take">{parts}</ul></div></li>'
    )


def _state(stop: DriverStopOut) -> str:
    """The stop's status line: what was reported, and when."""
    said = _STATE[stop.status]
    field = _STATE_TIME.get(stop.status)
    moment = getattr(stop, field) if field else None
    return f"{said} {format_iso_clock(moment)}" if moment else said


def _data(route: DriverRouteOut) -> str:
    """What the reporting script reads: the route's identity, clock and stops, as JSON."""
    data = {
        "plan_id": route.plan_id,
        "technician_id": route.technician_id,
        "timezone": route.timezone,
        "version": route.version,
        "at": route.at,
        "stops": [stop.visit_id for stop in route.stops],
        "calls": [f"{call.depot_id}@{call.before_visit_id or ''}" for call in route.depot_stops],
    }
    return f'<script type="application/json" id="fr-data">{script_json(data)}</script>'


def _list(route: DriverRouteOut, fill: str) -> str:
    # Calls first: one at the same minute as a stop comes before it (sorted is stable).
    entries: list[tuple[str, str]] = [
        (call.arrival, _call(number, call))
        for number, call in enumerate(route.depot_stops, start=1)
    ]
    entries.extend((stop.eta, _item(stop, fill)) for stop in route.stops)
    for pause in route.breaks:
        start, end = format_iso_clock(pause.start), format_iso_clock(pause.end)
        text = f"Break {escape(start)}&ndash;{escape(end)}"
        entries.append((pause.start, f'<li class="fr-break">{text}</li>'))
    entries.sort(key=lambda entry: entry[0])
    if route.no_route is not None:
        said = f"No route today: {escape(route.no_route)}"
        entries.append(("", f'<li class="fr-break fr-no-route">{said}</li>'))
    elif not entries:
        entries.append(("", '<li class="fr-break">No visits today.</li>'))
    return f'<ol class="fr-list">{"".join(html for _, html in entries)}</ol>'


def _stores(route: DriverRouteOut, layer: folium.FeatureGroup, base: Point | None) -> list[Point]:
    """A square store pin on ``layer`` for each depot the route calls at, its popup linking to
    each call in the list (just above the technician's ``base`` when they are based there);
    returns where they are."""
    stores: dict[str, list[tuple[int, DriverDepotStopOut]]] = {}
    for number, call in enumerate(route.depot_stops, start=1):
        if call.location is not None:
            stores.setdefault(call.depot_id, []).append((number, call))
    where: list[Point] = []
    for visits in stores.values():
        first = visits[0][1]
        assert first.location is not None
        point = (first.location.lat, first.location.lon)
        name = escape(first.name or first.depot_id)
        links = "<br>".join(
            f'<a href="#depot-{number}">{escape(format_iso_clock(call.arrival))} '
            f"{'load before leaving' if call.before_leaving else 'call'}</a>"
            for number, call in visits
        )
        folium.Marker(
            point,
            icon=_pin("D", _STORE, "fr-pin fr-store", up=32 if point == base else 0),
            tooltip=Tooltip(f"depot {name}"),
            popup=Popup(f"<b>{name}</b><br>{links}"),
        ).add_to(layer)
        where.append(point)
    return where


def driver_page(
    plan: PlanOut,
    problem: ProblemIn,
    technician_id: str,
    *,
    tiles: Tiles,
    path: LegPath | None = None,
) -> str:
    """``technician_id``'s route of ``plan`` as one self-contained HTML page for a phone.

    The route is drawn along its road line when the plan carries one (``RouteOut.geometry``,
    through the driver view); otherwise ``path`` gives a leg's road geometry when the travel
    provider knows it, and legs without one are drawn straight. An unknown technician is
    ``NotFoundError``.
    """
    route = driver_route(
        plan.model_dump(mode="json"), problem.model_dump(mode="json"), technician_id
    )
    places = Places(problem)
    index = [t.id for t in problem.technicians].index(technician_id)
    fill = colour(index)
    name = route.technician_name or technician_id
    chart = new_map(tiles, title=f"{name} · {route.date}")
    root = page_of(chart)
    root.header.add_child(RawHtml(_VIEWPORT), name="viewport")
    root.header.add_child(RawHtml(_STYLE), name="fieldroute_style")
    leaves, back = format_iso_clock(route.start_time), format_iso_clock(route.end_time)
    span = f"{escape(leaves)}&ndash;{escape(back)}" if route.start_time else ""
    head = (
        f'<div class="fr-head"><span class="fr-title"><b>{typed(name)}</b> · '
        f"{escape(route.date)} · {counted(len(route.stops), 'stop')} · "
        f"{route.distance_km:.1f} km · "
        f"{span}</span>"
        '<button type="button" class="fr-btn fr-late" id="fr-late">Running late</button>'
        '<div class="fr-sync" id="fr-sync" role="status" aria-live="polite"></div></div>'
    )
    # Header, map, list: in that order on the page whatever order folium writes them in
    # (see the CSS ``order``s).
    root.html.add_child(RawHtml(head), name="fr_head")
    # Markers go in a layer added to the map after their icons are set: added to the map
    # directly, each would first show (and fetch) Leaflet's default image icon.
    layer = folium.FeatureGroup(name=name, control=False)
    seen: list[Point] = []
    base = places.start(technician_id)
    line: list[Point] = []
    if base is not None:
        folium.Marker(
            base, icon=_pin(technician_id, fill, "fr-pin fr-base"), tooltip=Tooltip("base")
        ).add_to(layer)
        seen.append(base)
        line.append(base)
    # The line passes each depot call in its place: before its stop, or after the last one.
    calls: dict[str | None, list[Point]] = {}
    for call in route.depot_stops:
        if call.location is not None:
            calls.setdefault(call.before_visit_id, []).append(
                (call.location.lat, call.location.lon)
            )
    for stop in route.stops:
        line.extend(calls.get(stop.visit_id, []))
        if stop.location is None:
            continue
        where = (stop.location.lat, stop.location.lon)
        folium.Marker(
            where,
            icon=_pin(str(stop.sequence), fill),
            tooltip=Tooltip(f"{stop.sequence}. {escape(format_iso_clock(stop.eta))}"),
            popup=Popup(f'<a href="#stop-{stop.sequence}">stop {stop.sequence}</a>'),
        ).add_to(layer)
        seen.append(where)
        line.append(where)
    line.extend(calls.get(None, []))
    seen.extend(_stores(route, layer, base))
    home = places.end(technician_id)
    if route.stops and home is not None:
        line.append(home)
    # The driver view carries this technician's road line only: no one else's is drawn.
    road = road_line(route.geometry, technician_id=technician_id) if route.stops else None
    if road is not None:
        draw_line(road, fill=fill, weight=6, layer=layer)
        seen.extend(road)
    elif len(line) >= 2:
        draw_line(route_line(line, path), fill=fill, weight=6, layer=layer)
    layer.add_to(chart)
    if seen:
        lats, lons = [p[0] for p in seen], [p[1] for p in seen]
        chart.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]], padding=(24, 24))
    root.html.add_child(RawHtml(_list(route, fill)), name="fr_list")
    root.html.add_child(RawHtml(_DIALOG + _data(route) + _SCRIPT), name="fr_report")
    return root.render()
