"""Wire schemas of the contract (``CONTRACT.md``): the problem a user sends and the plan we send.

Pydantic lives here and only here. These classes check shapes, types, ranges and formats and
reject unknown keys (a typo such as ``apointment`` must not be silently ignored). Types are
strict, for nothing may pass silently: a boolean is not a number, a number is not a string and
a string not a number (``Number``, ``Integer``), and text is valid Unicode (``Text``). Rules
that tie several fields together (ids, windows against each other, the travel matrix's shape)
live in ``dispatch.contract.validate``, which turns a ``ProblemIn`` into the plain domain of
``dispatch.model``.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AllowInfNan, BaseModel, BeforeValidator, ConfigDict, Field, Strict
from pydantic_core import PydanticCustomError

from dispatch.model import AppointmentStart, Policy, TravelSettings, UnassignedCode
from dispatch.units import as_minutes

__all__ = [
    "DATE_PATTERN",
    "LAST_YEAR",
    "MOMENT_PATTERN",
    "STORED_ID_PATTERN",
    "UNPAIRED_SURROGATE",
    "BreakIn",
    "BreakOut",
    "CalendarIn",
    "CancelledIn",
    "CapacityIn",
    "ChangeOut",
    "Clock",
    "DateText",
    "DayRefOut",
    "DelayIn",
    "DepotIn",
    "DepotStopOut",
    "DriverDepotStopOut",
    "DriverPartOut",
    "DriverRouteOut",
    "DriverStopOut",
    "EventBatchIn",
    "EventIn",
    "EveryIn",
    "HorizonProblemIn",
    "HorizonSpanIn",
    "HorizonTechnicianIn",
    "HorizonVisitIn",
    "Integer",
    "KpisOut",
    "LocalMoment",
    "LocationIn",
    "MovedIn",
    "NewVisitIn",
    "NotCompletedIn",
    "Number",
    "PartArrivalIn",
    "PartEventIn",
    "PartIn",
    "PartOut",
    "PickListOut",
    "PlanOut",
    "PolicyIn",
    "PriorityCount",
    "ProblemIn",
    "PromisedWindowOut",
    "RoundIn",
    "RouteOut",
    "StockIn",
    "StopOut",
    "TechnicianIn",
    "Text",
    "TravelIn",
    "TravelSettingsIn",
    "UnassignedOut",
    "UnavailableIn",
    "VisitClockIn",
    "VisitIn",
    "Weekday",
    "WindowIn",
    "WithoutRouteOut",
    "WorkdayIn",
    "unpaired_surrogate",
]

#: A character no encoder can write: half of a UTF-16 pair, alone (JSON ``"\\ud800"``).
_SURROGATE = re.compile(r"[\ud800-\udfff]")
#: What is said of text holding an unpaired surrogate; ``{code}`` is the first one, escaped.
UNPAIRED_SURROGATE = "contains an unpaired surrogate ({code}); send valid Unicode text"


def unpaired_surrogate(text: str) -> str | None:
    """The first unpaired surrogate in ``text``, escaped as JSON spells it (``\\ud800``).

    Returns
    -------
    str or None
        The escape, or ``None`` when ``text`` is valid Unicode.
    """
    found = _SURROGATE.search(text)
    return None if found is None else f"\\u{ord(found.group()):04x}"


def _valid_unicode(value: object) -> object:
    """Refuse a string holding an unpaired surrogate, before any other check of it.

    JSON can spell one (``"\\ud800"``) and ``json.loads`` keeps it, but no UTF-8 encoder
    (database, file, terminal, HTTP answer) can write it. Other values pass on unchanged, for
    the type's own check to refuse.
    """
    if isinstance(value, str):
        code = unpaired_surrogate(value)
        if code is not None:
            raise PydanticCustomError("unpaired_surrogate", UNPAIRED_SURROGATE, {"code": code})
    return value


#: The id of something stored (a problem, plan, job or week) as a request names it: no NUL,
#: which PostgreSQL refuses in any text it compares (``pl_%00`` was a 500 there, a 404 on
#: SQLite); refused as the field it is, on either store.
STORED_ID_PATTERN = r"^[^\x00]*$"

#: Text of the contract: any string of valid Unicode. Every string field of the input is one.
Text = Annotated[str, BeforeValidator(_valid_unicode)]
#: A JSON number, integer or decimal, and finite: ``true``, ``"30"``, ``NaN`` and ``1e999``
#: are refused (pydantic would take the first two as 1 and 30).
Number = Annotated[float, Strict(), AllowInfNan(False)]
#: A JSON integer: ``true``, ``1.5``, ``1.0`` and ``"1"`` are refused.
Integer = Annotated[int, Strict()]
#: The policy's defaults have one home, the domain model: the wire schema shows them in minutes.
_POLICY = Policy()
_TRAVEL = TravelSettings()
#: A date ``YYYY-MM-DD`` of the years 1900-2999: the engine counts days and hours either side
#: of a date, and a year 1 or 9999 ran off the calendar there (a 500, not an error).
DATE_PATTERN = r"^(?:19|2\d)\d{2}-\d{2}-\d{2}$"
#: The last year those patterns allow.
LAST_YEAR = 2999
#: A local moment ``YYYY-MM-DDTHH:MM`` of those years.
MOMENT_PATTERN = r"^(?:19|2\d)\d{2}-\d{2}-\d{2}T(?:[01]\d|2[0-3]):[0-5]\d$"
#: A local clock time ``HH:MM`` on the plan's date; ``24:00`` is the end of the day.
Clock = Annotated[
    Text,
    Field(
        pattern=r"^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$",
        examples=["09:30"],
        description="Local time HH:MM on the plan's date.",
    ),
]
PositiveMinutes = Annotated[Number, Field(gt=0, le=24 * 60)]
#: Minutes within a day, zero allowed: every policy figure in minutes is bounded by it.
DayMinutes = Annotated[Number, Field(ge=0, le=24 * 60)]
#: A distance on Earth: no two points are further apart than half its circumference.
EarthKm = Annotated[Number, Field(ge=0, le=20_050)]
Identifier = Annotated[Text, Field(min_length=1, max_length=64)]
VisitKind = Annotated[
    Literal["install", "repair", "maintenance", "inspection", "delivery", "pickup"],
    BeforeValidator(_valid_unicode),
]
PriorityName = Annotated[
    Literal["urgent", "high", "normal", "low"], BeforeValidator(_valid_unicode)
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocationIn(_Strict):
    """A WGS84 point; ``address`` may ride along."""

    lat: Number = Field(ge=-90, le=90)
    lon: Number = Field(ge=-180, le=180)
    address: Text | None = None


class WindowIn(_Strict):
    """An interval of the day in local clock time."""

    start: Clock
    end: Clock


class BreakIn(_Strict):
    """A break of ``duration_min`` taken somewhere inside ``[start, end]``."""

    start: Clock
    end: Clock
    duration_min: PositiveMinutes


class CapacityIn(_Strict):
    """What a van holds; an absent key means no limit on that quantity."""

    weight_kg: Number | None = Field(default=None, ge=0, le=1e9)
    volume_m3: Number | None = Field(default=None, ge=0, le=1e9)


#: A part number: the catalogue's own code, as the stores write it.
PartNumber = Annotated[Text, Field(min_length=1, max_length=64)]
#: Units of one part: whole, at most this many.
MAX_PART_UNITS = 100_000


class PartIn(_Strict):
    """A quantity of one spare part: what a visit uses, a van or a depot holds."""

    part: PartNumber
    quantity: Integer = Field(default=1, ge=1, le=MAX_PART_UNITS)


class StockIn(_Strict):
    """What a van or a depot holds of one part; zero is allowed (out of stock)."""

    part: PartNumber
    quantity: Integer = Field(ge=0, le=MAX_PART_UNITS)


class PartArrivalIn(_Strict):
    """Stock due at a depot: usable from ``at`` (``YYYY-MM-DDTHH:MM``, local)."""

    part: PartNumber
    quantity: Integer = Field(ge=1, le=MAX_PART_UNITS)
    at: Annotated[
        Text,
        Field(pattern=MOMENT_PATTERN, examples=["2026-11-24T09:00"]),
    ]


class TechnicianIn(_Strict):
    """A technician or a delivery crew (``crew_size`` 2)."""

    id: Identifier
    name: Text = ""
    skills: list[Text] = Field(default_factory=list)
    start: LocationIn | None = None
    end: LocationIn | None = None
    location_index: Integer | None = Field(default=None, ge=0)
    end_location_index: Integer | None = Field(default=None, ge=0)
    shift: WindowIn
    breaks: list[BreakIn] = Field(default_factory=list)
    crew_size: Integer = Field(default=1, ge=1, le=10)
    capacity: CapacityIn | None = None
    service_radius_km: Number | None = Field(default=None, gt=0, le=20_050)
    phone: Text | None = None
    unavailable_from: Clock | None = Field(
        default=None,
        description="Takes no new work from this time (set by an 'unavailable' event).",
    )
    van_stock: list[StockIn] = Field(
        default_factory=list,
        description="Spare parts in the van when the day starts (one entry per part).",
    )


class VisitIn(_Strict):
    """A job at one site."""

    id: Identifier
    customer: Text = ""
    address: Text = ""
    phone: Text = ""
    location: LocationIn | None = None
    location_index: Integer | None = Field(default=None, ge=0)
    kind: VisitKind = "repair"
    duration_min: PositiveMinutes
    appointment: Clock | None = None
    window: WindowIn | None = None
    required_skills: list[Text] = Field(default_factory=list)
    priority: PriorityName = "normal"
    crew_size: Integer = Field(default=1, ge=1, le=10)
    demand: CapacityIn | None = None
    technician: Text | None = None
    preferred_technician: Text | None = None
    notes: Text = ""
    reported_at: Clock | None = Field(
        default=None,
        description="When an urgent fault was reported; it must be reached within "
        "policy.urgent_response_min of it.",
    )
    parts: list[PartIn] = Field(
        default_factory=list,
        description="Spare parts the job uses up (one entry per part): in the van on arrival.",
    )


class DepotIn(_Strict):
    """A service-centre store: where, when open, what it holds and what is due there."""

    id: Identifier
    name: Text = ""
    location: LocationIn | None = None
    location_index: Integer | None = Field(default=None, ge=0)
    opening: WindowIn
    handling_min: PositiveMinutes = Field(
        default=10, description="Minutes a call at the depot takes (parking, the counter)."
    )
    stock: list[StockIn] = Field(default_factory=list)
    arrivals: list[PartArrivalIn] = Field(default_factory=list)


class TravelSettingsIn(_Strict):
    """How travel is measured: ``geodesic`` (the embedded default: straight lines turned into
    driving times by ``circuity`` and ``speed_kmh``) or ``osrm`` (road times and distances from
    the OSRM server or prepared extract the service or CLI was started with, ``--roads``)."""

    provider: Literal["geodesic", "osrm"] = _TRAVEL.provider
    snap_limit_m: Number = Field(
        default=_TRAVEL.snap_limit_m,
        gt=0,
        le=100_000,
        description="osrm: a visit or base farther than this from any road is an input error "
        "naming it, rather than a silent walk to the nearest road.",
    )
    circuity: Number = Field(default=_TRAVEL.circuity, ge=1.0, le=3.0)
    speed_kmh: list[tuple[EarthKm, Annotated[Number, Field(gt=0, le=300)]]] = Field(
        default_factory=lambda: list(_TRAVEL.speed_kmh),
        min_length=1,
        description="Average speed by trip length: (km, km/h) points, interpolated linearly.",
    )


class PolicyIn(_Strict):
    """The desk's rules; every field has a default fit for a city service team."""

    early_arrival_min: tuple[DayMinutes, DayMinutes] = (
        as_minutes(_POLICY.early_band[0]),
        as_minutes(_POLICY.early_band[1]),
    )
    appointment_start: AppointmentStart = Field(
        default=_POLICY.appointment_start,
        description="When an appointment's work starts: `at_time` (at the agreed time, the "
        "technician at the door inside the early band and waiting there) or `on_arrival` (on "
        "reaching the door inside the early band, so the technician leaves sooner).",
    )
    service_radius_km: Number = Field(default=_POLICY.service_radius_km, gt=0, le=20_050)
    time_limit_s: Number = Field(default=_POLICY.time_limit_s, gt=0, le=3600)
    stall_share: Number = Field(
        default=_POLICY.stall_share,
        ge=0,
        le=1,
        description="The search stops once its best plan has not improved for this share of "
        "`time_limit_s`, or sooner on a small day: OR-Tools' after 8 ms per visit, PyVRP's "
        "after 20 ms per visit, each at least 0.05 s; `0` always uses the whole limit.",
    )
    urgent_response_min: Number = Field(
        default=as_minutes(_POLICY.urgent_response), gt=0, le=24 * 60
    )
    preferred_technician_min: Number = Field(
        default=as_minutes(_POLICY.preferred_technician_bonus),
        ge=0,
        le=24 * 60,
        description="Extra travel minutes worth spending to keep a visit with its preferred "
        "technician.",
    )
    travel: TravelSettingsIn = Field(default_factory=TravelSettingsIn)
    promise_window_min: Number = Field(
        default=as_minutes(_POLICY.promise_width),
        gt=0,
        le=240,
        description="Width of the arrival window told to a customer without an appointment.",
    )
    notify_tolerance_min: Number = Field(
        default=as_minutes(_POLICY.notify_tolerance),
        ge=0,
        le=24 * 60,
        description="Minutes a promised arrival may move in a re-plan before the customer "
        "must be called.",
    )
    reassign_cost_min: Number = Field(
        default=as_minutes(_POLICY.reassign_cost),
        ge=0,
        le=24 * 60,
        description="Travel minutes a re-plan will spend to keep a visit with its technician.",
    )
    replan_time_limit_s: Number = Field(default=_POLICY.replan_time_limit_s, gt=0, le=600)
    general_response_h: Number = Field(
        default=_POLICY.general_response.total_seconds() / 3600,
        gt=0,
        le=24 * 28,
        description="Horizons: hours within which a reported fault that is not urgent is served.",
    )


