"""The store's tables as SQLAlchemy 2 models; their history lives in ``migrations/``.

Change a table here *and* add a migration (``alembic revision`` with ``alembic.ini`` at the
repository's root); ``tests/dispatch/test_store.py`` fails when the two disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import BigInteger, DateTime, Dialect, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "ApiKeyRow",
    "Base",
    "EventBatchRow",
    "PlanRow",
    "ProblemRow",
    "ServiceSecretRow",
    "SolveJobRow",
    "WeekRow",
    "problem_sizes",
]


class UtcDateTime(TypeDecorator[datetime]):
    """A moment, read back in UTC on every database (SQLite drops the offset it was given)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Base(DeclarativeBase):
    """Metadata of every table of the store."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime}


class ProblemRow(Base):
    """A problem as the user sent it (the validated JSON), with the sizes a list shows of it
    (``problem_sizes``), counted once as it is stored: a list that read them from each
    payload took 4.5 s for 50 days of 5,000 visits."""

    __tablename__ = "problems"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column()
    date: Mapped[str] = mapped_column(String(10))
    payload: Mapped[str] = mapped_column(Text)
    technicians: Mapped[int] = mapped_column(Integer, server_default="0")
    visits: Mapped[int] = mapped_column(Integer, server_default="0")
    #: The dates it plans: 1 for a day, a horizon's ``days`` for a week.
    days: Mapped[int] = mapped_column(Integer, server_default="1")


def problem_sizes(problem: Mapping[str, Any]) -> tuple[int, int, int]:
    """The technicians, visits and dates of a stored problem (a day, or a horizon's
    ``days``): ``ProblemRow``'s columns of them."""
    horizon = problem.get("horizon")
    days = horizon.get("days") if isinstance(horizon, dict) else None
    return (
        len(problem.get("technicians", [])),
        len(problem.get("visits", [])),
        days if isinstance(days, int) and not isinstance(days, bool) else 1,
    )


class PlanRow(Base):
    """One immutable version of a plan."""

    __tablename__ = "plans"

    plan_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    problem_id: Mapped[str] = mapped_column(ForeignKey("problems.id"))
    created_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(16))
    payload: Mapped[str] = mapped_column(Text)
    #: The plan unrounded (``dispatch.contract.record``); absent before revision 0003.
    record: Mapped[str | None] = mapped_column(Text, nullable=True)


class EventBatchRow(Base):
    """A batch of events, stored with the plan version it produced."""

    __tablename__ = "event_batches"

    plan_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column()
    payload: Mapped[str] = mapped_column(Text)


class WeekRow(Base):
    """A week document: the plan of a horizon, whose days are ordinary plans stored beside it."""

    __tablename__ = "weeks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: The horizon problem as the user sent it.
    problem_id: Mapped[str] = mapped_column(ForeignKey("problems.id"))
    created_at: Mapped[datetime] = mapped_column()
    payload: Mapped[str] = mapped_column(Text)
    #: Saves of its day plans since it was stored, each counted in its own transaction: a save
    #: read against an older count is refused (``Store.save_replans``).
    revision: Mapped[int] = mapped_column(default=0, server_default="0")


class SolveJobRow(Base):
    """A solve of a stored problem into what ``plan_id`` names: version 1 of a plan, or a week
    (``wk_…``) for a horizon; ``attempt`` grows on retry."""

    __tablename__ = "solve_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    problem_id: Mapped[str] = mapped_column(ForeignKey("problems.id"))
    plan_id: Mapped[str] = mapped_column(String(32), unique=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    time_limit_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column()
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    elapsed_s: Mapped[float] = mapped_column(Float)
    best_cost: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    visits_placed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    visits_total: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: When the worker running the job last said it is alive: its start, then every progress
    #: write. Absent while queued, and for jobs started before revision 0005.
    heartbeat_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: Workers the job was started on since it was last queued (made or retried): the first
    #: start, and one more for each takeover from a worker found lost.
    starts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Seconds from the job's start to its first plan (its first draft) in the attempt that
    #: runs or ran it; absent until then, for week jobs (no drafts), and before revision 0006.
    first_plan_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: The newest draft plan of the running attempt (the contract's plan document, JSON): not
    #: a stored plan, replaced by the next draft, cleared when the job ends. Loaded only when
    #: asked for (``Store.job_draft``): a job's polls never read it.
    draft: Mapped[str | None] = mapped_column(Text, nullable=True, deferred=True)
    #: A job of one region of another job's day (``jobs='celery'``, a day of several regions):
    #: that job, the attempt of it this job was made for, and the region's index in the day
    #: (``dispatch.planning.regions``). Absent for every other job, and before revision 0007.
    parent_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("solve_jobs.id"), nullable=True, index=True
    )
    parent_attempt: Mapped[int | None] = mapped_column(Integer, nullable=True)
    region: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: A job whose running attempt fanned out, one job per region: how many regions, and how
    #: many of them are done. Absent (and 0) otherwise.
    regions_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    regions_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: A region job's plan of its region, as a full-precision plan record
    #: (``dispatch.contract.record``, JSON), kept until its regions are joined into the plan of
    #: the day; never a stored plan. Loaded only when asked for (``Store.region_plans``).
    region_plan: Mapped[str | None] = mapped_column(Text, nullable=True, deferred=True)


class ApiKeyRow(Base):
    """A dispatcher's API key: only its SHA-256 is kept, never the key."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)


class ServiceSecretRow(Base):
    """A secret the service generates once, such as the key that signs driver links."""

    __tablename__ = "service_secrets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column()
