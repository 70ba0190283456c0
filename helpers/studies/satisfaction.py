"""Glue for 03_satisfaction: item tables, smoothed sampling variances and Fay-Herriot
estimates for every sub-district (sampled or not), and community means for claim 6.

* :func:`item_table` - several design-based estimates side by side, one row per unit.
* :func:`area_covariates` - population-weighted community attributes per area.
* :func:`smoothed_se` - generalised-variance-function standard errors of area means.
* :func:`fh_all_areas` - Fay-Herriot EBLUPs for sampled areas and regression-synthetic
  predictions (with their MSE) for areas the survey did not reach.
* :func:`community_means` - unit means of a survey item beside a unit-level score.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from helpers.studies.common import interval_text, with_names

__all__ = ["item_table", "area_covariates", "smoothed_se", "fh_all_areas", "community_means"]


def item_table(estimates: dict, units: pd.DataFrame | None = None, key: str = "district_id",
               scales: dict | None = None, decimals: dict | None = None) -> pd.DataFrame:
    """One row per unit with each estimate as ``"estimate (ci_low to ci_high)"`` and ``n``.

    ``estimates`` maps a column label to a design-based frame (one row per unit, with
    ``estimate, ci_low, ci_high, n``). ``scales``/``decimals`` per label (default 1 and 2).
    ``n`` is the smallest respondent count over the items of the row, so suppression with
    :func:`helpers.publish.report.table` (``n="n", columns=list(estimates)``) is conservative.
    """
    scales, decimals = scales or {}, decimals or {}
    out, n = None, None
    for label, e in estimates.items():
        e = e.reset_index(drop=True)
        col = pd.DataFrame({key: e[key], label: interval_text(e["estimate"], e["ci_low"], e["ci_high"],
                                                              scales.get(label, 1.0), decimals.get(label, 2))})
        nn = pd.DataFrame({key: e[key], "_n": e["n"].astype("int64")})
        out = col if out is None else out.merge(col, on=key, how="outer")
        n = nn if n is None else n.merge(nn, on=key, how="outer").assign(
            _n=lambda f: f[["_n_x", "_n_y"]].min(axis=1)).drop(columns=["_n_x", "_n_y"])
    out = out.merge(n.rename(columns={"_n": "n"}), on=key, how="left")
    out["n"] = out["n"].fillna(0).astype("int64")
    return with_names(out, units, key) if units is not None else out


def area_covariates(communities: pd.DataFrame, community_map: pd.DataFrame, area: str = "subdistrict_id",
                    columns=("share_60plus", "migrant_share", "urban"), weight: str = "population") -> pd.DataFrame:
    """Population-weighted means of community ``columns`` per ``area`` (e.g. sub-district),
    plus the area's ``district_id`` and total ``population``."""
    c = communities.merge(community_map, on="community_id", how="inner", validate="one_to_one")
    w = c[weight].to_numpy(float)
    agg = {col: (c[col].to_numpy(float) * w) for col in columns}
    f = pd.DataFrame({area: c[area], "district_id": c["district_id"], weight: w, **agg})
    g = f.groupby([area, "district_id"], as_index=False).sum()
    for col in columns:
        g[col] = g[col] / g[weight]
    return g


def smoothed_se(direct: pd.DataFrame, micro: pd.DataFrame, item: str, area: str, deff: float) -> pd.DataFrame:
    """Smoothed sampling standard errors of area means: ``sqrt(deff * s2 / n_i)``.

    Direct design-based SEs of small areas are unusable for a Fay-Herriot model when an area holds
    a single sampled PSU (its linearised variance is then 0). The generalised variance function
    replaces them with the pooled within-area variance ``s2`` of ``item`` (respondents in ``micro``,
    unweighted, ``sum (n_i - 1) s_i^2 / sum (n_i - 1)``) times a design effect ``deff`` (e.g. the
    median design effect of larger domains), over the area's respondent count ``n_i`` (Rao &
    Molina 2015, section 6.1). Returns a copy of ``direct`` with ``se_direct`` (the original
    ``se``) and ``se`` replaced by the smoothed value.
    """
    m = micro[[area, item]].dropna()
    g = m.groupby(area)[item]
    s2_i, n_i = g.var(ddof=1), g.size()
    ok = n_i > 1
    s2 = float(((n_i[ok] - 1) * s2_i[ok]).sum() / (n_i[ok] - 1).sum())
    out = direct.copy()
    out["se_direct"] = out["se"]
    out["se"] = np.sqrt(deff * s2 / out["n"].to_numpy(float))
    return out


def fh_all_areas(res, areas: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Fay-Herriot estimates for every area in ``areas``: sampled areas keep their EBLUP and MSE
    (:attr:`helpers.stats.smallarea.FayHerriotResult.table`), the others get the fit's
    regression-synthetic prediction (:meth:`~helpers.stats.smallarea.FayHerriotResult.predict`).

    ``areas`` holds the fit's unit, group and covariate columns for every area. Returns the unit
    (and group), ``estimate, mse, rmse, ci_low, ci_high, source`` ("EBLUP" or "synthetic"),
    ``gamma`` and ``direct`` (NaN when not sampled)."""
    unit = res.unit
    keep = [unit] + ([res.group] if res.group else [])
    t = res.table
    z = stats.norm.ppf(0.5 + level / 2)
    sampled = t[keep].assign(estimate=t["eblup"].to_numpy(), mse=t["mse"].to_numpy(), source="EBLUP",
                             gamma=t["gamma"].to_numpy(), direct=t["direct"].to_numpy())
    sampled["rmse"] = np.sqrt(sampled["mse"])
    sampled["ci_low"], sampled["ci_high"] = sampled["estimate"] - z * sampled["rmse"], sampled["estimate"] + z * sampled["rmse"]
    rest = areas.loc[~areas[unit].isin(t[unit])].drop_duplicates(unit).reset_index(drop=True)
    pred = res.predict(rest, level=level).assign(source="synthetic", gamma=0.0, direct=np.nan)
    out = pd.concat([sampled, pred], ignore_index=True)
    return out[keep + ["estimate", "mse", "rmse", "ci_low", "ci_high", "source", "gamma", "direct"]]


def community_means(micro: pd.DataFrame, y: str, units: pd.DataFrame, x: str, unit: str = "community_id") -> pd.DataFrame:
    """Unweighted mean of ``y`` per unit (respondents in ``micro``) beside the unit's ``x``.

    Returns ``unit, x, mean_<y>, n`` for units with at least one respondent (an aggregate: show
    or plot it only after suppressing rows with ``n`` below the disclosure threshold).
    """
    g = micro[[unit, y]].dropna().groupby(unit)[y]
    m = pd.DataFrame({f"mean_{y}": g.mean(), "n": g.size()}).reset_index()
    return units[[unit, x]].merge(m, on=unit, how="inner")
