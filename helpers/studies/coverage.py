"""Computations of 01_coverage: the platform contrast, the noise of small units, verdict maps.

(The organisation-year rule itself is :func:`helpers.data.concepts.organisation_years`; whether a
unit differs from the city is :func:`helpers.studies.verdicts.rate_verdicts`.)

* :func:`platform_status` - each sub-district's platform status as of a year.
* :func:`unit_means_by_year` - mean unit rate by year and group, t interval.
* :func:`unit_contrast` - difference in mean unit rates between two groups of units
  (e.g. sub-districts with and without the platform), Welch interval.
* :func:`spread_by_size` - how much more raw rates scatter in small units than in
  large ones (claim 7), with a bootstrap interval over units.
* :func:`lowest_raw` - what the units with the lowest raw rates look like once size, shrinkage
  and the verdict rule are taken into account (claim 7, without a league table).
* :func:`verdict_map_frame` - units with the verdict of the rule, ready for a category map.
* :func:`named_funnel` - a funnel whose units carry readers' names, for labelling its plot.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["unit_contrast", "spread_by_size", "platform_status", "unit_means_by_year", "lowest_raw",
           "VERDICT_LABELS", "verdict_colours", "verdict_map_frame", "named_funnel"]


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


def lowest_raw(eb: pd.DataFrame, verdicts: pd.DataFrame, unit: str = "community_id", k: int = 10) -> pd.DataFrame:
    """The bottom of a league table of raw rates, summarised: what it would name, and why it should not
    (claim 7).

    Parameters
    ----------
    eb : :func:`helpers.stats.smallarea.eb_beta_binomial` output with ``unit`` (``raw_rate, trials,
        eb_rate``); units without trials are left out.
    verdicts : :func:`helpers.studies.verdicts.rate_verdicts` verdicts of the same units (``unit, verdict``).
    k : the bottom holds the ``k`` lowest raw rates and every unit tied with the ``k``-th.

    Returns
    -------
    One-row DataFrame: ``units`` (how many are at the bottom, ties included), ``median_trials`` (over
    all units with trials), ``small`` (how many of the bottom have fewer trials than that median),
    ``raw_low, raw_high`` and ``eb_low, eb_high`` (the range of their raw and shrunken rates, 0-1),
    ``below`` (how many of them lie below the city by the rule).
    """
    d = eb[eb["trials"] > 0]
    cut = np.sort(d["raw_rate"].to_numpy(float))[min(k, len(d)) - 1]
    low = d[d["raw_rate"] <= cut]
    med = float(np.median(d["trials"]))
    v = verdicts.set_index("unit")["verdict"]
    return pd.DataFrame([{"units": len(low), "median_trials": med, "small": int((low["trials"] < med).sum()),
                          "raw_low": float(low["raw_rate"].min()), "raw_high": float(low["raw_rate"].max()),
                          "eb_low": float(low["eb_rate"].min()), "eb_high": float(low["eb_rate"].max()),
                          "below": int((low[unit].map(v) == "below").sum())}])


#: The words of the verdicts of :func:`helpers.studies.verdicts.unit_verdicts` on a map, in legend order.
VERDICT_LABELS: dict[str, str] = {"above": "Above the city", "not distinguishable": "Not distinguishable",
                                  "below": "Below the city"}


def verdict_colours() -> dict[str, str]:
    """Legend colours of :data:`VERDICT_LABELS`: the ends of the project's diverging palette for above
    and below, light grey for not distinguishable (as :func:`helpers.viz.maps.uncertainty_map`)."""
    from matplotlib import colormaps
    from matplotlib import colors as mcolors

    from helpers.viz import style

    cm = colormaps[style.DIVERGING_CMAP]
    return {VERDICT_LABELS["above"]: mcolors.to_hex(cm(0.85)),
            VERDICT_LABELS["not distinguishable"]: "#f4f4f4",
            VERDICT_LABELS["below"]: mcolors.to_hex(cm(0.15))}


def verdict_map_frame(units, verdicts: pd.DataFrame, key: str) -> "pd.DataFrame":
    """``units`` (a GeoDataFrame with ``key``) with a ``verdict`` column in the words of
    :data:`VERDICT_LABELS`; units without a verdict (no denominator) are missing ("No data" on a map)."""
    v = verdicts.set_index("unit")["verdict"].map(VERDICT_LABELS)
    return units.assign(verdict=units[key].map(v).to_numpy())


def named_funnel(res, names: pd.Series):
    """The funnel ``res`` with its units renamed by ``names`` (a Series from unit id to the name a reader
    knows), so that its plot labels units by name while the verdicts stay keyed by id (the site-wide
    consistency check compares verdicts by id). Units without a name keep their id.

    Returns
    -------
    helpers.stats.compare.FunnelResult
        A copy of ``res`` whose table's ``unit`` column holds the names; ``res`` is not changed.
    """
    t = res.table.copy()
    t["unit"] = t["unit"].map(names).fillna(t["unit"])
    return dataclasses.replace(res, table=t)