class TravelIn(_Strict):
    """Explicit matrices: minutes and km between ``locations``, square and of the same size."""

    locations: list[LocationIn | None] = Field(default_factory=list)
    durations_min: list[list[Number]]
    distances_km: list[list[Number]] | None = None


#: Most visits a day (or a horizon, its rounds' due dates aside) may have: twice the largest day
#: the benchmarks plan (2,500). The solver's memory grows with the square of the places: a day
#: of 30,000 visits (3 MB of JSON) was stored and would have needed about 48 GB to plan.
MAX_VISITS = 5_000
#: Most technicians a day (or a horizon) may have: the largest benchmarked day has 658.
MAX_TECHNICIANS = 1_000
#: Most a horizon may hold once its rounds fall due and its technicians' calendars give their
#: workdays, counted as the solver's places are: each visit and due date, and each workday's
#: start and end. The largest day allowed (``MAX_VISITS`` visits, ``MAX_TECHNICIANS``
#: technicians) is the bound: 2,000 weekly rounds over 28 days validated as 8,000 due dates,
#: and 1,000 technicians over 28 days are 28,000 workdays, a model of some 60,000 places.
MAX_HORIZON_PLACES = MAX_VISITS + 2 * MAX_TECHNICIANS


class ProblemIn(_Strict):
    """One day to plan."""

    date: Text = Field(pattern=DATE_PATTERN, examples=["2026-11-23"])
    timezone: Text = "UTC"
    policy: PolicyIn = Field(default_factory=PolicyIn)
    technicians: list[TechnicianIn] = Field(min_length=1, max_length=MAX_TECHNICIANS)
    visits: list[VisitIn] = Field(
        max_length=MAX_VISITS,
        description="Every visit of the day; required, and may be empty (an empty day).",
    )
    travel: TravelIn | None = None
    depots: list[DepotIn] = Field(
        default_factory=list, description="Service-centre stores of spare parts (extension)."
    )


