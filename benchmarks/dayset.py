"""Realistic field-service days: an after-sales service centre in Chang'an, Dongguan.

``generate_day(visits, seed)`` returns one problem in the contract's JSON format
(``CONTRACT.md``), deterministic for a seed and sized by the number of visits (its roster too,
unless ``technicians`` sets it: ``generate_day(2500, 2026, technicians=200)`` is a regional
network's 2,500 visits for 200 technicians and crews, more than they can serve); the benchmark runs
it at about 60, 250, 800 and 2,500 visits and ``examples/changan-day.json`` is its output at
250 visits and seed 2026 (``python -m benchmarks.dayset --visits 250 --seed 2026 -o
examples/changan-day.json``). Only contract fields are written, plus one documented extension:
an urgent visit's ``reported_at``. Nothing here imports the engine: the generator is a leaf that
writes what a customer-service desk would type in, and the engine must cope with it.

The scenario
------------
A brand's after-sales centre near Zhen'an Road in Chang'an (22.816 N, 113.806 E), on Monday
23 November 2026 (``Asia/Shanghai``), staffs about one technician per ten visits and one
two-person delivery crew per sixty, so that roughly 90-97 % of a day can be served.

- **Technicians** (``T01``..) have a main trade (``air_conditioner``, ``water_heater``,
  ``appliance``, ``cctv``, ``electrical``), staffed in proportion to demand, often a second skill
  (``electrical``; ``gas`` for a few water-heater fitters certified for gas heaters; ``cctv`` for
  some electricians): one to three skills each. Three in four start and end at the centre, the
  others at home in Humen, Houjie, Dalang or Shajing (Shenzhen), 10-20 km away. Shifts are mostly
  08:00-18:00, some 08:30-17:30 or 09:00-18:00, with a 30-60 minute lunch inside 11:30-13:30.
- **Delivery crews** (``D1``..) are a driver and a helper (``crew_size`` 2) with a 1.2-1.5 t,
  10-14 m3 van loaded at the centre; one crew in six (at least one) also moves pianos.
- **Visits** (``V0001``..) are where customers live: a third in Chang'an itself, most of the
  rest in the neighbouring towns (Humen, Houjie, Dalang, Dalingshan, Huangjiang, Songshan Lake,
  Shajing and Songgang across the Shenzhen border), a sparser fifth across the rest of Dongguan
  (nearly all within 35 km), and 3-5 % from customers who moved to Qingyuan, Heyuan, Shanwei or
  Zhaoqing, more than 100 km from every base: the service radius must leave those out. Points
  falling in the Pearl River estuary are drawn again.
- **Work**: repairs (30-90 min), installs (60-150), maintenance (30-60) and inspections
  (20-40), each needing its trade, with durations skewed to the short end as on real job
  sheets; about 10 % are big-item deliveries and pickups (15-45 min) for a crew, with each
  item's real weight and volume (a fridge 70-110 kg and 0.8-1.2 m3, an upright piano
  200-280 kg) and a note naming item, floor and access that agrees with the address's room
  number. Notes carry the symptom a dispatcher would read out.
- **Time**: ~30 % agreed appointments on 15-minute (sometimes 5-minute) marks between 08:30 and
  17:00, ~40 % windows (half-days 08:00-12:00 / 13:00-18:00, or two-hour slots), the rest any
  time. Appointments are only offered where a qualified technician can reach the door 10
  minutes early from the start of the shift and still finish before it ends (estimated with
  the engine's default geodesic speeds), and at most about half the holders of a trade get
  appointments in the same hour, as a booking desk would cap them.
- **Priority**: ~6 % urgent breakdowns (repairs without an appointment, in the dense area,
  reported between 07:30 and 14:00 and to be reached within ``policy.urgent_response_min``),
  ~15 % high, ~65 % normal, ~14 % low. ~5 % ask for a ``preferred_technician`` and ~2 % are
  follow-ups pinned to one (``technician``), always someone holding the skill, usually nearby.

Shares are drawn as exact counts (rounded) and then placed at random, so that a small day has
the same mix as a big one; all randomness comes from one ``random.Random(seed)``.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from random import Random
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "DATE",
    "EARLY_ARRIVAL_MIN",
    "MIN_TECHNICIANS",
    "POLICY",
    "SERVICE_CENTRE",
    "SERVICE_RADIUS_KM",
    "TIMEZONE",
    "VISITS_PER_CREW",
    "VISITS_PER_TECHNICIAN",
    "clock_minutes",
    "clock_text",
    "generate_day",
    "haversine_km",
    "main",
]

#: The plan's date (a Monday) and time zone.
DATE: Final = "2026-11-23"
TIMEZONE: Final = "Asia/Shanghai"

#: The service centre and warehouse in Chang'an, Dongguan: (lat, lon).
SERVICE_CENTRE: Final = (22.816, 113.806)

#: Visits per technician on the roster and per two-person delivery crew.
VISITS_PER_TECHNICIAN: Final = 9.5
VISITS_PER_CREW: Final = 60

#: Minutes before an appointment in which the door should be reached: (least, most).
EARLY_ARRIVAL_MIN: Final = (5, 10)

#: No one is sent farther than this from their start.
SERVICE_RADIUS_KM: Final = 100

#: The demo's policy block.
POLICY: Final[dict[str, Any]] = {
    "early_arrival_min": list(EARLY_ARRIVAL_MIN),
    "service_radius_km": SERVICE_RADIUS_KM,
    "time_limit_s": 20,
    "urgent_response_min": 120,
}

#: Shares of visits. Deliveries and pickups go to crews; the rest to technicians.
CREW_SHARE: Final = 0.10
FAR_SHARE_RANGE: Final = (0.03, 0.05)
APPOINTMENT_SHARE: Final = 0.30
WINDOW_SHARE: Final = 0.40
URGENT_SHARE: Final = 0.06
HIGH_SHARE: Final = 0.15
LOW_SHARE: Final = 0.14
PREFERRED_SHARE: Final = 0.05
PINNED_SHARE: Final = 0.02
PICKUP_SHARE: Final = 0.20
#: Pianos per 250 visits (drawn between the two) and piano-capable crews per crew.
PIANOS_PER_250: Final = (1.0, 2.0)
PIANO_CREW_SHARE: Final = 1 / 6

#: Far visits lie at least this far (great circle) from every base: well past the radius.
FAR_MIN_KM: Final = 110.0
#: Earliest and latest appointment offered, and the earliest an urgent fault is reported.
FIRST_APPOINTMENT: Final = 8 * 60 + 30
LAST_APPOINTMENT: Final = 17 * 60
URGENT_REPORTED: Final = (7 * 60 + 30, 14 * 60)
#: Margins (minutes) kept by the booking desk on top of estimated driving.
BOOKING_MARGIN_MIN: Final = 10
#: Fewer appointments and more windows (a van's half-day) for crews: weights against 1.
_CREW_APPOINTMENT_WEIGHT: Final = 0.35
_CREW_WINDOW_WEIGHT: Final = 2.0
#: Smallest day generated; most follow-ups pinned to one technician; share of preferred
#: technicians who are the one the provisional plan sends anyway.
MIN_VISITS: Final = 10
#: Rounds in which appointments the provisional plan cannot place move to visits it can.
RELABEL_ROUNDS: Final = 3
MAX_PINS_PER_TECHNICIAN: Final = 2
PREFERRED_IS_PLANNED: Final = 0.8
#: Windows whose start range overlaps what is reachable by less than this are not offered.
MIN_WINDOW_OVERLAP_MIN: Final = 30

#: The engine's default geodesic travel model (``policy.travel``): circuity and speed profile.
CIRCUITY: Final = 1.35
SPEED_PROFILE: Final = ((0.0, 15.0), (2.0, 22.0), (10.0, 35.0), (30.0, 55.0))
EARTH_RADIUS_KM: Final = 6371.0088


# --------------------------------------------------------------------------------------------
# Geography


@dataclass(frozen=True, slots=True)
class _Town:
    """Where customers live: a centre, a spread (km, one sigma), streets, a share of visits."""

    label: str
    lat: float
    lon: float
    spread_km: float
    weight: float
    streets: tuple[str, ...]


#: Chang'an and its neighbours: most of the day.
_NEAR_TOWNS: Final = (
    _Town(
        "Chang'an",
        22.806,
        113.808,
        2.4,
        0.40,
        (
            "Zhen'an Middle Rd",
            "Zhen'an East Rd",
            "Changqing South Rd",
            "Changqing North Rd",
            "Dezheng Middle Rd",
            "Xiaobian Ave",
            "Wusha Jiangbei Rd",
            "Jinxia Middle Rd",
            "Shatou South Rd",
            "Xin'an Ave",
            "Changsheng Rd",
            "Lianfeng Rd",
            "Guangming Rd",
            "Xiajiao Rd",
        ),
    ),
    _Town(
        "Humen",
        22.818,
        113.675,
        2.4,
        0.10,
        (
            "Liansheng Middle Rd",
            "Humen Ave",
            "Yinlong Rd",
            "Taisha Rd",
            "Yongtai Rd",
            "Baiyu Rd",
            "Zhenxing Rd",
        ),
    ),
    _Town(
        "Houjie",
        22.940,
        113.672,
        2.1,
        0.07,
        ("Kangle South Rd", "Houjie Ave West", "Xinwei Rd", "Shuanggang Rd", "Chengtai Rd"),
    ),
    _Town(
        "Dalang",
        22.941,
        113.936,
        1.9,
        0.05,
        ("Fumin Rd", "Dalang Ave", "Yinquan Rd", "Shuiping Rd", "Jiabao Rd"),
    ),
    _Town(
        "Dalingshan",
        22.900,
        113.842,
        1.9,
        0.06,
        ("Dalingshan Ave", "Jinlong Rd", "Lianhu Rd", "Dongfeng Rd", "Xinshi Rd"),
    ),
    _Town(
        "Huangjiang",
        22.878,
        113.996,
        1.9,
        0.04,
        ("Huangjiang Ave", "Gongye Rd", "Tianmei Rd", "Huangniupu Rd"),
    ),
    _Town(
        "Songshan Lake",
        22.915,
        113.880,
        1.6,
        0.04,
        ("Industrial North 1st Rd", "Keji 7th Rd", "Songshan Lake Ave", "Xincheng Rd"),
    ),
    _Town(
        "Shajing, Bao'an, Shenzhen",
        22.733,
        113.836,
        1.8,
        0.07,
        ("Shajing Rd", "Xinsha Rd", "Diwang Rd", "Minzhu Ave", "Houting Rd"),
    ),
    _Town(
        "Songgang, Bao'an, Shenzhen",
        22.776,
        113.848,
        1.6,
        0.04,
        ("Songbai Rd", "Songgang Ave", "Tantou Rd", "Lougang Rd"),
    ),
)

#: The rest of Dongguan: a sparser fifth of the day, wider spreads.
_DONGGUAN_TOWNS: Final = (
    _Town("Nancheng", 23.012, 113.748, 3.0, 1.0, ("Hongfu Rd", "Dongguan Ave", "Xinji Rd")),
    _Town("Dongcheng", 23.032, 113.785, 3.0, 1.0, ("Dongzong Rd", "Dongcheng Middle Rd")),
    _Town("Guancheng", 23.045, 113.752, 2.0, 0.6, ("Xicheng Rd", "Xinhua Rd")),
    _Town("Liaobu", 22.972, 113.840, 2.5, 0.8, ("Liaobu Ave", "Xiangshi Rd")),
    _Town("Changping", 22.975, 114.010, 2.8, 0.9, ("Changping Ave", "Dongshen Rd")),
    _Town("Tangxia", 22.805, 114.085, 2.8, 0.9, ("Tangxia Ave", "Lincun Rd")),
    _Town("Fenggang", 22.745, 114.140, 2.5, 0.6, ("Fenggang Ave", "Yongsheng Rd")),
    _Town("Qingxi", 22.845, 114.160, 2.5, 0.5, ("Qingxi Ave", "Luhu Rd")),
    _Town("Zhangmutou", 22.915, 114.080, 2.0, 0.5, ("Zhangmutou Ave", "Muhe Rd")),
    _Town("Dongkeng", 22.990, 113.935, 1.6, 0.4, ("Dongkeng Ave", "Xinhe Rd")),
    _Town("Qiaotou", 23.020, 114.090, 2.0, 0.4, ("Qiaotou Ave", "Lianhu Rd")),
    _Town("Shilong", 23.110, 113.850, 1.8, 0.5, ("Xihu Rd", "Huangzhou Rd")),
    _Town("Gaobu", 23.090, 113.740, 2.0, 0.4, ("Gaobu Ave", "Yingbin Rd")),
    _Town("Shatian", 22.920, 113.625, 1.6, 0.3, ("Shatian Ave", "Gangkou Rd")),
)

#: Customers who moved away: beyond the radius of every base.
_FAR_TOWNS: Final = (
    _Town("Qingxin, Qingyuan", 23.735, 112.990, 3.0, 1.0, ("Taiping Rd", "Xincheng Ave")),
    _Town("Yuancheng, Heyuan", 23.745, 114.700, 3.0, 1.0, ("Yuewang Ave", "Xinghua Rd")),
    _Town("Chengqu, Shanwei", 22.787, 115.375, 3.0, 1.0, ("Shanwei Ave", "Haibin Rd")),
    _Town("Duanzhou, Zhaoqing", 23.050, 112.465, 3.0, 1.0, ("Duanzhou 3rd Rd", "Tianning Rd")),
)

#: Share of the day drawn from the neighbours (the rest spread over ``_DONGGUAN_TOWNS``).
_NEAR_SHARE: Final = 0.88

#: Where technicians who start from home live: (town, lat, lon).
_HOME_TOWNS: Final = (
    ("Humen", 22.826, 113.676),
    ("Houjie", 22.936, 113.668),
    ("Dalang", 22.940, 113.934),
    ("Shajing", 22.736, 113.832),
)
#: Share of technicians who start and end at home; their homes' spread (km).
_HOME_SHARE: Final = 0.25
_HOME_SPREAD_KM: Final = 1.2

_ESTATES: Final = (
    "Jinhui Garden", "Haibin Garden", "Yijing Huayuan", "Cuiyuan Court", "Lijing Bay",
    "Jiahe Court", "Vanke City Garden", "Country Garden Phoenix City", "Longquan Haoyuan",
    "Xinghe Mingju", "Jinxiu Jiangnan", "Huafu Court", "Tianyi Garden", "Yuhu Mingyuan",
    "Zhongxin Plaza Apartments", "Bihai Yuntian", "Shimao Riverside", "Gaoxin Apartments",
)  # fmt: skip


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle kilometres between two ``(lat, lon)`` points in degrees."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    half = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, half)))


def _drive_minutes(origin: tuple[float, float], points: NDArray[np.float64]) -> NDArray[np.float64]:
    """Driving minutes from ``origin`` to each ``(lat, lon)`` row of ``points``, as the engine's
    default geodesic provider estimates them: great circle x circuity at the profile's speed."""
    lat1, lon1 = math.radians(origin[0]), math.radians(origin[1])
    lat2, lon2 = np.radians(points[:, 0]), np.radians(points[:, 1])
    half = (
        np.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    road_km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(half, 1.0))) * CIRCUITY
    kmh = np.interp(road_km, [x for x, _ in SPEED_PROFILE], [v for _, v in SPEED_PROFILE])
    minutes: NDArray[np.float64] = road_km / kmh * 60.0
    return minutes


