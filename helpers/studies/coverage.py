"""Glue for 01_coverage: organisation-year panel, platform contrast, noise of small units.

* :func:`org_year_panel` - one row per organisation and year in which it is active,
  with 0/1 columns for its party organisation (any, own, joint) and work coverage.
* :func:`unit_contrast` - difference in mean unit rates between two groups of units
  (e.g. sub-districts with and without the platform), Welch interval.
* :func:`spread_by_size` - how much more raw rates scatter in small units than in
  large ones (claim 7), with a bootstrap interval over units.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from helpers.data.period import years_of

__all__ = ["org_year_panel", "unit_contrast", "spread_by_size", "platform_status", "unit_means_by_year"]


def org_year_panel(organisations: pd.DataFrame, community_map: pd.DataFrame, years=None) -> pd.DataFrame:
    """Organisation-years: each organisation in each year it is active.

    Active in year ``t``: ``year_founded <= t`` and (``year_closed`` empty or ``> t``),
    the rule of :func:`helpers.stats.eventstudy.coverage_panel`. Covered in ``t``: it has a party
    organisation (``party_org_mode`` own or joint) set up by ``t``.

    Returns
    -------
    DataFrame: ``org_id, community_id, subdistrict_id, district_id, kind, year, active`` (1),
    ``covered``, ``own``, ``joint`` (0/1, as of the end of ``t``), ``work_covered`` (1 if it has
    a party organisation *or* a party-building instructor/contact; the instructor flag is not
    dated, so it is taken as holding in every year) and ``work_only`` (instructor, no
    organisation). Counts summed over rows are numerators over ``active``.
    """
    years = years_of(organisations, "organisations") if years is None else list(years)
    o = organisations.merge(community_map[["community_id", "subdistrict_id", "district_id"]],
                            on="community_id", how="left", validate="many_to_one")
    if o["district_id"].isna().any():
        raise ValueError(f"{int(o['district_id'].isna().sum())} organisations lie in a community "
                         "missing from community_map")
    founded = pd.to_numeric(o["year_founded"]).astype("float64").to_numpy()
    closed = pd.to_numeric(o["year_closed"]).astype("float64").to_numpy()
    porg = pd.to_numeric(o["party_org_year"]).astype("float64").to_numpy()
    mode = o["party_org_mode"].astype(str).to_numpy()
    work = pd.to_numeric(o["work_coverage"]).fillna(0).to_numpy(int)
    frames = []
    keep = ["org_id", "community_id", "subdistrict_id", "district_id", "kind"]
    for t in years:
        act = (founded <= t) & (np.isnan(closed) | (closed > t))
        has = (mode != "none") & (porg <= t)
        f = pd.DataFrame(o.loc[act, keep]).reset_index(drop=True)
        h = has[act]
        f["year"] = t
        f["active"] = 1
        f["covered"] = h.astype(int)
        f["own"] = (h & (mode[act] == "own")).astype(int)
        f["joint"] = (h & (mode[act] == "joint")).astype(int)
        f["work_covered"] = (h | (work[act] == 1)).astype(int)
        f["work_only"] = (~h & (work[act] == 1)).astype(int)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def platform_status(platform: pd.DataFrame, year: int) -> pd.DataFrame:
    """``subdistrict_id, platform_year, adopted`` ("adopted by <year>" / "not yet or never")."""
    p = pd.DataFrame(platform[["subdistrict_id", "platform_year"]]).copy()
    py = pd.to_numeric(p["platform_year"]).astype("float64")
    p["adopted"] = np.where(py <= year, f"adopted by {year}", "not yet or never")
    return p


def unit_contrast(units: pd.DataFrame, value: str, group: str, a, b, level: float = 0.95) -> pd.DataFrame:
    """Difference in the mean of ``value`` over units in group ``a`` minus group ``b`` (Welch).

    Each unit counts once (e.g. the sub-district coverage rate, equal weight per sub-district,
    as in the event study). Units with a missing value are left out.

    Returns
    -------
    One-row DataFrame: ``mean_a, mean_b, n_a, n_b, estimate, se, df, ci_low, ci_high``.
    """
    d = units.dropna(subset=[value])
    xa = d.loc[d[group] == a, value].to_numpy(float)
    xb = d.loc[d[group] == b, value].to_numpy(float)
    if len(xa) < 2 or len(xb) < 2:
        raise ValueError("each group needs at least two units")
    va, vb = xa.var(ddof=1) / len(xa), xb.var(ddof=1) / len(xb)
    se = np.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(xa) - 1) + vb**2 / (len(xb) - 1))
    est = xa.mean() - xb.mean()
    q = stats.t.ppf(0.5 + level / 2, df)
    return pd.DataFrame([{"mean_a": xa.mean(), "mean_b": xb.mean(), "n_a": len(xa), "n_b": len(xb),
                          "estimate": est, "se": se, "df": df, "ci_low": est - q * se, "ci_high": est + q * se}])


def _sd_gap(p: np.ndarray, small: np.ndarray) -> float:
    return float(np.std(p[small], ddof=1) - np.std(p[~small], ddof=1))


def spread_by_size(units: pd.DataFrame, numerator: str, denominator: str, n_boot: int = 999,
                   level: float = 0.95, seed=None) -> pd.DataFrame:
    """Standard deviation of raw rates in small units minus that in large units (claim 7).

    Units with a positive denominator are split at the median denominator (small: below the
    median). If small units' rates scatter more, a naive league table is filled with small units.
    The interval is a percentile bootstrap resampling units (the split is kept per unit).

    Returns
    -------
    One-row DataFrame: ``sd_small, sd_large, n_small, n_large, median_denominator, estimate``
    (``sd_small - sd_large``, in the rate's unit, share 0-1), ``ci_low, ci_high``.
    """
    d = units.loc[units[denominator] > 0]
    n = d[denominator].to_numpy(float)
    p = d[numerator].to_numpy(float) / n
    med = float(np.median(n))
    small = n < med
    if small.sum() < 2 or (~small).sum() < 2:
        raise ValueError("too few units on one side of the median size")
    est = _sd_gap(p, small)
    rng = np.random.default_rng(seed)
    idx_s, idx_l = np.flatnonzero(small), np.flatnonzero(~small)
    boots = np.empty(n_boot)
    for i in range(n_boot):
        bs = rng.choice(idx_s, len(idx_s))
        bl = rng.choice(idx_l, len(idx_l))
        boots[i] = np.std(p[bs], ddof=1) - np.std(p[bl], ddof=1)
    a = (1 - level) / 2
    lo, hi = np.quantile(boots, [a, 1 - a])
    return pd.DataFrame([{"sd_small": float(np.std(p[small], ddof=1)), "sd_large": float(np.std(p[~small], ddof=1)),
                          "n_small": int(small.sum()), "n_large": int((~small).sum()),
                          "median_denominator": med, "estimate": est, "ci_low": float(lo), "ci_high": float(hi)}])


def unit_means_by_year(units: pd.DataFrame, value: str, group: str, year: str = "year",
                       level: float = 0.95) -> pd.DataFrame:
    """Mean of ``value`` over units (equal weight each) by ``year`` and ``group``, t interval.

    Returns ``year, <group>, estimate, ci_low, ci_high, n`` (n: units with a value).
    """
    d = units.dropna(subset=[value])
    g = d.groupby([year, group])[value]
    out = g.agg(estimate="mean", sd="std", n="count").reset_index()
    q = stats.t.ppf(0.5 + level / 2, np.maximum(out["n"] - 1, 1))
    half = q * out["sd"] / np.sqrt(out["n"])
    out["ci_low"], out["ci_high"] = out["estimate"] - half, out["estimate"] + half
    return out[[year, group, "estimate", "ci_low", "ci_high", "n"]]
