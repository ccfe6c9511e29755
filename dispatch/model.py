"""The domain: plain, frozen, typed values for a day to plan and the plan made for it.

Nothing here parses, validates, talks to a database or knows about the solver: ``validate``
builds these values from the wire schemas, ``compile`` turns them into numbers for the solver,
``decode`` turns the solver's answer back into a ``Plan``. Times are timezone-aware datetimes on
the plan's date; durations are ``timedelta``; distances are kilometres.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, NewType
from zoneinfo import ZoneInfo

from dispatch.units import earliest

__all__ = [
    "AppointmentStart",
    "Break",
    "BreakSlot",
    "Capacity",
    "Change",
    "DayRef",
    "Demand",
    "Depot",
    "DepotId",
    "DepotStop",
    "Hold",
    "Horizon",
    "Kpis",
    "LatLon",
    "OnTheWay",
    "PartArrival",
    "PartQuantity",
    "Plan",
    "Policy",
    "Priority",
    "Problem",
    "RoundOccurrence",
    "Route",
    "Site",
    "Stop",
    "StopStatus",
    "Technician",
    "TechnicianId",
    "TimeWindow",
    "TravelMatrix",
    "TravelSettings",
    "Unassigned",
    "UnassignedCode",
    "Visit",
    "VisitId",
    "WithoutRoute",
]

VisitId = NewType("VisitId", str)
TechnicianId = NewType("TechnicianId", str)
DepotId = NewType("DepotId", str)


class Priority(enum.IntEnum):
    """How much a visit matters; a higher value is dropped last."""

    LOW = 0
    NORMAL = 1
    HIGH = 2
    URGENT = 3

    @property
    def label(self) -> str:
        """The contract's name: ``urgent``, ``high``, ``normal`` or ``low``."""
        return self.name.lower()


class UnassignedCode(enum.StrEnum):
    """Why a visit is not in any route, for scripts; the order is the order of the checks."""

    NO_SKILL = "no_skill"
    CREW_SIZE = "crew_size"
    PINNED = "pinned"
    RADIUS = "radius"
    WINDOW = "window"
    CAPACITY = "capacity"
    NO_ROOM = "no_room"
    #: Not a screening outcome: the customer cancelled during the day (re-planning).
    CANCELLED = "cancelled"
    #: Not a screening outcome: the technician was there but could not finish (no part,
    #: customer absent); the visit must be booked again (re-planning). Its attempt stays on the
    #: route as a done stop, with the time spent.
    NOT_COMPLETED = "not_completed"
    #: Horizons only: its span starts after the horizon, or it may still be served after it
    #: and found no room inside: it goes into the next horizon.
    BEYOND_HORIZON = "beyond_horizon"
    #: Horizons only: every eligible day inside its span is full.
    NO_CAPACITY_IN_SPAN = "no_capacity_in_span"
    #: Spare parts: a part the visit needs is in no van and at no depot the route can pass
    #: in time (or its depot stock went to other visits); the reason names the part and the
    #: nearest date it can be had (``dispatch.stock``).
    NO_PART = "no_part"
    #: Re-planning a day of a week: the visit left the day for a later date of its span
    #: (``Unassigned.moved_to`` names it); the customer is on the call list.
    MOVED = "moved"


class StopStatus(enum.StrEnum):
    """How far a stop has got, from the events reported during the day."""

    PLANNED = "planned"
    ARRIVED = "arrived"
    IN_PROGRESS = "in_progress"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class LatLon:
    """A WGS84 point."""

    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Site:
    """Where something is: coordinates, a row of an explicit travel matrix, or both."""

    location: LatLon | None = None
    matrix_index: int | None = None
    address: str = ""


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A closed interval ``[start, end]`` of aware datetimes."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Break:
    """A break of ``duration`` taken inside ``window``."""

    window: TimeWindow
    duration: timedelta


@dataclass(frozen=True, slots=True)
class Capacity:
    """What a van holds; ``None`` means no limit on that quantity."""

    weight_kg: float | None = None
    volume_m3: float | None = None


