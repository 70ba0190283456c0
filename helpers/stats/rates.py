"""Rates from counts (coverage and participation) with binomial confidence intervals.

Counts are aggregated (summed) to the requested groups *before* dividing, so a
district rate is total numerator over total denominator, never a mean of community
rates. Intervals: Wilson score, Clopper-Pearson (exact) and Jeffreys (Bayesian,
Beta(1/2, 1/2) prior), 95% by default.

Example::

    from helpers.stats.rates import rates
    rates(members, {"registration": ("registered", "in_service_resident")},
          by=["district_id", "year"], method="wilson")

A zero denominator gives ``estimate = NaN`` with ``flag = "zero_denominator"``; a
numerator above its denominator gives NaN with ``flag = "numerator_exceeds_denominator"``.

References
----------
Wilson, E. B. (1927) Probable inference, the law of succession, and statistical
inference. JASA 22, 209-212.
Clopper, C. J. and Pearson, E. S. (1934) The use of confidence or fiducial limits
illustrated in the case of the binomial. Biometrika 26, 404-413.
Brown, L. D., Cai, T. T. and DasGupta, A. (2001) Interval estimation for a binomial
proportion. Statistical Science 16, 101-133 (Jeffreys interval with its boundary
conventions).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["proportion_ci", "rates", "rates_by_level", "METHODS"]

#: Interval methods accepted by :func:`proportion_ci` and :func:`rates`.
METHODS: tuple[str, ...] = ("wilson", "clopper-pearson", "jeffreys")

RATE_COLUMNS = ("measure", "numerator", "denominator", "estimate", "ci_low", "ci_high", "method", "level", "flag")


def proportion_ci(numerator, denominator, method: str = "wilson", level: float = 0.95):
    """Binomial proportion and its confidence interval, vectorised.

    Parameters
    ----------
    numerator : array-like of counts (successes, >= 0).
    denominator : array-like of counts (trials, >= 0), same shape.
    method : ``"wilson"`` (score interval), ``"clopper-pearson"`` (exact, from Beta
        quantiles) or ``"jeffreys"`` (Beta(x+1/2, n-x+1/2) quantiles, with the lower
        limit 0 when x = 0 and the upper limit 1 when x = n, as Brown et al. 2001).
    level : confidence level between 0 and 1.

    Returns
    -------
    (estimate, ci_low, ci_high, flag): float arrays of shares (0-1) and an object array
    of flags: ``""``, ``"zero_denominator"`` or ``"numerator_exceeds_denominator"``;
    flagged entries are NaN.

    Raises
    ------
    ValueError for an unknown method, a level outside (0, 1) or negative counts.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    x = np.asarray(numerator, dtype=float)
    n = np.asarray(denominator, dtype=float)
    x, n = np.broadcast_arrays(x, n)
    if (x < 0).any() or (n < 0).any():
        raise ValueError("counts must be >= 0")
    flag = np.full(x.shape, "", dtype=object)
    flag[n == 0] = "zero_denominator"
    flag[(n > 0) & (x > n)] = "numerator_exceeds_denominator"
    ok = (n > 0) & (x <= n) & ~np.isnan(x) & ~np.isnan(n)
    nn = np.where(ok, n, 1.0)
    xx = np.where(ok, x, 0.0)
    p = xx / nn
    alpha = 1 - level
    if method == "wilson":
        z = stats.norm.ppf(1 - alpha / 2)
        den = 1 + z * z / nn
        centre = (p + z * z / (2 * nn)) / den
        half = z * np.sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn)) / den
        lo, hi = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
        lo = np.where(xx == 0, 0.0, lo)
        hi = np.where(xx == nn, 1.0, hi)
    elif method == "clopper-pearson":
        lo = np.where(xx == 0, 0.0, stats.beta.ppf(alpha / 2, np.maximum(xx, 1e-300), nn - xx + 1))
        hi = np.where(xx == nn, 1.0, stats.beta.ppf(1 - alpha / 2, xx + 1, np.maximum(nn - xx, 1e-300)))
    else:
        lo = np.where(xx == 0, 0.0, stats.beta.ppf(alpha / 2, xx + 0.5, nn - xx + 0.5))
        hi = np.where(xx == nn, 1.0, stats.beta.ppf(1 - alpha / 2, xx + 0.5, nn - xx + 0.5))
    nan = np.full(x.shape, np.nan)
    return (np.where(ok, p, nan), np.where(ok, lo, nan), np.where(ok, hi, nan), flag)