#: A date ``YYYY-MM-DD``.
DateText = Annotated[Text, Field(pattern=DATE_PATTERN, examples=["2026-12-07"])]
#: A local moment ``YYYY-MM-DDTHH:MM`` in the problem's time zone.
LocalMoment = Annotated[
    Text,
    Field(
        pattern=MOMENT_PATTERN,
        examples=["2026-12-07T16:00"],
    ),
]
Weekday = Annotated[
    Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], BeforeValidator(_valid_unicode)
]


class HorizonSpanIn(_Strict):
    """The dates a horizon plans: ``days`` consecutive dates from ``start``."""

    start: DateText
    days: Integer = Field(ge=1, le=28)


class WorkdayIn(_Strict):
    """A working day of a calendar: its shift and breaks."""

    shift: WindowIn
    breaks: list[BreakIn] = Field(default_factory=list)


class CalendarIn(_Strict):
    """When a technician works over a horizon (see ``docs/contract.md``, Horizon)."""

    weekdays: dict[Weekday, WorkdayIn | None] = Field(default_factory=dict)
    days_off: list[DateText] = Field(default_factory=list)
    dates: dict[DateText, WorkdayIn] = Field(default_factory=dict)


class HorizonTechnicianIn(TechnicianIn):
    """A technician of a horizon: a day's fields and a calendar."""

    calendar: CalendarIn | None = None