def _drive_min(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Driving minutes from ``a`` to ``b`` (see ``_drive_minutes``)."""
    return float(_drive_minutes(a, np.array([b], dtype=np.float64))[0])


def _on_land(lat: float, lon: float) -> bool:
    """A coarse coastline: the Pearl River estuary lies west of Humen, Chang'an and Shajing."""
    in_estuary = 22.5 < lat < 23.0 and 113.45 < lon < 113.60
    in_bay = 22.5 < lat < 22.795 and 113.45 < lon < 113.765
    return not (in_estuary or in_bay)


def _jitter(rng: Random, lat: float, lon: float, spread_km: float) -> tuple[float, float]:
    """A point around ``(lat, lon)``, normal with ``spread_km`` per axis."""
    dlat = rng.gauss(0.0, spread_km) / 111.32
    dlon = rng.gauss(0.0, spread_km) / (111.32 * math.cos(math.radians(lat)))
    return round(lat + dlat, 5), round(lon + dlon, 5)


def _point_in(rng: Random, town: _Town) -> tuple[float, float]:
    """A point on land around ``town``."""
    while True:
        lat, lon = _jitter(rng, town.lat, town.lon, town.spread_km)
        if _on_land(lat, lon):
            return lat, lon


# --------------------------------------------------------------------------------------------
# People

_SURNAMES: Final = (
    "Chen", "Li", "Huang", "Zhang", "Liang", "Lin", "Liu", "Wu", "Ye", "Luo", "He", "Zheng",
    "Wang", "Xie", "Yang", "Mai", "Zhou", "Deng", "Lai", "Zeng", "Cai", "Guo", "Tang", "Feng",
    "Su", "Lu", "Pan", "Mo", "Peng", "Xu", "Zhong", "Ou", "Yuan", "Kuang", "Fang", "Qiu",
)  # fmt: skip
#: More weight on the surnames most common in Guangdong.
_SURNAME_WEIGHTS: Final = tuple(max(1.0, 10.0 - i * 0.5) for i in range(len(_SURNAMES)))
_GIVEN_NAMES: Final = (
    "Wei", "Fang", "Na", "Min", "Jing", "Li", "Qiang", "Lei", "Jun", "Yang", "Yong", "Yan",
    "Jie", "Juan", "Tao", "Ming", "Chao", "Xiuying", "Xia", "Ping", "Gang", "Hui", "Jian",
    "Hong", "Peng", "Hao", "Yuting", "Zihan", "Haoran", "Xinyi", "Junjie", "Jiahui", "Zhiqiang",
    "Meiling", "Weiming", "Guohua", "Jianhua", "Lihua", "Xiaoling", "Shuqin", "Yuxuan",
    "Wenjie", "Zhiwei", "Jianguo", "Yuming", "Huimin", "Shaohua", "Kaiwen", "Yongqiang",
    "Xiaoyan", "Guoqiang", "Weixiong", "Zhihao", "Baoyi", "Jiaqi", "Minghui", "Wenbin",
)  # fmt: skip
#: Given names common among the (mostly male) technicians and crews.
_CREW_GIVEN_NAMES: Final = (
    "Wei", "Qiang", "Lei", "Jun", "Yong", "Tao", "Ming", "Gang", "Jian", "Peng", "Hao",
    "Zhiqiang", "Jianguo", "Weiming", "Guohua", "Yongqiang", "Guoqiang", "Zhihao", "Wenbin",
    "Haitao", "Jianjun", "Dongsheng", "Xiaodong", "Jinlong", "Zhenhua", "Liang", "Bin", "Kai",
)  # fmt: skip
_BUSINESS_PREFIXES: Final = (
    "Yongli", "Xinghua", "Jinda", "Huafeng", "Hengtai", "Dongsheng", "Jiali", "Ruifeng",
    "Shunda", "Hongxing", "Meixin", "Tianyu", "Weida", "Chuangxin",
)  # fmt: skip
_BUSINESS_KINDS: Final = (
    "Hardware Factory", "Mould Co., Ltd.", "Electronics Factory", "Supermarket", "Restaurant",
    "Logistics Warehouse", "Kindergarten", "Property Management Office", "Auto Repair Shop",
)  # fmt: skip
_MOBILE_PREFIXES: Final = (
    "134", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159",
    "130", "131", "132", "155", "156", "185", "186", "133", "153", "180", "181", "189",
    "177", "199", "188", "187", "182", "183", "176", "166",
)  # fmt: skip


def _person(rng: Random, given: Sequence[str] = _GIVEN_NAMES) -> str:
    surname = rng.choices(_SURNAMES, weights=_SURNAME_WEIGHTS)[0]
    return f"{surname} {rng.choice(given)}"


def _unique_person(rng: Random, taken: set[str], given: Sequence[str]) -> str:
    while True:
        name = _person(rng, given)
        if name not in taken:
            taken.add(name)
            return name


def _phone(rng: Random) -> str:
    prefix = rng.choice(_MOBILE_PREFIXES)
    return f"+86 {prefix} {rng.randrange(10_000):04d} {rng.randrange(10_000):04d}"


# --------------------------------------------------------------------------------------------
# Technicians and crews

#: Main trades and their share of the technicians (staffed to demand).
_TRADE_SHARES: Final = (
    ("air_conditioner", 0.30),
    ("water_heater", 0.26),
    ("appliance", 0.26),
    ("cctv", 0.09),
    ("electrical", 0.09),
)
#: The smallest roster ``generate_day`` takes: a technician of each trade and a delivery crew.
MIN_TECHNICIANS: Final = len(_TRADE_SHARES) + 1
#: Share of a trade's technicians who also hold ``electrical``.
_ELECTRICAL_SECOND: Final = {
    "air_conditioner": 0.35,
    "water_heater": 0.35,
    "appliance": 0.25,
    "cctv": 0.5,
    "electrical": 0.0,
}
#: Water-heater fitters certified for gas heaters, per technician on the roster (at least 1).
_GAS_SHARE: Final = 0.07
#: Electricians who also wire cameras.
_CCTV_SECOND: Final = 0.3
#: Share of a technician's day spent on each second skill (the rest on the main trade); the
#: day's mix of trades follows, so that no trade is short-staffed.
_SECOND_SKILL_TIME: Final = {"gas": 0.25, "electrical": 0.1, "cctv": 0.15}

#: Shifts (start, end) and how often each is rostered; lunch window and its lengths.
_SHIFTS: Final = ((("08:00", "18:00"), 0.7), (("08:30", "17:30"), 0.15), (("09:00", "18:00"), 0.15))
_LUNCH_WINDOW: Final = ("11:30", "13:30")
_LUNCH_MIN: Final = ((30, 0.35), (45, 0.35), (60, 0.30))
_CREW_SHIFT: Final = (8 * 60, 18 * 60)
_CREW_CAPACITY_KG: Final = (1200, 1300, 1400, 1500)
_CREW_CAPACITY_M3: Final = (10, 11, 12, 13, 14)


@dataclass(frozen=True, slots=True)
class _Worker:
    """What the visit generator needs to know of a technician or crew."""

    id: str
    main: str
    skills: frozenset[str]
    start: tuple[float, float]
    shift_start: int
    shift_end: int
    lunch_min: int
    capacity: tuple[float, float] | None = None


def clock_text(minutes: int) -> str:
    """``minutes`` after midnight as the contract's clock time, ``HH:MM``."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def clock_minutes(clock: str) -> int:
    """A contract's clock time, ``HH:MM``, as minutes after midnight."""
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _largest_remainder(total: int, shares: Sequence[float], floor: int) -> list[int]:
    """Split ``total`` by ``shares`` into integers of at least ``floor`` each (if room)."""
    raw = [total * s / sum(shares) for s in shares]
    counts = [int(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: counts[i] - raw[i])[: total - sum(counts)]:
        counts[i] += 1
    for i in range(len(counts)):
        while counts[i] < floor and max(counts) > floor:
            donor = max(range(len(counts)), key=lambda j: counts[j])
            counts[donor] -= 1
            counts[i] += 1
    return counts


def _location(point: tuple[float, float]) -> dict[str, float]:
    return {"lat": point[0], "lon": point[1]}


def _lunch_min(rng: Random) -> int:
    return rng.choices([m for m, _ in _LUNCH_MIN], weights=[w for _, w in _LUNCH_MIN])[0]


def _breaks(lunch_min: int) -> list[dict[str, Any]]:
    return [{"start": _LUNCH_WINDOW[0], "end": _LUNCH_WINDOW[1], "duration_min": lunch_min}]


def _technicians(
    rng: Random, count: int, names: set[str]
) -> tuple[list[dict[str, Any]], list[_Worker]]:
    trades = [trade for trade, _ in _TRADE_SHARES]
    per_trade = _largest_remainder(count, [s for _, s in _TRADE_SHARES], floor=1)
    mains = [t for t, n in zip(trades, per_trade, strict=True) for _ in range(n)]
    rng.shuffle(mains)
    heater_fitters = [i for i, t in enumerate(mains) if t == "water_heater"]
    gas = set(
        rng.sample(heater_fitters, min(len(heater_fitters), max(1, round(count * _GAS_SHARE))))
    )
    homes = set(rng.sample(range(count), round(count * _HOME_SHARE)))
    width = max(2, len(str(count)))
    rows: list[dict[str, Any]] = []
    workers: list[_Worker] = []
    for i, main in enumerate(mains):
        skills = [main]
        if i in gas:
            skills.append("gas")
        if rng.random() < _ELECTRICAL_SECOND[main]:
            skills.append("electrical")
        if main == "electrical" and rng.random() < _CCTV_SECOND:
            skills.append("cctv")
        if i in homes:
            _, lat, lon = rng.choice(_HOME_TOWNS)
            start = _jitter(rng, lat, lon, _HOME_SPREAD_KM)
        else:
            start = SERVICE_CENTRE
        shift = rng.choices([s for s, _ in _SHIFTS], weights=[w for _, w in _SHIFTS])[0]
        tech_id = f"T{i + 1:0{width}d}"
        lunch = _lunch_min(rng)
        rows.append(
            {
                "id": tech_id,
                "name": _unique_person(rng, names, _CREW_GIVEN_NAMES),
                "skills": skills,
                "start": _location(start),
                "end": _location(start),
                "shift": {"start": shift[0], "end": shift[1]},
                "breaks": _breaks(lunch),
                "crew_size": 1,
            }
        )
        workers.append(
            _Worker(
                tech_id,
                main,
                frozenset(skills),
                start,
                clock_minutes(shift[0]),
                clock_minutes(shift[1]),
                lunch,
            )
        )
    return rows, workers


def _crews(rng: Random, count: int, names: set[str]) -> tuple[list[dict[str, Any]], list[_Worker]]:
    pianos = set(rng.sample(range(count), max(1, round(count * PIANO_CREW_SHARE))))
    rows: list[dict[str, Any]] = []
    workers: list[_Worker] = []
    for i in range(count):
        driver = _unique_person(rng, names, _CREW_GIVEN_NAMES)
        helper = _unique_person(rng, names, _CREW_GIVEN_NAMES)
        skills = ["delivery", "piano"] if i in pianos else ["delivery"]
        crew_id = f"D{i + 1}"
        lunch = _lunch_min(rng)
        capacity = (rng.choice(_CREW_CAPACITY_KG), rng.choice(_CREW_CAPACITY_M3))
        rows.append(
            {
                "id": crew_id,
                "name": f"Crew {i + 1} ({driver} & {helper})",
                "skills": skills,
                "start": _location(SERVICE_CENTRE),
                "end": _location(SERVICE_CENTRE),
                "shift": {"start": clock_text(_CREW_SHIFT[0]), "end": clock_text(_CREW_SHIFT[1])},
                "breaks": _breaks(lunch),
                "crew_size": 2,
                "capacity": {"weight_kg": capacity[0], "volume_m3": capacity[1]},
            }
        )
        workers.append(
            _Worker(
                crew_id,
                "delivery",
                frozenset(skills),
                SERVICE_CENTRE,
                _CREW_SHIFT[0],
                _CREW_SHIFT[1],
                lunch,
                capacity,
            )
        )
    return rows, workers


# --------------------------------------------------------------------------------------------
# Work

_KINDS: Final = ("install", "repair", "maintenance", "inspection")
#: Per trade: weights of install, repair, maintenance, inspection.
_KIND_WEIGHTS: Final = {
    "water_heater": (0.12, 0.48, 0.28, 0.12),
    "air_conditioner": (0.10, 0.38, 0.42, 0.10),
    "appliance": (0.12, 0.58, 0.18, 0.12),
    "cctv": (0.30, 0.35, 0.15, 0.20),
    "electrical": (0.20, 0.45, 0.05, 0.30),
    "gas": (0.10, 0.25, 0.15, 0.50),
}
#: Duration range (minutes) per kind, and the beta law placing a job in it: job sheets
#: skew to the short end (an AC clean takes 30 minutes, a stubborn fault 90).
_DURATIONS: Final = {
    "repair": (30, 90),
    "install": (60, 150),
    "maintenance": (30, 60),
    "inspection": (20, 40),
}
_DURATION_SKEW: Final = (1.1, 4.5)
#: What the customer reported, per trade and kind.
_ISSUES: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "water_heater": {
        "repair": (
            "Gas water heater won't ignite, error E1",
            "Electric water heater leaking",
            "No hot water since this morning",
            "Water heater trips the breaker",
            "Water temperature swings hot and cold",
        ),
        "install": (
            "Install 60 L electric water heater, remove old unit",
            "Install 16 L gas water heater, flue through window",
            "Replace storage heater with instant heater",
        ),
        "maintenance": (
            "Annual service: descale, replace anode rod",
            "Clean burner and check flue",
        ),
        "inspection": ("Safety check before winter", "Check pressure relief valve"),
    },
    "air_conditioner": {
        "repair": (
            "Split AC not cooling, suspected gas leak",
            "Indoor unit dripping water",
            "Outdoor unit very noisy",
            "Error code E4 on display",
            "Remote works but AC won't start",
        ),
        "install": (
            "Install 1.5 HP split AC, outdoor bracket on wall",
            "Move AC from bedroom to living room",
            "Install 3 HP cabinet AC",
        ),
        "maintenance": (
            "Clean filters and evaporators, 3 units",
            "Deep clean before heating season",
            "Top up refrigerant",
        ),
        "inspection": (
            "Check refrigerant pressure after last repair",
            "Warranty inspection of new unit",
        ),
    },
    "appliance": {
        "repair": (
            "Washing machine won't drain",
            "Fridge not cooling, compressor clicking",
            "Front-loader door locked, error E3",
            "Dryer not heating",
            "Fridge ice build-up in freezer",
            "Dishwasher leaves water in tub",
        ),
        "install": (
            "Install built-in dishwasher",
            "Connect and level new washing machine",
            "Install range hood and gas hob",
        ),
        "maintenance": ("Clean washing machine drum and filters", "Replace fridge door seal"),
        "inspection": ("Fridge noise under warranty", "Check washing machine vibration"),
    },
    "cctv": {
        "repair": (
            "Camera 3 offline",
            "NVR not recording",
            "Night vision fails on 2 cameras",
            "Cannot view cameras on phone app",
        ),
        "install": (
            "Install 4 cameras and NVR",
            "Add 2 outdoor cameras at the gate",
            "Install video doorbell",
            "Install 8 cameras in workshop",
        ),
        "maintenance": ("Clean lenses, check hard disk", "Firmware update and password reset"),
        "inspection": ("Check coverage of loading bay", "Survey for new camera positions"),
    },
    "electrical": {
        "repair": (
            "Breaker keeps tripping in kitchen",
            "Sockets dead in two rooms",
            "Lights flickering in living room",
            "Burning smell from socket",
        ),
        "install": (
            "Dedicated circuit for water heater",
            "Install ceiling lights and switches",
            "Install EV charger in car park",
            "Add sockets in study",
        ),
        "maintenance": ("Tighten distribution board terminals",),
        "inspection": ("Electrical safety check for rental flat", "Earth leakage test"),
    },
    "gas": {
        "repair": ("Gas hob burner won't light", "Gas hob ignition clicks, no flame"),
        "install": ("Connect gas hob, replace hose", "Install gas leak alarm"),
        "maintenance": ("Replace gas hose and regulator",),
        "inspection": ("Annual gas safety inspection", "Check gas pipe before heater install"),
    },
}
_URGENT_ISSUES: Final = {
    "water_heater": ("No hot water, elderly resident", "Water heater leaking onto floor"),
    "air_conditioner": ("AC leaking onto electrics", "Server room AC down"),
    "appliance": ("Fridge dead, food spoiling", "Washing machine flooding bathroom"),
    "cctv": ("All cameras down at shop after break-in",),
    "electrical": ("Power out in half the flat", "Burning smell from distribution board"),
    "gas": ("Smell of gas near hob, valve shut off",),
}
_BUSINESS_TRADES: Final = {"cctv": 0.4, "electrical": 0.15}


@dataclass(frozen=True, slots=True)
class _Item:
    """A big item a crew carries: weight (kg) and volume (m3) ranges, minutes on site."""

    name: str
    weight_kg: tuple[int, int]
    volume_m3: tuple[float, float]
    duration_min: tuple[int, int]
    weight: float


_ITEMS: Final = (
    _Item("Fridge", (70, 110), (0.8, 1.2), (20, 35), 0.24),
    _Item("Washing machine", (60, 80), (0.4, 0.6), (15, 25), 0.22),
    _Item("Sofa", (40, 90), (1.5, 3.0), (20, 35), 0.16),
    _Item("Wardrobe", (80, 150), (1.0, 2.0), (30, 45), 0.08),
    _Item("Bed and mattress", (60, 120), (1.2, 2.2), (25, 40), 0.08),
    _Item("Dining table and chairs", (45, 90), (0.8, 1.5), (20, 30), 0.07),
    _Item("Massage chair", (80, 120), (0.8, 1.2), (20, 35), 0.05),
    _Item("Clothes dryer", (40, 55), (0.3, 0.5), (15, 25), 0.05),
    _Item("Chest freezer", (45, 70), (0.4, 0.7), (15, 25), 0.05),
)
_PIANO: Final = _Item("Upright piano", (200, 280), (1.2, 1.6), (35, 45), 0.0)
#: What is picked up: returns and trade-ins.
_PICKUP_REASONS: Final = ("old unit, trade-in", "return, wrong size", "return, damaged in transit")


def _ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@dataclass(frozen=True, slots=True)
class _Address:
    text: str
    floor: int
    lift: bool


def _address(rng: Random, town: _Town, business: bool) -> _Address:
    """Street text; the floor and lift the crew will find there."""
    street = rng.choice(town.streets)
    number = rng.randrange(1, 400)
    style = rng.random()
    if business:
        return _Address(f"{number} {street}, {town.label}", 1, True)
    if style < 0.55:  # a tower in an estate
        floor = rng.randrange(2, 33)
        room = f"{floor}{rng.randrange(1, 7):02d}"
        building = rng.randrange(1, 16)
        estate = rng.choice(_ESTATES)
        text = f"Bldg {building}, Rm {room}, {estate}, {number} {street}, {town.label}"
        return _Address(text, floor, True)
    if style < 0.85:  # a walk-up in an old village lane
        floor = rng.randrange(1, 8)
        room = f"{floor}{rng.randrange(1, 4):02d}"
        text = f"Rm {room}, No. {rng.randrange(1, 60)}, Lane {rng.randrange(1, 12)}, {street}, "
        return _Address(text + town.label, floor, floor <= 1)
    return _Address(f"{number} {street}, {town.label}", 1, True)  # a house or shop


def _access(address: _Address) -> str:
    if address.floor <= 1:
        return "ground floor"
    return f"{_ordinal(address.floor)} floor, {'lift' if address.lift else 'stairs only'}"


def _duration(rng: Random, low: int, high: int) -> int:
    """Minutes in ``[low, high]`` rounded to 5: most jobs short, a long tail (mean ~27 % in)."""
    return 5 * round((low + (high - low) * rng.betavariate(*_DURATION_SKEW)) / 5)


# --------------------------------------------------------------------------------------------
# Visits


@dataclass(slots=True)
class _Draft:
    """A visit being built; ``row`` is its JSON."""

    row: dict[str, Any]
    site: tuple[float, float]
    trade: str
    far: bool
    near: bool


def _visit_trades(techs: Sequence[_Worker]) -> tuple[list[str], list[float]]:
    """Trades visits need, weighted by the working time the staff can give each.

    A trade's weight is its staff's share of the day over the trade's mean job length, so
    that every trade gets about as many working minutes as its people have.
    """
    time = dict.fromkeys([*(trade for trade, _ in _TRADE_SHARES), "gas"], 0.0)
    for tech in techs:
        second = {s: _SECOND_SKILL_TIME[s] for s in sorted(tech.skills) if s != tech.main}
        time[tech.main] += 1.0 - sum(second.values())
        for skill, share in second.items():
            time[skill] += share
    skew = _DURATION_SKEW[0] / sum(_DURATION_SKEW)
    mean_min = {kind: low + (high - low) * skew for kind, (low, high) in _DURATIONS.items()}
    trades = [t for t, w in time.items() if w > 0]
    weights = [
        time[t] / sum(w * mean_min[k] for k, w in zip(_KINDS, _KIND_WEIGHTS[t], strict=True))
        for t in trades
    ]
    return trades, weights


def _far_point(
    rng: Random, town: _Town, bases: Sequence[tuple[float, float]]
) -> tuple[float, float]:
    """A point around a far ``town`` at least ``FAR_MIN_KM`` from every base."""
    while True:
        site = _point_in(rng, town)
        if min(haversine_km(base, site) for base in bases) >= FAR_MIN_KM:
            return site


def _tech_visit(
    rng: Random, trade: str, far: bool, bases: Sequence[tuple[float, float]]
) -> tuple[_Draft, str]:
    """A technician's job at a customer's: trade and kind decided, time not yet."""
    if far:
        town, near = rng.choice(_FAR_TOWNS), False
        site = _far_point(rng, town, bases)
    else:
        if rng.random() < _NEAR_SHARE:
            town, near = rng.choices(_NEAR_TOWNS, weights=[t.weight for t in _NEAR_TOWNS])[0], True
        else:
            town = rng.choices(_DONGGUAN_TOWNS, weights=[t.weight for t in _DONGGUAN_TOWNS])[0]
            near = False
        site = _point_in(rng, town)
    business = rng.random() < _BUSINESS_TRADES.get(trade, 0.0)
    customer = (
        f"{rng.choice(_BUSINESS_PREFIXES)} {rng.choice(_BUSINESS_KINDS)}"
        if business
        else _person(rng)
    )
    address = _address(rng, town, business)
    kind = rng.choices(_KINDS, weights=_KIND_WEIGHTS[trade])[0]
    row: dict[str, Any] = {
        "customer": customer,
        "address": address.text,
        "phone": _phone(rng),
        "location": _location(site),
        "kind": kind,
        "duration_min": _duration(rng, *_DURATIONS[kind]),
        "required_skills": [trade],
        "priority": "normal",
    }
    issue = rng.choice(_ISSUES[trade][kind])
    return _Draft(row, site, trade, far, near), f"{issue}; {_access(address)}"


def _crew_visit(rng: Random, piano: bool) -> _Draft:
    """A big item delivered or picked up by a crew."""
    if rng.random() < _NEAR_SHARE:
        town = rng.choices(_NEAR_TOWNS, weights=[t.weight for t in _NEAR_TOWNS])[0]
    else:
        town = rng.choices(_DONGGUAN_TOWNS, weights=[t.weight for t in _DONGGUAN_TOWNS])[0]
    site = _point_in(rng, town)
    address = _address(rng, town, business=False)
    item = _PIANO if piano else rng.choices(_ITEMS, weights=[i.weight for i in _ITEMS])[0]
    pickup = not piano and rng.random() < PICKUP_SHARE
    minutes = rng.randrange(item.duration_min[0], item.duration_min[1] + 1, 5)
    if not address.lift and address.floor > 1:
        minutes = min(45, minutes + 5 * min(3, address.floor - 1))
    what = f"{item.name} ({rng.choice(_PICKUP_REASONS)})" if pickup else item.name
    access = _access(address)
    if piano and not address.lift and address.floor > 1:
        access += ", narrow turn on landing"
    row: dict[str, Any] = {
        "customer": _person(rng),
        "address": address.text,
        "phone": _phone(rng),
        "location": _location(site),
        "kind": "pickup" if pickup else "delivery",
        "duration_min": minutes,
        "required_skills": ["delivery", "piano"] if piano else ["delivery"],
        "priority": "normal",
        "crew_size": 2,
        "demand": {
            "weight_kg": rng.randrange(item.weight_kg[0], item.weight_kg[1] + 1),
            "volume_m3": round(rng.uniform(*item.volume_m3), 2),
        },
        "notes": f"{what}, {access}",
    }
    return _Draft(row, site, "delivery", far=False, near=town in _NEAR_TOWNS)


# --------------------------------------------------------------------------------------------
# Time

#: Windows a customer may choose: half-days and two-hour slots, and how often a half-day is.
_HALF_DAYS: Final = (("08:00", "12:00"), ("13:00", "18:00"))
_SLOTS: Final = (
    ("08:00", "10:00"),
    ("09:00", "11:00"),
    ("10:00", "12:00"),
    ("13:00", "15:00"),
    ("14:00", "16:00"),
    ("15:00", "17:00"),
    ("16:00", "18:00"),
)
_HALF_DAY_SHARE: Final = 0.45
#: Share of appointments on 5-minute rather than 15-minute marks.
_FIVE_MINUTE_SHARE: Final = 0.4
#: Share of customers with a time who want the afternoon, and the appointments each half of
#: the day offers (none over lunch).
_AFTERNOON_SHARE: Final = 0.5
_APPOINTMENT_SPANS: Final = ((FIRST_APPOINTMENT, 11 * 60 + 45), (13 * 60, LAST_APPOINTMENT))
#: Lunch window bounds in minutes.
_LUNCH_START: Final = clock_minutes(_LUNCH_WINDOW[0])
_LUNCH_END: Final = clock_minutes(_LUNCH_WINDOW[1])
#: Minutes added to every estimated leg (parking, lifts, the engine rounding up).
LEG_SLACK_MIN: Final = 2
#: An appointment is set at least this long after the provisional arrival: the early band's
#: least and a little margin for traffic.
APPOINTMENT_LEAD_MIN: Final = EARLY_ARRIVAL_MIN[0] + 3
#: A window's start must leave the engine this much room before the window closes.
WINDOW_ROOM_MIN: Final = 10
#: Where a window visit may start in each half of the day, leaving that room.
_WINDOW_STARTS: Final = tuple(
    (clock_minutes(start), clock_minutes(end) - WINDOW_ROOM_MIN) for start, end in _HALF_DAYS
)
#: Urgent faults are chosen where the provisional plan arrives by then, and reported this
#: long before that arrival: (least, most) minutes, well inside the response time.
URGENT_LAST_ARRIVAL: Final = 15 * 60 + 30
URGENT_LEAD_MIN: Final = (20, 100)


@dataclass(frozen=True, slots=True)
class _Booking:
    """Where the desk's provisional plan puts a visit: who, arrival and service start."""

    worker: _Worker
    arrival: int
    start: int


@dataclass(slots=True)
class _Run:
    """A worker's provisional day as the desk fills it."""

    worker: _Worker
    at: tuple[float, float]
    clock: int
    lunch_done: bool = False
    weight_kg: float = 0.0
    volume_m3: float = 0.0


def _start_for(label: str, step: int, half: int, arrival: int) -> int | None:
    """When service would start for a provisional ``arrival``; ``None`` if it cannot.

    ``half`` is the customer's half of the day (0 morning, 1 afternoon) for an appointment or
    a window; ``step`` the appointment's marks (5 or 15 minutes).
    """
    if label == "appointment":
        first, last = _APPOINTMENT_SPANS[half]
        mark = max(first, math.ceil((arrival + APPOINTMENT_LEAD_MIN) / step) * step)
        return mark if mark <= last else None
    if label == "window":
        opens, closes = _WINDOW_STARTS[half]
        return max(arrival, opens) if arrival <= closes else None
    return arrival


class _Desk:
    """The booking desk's provisional plan: who takes which visit, and when.

    Workers take turns by the clock: the one free earliest takes the pending visit it can start
    soonest (driving plus any wait for the appointment mark or the window) that still leaves
    its lunch inside the lunch window and gets it home before the shift ends; a crew also
    needs van room. Lunch is taken after the first visit ending past 11:30 (or when nothing
    fits before it). Far visits are never booked. Driving follows the engine's default travel
    model, rounded up, plus ``LEG_SLACK_MIN`` a leg, so the appointments and windows derived
    from the plan can be kept.
    """

    def __init__(
        self,
        drafts: Sequence[_Draft],
        labels: Sequence[str],
        steps: Sequence[int],
        halves: Sequence[int],
    ) -> None:
        self.drafts, self.labels, self.steps, self.halves = drafts, labels, steps, halves
        self.sites = np.array([d.site for d in drafts], dtype=np.float64)
        self.pending = np.array([not d.far for d in drafts], dtype=bool)
        members: dict[frozenset[str], list[int]] = {}
        for i, draft in enumerate(drafts):
            if not draft.far:
                members.setdefault(frozenset(draft.row["required_skills"]), []).append(i)
        self.buckets = {need: np.array(ix, dtype=np.int64) for need, ix in members.items()}
        self._home: dict[tuple[float, float], NDArray[np.int64]] = {}

    def legs(self, origin: tuple[float, float], members: NDArray[np.int64]) -> NDArray[np.int64]:
        """Whole minutes from ``origin`` to each visit of ``members``, slack included."""
        minutes = np.ceil(_drive_minutes(origin, self.sites[members]))
        return minutes.astype(np.int64) + LEG_SLACK_MIN

    def home(self, start: tuple[float, float]) -> NDArray[np.int64]:
        """Whole minutes between ``start`` and every visit (travel is symmetric)."""
        if start not in self._home:
            self._home[start] = self.legs(start, np.arange(len(self.drafts), dtype=np.int64))
        return self._home[start]

    def book(self, workers: Sequence[_Worker]) -> dict[int, _Booking]:
        """Fill every worker's day; return the booking of each visit placed."""
        runs = [_Run(w, w.start, w.shift_start) for w in workers]
        heap = [(run.clock, k) for k, run in enumerate(runs)]
        heapq.heapify(heap)
        bookings: dict[int, _Booking] = {}
        while heap:
            _, k = heapq.heappop(heap)
            run = runs[k]
            choice = self._next_stop(run)
            if choice is None:
                if run.lunch_done:
                    continue  # this worker's day is full
                run.clock = max(run.clock, _LUNCH_START) + run.worker.lunch_min
                run.lunch_done = True
            else:
                i, booking = choice
                draft = self.drafts[i]
                self.pending[i] = False
                bookings[i] = booking
                run.at, run.clock = draft.site, booking.start + int(draft.row["duration_min"])
                if "demand" in draft.row:
                    run.weight_kg += draft.row["demand"]["weight_kg"]
                    run.volume_m3 += draft.row["demand"]["volume_m3"]
                if not run.lunch_done and run.clock >= _LUNCH_START:
                    run.clock += run.worker.lunch_min
                    run.lunch_done = True
            heapq.heappush(heap, (run.clock, k))
        return bookings

    def _next_stop(self, run: _Run) -> tuple[int, _Booking] | None:
        """The pending visit ``run`` can start soonest that keeps lunch, shift and van room."""
        worker = run.worker
        home = self.home(worker.start)
        best: tuple[tuple[int, int], _Booking] | None = None
        for need, bucket in self.buckets.items():
            if not need <= worker.skills:
                continue
            members = bucket[self.pending[bucket]]
            arrivals = run.clock + self.legs(run.at, members)
            for j in np.argsort(arrivals, kind="stable"):
                i, arrival = int(members[j]), int(arrivals[j])
                if best is not None and arrival - run.clock > best[0][0]:
                    break  # every later one starts later still
                start = _start_for(self.labels[i], self.steps[i], self.halves[i], arrival)
                if start is None:
                    continue
                key = (start - run.clock, i)
                if best is not None and key >= best[0]:
                    continue
                draft = self.drafts[i]
                end = start + int(draft.row["duration_min"])
                if not run.lunch_done and end > _LUNCH_END - worker.lunch_min:
                    continue
                if end + int(home[i]) > worker.shift_end:
                    continue
                if worker.capacity is not None:
                    demand = draft.row["demand"]
                    if (
                        run.weight_kg + demand["weight_kg"] > worker.capacity[0]
                        or run.volume_m3 + demand["volume_m3"] > worker.capacity[1]
                    ):
                        continue
                best = (key, _Booking(worker, arrival, start))
        return None if best is None else (best[0][1], best[1])


def _window_around(rng: Random, start: int) -> tuple[str, str]:
    """A half-day or two-hour slot in which ``start`` lies with room to spare."""
    pools = (_HALF_DAYS, _SLOTS) if rng.random() < _HALF_DAY_SHARE else (_SLOTS, _HALF_DAYS)
    for pool in pools:
        fits = [
            w for w in pool if clock_minutes(w[0]) <= start <= clock_minutes(w[1]) - WINDOW_ROOM_MIN
        ]
        if fits:
            return rng.choice(fits)
    return _HALF_DAYS[0] if start < _LUNCH_START else _HALF_DAYS[1]


@dataclass(frozen=True, slots=True)
class _Reach:
    """Service starts some eligible worker could manage: [earliest, latest] minutes."""

    earliest: int
    latest: int


def _reach(site: tuple[float, float], duration: int, workers: Sequence[_Worker]) -> _Reach | None:
    """What a booking desk could offer a visit outside the provisional plan."""
    usable = [w for w in workers if haversine_km(w.start, site) <= SERVICE_RADIUS_KM]
    if not usable:
        return None
    early = EARLY_ARRIVAL_MIN[1] + BOOKING_MARGIN_MIN
    earliest = min(w.shift_start + math.ceil(_drive_min(w.start, site)) for w in usable) + early
    latest = max(w.shift_end - math.ceil(_drive_min(site, w.start)) - duration for w in usable)
    return _Reach(earliest, latest - BOOKING_MARGIN_MIN)


def _any_appointment(rng: Random, step: int, reach: _Reach | None) -> int | None:
    """A mark between the first and last appointment a visit outside the plan could keep."""
    low, high = FIRST_APPOINTMENT, LAST_APPOINTMENT
    if reach is not None:
        low, high = max(low, reach.earliest), min(high, reach.latest)
    marks = range(math.ceil(low / step) * step, high + 1, step)
    return rng.choice(marks) if marks else None


def _any_window(rng: Random, reach: _Reach | None) -> tuple[str, str]:
    """A window a visit outside the plan could keep (any, for one beyond every radius)."""
    pool = _HALF_DAYS if rng.random() < _HALF_DAY_SHARE else _SLOTS
    if reach is None:
        return rng.choice(pool)
    fits = [
        w
        for w in pool
        if min(clock_minutes(w[1]), reach.latest) - max(clock_minutes(w[0]), reach.earliest)
        >= MIN_WINDOW_OVERLAP_MIN
    ]
    return rng.choice(fits) if fits else _HALF_DAYS[0]


# --------------------------------------------------------------------------------------------
# The day


def _pick_weighted(
    rng: Random, items: Sequence[int], weights: Sequence[float], k: int
) -> list[int]:
    """``k`` of ``items`` without replacement, chance in proportion to ``weights``."""
    keys = sorted(
        ((rng.random() ** (1.0 / w), item) for item, w in zip(items, weights, strict=True)),
        reverse=True,
    )
    return [item for _, item in keys[:k]]


def _time_labels(rng: Random, drafts: Sequence[_Draft]) -> list[str]:
    """``appointment``, ``window`` or ``free`` per visit, in exact shares; crews get fewer
    appointments and more windows (a van's half-day)."""
    n = len(drafts)
    crew = [d.trade == "delivery" for d in drafts]
    everyone = list(range(n))
    booked = set(
        _pick_weighted(
            rng,
            everyone,
            [_CREW_APPOINTMENT_WEIGHT if c else 1.0 for c in crew],
            round(n * APPOINTMENT_SHARE),
        )
    )
    rest = [i for i in everyone if i not in booked]
    windowed = set(
        _pick_weighted(
            rng,
            rest,
            [_CREW_WINDOW_WEIGHT if crew[i] else 1.0 for i in rest],
            round(n * WINDOW_SHARE),
        )
    )
    return [
        "appointment" if i in booked else "window" if i in windowed else "free" for i in everyone
    ]


def _visits_drafts(
    rng: Random, visits: int, techs: Sequence[_Worker], bases: Sequence[tuple[float, float]]
) -> tuple[list[_Draft], list[str]]:
    """The day's visits without times or priorities, in booking order, and their notes."""
    n_crew_visits = max(1, round(visits * CREW_SHARE))
    n_far = max(1, round(visits * rng.uniform(*FAR_SHARE_RANGE)))
    n_pianos = max(1, round(visits * rng.uniform(*PIANOS_PER_250) / 250))
    kinds = ["piano"] * n_pianos + ["crew"] * (n_crew_visits - n_pianos) + ["far"] * n_far
    kinds += ["tech"] * (visits - len(kinds))
    rng.shuffle(kinds)
    trades, trade_weights = _visit_trades(techs)
    per_trade = _largest_remainder(visits - n_crew_visits, trade_weights, floor=0)
    trade_of = [t for t, n in zip(trades, per_trade, strict=True) for _ in range(n)]
    rng.shuffle(trade_of)
    drafts: list[_Draft] = []
    notes: list[str] = []
    for kind in kinds:
        if kind in ("crew", "piano"):
            draft = _crew_visit(rng, piano=kind == "piano")
            notes.append(draft.row.pop("notes"))
        else:
            draft, note = _tech_visit(rng, trade_of.pop(), kind == "far", bases)
            notes.append(note)
        drafts.append(draft)
    return drafts, notes


def _plan_bookings(
    rng: Random,
    drafts: Sequence[_Draft],
    labels: list[str],
    steps: Sequence[int],
    halves: Sequence[int],
    workers: Sequence[_Worker],
) -> dict[int, _Booking]:
    """Book the day; an appointment that found no place trades its label with a booked visit.

    A desk only promises a time it can keep: a customer who asked for an appointment the
    plan has no room for is offered a window (or no time), and the appointment goes to a
    customer the plan reaches anyway. Each round books the day again with the new labels;
    the shares of appointments, windows and free visits stay exact.
    """
    bookings = _Desk(drafts, labels, steps, halves).book(workers)
    for _ in range(RELABEL_ROUNDS):
        unplaced = [
            i
            for i, label in enumerate(labels)
            if label == "appointment" and i not in bookings and not drafts[i].far
        ]
        if not unplaced:
            break
        for i in unplaced:
            crew = drafts[i].trade == "delivery"
            takers = [
                j
                for j in sorted(bookings)
                if labels[j] != "appointment" and (drafts[j].trade == "delivery") == crew
            ]
            if takers:
                j = rng.choice(takers)
                labels[i], labels[j] = labels[j], labels[i]
        bookings = _Desk(drafts, labels, steps, halves).book(workers)
    return bookings


def _roster(visits: int, technicians: int | None) -> tuple[int, int]:
    """Technicians working alone and delivery crews on the roster of a day of ``visits``: one
    per ``VISITS_PER_TECHNICIAN`` and one per ``VISITS_PER_CREW`` visits, or ``technicians``
    of both together in that proportion (a crew at least, and a technician of each trade)."""
    alone = max(len(_TRADE_SHARES), math.ceil(visits / VISITS_PER_TECHNICIAN))
    crews = max(1, round(visits / VISITS_PER_CREW))
    if technicians is None:
        return alone, crews
    if technicians < MIN_TECHNICIANS:
        raise ValueError(
            f"technicians must be at least {MIN_TECHNICIANS} (one of each trade and a "
            f"delivery crew), got {technicians}"
        )
    crews = min(
        technicians - len(_TRADE_SHARES), max(1, round(technicians * crews / (alone + crews)))
    )
    return technicians - crews, crews


def generate_day(visits: int, seed: int, technicians: int | None = None) -> dict[str, Any]:
    """One day of the Chang'an service centre (see the module docstring).

    Parameters
    ----------
    visits
        Number of visits, at least 10; technicians and crews scale with it.
    seed
        Seed of the only random source; the same seed gives the same day.
    technicians
        The roster's size instead, technicians and two-person crews together (at least
        ``MIN_TECHNICIANS``), split between them in the usual proportion. The desk books the
        day with that roster: appointments and windows it can keep, pins and preferences for
        its own people. Fewer than the usual (about one per nine visits) overbook the day.

    Returns
    -------
    A problem in the contract's JSON format (plus ``reported_at`` on urgent visits).

    Raises
    ------
    ValueError
        When ``visits`` is below 10 or ``technicians`` below ``MIN_TECHNICIANS``.
    """
    if visits < MIN_VISITS:
        raise ValueError(f"visits must be at least {MIN_VISITS}, got {visits}")
    n_techs, n_crews = _roster(visits, technicians)
    rng = Random(seed)
    names: set[str] = set()
    tech_rows, techs = _technicians(rng, n_techs, names)
    crew_rows, crews = _crews(rng, n_crews, names)
    bases = sorted({w.start for w in (*techs, *crews)})
    drafts, notes = _visits_drafts(rng, visits, techs, bases)
    labels = _time_labels(rng, drafts)
    steps = [5 if rng.random() < _FIVE_MINUTE_SHARE else 15 for _ in drafts]
    halves = [int(rng.random() < _AFTERNOON_SHARE) for _ in drafts]
    bookings = _plan_bookings(rng, drafts, labels, steps, halves, [*techs, *crews])

    # Urgent breakdowns: repairs in the dense area that the plan reaches early enough.
    candidates = [
        i
        for i, booking in sorted(bookings.items())
        if labels[i] == "free"
        and drafts[i].near
        and drafts[i].trade != "delivery"
        and drafts[i].row["kind"] == "repair"
        and booking.arrival <= URGENT_LAST_ARRIVAL
    ]
    urgent = sorted(rng.sample(candidates, min(len(candidates), round(visits * URGENT_SHARE))))
    for i in urgent:
        lead = rng.randrange(URGENT_LEAD_MIN[0], URGENT_LEAD_MIN[1] + 1)
        reported = 5 * ((bookings[i].arrival - lead) // 5)
        reported = max(URGENT_REPORTED[0], min(URGENT_REPORTED[1], reported))
        drafts[i].row.update(priority="urgent", reported_at=clock_text(reported))
        notes[i] = f"Breakdown: {rng.choice(_URGENT_ISSUES[drafts[i].trade])}"
    others = [i for i in range(visits) if i not in set(urgent)]
    rng.shuffle(others)
    n_high, n_low = round(visits * HIGH_SHARE), round(visits * LOW_SHARE)
    for i in others[:n_high]:
        drafts[i].row["priority"] = "high"
    for i in others[n_high : n_high + n_low]:
        drafts[i].row["priority"] = "low"

    # Follow-ups pinned to, and requests for, the technician the plan sends anyway (mostly).
    regulars = [
        i
        for i in sorted(bookings)
        if drafts[i].trade != "delivery" and drafts[i].row["priority"] != "urgent"
    ]
    chosen = rng.sample(
        regulars, min(len(regulars), round(visits * (PINNED_SHARE + PREFERRED_SHARE)))
    )
    n_pinned = round(visits * PINNED_SHARE)
    pins: dict[str, int] = {}
    for rank, i in enumerate(chosen):
        worker = bookings[i].worker
        if rank < n_pinned and pins.get(worker.id, 0) < MAX_PINS_PER_TECHNICIAN:
            pins[worker.id] = pins.get(worker.id, 0) + 1
            drafts[i].row["technician"] = worker.id
            notes[i] = f"Follow-up of an earlier job, parts arrived. {notes[i]}"
            continue
        if rng.random() > PREFERRED_IS_PLANNED:
            need = set(drafts[i].row["required_skills"])
            pool = [w for w in techs if need <= w.skills]
            weights = [1.0 / (5.0 + haversine_km(w.start, drafts[i].site)) for w in pool]
            worker = rng.choices(pool, weights=weights)[0]
        drafts[i].row["preferred_technician"] = worker.id
        notes[i] = f"Asks for the same technician as last time. {notes[i]}"

    # Times: from the plan where booked, else whatever the desk could offer.
    for i, draft in enumerate(drafts):
        booking = bookings.get(i)
        if labels[i] == "free":
            continue
        if booking is not None:
            if labels[i] == "appointment":
                draft.row["appointment"] = clock_text(booking.start)
            else:
                start, end = _window_around(rng, booking.start)
                draft.row["window"] = {"start": start, "end": end}
            continue
        need = set(draft.row["required_skills"])
        pool = [w for w in (crews if draft.trade == "delivery" else techs) if need <= w.skills]
        reach = _reach(draft.site, int(draft.row["duration_min"]), pool)
        mark = _any_appointment(rng, steps[i], reach) if labels[i] == "appointment" else None
        if mark is not None:
            draft.row["appointment"] = clock_text(mark)
        else:
            start, end = _any_window(rng, reach)
            draft.row["window"] = {"start": start, "end": end}

    width = max(4, len(str(visits)))
    rows = [
        {"id": f"V{number:0{width}d}", **draft.row, "notes": note}
        for number, (draft, note) in enumerate(zip(drafts, notes, strict=True), start=1)
    ]
    return {
        "date": DATE,
        "timezone": TIMEZONE,
        "policy": dict(POLICY, early_arrival_min=list(EARLY_ARRIVAL_MIN)),
        "technicians": tech_rows + crew_rows,
        "visits": rows,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Write a generated day as JSON to ``-o`` or standard output; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.dayset",
        description="Generate a realistic field-service day (Chang'an, Dongguan).",
    )
    parser.add_argument("--visits", type=int, default=250, help="number of visits (default 250)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    parser.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    args = parser.parse_args(argv)
    if args.visits < MIN_VISITS:
        parser.error(f"--visits must be at least {MIN_VISITS}")
    text = json.dumps(generate_day(args.visits, args.seed), indent=1, ensure_ascii=False) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
