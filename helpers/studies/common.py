"""Small pieces shared by the study notebooks: unit names, interval text, rate and survey tables, plots."""
from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.publish import fmt

__all__ = ["with_names", "wide_by_year", "interval_text", "rate_table", "trend_plot", "survey_table", "stack_terms", "stack_estimates", "funnel_plot", "funnel_flags"]


def with_names(df: pd.DataFrame, units: pd.DataFrame, key: str = "district_id",
               columns=("name_en",)) -> pd.DataFrame:
    """A copy of ``df`` with the units' names (default ``name_en``) inserted after ``key``."""
    names = pd.DataFrame(units[[key, *columns]]).drop_duplicates(key)
    out = df.merge(names, on=key, how="left", validate="many_to_one")
    cols = list(df.columns)
    i = cols.index(key) + 1
    return out[cols[:i] + list(columns) + cols[i:]]


def wide_by_year(df: pd.DataFrame, value: str, index=("district_id", "name_en"), scale: float = 1.0,
                 decimals: int = 1) -> pd.DataFrame:
    """A district x year table of ``value`` (times ``scale``, as text with ``decimals``, see
    :mod:`helpers.publish.fmt`), years as columns."""
    w = df.assign(_v=[fmt.number(v * scale, decimals) for v in df[value]]).pivot(
        index=list(index), columns="year", values="_v")
    w.columns = [str(c) for c in w.columns]
    return w.reset_index()


def interval_text(est, lo, hi, scale: float = 100.0, decimals: int | None = None, se=None) -> pd.Series:
    """``"58.3 (56.7 to 59.8)"`` for each row (:func:`helpers.publish.fmt.interval`): estimate and
    interval times ``scale``, one number of decimals for the whole column (``decimals``, else from the
    median standard error ``se`` or half-width); an en dash where the estimate is missing."""
    e, l, h = (pd.to_numeric(pd.Series(v), errors="coerce").reset_index(drop=True) * scale for v in (est, lo, hi))
    if decimals is None:
        ses = (pd.to_numeric(pd.Series(se), errors="coerce").reset_index(drop=True) * scale if se is not None
               else (h - l) / 3.92)
        decimals = fmt.column_digits(ses, e)
    return pd.Series([fmt.interval(a, b, c, digits=decimals) for a, b, c in zip(e, l, h)], dtype=object)


def rate_table(r: pd.DataFrame, units: pd.DataFrame, key: str = "district_id", labels: dict | None = None,
               scale: float = 100.0, decimals: int | None = 1, denominator_label: str = "denominator") -> pd.DataFrame:
    """One row per unit from a tidy :func:`helpers.stats.rates.rates` frame (one year): each measure as
    ``"estimate (ci_low to ci_high)"`` (percent by default) in its own column, then the denominator
    of the first measure. ``labels`` renames measures (and orders the columns); ``units`` (with
    ``name_en``) adds the units' names, None leaves them out."""
    labels = labels or {m: m for m in r["measure"].unique()}
    out, den = None, None
    for m, lab in labels.items():
        s = r.loc[r["measure"] == m].reset_index(drop=True)
        col = pd.DataFrame({key: s[key], lab: interval_text(s["estimate"], s["ci_low"], s["ci_high"], scale, decimals)})
        if out is None:
            den = pd.DataFrame({key: s[key], denominator_label: [fmt.count(v) for v in s["denominator"]]})
            out = col
        else:
            out = out.merge(col, on=key, how="outer")
    out = out.merge(den, on=key, how="left")
    return with_names(out, units, key) if units is not None else out


def trend_plot(r: pd.DataFrame, x: str = "year", group: str = "measure", labels: dict | None = None, ax=None,
               scale: float = 100.0, ylabel: str = "%", title: str | None = None, synthetic: bool = False):
    """Lines of ``estimate`` over ``x``, one per ``group`` value, with shaded ``ci_low``-``ci_high``.

    ``labels`` maps group values to legend labels (and sets the order). Returns ``ax``.
    """
    import matplotlib.pyplot as plt

    from helpers.viz import style

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.6))
    groups = list(labels) if labels else list(pd.unique(r[group]))
    for i, g in enumerate(groups):
        s = r.loc[r[group] == g].sort_values(x)
        c = style.QUALITATIVE[i % len(style.QUALITATIVE)]
        ax.plot(s[x], s["estimate"] * scale, marker="o", ms=3, color=c, label=(labels or {}).get(g, str(g)))
        ax.fill_between(s[x], s["ci_low"] * scale, s["ci_high"] * scale, color=c, alpha=0.18, lw=0)
    ax.set_ylabel(ylabel)
    ax.set_xlabel(x)
    if x == "year":
        ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    if title:
        ax.set_title(title)
    if synthetic:
        style.stamp_synthetic(ax)
    return ax


def survey_table(est: pd.DataFrame, units: pd.DataFrame | None = None, key: str = "district_id",
                 label: str = "estimate (95% CI)", scale: float = 100.0, decimals: int = 1,
                 extra: tuple = ()) -> pd.DataFrame:
    """One row per unit of a design-based estimate (:class:`helpers.stats.survey.SurveyDesign` output):
    ``key``, ``name_en`` (if ``units``), the ``extra`` columns kept as they are, ``label`` as
    ``"estimate (ci_low to ci_high)"`` and ``n`` (respondents). Pass ``n="n", columns=[label]`` to
    :func:`helpers.publish.report.table` so that small cells are suppressed."""
    out = pd.DataFrame(est[[key, *extra]]).reset_index(drop=True)
    out[label] = interval_text(est["estimate"], est["ci_low"], est["ci_high"], scale, decimals).to_numpy()
    out["n"] = est["n"].astype("int64").to_numpy()
    return with_names(out, units, key) if units is not None else out