class HorizonVisitIn(VisitIn):
    """A visit of a horizon: fixed on a ``date``, due within ``earliest``/``latest``, or
    reported at a moment (``reported_at``, with its date)."""

    date: DateText | None = None
    earliest: LocalMoment | None = None
    latest: LocalMoment | None = None
    reported_at: LocalMoment | None = None


class EveryIn(_Strict):
    """How often a round falls due: every ``weeks`` weeks or every ``months`` months."""

    weeks: Integer | None = Field(default=None, ge=1, le=104)
    months: Integer | None = Field(default=None, ge=1, le=24)


class RoundIn(_Strict):
    """A recurring round: the job, how often and since when (see ``docs/contract.md``)."""

    #: Its due dates' visit ids add ``@YYYY-MM-DD`` and must stay an ``Identifier``.
    id: Annotated[Text, Field(min_length=1, max_length=53)]
    customer: Text = ""
    address: Text = ""
    phone: Text = ""
    location: LocationIn | None = None
    location_index: Integer | None = Field(default=None, ge=0)
    kind: VisitKind = "maintenance"
    duration_min: PositiveMinutes
    window: WindowIn | None = None
    required_skills: list[Text] = Field(default_factory=list)
    priority: PriorityName = "normal"
    crew_size: Integer = Field(default=1, ge=1, le=10)
    demand: CapacityIn | None = None
    technician: Text | None = None
    preferred_technician: Text | None = None
    notes: Text = ""
    every: EveryIn
    tolerance_days: Integer = Field(default=0, ge=0, le=60)
    last_served: DateText | None = None
    first_due: DateText | None = None


