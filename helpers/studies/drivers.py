"""Glue for 04_drivers: model frames, coefficient contrasts, tidy coefficient tables and plots,
variance components of the satisfaction model, and estimates beside the planted truth.

The models themselves live in :mod:`helpers.stats.models`, :mod:`helpers.stats.eventstudy` and
:mod:`helpers.stats.mediation`; this module only prepares their inputs and lays out their outputs.

* :func:`average_predictions` - mean predicted outcome of a fit with some regressors set.
* :func:`twfe` - the naive two-way fixed-effects difference-in-differences (for contrast).
* :func:`pretrend_summary` - how many pre-adoption event-time estimates are compatible with 0.
* :func:`coef_table` - chosen terms of several fits in one tidy frame (with labels).
* :func:`coef_plot` - one panel per model, estimates with 95% intervals and the planted truth.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy import stats

from helpers.data.truth import truth_value

__all__ = ["average_predictions", "twfe",
           "pretrend_summary", "coef_table", "coef_plot", "finding_name",
           "format_terms", "format_rows", "format_event_study"]






def average_predictions(fit, scenarios: dict) -> pd.DataFrame:
    """Mean predicted outcome over the fit's own rows with some regressors set to fixed values.

    ``scenarios`` maps a label to ``{design column: value}`` (e.g. ``{"within 15 minutes":
    {"within15": 1, "band15_30": 0}}``); the columns are those of the fit's design matrix, so a
    regressor must enter by its own name (no interactions of it). Rows are weighted by their
    trials (a collapsed binomial fit counts each respondent once). Returns ``scenario,
    prediction`` on the response scale (a probability for a logit): model-based point
    predictions, without an interval."""
    res = fit.result
    names = list(res.model.exog_names)
    X0 = np.asarray(res.model.exog, float)
    w = np.asarray(getattr(res.model, "n_trials", np.ones(len(X0))), float)
    rows = []
    for label, setting in scenarios.items():
        X = X0.copy()
        for col, val in setting.items():
            X[:, names.index(col)] = val
        rows.append({"scenario": label, "prediction": float(np.average(res.predict(X), weights=w))})
    return pd.DataFrame(rows)




def twfe(panel: pd.DataFrame, adoption: pd.DataFrame, unit: str = "subdistrict_id", time: str = "year",
         outcome: str = "coverage", cohort: str = "platform_year"):
    """The static two-way fixed-effects DiD ``outcome ~ treated + C(unit) + C(time)``, clustered by unit.

    ``treated = 1`` from the adoption year on. Units adopting in the first panel year are dropped,
    as :func:`helpers.stats.eventstudy.event_study` drops them, so both use the same units. Shown only
    as the estimate that staggered timing can bias (Goodman-Bacon 2021). Returns a
    :class:`helpers.stats.models.ModelResult`; the effect is the term ``treated``."""
    from helpers.stats import models

    g = pd.to_numeric(adoption.set_index(unit)[cohort], errors="coerce").astype("float64")
    d = panel.merge(g.rename("_g").reset_index(), on=unit, how="left", validate="many_to_one")
    d = d[~(d["_g"] <= d[time].min())]
    d = d.assign(treated=(d[time] >= d["_g"]).astype(int)).dropna(subset=[outcome])
    return models.ols(d, f"{outcome} ~ treated + C({unit}) + C({time})", cluster=unit)


def pretrend_summary(by_event_time: pd.DataFrame) -> dict:
    """Pre-adoption (placebo) estimates of an event study: ``n`` (event times <= -2), ``n_cover_zero``
    (their 95% intervals include 0), ``max_abs`` (largest absolute estimate), its event time
    ``e_max_abs`` and the treated sub-districts behind it, ``n_treated_max_abs``."""
    pre = by_event_time[(by_event_time["event_time"] <= -2) & by_event_time["se"].notna()]
    if pre.empty:
        return {"n": 0, "n_cover_zero": 0, "max_abs": float("nan"), "e_max_abs": None, "n_treated_max_abs": 0}
    i = pre["estimate"].abs().idxmax()
    return {"n": int(len(pre)), "n_cover_zero": int(((pre["ci_low"] <= 0) & (pre["ci_high"] >= 0)).sum()),
            "max_abs": float(abs(pre.loc[i, "estimate"])), "e_max_abs": int(pre.loc[i, "event_time"]),
            "n_treated_max_abs": int(pre.loc[i, "n_treated"])}


def coef_table(fits: dict, terms: dict, scales: dict | None = None) -> pd.DataFrame:
    """Chosen terms of several fits, one row each.

    ``fits`` maps a model label to a :class:`helpers.stats.models.ModelResult`; ``terms`` maps the same
    label to ``{term: label}``; ``scales`` maps the model label to a text naming the coefficient's
    scale (``"log-odds"``). Returns ``model, term, label, scale, estimate, se, ci_low, ci_high, p,
    nobs``."""
    rows = []
    for model, fit in fits.items():
        for term, label in terms[model].items():
            r = fit.term(term)
            rows.append({"model": model, "term": term, "label": label, "scale": (scales or {}).get(model, ""),
                         "estimate": float(r["estimate"]), "se": float(r["se"]), "ci_low": float(r["ci_low"]),
                         "ci_high": float(r["ci_high"]), "p": float(r["p"]), "nobs": int(fit.nobs)})
    return pd.DataFrame(rows)




def coef_plot(table: pd.DataFrame, truth: dict | None = None, keys: dict | None = None, ncols: int = 3,
              synthetic: bool = False, title: str | None = None):
    """Coefficient plot: one panel per model (its own scale), each term's estimate with its 95%
    interval and, where ``keys`` maps ``(model, term)`` to a ground-truth key, the planted value
    as a cross. Returns the figure."""
    import matplotlib.pyplot as plt

    from helpers.viz import style

    models_ = list(dict.fromkeys(table["model"]))
    nrows = int(np.ceil(len(models_) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.3 * ncols, 1.0 + 1.9 * nrows), squeeze=False)
    col, tcol = style.QUALITATIVE[0], style.QUALITATIVE[5]
    shown_truth = False
    for ax, model in zip(axes.flat, models_):
        s = table[table["model"] == model].reset_index(drop=True)
        y = np.arange(len(s))[::-1]
        ax.errorbar(s["estimate"], y, xerr=[s["estimate"] - s["ci_low"], s["ci_high"] - s["estimate"]], fmt="o",
                    color=col, ms=4, capsize=2, lw=1.2, label="estimate, 95% CI")
        for yi, term in zip(y, s["term"]):
            k = (keys or {}).get((model, term))
            t = truth_value(truth, k) if k else None
            if t is not None:
                ax.plot([t], [yi], "x", color=tcol, ms=7, mew=1.6, label="planted truth" if not shown_truth else None)
                shown_truth = True
        ax.axvline(0, color=style.REFERENCE_COLOR, lw=0.7, ls=":")
        ax.set_yticks(y)
        ax.set_yticklabels(s["label"])
        ax.set_ylim(-0.7, len(s) - 0.3)
        sc = s["scale"].iloc[0]
        ax.set_title(model, fontsize=9)
        ax.set_xlabel(sc)
    for ax in list(axes.flat)[len(models_):]:
        ax.set_visible(False)
    handles, labels = [], []
    for ax in axes.flat:
        h, lab = ax.get_legend_handles_labels()
        for hh, ll in zip(h, lab):
            if ll not in labels:
                handles.append(hh)
                labels.append(ll)
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=8)
    if title:
        fig.suptitle(title, x=0.01, ha="left", fontweight="bold", fontsize=10.5)
    if synthetic:
        style.stamp_synthetic(fig)
    return fig




def finding_name(key: str) -> str:
    """A findings name for a ground-truth key: ``"name[e]"`` becomes ``"name_e<e>"``."""
    m = re.fullmatch(r"(.+)\[(.+)\]", key)
    return f"{m.group(1)}_e{m.group(2)}" if m else key


def format_terms(table: pd.DataFrame, decimals: int = 3) -> pd.DataFrame:
    """A coefficient table (:func:`coef_table`) for display: ``model, label, scale``, the estimate
    with its 95% interval as text, the standard error, ``p`` as text (``"<0.001"`` below 0.001)
    and ``nobs``."""
    f = f"{{:.{decimals}f}}"
    return pd.DataFrame({
        "model": table["model"], "coefficient": table["label"], "scale": table["scale"],
        "estimate (95% CI)": [f"{f.format(e)} ({f.format(a)} to {f.format(b)})"
                              for e, a, b in zip(table["estimate"], table["ci_low"], table["ci_high"])],
        "SE": [f.format(v) for v in table["se"]],
        "p": ["<0.001" if p < 0.001 else f"{p:.3f}" for p in table["p"]],
        "observations": table["nobs"].astype("int64"),
    })


def format_rows(df: pd.DataFrame, labels: dict, key: str = "term", decimals: int = 2,
                label: str = "quantity") -> pd.DataFrame:
    """Rows of a tidy estimate frame for display: ``label`` (``labels[row[key]]``, rows not in
    ``labels`` left out, in the order of ``labels``), the estimate with its interval as text, and
    ``SE`` and ``p`` (``"<0.001"`` below 0.001) when the frame has them."""
    f = f"{{:.{decimals}f}}"
    d = df.set_index(key).loc[[k for k in labels if k in set(df[key])]]
    out = pd.DataFrame({label: [labels[k] for k in d.index],
                        "estimate (95% CI)": [f"{f.format(e)} ({f.format(a)} to {f.format(b)})"
                                              for e, a, b in zip(d["estimate"], d["ci_low"], d["ci_high"])]})
    if "se" in d:
        out["SE"] = [f.format(v) for v in d["se"]]
    if "p" in d:
        out["p"] = ["<0.001" if p < 0.001 else f"{p:.3f}" for p in d["p"]]
    return out


def format_event_study(by_event_time: pd.DataFrame, decimals: int = 1) -> pd.DataFrame:
    """An event study's ``by_event_time`` for display: event time, the effect with its 95% interval
    (``"reference"`` at the base period), ``p`` and the number of treated sub-districts behind it."""
    f = f"{{:.{decimals}f}}"
    b = by_event_time
    eff = ["reference (0)" if pd.isna(s) else f"{f.format(e)} ({f.format(a)} to {f.format(h)})"
           for e, a, h, s in zip(b["estimate"], b["ci_low"], b["ci_high"], b["se"])]
    return pd.DataFrame({"event time (years since adoption)": b["event_time"].astype("int64"),
                         "effect, pp (95% CI)": eff,
                         "p": ["" if pd.isna(p) else ("<0.001" if p < 0.001 else f"{p:.3f}") for p in b["p"]],
                         "treated sub-districts": b["n_treated"].astype("int64")})
