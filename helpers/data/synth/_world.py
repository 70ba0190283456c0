"""The synthetic city except the survey: places, attributes, organisations, points, members."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from scipy.linalg import cholesky
from scipy.spatial import cKDTree
from scipy.special import expit

from . import _geo, _names
from . import _params as P


@dataclass
class World:
    geo: _geo.Geography
    districts: pd.DataFrame
    subdistricts: pd.DataFrame
    boundaries: pd.DataFrame
    communities: pd.DataFrame
    z: np.ndarray
    eff: dict                       # district effects, arrays of length 12
    platform: pd.DataFrame = None
    organisations: pd.DataFrame = None
    points: pd.DataFrame = None     # includes x, y
    members: pd.DataFrame = None
    joint: pd.DataFrame = None
    assessment: pd.DataFrame = None
    truth_registration: pd.DataFrame = None
    truth: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)
    tri_cache: dict = field(default_factory=dict)


def _round(x, d):
    return np.round(np.asarray(x, dtype=float), d)


def places(geo: _geo.Geography, rng_names, rng_attr) -> tuple[pd.DataFrame, ...]:
    nd, ns, nc = len(geo.district_zone), len(geo.sub_polys), len(geo.cells)
    d_ids = [f"D{d + 1:02d}" for d in range(nd)]
    districts = pd.DataFrame({
        "district_id": d_ids,
        "name_en": [f"{_names.DISTRICTS[d][1]} {'County' if z == 'outer_county' else 'District'}"
                    for d, z in enumerate(geo.district_zone)],
        "name_zh": [_names.DISTRICTS[d][0] + ("县" if z == "outer_county" else "区")
                    for d, z in enumerate(geo.district_zone)],
        "zone": geo.district_zone,
    })
    zone_c = np.array(geo.district_zone)[geo.district]
    # urban or rural, by zone and distance to the seats
    r_centre = np.hypot(geo.seeds[:, 0] - _geo.CENTRE[0], geo.seeds[:, 1] - _geo.CENTRE[1])
    d_seat = np.hypot(*(geo.seeds - geo.seat[geo.district]).T)
    is_sub_seat = np.zeros(nc, bool)
    for s in range(ns):
        is_sub_seat[np.flatnonzero((geo.seeds == geo.sub_seat[s]).all(axis=1))] = True
    u = rng_attr.uniform(size=nc)
    urban = np.where(zone_c == "core", True,
                     np.where(zone_c == "inner_suburb", (r_centre < 15_500) | (u < 0.5),
                              (d_seat < 3_000) | is_sub_seat))
    # sub-district ids, kinds and names
    sub_ids, sub_kind, sub_en, sub_zh = [], [], [], []
    counter = np.zeros(nd, int)
    for s in range(ns):
        d = geo.sub_district_of[s]
        counter[d] += 1
        sub_ids.append(f"{d_ids[d]}S{counter[d]:02d}")
        if geo.district_zone[d] != "outer_county":
            sub_kind.append("street")
        else:
            has_seat = bool((np.hypot(*(geo.seeds[geo.subdistrict == s] - geo.seat[d]).T) < 1).any())
            sub_kind.append("town" if has_seat or rng_attr.uniform() < 0.6 else "township")
    for d in range(nd):
        subs = np.flatnonzero(geo.sub_district_of == d)
        stems = _names.draw_stems(rng_names, len(subs), taken={_names.DISTRICTS[d][0], _names.DISTRICTS[d][1]})
        for s, st in zip(subs, stems):
            en, zh = _names.full_name(st, sub_kind[s])
            sub_en.append((s, en))
            sub_zh.append((s, zh))
    sub_en = [e for _, e in sorted(sub_en)]
    sub_zh = [z for _, z in sorted(sub_zh)]
    subdistricts = pd.DataFrame({"subdistrict_id": sub_ids,
                                 "district_id": [d_ids[d] for d in geo.sub_district_of],
                                 "name_en": sub_en, "name_zh": sub_zh, "kind": sub_kind})
    # community ids: within each sub-district by distance from its seat
    comm_id = np.empty(nc, object)
    comm_en = np.empty(nc, object)
    comm_zh = np.empty(nc, object)
    for s in range(ns):
        idx = np.flatnonzero(geo.subdistrict == s)
        dist = np.hypot(*(geo.seeds[idx] - geo.sub_seat[s]).T)
        idx = idx[np.lexsort((geo.seeds[idx, 0], dist))]
        stems = _names.draw_stems(rng_names, len(idx))
        for k, (c, st) in enumerate(zip(idx, stems)):
            comm_id[c] = f"{sub_ids[s]}C{k + 1:03d}"
            comm_en[c], comm_zh[c] = _names.full_name(st, "community" if urban[c] else "village")
    boundaries = pd.DataFrame({"community_id": comm_id,
                               "subdistrict_id": np.array(sub_ids, object)[geo.subdistrict],
                               "district_id": np.array(d_ids, object)[geo.district],
                               "name_en": comm_en, "name_zh": comm_zh})

    # attributes
    core, inner = zone_c == "core", zone_c == "inner_suburb"
    mu = np.where(urban, np.log(np.where(core, 8500, np.where(inner, 7000, 5000))), np.log(1700))
    pop = np.maximum(300, np.round(np.exp(mu + rng_attr.normal(0, 0.45, nc)))).astype(int)
    hh_size = np.where(urban, rng_attr.uniform(2.3, 2.9, nc), rng_attr.uniform(2.8, 3.6, nc))
    households = np.minimum(pop, np.round(pop / hh_size)).astype(int)
    m60 = np.where(core, 0.24, np.where(inner, 0.16, np.where(urban, 0.19, 0.27)))
    share60 = _round(rng_attr.beta(m60 * 20, (1 - m60) * 20), 4)
    mmig = np.where(core, 0.20, np.where(inner, 0.34, np.where(urban, 0.15, 0.05)))
    migrant = _round(rng_attr.beta(mmig * 12, (1 - mmig) * 12), 4)
    college = (rng_attr.uniform(size=nc) < np.where(inner, 0.06, np.where(urban, 0.03, 0.003))).astype(int)
    staff = 1 + rng_attr.poisson(np.where(urban, 4 + pop / 1500, 2 + pop / 1000))
    funding = _round(np.exp(np.log(np.where(urban, 30 + pop / 400, 8 + pop / 300)) + rng_attr.normal(0, 0.35, nc)), 2)
    communities = pd.DataFrame({
        "community_id": comm_id, "kind": np.where(urban, "community", "village"),
        "urban": urban.astype(int), "population": pop, "households": households,
        "share_60plus": share60, "migrant_share": migrant, "has_college": college,
        "staff": staff, "funding_10k_yuan": funding,
    })
    return districts, subdistricts, boundaries, communities


def latent_field(geo: _geo.Geography, rng) -> np.ndarray:
    cent = shapely.get_coordinates(shapely.centroid(geo.cells))
    d = np.hypot(cent[:, None, 0] - cent[None, :, 0], cent[:, None, 1] - cent[None, :, 1])
    cov = np.exp(-d / P.FIELD_RANGE_M) + 1e-8 * np.eye(len(cent))
    L = cholesky(cov, lower=True)
    return L @ rng.standard_normal(len(cent))


def district_effects(rng, nd: int) -> dict:
    return {
        "aware_logit_intercept": P.AWARE_INTERCEPT_MEAN + rng.normal(0, P.AWARE_INTERCEPT_SD, nd),
        "participate_lpm_intercept": rng.uniform(*P.PARTICIPATE_INTERCEPT_RANGE, nd),
        "sat_score_district_effect": rng.normal(0, P.SAT_DISTRICT_SD, nd),
        "sat_service_ologit_shift": rng.normal(0, P.SAT_SERVICE_DISTRICT_SD, nd),
        "registration_logit_intercept": P.REGISTRATION_INTERCEPT_MEAN + rng.normal(0, P.REGISTRATION_INTERCEPT_SD, nd),
        "org_hazard_logit_shift": rng.normal(0, P.ORG_HAZARD_DISTRICT_SD, nd),
        "response_logit_shift": rng.normal(0, 0.2, nd),
    }


def build(rngs: dict, progress=lambda s: None) -> World:
    progress("geography")
    geo = _geo.build(rngs["geo"])
    progress("places and attributes")
    districts, subdistricts, boundaries, communities = places(geo, rngs["names"], rngs["attributes"])
    progress("latent field")
    z = latent_field(geo, rngs["field"])
    eff = district_effects(rngs["effects"], len(districts))
    nc = len(communities)
    # community random intercept of satisfaction: 1.5 z + independent part, sd 3 in all
    v_ind = rngs["effects"].normal(0, np.sqrt(P.SAT_COMMUNITY_SD ** 2 - P.SAT_FIELD_LOADING ** 2), nc)
    w = World(geo=geo, districts=districts, subdistricts=subdistricts, boundaries=boundaries,
              communities=communities, z=z, eff=eff)
    w.v_c = P.SAT_FIELD_LOADING * z + v_ind
    progress("platform and organisations")
    platform_and_orgs(w, rngs["platform"], rngs["orgs"])
    progress("service points")
    service_points(w, rngs["points"])
    progress("members and joint building")
    members_joint(w, rngs["members"], rngs["joint"])
    return w


# ----------------------------------------------------------------------------- organisations
def platform_and_orgs(w: World, rng_p, rng_o) -> None:
    geo, com = w.geo, w.communities
    ns = len(w.subdistricts)
    n_never = int(round(P.PLATFORM_NEVER_SHARE * ns))
    years = np.r_[np.full(n_never, np.nan),
                  rng_p.choice(P.PLATFORM_COHORTS, size=ns - n_never)].astype(float)
    years = years[rng_p.permutation(ns)]
    w.platform = pd.DataFrame({"subdistrict_id": w.subdistricts["subdistrict_id"], "platform_year": years})

    zone_c = np.array(geo.district_zone)[geo.district]
    urban = com["urban"].to_numpy().astype(bool)
    pop = com["population"].to_numpy()
    lam = np.where(urban, pop / 2000 * np.where(zone_c == "core", 1.5, np.where(zone_c == "inner_suburb", 1.3, 0.9)), 0.35)
    n_org = rng_o.poisson(lam)
    c_of = np.repeat(np.arange(len(com)), n_org)
    n = len(c_of)
    npe = rng_o.uniform(size=n) < 0.7
    emp = np.where(npe, np.exp(rng_o.normal(np.log(25), 1.1, n)), np.exp(rng_o.normal(np.log(8), 0.8, n)))
    emp = np.maximum(np.where(npe, 3, 1), np.round(emp)).astype(int)
    pm = np.minimum(emp, rng_o.binomial(emp, np.where(npe, 0.05, 0.08)))
    founded = np.maximum(1978, 2024 - np.floor(rng_o.exponential(11.0, n))).astype(int)
    closed = founded + rng_o.geometric(0.04, n)
    closed = np.where(closed > 2024, -1, closed)
    keep = (closed == -1) | (closed >= 2019)
    c_of, npe, emp, pm, founded, closed = (a[keep] for a in (c_of, npe, emp, pm, founded, closed))
    n = len(c_of)
    d_of = geo.district[c_of]
    s_of = geo.subdistrict[c_of]
    pyear = years[s_of]
    lin = (P.ORG_HAZARD_INTERCEPT + w.eff["org_hazard_logit_shift"][d_of] + P.ORG_HAZARD_FIELD * w.z[c_of]
           + P.ORG_HAZARD_MEMBERS * np.log1p(pm))
    end = np.where(closed == -1, 9999, closed)
    covered = np.full(n, -1)
    for t in range(P.ORG_SIM_START, 2025):
        at_risk = (founded <= t) & (t < end) & (covered == -1)
        treated = ~np.isnan(pyear) & (t >= np.nan_to_num(pyear, nan=9999))
        h = expit(lin + P.PLATFORM_LOGIT_HAZARD * treated)
        u = rng_o.uniform(size=n)
        covered[at_risk & (u < h)] = t
    mode = np.where(covered == -1, "none", np.where(pm >= 3, "own", "joint"))
    plat_by2024 = ~np.isnan(pyear)
    work = np.where(covered >= 0, 1, (rng_o.uniform(size=n) < np.where(plat_by2024, 0.6, 0.35)).astype(int))
    order = np.lexsort((founded, c_of))  # by community then year founded
    orgs = pd.DataFrame({
        "org_id": [f"O{k + 1:05d}" for k in range(n)],
        "community_id": com["community_id"].to_numpy()[c_of[order]],
        "kind": np.where(npe[order], "non_public_enterprise", "social_organisation"),
        "employees": emp[order], "party_members": pm[order], "year_founded": founded[order],
        "year_closed": np.where(closed[order] == -1, np.nan, closed[order]),
        "party_org_mode": mode[order],
        "party_org_year": np.where(covered[order] == -1, np.nan, covered[order]),
        "work_coverage": work[order],
    })
    w.organisations = orgs
    w._org = dict(c=c_of[order], s=s_of[order], founded=founded[order], end=end[order],
                  covered=covered[order], lin=lin[order], pyear=pyear[order])
    w.truth.update(platform_att(w))


def platform_att(w: World) -> dict:
    """Expected ATT on sub-district coverage (pp) by event time, given pre-adoption status."""
    o = w._org
    by_e: dict[int, list[float]] = {e: [] for e in range(4)}
    per_sub = []
    for s in range(len(w.subdistricts)):
        Pyr = w.platform["platform_year"].iloc[s]
        if np.isnan(Pyr):
            continue
        Pyr = int(Pyr)
        m = o["s"] == s
        for e in range(4):
            t = Pyr + e
            if t > 2024:
                break
            act = m & (o["founded"] <= t) & (t < o["end"])
            if not act.any():
                continue
            pre_cov = (o["covered"] >= 0) & (o["covered"] < Pyr)
            delta = np.zeros(act.sum())
            idx = np.flatnonzero(act & ~pre_cov)
            k = np.isin(np.flatnonzero(act), idx)
            s0 = np.ones(len(idx))
            s1 = np.ones(len(idx))
            for u in range(Pyr, t + 1):
                at = o["founded"][idx] <= u
                s0 *= np.where(at, 1 - expit(o["lin"][idx]), 1.0)
                s1 *= np.where(at, 1 - expit(o["lin"][idx] + P.PLATFORM_LOGIT_HAZARD), 1.0)
            delta[k] = s0 - s1
            v = 100 * delta.mean()
            by_e[e].append(v)
            per_sub.append((w.subdistricts["subdistrict_id"].iloc[s], Pyr, e, v))
    att_e = {str(e): float(np.mean(v)) for e, v in by_e.items() if v}
    return {"platform_att_by_event_time": att_e,
            "platform_att": float(np.mean(list(att_e.values()))),
            "_platform_att_n": {str(e): len(v) for e, v in by_e.items()}}


# ----------------------------------------------------------------------------- service points
def _points_in(w: World, rng, which: np.ndarray) -> np.ndarray:
    xy = np.round(_geo.sample_points(rng, w.geo.cells, which, w.tri_cache))
    bad = ~shapely.contains_xy(w.geo.cells[which], xy[:, 0], xy[:, 1])
    while bad.any():
        xy[bad] = np.round(_geo.sample_points(rng, w.geo.cells, which[bad], w.tri_cache))
        bad = ~shapely.contains_xy(w.geo.cells[which], xy[:, 0], xy[:, 1])
    return xy


def service_points(w: World, rng) -> None:
    geo, com = w.geo, w.communities
    nc = len(com)
    seat_c = cKDTree(geo.seeds).query(geo.seat)[1]
    sub_seat_c = cKDTree(geo.seeds).query(geo.sub_seat)[1]
    urban = com["urban"].to_numpy().astype(bool)
    # community stations: opened before 2018, during the study, or never
    yrs = np.arange(2018, 2025)
    p_pre = np.where(urban, 0.60, 0.30)
    p_year = np.where(urban, 0.05, 0.08)
    u = rng.uniform(size=nc)
    k = np.floor((u - p_pre) / p_year).astype(int)
    st_year = np.where(u < p_pre, rng.integers(2010, 2018, nc), np.where(k < len(yrs), 2018 + k, -1))
    st_c = np.flatnonzero(st_year > 0)
    level = np.r_[np.full(len(seat_c), "district_centre"), np.full(len(sub_seat_c), "subdistrict_centre"),
                  np.full(len(st_c), "community_station")]
    c_of = np.r_[seat_c, sub_seat_c, st_c]
    sub_y = np.where(rng.uniform(size=len(sub_seat_c)) < 0.85, rng.integers(2006, 2018, len(sub_seat_c)),
                     rng.integers(2018, 2022, len(sub_seat_c)))
    opened = np.r_[rng.integers(2008, 2017, len(seat_c)), sub_y, st_year[st_c]]
    xy = _points_in(w, rng, c_of)
    f = com["funding_10k_yuan"].to_numpy(float)
    s = com["staff"].to_numpy(float)
    fs, ss = (f - f.mean()) / f.std(), (s - s.mean()) / s.std()
    p = expit(P.EIGHT_HAVES_INTERCEPT + P.EIGHT_HAVES_FUNDING_LOGIT * fs[c_of] + P.EIGHT_HAVES_STAFF_LOGIT * ss[c_of])
    haves = (rng.uniform(size=(len(c_of), 8)) < p[:, None]).astype(int)
    lvl_rank = pd.Series(level).map({"district_centre": 0, "subdistrict_centre": 1, "community_station": 2}).to_numpy()
    order = np.lexsort((lvl_rank, c_of))
    from ..schema import EIGHT_HAVES
    pts = pd.DataFrame({"point_id": [f"P{k + 1:05d}" for k in range(len(c_of))],
                        "community_id": com["community_id"].to_numpy()[c_of[order]],
                        "level": level[order], "year_opened": opened[order]})
    for j, h in enumerate(EIGHT_HAVES):
        pts[h] = haves[order, j]
    pts["x"], pts["y"] = xy[order, 0], xy[order, 1]
    w.points = pts
    w.notes["eight_haves_standardisation"] = {
        "funding_10k_yuan_mean": float(f.mean()), "funding_10k_yuan_sd": float(f.std()),
        "staff_mean": float(s.mean()), "staff_sd": float(s.std()),
        "note": "std = (x - mean) / sd over all communities (population sd, ddof=0) of the published values"}


def open_points(w: World, year: int) -> np.ndarray:
    p = w.points
    return p.loc[p["year_opened"] <= year, ["x", "y"]].to_numpy(float)


# ----------------------------------------------------------------------------- members, joint
def members_joint(w: World, rng_m, rng_j) -> None:
    com, geo = w.communities, w.geo
    nc = len(com)
    urban = com["urban"].to_numpy().astype(bool)
    pop = com["population"].to_numpy()
    college = com["has_college"].to_numpy()
    units = rng_j.poisson(np.where(urban, 2 + pop / 1500 + 6 * college, 0.8))
    eta = rng_j.normal(0, 0.6, nc)
    s60 = com["share_60plus"].to_numpy()
    mig = com["migrant_share"].to_numpy()
    base = pop * np.where(urban, 0.035, 0.02) * np.exp(rng_m.normal(0, 0.2, nc))
    jrows, mrows, trows = [], [], []
    r_d = w.eff["registration_logit_intercept"][geo.district]
    for t in P.YEARS:
        q = expit(-1.0 + 0.35 * (t - 2018) + eta)
        signed = rng_j.binomial(units, q)
        events = rng_j.poisson(1 + 1.5 * signed)
        share = np.where(units > 0, signed / np.maximum(units, 1), 0.0)
        p_reg = expit(r_d + P.REGISTRATION_AGREEMENT_LOGIT * share + P.REGISTRATION_FIELD * w.z)
        ins = rng_m.poisson(base * (1 + 0.015 * (t - 2018)))
        reg = rng_m.binomial(ins, p_reg)
        act = rng_m.binomial(reg, expit(-0.4 + 4.0 * (s60 - 0.2)))
        hours = np.where(reg > 0, rng_m.gamma(np.maximum(reg, 1) * 2.0, 6.0), 0.0)
        mob = rng_m.poisson(pop * mig * 0.003 + 0.3)
        org = rng_m.binomial(mob, expit(0.4 + 0.25 * (t - 2018)))
        cid = com["community_id"].to_numpy()
        jrows.append(pd.DataFrame({"community_id": cid, "year": t, "resident_units": units,
                                   "signed_agreements": signed, "joint_events": events}))
        mrows.append(pd.DataFrame({"community_id": cid, "year": t, "in_service_resident": ins, "registered": reg,
                                   "active_registered": act, "volunteer_hours": np.round(hours, 1),
                                   "mobile_in": mob, "mobile_organised": org}))
        trows.append(pd.DataFrame({"community_id": cid, "year": t, "p_registered": p_reg}))
    key = ["community_id", "year"]
    w.joint = pd.concat(jrows).sort_values(key, kind="stable").reset_index(drop=True)
    w.members = pd.concat(mrows).sort_values(key, kind="stable").reset_index(drop=True)
    w.truth_registration = pd.concat(trows).sort_values(key, kind="stable").reset_index(drop=True)
