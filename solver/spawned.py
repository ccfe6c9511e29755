"""The solver's helper processes: pools of fresh processes whose workers end with their parent.

The race's side process (``solver.portfolio``) and the workers of parts solved side by side
(``solver.parts``) are worker processes of a ``ProcessPoolExecutor``, started fresh (never a
fork of the process that asks, whose threads and state a fork would copy half-way). Where the
platform has one (Linux, macOS), they are forked from a fork server: a process started once,
the first time a pool is asked for, that loads the solver and then forks a worker from itself
on each request, so that a worker starts in hundredths of a second instead of importing the
solver for itself (0.6-0.9 s each, inside the budget of the search it was started for; a race
starts one for each day, or part of a day, that it solves). Elsewhere (Windows) each worker is
spawned: a new interpreter that imports what it needs. A worker waits
for its next task on a queue it holds both ends of, so when the process that started it is
killed (the kernel's OOM killer on a big day, a ``SIGKILL`` to a job's worker) it would wait
for ever, idle, holding a day's matrices. Each worker here watches its parent instead and
exits once the parent is gone: at once when idle, or as soon as the search it runs lets a
thread in (VROOM holds the interpreter while it searches).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.connection import wait
from multiprocessing.context import BaseContext

__all__ = ["process_context", "spawned_pool"]

#: A worker's exit status when its parent is gone.
_ORPHANED = 1
#: What the fork server loads before it forks its first worker: everything a side process or a
#: part's worker runs (a task naming a module not loaded here imports it in its worker).
_PRELOADED = ["solver.portfolio", "solver.parts"]


def process_context() -> BaseContext:
    """How the helper processes are started: forked from a fork server that has loaded the
    solver (``_PRELOADED``) where the platform has one, spawned otherwise; queues and locks
    shared with a pool's workers are made from it."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOADED)  # read when the server starts, once a process
    return context


def spawned_pool(
    workers: int,
    initializer: Callable[..., object] | None = None,
    initargs: tuple[object, ...] = (),
) -> ProcessPoolExecutor:
    """A pool of ``workers`` fresh processes (``process_context``), each running
    ``initializer(*initargs)`` when it starts and exiting when the process that started it is
    gone."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=process_context(),
        initializer=_start_worker,
        initargs=(initializer, initargs),
    )


def _start_worker(initializer: Callable[..., object] | None, initargs: tuple[object, ...]) -> None:
    """A worker's start: the watch on its parent, then the pool's own ``initializer``."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        watch = threading.Thread(
            target=_exit_when_gone, args=(parent.sentinel,), name="parent-watch", daemon=True
        )
        watch.start()
    if initializer is not None:
        initializer(*initargs)


def _exit_when_gone(sentinel: int) -> None:
    """Wait until the parent's ``sentinel`` is ready (the parent has ended), then end this
    process at once: nothing it could still finish has anyone to go to."""
    wait([sentinel])
    os._exit(_ORPHANED)
