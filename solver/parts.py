"""Independent parts of an instance, solved one by one (or side by side) and joined.

Nodes and vehicles that share no eligibility with the rest (service centres whose radii do not
overlap, trades nobody else holds) form a part: no route of one part can ever hold a node of
another, so solving the parts apart loses nothing and each search is smaller (memory grows with
each part's square, not the whole's). ``parts`` finds them through the nodes' allowed
vehicles; ``solve_in_parts`` gives each part a share of the budget by its size, solves it with
``solve_one`` and joins the answers into one ``Solution`` over the whole instance's numbering.
Parts run side by side when the machine has cores for more than one solve (each solve already
uses two processes) and this process may start others (it is not daemonic), one after another
otherwise, smallest first: a part's share is recomputed from what is left when its turn comes,
so the time a small part does not need (its search ended early) goes to the big ones. A part
whose worker died (killed, out of memory) is searched again in this process with what is left
of the budget: one lost worker does not lose the day.

Progress is told as the whole's: the costs and placed nodes of the parts heard so far (a part
done counts with its answer), and, when a part's report carries routes (``Progress.routes``),
the routes of every part heard so far in the whole's numbering (vehicles of parts not yet heard
have empty routes), timed (``Progress.timed``) when each part's routes came timed by its search:
joined, they spare a listener timing the whole day again (0.4 s at 800 visits, which the search
waited for when it was the first draft). Parts side by side report through a queue to a thread
of this process.
Parts one after another may first be routed quickly, all of them (``first``): then each part's
solve is handed its quick routes to do no worse, the whole day has a plan early, and a part
stands in the reports with those routes until its search finds cheaper ones (a report costing
more is not told).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time as clock
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from functools import partial
from itertools import chain
from multiprocessing.queues import SimpleQueue

import numpy as np
from numpy.typing import NDArray

from solver.cost import route_cost
from solver.instance import Instance
from solver.params import SolveParams
from solver.result import Progress, RouteSolution, Solution
from solver.seeders import Routes
from solver.spawned import spawned_pool

__all__ = ["CORES_PER_SOLVE", "MIN_PART_NODES", "Part", "components", "parts", "solve_in_parts"]

logger = logging.getLogger(__name__)

#: A solve keeps this many cores busy (the race's two processes).
CORES_PER_SOLVE = 2
#: Parts smaller than this are not worth a search of their own: they join the next part.
MIN_PART_NODES = 1
#: The least search a part gets, however little of the budget is left. Small parts go first
#: and have it when their share is less: at 2 s a part of 70-83 visits beside one of 700 has
#: about 0.16 s. At 0.5 s (with the big part first, the small one ran past the budget by up
#: to 0.4 s), 800-visit days planned in 2 s ended at 2.1-2.4 s; at 0.2 s, 1.8-2.0 s, as good
#: over ten days a maker; a small part first at 0.5 s took that time from the big part: 2 %
#: less on rural days (``benchmarks/RESULTS.md``, 2026-12-02 05:44).
MIN_PART_S = 0.2

#: Solves one part: ``(part, params, on_progress, known)``, where ``known`` is routes already
#: found for the part (its quick routes, ``first``) that the answer must be no worse than.
Solver = Callable[
    [Instance, SolveParams, Callable[[Progress], None] | None, Routes | None], Solution
]
#: Quick routes of every part (one ``Routes`` per part), or ``None`` when it has none.
FirstRoutes = Callable[[Sequence[Instance]], Sequence[Routes] | None]


@dataclass(frozen=True, slots=True)
class Part:
    """Nodes and vehicles of the whole instance that form one independent part."""

    nodes: tuple[int, ...]
    vehicles: tuple[int, ...]


def parts(instance: Instance) -> list[Part]:
    """The independent parts of ``instance``, largest first; one part when every node may go to
    every vehicle. Nodes allowed nowhere belong to no part."""
    n_vehicles = instance.n_vehicles
    everything = Part(tuple(range(instance.n_nodes)), tuple(range(n_vehicles)))
    if not instance.allowed or any(a is None for a in instance.allowed):
        return [everything]
    label = components(n_vehicles, [allowed or () for allowed in instance.allowed]).tolist()
    nodes: dict[int, list[int]] = {}
    for node, allowed in enumerate(instance.allowed):
        if allowed:
            nodes.setdefault(label[allowed[0]], []).append(node)
    vehicles: dict[int, list[int]] = {}
    for v in range(n_vehicles):
        vehicles.setdefault(label[v], []).append(v)
    found = [Part(tuple(nodes.get(r, ())), tuple(members)) for r, members in vehicles.items()]
    return sorted(found, key=lambda part: (-len(part.nodes), part.vehicles))


def components(n_items: int, groups: Sequence[Sequence[int]]) -> NDArray[np.int64]:
    """Each of ``n_items`` items' component, named by its least item: items are tied when one
    of ``groups`` holds both, and ties chain.

    All groups at once, in numpy: each round gives every item the least name among the groups
    it is in, then lets each name jump to its own name (as a union-find halves its paths),
    until nothing changes. An 800-visit rural day (211 technicians, 92,000 pairs) takes a few
    rounds, where a union-find call a pair took 0.04-0.07 s.
    """
    name = np.arange(n_items, dtype=np.int64)
    tying = [group for group in groups if len(group) > 1]
    if not tying:
        return name
    sizes = np.fromiter(map(len, tying), dtype=np.int64, count=len(tying))
    members = np.fromiter(chain.from_iterable(tying), dtype=np.int64, count=int(sizes.sum()))
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    group_of = np.repeat(np.arange(len(tying)), sizes)
    while True:
        least = np.minimum.reduceat(name[members], starts)
        named = name.copy()
        np.minimum.at(named, members, least[group_of])
        while True:
            jumped = named[named]
            if np.array_equal(jumped, named):
                break
            named = jumped
        if np.array_equal(named, name):
            return name
        name = named


def solve_in_parts(
    instance: Instance,
    params: SolveParams,
    solve_one: Solver,
    on_progress: Callable[[Progress], None] | None = None,
    *,
    first: FirstRoutes | None = None,
    snapshots: bool = False,
    started: float | None = None,
) -> Solution | None:
    """Solve each part of ``instance`` apart and join them; ``None`` when there is only one
    part with nodes (then the whole is solved as it is).

    ``on_progress`` hears each part's reports as the whole's (see the module docstring), from
    the search thread when parts run one after another, from a listening thread of this
    process when they run side by side. When parts run one after another, ``first`` (if
    given) routes every part quickly before any is searched, or declines (``None``); each
    part's solve is handed its quick routes (``known``), so that its answer is no worse, and,
    when someone listens, they are reported as the whole's first plan (with its routes when
    ``snapshots``) and stand for each part in the reports until its own search finds better.
    The budget began at ``started`` (a ``time.monotonic()``; default: now): what the caller
    spent before, checking and screening the whole, is not the parts' to spend again.
    """
    found = [part for part in parts(instance) if part.nodes]
    if len(found) < 2:
        return None
    started = clock.monotonic() if started is None else started
    pieces = [instance.restricted(part.nodes, part.vehicles) for part in found]
    side_by_side = max(1, (os.cpu_count() or 1) // CORES_PER_SOLVE)
    whole = None if on_progress is None else _Whole(instance, found, started, on_progress)
    answered: dict[int, Solution] = {}
    if side_by_side > 1 and not multiprocessing.current_process().daemon:
        # Side by side, every part may take the whole budget: they share the clock.
        workers = min(side_by_side, len(pieces))
        left = max(MIN_PART_S, params.time_limit_s - (clock.monotonic() - started))
        done = _side_by_side(pieces, replace(params, time_limit_s=left), solve_one, workers, whole)
        lost = [k for k, answer in enumerate(done) if answer is None]
        for turn, k in enumerate(lost):  # its worker died (killed, out of memory): searched here
            heard = None if whole is None else partial(whole.hear, k)
            budget = _share(params, started, found, k, lost[turn:])
            done[k] = solve_one(pieces[k], budget, heard, None)
        answered = {k: answer for k, answer in enumerate(done) if answer is not None}
    else:
        quick = None if first is None else first(pieces)
        if whole is not None and quick is not None:
            whole.start(pieces, quick, snapshots)
        # Smallest first: the time a part does not use goes to the parts after it, and a
        # small part rarely needs all of its share where a big one could always use more.
        turns = sorted(range(len(pieces)), key=lambda k: len(found[k].nodes))
        for turn, k in enumerate(turns):
            heard = None if whole is None else partial(whole.hear, k)
            budget = _share(params, started, found, k, turns[turn:])
            answered[k] = solve_one(pieces[k], budget, heard, None if quick is None else quick[k])
            if whole is not None:
                whole.done(k, answered[k])
    return _join(instance, found, answered, clock.monotonic() - started)


def _share(
    params: SolveParams, started: float, found: Sequence[Part], k: int, still: Sequence[int]
) -> SolveParams:
    """``params`` with part ``k``'s share of what is left of the budget, shared by size among
    the parts ``still`` to solve (``k`` among them): the time a part did not use goes to the
    next (a search can end before its share). Never less than ``MIN_PART_S``."""
    left = params.time_limit_s - (clock.monotonic() - started)
    later = sum(len(found[j].nodes) for j in still)
    return replace(params, time_limit_s=max(MIN_PART_S, left * len(found[k].nodes) / later))


class _Whole:
    """Reports of the parts told as reports of the whole instance (see the module docstring)."""

    def __init__(
        self,
        instance: Instance,
        found: Sequence[Part],
        started: float,
        on_progress: Callable[[Progress], None],
    ) -> None:
        self._instance, self._found = instance, found
        self._started, self._on_progress = started, on_progress
        self._costs: dict[int, int] = {}
        self._placed: dict[int, int] = {}
        self._routes: dict[int, tuple[tuple[int, ...], ...]] = {}
        #: Each part's routes timed by its search, or ``None`` when they are not (yet).
        self._timed: dict[int, Solution | None] = {}
        #: The cost of each part's quick routes while they stand for it.
        self._standing: dict[int, int] = {}

    def start(self, pieces: Sequence[Instance], routes: Sequence[Routes], snapshots: bool) -> None:
        """Every part's first routes (``pieces[k]``'s numbering), told as the whole's plan."""
        for k, (piece, part_routes) in enumerate(zip(pieces, routes, strict=True)):
            self._costs[k] = route_cost(piece, part_routes)
            self._placed[k] = sum(map(len, part_routes))
            self._routes[k] = tuple(tuple(route) for route in part_routes)
            self._timed[k] = None
        self._standing = dict(self._costs)
        self._on_progress(
            Progress(
                clock.monotonic() - self._started,
                sum(self._costs.values()),
                sum(self._placed.values()),
                self._instance.n_nodes,
                self._whole_routes() if snapshots else None,
            )
        )

    def hear(self, k: int, progress: Progress) -> None:
        """Part ``k``'s report, told as the whole's; not when it costs more than what stands
        for the part (its quick routes, while its search has not yet found better)."""
        standing = self._standing.get(k)
        if standing is not None:
            if progress.best_cost > standing:
                return
            if progress.routes is not None:
                del self._standing[k]
        self._costs[k] = progress.best_cost
        if progress.placed is not None:
            self._placed[k] = progress.placed
        if progress.routes is not None:
            self._routes[k] = progress.routes
            self._timed[k] = progress.timed
        told = progress.routes is not None
        self._on_progress(
            Progress(
                clock.monotonic() - self._started,
                sum(self._costs.values()),
                None if progress.placed is None else sum(self._placed.values()),
                self._instance.n_nodes,
                self._whole_routes() if told else None,
                self._whole_timed() if told else None,
            )
        )

    def done(self, k: int, answer: Solution) -> None:
        """Part ``k``'s answer: what it counts for in the reports of the parts after it."""
        self._standing.pop(k, None)
        self._costs[k] = answer.objective
        self._placed[k] = sum(len(route.nodes) for route in answer.routes)
        self._routes[k] = tuple(route.nodes for route in answer.routes)
        self._timed[k] = answer

    def _whole_routes(self) -> tuple[tuple[int, ...], ...]:
        routes: list[tuple[int, ...]] = [() for _ in range(self._instance.n_vehicles)]
        for k, part_routes in self._routes.items():
            part = self._found[k]
            for v, route in enumerate(part_routes):
                routes[part.vehicles[v]] = tuple(part.nodes[node] for node in route)
        return tuple(routes)

    def _whole_timed(self) -> Solution | None:
        """The whole's routes timed, joined from the parts' own timed routes (a part not heard
        yet has empty routes), sparing a listener the timing of the whole (0.4 s at 800
        visits); ``None`` when some part's routes were told untimed."""
        if any(timed is None for timed in self._timed.values()):
            return None
        heard = {k: timed for k, timed in self._timed.items() if timed is not None}
        return _join(self._instance, self._found, heard, clock.monotonic() - self._started)


