"""Regions of a day: technicians and visits that nothing ties to the rest, found before any
travel matrix is built, so that each region's matrix and search are its own size.

A visit ties to a technician who could ever serve it: the pin, the skills, the crew, and the
service radius measured on the ellipsoid as the screening measures it (with
``RADIUS_RECHECK_SHARE`` to spare, so that a pair the exact check would allow is never cut
apart: by haversine, which errs by up to 0.5 %, a visit 99.7 km north of a base at latitude 23
read 100.1 km, went to the group nobody could serve, was given to that technician there, and
the joined plan had them on two routes at once). Technicians tied through visits form one
region (regions under ``MIN_REGION_VISITS`` visits are planned together). A day of four
service centres 300 km apart is four regions; a day of one centre is one.
Visits nobody could serve make one more group planned with every technician (their bases
only: a small matrix), so that each gets the reason it would get in the whole day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dispatch.model import Problem
from dispatch.planning.eligibility import RADIUS_RECHECK_SHARE
from dispatch.travel.geodesic import ellipsoidal_km, haversine_km
from solver.parts import components

__all__ = ["MIN_REGION_VISITS", "Region", "regions"]

#: Regions with fewer visits are planned together as one: below this a search of its own (a
#: race of two processes) costs more than it saves, and a small day stays one search.
MIN_REGION_VISITS = 200


@dataclass(frozen=True, slots=True)
class Region:
    """Indices of a region's technicians and visits in the day."""

    technicians: tuple[int, ...]
    visits: tuple[int, ...]


def regions(problem: Problem) -> list[Region]:
    """The regions of ``problem``, largest first; the whole day when it has only one, when
    some site has no coordinates (an explicit matrix only: no distance to judge by), or when
    visits need spare parts from depots (their stock is shared by every route of the day)."""
    techs, visits = problem.technicians, problem.visits
    whole = [Region(tuple(range(len(techs))), tuple(range(len(visits))))]
    if len(techs) < 2 or any(v.site.location is None for v in visits):
        return whole
    if problem.depots and any(v.parts for v in visits):
        return whole
    if any(t.home.location is None for t in techs):
        return whole
    points = np.array(
        [(v.site.location.lat, v.site.location.lon) for v in visits if v.site.location]
    )
    bases = np.array([(t.home.location.lat, t.home.location.lon) for t in techs if t.home.location])
    km = ellipsoidal_km(points, bases) if len(points) else np.zeros((0, len(techs)))
    limits = np.array([t.service_radius_km or problem.policy.service_radius_km for t in techs])
    near = km <= limits[None, :] * (1 + 2 * RADIUS_RECHECK_SHARE)
    skills = [tech.skills for tech in techs]
    crews = np.array([tech.crew_size for tech in techs])
    ids = [tech.id for tech in techs]
    masks: dict[tuple[frozenset[str], int, str | None], np.ndarray] = {}
    able = np.empty((len(visits), len(techs)), dtype=bool)
    for i, visit in enumerate(visits):
        key = (visit.required_skills, visit.crew_size, visit.pinned_to)
        if key not in masks:
            mask = np.array([visit.required_skills <= held for held in skills], dtype=bool)
            mask &= crews >= visit.crew_size
            if visit.pinned_to is not None:
                mask &= np.array([tech_id == visit.pinned_to for tech_id in ids], dtype=bool)
            masks[key] = mask
        able[i] = masks[key]
    able &= near
    rows, cols = np.nonzero(able)
    groups = np.split(cols, np.flatnonzero(np.diff(rows)) + 1) if rows.size else []
    region_of = components(len(techs), [group.tolist() for group in groups]).tolist()
    first_able = np.where(able.any(axis=1), able.argmax(axis=1), -1).tolist()
    members: dict[int, list[int]] = {}
    for t in range(len(techs)):
        members.setdefault(region_of[t], []).append(t)
    if len(members) == 1:
        return whole
    found: dict[int, list[int]] = {r: [] for r in members}
    nobody: list[int] = []
    for i, first in enumerate(first_able):
        if first < 0:
            nobody.append(i)
        else:
            found[region_of[first]].append(i)
    result = _nearby_joined(
        [Region(tuple(members[r]), tuple(found[r])) for r in members], bases, limits
    )
    small = [region for region in result if len(region.visits) < MIN_REGION_VISITS]
    result = [region for region in result if len(region.visits) >= MIN_REGION_VISITS]
    if len(result) <= 1:
        return whole
    # A group too small for a search of its own joins the region whose bases are nearest
    # (a centre's delivery crews join its technicians): they are planned together.
    centres = np.array([bases[list(region.technicians)].mean(axis=0) for region in result])
    for region in small:
        centre = bases[list(region.technicians)].mean(axis=0)
        k = int(np.argmin(haversine_km(centre[None, :], centres)[0]))
        result[k] = Region(
            tuple(sorted(result[k].technicians + region.technicians)),
            tuple(sorted(result[k].visits + region.visits)),
        )
    result.sort(key=lambda region: (-len(region.visits), region.technicians))
    if nobody:
        result.append(Region(tuple(range(len(techs))), tuple(nobody)))
    return result


def _nearby_joined(groups: list[Region], bases: np.ndarray, limits: np.ndarray) -> list[Region]:
    """``groups`` too small for a search of their own joined with each other where their
    bases' centres lie within a service radius of each other (the trades of one service
    centre): each centre's trades of 80 visits were all too small, no region was left, and a
    day of two centres 300 km apart was planned as one. Groups big enough stay as they are."""
    small = [g for g in groups if len(g.visits) < MIN_REGION_VISITS]
    if len(small) < 2:
        return groups
    centres = np.array([bases[list(g.technicians)].mean(axis=0) for g in small])
    reach = min(float(limits[list(g.technicians)].min()) for g in small)
    near = haversine_km(centres, centres) <= reach
    joined = components(len(small), [np.flatnonzero(row).tolist() for row in near]).tolist()
    merged: dict[int, Region] = {}
    for group, k in zip(small, joined, strict=True):
        had = merged.get(k)
        merged[k] = (
            group
            if had is None
            else Region(
                tuple(sorted(had.technicians + group.technicians)),
                tuple(sorted(had.visits + group.visits)),
            )
        )
    return [g for g in groups if len(g.visits) >= MIN_REGION_VISITS] + list(merged.values())