class HorizonProblemIn(_Strict):
    """Several days to plan in one solve."""

    horizon: HorizonSpanIn
    timezone: Text = "UTC"
    policy: PolicyIn = Field(default_factory=PolicyIn)
    technicians: list[HorizonTechnicianIn] = Field(min_length=1, max_length=MAX_TECHNICIANS)
    visits: list[HorizonVisitIn] = Field(max_length=MAX_VISITS)
    rounds: list[RoundIn] = Field(default_factory=list, max_length=MAX_VISITS)
    travel: TravelIn | None = None


class PromisedWindowOut(_Strict):
    """The arrival window told to the customer."""

    start: str
    end: str


class StopOut(_Strict):
    """One visit on a route; ``travel_min`` and ``distance_km`` are of the leg ending here."""

    visit_id: str
    arrival: str
    service_start: str
    departure: str
    travel_min: int
    distance_km: float
    early_min: int
    late_min: int
    wait_min: int
    kind: str
    customer: str
    address: str
    phone: str
    appointment: str | None = None
    window: WindowIn | None = None
    promised_window: PromisedWindowOut | None = None
    status: Literal["planned", "arrived", "in_progress", "done"] = "planned"
    actual_arrival: str | None = None
    actual_start: str | None = None
    actual_departure: str | None = None
    parts: list[PartOut] = Field(
        default_factory=list,
        description="Spare parts the visit uses (absent when none).",
        exclude_if=lambda parts: not parts,
    )


class PartOut(_Strict):
    """A quantity of one part in a plan."""

    part: str
    quantity: int


class DepotStopOut(_Strict):
    """A call at a depot for parts, before the stop ``before_visit_id`` (``null``: after the
    last one); ``travel_min`` and ``distance_km`` are of the leg ending here."""

    depot_id: str
    before_visit_id: str | None
    arrival: str
    departure: str
    travel_min: int
    distance_km: float
    parts: list[PartOut]