@dataclass(frozen=True, slots=True)
class Demand:
    """Room a visit takes in the van."""

    weight_kg: float = 0.0
    volume_m3: float = 0.0


@dataclass(frozen=True, slots=True)
class PartQuantity:
    """A quantity of one spare part (its part number), in whole units."""

    part: str
    quantity: int


@dataclass(frozen=True, slots=True)
class PartArrival:
    """Stock due at a depot: ``quantity`` units of ``part`` usable from ``at``."""

    part: str
    quantity: int
    at: datetime


@dataclass(frozen=True, slots=True)
class Depot:
    """A service-centre store: where it is, when it is open, what it holds and what is due.

    A technician who stops there (``handling`` on site) inside ``opening`` may take parts; its
    ``stock`` is shared by every route of the day, and ``arrivals`` add to it from their time.
    """

    id: DepotId
    site: Site
    opening: TimeWindow
    stock: tuple[PartQuantity, ...] = ()
    arrivals: tuple[PartArrival, ...] = ()
    handling: timedelta = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class OnTheWay:
    """A technician driving when their day restarts (re-planned, at their shift's start):
    from their ``start`` toward ``toward``, with ``driven`` of the drive behind them and
    ``ahead`` still to go. Where they are on the road is known only so far: any place is
    reached on through ``toward`` or back through their start, whichever is sooner (never
    sooner than either allows). Distances stay counted from their start, as every leg's is
    from the place before it."""

    toward: Site
    driven: timedelta
    ahead: timedelta


@dataclass(frozen=True, slots=True)
class Technician:
    """A technician (``crew_size`` 1) or a delivery crew, with a base, a shift and skills;
    ``breaks`` in the order they are taken (their windows' opening, then latest start)."""

    id: TechnicianId
    name: str
    skills: frozenset[str]
    start: Site
    end: Site
    shift: TimeWindow
    breaks: tuple[Break, ...] = ()
    crew_size: int = 1
    capacity: Capacity = Capacity()
    service_radius_km: float | None = None
    phone: str = ""
    #: Takes no new work from this moment (gone home ill, called away); ``None``: all shift.
    unavailable_from: datetime | None = None
    #: Where the service radius is measured from when ``start`` is not the base (re-planning
    #: restarts a technician from the stop they are at); ``None`` means ``start``.
    base: Site | None = None
    #: Spare parts in the van when the day (or, re-planned, the rest of it) starts.
    van_stock: tuple[PartQuantity, ...] = ()
    #: Re-planned after setting out (from a stop or a depot call, wherever that is): the
    #: morning pick list is behind them, and a call at their base depot takes its handling.
    set_out: bool = False
    #: Re-planned while driving from ``start``: where they are on that drive.
    on_the_way: OnTheWay | None = None

    @property
    def home(self) -> Site:
        """The base the service radius is measured from."""
        return self.base or self.start

    @property
    def working_end(self) -> datetime:
        """When the shift ends, or earlier when the technician becomes unavailable."""
        if self.unavailable_from is None:
            return self.shift.end
        return max(self.shift.start, min(self.shift.end, self.unavailable_from))


@dataclass(frozen=True, slots=True)
class Visit:
    """A job at one site, served once by one qualified technician or crew.

    ``appointment`` (service starts exactly then) and ``window`` (service starts inside it) are
    exclusive; with neither the visit may happen any time in a shift. ``deadline`` is the latest
    arrival an urgent fault allows (``reported_at`` plus the policy's response time).
    """

    id: VisitId
    site: Site
    duration: timedelta
    kind: str = "repair"
    customer: str = ""
    phone: str = ""
    appointment: datetime | None = None
    window: TimeWindow | None = None
    required_skills: frozenset[str] = frozenset()
    priority: Priority = Priority.NORMAL
    crew_size: int = 1
    demand: Demand = Demand()
    pinned_to: TechnicianId | None = None
    preferred: TechnicianId | None = None
    notes: str = ""
    reported_at: datetime | None = None
    deadline: datetime | None = None
    #: Horizons only: the service starts between these offsets from local midnight on
    #: whichever day it is served (``window`` then bounds the days).
    daily_window: tuple[timedelta, timedelta] | None = None
    #: Spare parts the job uses up: in the van on arrival, or the visit is not made.
    parts: tuple[PartQuantity, ...] = ()

    @property
    def latest_arrival(self) -> datetime | None:
        """The latest on-time arrival: the appointment, the window's end or the urgent
        deadline, whichever comes first; ``None`` for a visit with no time at all."""
        latest = self.appointment or (self.window.end if self.window else None)
        if self.deadline is not None:
            # In real time: ``min`` of one zone compares wall clocks, and the night the clocks
            # go back a deadline of 02:30 CET was taken for later than a window's 02:45 CEST.
            latest = earliest(latest, self.deadline) if latest else self.deadline
        return latest