def stack_terms(fits: dict, terms) -> pd.DataFrame:
    """The rows of chosen ``terms`` from several :class:`helpers.stats.models.ModelResult` fits.

    ``fits`` maps a model label to its fit. Returns ``model, term, estimate, se, ci_low, ci_high,
    p, nobs``."""
    terms = [terms] if isinstance(terms, str) else list(terms)
    rows = []
    for label, fit in fits.items():
        for t in terms:
            r = fit.term(t)
            rows.append({"model": label, "term": t, "estimate": float(r["estimate"]), "se": float(r["se"]),
                         "ci_low": float(r["ci_low"]), "ci_high": float(r["ci_high"]), "p": float(r["p"]),
                         "nobs": int(fit.nobs)})
    return pd.DataFrame(rows)




def stack_estimates(frames) -> pd.DataFrame:
    """Design-based frames of different estimators (means, proportions) stacked on their common
    columns (the ``by`` columns, ``variable, estimate, se, ci_low, ci_high, n``), e.g. to plot a
    top-two-box share and a 0/1 item's mean together."""
    common_cols = [c for c in frames[0].columns if all(c in f.columns for f in frames)]
    return pd.concat([f[common_cols] for f in frames], ignore_index=True)


def funnel_plot(res, xlabel: str, ylabel: str, title: str, label_level: float = 0.95, max_labels: int = 15,
                synthetic: bool = False, figsize=(9, 4.5)):
    """A funnel plot of a proportion (:func:`helpers.stats.compare.plot_funnel`, exact binomial and
    overdispersion-adjusted limits) on a wide figure with the legend outside the axes. Returns ``ax``."""
    import matplotlib.pyplot as plt

    from helpers.stats import compare
    from helpers.viz import style

    from matplotlib.colors import to_rgba
    from matplotlib.lines import Line2D

    from helpers.studies.coverage import VERDICT_LABELS, verdict_colours

    _, ax = plt.subplots(figsize=figsize)
    compare.plot_funnel(res, ax=ax, label_level=label_level, max_labels=max_labels,
                        xlabel=xlabel, ylabel=ylabel, title=title)
    for line in ax.get_lines():  # a reader's legend: "City value", "95% limits", not "target", "95.0% limits"
        line.set_label(_legend_label(line.get_label()))
    # the points outside the limits in the site's verdict colours (as on the maps), with legend entries
    flag = funnel_flags(res, label_level)
    colours = verdict_colours()
    side = {"low": VERDICT_LABELS["below"], "high": VERDICT_LABELS["above"]}
    points = [c for c in ax.collections if len(c.get_offsets()) == len(flag)]
    if points:  # inside the limits: grey, so that no inside point reads as a verdict colour
        face = np.array([to_rgba(colours[side[f]] if f in side else _INSIDE_COLOUR, 0.85) for f in flag])
        points[-1].set_facecolors(face)
        points[-1].set_edgecolors(face)
    handles, labels = ax.get_legend_handles_labels()
    limits = "the adjusted limits" if res.tau2 > 0 else "the limits"
    for f, text in (("high", f"{side['high']} (outside {limits})"), ("low", f"{side['low']} (outside {limits})"),
                    ("", f"Not distinguishable (inside {limits})")):
        if (flag == f).any():
            handles.append(Line2D([], [], ls="", marker="o", ms=5,
                                  color=colours[side[f]] if f in side else _INSIDE_COLOUR))
            labels.append(text)
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8)
    if synthetic:
        style.stamp_synthetic(ax)
    return ax


#: The colour of a funnel plot's points inside the limits (the verdict colours mark the others).
_INSIDE_COLOUR = "#9a9a9a"


def funnel_flags(res, label_level: float | None = 0.95) -> np.ndarray:
    """Which units of a funnel (:class:`helpers.stats.compare.FunnelResult`) lie outside its limits at
    ``label_level``, as :func:`helpers.stats.compare.plot_funnel` colours them: the
    overdispersion-adjusted limits when the funnel is overdispersed, else the binomial ones.

    Returns
    -------
    numpy.ndarray
        ``"high"``, ``"low"`` or ``""`` per row of ``res.table``, in its order.
    """
    from helpers.stats import compare

    level = label_level if label_level is not None else max(res.levels)
    column = f"flag_{'od_' if res.tau2 > 0 else ''}{compare._level_tag(level)}"
    if column not in res.table.columns:
        raise KeyError(f"funnel_flags: the funnel has no limits at level {level} (column {column!r}); its levels: "
                       f"{list(res.levels)}")
    return res.table[column].fillna("").astype(str).to_numpy()


def _legend_label(label: str) -> str:
    """A funnel plot's legend entry as a reader reads it: the target is the city's value, a level is
    written with the digits it has (95%, 99.8%), binomial limits are named as such."""
    import re

    if label == "target":
        return "City value"
    m = re.fullmatch(r"(\d+(?:\.\d+)?)% limits(, overdispersion-adjusted)?", label)
    if not m:
        return label
    level = f"{float(m.group(1)):g}%"
    return f"{level} limits, overdispersion-adjusted" if m.group(2) else f"{level} limits (binomial)"


def and_join(items) -> str:
    """Names as a sentence lists them: ``"A"``, ``"A and B"``, ``"A, B and C"``."""
    items = [str(x) for x in items]
    return " and ".join(filter(None, [", ".join(items[:-1]), items[-1]])) if items else ""
