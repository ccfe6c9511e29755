"""How to search: ``SolveParams``, OR-Tools' strategy tables, their search parameters, and the
named budgets every part of the search keeps to.

Everything here is a name or a number that the searching modules read; nothing here builds a
model or searches. Each budget constant is one idea, and its docstring says what it is for; the
figures they were tuned on are in ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from solver.errors import SolverError
from solver.seeders.registry import SEEDERS

__all__ = [
    "ALONE_BELOW_NODES",
    "ALONE_BELOW_S",
    "ALONE_VROOM_THREADS",
    "ALONE_WHEN_VROOM_TOP_WITHIN",
    "CLOSE_ROUTES_SPLIT_FROM_NODES",
    "CLOSE_ROUTES_WHOLE_FROM_S_PER_NODE",
    "FIRST_PLAN_FROM_S",
    "FIRST_PLAN_SHARE",
    "FIRST_SOLUTION",
    "ILS_RUINED_ROUTES",
    "LATE_SEED_SHARE",
    "LNS_CLOSE_ROUTES",
    "LNS_HALVES_ROUND_S",
    "LNS_LEFT_OUT",
    "LNS_ODDS_MEMORY",
    "LNS_PACK_EVERY_S",
    "LNS_PACK_S",
    "LNS_ROUTES",
    "LNS_SEGMENT_HORIZON_S",
    "LNS_SEGMENT_LENGTH",
    "LNS_SEGMENT_ODDS",
    "LNS_SEGMENT_ROUTES",
    "LNS_STEP_S",
    "LNS_TELL_FIRST_S",
    "LNS_TELL_TIMINGS",
    "LNS_VROOM_LEVEL",
    "METAHEURISTIC",
    "MIN_POLISH_S",
    "MIN_PYVRP_AFTER_VROOM_S",
    "MIN_SEEDING_ALONE_S",
    "MIN_SEEDING_S",
    "MIN_STALL_S",
    "MIN_TIMING_S",
    "POLISH_SHARE",
    "PROGRESS_INTERVAL_S",
    "RESTARTS_FROM_NODES",
    "RESTARTS_UNTIL_STALLED",
    "SEEDER_STALL_S_PER_NODE",
    "SEED_GRACE_S",
    "SNAPSHOT_INTERVAL_S",
    "STALL_SHARE",
    "STALL_S_PER_NODE",
    "START_COMPLETION_S",
    "SWAP_S_PER_NODE",
    "TIMING_DOUBLES_AT_NODES",
    "TIMING_S_PER_NODE",
    "UNPRUNED_TIMING_SHARE",
    "VROOM_SHARE_BEFORE_ORTOOLS",
    "VROOM_SHARE_BEFORE_PYVRP",
    "VROOM_SHARE_WHEN_CUT",
    "SolveParams",
    "check_strategies",
    "search_parameters",
    "seeder_stall_s",
    "stall_s",
]

_FIRST = routing_enums_pb2.FirstSolutionStrategy
_META = routing_enums_pb2.LocalSearchMetaheuristic
#: First-solution strategies by name; parallel cheapest insertion copes with tight windows,
#: where path-cheapest-arc often finds nothing at all.
FIRST_SOLUTION = {
    "parallel_cheapest_insertion": _FIRST.PARALLEL_CHEAPEST_INSERTION,
    "local_cheapest_insertion": _FIRST.LOCAL_CHEAPEST_INSERTION,
    "path_cheapest_arc": _FIRST.PATH_CHEAPEST_ARC,
    "savings": _FIRST.SAVINGS,
    "automatic": _FIRST.AUTOMATIC,
}
#: Local-search metaheuristics by name; ``greedy_descent`` stops at the first local optimum:
#: fast and deterministic, for tests, quick answers and reproducible runs.
#: ``iterated_local_search`` is OR-Tools' ruin and recreate: greedy descent to a local optimum,
#: then ``ILS_RUINED_ROUTES`` spatially close routes emptied and filled again, and so on.
METAHEURISTIC = {
    "guided_local_search": _META.GUIDED_LOCAL_SEARCH,
    "simulated_annealing": _META.SIMULATED_ANNEALING,
    "tabu_search": _META.TABU_SEARCH,
    "greedy_descent": _META.GREEDY_DESCENT,
    "iterated_local_search": _META.GREEDY_DESCENT,
}
#: Routes the ``iterated_local_search`` metaheuristic empties at each ruin: spatially close
#: routes, so that their visits can change hands when they are placed again.
ILS_RUINED_ROUTES = 2
#: The metaheuristic of a reproducible run (see ``SolveParams.reproducible``).
_REPRODUCIBLE_METAHEURISTIC = "greedy_descent"

#: Part of the time limit OR-Tools keeps to search on from the chosen seed when this process's
#: seeding search ends in a seeder's routes (``pyvrp-alone``); the rest goes to seeding.
POLISH_SHARE = 0.1
#: Least time OR-Tools' search from a start is given: the floor of ``POLISH_SHARE``, what the
#: repair of a start must leave before the end of the budget, and what the search gets even
#: when seeding overran.
MIN_POLISH_S = 0.5
#: Least seeding time worth starting the seeding searches for; with less, OR-Tools searches
#: alone from its first solution.
MIN_SEEDING_S = 0.5
#: The same for a search alone (``ALONE_BELOW_S``: VROOM then OR-Tools in this process, no
#: process to start). On days with breaks VROOM's routes beat OR-Tools' first solution by far
#: even at its quickest levels: the small part of an 800-visit day (70-83 visits) given 0.5 s
#: placed 72/80/74 of its visits instead of 70/80/73, each at a lower cost, and ended in
#: 0.4 s instead of 0.5 s.
MIN_SEEDING_ALONE_S = 0.1
#: Budgets below which a day only VROOM can seed (breaks) is searched by one process:
#: VROOM's full search, then OR-Tools, no side process. Starting a second process and
#: sharing two cores costs more than the race gains on so short a budget: at 2 s, over three
#: makers of day at 250 and 800 visits, the search alone served 0.6 % more priority-weighted
#: visits on average (10 days of 12); at 5 s 0.2 % more; at 10 s the two were level. So is a
#: day PyVRP can seed too (no breaks) but a small one (``ALONE_WHEN_VROOM_TOP_WITHIN``): PyVRP,
#: here, is well behind VROOM on days of hundreds of visits, and VROOM aside started late; at
#: 2 s the search alone served +6/+10/+30 and +3/-4/0 priority-weighted visits on 250-visit
#: days (service centre/city/rural, seeds 1 and 2), +60/+83/-16 and +50/+70/0 at 800.
ALONE_BELOW_S = 5.0
#: A day only VROOM can seed is also searched alone when VROOM's most thorough level, on
#: ``ALONE_VROOM_THREADS`` threads, is expected to end within this share of the budget (small
#: days): both racers would reach that level at once, and alone its routes are a plan in
#: well under a second instead of when the race ends. Only on a day of fewer than
#: ``ALONE_BELOW_NODES`` nodes. On such a day that PyVRP can seed too, the same test runs
#: VROOM then PyVRP in this process, and no process aside (``strategies_for``, ``race``).
ALONE_WHEN_VROOM_TOP_WITHIN = 0.1
#: Nodes from which a day races however soon VROOM's most thorough level ends: VROOM again on
#: close routes (``vroom-once-then-lns``) finds more there than VROOM's restarts and OR-Tools'
#: search alone. At 120 s, 250-visit days (three makers, seeds 1-3; main parts of 161-232
#: nodes) served 9-45 more priority-weighted visits of 3,800-5,300 on 9 days of 9, using the
#: budget where the search alone answered at 27-91 s; at 30 s, dayset seeds 1 and 2 (parts of
#: 160-161 nodes) +15 and +6; on 160-visit days at 30 s (parts of 137-149 nodes) +13, +2, +23
#: of 2,550-2,750; on 120-visit days at 10 s (parts of 104-111 nodes) +6 to +16 on 4 days of 4.
#: Alone, 250-visit days served fewer at 120 s than at 30 s. Below the bound a small day (60
#: visits) is answered when its search alone stalls, in about a second.
ALONE_BELOW_NODES = 100
#: Restarts of VROOM's full search (``vroom-full-then-ortools``: a day, or a part, searched
#: alone) once it and OR-Tools' search from its routes have stalled with time left: VROOM
#: again with its jobs and vehicles in another order, which it breaks its ties by (on the main
#: part of one 250-visit day, eight orders gave routes costing 52.7M-74.6M), then OR-Tools from
#: those routes; the cheapest is kept. They stop after this many in a row found nothing
#: cheaper.
RESTARTS_UNTIL_STALLED = 3
#: Least visits of a day or part whose VROOM search restarts. Below, a day is answered when
#: OR-Tools' search stalls (a 60-visit day in about a second at 10 s, where restarts took
#: 3-5 s for 3-10 more priority-weighted visits on 2-3 days of 15), and a small part's time
#: goes to the bigger parts after it, where restarts pay: at 30 s, four 250-visit days of ten
#: that were answered at 9 s gained 3-11 priority-weighted visits, their restarts now on
#: parts of 104-161 visits only (on their parts of 25-56 visits restarts found cheaper routes
#: on 4 parts of 11, by much on one); three 800-visit days were level (+3 to +6).
RESTARTS_FROM_NODES = 100
#: Part of the budget a day of independent parts searched one after another
#: (``solver.parts``) spends first on VROOM's routes of every part, when someone listens to
#: its progress: a plan of the whole day within this share, where otherwise the last part is
#: planned only as the budget ends.
FIRST_PLAN_SHARE = 0.1
#: The shortest budget for which such a day is first routed quickly (``FIRST_PLAN_SHARE``):
#: below it the whole plan comes within seconds anyway, and the share is worth more to the
#: search. At 2 s on 250-visit days (in parts) of three makers, ten seeds each, the quick
#: routes took 0.24-0.37 s (VROOM ran past its share), to be thrown away once each part was
#: searched; without them the plans served more priority-weighted visits on 20 days of 30 and
#: fewer on 4 (+6.9/+2.7/+5.0 a day, service centre/city/rural, of about 4,000), and the
#: plans that had run up to 0.14 s past the budget ended by 2.07 s. A small day is routed
#: quickly on any budget when VROOM's most thorough level on all its parts is expected to end
#: within ``ALONE_WHEN_VROOM_TOP_WITHIN`` of it (fewer than ``ALONE_BELOW_NODES`` nodes in
#: all): a few hundredths of a second, and each part's search is handed those routes to do no
#: worse (60-visit days without breaks at 2 s: the whole day's plan at 0.05 s, not 0.4 s,
#: where the parts searched one after another each had too little time to race).
FIRST_PLAN_FROM_S = 5.0
#: The longest share of the budget for those quick routes run in this process: a longer one
#: runs in a process of its own while this one waits. pyvroom holds the interpreter for its
#: whole solve, stopping this process's other threads (a job's heartbeat and drafts): at 60 s
#: on the 800-visit service-centre day the quick routes held it 6.1 s (its longest pause,
#: ``benchmarks.big_days``), and the share grows with the budget. A spawned process takes
#: about 0.45 s to start, a cost worth paying only where the share is long.
FIRST_PLAN_HERE_UP_TO_S = 2.0
#: VROOM's threads when this process searches alone (``ALONE_BELOW_S``): the two cores the
#: race would otherwise share, where the machine has them. VROOM explores its starts in
#: parallel, so a level ends in about half the time and a higher one fits the budget.
ALONE_VROOM_THREADS = 2
#: How long past the seeding deadline a seeding search still running in the side process is
#: waited for (VROOM's timeout is approximate).
SEED_GRACE_S = 1.0
#: Share of the budget the one seed of ``vroom-once-then-lns`` is still waited for past that
#: grace: without it OR-Tools starts from nothing and, on a big day, finds no first plan in
#: the time left (a 2,143-node part at 10 s on a busy machine failed so; VROOM's first start
#: there takes seconds, and its timeout stops it only after).
LATE_SEED_SHARE = 0.5
#: Part of its time the VROOM-then-PyVRP search gives VROOM at most (VROOM often stops sooner);
#: PyVRP searches on from VROOM's routes for the rest.
VROOM_SHARE_BEFORE_PYVRP = 0.5
#: Least time left after VROOM worth giving PyVRP in the VROOM-then-PyVRP search; with less,
#: VROOM's routes are the seed as they are.
MIN_PYVRP_AFTER_VROOM_S = 0.1
#: Part of its time the short-VROOM-then-OR-Tools search gives VROOM (and at most the level
#: expected to end in that part); OR-Tools searches on from VROOM's routes for the rest.
#: On tight 2,500-visit days at 120 s VROOM's quickest level ends in about 49 s; cut at 25 s,
#: the close-routes search given the rest, the day served +17, -36, -40 and -52
#: priority-weighted visits of about 39,600 (seeds 1-4): it runs to its end.
VROOM_SHARE_BEFORE_ORTOOLS = 0.5
#: ... and the most of it VROOM's one run of ``vroom-once-then-lns`` takes where even its
#: quickest level is expected to need more than that share: VROOM cut short gains fast with
#: time. Tight 2,500-visit days (200 technicians) at 10 s, its quickest level expected to need
#: some 24 s, on a machine a helper's tests kept busy: 37,228 / 37,656 / 37,079
#: priority-weighted visits (seeds 1-3) against 36,027 / 36,466 / 37,193 at half the time;
#: VROOM alone, 12 s: 37,449 / 37,520 / 38,447.
VROOM_SHARE_WHEN_CUT = 0.8
#: Seconds per node a VROOM-then-OR-Tools search keeps for OR-Tools to restore VROOM's routes
#: in its search model, a start to search from, on a small part; a node takes longer on a
#: bigger one, twice as long at ``TIMING_DOUBLES_AT_NODES``. With a margin of a third to a half
#: over what timing routes in the search's (pruned) model takes on field days: 0.02-0.04 s at
#: 160-230 nodes, 0.11-0.18 s at 690-730, 0.86-1.08 s at 2,150-2,250 (kept: 0.1 s, 0.26-0.28 s,
#: 1.3-1.4 s).
TIMING_S_PER_NODE = 0.00025
#: Size of a part at which timing its routes takes twice as long a node as on a small one.
TIMING_DOUBLES_AT_NODES = 1500
#: Least time a VROOM-then-OR-Tools search keeps for timing or restoring VROOM's routes,
#: whatever the size.
MIN_TIMING_S = 0.1
#: Share of that restoring time kept for timing routes as they are (``solver.search.schedule``,
#: its model built without the arc pruning a search needs): on field days (least of four,
#: quiet machine) 0.07-0.13 s at 767-800 nodes and 0.34 s at 2,143, against 0.14-0.24 s and
#: 0.68 s pruned; kept: 0.17-0.18 s and 0.78 s.
UNPRUNED_TIMING_SHARE = 0.6
#: Seconds per node a VROOM-then-OR-Tools search that only times VROOM's routes keeps before
#: timing them for swapping left-out visits in for cheaper ones near them
#: (``solver.fill.swap_in_dearer``): 0.16 s at 800 nodes, where that took 0.02-0.06 s on
#: field days and 0.2-0.3 s on a tight day's VROOM routes cut short on a busy machine.
SWAP_S_PER_NODE = 0.0002
#: Routes each step of the close-routes search (``solver.lns``) takes apart and VROOM solves
#: again: those whose middles are nearest the step's anchor. Six routes, 40 left-out nodes and
#: level 3 gained 0.2-0.5 % of priority-weighted visits in 5 s from VROOM's routes of 800-visit
#: days (dayset and rural seeds 1-3), four, 30 and level 5 0.1-0.4 %; OR-Tools' guided local
#: search and its ruin and recreate from the same routes gained nothing. On tight 2,500-visit
#: days (200 technicians) at 120 s, nine routes drawn from the nearest eighteen served -128,
#: -72, -126 and -102 priority-weighted visits of about 39,600 beside six from twelve (seeds 1-4).
LNS_ROUTES = 6
#: Routes near a step's anchor from which it draws its ``LNS_ROUTES``: the nearest, and the
#: others at random among the next nearest. Always the same nearest six made only as many
#: pieces as there are routes, and the search stalled within 6-8 s of 30; drawing them from
#: the nearest twelve gave VROOM new pieces to solve, and 14 s of search from VROOM's routes
#: of 250-visit days (three makers, seeds 3-5) served 1-4 more visits of ~220 on 8 days of 9,
#: at a lower cost on all 9; from the nearest nine, 0-3 more; from 18 or 30, dearer than from
#: twelve on 4 days of 6 and level on the others.
LNS_CLOSE_ROUTES = 12
#: Left-out nodes nearest the step's routes that it offers VROOM beside theirs. On tight
#: 2,500-visit days at 120 s, with about 500 left out, 80 served +22, -23, +25 and +8 (seeds 1-4).
LNS_LEFT_OUT = 40
#: Routes a segment step (``solver.segments``) cuts a stretch from, at most, and the most nodes
#: of a stretch (each drawn from 2 up). On tight 2,500-visit days (seeds 6-8, the biggest part,
#: 60 s from VROOM's routes) steps of only stretches served 16-21 more visits of about 1,690
#: than steps of only whole routes; on 800-visit days (dayset and rural seeds 1-3, 25 s) they
#: were better on 2 days of 6, and half and half on 4 of 6.
LNS_SEGMENT_ROUTES = 8
LNS_SEGMENT_LENGTH = 6
#: How far from the anchor's time a stretch's node may be served, and a left-out node's window
#: may lie, to be in a segment step.
LNS_SEGMENT_HORIZON_S = 5400
#: Bounds of the odds that a step cuts stretches rather than takes whole routes. Between them
#: the odds follow each kind's recent wins a second (``LNS_ODDS_MEMORY`` of the last rate kept
#: at each step of that kind).
LNS_SEGMENT_ODDS = (0.15, 0.85)
LNS_ODDS_MEMORY = 0.95
#: When ``vroom-once-then-lns``'s two processes each search the whole day on close routes
#: (``solver.lns``) from their own seeds, the cheaper routes kept, rather than half the routes
#: each, their halves joined: on days of fewer than ``CLOSE_ROUTES_SPLIT_FROM_NODES`` nodes
#: with at least ``CLOSE_ROUTES_WHOLE_FROM_S_PER_NODE`` left a node until OR-Tools' turn. Where
#: the search still gains step after step, halves give each route twice the steps; where it
#: nears its end, a second search from other random choices is worth more. Measured against
#: halves (``benchmarks.field_seeds --one``, ours, priority-weighted visits): 250 visits in 30 s
#: (about 50 ms a node), city seeds 1-8 +0.35 % (8 days of 8 better), rural 8 seeds +0.1 %
#: (5 better, 1 worse); 250 in 10 s (about 17 ms), three makers seeds 9-10 better on 4 of 6,
#: level on 2; 800 in 30 s (about 17 ms), seeds 1-3, +0.04 % (5 better, 1 worse); 800 in 10 s
#: (about 6 ms), seeds 1 and 4, -0.04 % (4 worse, 2 level); tight 2,500-visit days (200
#: technicians) in 120 s, seeds 1-3, -0.09 % (2 worse, 1 better).
CLOSE_ROUTES_SPLIT_FROM_NODES = 1500
CLOSE_ROUTES_WHOLE_FROM_S_PER_NODE = 0.01
#: How often a close-routes search of at least this long packs again the routes its steps have
#: seen (``solver.recombine``), and once more at its end; and the longest CP-SAT takes for it.
#: On tight 2,500-visit days at 120 s (seeds 1-4) it served +68, +13, +90 and -28
#: priority-weighted visits of about 39,500 beside the search without it; on 800- and
#: 250-visit days at 30 s (three makers, one seed each) -3 to +9. Each half's pool there holds
#: about 3,000 routes by the end, which CP-SAT packs best within a second or two.
LNS_PACK_EVERY_S = 10.0
LNS_PACK_S = 1.0
#: Least time of a round of close-routes searches on halves (``split_close_routes``), each
#: round cutting the routes again, every other one across the cut before, so that routes on
#: either side of a cut are searched together. On tight 2,500-visit days at 120 s (about 65 s
#: of those searches) two rounds served +65, -17, +63 and +116 priority-weighted visits of
#: about 39,500 beside one (seeds 1-4), three rounds +69, +9, +8 and +127.
LNS_HALVES_ROUND_S = 30.0
#: VROOM's exploration level on a step's small instance. On tight 2,500-visit days at 120 s
#: (seeds 1-4) level 2, quicker steps and more of them, served +13, +35, +16 and -55
#: priority-weighted visits of about 39,600 beside level 3; level 1 -71, -20, -85 and -66.
LNS_VROOM_LEVEL = 3
#: Longest VROOM may take on one step.
LNS_STEP_S = 1.0
#: When someone listens, the close-routes search tells its cheaper routes this long after it
#: starts at the soonest, then each time its running time has doubled: a plan that improves
#: while a 30 s or 120 s budget runs, where the listener heard nothing between VROOM's routes
#: and the answer (on a 250-visit service-centre day at 30 s, a plan worth VROOM's under our
#: rule, reached within seconds, was first heard at 28.9 s).
LNS_TELL_FIRST_S = 1.0
#: A told plan is timed for its draft in a model of its own, in the searching process (about
#: ``_timing_s`` of its interpreter: 0.1 s at 250 visits, 0.8 s at 2,150): tells are at least
#: this many of those timings apart, so that drafts take at most a tenth of the search.
LNS_TELL_TIMINGS = 10
#: Time OR-Tools may spend completing a start read from routes (see ``search_parameters``).
START_COMPLETION_S = 10.0
#: Share of its time limit after which OR-Tools' search stops when its best has not improved
#: (``SolveParams.stall_share``): a small day is answered when the search has nothing more to
#: find, not when the budget ends, and the time a part of a day leaves goes to the parts after
#: it.
STALL_SHARE = 0.2
#: Seconds per node after which OR-Tools' search stops when its best has not improved, when
#: that is sooner than ``STALL_SHARE`` of its limit: a small day's guided local search finds
#: its improvements within a fraction of a second of each other, a large day's seconds apart,
#: so the wait for one more grows with the day, not with the budget. At 0.008 s a node a
#: 60-visit day waits about half a second; 250 visits 2 s; 800 visits 6.4 s.
STALL_S_PER_NODE = 0.008
#: Least wait for one more improvement, however small the day (or the part of a day). A
#: search of a few dozen nodes finds its improvements within milliseconds of each other: at
#: 0.25 s, each of the five parts (6-22 nodes) of a 60-visit day without breaks waited that long
#: twice (PyVRP's and OR-Tools' stalls), half a second a part; at 0.05 s the same visits were
#: served on the four days tried.
MIN_STALL_S = 0.05
#: Seconds per node after which PyVRP stops when its best has not improved, when that is
#: sooner than ``STALL_SHARE`` of its limit (``seeder_stall_s``): PyVRP improves in longer
#: strides than OR-Tools' search, but a small day's strides are short too. At 0.02 s a node a
#: 100-customer Solomon day waits 2 s, its whole stall share at 10 s (where 0.8 s cost 2
#: vehicles of 423 and 0.4 % distance over 56 days); a 60-visit day 1.2 s where a 30 s budget's
#: share was 6 s. On 60-visit days without breaks (three makers, ten seeds, with
#: ``MIN_STALL_S`` at 0.05 s) the answer came in 2.0 s instead of 3.7 s on average at 10 s, in
#: 3.4 s instead of 9.0 s at 30 s; 4 days of 60 served one visit fewer (19 priority-weighted
#: visits of 54,933); at 0.04 s a node one of them kept its visit, in twice the time.
SEEDER_STALL_S_PER_NODE = 0.02
#: Least time between two progress reports that count placed visits (an O(N) walk).
PROGRESS_INTERVAL_S = 0.25
#: Least time between two progress reports that carry a snapshot of the best routes (an O(N)
#: walk of the solution, when the caller asked for snapshots); the first report of a search
#: always carries one. Whoever times a snapshot into a plan (``solver.search.schedule``, about
#: a model build) keeps up with this pace on large days.
SNAPSHOT_INTERVAL_S = 1.0


@dataclass(frozen=True, slots=True)
class SolveParams:
    """How long and how to search.

    Parameters
    ----------
    time_limit_s
        Wall-clock budget of the whole search, seeding included (default 10).
    first_solution
        A key of ``FIRST_SOLUTION`` (default ``parallel_cheapest_insertion``).
    metaheuristic
        A key of ``METAHEURISTIC``: ``guided_local_search`` (default),
        ``simulated_annealing``, ``tabu_search``, ``greedy_descent`` or
        ``iterated_local_search``.
    solution_limit
        Stop after this many solutions (default 0, no limit); with ``greedy_descent``, for
        tests.
    seed
        Random seed (default 0), handed to every part of OR-Tools' search that takes one (its
        CP-SAT parameters). The routing local search itself (first solution, guided local
        search) has no random stream: for a given amount of search it is deterministic, so a
        time-limited run varies only with the machine's speed and load. Seeders (PyVRP takes
        the seed, VROOM none) are time-limited too.
    seeders
        Libraries whose routes start the search when they can express the instance
        (``solver.seeders``; default ``SEEDERS``, all of them): two diverse seeding searches
        run side by side on two processes (``solver.portfolio``), and OR-Tools keeps the
        cheaper, then searches on from it for the last ``POLISH_SHARE`` of the budget. Empty:
        OR-Tools alone from its first-solution strategy. Never used with ``initial_routes`` or
        a ``solution_limit``.
    reproducible
        Count work instead of watching the clock (default ``False``), so the same instance,
        parameters and seed give the same solution on any machine: PyVRP runs a number of
        iterations worth the seeding share of the budget on the reference machine
        (``solver.seeders.pyvrp.PYVRP_NODE_ITERATIONS_PER_S``), VROOM runs to its own end, and
        OR-Tools stops at its first local optimum (greedy descent, whatever ``metaheuristic``
        says) instead of running guided local search to the time limit. The time limit stays a
        cap: a run that reaches it (a much slower machine) is no longer reproducible. Where no
        second process can be started, the two seeding searches run one after the other with
        half the work each, so results differ from a run that had two processes.
    stall_share
        OR-Tools' search stops once its best has not improved for this share of its time
        limit (default ``STALL_SHARE``), or sooner on a small day (``stall_s``); ``0``
        searches to the limit. Not in a reproducible run, which stops at its first local
        optimum anyway.
    """

    time_limit_s: float = 10.0
    first_solution: str = "parallel_cheapest_insertion"
    metaheuristic: str = "guided_local_search"
    solution_limit: int = 0
    seed: int = 0
    seeders: tuple[str, ...] = SEEDERS
    reproducible: bool = False
    stall_share: float = STALL_SHARE


def stall_s(params: SolveParams, n_nodes: int) -> float | None:
    """How long OR-Tools' search of ``n_nodes`` nodes goes on without improving its best
    before it stops: ``STALL_S_PER_NODE`` a node (at least ``MIN_STALL_S``), and never more than
    ``params.stall_share`` of the time limit; ``None`` when it never stops early (a share of
    ``0``, or a reproducible run)."""
    if params.stall_share <= 0 or params.reproducible:
        return None
    by_size = max(MIN_STALL_S, STALL_S_PER_NODE * n_nodes)
    return min(params.stall_share * params.time_limit_s, by_size)


def seeder_stall_s(params: SolveParams, n_nodes: int) -> float | None:
    """How long PyVRP goes on without improving its best on ``n_nodes`` nodes before it stops:
    ``SEEDER_STALL_S_PER_NODE`` a node (at least ``MIN_STALL_S``), and never more than
    ``params.stall_share`` of the time limit; ``None`` as for ``stall_s``.

    PyVRP improves in longer strides than OR-Tools' search: on Solomon's 100-customer days at
    10 s, stopping it after ``stall_s`` (0.8 s) cost 2 vehicles of 423 and 0.4 % distance
    (30 of 56 days worse).
    """
    if params.stall_share <= 0 or params.reproducible:
        return None
    by_size = max(MIN_STALL_S, SEEDER_STALL_S_PER_NODE * n_nodes)
    return min(params.stall_share * params.time_limit_s, by_size)


def _metaheuristic_of(params: SolveParams) -> str:
    """The metaheuristic the search runs: greedy descent when ``params`` is reproducible."""
    return _REPRODUCIBLE_METAHEURISTIC if params.reproducible else params.metaheuristic


def check_strategies(params: SolveParams) -> None:
    """Refuse a first-solution strategy or a metaheuristic that OR-Tools does not have.

    Parameters
    ----------
    params
        The parameters to check; a reproducible run's metaheuristic is greedy descent whatever
        ``params.metaheuristic`` says, so only the one it runs is checked.

    Raises
    ------
    SolverError
        If the first-solution strategy or the metaheuristic is unknown.
    """
    if params.first_solution not in FIRST_SOLUTION:
        raise SolverError(f"unknown first solution strategy {params.first_solution!r}")
    if _metaheuristic_of(params) not in METAHEURISTIC:
        raise SolverError(f"unknown metaheuristic {params.metaheuristic!r}")


def search_parameters(params: SolveParams) -> pywrapcp.RoutingSearchParameters:
    """OR-Tools' routing search parameters for ``params``.

    Parameters
    ----------
    params
        Strategy, time limit, solution limit and seed; a reproducible run stops at its first
        local optimum (greedy descent).

    Returns
    -------
    pywrapcp.RoutingSearchParameters
        Fresh parameters, the time limit counted from whenever the search starts.

    Raises
    ------
    SolverError
        If the first-solution strategy or the metaheuristic is unknown.
    """
    check_strategies(params)
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = FIRST_SOLUTION[params.first_solution]
    search.local_search_metaheuristic = METAHEURISTIC[_metaheuristic_of(params)]
    if _metaheuristic_of(params) == "iterated_local_search":
        search.use_iterated_local_search = True
        ruin = search.iterated_local_search_parameters.ruin_recreate_parameters
        del ruin.ruin_strategies[:]
        ruin.ruin_strategies.add().spatially_close_routes.num_ruined_routes = ILS_RUINED_ROUTES
    search.time_limit.FromMilliseconds(max(1, round(params.time_limit_s * 1000)))
    if params.solution_limit:
        search.solution_limit = params.solution_limit
    search.sat_parameters.random_seed = params.seed
    # OR-Tools bounds the completion of a start (restoring routes read from a seed or a
    # previous plan) by this limit, 100 ms by default: too short for large days with breaks,
    # where every start then failed. Its LNS operators, the limit's other use, are off by
    # default.
    search.lns_time_limit.FromMilliseconds(round(START_COMPLETION_S * 1000))
    # The local-search operators' neighbourhoods stay whole (``ls_operator_neighbors_ratio``
    # 1, OR-Tools' default), at every size. OR-Tools 9.15 builds bounded neighbour lists once
    # per cost class, and the preference dimension gives each preferred technician's vehicles
    # a cost class of their own (35 on the 800-visit dayset day, 59 on city and rural ones):
    # 5 % or 40 neighbours made OR-Tools' own 10 s search of a city day of 800 visits take
    # 16.0 s and 753 MB (whole: 10.3 s, 195 MB), and 2 % or 50 made a 20 s search of 2,424
    # visits take 68 s and 8.5 GB (whole: 21 s, 0.76 GB). In the race (800 visits, 10 s, city
    # and rural seeds 1-3) the bound overran to 12.5 s and served 13,330 priority-weighted
    # visits on average against 13,341 without; with a single cost class it saved no memory and
    # found slightly dearer routes. What keeps a large day's search small is arc pruning
    # (``solver.arcs``) and splitting it into independent parts (``solver.parts``).
    return search
