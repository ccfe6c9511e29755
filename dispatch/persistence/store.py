"""Problems, plan versions, weeks, events, solve jobs and API keys in a SQL database
(SQLAlchemy 2).

SQLite by default, PostgreSQL through ``DATABASE_URL``; the schema is migrated with Alembic when
a ``Store`` opens. A plan version is written once and never updated: ``save_plan`` inserts, and
a second write of the same ``(plan_id, version)`` is refused. Every write is one transaction, so
a failure leaves what was stored before untouched. A week (the plan of a horizon) is stored
with its days' problems and plans, all or nothing; its days are then ordinary plans.

A solve job moves queued → running → done or failed; every move names the attempt it is for,
so a worker of an attempt given up on can change nothing. ``claim_job`` is the move of a task
handed to a worker by a broker, which may hand the same task out twice (the redelivery rules
are in its docstring). While a day job runs, its newest draft plan (the search's best routes so
far, as the contract's plan document) is kept on the job's row, replaced by each next draft and
cleared when the job ends; it is never a plan version.

A day of several regions may fan out (``fan_out_job``): the running attempt of its job makes
one queued job per region, each solved on its own; a region job that ends done keeps its
region's plan and counts itself on its job in one transaction (``finish_region``), and the one
that makes the count whole is told so, once, to join the regions into the day's plan. While
they run, each region job keeps its newest draft (its region's plan record,
``save_region_draft``); the job's first plan is when every region first has a draft or is done,
and its draft of the whole day is joined, when read, from theirs (``region_drafts``).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    bindparam,
    case,
    create_engine,
    event,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from dispatch.errors import DispatchError, FieldError, InputError, InternalError, NotFoundError
from dispatch.persistence.migrate import upgrade
from dispatch.persistence.tables import (
    ApiKeyRow,
    EventBatchRow,
    PlanRow,
    ProblemRow,
    ServiceSecretRow,
    SolveJobRow,
    WeekRow,
    problem_sizes,
)

__all__ = [
    "ApiKey",
    "ClaimOutcome",
    "EventBatchRow",
    "JobClaim",
    "JobOutput",
    "JobState",
    "PlanRow",
    "PlanWeek",
    "ProblemRow",
    "RegionFinish",
    "ReplannedDay",
    "SolveJob",
    "Store",
    "StoreConflictError",
    "StoredDay",
    "WeekMovedError",
    "WeekSummary",
    "new_id",
]

JobState = Literal["queued", "running", "done", "failed"]
#: What a solve job makes: version 1 of a plan (``pl_…``) or a week (``wk_…``).
JobOutput = Literal["plan", "week"]
_ID_PREFIX: dict[JobOutput, str] = {"plan": "pl", "week": "wk"}

#: Why a running job whose heartbeat stopped (``Store.fail_lost_jobs``) failed.
LOST = "the process running this job stopped (no heartbeat for {seconds:g} s); retry it"

#: What ``claim_job`` did with a job handed to a worker: ``started`` it (it was queued),
#: ``taken_over`` (running, its worker lost: a new attempt), left it to its ``alive`` worker,
#: found it ``ended`` (done or failed: nothing to do), or ``gave_up`` on it (its worker lost
#: and ``max_starts`` reached: failed).
ClaimOutcome = Literal["started", "taken_over", "alive", "ended", "gave_up", "fanned_out"]

#: What ``finish_region`` did with a region job's plan: ``refused`` it (the region job is not
#: running at that attempt: a late duplicate), ``counted`` it on its job, or counted it as the
#: ``last`` of its job's regions: the caller joins them.
RegionFinish = Literal["refused", "counted", "last"]

#: Times ``claim_job`` reads and tries again when another worker moved the job between its
#: read and its write; each retry sees the other's move, so two tries settle any race.
_CLAIM_TRIES = 5


class StoreConflictError(DispatchError):
    """A write that would change something already stored (a plan version exists)."""

    http_status = 409
    exit_code = 1


class WeekMovedError(StoreConflictError):
    """A save of a week's day plan refused because another of the week's dates was saved
    after the week was read: what the writer read of the other dates (which visits they hold)
    may no longer be true. Read again and redo the write."""


def new_id(prefix: str) -> str:
    """A short random id such as ``pl_3f9a0c1b2d4e`` (48 random bits)."""
    return f"{prefix}_{secrets.token_hex(6)}"


def hash_key(key: str) -> str:
    """SHA-256 of an API key: keys are 256 random bits, so a fast hash is enough to store."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SolveJob:
    """A solve job as stored."""

    id: str
    problem_id: str
    plan_id: str
    state: JobState
    attempt: int
    time_limit_s: float | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    elapsed_s: float
    best_cost: int | None
    visits_placed: int | None
    visits_total: int
    error: str | None
    #: When its worker last said it is alive (its start, then every progress write).
    heartbeat_at: datetime | None = None
    #: Workers it was started on since it was last queued (the first, and each takeover).
    starts: int = 0
    #: Seconds from the start of its running attempt to that attempt's first plan (its first
    #: draft; for a week, which makes no drafts, its first plan of the whole week); ``None``
    #: until then.
    first_plan_s: float | None = None
    #: A region job (``Store.fan_out_job``): the job whose day it is a region of, the attempt of
    #: that job it was made for, and the region's index in the day; ``None`` for other jobs.
    parent_id: str | None = None
    parent_attempt: int | None = None
    region: int | None = None
    #: A job whose running attempt fanned out: its regions, and how many of them are done.
    regions_total: int | None = None
    regions_done: int = 0


@dataclass(frozen=True, slots=True)
class JobClaim:
    """What ``Store.claim_job`` did: its outcome, the job as it then was, and the attempt the
    claiming worker now runs (``started``, ``taken_over``) or that runs it (the others)."""

    outcome: ClaimOutcome
    job: SolveJob
    attempt: int


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A dispatcher's API key, without the key itself."""

    id: str
    name: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class ProblemSummary:
    """A day the desk stored, as a list shows it."""

    problem_id: str
    date: str
    created_at: datetime
    technicians: int
    visits: int
    #: The dates it plans: 1 for a day, a horizon's ``days`` for a week.
    days: int = 1


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """A plan as a list shows it: its latest version, and the day it was planned for."""

    plan_id: str
    version: int
    date: str
    status: str
    created_at: datetime
    problem_id: str


@dataclass(frozen=True, slots=True)
class StoredDay:
    """One date of a week, to store: its day problem and version 1 of its plan (the document,
    and its full-precision ``record`` when there is one)."""

    problem_id: str
    problem: dict[str, Any]
    plan: dict[str, Any]
    record: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ReplannedDay:
    """A re-planned version to store: the day as it now is (stored as ``problem_id``), the plan
    document, the batch of events that made it, and its full-precision ``record``."""

    problem_id: str
    problem: dict[str, Any]
    plan: dict[str, Any]
    events: dict[str, Any]
    record: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class PlanWeek:
    """The week a day plan belongs to: the week, its horizon problem, the plan's date, every
    date of the week (``YYYY-MM-DD``) with its day plan (``None``: nobody works), and its
    ``revision`` when read (the saves of its day plans so far: ``Store.save_replans``)."""

    week_id: str
    problem_id: str
    date: str
    days: tuple[tuple[str, str | None], ...]
    revision: int


@dataclass(frozen=True, slots=True)
class WeekSummary:
    """A week as a list shows it: its first date, how many dates, and its day plans."""

    week_id: str
    problem_id: str
    created_at: datetime
    start: str
    days: int
    plans: tuple[str, ...]