class PickListOut(_Strict):
    """What one technician takes at one depot: their morning load when ``before_leaving``
    (the call comes before their first visit), else a call on the way at ``arrival``."""

    depot_id: str
    technician_id: str
    arrival: str
    before_leaving: bool
    parts: list[PartOut]


class BreakOut(_Strict):
    """A break as placed."""

    start: str
    end: str


class RouteOut(_Strict):
    """A technician's day."""

    technician_id: str
    start_time: str
    end_time: str
    distance_km: float
    travel_min: int
    service_min: int
    wait_min: int
    utilisation: float
    stops: list[StopOut]
    breaks: list[BreakOut]
    geometry: str | None = Field(
        default=None,
        description="The road line from start to end as an encoded polyline (precision 5, "
        "latitude first: the format of OSRM and Google), when travel came from roads "
        "(policy.travel.provider 'osrm'); absent for straight-line travel.",
        # Absent, not null: a straight-line plan reads exactly as it did before roads existed.
        exclude_if=lambda geometry: geometry is None,
    )
    depot_stops: list[DepotStopOut] = Field(
        default_factory=list,
        description="Calls at depots for spare parts, in route order (absent when none).",
        exclude_if=lambda stops: not stops,
    )
    pick_list: list[PickListOut] = Field(
        default_factory=list,
        description="What to load before leaving: the depot calls before the first visit "
        "(absent when none).",
        exclude_if=lambda picks: not picks,
    )


class DayRefOut(_Strict):
    """A day plan of a week: its date and plan id."""

    date: str
    plan_id: str


class UnassignedOut(_Strict):
    """A visit nobody could take, with a reason a dispatcher understands."""

    visit_id: str
    code: UnassignedCode
    reason: str
    candidates: list[str] = Field(default_factory=list)
    part: str | None = Field(
        default=None,
        description="no_part: the part number missing.",
        exclude_if=lambda part: part is None,
    )
    part_available: str | None = Field(
        default=None,
        description="no_part: the nearest moment the part can be had (ISO 8601); absent when "
        "no stock and none due.",
        exclude_if=lambda moment: moment is None,
    )
    moved_to: DayRefOut | None = Field(
        default=None,
        description="moved: the day plan of the week the visit went to.",
        exclude_if=lambda day: day is None,
    )


class WithoutRouteOut(_Strict):
    """A technician the plan could give no route at all, and why."""

    technician_id: str
    reason: str


class PriorityCount(_Strict):
    """Visits of one priority and how many were placed."""

    visits: int
    assigned: int


class KpisOut(_Strict):
    """Headline figures of a plan."""

    visits: int
    assigned: int
    assigned_by_priority: dict[str, PriorityCount]
    on_time_rate: float
    early_band_rate: float
    appointment_stops: int
    appointments_in_band: int
    urgent_within_response: float
    #: Urgent visits with a report time, served or not, less those cancelled (``0`` in a
    #: document stored before it was kept).
    urgent_faults: int = 0
    #: Of those, reached within the response time.
    urgent_reached_in_time: int = 0
    distance_km: float
    travel_min: int
    service_min: int
    utilisation: float
    technicians_used: int
    solve_s: float


class ChangeOut(_Strict):
    """A visit whose technician or arrival moved against the previous version."""

    visit_id: str
    customer: str
    phone: str
    old_technician: str | None
    new_technician: str | None
    old_arrival: str | None
    new_arrival: str | None
    moved_min: int | None = Field(description="New arrival minus old, when both exist.")
    notify: bool = Field(description="Call the customer: the promised time moved too far.")
    reason: str
    old_date: str | None = Field(
        default=None,
        description="A visit moved to another date of a week: the date it leaves.",
        exclude_if=lambda day: day is None,
    )
    new_date: str | None = Field(
        default=None,
        description="A visit moved to another date of a week: the date it goes to.",
        exclude_if=lambda day: day is None,
    )
    old_plan_id: str | None = Field(
        default=None,
        description="A visit moved to another date: the day plan it leaves.",
        exclude_if=lambda plan: plan is None,
    )
    new_plan_id: str | None = Field(
        default=None,
        description="A visit moved to another date: the day plan it goes to.",
        exclude_if=lambda plan: plan is None,
    )
    old_window: PromisedWindowOut | None = Field(
        default=None,
        description="A visit moved to another date: the window promised on the old date.",
        exclude_if=lambda window: window is None,
    )
    new_window: PromisedWindowOut | None = Field(
        default=None,
        description="A visit moved to another date: the window to promise on the new date.",
        exclude_if=lambda window: window is None,
    )


