"""The service's job worker processes: a spawned pool that replaces itself when a worker dies,
and whose workers end with the service process that started them.

A worker waits for its next job on a queue it holds both ends of, so once its service process
is gone (stopped, or killed) nothing would ever tell it to end: it waited, idle, for ever (a
stopped two-process ``fieldroute serve`` left one behind each time). Each worker here watches
the process that started it and, once that is gone, first lets the job in hand finish (a
solve stores its plan itself), then ends, taking no other job. That watch
(``when_parent_is_gone``) also stops a server process whose supervisor is gone (``api.app``).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor
from datetime import UTC, datetime
from multiprocessing.connection import wait
from typing import Any, TypeVar

__all__ = ["JobWorkers", "when_parent_is_gone"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

#: A worker's exit status when the service process that started it is gone.
_ORPHANED = 1

#: Held by a worker process while it runs a job (one at a time; see ``_in_hand``).
_JOB_IN_HAND = threading.Lock()

#: Set in a worker process once the service process that started it is gone.
_SERVICE_GONE = threading.Event()


class JobWorkers:
    """A pool of spawned worker processes that replaces itself when one of them dies.

    When a worker is killed (the kernel's OOM killer on a big day), ``ProcessPoolExecutor``
    breaks for good: every pending future fails with ``BrokenProcessPool`` and so does every
    later ``submit``. The dead pool is swapped for a new one at once; ``losses`` counts them.
    ``executor`` replaces the pool (a thread pool, in tests), and is then never replaced.
    """

    def __init__(self, workers: int, executor: Executor | None = None) -> None:
        self._workers = workers
        self._fixed = executor is not None
        self._lock = threading.Lock()
        self._pool = executor or self._spawn()
        self.losses = 0
        self.last_loss: datetime | None = None

    def _spawn(self) -> Executor:
        return ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_watch_the_service,
        )

    def submit(self, fn: Callable[..., _T], /, *args: Any) -> Future[_T]:
        """Run ``fn(*args)`` in a worker; a pool found dead is replaced first."""
        with self._lock:
            try:
                return self._submit(fn, *args)
            except BrokenExecutor:
                self._replace(self._pool)
                return self._submit(fn, *args)

    def _submit(self, fn: Callable[..., _T], /, *args: Any) -> Future[_T]:
        if self._fixed:
            return self._pool.submit(fn, *args)
        return self._pool.submit(_in_hand, fn, *args)

    def lost(self, broken: Executor | None = None) -> None:
        """A future of this pool failed with ``BrokenExecutor``: replace the pool (once)."""
        with self._lock:
            self._replace(broken or self._pool)

    def _replace(self, broken: Executor) -> None:
        if broken is not self._pool or self._fixed:
            return  # already replaced by the first future that saw it die
        logger.error("a worker process died; starting a new pool of %d", self._workers)
        broken.shutdown(wait=False, cancel_futures=True)
        self._pool = self._spawn()
        self.losses += 1
        self.last_loss = datetime.now(UTC)

    @property
    def pool(self) -> Executor:
        return self._pool

    def close(self) -> None:
        """Take no more jobs; the jobs in hand finish (and their workers end afterwards)."""
        with self._lock:
            self._pool.shutdown(wait=False, cancel_futures=True)


def _in_hand(fn: Callable[..., _T], /, *args: Any) -> _T:
    """Run one job in a worker process, holding ``_JOB_IN_HAND`` meanwhile; none once the
    service process is gone."""
    with _JOB_IN_HAND:
        if _SERVICE_GONE.is_set():
            os._exit(_ORPHANED)
        return fn(*args)


def when_parent_is_gone(then: Callable[[], object], name: str) -> None:
    """Call ``then`` on a daemon thread named ``name`` once the process that started this one
    (``multiprocessing.parent_process()``) has ended; nothing for a process that
    ``multiprocessing`` did not start."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch(sentinel: int) -> None:
        wait([sentinel])
        then()

    threading.Thread(target=watch, args=(parent.sentinel,), name=name, daemon=True).start()


def _watch_the_service() -> None:
    """A worker's start: the watch that ends the worker once its service process is gone."""
    when_parent_is_gone(_end_after_the_job_in_hand, "service-watch")


def _end_after_the_job_in_hand() -> None:
    """The service process is gone: let the job in hand finish, then end this worker before
    it takes another."""
    _SERVICE_GONE.set()
    _JOB_IN_HAND.acquire()
    os._exit(_ORPHANED)