#: What a job's new attempt starts without: the progress and draft of the attempt before it.
_NO_PROGRESS: dict[str, Any] = {
    "elapsed_s": 0.0,
    "best_cost": None,
    "visits_placed": None,
    "first_plan_s": None,
    "draft": None,
}


def _unheard_since(moment: datetime) -> ColumnElement[bool]:
    """A job's worker has not been heard of since ``moment``: its heartbeat is older, or it
    has none and started before."""
    return or_(
        SolveJobRow.heartbeat_at <= moment,
        SolveJobRow.heartbeat_at.is_(None) & (SolveJobRow.started_at <= moment),
    )


def _job(row: SolveJobRow) -> SolveJob:
    state: JobState = row.state  # type: ignore[assignment]
    return SolveJob(
        id=row.id,
        problem_id=row.problem_id,
        plan_id=row.plan_id,
        state=state,
        attempt=row.attempt,
        time_limit_s=row.time_limit_s,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        elapsed_s=row.elapsed_s,
        best_cost=row.best_cost,
        visits_placed=row.visits_placed,
        visits_total=row.visits_total,
        error=row.error,
        heartbeat_at=row.heartbeat_at,
        starts=row.starts or 0,
        first_plan_s=row.first_plan_s,
        parent_id=row.parent_id,
        parent_attempt=row.parent_attempt,
        region=row.region,
        regions_total=row.regions_total,
        regions_done=row.regions_done or 0,
    )


def _not_before(elapsed_s: float) -> ColumnElement[float]:
    """A job's ``elapsed_s`` moved on to ``elapsed_s``, never back: the progress beat and the
    drafts write from two threads, and a late write of an older figure must not undo a newer
    one (nor put ``elapsed_s`` before ``first_plan_s``)."""
    return case(
        (SolveJobRow.elapsed_s > elapsed_s, SolveJobRow.elapsed_s),
        else_=literal(elapsed_s, SolveJobRow.elapsed_s.type),
    )


# The two reads behind every request of the service, built once (with an ORM session and a
# statement built per call they cost several times more).
_LATEST_VERSION = select(func.max(PlanRow.version)).where(PlanRow.plan_id == bindparam("plan_id"))
_API_KEY = select(ApiKeyRow.id, ApiKeyRow.name, ApiKeyRow.created_at, ApiKeyRow.revoked_at).where(
    ApiKeyRow.key_hash == bindparam("key_hash")
)
_KEY_REVOKED_AT = select(ApiKeyRow.revoked_at).where(ApiKeyRow.id == bindparam("key_id"))


#: How long a SQLite connection waits for the database's lock: the engine's busy timeout, and
#: the wait for another connection to finish turning on WAL (which SQLite does not time).
SQLITE_WAIT_S = 30.0