class PlanOut(_Strict):
    """A plan version; a re-planned one carries its clock time ``at`` and its ``changes``."""

    plan_id: str
    version: int
    status: Literal["feasible", "partial", "empty"]
    created_at: str
    date: str
    timezone: str
    at: str | None = None
    routes: list[RouteOut]
    unassigned: list[UnassignedOut]
    changes: list[ChangeOut] = Field(default_factory=list)
    kpis: KpisOut
    pick_lists: list[PickListOut] = Field(
        default_factory=list,
        description="Per depot, what each technician takes there, in depot then arrival "
        "order: the stores' pick lists (absent when no route calls at a depot).",
        exclude_if=lambda picks: not picks,
    )
    technicians_without_route: list[WithoutRouteOut] = Field(
        default_factory=list,
        description="Technicians who could get no route at all: even serving no visit they "
        "could not get from their start to their end inside their shift with their breaks; "
        "the reason gives the shift, the drive and the breaks (absent when there are none).",
        exclude_if=lambda items: not items,
    )


class _Event(_Strict):
    pass


#: Why, in words, on an event: copied into each change it causes and onto the call list, so
#: bounded (a 3 MB reason of one tap made a 9 MB version).
Reason = Annotated[Text, Field(max_length=500)]


class DelayIn(_Event):
    """A technician is held up: everything not yet started runs ``minutes`` later."""

    type: Literal["delay"]
    technician_id: Identifier
    minutes: PositiveMinutes
    reason: Reason = ""


class VisitClockIn(_Event):
    """Progress at a visit at clock time ``at`` (default: the batch's ``at``)."""

    type: Literal["arrived", "started", "completed", "departed"]
    visit_id: Identifier
    at: Clock | None = None


class CancelledIn(_Event):
    """The customer cancelled; the visit leaves the plan."""

    type: Literal["cancelled"]
    visit_id: Identifier
    reason: Reason = ""


class MovedIn(_Event):
    """The dispatcher moves a visit by hand to a technician, a time, or both; it stays there."""

    type: Literal["moved"]
    visit_id: Identifier
    technician_id: Identifier | None = None
    appointment: Clock | None = None
    window: WindowIn | None = None


class UnavailableIn(_Event):
    """A technician takes no new work (gone home ill); remaining visits go back to the pool."""

    type: Literal["unavailable"]
    technician_id: Identifier
    reason: Reason = ""


class NewVisitIn(_Event):
    """A visit booked during the day (an urgent breakdown at 10:40)."""

    type: Literal["new_visit"]
    visit: VisitIn


class NotCompletedIn(_Event):
    """The technician was at the visit but could not finish it (no part, customer absent): they
    leave at ``at`` (default: the batch's ``at``) and the visit must be booked again."""

    type: Literal["not_completed"]
    visit_id: Identifier
    reason: Annotated[Reason, Field(min_length=1)]
    at: Clock | None = None


class RetractedIn(_Event):
    """The visit's reports of arrival and start are taken back (a tap at the wrong visit): the
    technician is not there and has not left it; it is planned again as a stop not yet made."""

    type: Literal["retracted"]
    visit_id: Identifier
    reason: Reason = ""


class PartEventIn(_Event):
    """Stock that is no longer there: a part used (beyond what the plan counted), found
    faulty, or missing, in a technician's van (``technician_id``) or at a depot
    (``depot_id``); exactly one of the two."""

    type: Literal["part_used", "part_faulty", "part_missing"]
    part: PartNumber
    quantity: Integer = Field(default=1, ge=1, le=MAX_PART_UNITS)
    technician_id: Identifier | None = None
    depot_id: Identifier | None = None
    visit_id: Identifier | None = None
    reason: Reason = ""


EventIn = Annotated[
    DelayIn
    | VisitClockIn
    | CancelledIn
    | MovedIn
    | UnavailableIn
    | NewVisitIn
    | NotCompletedIn
    | RetractedIn
    | PartEventIn,
    Field(discriminator="type"),
]