def _side_by_side(
    pieces: Sequence[Instance],
    params: SolveParams,
    solve_one: Solver,
    workers: int,
    whole: _Whole | None,
) -> list[Solution | None]:
    """Each piece solved in a spawned pool of ``workers``; reports, if heard, reach ``whole``
    through a queue read by a thread of this process until every worker has stopped. A piece
    whose worker died (or that the broken pool never ran) has ``None``: its answer is lost, not
    the others'."""
    context = multiprocessing.get_context("spawn")
    told: SimpleQueue[tuple[int, Progress] | None] | None = None
    listener: threading.Thread | None = None
    if whole is not None:
        told = context.SimpleQueue()
        listener = threading.Thread(target=_listen, args=(told, whole), name="parts-progress")
        listener.start()
    try:
        with spawned_pool(workers, _tell_into, (told,)) as pool:
            futures = [
                pool.submit(_solve_told, solve_one, k, piece, params)
                for k, piece in enumerate(pieces)
            ]
            answers: list[Solution | None] = []
            for k, future in enumerate(futures):
                try:
                    answers.append(future.result())
                except BrokenProcessPool:
                    logger.warning("the worker solving part %d of %d died", k + 1, len(pieces))
                    answers.append(None)
            return answers
    finally:
        # Every worker has stopped (the pool is shut down): nothing more can be told.
        if told is not None and listener is not None:
            told.put(None)
            listener.join()