def _engine(url: str) -> Engine:
    """An engine; SQLite gets foreign keys, WAL (readers never wait for the writer) and a
    wait for the lock (``SQLITE_WAIT_S``), since the service's solve workers write from other
    processes."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    engine = create_engine(url, connect_args={"timeout": SQLITE_WAIT_S})
    in_memory = url in {"sqlite://", "sqlite:///:memory:"}

    @event.listens_for(engine, "connect")
    def _on_connect(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if not in_memory:
            _write_ahead(cursor)
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def _write_ahead(cursor: Any) -> None:
    """Turn on SQLite's write-ahead log. Switching a fresh file to WAL takes the file for a
    moment and SQLite answers "database is locked" at once, without its busy handler, to a
    connection that asks meanwhile: processes starting together on a new store retry here."""
    deadline = time.monotonic() + SQLITE_WAIT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class Store:
    """The project's store of problems and plan versions.

    Parameters
    ----------
    url
        A SQLAlchemy URL: ``sqlite:///fieldroute.db`` (default) or ``postgresql+psycopg://…``.
    migrate
        Bring the schema to the newest revision first (off in solve workers: the service
        migrated before starting them).
    """

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.engine = _engine(url)
        # A store dropped without ``close`` closes its connections as it goes: left to the
        # collector, the engine's cycles kept them open until it ran, in whatever came next.
        weakref.finalize(self, self.engine.dispose)
        # The reads behind every request (a key, the latest version number) are single
        # statements: they go without BEGIN/ROLLBACK, which on PostgreSQL halves their cost.
        self._reads = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        if migrate:
            upgrade(self.engine)

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def healthy(self) -> bool:
        """Whether the database answers a trivial query."""
        try:
            with Session(self.engine) as session:
                session.scalars(select(ServiceSecretRow.name).limit(1)).first()
        except Exception:  # any driver error means "not healthy"; the caller reports it
            return False
        return True

    def save_problem_and_plan(
        self,
        problem: dict[str, Any],
        plan: dict[str, Any],
        *,
        problem_id: str,
        record: dict[str, Any] | None = None,
    ) -> None:
        """Store a new problem and the first version of its plan (its document, and its
        full-precision ``record`` when given) in one transaction."""
        now = datetime.now(UTC)
        with Session(self.engine) as session:
            try:
                with session.begin():
                    session.add(self._problem_row(problem, problem_id, now))
                    session.flush()
                    session.add(self._plan_row(plan, problem_id, now, record))
            except IntegrityError as error:
                raise StoreConflictError(
                    f"problem {problem_id} or plan {plan['plan_id']} already exists"
                ) from error

    def save_plan(
        self, plan: dict[str, Any], *, problem_id: str, record: dict[str, Any] | None = None
    ) -> None:
        """Store one plan version; refuses to overwrite an existing version."""
        with Session(self.engine) as session:
            try:
                with session.begin():
                    session.add(self._plan_row(plan, problem_id, datetime.now(UTC), record))
            except IntegrityError as error:
                raise StoreConflictError(
                    f"plan {plan['plan_id']} version {plan['version']} already exists"
                ) from error

    def save_replan(
        self,
        problem: dict[str, Any],
        plan: dict[str, Any],
        events: dict[str, Any],
        *,
        problem_id: str,
        record: dict[str, Any] | None = None,
        week: PlanWeek | None = None,
    ) -> None:
        """Store a re-planned version: the day as it now is, the plan and the events that
        produced it, in one transaction; refused when that version already exists, or when
        ``week`` moved on (``save_replans``)."""
        self.save_replans([ReplannedDay(problem_id, problem, plan, events, record)], week=week)

    def save_replans(self, days: Sequence[ReplannedDay], *, week: PlanWeek | None = None) -> None:
        """Store re-planned versions of several plans (a day of a week and the dates its visits
        moved to) in one transaction, each as ``save_replan`` stores one: all or nothing.

        ``week`` is the week of these days as read before reading any of its other dates
        (``week_of_plan``): the save counts one on its revision, refused when that is no longer
        the revision read. Two writers on two dates of a week each read the other's date, then
        save; the second is refused, whichever it is (one conditional ``UPDATE`` on the week's
        row: PostgreSQL's row lock, SQLite's one writer), so what one date holds is never
        decided on a reading of another that is no longer true.

        Raises
        ------
        WeekMovedError
            Another date of ``week`` was saved since it was read; nothing is stored.
        StoreConflictError
            One of the versions exists already (another batch got there first); nothing is
            stored.
        """
        now = datetime.now(UTC)
        with Session(self.engine) as session:
            try:
                with session.begin():
                    if week is not None:
                        self._count_on_week(session, week)
                    for day in days:
                        plan = day.plan
                        if session.get(PlanRow, (plan["plan_id"], plan["version"])) is not None:
                            raise StoreConflictError(_replan_conflict([day]))
                        session.add(self._problem_row(day.problem, day.problem_id, now))
                        session.flush()
                        session.add(self._plan_row(plan, day.problem_id, now, day.record))
                        session.add(
                            EventBatchRow(
                                plan_id=plan["plan_id"],
                                version=plan["version"],
                                at=str(plan.get("at", "")),
                                created_at=now,
                                payload=json.dumps(day.events, ensure_ascii=False),
                            )
                        )
            except IntegrityError as error:
                raise StoreConflictError(_replan_conflict(days)) from error

    @staticmethod
    def _count_on_week(session: Session, week: PlanWeek) -> None:
        """One more on ``week``'s revision, unless it moved on since ``week`` was read."""
        counted = session.execute(
            update(WeekRow)
            .where(WeekRow.id == week.week_id, WeekRow.revision == week.revision)
            .values(revision=WeekRow.revision + 1)
        )
        if counted.rowcount != 1:  # type: ignore[attr-defined]
            raise WeekMovedError(
                f"another date of week {week.week_id} changed while the plan of {week.date} "
                "was being changed; send it again"
            )

    def week_of_plan(self, plan_id: str) -> PlanWeek | None:
        """The week whose day plan ``plan_id`` is, or ``None`` for a plan of its own.

        A week is stored with version 1 of its day plans in one transaction, at one moment
        (``_add_week``): only the weeks stored at the moment of that version are read.
        """
        first = (
            select(PlanRow.created_at)
            .where(PlanRow.plan_id == plan_id, PlanRow.version == 1)
            .scalar_subquery()
        )
        query = select(WeekRow).where(WeekRow.created_at == first).order_by(WeekRow.id)
        with Session(self.engine) as session:
            for row in session.scalars(query):
                week = json.loads(row.payload)
                days = tuple((str(d["date"]), d.get("plan_id")) for d in week.get("days", []))
                for when, day_plan in days:
                    if day_plan == plan_id:
                        return PlanWeek(row.id, row.problem_id, when, days, row.revision)
        return None

    def load_events(self, plan_id: str) -> list[dict[str, Any]]:
        """Every batch of events of a plan, oldest first, each with the version it produced
        (``version``: a batch written against a version, as every booking's is, carries that
        one in its own payload, which had stood for the one produced)."""
        with Session(self.engine) as session:
            rows = session.scalars(
                select(EventBatchRow)
                .where(EventBatchRow.plan_id == plan_id)
                .order_by(EventBatchRow.version)
            )
            return [{**json.loads(row.payload), "version": row.version} for row in rows]

    @staticmethod
    def _problem_row(problem: dict[str, Any], problem_id: str, now: datetime) -> ProblemRow:
        # A horizon has no ``date``: it is listed by its first one.
        horizon = problem.get("horizon")
        start = horizon.get("start", "") if isinstance(horizon, dict) else ""
        technicians, visits, days = problem_sizes(problem)
        return ProblemRow(
            id=problem_id,
            created_at=now,
            date=str(problem.get("date") or start),
            payload=json.dumps(problem, ensure_ascii=False),
            technicians=technicians,
            visits=visits,
            days=days,
        )

    @staticmethod
    def _plan_row(
        plan: dict[str, Any], problem_id: str, now: datetime, record: dict[str, Any] | None
    ) -> PlanRow:
        return PlanRow(
            plan_id=plan["plan_id"],
            version=plan["version"],
            problem_id=problem_id,
            created_at=now,
            status=plan["status"],
            payload=json.dumps(plan, ensure_ascii=False),
            record=None if record is None else json.dumps(record, ensure_ascii=False),
        )

    def load_plan(self, plan_id: str, version: int | None = None) -> dict[str, Any]:
        """The plan's latest version, or ``version``; ``NotFoundError`` when absent."""
        query = select(PlanRow).where(PlanRow.plan_id == plan_id)
        if version is not None:
            query = query.where(PlanRow.version == version)
        with Session(self.engine) as session:
            row = session.scalars(query.order_by(PlanRow.version.desc()).limit(1)).first()
            if row is None:
                which = f"version {version} of plan" if version is not None else "plan"
                raise NotFoundError(f"no {which} '{plan_id}'")
            loaded: dict[str, Any] = json.loads(row.payload)
            return loaded

    def load_plan_record(self, plan_id: str, version: int) -> dict[str, Any] | None:
        """A plan version's full-precision record; ``None`` for a version stored without
        one (before revision 0003). ``NotFoundError`` when the version is absent."""
        with Session(self.engine) as session:
            row = session.get(PlanRow, (plan_id, version))
            if row is None:
                raise NotFoundError(f"no version {version} of plan '{plan_id}'")
            if row.record is None:
                return None
            loaded: dict[str, Any] = json.loads(row.record)
            return loaded

    def load_problem_of_plan(self, plan_id: str, version: int | None = None) -> dict[str, Any]:
        """The day a plan version (default: the latest) was made for."""
        query = select(PlanRow).where(PlanRow.plan_id == plan_id)
        if version is not None:
            query = query.where(PlanRow.version == version)
        with Session(self.engine) as session:
            row = session.scalars(query.order_by(PlanRow.version.desc()).limit(1)).first()
            if row is None:
                raise NotFoundError(f"no plan '{plan_id}'")
            problem = session.get(ProblemRow, row.problem_id)
            if problem is None:
                raise NotFoundError(f"the problem of plan '{plan_id}' is missing")
            loaded: dict[str, Any] = json.loads(problem.payload)
            return loaded

    def plan_versions(self, plan_id: str) -> list[int]:
        """Stored version numbers of a plan, ascending."""
        with Session(self.engine) as session:
            query = select(PlanRow.version).where(PlanRow.plan_id == plan_id)
            return sorted(session.scalars(query))

    # -- weeks ------------------------------------------------------------------------------

    def save_week(
        self,
        *,
        week: dict[str, Any],
        problem_id: str,
        problem: dict[str, Any] | None,
        days: Sequence[StoredDay],
    ) -> None:
        """Store a week in one transaction: the horizon problem, each day's problem and
        version 1 of its plan, then the week document.

        Parameters
        ----------
        week
            The week document; stored under its ``week_id``.
        problem_id
            The horizon problem the week plans.
        problem
            The horizon problem as sent, to store under ``problem_id``; ``None`` when it is
            stored already (a solve job of a stored problem).
        days
            Each date's day problem and plan, stored as ``save_problem_and_plan`` stores them.

        Raises
        ------
        StoreConflictError
            The week, the horizon problem, a day problem or a day plan exists already;
            nothing is stored.
        NotFoundError
            ``problem`` is ``None`` and no problem ``problem_id`` is stored.
        """
        with Session(self.engine) as session:
            try:
                with session.begin():
                    self._add_week(session, week, problem_id, problem, days)
            except IntegrityError as error:
                raise StoreConflictError(
                    _week_conflict(week, problem_id if problem is not None else None, days)
                ) from error

    @classmethod
    def _add_week(
        cls,
        session: Session,
        week: dict[str, Any],
        problem_id: str,
        problem: dict[str, Any] | None,
        days: Sequence[StoredDay],
    ) -> None:
        now = _now()
        if problem is not None:
            session.add(cls._problem_row(problem, problem_id, now))
        elif session.get(ProblemRow, problem_id) is None:
            raise NotFoundError(f"no problem '{problem_id}'")
        session.add_all([cls._problem_row(day.problem, day.problem_id, now) for day in days])
        session.flush()
        session.add_all([cls._plan_row(day.plan, day.problem_id, now, day.record) for day in days])
        session.flush()
        session.add(
            WeekRow(
                id=week["week_id"],
                problem_id=problem_id,
                created_at=now,
                payload=json.dumps(week, ensure_ascii=False),
            )
        )

    def load_week(self, week_id: str) -> dict[str, Any]:
        """A week document; ``NotFoundError`` when absent."""
        with Session(self.engine) as session:
            row = session.get(WeekRow, week_id)
            if row is None:
                raise NotFoundError(f"no week '{week_id}'")
            loaded: dict[str, Any] = json.loads(row.payload)
            return loaded

    def recent_weeks(self, limit: int = 50) -> list[WeekSummary]:
        """Weeks, the most recently stored first."""
        query = select(WeekRow).order_by(WeekRow.created_at.desc(), WeekRow.id).limit(limit)
        with Session(self.engine) as session:
            found = []
            for row in session.scalars(query):
                week = json.loads(row.payload)
                dates = week.get("dates", [])
                found.append(
                    WeekSummary(
                        week_id=row.id,
                        problem_id=row.problem_id,
                        created_at=row.created_at,
                        start=str(dates[0]) if dates else "",
                        days=len(dates),
                        plans=tuple(
                            str(day["plan_id"]) for day in week.get("days", []) if day["plan_id"]
                        ),
                    )
                )
            return found

    # -- problems ---------------------------------------------------------------------------

    def save_problem(self, problem: dict[str, Any], *, problem_id: str) -> None:
        """Store a validated problem on its own (the service's ``POST /problems``)."""
        with Session(self.engine) as session:
            try:
                with session.begin():
                    session.add(self._problem_row(problem, problem_id, datetime.now(UTC)))
            except IntegrityError as error:
                raise StoreConflictError(f"problem {problem_id} already exists") from error

    def recent_problems(self, limit: int = 50) -> list[ProblemSummary]:
        """The days the desk stored, newest first, those stored at once (a week's) by date;
        not the days of re-planned versions (each re-plan stores the day as it then is, for
        its version alone). Their sizes are the columns counted as each was stored: no day is
        read."""
        replanned = select(PlanRow.problem_id).where(PlanRow.version > 1)
        query = (
            select(
                ProblemRow.id,
                ProblemRow.date,
                ProblemRow.created_at,
                ProblemRow.technicians,
                ProblemRow.visits,
                ProblemRow.days,
            )
            .where(ProblemRow.id.not_in(replanned))
            .order_by(ProblemRow.created_at.desc(), ProblemRow.date, ProblemRow.id)
            .limit(limit)
        )
        with Session(self.engine) as session:
            return [ProblemSummary(*row) for row in session.execute(query)]

    def recent_plans(self, limit: int = 50) -> list[PlanSummary]:
        """Plans by their latest version, the most recently changed first, those changed at
        once (a week's days, stored together) by date: in id order, a week's dates were
        jumbled. No plan document is read (50 plans of 5,000 visits are 170 MB of text)."""
        latest = (
            select(PlanRow.plan_id, func.max(PlanRow.version).label("version"))
            .group_by(PlanRow.plan_id)
            .subquery()
        )
        first = select(PlanRow.plan_id, PlanRow.problem_id).where(PlanRow.version == 1).subquery()
        query = (
            select(
                PlanRow.plan_id,
                PlanRow.version,
                ProblemRow.date,
                PlanRow.status,
                PlanRow.created_at,
                first.c.problem_id,
            )
            .join(
                latest,
                (PlanRow.plan_id == latest.c.plan_id) & (PlanRow.version == latest.c.version),
            )
            .join(ProblemRow, ProblemRow.id == PlanRow.problem_id)
            .join(first, first.c.plan_id == PlanRow.plan_id)
            .order_by(PlanRow.created_at.desc(), ProblemRow.date, PlanRow.plan_id)
            .limit(limit)
        )
        with Session(self.engine) as session:
            return [PlanSummary(*row) for row in session.execute(query)]

    def load_problem(self, problem_id: str) -> dict[str, Any]:
        """A stored problem; ``NotFoundError`` when absent."""
        with Session(self.engine) as session:
            row = session.get(ProblemRow, problem_id)
            if row is None:
                raise NotFoundError(f"no problem '{problem_id}'")
            loaded: dict[str, Any] = json.loads(row.payload)
            return loaded

    def plan_text(self, plan_id: str, version: int | None = None) -> tuple[int, str]:
        """``(version, JSON text)`` of a plan version (default: the latest), unparsed, for
        readers that pass it on as it is."""
        query = select(PlanRow.version, PlanRow.payload).where(PlanRow.plan_id == plan_id)
        if version is not None:
            query = query.where(PlanRow.version == version)
        with Session(self.engine) as session:
            row = session.execute(query.order_by(PlanRow.version.desc()).limit(1)).first()
        if row is None:
            which = f"version {version} of plan" if version is not None else "plan"
            raise NotFoundError(f"no {which} '{plan_id}'")
        return row[0], row[1]

    def latest_version(self, plan_id: str) -> int:
        """The newest version number of a plan; ``NotFoundError`` when it has none."""
        with self._reads.connect() as connection:
            latest = connection.scalar(_LATEST_VERSION, {"plan_id": plan_id})
        if latest is None:
            raise NotFoundError(f"no plan '{plan_id}'")
        return int(latest)

    # -- solve jobs -------------------------------------------------------------------------

    def create_job(
        self,
        *,
        problem_id: str,
        time_limit_s: float | None,
        visits_total: int,
        produces: JobOutput = "plan",
    ) -> SolveJob:
        """A queued job that will solve ``problem_id`` into version 1 of a new plan, or into a
        new week (``produces="week"``, for a horizon); its ``plan_id`` is that plan's or
        week's id."""
        now = datetime.now(UTC)
        row = SolveJobRow(
            id=new_id("jb"),
            problem_id=problem_id,
            plan_id=new_id(_ID_PREFIX[produces]),
            state="queued",
            attempt=1,
            time_limit_s=time_limit_s,
            created_at=now,
            elapsed_s=0.0,
            visits_total=visits_total,
        )
        with Session(self.engine) as session:
            with session.begin():
                if session.get(ProblemRow, problem_id) is None:
                    raise NotFoundError(f"no problem '{problem_id}'")
                session.add(row)
            return _job(row)

    def load_job(self, job_id: str) -> SolveJob:
        """A job; ``NotFoundError`` when absent."""
        with Session(self.engine) as session:
            row = session.get(SolveJobRow, job_id)
            if row is None:
                raise NotFoundError(f"no job '{job_id}'")
            return _job(row)

    def job_of_plan(self, plan_id: str) -> SolveJob | None:
        """The job that makes (or made) ``plan_id``, if any: a plan's id or a week's."""
        with Session(self.engine) as session:
            row = session.scalars(select(SolveJobRow).where(SolveJobRow.plan_id == plan_id)).first()
            return None if row is None else _job(row)

    def _move_job(
        self,
        job_id: str,
        attempt: int,
        from_state: str,
        /,
        *also: ColumnElement[bool],
        **values: Any,
    ) -> bool:
        """Set ``values`` on the job when it is still in ``from_state`` at ``attempt`` (and
        ``also`` holds): a worker of an older attempt (or one the service gave up on) can change
        nothing."""
        statement = (
            update(SolveJobRow)
            .where(SolveJobRow.id == job_id)
            .where(SolveJobRow.attempt == attempt)
            .where(SolveJobRow.state == from_state)
            .where(*also)
            .values(**values)
        )
        with Session(self.engine) as session, session.begin():
            return session.execute(statement).rowcount == 1  # type: ignore[attr-defined,no-any-return]

    def start_job(self, job_id: str, attempt: int) -> bool:
        """queued → running; ``False`` when the job is no longer this attempt's to run."""
        now = _now()
        return self._move_job(
            job_id,
            attempt,
            "queued",
            state="running",
            started_at=now,
            heartbeat_at=now,
            starts=SolveJobRow.starts + 1,
        )

    def claim_job(
        self, job_id: str, *, stale_after_s: float, max_starts: int, gave_up: str
    ) -> JobClaim:
        """Claim a job for a worker a broker handed it to, which may be the second to get it.

        The redelivery rules, each one move (or none) of the job's row:

        - queued: started (queued → running, the job's attempt), as ``start_job``; unless it
          was queued again by ``requeue_lost_job`` after ``max_starts`` starts: then failed
          with ``gave_up`` (``gave_up``);
        - done or failed: nothing (``ended``): a late duplicate changes nothing;
        - running and fanned out (``fan_out_job``) at its attempt: nothing (``fanned_out``), its
          region jobs are at it, each with a task of its own;
        - running with a heartbeat younger than ``stale_after_s``: nothing (``alive``), its
          worker is at it;
        - running with an older heartbeat (its worker was lost): taken over as a new attempt
          (``taken_over``), so the lost worker, were it only stalled, can write nothing more;
          unless the job was started ``max_starts`` times already: then failed with
          ``gave_up`` (``gave_up``).

        Parameters
        ----------
        job_id
            The job.
        stale_after_s
            Age of a heartbeat after which its worker is taken for lost.
        max_starts
            Workers a job may be started on since it was last queued.
        gave_up
            The failed job's message for the user.

        Raises
        ------
        NotFoundError
            No job ``job_id``.
        """
        for _ in range(_CLAIM_TRIES):
            job = self.load_job(job_id)
            now = _now()
            if job.state in ("done", "failed"):
                return JobClaim("ended", job, job.attempt)
            if job.state == "running" and job.regions_total is not None:
                return JobClaim("fanned_out", job, job.attempt)
            if job.state == "queued":
                if job.starts >= max_starts:  # queued again after its workers were lost
                    if self._give_up(job, gave_up, "queued"):
                        return JobClaim("gave_up", self.load_job(job_id), job.attempt)
                    continue
                if self.start_job(job_id, job.attempt):
                    return JobClaim("started", self.load_job(job_id), job.attempt)
                continue
            stale_before = now - timedelta(seconds=stale_after_s)
            beat = job.heartbeat_at or job.started_at
            if beat is not None and beat > stale_before:
                return JobClaim("alive", job, job.attempt)
            # The same decision in the write: a heartbeat written meanwhile wins.
            still_stale = or_(
                SolveJobRow.heartbeat_at.is_(None), SolveJobRow.heartbeat_at <= stale_before
            )
            if job.starts >= max_starts:
                if self._give_up(job, gave_up, "running", still_stale):
                    return JobClaim("gave_up", self.load_job(job_id), job.attempt)
                continue
            if self._move_job(
                job_id,
                job.attempt,
                "running",
                still_stale,
                attempt=job.attempt + 1,
                starts=SolveJobRow.starts + 1,
                started_at=now,
                heartbeat_at=now,
                **_NO_PROGRESS,
            ):
                return JobClaim("taken_over", self.load_job(job_id), job.attempt + 1)
        raise InternalError(f"job {job_id} kept changing while a worker claimed it")

    def _give_up(
        self, job: SolveJob, why: str, from_state: str, /, *also: ColumnElement[bool]
    ) -> bool:
        """Fail ``job`` with ``why`` when still in ``from_state`` at its attempt (and ``also``
        holds): its workers were lost ``max_starts`` times (``claim_job``)."""
        return self._move_job(
            job.id,
            job.attempt,
            from_state,
            *also,
            state="failed",
            error=why,
            finished_at=_now(),
            draft=None,
        )

    def requeue_lost_job(self, job_id: str, attempt: int, *, stale_after_s: float) -> bool:
        """running → queued as a new attempt, when the job's heartbeat is older than
        ``stale_after_s`` (its worker was lost) and it has no regions: with Celery, such a job
        said ``running`` for as long as no worker came, its time frozen, and could not be
        retried; queued, it says what it waits for, and the next worker starts it (its
        ``starts`` kept, so that ``claim_job`` still gives up after ``max_starts``). The lost
        attempt's writes change nothing from then on. ``False`` when the job moved on."""
        stale_before = _now() - timedelta(seconds=stale_after_s)
        return self._move_job(
            job_id,
            attempt,
            "running",
            _unheard_since(stale_before),
            SolveJobRow.regions_total.is_(None),
            SolveJobRow.parent_id.is_(None),
            state="queued",
            attempt=attempt + 1,
            started_at=None,
            heartbeat_at=None,
            **_NO_PROGRESS,
        )

    def report_progress(
        self,
        job_id: str,
        attempt: int,
        *,
        elapsed_s: float,
        best_cost: int | None = None,
        placed: int | None = None,
    ) -> None:
        """Record a running job's progress, and its heartbeat; a figure not known (``None``)
        keeps its last value, and ``elapsed_s`` never goes back."""
        known = {"best_cost": best_cost, "visits_placed": placed}
        self._move_job(
            job_id,
            attempt,
            "running",
            elapsed_s=_not_before(elapsed_s),
            heartbeat_at=_now(),
            **{name: value for name, value in known.items() if value is not None},
        )

    def beat_jobs(self, attempts: Mapping[str, int]) -> None:
        """Write the heartbeat of each running job of ``attempts`` (job id -> attempt) that
        still runs at that attempt: the service process running them is alive."""
        if not attempts:
            return
        with Session(self.engine) as session, session.begin():
            for job_id, attempt in attempts.items():
                session.execute(
                    update(SolveJobRow)
                    .where(
                        SolveJobRow.id == job_id,
                        SolveJobRow.attempt == attempt,
                        SolveJobRow.state == "running",
                    )
                    .values(heartbeat_at=_now())
                )

    def report_first_plan(self, job_id: str, attempt: int, *, elapsed_s: float) -> bool:
        """The running job's search has its first plan (a job that makes no drafts: a week),
        ``elapsed_s`` seconds into the attempt: its ``first_plan_s``, unless already set. Also a
        progress write. ``False`` when the job is no longer running at ``attempt``."""
        return self._move_job(
            job_id,
            attempt,
            "running",
            first_plan_s=func.coalesce(SolveJobRow.first_plan_s, elapsed_s),
            elapsed_s=_not_before(elapsed_s),
            heartbeat_at=_now(),
        )

    def save_draft(
        self, job_id: str, attempt: int, document: dict[str, Any], *, elapsed_s: float
    ) -> bool:
        """Keep ``document`` as the running job's newest draft plan, in place of the one before;
        the first draft of the attempt sets its ``first_plan_s`` to ``elapsed_s``. Also a
        progress write (``elapsed_s``, the heartbeat). Safe from any thread, as every write of
        the store is (one session per call).

        Parameters
        ----------
        job_id, attempt
            The job and the attempt whose search drafted ``document``: a lost attempt (taken
            over, failed) or an ended job changes nothing.
        document
            The draft, as the contract's plan document in JSON.
        elapsed_s
            Seconds since the attempt started.

        Returns
        -------
        bool
            Whether it was kept: ``False`` when the job is no longer running at ``attempt``.
        """
        return self._move_job(
            job_id,
            attempt,
            "running",
            draft=json.dumps(document, ensure_ascii=False),
            first_plan_s=func.coalesce(SolveJobRow.first_plan_s, elapsed_s),
            elapsed_s=_not_before(elapsed_s),
            heartbeat_at=_now(),
        )

    def job_draft(self, job_id: str) -> dict[str, Any] | None:
        """The newest draft plan of a running job (the contract's plan document, not a stored
        plan); ``None`` when it has none: no first plan yet, a week job (no drafts), a job
        that fanned out (its draft is joined from its regions': ``region_drafts``), a region
        job (its draft is its region's plan record, read by ``region_drafts``), or the job
        ended (its plan, if any, is stored). ``NotFoundError`` when there is no job ``job_id``."""
        query = select(SolveJobRow.state, SolveJobRow.draft, SolveJobRow.parent_id).where(
            SolveJobRow.id == job_id
        )
        with self._reads.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            raise NotFoundError(f"no job '{job_id}'")
        if row.state != "running" or row.draft is None or row.parent_id is not None:
            return None
        loaded: dict[str, Any] = json.loads(row.draft)
        return loaded

    def finish_job(
        self,
        job_id: str,
        attempt: int,
        plan: dict[str, Any],
        *,
        elapsed_s: float,
        record: dict[str, Any] | None = None,
    ) -> bool:
        """Store the job's plan and mark it done (its draft cleared), in one transaction: a job
        is never done without its plan. ``False`` (nothing stored) when the job is no longer
        this attempt's."""
        with Session(self.engine) as session, session.begin():
            job = session.get(SolveJobRow, job_id, with_for_update=True)
            if job is None or job.attempt != attempt or job.state != "running":
                return False
            session.add(self._plan_row(plan, job.problem_id, _now(), record))
            job.state = "done"
            job.finished_at = _now()
            job.elapsed_s = elapsed_s
            job.visits_placed = int(plan["kpis"]["assigned"])
            job.error = None
            job.draft = None
            return True

    def finish_week_job(
        self,
        job_id: str,
        attempt: int,
        week: dict[str, Any],
        *,
        days: Sequence[StoredDay],
        elapsed_s: float,
    ) -> bool:
        """Store the job's week (as ``save_week`` does, the horizon being the job's stored
        problem) and mark the job done, in one transaction: a job is never done without its
        week. ``False`` (nothing stored) when the job is no longer this attempt's.

        Raises
        ------
        InternalError
            ``week["week_id"]`` is not the id the job was created to make.
        StoreConflictError
            The week, a day problem or a day plan exists already; nothing is stored.
        """
        with Session(self.engine) as session:
            try:
                with session.begin():
                    job = session.get(SolveJobRow, job_id, with_for_update=True)
                    if job is None or job.attempt != attempt or job.state != "running":
                        return False
                    if week["week_id"] != job.plan_id:
                        raise InternalError(
                            f"job {job_id} makes {job.plan_id}, not week {week['week_id']}"
                        )
                    self._add_week(session, week, job.problem_id, None, days)
                    job.state = "done"
                    job.finished_at = _now()
                    job.elapsed_s = elapsed_s
                    job.visits_placed = int(week["kpis"]["assigned"])
                    job.error = None
                    job.draft = None
                    return True
            except IntegrityError as error:
                raise StoreConflictError(_week_conflict(week, None, days)) from error

    # -- a day's regions, one job each -------------------------------------------------------

    def fan_out_job(self, job_id: str, attempt: int, *, regions: Sequence[int]) -> list[SolveJob]:
        """Make one queued job per region of the running attempt ``attempt`` of a day job, in
        one transaction with the count of its regions on the job (from then on it is
        ``fanned_out`` to ``claim_job``). Each region job solves the job's problem restricted
        to its region (its index in the day), with the job's time limit.

        Parameters
        ----------
        job_id, attempt
            The day job and its running attempt.
        regions
            The visits of each region, in the day's order of regions: each region job's
            ``visits_total``.

        Returns
        -------
        list[SolveJob]
            The region jobs, by region; none when the job is no longer running at
            ``attempt`` or that attempt fanned out already.
        """
        now = _now()
        with Session(self.engine) as session, session.begin():
            moved = session.execute(
                update(SolveJobRow)
                .where(SolveJobRow.id == job_id)
                .where(SolveJobRow.attempt == attempt)
                .where(SolveJobRow.state == "running")
                .where(SolveJobRow.regions_total.is_(None))
                .values(
                    regions_total=len(regions), regions_done=0, visits_placed=0, heartbeat_at=now
                )
                .execution_options(synchronize_session=False)
            )
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                return []
            parent = session.get(SolveJobRow, job_id)
            assert parent is not None
            rows = [
                SolveJobRow(
                    id=new_id("jb"),
                    problem_id=parent.problem_id,
                    plan_id=new_id("rg"),
                    state="queued",
                    attempt=1,
                    time_limit_s=parent.time_limit_s,
                    created_at=now,
                    elapsed_s=0.0,
                    visits_total=visits,
                    starts=0,
                    parent_id=job_id,
                    parent_attempt=attempt,
                    region=k,
                    regions_done=0,
                )
                for k, visits in enumerate(regions)
            ]
            session.add_all(rows)
            session.flush()
            return [_job(row) for row in rows]

    def region_jobs(self, job_id: str, attempt: int) -> list[SolveJob]:
        """The region jobs that attempt ``attempt`` of a job fanned out to, by region."""
        query = (
            select(SolveJobRow)
            .where(SolveJobRow.parent_id == job_id)
            .where(SolveJobRow.parent_attempt == attempt)
            .order_by(SolveJobRow.region)
        )
        with Session(self.engine) as session:
            return [_job(row) for row in session.scalars(query)]

    def finish_region(
        self,
        job_id: str,
        attempt: int,
        record: dict[str, Any],
        *,
        placed: int,
        elapsed_s: float,
    ) -> RegionFinish:
        """A region job's end: running → done at ``attempt``, its region's plan kept, and
        counted on its job (its ``regions_done``; its ``visits_placed`` grows by ``placed``),
        all in one transaction; then, as ``save_region_draft`` does, the job's ``first_plan_s``
        when every region now has a plan.

        The count is one conditional ``UPDATE … RETURNING`` on the job's row, after the region
        job's own move: concurrent ends of two regions are serialised on that row (PostgreSQL's
        row lock, SQLite's one writer), each reads the count its own increment made, so exactly
        one of them is told ``last``. A late duplicate (the region job no longer running at
        ``attempt``) changes nothing.

        Parameters
        ----------
        job_id, attempt
            The region job and the attempt that solved it.
        record
            Its region's plan, as a full-precision plan record (``dispatch.contract.record``).
        placed
            Visits the region's plan serves.
        elapsed_s
            Seconds the region job took.

        Returns
        -------
        RegionFinish
            ``last`` when this made its job's count whole (and the job still runs the attempt
            that fanned out): the caller joins the regions.
        """
        now = _now()
        with Session(self.engine) as session, session.begin():
            moved = session.execute(
                update(SolveJobRow)
                .where(SolveJobRow.id == job_id)
                .where(SolveJobRow.attempt == attempt)
                .where(SolveJobRow.state == "running")
                .where(SolveJobRow.parent_id.is_not(None))
                .values(
                    state="done",
                    finished_at=now,
                    elapsed_s=elapsed_s,
                    visits_placed=placed,
                    error=None,
                    draft=None,
                    region_plan=json.dumps(record, ensure_ascii=False),
                )
                .returning(SolveJobRow.parent_id, SolveJobRow.parent_attempt)
                .execution_options(synchronize_session=False)
            ).first()
            if moved is None:
                return "refused"
            parent_id, parent_attempt = moved
            started = session.scalar(
                select(SolveJobRow.started_at).where(SolveJobRow.id == parent_id)
            )
            since_s = 0.0 if started is None else max(0.0, (now - started).total_seconds())
            counted = session.execute(
                update(SolveJobRow)
                .where(SolveJobRow.id == parent_id)
                .where(SolveJobRow.attempt == parent_attempt)
                .where(SolveJobRow.state == "running")
                .where(SolveJobRow.regions_total.is_not(None))
                .values(
                    regions_done=SolveJobRow.regions_done + 1,
                    visits_placed=func.coalesce(SolveJobRow.visits_placed, 0) + placed,
                    elapsed_s=_not_before(since_s),
                    heartbeat_at=now,
                )
                .returning(SolveJobRow.regions_done, SolveJobRow.regions_total)
                .execution_options(synchronize_session=False)
            ).first()
        self._first_plan_of_day(job_id)
        if counted is None:
            return "counted"  # its job ended (another region failed) or moved on: no join
        done, total = counted
        return "last" if done == total else "counted"

    def region_plans(self, job_id: str, attempt: int) -> list[dict[str, Any]] | None:
        """The plans of every region of attempt ``attempt`` of a fanned-out job, by region
        (full-precision plan records), when each is done and the job still runs that attempt;
        ``None`` otherwise (a region not done yet, or the job ended or moved on)."""
        job = select(SolveJobRow.state, SolveJobRow.attempt, SolveJobRow.regions_total).where(
            SolveJobRow.id == job_id
        )
        regions = (
            select(SolveJobRow.state, SolveJobRow.region_plan)
            .where(SolveJobRow.parent_id == job_id)
            .where(SolveJobRow.parent_attempt == attempt)
            .order_by(SolveJobRow.region)
        )
        with Session(self.engine) as session:
            found = session.execute(job).first()
            if found is None:
                raise NotFoundError(f"no job '{job_id}'")
            if found.state != "running" or found.attempt != attempt:
                return None
            rows = session.execute(regions).all()
        if len(rows) != found.regions_total or any(
            row.state != "done" or row.region_plan is None for row in rows
        ):
            return None
        return [json.loads(row.region_plan) for row in rows]

    def save_region_draft(
        self, job_id: str, attempt: int, record: dict[str, Any], *, elapsed_s: float
    ) -> bool:
        """Keep ``record`` as running region job ``job_id``'s newest draft, as ``save_draft``
        keeps a job's (its own ``first_plan_s``, progress and heartbeat too); then, once every
        region of its job's attempt has a plan (a draft, or done), that job's ``first_plan_s``:
        seconds since the job's start, unless set already. The job's row is read, never
        rewritten, by a region's later drafts: its draft of the day is joined when read
        (``region_drafts``).

        Parameters
        ----------
        job_id, attempt
            The region job and the attempt whose search drafted ``record``: a lost attempt
            or an ended job changes nothing.
        record
            The region's draft plan, as a full-precision plan record
            (``dispatch.contract.record``, JSON), as ``finish_region`` keeps its plan.
        elapsed_s
            Seconds since the region job's attempt started.

        Returns
        -------
        bool
            Whether it was kept: ``False`` when the job is no longer running at ``attempt``.
        """
        if not self.save_draft(job_id, attempt, record, elapsed_s=elapsed_s):
            return False
        self._first_plan_of_day(job_id)
        return True

    def _first_plan_of_day(self, region_job_id: str) -> None:
        """The ``first_plan_s`` of the job that ``region_job_id`` is a region of (in seconds
        since that job's start, and its ``elapsed_s`` at least as much), once every region of
        the attempt it fanned out has a plan (a running one its draft, or done), unless set
        already or the job no longer runs that attempt. Its own transaction, after the
        region's write is committed: of regions writing at once, the last to commit sees the
        others' writes, whatever the order of their transactions."""
        region = aliased(SolveJobRow)
        day = (
            select(SolveJobRow.id, SolveJobRow.attempt, SolveJobRow.started_at)
            .join(
                region,
                (region.parent_id == SolveJobRow.id)
                & (region.parent_attempt == SolveJobRow.attempt),
            )
            .where(region.id == region_job_id)
            .where(SolveJobRow.state == "running")
            .where(SolveJobRow.regions_total.is_not(None))
            .where(SolveJobRow.first_plan_s.is_(None))
        )
        with Session(self.engine) as session, session.begin():
            job = session.execute(day).first()
            if job is None:
                return  # not a region, set already, or its job ended or moved on
            no_plan = session.scalar(
                select(func.count())
                .select_from(SolveJobRow)
                .where(SolveJobRow.parent_id == job.id)
                .where(SolveJobRow.parent_attempt == job.attempt)
                .where(SolveJobRow.state != "done")
                .where(or_(SolveJobRow.state != "running", SolveJobRow.draft.is_(None)))
            )
            if no_plan:
                return
            now = _now()
            since_s = 0.0 if job.started_at is None else (now - job.started_at).total_seconds()
            since_s = max(0.0, since_s)
            session.execute(
                update(SolveJobRow)
                .where(SolveJobRow.id == job.id)
                .where(SolveJobRow.attempt == job.attempt)
                .where(SolveJobRow.state == "running")
                .where(SolveJobRow.first_plan_s.is_(None))
                .values(first_plan_s=since_s, elapsed_s=_not_before(since_s))
                .execution_options(synchronize_session=False)
            )

    def region_drafts(self, job_id: str, attempt: int) -> list[dict[str, Any]] | None:
        """The newest plan of every region of attempt ``attempt`` of a fanned-out job, by
        region (full-precision plan records): a running region's newest draft
        (``save_region_draft``), a done region's plan; what the job's draft of the whole day
        is joined from. ``None`` until every region has one (or when a region failed), or when
        the job no longer runs that attempt. ``NotFoundError`` when there is no job
        ``job_id``."""
        job = select(SolveJobRow.state, SolveJobRow.attempt, SolveJobRow.regions_total).where(
            SolveJobRow.id == job_id
        )
        regions = (
            select(SolveJobRow.state, SolveJobRow.draft, SolveJobRow.region_plan)
            .where(SolveJobRow.parent_id == job_id)
            .where(SolveJobRow.parent_attempt == attempt)
            .order_by(SolveJobRow.region)
        )
        with self._reads.connect() as connection:
            found = connection.execute(job).first()
            if found is None:
                raise NotFoundError(f"no job '{job_id}'")
            if found.state != "running" or found.attempt != attempt:
                return None
            rows = connection.execute(regions).all()
        # A region's draft is cleared when it ends, whether done or failed.
        newest = [row.region_plan if row.state == "done" else row.draft for row in rows]
        if len(newest) != found.regions_total or any(text is None for text in newest):
            return None
        return [json.loads(text) for text in newest]

    def fail_job(self, job_id: str, attempt: int, error: str) -> None:
        """Mark a queued or running attempt failed, with a message for the user; its draft,
        if any, is cleared."""
        for state in ("running", "queued"):
            if self._move_job(
                job_id, attempt, state, state="failed", error=error, finished_at=_now(), draft=None
            ):
                return

    def recover_jobs(self) -> list[SolveJob]:
        """At start-up: the queued jobs, which no worker holds any more, to run again (a queued
        job handed to two processes still runs once: ``start_job`` lets one attempt start).
        Running jobs are left to ``fail_lost_jobs``: one whose worker still solves after its
        service was killed and quickly restarted stores its plan (failed at the restart, its
        finished plan had been thrown away)."""
        with Session(self.engine) as session:
            queued = session.scalars(select(SolveJobRow).where(SolveJobRow.state == "queued"))
            return [_job(row) for row in queued]

    def jobs_without_news(self, *, stale_after_s: float) -> list[SolveJob]:
        """The jobs nobody has told of for ``stale_after_s``: running with an older heartbeat,
        or queued since longer. With a broker, their task may be lost (a broker restarted
        with nothing on disk): publishing it again is harmless, a job runs once however many
        tasks name it (``claim_job`` takes a stale one over, leaves a live one)."""
        stale_before = _now() - timedelta(seconds=stale_after_s)
        silent = or_(
            (SolveJobRow.state == "queued") & (SolveJobRow.created_at <= stale_before),
            (SolveJobRow.state == "running") & _unheard_since(stale_before),
        )
        with Session(self.engine) as session:
            return [_job(row) for row in session.scalars(select(SolveJobRow).where(silent))]

    def fail_lost_jobs(self, *, stale_after_s: float) -> list[str]:
        """Fail the running jobs whose worker wrote no heartbeat for ``stale_after_s`` (its
        process was killed or stopped with its service); returns their ids. They can be
        retried. Region jobs are left to their own takeover (Celery)."""
        stale_before = _now() - timedelta(seconds=stale_after_s)
        lost = (
            (SolveJobRow.state == "running")
            & SolveJobRow.parent_id.is_(None)
            & _unheard_since(stale_before)
        )
        with Session(self.engine) as session, session.begin():
            failed = session.scalars(
                update(SolveJobRow)
                .where(lost)  # decided in the write: a heartbeat written meanwhile wins
                .values(
                    state="failed",
                    error=LOST.format(seconds=stale_after_s),
                    finished_at=_now(),
                    draft=None,
                )
                .returning(SolveJobRow.id)
            )
            return list(failed)

    def retry_job(self, job_id: str) -> SolveJob:
        """failed → queued as a new attempt; ``StoreConflictError`` unless the job failed."""
        with Session(self.engine) as session, session.begin():
            row = session.get(SolveJobRow, job_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"no job '{job_id}'")
            if row.state != "failed":
                raise StoreConflictError(
                    f"job {job_id} is {row.state}; only a failed job is retried"
                )
            if row.parent_id is not None:
                raise StoreConflictError(
                    f"job {job_id} solves a region of job {row.parent_id}: retry "
                    f"{row.parent_id}, which solves every region again"
                )
            # Decided in the write: SQLite takes no row lock (``with_for_update`` is nothing
            # there), and two retries that both read the job failed both queued it again,
            # one over an attempt already started.
            retried = session.execute(
                update(SolveJobRow)
                .where(
                    SolveJobRow.id == job_id,
                    SolveJobRow.state == "failed",
                    SolveJobRow.attempt == row.attempt,
                )
                .values(
                    state="queued",
                    attempt=row.attempt + 1,
                    error=None,
                    started_at=None,
                    finished_at=None,
                    heartbeat_at=None,
                    starts=0,
                    **_NO_PROGRESS,
                    regions_total=None,
                    regions_done=0,
                )
                .execution_options(synchronize_session=False)
            )
            if retried.rowcount != 1:  # type: ignore[attr-defined]
                raise StoreConflictError(
                    f"job {job_id} was retried meanwhile; only a failed job is retried"
                )
        return self.load_job(job_id)

    # -- API keys and secrets ---------------------------------------------------------------

    def create_api_key(self, name: str) -> tuple[ApiKey, str]:
        """A new dispatcher key: ``(its record, the key)``. The key is shown this once; only
        its hash is stored."""
        name = name.strip()
        if not name or len(name) > 100:
            raise InputError(
                [FieldError("name", "an API key needs a name of 1 to 100 characters")],
                what="API key",
            )
        key = f"fr_{secrets.token_urlsafe(32)}"
        record = ApiKey(id=new_id("ak"), name=name, created_at=_now(), revoked_at=None)
        row = ApiKeyRow(
            id=record.id, name=name, key_hash=hash_key(key), created_at=record.created_at
        )
        with Session(self.engine) as session, session.begin():
            session.add(row)
        return record, key

    def api_key_for(self, key: str) -> ApiKey | None:
        """The live key matching ``key``, or ``None`` (unknown or revoked)."""
        with self._reads.connect() as connection:
            row = connection.execute(_API_KEY, {"key_hash": hash_key(key)}).first()
        if row is None or row.revoked_at is not None:
            return None
        return ApiKey(row.id, row.name, row.created_at, row.revoked_at)

    def is_live_key(self, key_id: str) -> bool:
        """Whether the key with id ``key_id`` exists and is not revoked."""
        with self._reads.connect() as connection:
            row = connection.execute(_KEY_REVOKED_AT, {"key_id": key_id}).first()
        return row is not None and row.revoked_at is None

    def api_keys(self) -> list[ApiKey]:
        """Every key, oldest first."""
        with Session(self.engine) as session:
            rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at))
            return [ApiKey(r.id, r.name, r.created_at, r.revoked_at) for r in rows]

    def revoke_api_key(self, key_id: str) -> None:
        """Revoke a key by id; it stops working at once."""
        with Session(self.engine) as session, session.begin():
            row = session.get(ApiKeyRow, key_id)
            if row is None:
                raise NotFoundError(f"no API key '{key_id}'")
            if row.revoked_at is None:
                row.revoked_at = _now()

    def secret(self, name: str) -> str:
        """The service's secret ``name``, made (256 random bits) the first time it is asked for;
        every process and restart then shares it."""
        with Session(self.engine) as session:
            row = session.get(ServiceSecretRow, name)
            if row is not None:
                return row.value
        value = secrets.token_hex(32)
        try:
            with Session(self.engine) as session, session.begin():
                session.add(ServiceSecretRow(name=name, value=value, created_at=_now()))
        except IntegrityError:  # another process made it first: use theirs
            with Session(self.engine) as session:
                row = session.get(ServiceSecretRow, name)
                if row is None:
                    raise
                return row.value
        return value


def _now() -> datetime:
    return datetime.now(UTC)


def _replan_conflict(days: Sequence[ReplannedDay]) -> str:
    """Why re-planned versions were refused: one of them (``days``) exists already."""
    which = " or ".join(f"plan {d.plan['plan_id']} version {d.plan['version']}" for d in days)
    return f"{which} already exists: another batch of events got there first; reload and try again"


def _week_conflict(week: dict[str, Any], problem_id: str | None, days: Sequence[StoredDay]) -> str:
    """Why a week was refused: a row it writes (``problem_id``: the horizon's, when it was to
    be stored too) exists already."""
    rows = [f"problem {problem_id}"] if problem_id is not None else []
    rows += [f"plan {day.plan['plan_id']}" for day in days]
    return (
        f"week {week['week_id']} or a row stored with it already exists "
        f"({', '.join(rows)}, or a day's problem)"
    )