@dataclass(frozen=True, slots=True)
class TravelSettings:
    """How travel is measured: ``geodesic`` (the embedded default: great-circle distance, a
    circuity factor and speeds by trip length, ``dispatch.travel.geodesic``) or ``osrm`` (road
    durations and distances from an OSRM server, ``dispatch.travel.osrm``; a site farther than
    ``snap_limit_m`` from any road is an input error)."""

    provider: Literal["geodesic", "osrm"] = "geodesic"
    snap_limit_m: float = 500.0
    circuity: float = 1.35
    speed_kmh: tuple[tuple[float, float], ...] = (
        (0.0, 15.0),
        (2.0, 22.0),
        (10.0, 35.0),
        (30.0, 55.0),
    )


#: When an appointment's work starts (``Policy.appointment_start``).
AppointmentStart = Literal["at_time", "on_arrival"]


@dataclass(frozen=True, slots=True)
class Policy:
    """The desk's rules for a day."""

    early_band: tuple[timedelta, timedelta] = (timedelta(minutes=5), timedelta(minutes=10))
    #: When an appointment's work starts: ``at_time``, at the agreed time ``T`` (the technician
    #: at the door inside the band and waiting there until ``T``); ``on_arrival``, on reaching
    #: the door inside the band ``[T - far, T - near]``, so they leave sooner.
    appointment_start: AppointmentStart = "at_time"
    service_radius_km: float = 100.0
    time_limit_s: float = 10.0
    #: The search stops once its best has not improved for this share of ``time_limit_s`` (or
    #: sooner on a small day); ``0``: it always uses the whole limit.
    stall_share: float = 0.2
    urgent_response: timedelta = timedelta(minutes=120)
    preferred_technician_bonus: timedelta = timedelta(minutes=30)
    travel: TravelSettings = TravelSettings()
    #: Width of the arrival window told to a customer without an appointment.
    promise_width: timedelta = timedelta(minutes=30)
    #: A promised time may move this much before the customer must be called.
    notify_tolerance: timedelta = timedelta(minutes=15)
    #: Travel time a re-plan will spend to keep a visit with the technician it had.
    reassign_cost: timedelta = timedelta(minutes=30)
    #: Solver budget of a re-plan (answers must come quickly during the day).
    replan_time_limit_s: float = 1.0
    #: Horizons: a reported fault that is not urgent is served within this.
    general_response: timedelta = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class TravelMatrix:
    """Explicit travel between matrix rows: minutes and kilometres, square; and where each row
    is, when the problem says (``locations``: coordinates riding along, for radius checks)."""

    durations_min: tuple[tuple[float, ...], ...]
    distances_km: tuple[tuple[float, ...], ...] | None = None
    locations: tuple[LatLon | None, ...] = ()


@dataclass(frozen=True, slots=True)
class Problem:
    """A validated day to plan."""

    date: date
    timezone: ZoneInfo
    policy: Policy
    technicians: tuple[Technician, ...]
    visits: tuple[Visit, ...]
    travel: TravelMatrix | None = None
    #: Service-centre stores whose stock routes may call at (spare parts).
    depots: tuple[Depot, ...] = ()

    def coordinates(self, site: Site) -> LatLon | None:
        """Where ``site`` is: its own coordinates, else those its row of the travel matrix's
        ``locations`` carries (coordinates riding along, for radius checks), else none."""
        index = site.matrix_index
        if site.location is not None or index is None or self.travel is None:
            return site.location
        rows = self.travel.locations
        return rows[index] if index < len(rows) else None

    @property
    def midnight(self) -> datetime:
        """The start of the plan's date, local time: the origin of solver time."""
        return datetime(self.date.year, self.date.month, self.date.day, tzinfo=self.timezone)