class EventBatchIn(_Strict):
    """Events reported at clock time ``at``, applied to plan version ``version`` (default: the
    latest); all or nothing."""

    at: Clock
    version: Integer | None = Field(default=None, ge=1)
    events: list[EventIn] = Field(min_length=1)
    report_id: Text | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The sender's own id for this batch (a driver's tap): a batch sent again "
        "with the same report_id, its answer lost on the way, is not applied twice; the "
        "answer is the version it made.",
    )
    move_across_dates: bool = Field(
        default=True,
        strict=True,
        description="A day of a week: move a visit the re-plan leaves out to a later date of "
        "its span that has room (default true); false keeps every visit on its day.",
    )


class DriverPartOut(_Strict):
    """Units of one part a visit uses, as the driver sees them: in the van on arrival, or
    taken at the depot call made for the visit, just before it."""

    part: str
    quantity: int
    source: Literal["van", "depot"] = Field(
        description="'van': in the van on arrival (its stock when the day starts, or loaded "
        "before leaving from the pick list); 'depot': taken at the depot call on the way "
        "(depot_id), just before the visit."
    )
    depot_id: str | None = Field(default=None, description="The depot of a 'depot' source.")


class DriverDepotStopOut(_Strict):
    """A call at a depot as the driver sees it: where the store is, when it is open, when to be
    there and what to take."""

    depot_id: str
    name: str = ""
    address: str = ""
    location: LocationIn | None = None
    opening: WindowIn
    before_visit_id: str | None = Field(
        description="The stop the call is made before (null: after the last one)."
    )
    before_leaving: bool = Field(
        description="The call comes before the first visit: part of the pick list, what to "
        "load before leaving."
    )
    arrival: str
    departure: str
    parts: list[PartOut] = Field(description="What to take there.")


class DriverStopOut(_Strict):
    """One stop as the driver sees it: where, when to be there, whom to call."""

    sequence: int = Field(description="1 for the first stop of the day.")
    visit_id: str
    eta: str = Field(description="Planned arrival at the door.")
    service_start: str
    departure: str
    promised_window: PromisedWindowOut | None = None
    appointment: str | None = None
    customer: str
    phone: str
    address: str
    location: LocationIn | None = None
    kind: str
    duration_min: float
    notes: str = ""
    status: Literal["planned", "arrived", "in_progress", "done", "not_completed"] = Field(
        default="planned",
        description="How far the stop has got; 'not_completed': the technician was there but "
        "could not finish, and the desk books the visit again.",
    )
    actual_arrival: str | None = None
    actual_start: str | None = None
    actual_departure: str | None = None
    parts: list[DriverPartOut] = Field(
        default_factory=list,
        description="Spare parts the visit uses, by where they come from (absent when none).",
        exclude_if=lambda parts: not parts,
    )


class DriverRouteOut(_Strict):
    """A technician's route of one plan version: what the driver's phone shows."""

    plan_id: str
    version: int
    date: str
    timezone: str
    technician_id: str
    technician_name: str
    at: str | None = Field(
        default=None,
        description="Local clock time HH:MM of the re-plan that made this version (none for "
        "the first): reports sent later must be at or after it.",
    )
    start_time: str | None
    end_time: str | None
    distance_km: float
    stops: list[DriverStopOut]
    breaks: list[BreakOut]
    geometry: str | None = Field(
        default=None,
        description="This route's road line from start to end, as in the plan's route "
        "(RouteOut.geometry): an encoded polyline, precision 5, latitude first; absent for "
        "straight-line travel.",
        # Absent, not null: the view of a straight-line plan reads exactly as it did before.
        exclude_if=lambda geometry: geometry is None,
    )
    pick_list: list[DriverDepotStopOut] = Field(
        default_factory=list,
        description="What to load before leaving: the depot calls before the first visit, as "
        "in depot_stops (absent when none).",
        exclude_if=lambda picks: not picks,
    )
    depot_stops: list[DriverDepotStopOut] = Field(
        default_factory=list,
        description="Calls at depots for spare parts, in route order (absent when none).",
        exclude_if=lambda stops: not stops,
    )
    no_route: str | None = Field(
        default=None,
        description="Why this technician got no route at all this version, as the plan's "
        "technicians_without_route says (absent when they have a route or simply no work).",
        exclude_if=lambda reason: reason is None,
    )
