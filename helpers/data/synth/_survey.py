"""The resident survey: stratified two-stage PPS sample and the planted item model."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from scipy.special import expit

from ..schema import AGE_BANDS
from . import _geo
from . import _params as P
from ._world import World, open_points


def pps_probs(x: np.ndarray, n: int) -> np.ndarray:
    """Inclusion probabilities proportional to size for a sample of n (certainty units get 1)."""
    x = np.asarray(x, float)
    pi = np.zeros(len(x))
    cert = np.zeros(len(x), bool)
    while True:
        rest = ~cert
        pi[rest] = (n - cert.sum()) * x[rest] / x[rest].sum()
        pi[cert] = 1.0
        new = rest & (pi >= 1.0)
        if not new.any():
            return pi
        cert |= new


def pps_systematic(rng, pi: np.ndarray) -> np.ndarray:
    """Indices drawn by randomised systematic PPS sampling with inclusion probabilities ``pi``."""
    cert = np.flatnonzero(pi >= 1.0)
    rest = np.flatnonzero(pi < 1.0)
    rest = rest[rng.permutation(len(rest))]
    n_rest = int(round(pi[rest].sum()))
    if n_rest == 0:
        return np.sort(cert)
    cum = np.cumsum(pi[rest])
    points = rng.uniform() + np.arange(n_rest)
    sel = rest[np.searchsorted(cum, points, side="right")]
    return np.sort(np.r_[cert, sel])


def age_band(age: np.ndarray) -> np.ndarray:
    """The age band label (schema.AGE_BANDS) of each age; derived, no random draw."""
    age = np.asarray(age)
    out = np.full(age.shape, None, dtype=object)
    for label, lo, hi in AGE_BANDS:
        out[(age >= lo) & (age <= hi)] = label
    return out


def design(w: World, rng, psu_per_stratum, resp_total: int | None = None) -> pd.DataFrame:
    """One row per sampled PSU and year: community index, psu_prob, m (residents sampled)."""
    geo, com = w.geo, w.communities
    pop = com["population"].to_numpy()
    rows = []
    for t in P.YEARS:
        for d in range(len(w.districts)):
            idx = np.flatnonzero(geo.district == d)
            n = min(psu_per_stratum(len(idx)), len(idx))
            pi = pps_probs(pop[idx], n)
            pi = np.round(pi, 8)  # the published value; weights use it
            sel = pps_systematic(rng, pi)
            for k in sel:
                rows.append((t, d, idx[k], pi[k], len(idx)))
    des = pd.DataFrame(rows, columns=["year", "d", "c", "psu_prob", "n_psu_stratum"])
    if resp_total is None:
        des["m"] = P.RESP_PER_PSU
    else:
        base, extra = divmod(resp_total, len(des))
        des["m"] = base + (np.arange(len(des)) < extra)
    if (des["m"].to_numpy() > pop[des["c"].to_numpy()]).any():
        raise ValueError("more residents sampled in a community than live there; ask for fewer respondents")
    return des


def respondents(w: World, rng, des: pd.DataFrame) -> pd.DataFrame:
    """Survey microdata for a design (vectorised)."""
    com, geo, eff = w.communities, w.geo, w.eff
    m = des["m"].to_numpy()
    rep = np.repeat(np.arange(len(des)), m)
    year = des["year"].to_numpy()[rep]
    c = des["c"].to_numpy()[rep]
    d = des["d"].to_numpy()[rep]
    n = len(rep)
    s60 = com["share_60plus"].to_numpy()[c]
    mig_c = com["migrant_share"].to_numpy()[c]
    pop_c = com["population"].to_numpy()[c]

    # unit nonresponse (constant within a PSU) and at least one respondent per PSU
    rho = expit(1.9 - 1.2 * mig_c + eff["response_logit_shift"][d])
    responded = rng.uniform(size=n) < rho
    first = np.r_[0, np.cumsum(m)[:-1]]
    none = np.add.reduceat(responded.astype(int), first) == 0
    responded[first[none]] = True
    r_psu = np.add.reduceat(responded.astype(int), first)
    psu_prob = des["psu_prob"].to_numpy()[rep]
    weight = pop_c / (psu_prob * m[rep]) * (m[rep] / r_psu[rep])

    # home point and walking time to the nearest open service point
    home = _geo.sample_points(rng, geo.cells, c, w.tri_cache)
    dist = np.empty(n)
    for t in P.YEARS:
        k = year == t
        dist[k] = cKDTree(open_points(w, t)).query(home[k])[0]
    walk = np.round(dist * P.DETOUR / P.WALK_SPEED_M_PER_MIN, 1)
    w15 = walk <= 15
    band = (walk > 15) & (walk <= 30)

    age = np.where(rng.uniform(size=n) < s60, rng.integers(60, 91, n), rng.integers(18, 60, n))
    sex = np.where(rng.uniform(size=n) < 0.5, "female", "male")
    migrant = (rng.uniform(size=n) < mig_c).astype(int)
    aware = rng.uniform(size=n) < expit(eff["aware_logit_intercept"][d] + P.AWARE_WITHIN15_LOGIT * w15
                                         + P.AWARE_15TO30_LOGIT * band + P.AWARE_MIGRANT_SHARE_LOGIT * mig_c)
    p_part = eff["participate_lpm_intercept"][d] + P.PARTICIPATE_AWARE_LPM * aware + P.PARTICIPATE_SHARE60_LPM * s60
    part = rng.uniform(size=n) < p_part
    sat = (P.SAT_BASE + P.SAT_PARTICIPATED * part + P.SAT_AWARE * aware + P.SAT_WITHIN15 * w15
           + eff["sat_score_district_effect"][d] + w.v_c[c] + rng.normal(0, P.SAT_RESIDUAL_SD, n))
    sat = np.round(np.clip(sat, 0, 100), 1)
    lat = (P.SAT_SERVICE_WITHIN15_OLOGIT * w15 + P.SAT_SERVICE_AWARE_OLOGIT * aware
           + eff["sat_service_ologit_shift"][d] + rng.logistic(size=n))
    sat_service = 1 + (lat[:, None] > np.array(P.SAT_SERVICE_CUTS)).sum(axis=1)
    sat_overall = 1 + (sat[:, None] > np.array(P.SAT_OVERALL_CUTS)).sum(axis=1)
    lat_t = P.TRUST_SLOPE * sat + rng.logistic(size=n)
    trust = 1 + (lat_t[:, None] > np.array(P.TRUST_CUTS)).sum(axis=1)
    made = rng.uniform(size=n) < P.COMPLAINT_MADE_P
    resolved = rng.uniform(size=n) < P.COMPLAINT_RESOLVED_P

    items = {"sat_service": sat_service, "sat_overall": sat_overall, "trust_committee": trust,
             "sat_score": sat, "aware_center": aware.astype(int), "participated": part.astype(int),
             "complaint_made": made.astype(int)}
    out = {k: v.astype(float) for k, v in items.items()}
    for k in out:
        out[k][rng.uniform(size=n) < P.ITEM_MISSING] = np.nan
    res = np.where(out["complaint_made"] == 1, resolved.astype(float), np.nan)
    nr = ~responded

    def blank(a):
        a = np.asarray(a, float).copy()
        a[nr] = np.nan
        return a

    ids = com["community_id"].to_numpy()
    df = pd.DataFrame({
        "year": year,
        "district_id": w.districts["district_id"].to_numpy()[d],
        "subdistrict_id": w.subdistricts["subdistrict_id"].to_numpy()[geo.subdistrict[c]],
        "community_id": ids[c],
        "n_psu_stratum": des["n_psu_stratum"].to_numpy()[rep],
        "psu_prob": psu_prob,
        "responded": responded.astype(int),
        "weight": blank(weight),
        "age": blank(age), "age_band": np.where(nr, None, age_band(age)),
        "sex": np.where(nr, None, sex), "migrant": blank(migrant),
        "walk_minutes": blank(walk),
        **{k: blank(out[k]) for k in ("sat_service", "sat_overall", "trust_committee", "sat_score",
                                      "aware_center", "participated", "complaint_made")},
        "complaint_resolved": blank(res),
    })
    df["_k"] = np.arange(n)
    df = df.sort_values(["year", "district_id", "community_id", "_k"], kind="stable").reset_index(drop=True)
    per_year = df.groupby("year").cumcount().to_numpy() + 1
    width = max(6, len(str(per_year.max())))
    df.insert(0, "resp_id", [f"R{y}-{k:0{width}d}" for y, k in zip(df["year"].to_numpy(), per_year)])
    cols = ["resp_id", "year", "district_id", "subdistrict_id", "community_id", "n_psu_stratum", "psu_prob",
            "responded", "weight", "age", "age_band", "sex", "migrant", "walk_minutes", "sat_service", "sat_overall",
            "trust_committee", "sat_score", "aware_center", "participated", "complaint_made", "complaint_resolved"]
    return df[cols]


SPEC = {"resp_id": ("str", 0), "year": ("int", 0), "district_id": ("str", 0), "subdistrict_id": ("str", 0),
        "community_id": ("str", 0), "n_psu_stratum": ("int", 0), "psu_prob": ("float", 8),
        "responded": ("int", 0), "weight": ("float", 4), "age": ("int", 0), "age_band": ("str", 0),
        "sex": ("str", 0),
        "migrant": ("int", 0), "walk_minutes": ("float", 1), "sat_service": ("int", 0),
        "sat_overall": ("int", 0), "trust_committee": ("int", 0), "sat_score": ("float", 1),
        "aware_center": ("int", 0), "participated": ("int", 0), "complaint_made": ("int", 0),
        "complaint_resolved": ("int", 0)}


def expected_satisfaction(w: World, rng, n_home: int = 100) -> np.ndarray:
    """E[sat_score | c, t] (communities x years), by Monte Carlo over home points (clipping ignored)."""
    com, geo, eff = w.communities, w.geo, w.eff
    nc = len(com)
    c = np.repeat(np.arange(nc), n_home)
    home = _geo.sample_points(rng, geo.cells, c, w.tri_cache)
    d = geo.district
    mig, s60 = com["migrant_share"].to_numpy(), com["share_60plus"].to_numpy()
    out = np.empty((nc, len(P.YEARS)))
    for j, t in enumerate(P.YEARS):
        walk = np.round(cKDTree(open_points(w, t)).query(home)[0] * P.DETOUR / P.WALK_SPEED_M_PER_MIN, 1)
        p15 = (walk <= 15).reshape(nc, n_home).mean(axis=1)
        pband = ((walk > 15) & (walk <= 30)).reshape(nc, n_home).mean(axis=1)
        a = eff["aware_logit_intercept"][d] + P.AWARE_MIGRANT_SHARE_LOGIT * mig
        p_aw = (p15 * expit(a + P.AWARE_WITHIN15_LOGIT) + pband * expit(a + P.AWARE_15TO30_LOGIT)
                + (1 - p15 - pband) * expit(a))
        p_part = eff["participate_lpm_intercept"][d] + P.PARTICIPATE_AWARE_LPM * p_aw + P.PARTICIPATE_SHARE60_LPM * s60
        out[:, j] = (P.SAT_BASE + eff["sat_score_district_effect"][d] + w.v_c + P.SAT_WITHIN15 * p15
                     + P.SAT_AWARE * p_aw + P.SAT_PARTICIPATED * p_part)
    return out
