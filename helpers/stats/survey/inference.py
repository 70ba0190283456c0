"""Wald intervals and p-values shared by the survey modules (t on design degrees of freedom).

One convention everywhere: ``df`` is a number of degrees of freedom (the design's, as R's
``degf()`` or a model's ``df.residual``); ``numpy.inf`` gives the normal reference, which is
what R's ``confint()`` of a ``svystat`` uses by default. A ``df`` of 0 or less gives NaN
intervals and p-values (R: "zero or negative residual df; p-values not defined").
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["wald_table", "t_quantile"]


def t_quantile(level: float, df) -> np.ndarray:
    """Two-sided quantile of the t distribution on ``df`` (normal for ``inf``; NaN for df <= 0)."""
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level!r}")
    a = 1 - (1 - level) / 2
    d = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        q = np.where(np.isinf(d), stats.norm.ppf(a), stats.t.ppf(a, np.where(d > 0, d, 1.0)))
    return np.where(d > 0, q, np.nan)


def wald_table(estimate, se, df, level: float = 0.95) -> pd.DataFrame:
    """``estimate, se, ci_low, ci_high, p, df``: Wald intervals and two-sided p-values of ``estimate/se``.

    Parameters
    ----------
    estimate, se : array-like of the same length.
    df : degrees of freedom (a number or one per estimate); ``numpy.inf`` for the normal.
    level : confidence level (0-1).

    Returns
    -------
    DataFrame with the columns above, one row per estimate; ``p`` is NaN where ``se`` is 0
    or NaN, or ``df`` <= 0.
    """
    est = np.asarray(estimate, dtype=float)
    se = np.asarray(se, dtype=float)
    d = np.broadcast_to(np.asarray(df, dtype=float), est.shape).copy()
    q = t_quantile(level, d)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = est / se
        p = np.where(np.isinf(d), 2 * stats.norm.sf(np.abs(t)), 2 * stats.t.sf(np.abs(t), np.where(d > 0, d, 1.0)))
    p = np.where((d > 0) & (se > 0), p, np.nan)
    return pd.DataFrame({"estimate": est, "se": se, "ci_low": est - q * se, "ci_high": est + q * se,
                         "p": p, "df": d})
