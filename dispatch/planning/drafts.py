"""Draft plans while the search goes on: its snapshots timed and decoded off the search thread.

``plan_day`` asks the solver for snapshots of its best routes so far (``solver.Progress.routes``)
and hands its reports to ``Drafts``. The search thread only leaves a snapshot in a slot that
holds one (a newer one replaces it); a thread of its own takes it from there, times its routes
in the model (``solver.schedule``) and makes a ``Plan`` of them through the steps the final
plan takes, for the caller's ``on_draft``. The first snapshot is drafted before the search
goes on (for at most ``FIRST_DRAFT_WAIT_S``): what follows it may hold the interpreter (VROOM
does, for seconds on a big day) and would keep the first plan from the caller until it ends.
Once ``close`` returns, no draft is given any more: the final plan is the last word. Nothing
here searches, and nothing here reads or writes the store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace

from dispatch.model import Plan
from solver import Instance, Progress, Solution, SolverError, schedule

__all__ = ["FIRST_DRAFT_WAIT_S", "Drafts"]

logger = logging.getLogger(__name__)

#: The longest the search waits for its first snapshot to be drafted.
FIRST_DRAFT_WAIT_S = 5.0


class Drafts:
    """The newest snapshot of a search, made a draft ``Plan`` on a thread of its own.

    Parameters
    ----------
    instance
        The numbers being searched, which the snapshots' routes are for.
    finish
        Makes a timed solution a plan, as the final one is made (decode, promises, KPIs).
    on_draft
        Hears each draft, from the drafting thread, oldest first; a draft is never older than
        the one before it.

    A snapshot whose routes do not hold as they are (a seeder's, rarely) gives no draft. A
    draft that fails otherwise is logged, and no more drafts are made: the search and its final
    plan go on without them.
    """

    def __init__(
        self,
        instance: Instance,
        finish: Callable[[Solution], Plan],
        on_draft: Callable[[Plan], None],
    ) -> None:
        self._instance, self._finish, self._on_draft = instance, finish, on_draft
        self._ready = threading.Condition()
        self._newest: Progress | None = None
        self._closed = False
        self._first_done = False
        self._thread = threading.Thread(target=self._run, name="drafts", daemon=True)
        self._thread.start()

    def hear(self, progress: Progress) -> None:
        """A report of the search (on its thread): a snapshot that places nodes is kept, in
        place of any not yet taken; the first is waited for until drafted (see the module
        docstring)."""
        if progress.routes is None or not progress.placed:
            return
        with self._ready:
            self._newest = progress
            self._ready.notify_all()
            if not self._first_done:
                self._ready.wait_for(
                    lambda: self._first_done or self._closed, timeout=FIRST_DRAFT_WAIT_S
                )

    def close(self) -> None:
        """Stop drafting: a snapshot not yet taken is dropped, one being timed gives no draft,
        and when this returns no draft is being given or will be."""
        with self._ready:
            self._closed = True
            self._newest = None
            self._ready.notify_all()
        self._thread.join()

    def __enter__(self) -> Drafts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        try:
            while (progress := self._take()) is not None:
                try:
                    plan = self._draft(progress)
                    if plan is not None and not self._closed:
                        self._on_draft(plan)
                except Exception:  # drafts are a courtesy: the search and its plan go on
                    logger.exception("a draft plan failed; no more drafts of this search")
                    return
                finally:
                    self._first_drafted()
        finally:
            self._first_drafted()  # never leave the search waiting

    def _first_drafted(self) -> None:
        with self._ready:
            if not self._first_done:
                self._first_done = True
                self._ready.notify_all()

    def _take(self) -> Progress | None:
        """The newest snapshot, once there is one; ``None`` once closed."""
        with self._ready:
            while self._newest is None and not self._closed:
                self._ready.wait()
            progress, self._newest = self._newest, None
            return None if self._closed else progress

    def _draft(self, progress: Progress) -> Plan | None:
        """The plan of ``progress``'s routes, found ``progress.elapsed_s`` into the search."""
        if progress.routes is None:  # only snapshots are kept; for the type checker
            return None
        try:
            timed = progress.timed or schedule(self._instance, progress.routes)
        except SolverError as error:
            logger.debug("a snapshot's routes do not hold as they are (%s): no draft", error)
            return None
        if self._closed:
            return None
        return self._finish(replace(timed, elapsed_s=progress.elapsed_s))