def rates(df: pd.DataFrame, measures: Mapping[str, tuple[str, str]] | tuple[str, str],
          by: str | Sequence[str] | None = None, method: str = "wilson", level: float = 0.95) -> pd.DataFrame:
    """Rates with confidence intervals per group, summing counts before dividing.

    Parameters
    ----------
    df : table of counts at any level (community-year rows, organisations with 0/1
        columns, ...), holding the grouping columns.
    measures : ``{name: (numerator_column, denominator_column)}``, or one
        ``(numerator, denominator)`` pair (its name is the numerator column).
    by : grouping column(s) (e.g. ``["district_id", "year"]``, ``"kind"``,
        ``"urban"``); None for the whole table. Rows with a missing group value are
        left out (as pandas ``groupby`` does).
    method : interval method, see :func:`proportion_ci`.
    level : confidence level (0-1).

    Returns
    -------
    Tidy DataFrame, one row per group and measure: the ``by`` columns, ``measure,
    numerator, denominator`` (summed counts), ``estimate`` (share 0-1), ``ci_low,
    ci_high, method, level, flag``. Zero denominators give NaN with
    ``flag = "zero_denominator"``.
    """
    if isinstance(measures, tuple):
        measures = {measures[0]: measures}
    by = [by] if isinstance(by, str) else list(by or [])
    cols = sorted({c for pair in measures.values() for c in pair})
    missing = [c for c in cols + by if c not in df.columns]
    if missing:
        raise KeyError(f"columns not in the table: {missing}")
    if by:
        summed = df.groupby(by, dropna=True, observed=True, sort=True)[cols].sum(min_count=0).reset_index()
    else:
        summed = df[cols].sum().to_frame().T
    frames = []
    for name, (num, den) in measures.items():
        est, lo, hi, flag = proportion_ci(summed[num].to_numpy(float), summed[den].to_numpy(float), method, level)
        f = summed[by].copy() if by else pd.DataFrame(index=summed.index)
        f["measure"] = name
        f["numerator"] = summed[num].to_numpy()
        f["denominator"] = summed[den].to_numpy()
        f["estimate"], f["ci_low"], f["ci_high"] = est, lo, hi
        f["method"] = method
        f["level"] = level
        f["flag"] = flag
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def rates_by_level(df: pd.DataFrame, measures: Mapping[str, tuple[str, str]] | tuple[str, str],
                   levels: Sequence[str], also_by: str | Sequence[str] | None = None,
                   method: str = "wilson", level: float = 0.95, city: bool = True) -> pd.DataFrame:
    """Rates at every level of the hierarchy at once (community -> sub-district -> district -> city).

    Parameters
    ----------
    df : counts at the finest level, holding every id column in ``levels`` (join the
        community table first to get ``subdistrict_id``/``district_id``).
    measures : as for :func:`rates`.
    levels : id columns from finest to coarsest, e.g.
        ``["community_id", "subdistrict_id", "district_id"]``.
    also_by : extra grouping kept at every level (e.g. ``"year"``).
    method, level : as for :func:`rates`.
    city : add the whole-city rows (``level_name = "city"``).

    Returns
    -------
    The :func:`rates` columns plus ``level_name`` (the id column of that level, or
    "city") and ``unit_id`` (the unit's id at that level), stacked.
    """
    extra = [also_by] if isinstance(also_by, str) else list(also_by or [])
    out = []
    for lv in levels:
        r = rates(df, measures, by=[lv] + extra, method=method, level=level)
        r = r.rename(columns={lv: "unit_id"})
        r.insert(0, "level_name", lv)
        out.append(r)
    if city:
        r = rates(df, measures, by=extra or None, method=method, level=level)
        r.insert(0, "unit_id", "city")
        r.insert(0, "level_name", "city")
        out.append(r)
    return pd.concat(out, ignore_index=True)
