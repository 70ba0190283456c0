"""Glue for 03_satisfaction: item tables, smoothed sampling variances and Fay-Herriot
estimates for every sub-district (sampled or not), and community means for claim 6.

* :func:`item_table` - several design-based estimates side by side, one row per unit.
* :func:`area_covariates` - population-weighted community attributes per area.
* :func:`per_ten_points` - coefficients of shares (0-1) rescaled to 10 percentage points.
* :func:`smoothed_se` - generalised-variance-function standard errors of area means.
* :func:`fh_all_areas` - Fay-Herriot EBLUPs for sampled areas and regression-synthetic
  predictions (with their MSE) for areas the survey did not reach.
* :func:`community_means` - unit means of a survey item beside a unit-level score.
* :func:`district_contrasts` - each district minus the city, with the covariance of the two
  estimates (they share the district's PSUs), for the district-versus-city verdicts.
* :func:`census_margins` - the census margins (district x age band, district x sex) to which the
  survey weights are raked.
* :func:`calibration_shift` - district estimates before and after calibrating the weights.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from helpers.studies.common import interval_text, with_names

__all__ = ["item_table", "area_covariates", "per_ten_points", "smoothed_se", "fh_all_areas", "community_means", "district_contrasts",
           "census_margins", "calibration_shift", "MARGIN_COLUMNS"]

#: The survey columns the census margins classify by (besides the district).
MARGIN_COLUMNS = ("age_band", "sex")


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


def per_ten_points(coef: pd.DataFrame, terms) -> pd.DataFrame:
    """Coefficients of shares measured 0-1 restated per 10 percentage points of the share.

    Parameters
    ----------
    coef : DataFrame
        A tidy coefficient table: ``term, estimate, se, ci_low, ci_high`` (other columns are kept).
    terms : list of str
        The terms whose regressor is a share on the 0-1 scale.

    Returns
    -------
    DataFrame
        A copy in which the rows of ``terms`` have ``estimate``, ``se``, ``ci_low`` and ``ci_high``
        multiplied by 0.1 (a slope per unit of a share is the change from none to all; per 10
        percentage points it is a change a reader can picture), and a column ``per``: ``"10
        percentage points"`` for those rows, ``""`` for the others. Test statistics and p-values
        do not change with the scale.
    """
    out = coef.copy()
    rows = out["term"].isin(list(terms))
    for col in ("estimate", "se", "ci_low", "ci_high"):
        if col in out:
            out.loc[rows, col] = out.loc[rows, col] * 0.1
    out["per"] = np.where(rows, "10 percentage points", "")
    return out


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


def district_contrasts(design, variables, unit: str = "district_id", level: float = 0.95) -> pd.DataFrame:
    """Each unit's design-based mean minus the whole population's, with the standard error of the difference.

    A district is part of the city: its respondents are among the city's, so the two estimates are
    positively correlated and the variance of their difference is ``var(d) + var(c) - 2 cov(d, c)``,
    smaller than the sum that separate intervals imply. The covariance comes from the influence values
    of both estimates summed over the same PSUs (R: ``svyby(..., covmat=TRUE)`` then ``svycontrast``;
    :meth:`helpers.stats.survey.contrast.Estimates.difference_from`).

    Parameters
    ----------
    design : SurveyDesign
        The design of one survey year (within a year the strata are the districts).
    variables : str or list of str
        Numeric items (0/1 items give shares).
    unit : the domain column (default ``district_id``).
    level : confidence level of the intervals (t on the design degrees of freedom).

    Returns
    -------
    DataFrame, one row per unit and variable: ``unit`` column, ``variable``, ``estimate`` (the unit's
    mean), ``city`` (the whole population's mean), ``difference`` (unit minus city), ``se`` (of the
    difference), ``ci_low``, ``ci_high`` (of the difference), ``p`` (two-sided, difference 0), ``df`` and
    ``n`` (the unit's respondents with the item).
    """
    est = design.mean(variables, by=unit, covmat=True, overall=True, level=level)
    frame = est.frame
    overall = frame[frame[unit].isna()].set_index("variable")["estimate"]
    units = frame[frame[unit].notna()]
    diff = est.difference_from("(all)", level=level)
    out = units[[unit, "variable", "estimate", "n"]].merge(
        diff[[unit, "variable", "estimate", "se", "ci_low", "ci_high", "p", "df"]].rename(
            columns={"estimate": "difference"}), on=[unit, "variable"], how="inner", validate="one_to_one")
    out.insert(3, "city", out["variable"].map(overall).to_numpy(float))
    out["n"] = out["n"].astype("int64")
    return out[[unit, "variable", "estimate", "city", "difference", "se", "ci_low", "ci_high", "p", "df", "n"]]


def census_margins(population: pd.DataFrame, districts=None, count: str = "residents") -> list[pd.DataFrame]:
    """The census margins to rake the survey weights to: residents by district x age band and by district x sex.

    ``population`` is the optional ``population`` table (one row per district, age band and sex);
    ``districts`` (optional) keeps only those districts (the strata of the survey being calibrated).
    Raking to the two two-way margins, rather than post-stratifying to the three-way cells, needs no
    respondent in every district x age band x sex cell. Returns ``[by_age, by_sex]``: the classifying
    columns and ``count``.
    """
    pop = population if districts is None else population[population["district_id"].isin(list(districts))]
    return [pop.groupby(["district_id", col], as_index=False, observed=True)[count].sum() for col in MARGIN_COLUMNS]


def calibration_shift(before, after, variables, by: str = "district_id") -> pd.DataFrame:
    """Design-based means by ``by`` under two designs (e.g. before and after calibrating the weights).

    ``before`` and ``after`` are designs over the same respondents (a
    :class:`~helpers.stats.survey.SurveyDesign` and its
    :class:`~helpers.stats.survey.calibration.CalibratedDesign`). Returns one row per domain and
    variable: ``by``, ``variable``, ``before``, ``after``, ``difference`` (after minus before),
    ``se_before``, ``se_after`` and ``n``.
    """
    a = before.mean(variables, by=by)[[by, "variable", "estimate", "se", "n"]]
    b = after.mean(variables, by=by)[[by, "variable", "estimate", "se"]]
    m = a.merge(b, on=[by, "variable"], how="inner", suffixes=("_before", "_after"), validate="one_to_one")
    out = pd.DataFrame({by: m[by], "variable": m["variable"], "before": m["estimate_before"],
                        "after": m["estimate_after"], "difference": m["estimate_after"] - m["estimate_before"],
                        "se_before": m["se_before"], "se_after": m["se_after"], "n": m["n"].astype("int64")})
    return out.reset_index(drop=True)