def _listen(told: SimpleQueue[tuple[int, Progress] | None], whole: _Whole) -> None:
    """Hand the parts' reports to ``whole`` until told ``None``; the queue is drained to the
    end even when hearing fails, so that no worker ever waits on a full pipe."""
    hearing = True
    while (item := told.get()) is not None:
        if hearing:
            try:
                whole.hear(*item)
            except Exception:  # a report is a courtesy; the parts' solves go on without it
                logger.exception("a part's progress could not be told; no more will be")
                hearing = False


#: The queue a pool worker tells its part's reports to (set in the worker by ``_tell_into``).
_told: SimpleQueue[tuple[int, Progress] | None] | None = None


def _tell_into(told: SimpleQueue[tuple[int, Progress] | None] | None) -> None:
    """Pool initializer: where this worker's reports go (none when nobody listens)."""
    global _told
    _told = told


def _solve_told(solve_one: Solver, k: int, piece: Instance, params: SolveParams) -> Solution:
    """``solve_one`` of part ``k`` in a pool worker, its reports told to the listening queue."""
    told = _told
    if told is None:
        return solve_one(piece, params, None, None)
    return solve_one(piece, params, lambda progress: told.put((k, progress)), None)


def _join(
    instance: Instance, found: Sequence[Part], answers: Mapping[int, Solution], elapsed_s: float
) -> Solution:
    """The parts' ``answers`` (by part, each in its part's numbering) as one solution of the
    whole instance; the nodes of parts without an answer, and of none, are dropped."""
    routes: dict[int, RouteSolution] = {}
    dropped: list[int] = []
    for k, answer in answers.items():
        part = found[k]
        for route in answer.routes:
            vehicle = part.vehicles[route.vehicle]
            routes[vehicle] = replace(
                route, vehicle=vehicle, nodes=tuple(part.nodes[n] for n in route.nodes)
            )
        dropped.extend(part.nodes[n] for n in answer.dropped)
    placed = {n for part in found for n in part.nodes}
    nowhere = [n for n in range(instance.n_nodes) if n not in placed]
    unheard = [n for k, part in enumerate(found) if k not in answers for n in part.nodes]
    dropped.extend(nowhere + unheard)
    empty = [
        RouteSolution(v, (), (), vehicle.shift_start_s, vehicle.shift_start_s, ())
        for v, vehicle in enumerate(instance.vehicles)
        if v not in routes
    ]
    return Solution(
        routes=tuple(sorted([*routes.values(), *empty], key=lambda r: r.vehicle)),
        dropped=tuple(sorted(dropped)),
        objective=sum(answer.objective for answer in answers.values())
        + int(instance.penalty[nowhere + unheard].sum()),
        elapsed_s=elapsed_s,
    )