@dataclass(frozen=True, slots=True)
class Stop:
    """A visit placed on a route. ``travel`` and ``distance_km`` are of the leg ending here."""

    visit_id: VisitId
    arrival: datetime
    service_start: datetime
    departure: datetime
    travel: timedelta
    distance_km: float
    early: timedelta
    late: timedelta
    wait: timedelta
    status: StopStatus = StopStatus.PLANNED
    actual_arrival: datetime | None = None
    actual_start: datetime | None = None
    actual_departure: datetime | None = None
    #: The arrival window told to the customer, kept until a re-plan moves past it.
    promised: TimeWindow | None = None

    @property
    def frozen(self) -> bool:
        """Done or under way: a re-plan never moves it."""
        return self.status is not StopStatus.PLANNED


@dataclass(frozen=True, slots=True)
class BreakSlot:
    """A break as placed in a route."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class DepotStop:
    """A call at a depot on a route, before the stop ``before`` (its index in ``stops``; the
    number of stops when it comes last): parts ``taken`` there. ``travel`` and
    ``distance_km`` are of the leg ending here; the leg of the stop after it starts here."""

    depot_id: DepotId
    before: int
    arrival: datetime
    departure: datetime
    travel: timedelta
    distance_km: float
    taken: tuple[PartQuantity, ...] = ()


@dataclass(frozen=True, slots=True)
class Route:
    """One technician's day; totals include the way back to ``end``."""

    technician_id: TechnicianId
    start_time: datetime
    end_time: datetime
    stops: tuple[Stop, ...]
    breaks: tuple[BreakSlot, ...]
    distance_km: float
    travel: timedelta
    service: timedelta
    wait: timedelta
    #: The road line from start to end, when travel came from a road network (OSRM).
    geometry: tuple[LatLon, ...] | None = None
    #: Calls at depots for spare parts, in route order (none without parts).
    depot_stops: tuple[DepotStop, ...] = ()


@dataclass(frozen=True, slots=True)
class DayRef:
    """One day plan of a week: its date and its plan id."""

    date: date
    plan_id: str


@dataclass(frozen=True, slots=True)
class Unassigned:
    """A visit left out, with the reason and the technicians that were considered."""

    visit_id: VisitId
    code: UnassignedCode
    reason: str
    candidates: tuple[TechnicianId, ...] = ()
    #: ``no_part``: the part missing, and the nearest moment it can be had (``None``: no
    #: stock anywhere and none due).
    part: str | None = None
    part_available: datetime | None = None
    #: ``moved``: the day plan of the week the visit went to.
    moved_to: DayRef | None = None


@dataclass(frozen=True, slots=True)
class Hold:
    """A technician held up by a reported delay: nothing new starts for them before ``until``
    (when the rest of their day was to start, the delay added). It holds through later
    versions until it is over or the technician reports from a stop at a moment after
    ``since``, the time of the batch that reported the (latest) delay."""

    technician_id: TechnicianId
    until: datetime
    since: datetime


@dataclass(frozen=True, slots=True)
class WithoutRoute:
    """A technician the plan could give no route at all: even serving nobody they could not
    get from their start to their end inside their shift with their breaks (a far end typed,
    a shift cut short); ``reason`` says so in numbers."""

    technician_id: TechnicianId
    reason: str


@dataclass(frozen=True, slots=True)
class Change:
    """A visit whose technician or arrival a re-plan moved; ``notify``: call the customer.

    A visit moved to another date of a week also names both days (``old_day``, ``new_day``)
    and the windows promised to the customer on each (``old_window``, ``new_window``).
    """

    visit_id: VisitId
    old_technician: TechnicianId | None
    new_technician: TechnicianId | None
    old_arrival: datetime | None
    new_arrival: datetime | None
    notify: bool
    reason: str
    old_day: DayRef | None = None
    new_day: DayRef | None = None
    old_window: TimeWindow | None = None
    new_window: TimeWindow | None = None


