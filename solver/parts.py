"""Independent parts of an instance, solved one by one (or side by side) and joined.

Nodes and vehicles that share no eligibility with the rest (service centres whose radii do not
overlap, trades nobody else holds) form a part: no route of one part can ever hold a node of
another, so solving the parts apart loses nothing and each search is smaller (memory grows with
each part's square, not the whole's). ``parts`` finds them through the nodes' allowed
vehicles; ``solve_in_parts`` gives each part a share of the budget by its size, solves it with
``solve_one`` and joins the answers into one ``Solution`` over the whole instance's numbering.
Parts run side by side when the machine has cores for more than one solve (each solve already
uses two processes), one after another otherwise.
"""

from __future__ import annotations

import multiprocessing
import os
import time as clock
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

from solver.instance import Instance
from solver.params import SolveParams
from solver.result import Progress, RouteSolution, Solution

__all__ = ["CORES_PER_SOLVE", "MIN_PART_NODES", "Part", "parts", "solve_in_parts"]

#: A solve keeps this many cores busy (the race's two processes).
CORES_PER_SOLVE = 2
#: Parts smaller than this are not worth a search of their own: they join the next part.
MIN_PART_NODES = 1

Solver = Callable[[Instance, SolveParams, Callable[[Progress], None] | None], Solution]


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
    parent = list(range(n_vehicles))

    def root(v: int) -> int:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    for allowed in instance.allowed:
        for other in (allowed or ())[1:]:
            parent[root(other)] = root(allowed[0])  # type: ignore[index]
    nodes: dict[int, list[int]] = {}
    for node, allowed in enumerate(instance.allowed):
        if allowed:
            nodes.setdefault(root(allowed[0]), []).append(node)
    vehicles: dict[int, list[int]] = {}
    for v in range(n_vehicles):
        vehicles.setdefault(root(v), []).append(v)
    found = [Part(tuple(nodes.get(r, ())), tuple(members)) for r, members in vehicles.items()]
    return sorted(found, key=lambda part: (-len(part.nodes), part.vehicles))


def solve_in_parts(
    instance: Instance,
    params: SolveParams,
    solve_one: Solver,
    on_progress: Callable[[Progress], None] | None = None,
) -> Solution | None:
    """Solve each part of ``instance`` apart and join them; ``None`` when there is only one
    part with nodes (then the whole is solved as it is)."""
    found = [part for part in parts(instance) if part.nodes]
    if len(found) < 2:
        return None
    started = clock.monotonic()
    total = sum(len(part.nodes) for part in found)
    budgets = [params.time_limit_s * len(part.nodes) / total for part in found]
    pieces = [instance.restricted(part.nodes, part.vehicles) for part in found]
    side_by_side = max(1, (os.cpu_count() or 1) // CORES_PER_SOLVE)
    answers: list[Solution]
    if side_by_side > 1:
        # Side by side, every part may take the whole budget: they share the clock.
        with ProcessPoolExecutor(
            max_workers=min(side_by_side, len(pieces)),
            mp_context=multiprocessing.get_context("spawn"),
        ) as pool:
            futures = [pool.submit(solve_one, piece, params, None) for piece in pieces]
            answers = [future.result() for future in futures]
    else:
        answers = []
        done_cost, done_placed = 0, 0
        for piece, budget in zip(pieces, budgets, strict=True):

            def heard(progress: Progress, base: tuple[int, int] = (done_cost, done_placed)) -> None:
                if on_progress is not None:
                    on_progress(
                        Progress(
                            clock.monotonic() - started,
                            base[0] + progress.best_cost,
                            None if progress.placed is None else base[1] + progress.placed,
                            instance.n_nodes,
                        )
                    )

            answer = solve_one(piece, replace(params, time_limit_s=budget), heard)
            answers.append(answer)
            done_cost += answer.objective
            done_placed += len(piece.service_s) - len(answer.dropped)
    return _join(instance, found, answers, clock.monotonic() - started)


def _join(
    instance: Instance, found: Sequence[Part], answers: Sequence[Solution], elapsed_s: float
) -> Solution:
    routes: dict[int, RouteSolution] = {}
    dropped: list[int] = []
    for part, answer in zip(found, answers, strict=True):
        for route in answer.routes:
            vehicle = part.vehicles[route.vehicle]
            routes[vehicle] = replace(
                route, vehicle=vehicle, nodes=tuple(part.nodes[n] for n in route.nodes)
            )
        dropped.extend(part.nodes[n] for n in answer.dropped)
    placed = {n for part in found for n in part.nodes}
    nowhere = [n for n in range(instance.n_nodes) if n not in placed]
    dropped.extend(nowhere)
    empty = [
        RouteSolution(v, (), (), vehicle.shift_start_s, vehicle.shift_start_s, ())
        for v, vehicle in enumerate(instance.vehicles)
        if v not in routes
    ]
    return Solution(
        routes=tuple(sorted([*routes.values(), *empty], key=lambda r: r.vehicle)),
        dropped=tuple(sorted(dropped)),
        objective=sum(a.objective for a in answers) + int(instance.penalty[nowhere].sum()),
        elapsed_s=elapsed_s,
    )
