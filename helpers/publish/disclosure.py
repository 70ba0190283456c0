"""Statistical disclosure control: the project's one minimum-respondents threshold.

Every table or map that shows an estimate for a small unit (a community, a
sub-district in one year) blanks the estimate when fewer than
:data:`MIN_RESPONDENTS` people answered. The threshold lives here and nowhere
else; tables (:mod:`helpers.tables`) and maps (:func:`helpers.viz.maps.choropleth`,
which draws suppressed units distinctly) both read it.

Reference: Hundepool, A. et al. (2012). *Statistical Disclosure Control*.
Wiley, ch. 5 (threshold rule for frequency and magnitude tables).
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

#: Minimum number of respondents behind an estimate that may be shown.
MIN_RESPONDENTS: int = 10

#: Name of the boolean column :func:`suppress` adds.
SUPPRESSED_COL = "suppressed"
#: Name of the text column :func:`suppress` adds (empty string when not suppressed).
REASON_COL = "suppressed_reason"


def suppression_label(k: int = MIN_RESPONDENTS) -> str:
    """Legend / footnote text for suppressed cells, e.g. ``"Suppressed (n < 10)"``."""
    return f"Suppressed (n < {k})"


def suppress(
    df: pd.DataFrame,
    n_col: str = "n",
    value_cols: Iterable[str] | str = (),
    k: int = MIN_RESPONDENTS,
) -> pd.DataFrame:
    """Blank estimates resting on fewer than ``k`` respondents.

    Parameters
    ----------
    df : DataFrame (or GeoDataFrame)
        One row per unit (and year); not modified.
    n_col : str
        Column with the number of respondents behind each row's estimates
        (unweighted count of persons). A missing count is treated as 0.
    value_cols : column name or names
        Estimate columns to blank (set to NaN) where ``n < k``: point
        estimates, standard errors, interval bounds. Empty means "flag only".
    k : int
        Minimum number of respondents (default :data:`MIN_RESPONDENTS`).

    Returns
    -------
    DataFrame
        A copy with ``value_cols`` set to NaN on suppressed rows, a boolean
        column ``suppressed`` and a text column ``suppressed_reason``
        (e.g. ``"n = 7 < 10"``; ``""`` when shown).
    """
    if isinstance(value_cols, str):
        value_cols = (value_cols,)
    value_cols = list(value_cols)
    if n_col not in df.columns:
        raise KeyError(f"respondent count column {n_col!r} not in frame")
    missing = [c for c in value_cols if c not in df.columns]
    if missing:
        raise KeyError(f"value columns not in frame: {missing}")
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive whole number, got {k!r}")
    out = df.copy()
    raw = pd.to_numeric(out[n_col], errors="coerce").to_numpy(dtype="float64")
    n = np.nan_to_num(raw, nan=0.0)
    mask = n < k
    for c in value_cols:
        if not pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].astype("float64")
        out.loc[mask, c] = np.nan
    out[SUPPRESSED_COL] = mask
    out[REASON_COL] = [
        ("" if not m else f"n missing (< {int(k)})" if np.isnan(r) else f"n = {int(r)} < {int(k)}")
        for m, r in zip(mask, raw)
    ]
    return out
