"""The solver's helper processes: spawned pools whose workers end with their parent.

The race's side process (``solver.portfolio``) and the workers of parts solved side by side
(``solver.parts``) are spawned worker processes of a ``ProcessPoolExecutor``. A worker waits
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

__all__ = ["spawned_pool"]

#: A worker's exit status when its parent is gone.
_ORPHANED = 1


def spawned_pool(
    workers: int,
    initializer: Callable[..., object] | None = None,
    initargs: tuple[object, ...] = (),
) -> ProcessPoolExecutor:
    """A pool of ``workers`` spawned processes, each running ``initializer(*initargs)`` when it
    starts and exiting when the process that started it is gone."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
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