@dataclass(frozen=True, slots=True)
class Kpis:
    """Headline figures of one plan, computed by planning (``dispatch.planning.kpi``)."""

    visits: int
    assigned: int
    assigned_by_priority: dict[str, tuple[int, int]]
    on_time_rate: float
    early_band_rate: float
    appointment_stops: int
    appointments_in_band: int
    urgent_within_response: float
    #: Urgent visits with a report time, served or not, less those cancelled.
    urgent_faults: int
    #: Of those, reached within the response time.
    urgent_reached_in_time: int
    distance_km: float
    travel: timedelta
    service: timedelta
    utilisation: float
    technicians_used: int
    solve_s: float


@dataclass(frozen=True, slots=True)
class Plan:
    """The engine's answer for a problem: routes, what is left out and why, solve time.

    A re-planned version also carries the clock time ``at`` of the events it answers and the
    ``changes`` against the version before.
    """

    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    solve_s: float = 0.0
    objective: int = 0
    at: datetime | None = None
    changes: tuple[Change, ...] = ()
    #: Set by planning (``plan_day``, ``replan_day``) once the plan is whole.
    kpis: Kpis | None = None
    #: Technicians who could get no route at all, and why, in the problem's order.
    without_route: tuple[WithoutRoute, ...] = ()
    #: Technicians held up by a delay at this version (re-planned versions only): the holds
    #: standing first, one per technician, then those over that no report from a stop has
    #: ended since (the time a technician on the road stood still; ``replan.holds_kept``).
    holds: tuple[Hold, ...] = ()


@dataclass(frozen=True, slots=True)
class RoundOccurrence:
    """One due date of a recurring round that the horizon covers, as the visit ``visit_id``.

    ``earliest`` and ``latest`` are the days it may be served on (``due`` ± the tolerance);
    ``overdue_since`` is set when the round's previous due date, tolerance included, had passed
    before the horizon began: it is then due on the horizon's first day.
    """

    round_id: str
    visit_id: VisitId
    due: date
    earliest: date
    latest: date
    overdue_since: date | None = None


@dataclass(frozen=True, slots=True)
class Horizon:
    """Several consecutive days planned in one solve (a week, typically).

    ``workdays`` holds one ``Technician`` per person and working date, with that date's shift
    and breaks (a person's id repeats across dates). A visit's ``window`` is its span over the
    horizon; ``promised`` names the visits whose promise ends inside the horizon (they are
    served first), ``due_now`` those of them overdue (their span, or an urgent fault's
    response, ended before it; a round's due date passed): served as soon as they can be;
    ``beyond`` what is left out before any search: what starts after it, and
    what nobody able to serve works during its span, and ``filed`` those visits themselves
    (their promise is still told).
    """

    dates: tuple[date, ...]
    timezone: ZoneInfo
    policy: Policy
    workdays: tuple[Technician, ...]
    visits: tuple[Visit, ...]
    promised: frozenset[VisitId] = frozenset()
    due_now: frozenset[VisitId] = frozenset()
    rounds: tuple[RoundOccurrence, ...] = ()
    beyond: tuple[Unassigned, ...] = ()
    travel: TravelMatrix | None = None
    filed: tuple[Visit, ...] = ()

    @property
    def start(self) -> datetime:
        """Midnight at the start of the first date."""
        first = self.dates[0]
        return datetime(first.year, first.month, first.day, tzinfo=self.timezone)

    @property
    def end(self) -> datetime:
        """Midnight after the last date."""
        last = self.dates[-1] + timedelta(days=1)
        return datetime(last.year, last.month, last.day, tzinfo=self.timezone)

    def as_problem(self) -> Problem:
        """The horizon as one problem: every workday a vehicle on one timeline."""
        return Problem(
            date=self.dates[0],
            timezone=self.timezone,
            policy=self.policy,
            technicians=self.workdays,
            visits=self.visits,
            travel=self.travel,
        )
