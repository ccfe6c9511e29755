"""Problems and plan versions in a SQL database (SQLAlchemy 2; SQLite by default).

A plan version is written once and never updated: ``save_plan`` inserts, and a second write of
the same ``(plan_id, version)`` is refused. Every write is one transaction, so a failure leaves
what was stored before untouched.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from dispatch.errors import DispatchError, NotFoundError

__all__ = ["EventBatchRow", "PlanRow", "ProblemRow", "Store", "StoreConflictError", "new_id"]


class StoreConflictError(DispatchError):
    """A write that would change something already stored (a plan version exists)."""

    http_status = 409
    exit_code = 1


def new_id(prefix: str) -> str:
    """A short random id such as ``pl_3f9a0c1b2d4e`` (48 random bits)."""
    return f"{prefix}_{secrets.token_hex(6)}"


class _Base(DeclarativeBase):
    pass


class ProblemRow(_Base):
    """A problem as the user sent it (the validated JSON)."""

    __tablename__ = "problems"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    date: Mapped[str] = mapped_column(String(10))
    payload: Mapped[str] = mapped_column(Text)


class PlanRow(_Base):
    """One immutable version of a plan."""

    __tablename__ = "plans"

    plan_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    problem_id: Mapped[str] = mapped_column(ForeignKey("problems.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))
    payload: Mapped[str] = mapped_column(Text)


class EventBatchRow(_Base):
    """A batch of events, stored with the plan version it produced."""

    __tablename__ = "event_batches"

    plan_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[str] = mapped_column(Text)


def _enable_sqlite_foreign_keys(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _on_connect(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()


class Store:
    """The project's store of problems and plan versions.

    Parameters
    ----------
    url
        A SQLAlchemy URL: ``sqlite:///fieldroute.db`` (default) or ``postgresql+psycopg://…``.
    """

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        _enable_sqlite_foreign_keys(self.engine)
        _Base.metadata.create_all(self.engine)

    def save_problem_and_plan(
        self, problem: dict[str, Any], plan: dict[str, Any], *, problem_id: str
    ) -> None:
        """Store a new problem and the first version of its plan in one transaction."""
        now = datetime.now(UTC)
        with Session(self.engine) as session:
            try:
                with session.begin():
                    session.add(self._problem_row(problem, problem_id, now))
                    session.flush()
                    session.add(self._plan_row(plan, problem_id, now))
            except IntegrityError as error:
                raise StoreConflictError(
                    f"problem {problem_id} or plan {plan['plan_id']} already exists"
                ) from error

    def save_plan(self, plan: dict[str, Any], *, problem_id: str) -> None:
        """Store one plan version; refuses to overwrite an existing version."""
        with Session(self.engine) as session:
            try:
                with session.begin():
                    session.add(self._plan_row(plan, problem_id, datetime.now(UTC)))
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
    ) -> None:
        """Store a re-planned version: the day as it now is, the plan and the events that
        produced it, in one transaction; refused when that version already exists."""
        now = datetime.now(UTC)
        with Session(self.engine) as session:
            try:
                with session.begin():
                    session.add(self._problem_row(problem, problem_id, now))
                    session.flush()
                    session.add(self._plan_row(plan, problem_id, now))
                    session.add(
                        EventBatchRow(
                            plan_id=plan["plan_id"],
                            version=plan["version"],
                            at=str(plan.get("at", "")),
                            created_at=now,
                            payload=json.dumps(events, ensure_ascii=False),
                        )
                    )
            except IntegrityError as error:
                raise StoreConflictError(
                    f"plan {plan['plan_id']} version {plan['version']} already exists: "
                    "another batch of events got there first; reload and try again"
                ) from error

    def load_events(self, plan_id: str) -> list[dict[str, Any]]:
        """Every batch of events of a plan, oldest first, each with the version it produced."""
        with Session(self.engine) as session:
            rows = session.scalars(
                select(EventBatchRow)
                .where(EventBatchRow.plan_id == plan_id)
                .order_by(EventBatchRow.version)
            )
            return [{"version": row.version, **json.loads(row.payload)} for row in rows]

    @staticmethod
    def _problem_row(problem: dict[str, Any], problem_id: str, now: datetime) -> ProblemRow:
        return ProblemRow(
            id=problem_id,
            created_at=now,
            date=str(problem.get("date", "")),
            payload=json.dumps(problem, ensure_ascii=False),
        )

    @staticmethod
    def _plan_row(plan: dict[str, Any], problem_id: str, now: datetime) -> PlanRow:
        return PlanRow(
            plan_id=plan["plan_id"],
            version=plan["version"],
            problem_id=problem_id,
            created_at=now,
            status=plan["status"],
            payload=json.dumps(plan, ensure_ascii=False),
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
