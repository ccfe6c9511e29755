"""The time-tracking card as a page: planned against actual, and where the minutes went.

One self-contained HTML file (no script, no CDN: it prints and opens offline), rendered from
``templates/report.html`` with ``dispatch.desk.tracking.DayCard``: a bar chart of each
technician's reported minutes (on the way, waiting at the door, service within its estimate,
service over it), then the card's tables per technician, per kind of visit and per stop. The
chart is SVG drawn here; every bar also carries its minutes in a tooltip and each row its total
as text, so colour is never the only signal. Every id and text of the day is escaped by the
template.
"""

from __future__ import annotations

from dataclasses import dataclass

import jinja2

from dispatch.contract.schema import PlanOut
from dispatch.desk.tracking import DayCard, TimeSpent
from dispatch.units import percent

__all__ = ["report_page"]

#: The chart's parts, in the order they are stacked: (field of TimeSpent, label, colour).
PARTS = (
    ("travel_min", "on the way", "#4c78a8"),
    ("waiting_min", "waiting at the door", "#f2cf5b"),
    ("service_min", "service within its estimate", "#59a14f"),
    ("over_estimate_min", "service over its estimate", "#e15759"),
)

#: Chart geometry (px): label column, bar area, row height.
_LABEL_W, _BARS_W, _ROW_H = 90, 560, 28


@dataclass(frozen=True, slots=True)
class _Segment:
    x: float
    width: float
    minutes: int
    label: str
    colour: str


@dataclass(frozen=True, slots=True)
class _Row:
    technician_id: str
    y: int
    total_min: int
    segments: tuple[_Segment, ...]


def _rows(spent: tuple[TimeSpent, ...]) -> list[_Row]:
    longest = max((t.total_min for t in spent), default=0) or 1
    rows = []
    for i, tech in enumerate(sorted(spent, key=lambda t: t.technician_id)):
        x = float(_LABEL_W)
        segments = []
        for field, label, colour in PARTS:
            minutes = int(getattr(tech, field))
            width = _BARS_W * minutes / longest
            segments.append(_Segment(x, width, minutes, label, colour))
            x += width
        rows.append(_Row(tech.technician_id, i * _ROW_H, tech.total_min, tuple(segments)))
    return rows


_TEMPLATE = jinja2.Environment(
    loader=jinja2.PackageLoader("maps", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
).get_template("report.html")


def _signed(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:+d}" if isinstance(value, int) else f"{value:+.1f}"


def report_page(plan: PlanOut, card: DayCard) -> str:
    """The card of ``plan`` (its latest version) as one HTML page."""
    return _TEMPLATE.render(
        plan=plan,
        card=card,
        rows=_rows(card.spent),
        reported=any(t.total_min for t in card.spent),
        spent={t.technician_id: t for t in card.spent},
        parts=PARTS,
        label_w=_LABEL_W,
        bars_w=_BARS_W,
        row_h=_ROW_H,
        rate=percent,
        signed=_signed,
    )
