"""Likert-scale summaries (1-5 items) built on :class:`helpers.stats.survey.SurveyDesign`.

All three helpers are design-based (weights, strata, PSUs and fpc of the design;
domains estimated as R's ``svyby``) and return tidy DataFrames, one row per group,
item (and category). See :mod:`helpers.stats.survey` for the columns and conventions.

References
----------
Lumley, T. (2010) *Complex Surveys*, ch. 2-3 (means and proportions in domains).
"""
from __future__ import annotations

from typing import Sequence

import pandas as pd

from helpers.data.schema import LIKERT_ITEMS
from helpers.stats.survey import SurveyDesign

__all__ = ["mean_score", "top_two_box", "distribution"]

#: The response categories of the survey's Likert items.
SCALE: tuple[int, ...] = (1, 2, 3, 4, 5)


def _items(items) -> list[str]:
    if items is None:
        return list(LIKERT_ITEMS)
    return [items] if isinstance(items, str) else list(items)


def mean_score(design: SurveyDesign, items: str | Sequence[str] | None = None,
               by: str | Sequence[str] | None = None, **kwargs) -> pd.DataFrame:
    """Design-based mean score (points on the 1-5 scale) of each item, by group.

    Parameters
    ----------
    design : the survey design (respondents only).
    items : item column(s); default the survey's Likert items
        (:data:`helpers.data.schema.LIKERT_ITEMS`).
    by : grouping column(s), or None for the whole population.
    **kwargs : passed to :meth:`SurveyDesign.mean` (``level``, ``ci_df``).

    Returns
    -------
    :meth:`SurveyDesign.mean`'s frame: ``by`` columns, ``variable, estimate, se,
    ci_low, ci_high, df, deff, n``.
    """
    return design.mean(_items(items), by=by, **kwargs)


def top_two_box(design: SurveyDesign, items: str | Sequence[str] | None = None,
                by: str | Sequence[str] | None = None, top: Sequence = (4, 5),
                method: str = "logit", **kwargs) -> pd.DataFrame:
    """Share of respondents answering in the top categories (default 4 or 5), by group.

    Parameters
    ----------
    design, items, by : as for :func:`mean_score`.
    top : the categories counted (default ``(4, 5)``: the top-two box).
    method : interval, ``"logit"`` (R's ``svyciprop`` default) or ``"mean"`` (Wald).
    **kwargs : passed to :meth:`SurveyDesign.proportion` (``conf_level``, ``ci_df``).

    Returns
    -------
    :meth:`SurveyDesign.proportion`'s frame (``level`` is e.g. ``"4|5"``), estimate
    as a share 0-1, one row per group and item.
    """
    frames = [design.proportion(i, level=list(top), by=by, method=method, **kwargs) for i in _items(items)]
    return pd.concat(frames, ignore_index=True)


def distribution(design: SurveyDesign, items: str | Sequence[str] | None = None,
                 by: str | Sequence[str] | None = None, scale: Sequence = SCALE,
                 method: str = "logit", **kwargs) -> pd.DataFrame:
    """Full response distribution: the share in every category of the scale, by group.

    Categories nobody chose in a group are reported with estimate 0 (and NaN
    interval under ``method="logit"``, where the logit interval is undefined).

    Parameters
    ----------
    design, items, by : as for :func:`mean_score`.
    scale : the categories, in order (default 1-5).
    method, **kwargs : as for :func:`top_two_box`.

    Returns
    -------
    :meth:`SurveyDesign.proportion`'s frame with one row per group, item and
    category (``level``); the shares of a group and item sum to 1.
    """
    frames = [design.proportion(i, levels=list(scale), by=by, method=method, **kwargs) for i in _items(items)]
    return pd.concat(frames, ignore_index=True)
