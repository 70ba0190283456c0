"""Computations of 02_participation: totals per member, and the check of shrunken registration
rates against the planted true probabilities.

* :func:`per_member` - volunteer hours (or joint events) per member by group, from summed totals.
* :func:`shrinkage_accuracy` - how close raw and shrunken community rates come to the truth.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["member_frame", "per_member", "shrinkage_accuracy", "safe_ratio"]


def per_member(df: pd.DataFrame, numerator: str, denominator: str, by) -> pd.DataFrame:
    """``sum(numerator) / sum(denominator)`` per group (e.g. volunteer hours per registered member).

    Returns the ``by`` columns, ``numerator``, ``denominator`` (sums) and ``per_member``
    (NaN where the denominator sums to 0). Administrative totals: no sampling interval.
    """
    by = [by] if isinstance(by, str) else list(by)
    g = df.groupby(by, as_index=False)[[numerator, denominator]].sum()
    den = g[denominator].to_numpy(float)
    out = g[by].copy()
    out["numerator"] = g[numerator].to_numpy(float)
    out["denominator"] = den
    out["per_member"] = np.divide(out["numerator"].to_numpy(), den, out=np.full(len(den), np.nan), where=den > 0)
    return out




def shrinkage_accuracy(eb: pd.DataFrame, truth: pd.DataFrame, unit: str = "community_id",
                       true_col: str = "p_registered") -> pd.DataFrame:
    """Root mean squared error of raw and shrunken rates against the true rates, and the coverage
    of the shrunken 95% intervals.

    ``eb`` is :func:`helpers.stats.smallarea.eb_beta_binomial` output (``raw_rate``, ``eb_rate``,
    ``ci_low``, ``ci_high``, ``trials``) for one year; ``truth`` holds ``unit`` and ``true_col``
    for the same year. Units with no trials are left out. Returns one row per estimator
    (``raw``, ``shrunken``): ``rmse``, ``mean_abs_error`` and, for shrunken, ``interval_coverage``;
    ``n_units``.
    """
    d = eb.loc[eb["trials"] > 0].merge(truth[[unit, true_col]], on=unit, how="inner", validate="one_to_one")
    p = d[true_col].to_numpy(float)
    rows = []
    for name, col in (("raw", "raw_rate"), ("shrunken", "eb_rate")):
        err = d[col].to_numpy(float) - p
        rows.append({"estimator": name, "rmse": float(np.sqrt(np.mean(err**2))),
                     "mean_abs_error": float(np.mean(np.abs(err))),
                     "interval_coverage": (float(np.mean((d["ci_low"] <= p) & (p <= d["ci_high"])))
                                           if name == "shrunken" else np.nan),
                     "n_units": len(d)})
    return pd.DataFrame(rows)


def safe_ratio(df: pd.DataFrame, numerator: str, denominator: str) -> pd.Series:
    """Row-wise ``numerator / denominator`` with NaN where the denominator is 0 (index kept)."""
    num = df[numerator].to_numpy(float)
    den = df[denominator].to_numpy(float)
    return pd.Series(np.divide(num, den, out=np.full(len(den), np.nan), where=den > 0), index=df.index)


def member_frame(tables: dict) -> pd.DataFrame:
    """Community-years of party members with the community's sub-district and district and, when the
    data have the joint-building table, its counts and the agreement share
    (:func:`helpers.studies.claims.registration_frame`); without it, the members alone."""
    from helpers.data import concepts
    from helpers.studies import claims

    if "joint_building" in tables:
        return claims.registration_frame(tables)
    lookup = concepts.community_lookup(tables)
    return tables["members"].merge(lookup, on="community_id", how="left", validate="many_to_one")
