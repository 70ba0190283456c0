"""Computations of 04_drivers: the rows each model uses, the staggered roll-out's cohorts, the
naive two-way fixed-effects contrast, pre-trend placebos, average predictions, and the
coefficients of several fits in one table and one plot.

The estimators themselves are the registry's (:data:`helpers.studies.claims.CLAIMS`); this module
only counts, collects and lays out what they return. The report's sentences are in the notebook.

* :func:`model_variables` - the columns of an analysis frame that a specification uses.
* :func:`item_nonresponse` - rows missing each (group of) model variables, and the complete rows.
* :func:`adoption_summary` - sub-districts by when they adopted, relative to the years observed.
* :func:`hazard_units` - which sub-districts the hazard model uses, and why it leaves the others out.
* :func:`twfe` - the naive two-way fixed-effects difference-in-differences (for contrast).
* :func:`pretrend_summary` - how many pre-adoption (placebo) estimates are compatible with 0.
* :func:`average_predictions` - mean predicted outcome of a fit with some regressors set.
* :func:`coef_table` - the labelled coefficients of several claims' fits in one tidy frame.
* :func:`coef_plot` - one panel per model, estimates with 95% intervals and the planted truth.
* :func:`term_text` - a coefficient's label as a phrase inside a sentence.
* :func:`format_rows` - rows of a tidy estimate frame as text (:mod:`helpers.publish.fmt`).
* :func:`finding_name` - a findings name for a ground-truth key.
* :func:`equal_weights_fit` - a claim's design-based specification with every respondent weighted alike.
* :func:`design_comparison` - a claim's model-based and design-based estimates side by side.
* :func:`weight_variation` - how much the survey weights vary, overall and within strata.
"""
from __future__ import annotations

import dataclasses
import re
import textwrap

import numpy as np
import pandas as pd

__all__ = ["model_variables", "item_nonresponse", "adoption_summary", "hazard_units", "twfe", "pretrend_summary",
           "average_predictions", "coef_table", "coef_plot", "term_text", "format_rows", "finding_name", "finding_note", "equal_weights_fit",
           "design_comparison",
           "weight_variation"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def model_variables(spec, columns) -> list[str]:
    """The columns (of ``columns``, in that order) that a specification uses.

    Every text field of the specification (formula, covariates, trials, cluster, absorbed or
    grouping column, ...) is read for names, and the names that are columns of the analysis frame
    are returned: the variables whose missing values make the fit leave a row out (the fitters drop
    rows with a missing value in any model variable, the cluster included).

    Parameters
    ----------
    spec : a specification of :mod:`helpers.stats.specs` (a dataclass).
    columns : the analysis frame's columns.

    Returns
    -------
    list of str
    """
    if not dataclasses.is_dataclass(spec):
        raise TypeError(f"spec must be a specification of helpers.stats.specs, got {type(spec).__name__}")
    names: set[str] = set()
    for f in dataclasses.fields(spec):
        v = getattr(spec, f.name)
        for text in (v if isinstance(v, (tuple, list)) else (v,)):
            if isinstance(text, str):
                names.update(_NAME.findall(text))
    return [c for c in columns if c in names]


def item_nonresponse(frame: pd.DataFrame, variables, labels: dict | None = None) -> tuple[pd.DataFrame, int]:
    """How many rows of ``frame`` miss each model variable, and how many are complete on all of them.

    Parameters
    ----------
    frame : the analysis frame (e.g. the survey's respondents).
    variables : the columns the model uses (:func:`model_variables`).
    labels : column -> what it is, for a reader; columns sharing a label are counted together (a row
        missing any of them counts once: ``within15`` and ``band15_30`` both come from the reported
        walking time). Columns without a label keep their name.

    Returns
    -------
    (DataFrame, int)
        ``label, variables, missing`` (one row per label, in the order first met, ``variables`` the
        columns joined by ``", "``), and the number of rows complete on every variable - the rows a
        fit of these variables uses.
    """
    variables = list(dict.fromkeys(variables))
    absent = [v for v in variables if v not in frame.columns]
    if absent:
        raise KeyError(f"item_nonresponse: columns {absent} are not in the frame; columns: {list(frame.columns)}")
    labels = labels or {}
    groups: dict[str, list[str]] = {}
    for v in variables:
        groups.setdefault(labels.get(v, v), []).append(v)
    miss = frame[variables].isna()
    rows = [{"label": lab, "variables": ", ".join(cols), "missing": int(miss[cols].any(axis=1).sum())}
            for lab, cols in groups.items()]
    return (pd.DataFrame(rows, columns=["label", "variables", "missing"]),
            int((~miss.any(axis=1)).sum()) if variables else len(frame))


def adoption_summary(panel: pd.DataFrame, adoption: pd.DataFrame, unit: str = "subdistrict_id", time: str = "year",
                     cohort: str = "platform_year") -> dict:
    """The units of a staggered roll-out by when they adopted, relative to the years ``panel`` holds.

    Returns a dict: ``first``, ``last`` (years of the panel); ``units`` (units in the panel);
    ``before`` (adopted in or before the first year: no pre-adoption year, so an event study leaves
    them out); ``staggered`` (adopted after the first year, up to the last: the treated cohorts);
    ``cohorts`` (their distinct adoption years); ``later`` (adopt after the last year) and ``never``
    (no adoption year): both are controls throughout; and ``identifiable``: whether a
    Callaway-Sant'Anna comparison exists (a treated cohort, and a unit not yet treated to compare it
    with: a later cohort, a later adopter or a never-adopter).
    """
    units = pd.Index(panel[unit].drop_duplicates())
    years = pd.to_numeric(panel[time], errors="coerce")
    first, last = int(years.min()), int(years.max())
    g = pd.to_numeric(adoption.set_index(unit)[cohort], errors="coerce").astype("float64").reindex(units)
    before = int((g <= first).sum())
    mid = g[(g > first) & (g <= last)]
    later, never = int((g > last).sum()), int(g.isna().sum())
    cohorts = sorted(int(c) for c in mid.unique())
    return {"first": first, "last": last, "units": len(units), "before": before, "staggered": int(len(mid)),
            "cohorts": cohorts, "later": later, "never": never,
            "identifiable": bool(len(mid) > 0 and (later + never > 0 or len(cohorts) > 1))}


def hazard_units(at_risk: pd.DataFrame, units, unit: str = "subdistrict_id", event: str = "event") -> pd.DataFrame:
    """Every sub-district (``units``) and whether the discrete-time hazard model with its fixed effect uses it.

    A unit's fixed effect absorbs its level, so the model learns from a unit only when some of its
    rows at risk have the event and some do not; a unit with no row at risk (every organisation had a
    party organisation from the first year observed) is not in the data at all.

    Parameters
    ----------
    at_risk : DataFrame
        The organisation-years at risk (:func:`helpers.studies.claims.hazard_frame`): ``unit`` and ``event``.
    units : iterable
        Every unit of the city (e.g. the boundaries' ``subdistrict_id``).
    unit, event : str
        Column names.

    Returns
    -------
    DataFrame
        One row per unit: ``unit``, ``rows`` (rows at risk), ``events`` and ``status``: ``"used"``,
        ``"no row at risk"``, ``"no event"`` or ``"all events"`` (the last two are dropped by the
        fixed-effects logit of :mod:`helpers.stats.models`).
    """
    missing = [c for c in (unit, event) if c not in at_risk.columns]
    if missing:
        raise KeyError(f"hazard_units: at_risk has no column {missing}; it needs {unit!r} and {event!r}")
    g = at_risk.groupby(unit)[event].agg(rows="size", events="sum")
    out = pd.DataFrame({unit: pd.Index(pd.unique(pd.Series(list(units))))})
    out = out.merge(g, left_on=unit, right_index=True, how="left")
    out[["rows", "events"]] = out[["rows", "events"]].fillna(0).astype(int)
    out["status"] = np.select([out["rows"] == 0, out["events"] == 0, out["events"] == out["rows"]],
                              ["no row at risk", "no event", "all events"], "used")
    return out


def twfe(panel: pd.DataFrame, adoption: pd.DataFrame, unit: str = "subdistrict_id", time: str = "year",
         outcome: str = "coverage", cohort: str = "platform_year"):
    """The static two-way fixed-effects DiD ``outcome ~ treated + C(unit) + C(time)``, clustered by unit.

    ``treated = 1`` from the adoption year on. Units adopting in the first panel year are dropped,
    as :func:`helpers.stats.eventstudy.event_study` drops them, so both use the same units. Shown only
    as the estimate that staggered timing can bias (Goodman-Bacon 2021).

    Returns
    -------
    helpers.stats.models.ModelResult
        The effect is the term ``treated``.
    """
    from helpers.stats import models

    g = pd.to_numeric(adoption.set_index(unit)[cohort], errors="coerce").astype("float64")
    d = panel.merge(g.rename("_g").reset_index(), on=unit, how="left", validate="many_to_one")
    d = d[~(d["_g"] <= d[time].min())]
    d = d.assign(treated=(d[time] >= d["_g"]).astype(int)).dropna(subset=[outcome])
    return models.ols(d, f"{outcome} ~ treated + C({unit}) + C({time})", cluster=unit)


def pretrend_summary(by_event_time: pd.DataFrame) -> dict:
    """The pre-adoption (placebo) estimates of an event study.

    Returns a dict: ``n`` (estimates at event times <= -2 with a standard error), ``n_cover_zero``
    (their 95% intervals include 0), ``max_abs`` (the largest absolute estimate), its event time
    ``e_max_abs`` and the treated units behind it, ``n_treated_max_abs``; with no placebo estimate,
    ``n = 0``, ``max_abs`` NaN and ``e_max_abs`` None.
    """
    pre = by_event_time[(by_event_time["event_time"] <= -2) & by_event_time["se"].notna()]
    if pre.empty:
        return {"n": 0, "n_cover_zero": 0, "max_abs": float("nan"), "e_max_abs": None, "n_treated_max_abs": 0}
    i = pre["estimate"].abs().idxmax()
    return {"n": int(len(pre)), "n_cover_zero": int(((pre["ci_low"] <= 0) & (pre["ci_high"] >= 0)).sum()),
            "max_abs": float(abs(pre.loc[i, "estimate"])), "e_max_abs": int(pre.loc[i, "event_time"]),
            "n_treated_max_abs": int(pre.loc[i, "n_treated"])}


def average_predictions(fit, scenarios: dict) -> pd.DataFrame:
    """Mean predicted outcome over the fit's own rows with some regressors set to fixed values.

    ``scenarios`` maps a label to ``{design column: value}`` (e.g. ``{"near": {"within15": 1,
    "band15_30": 0}}``); the columns are those of the fit's design matrix, so a regressor must enter
    by its own name (no interactions of it). Rows are weighted by their trials (a collapsed binomial
    fit counts each respondent once).

    Returns
    -------
    DataFrame
        ``scenario, prediction`` on the response scale (a probability for a logit): model-based
        point predictions, without an interval.
    """
    res = fit.result
    names = list(res.model.exog_names)
    X0 = np.asarray(res.model.exog, float)
    w = np.asarray(getattr(res.model, "n_trials", np.ones(len(X0))), float)
    rows = []
    for label, setting in scenarios.items():
        X = X0.copy()
        for col, val in setting.items():
            if col not in names:
                raise KeyError(f"average_predictions: {col!r} is not a column of the design matrix; columns: {names}")
            X[:, names.index(col)] = val
        rows.append({"scenario": label, "prediction": float(np.average(res.predict(X), weights=w))})
    return pd.DataFrame(rows)


def _rows_fitted(fit) -> int:
    """The rows a fit used: for a model with absorbed fixed effects, those left after dropping the groups
    that carry no information (``info["fitted_rows"]``); else ``nobs``."""
    info = getattr(fit, "info", None) or {}
    return int(info["fitted_rows"]) if info.get("absorbed") and "fitted_rows" in info else int(fit.nobs)


def coef_table(fits: dict, scales: dict | None = None, terms: dict | None = None) -> pd.DataFrame:
    """The labelled coefficients of several claims' fits, one row each.

    Parameters
    ----------
    fits : model label -> ``(claim, result)``: a :class:`helpers.studies.claims.Claim` and its fit.
    scales : model label -> the scale of its coefficients in words (``"log-odds"``).
    terms : model label -> the terms to keep, in order; by default every term the claim labels
        except the standard deviations of random effects (``sd(...)``).

    Returns
    -------
    DataFrame
        ``model, claim, term, label`` (the claim's label), ``key`` (the ground-truth key, empty where
        none), ``scale, estimate, se, ci_low, ci_high, p, nobs`` (the rows the model was fitted on:
        a model with absorbed fixed effects leaves out the groups that carry no information, see
        ``info["fitted_rows"]``).
    """
    rows = []
    for model, (claim, fit) in fits.items():
        est = claim.estimates(fit).set_index("term")
        keep = (terms or {}).get(model) or [t for t in claim.labels if not t.startswith("sd(")]
        unknown = [t for t in keep if t not in est.index]
        if unknown:
            raise KeyError(f"coef_table: {model!r} has no terms {unknown}; terms: {list(est.index)}")
        for t in keep:
            r = est.loc[t]
            rows.append({"model": model, "claim": claim.name, "term": t, "label": r["label"], "key": r["key"],
                         "scale": (scales or {}).get(model, ""), "estimate": float(r["estimate"]),
                         "se": float(r["se"]), "ci_low": float(r["ci_low"]), "ci_high": float(r["ci_high"]),
                         "p": float(r["p"]), "nobs": _rows_fitted(fit)})
    cols = ["model", "claim", "term", "label", "key", "scale", "estimate", "se", "ci_low", "ci_high", "p", "nobs"]
    return pd.DataFrame(rows, columns=cols)


def _tick(label: str, width: int = 40) -> str:
    """A coefficient's label inside its model's panel: without the ``"Model: "`` prefix and a final
    ``"(scale)"`` (the panel's title and axis say them), wrapped."""
    head, sep, rest = label.partition(": ")
    text = rest[:1].upper() + rest[1:] if sep else label
    text = re.sub(r"\s*\([^()]*\)$", "", text) or text
    return "\n".join(textwrap.wrap(text, width))


def term_text(label: str) -> str:
    """A coefficient's label as a phrase for a sentence: without its ``"Model: "`` prefix and its final
    ``"(scale)"``, first letter in lower case (``"Thermometer: took part (points)"`` -> ``"took part"``)."""
    text = _tick(label, width=10_000)
    return text[:1].lower() + text[1:]


def coef_plot(table: pd.DataFrame, truth: dict | None = None, ncols: int = 2, synthetic: bool = False):
    """Coefficient plot: one panel per model (on its own scale, named by ``scale``), each term's
    estimate with its 95% interval and, where the row has a ground-truth ``key`` and ``truth`` holds
    it, the planted value as a cross.

    ``table`` is :func:`coef_table` output. Tick labels are the terms' labels without their
    ``"Model: "`` prefix and final ``"(scale)"`` (the panel's title and axis name them).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from helpers.data.truth import truth_value
    from helpers.viz import style

    models_ = list(dict.fromkeys(table["model"]))
    nrows = int(np.ceil(len(models_) / ncols))
    sizes = [int((table["model"] == m).sum()) for m in models_]
    height = 0.9 + sum(max(sizes[i:i + ncols]) * 0.55 + 0.9 for i in range(0, len(models_), ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.6 * ncols, height), squeeze=False, layout="constrained")
    col, tcol = style.QUALITATIVE[0], style.QUALITATIVE[5]
    shown_truth = False
    for ax, model in zip(axes.flat, models_):
        s = table[table["model"] == model].reset_index(drop=True)
        y = np.arange(len(s))[::-1]
        ax.errorbar(s["estimate"], y, xerr=[s["estimate"] - s["ci_low"], s["ci_high"] - s["estimate"]], fmt="o",
                    color=col, ms=4, capsize=2, lw=1.2, label="estimate, 95% interval")
        for yi, key in zip(y, s["key"]):
            t = truth_value(truth, key) if key else None
            if t is not None:
                ax.plot([t], [yi], "x", color=tcol, ms=7, mew=1.6, label=None if shown_truth else "planted value")
                shown_truth = True
        ax.axvline(0, color=style.REFERENCE_COLOR, lw=0.7, ls=":")
        ax.set_yticks(y)
        ax.set_yticklabels([_tick(lab) for lab in s["label"]], fontsize=8)
        ax.set_ylim(-0.7, len(s) - 0.3)
        ax.set_title(model, fontsize=9, loc="left")
        ax.set_xlabel(s["scale"].iloc[0], fontsize=8)
    for ax in list(axes.flat)[len(models_):]:
        ax.set_visible(False)
    handles, labels = [], []
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=8)
    if synthetic:
        style.stamp_synthetic(fig)
    return fig


def format_rows(df: pd.DataFrame, labels: dict, key: str = "term", header: str = "Quantity",
                scale: float = 1.0) -> pd.DataFrame:
    """Rows of a tidy estimate frame as text for a table (numbers by :mod:`helpers.publish.fmt`).

    Parameters
    ----------
    df : tidy frame with ``key``, ``estimate``, ``ci_low``, ``ci_high`` and, optionally, ``se`` and ``p``.
    labels : ``df[key]`` value -> what it is; only these rows are kept, in this order.
    header : the header of the label column.
    scale : multiplies estimates, bounds and standard errors (100 for a probability in points).

    Returns
    -------
    DataFrame
        ``header``, ``Estimate (95% CI)`` (decimals by the site's one rule,
        :func:`helpers.publish.fmt.estimate_digits`: from each row's interval, else its standard error),
        and ``SE`` and ``p`` (``"< 0.001"``) when ``df`` has them; missing values as an en dash.
    """
    from helpers.publish import fmt

    missing = [k for k in labels if k not in set(df[key])]
    if missing:
        raise KeyError(f"format_rows: no rows with {key} in {missing}; present: {list(df[key])}")
    d = df.set_index(key).loc[list(labels)]
    se = d["se"].to_numpy(float) * scale if "se" in d else np.full(len(d), np.nan)
    digits = [fmt.estimate_digits(e, lo, h, se=s, scale=scale)
              for e, s, lo, h in zip(d["estimate"], se, d["ci_low"], d["ci_high"])]
    out = pd.DataFrame({header: [labels[k] for k in d.index],
                        "Estimate (95% CI)": [fmt.interval(e, lo, h, digits=g, scale=scale) for e, lo, h, g in
                                              zip(d["estimate"], d["ci_low"], d["ci_high"], digits)]})
    if "se" in d:
        out["SE"] = [fmt.number(s, g) for s, g in zip(se, digits)]
    if "p" in d:
        out["p"] = [fmt.pvalue(p) for p in d["p"]]
    return out


def finding_name(key: str) -> str:
    """A findings name for a ground-truth key: ``"name[e]"`` becomes ``"name_e<e>"``."""
    m = re.fullmatch(r"(.+)\[(.+)\]", key)
    return f"{m.group(1)}_e{m.group(2)}" if m else key


_EVENT_KEY = re.compile(r"platform_att_by_event_time\[(-?\d+)\]")
_AVERAGE_WORDS = re.compile(r"the average effect over event times \S+ to \S+?(?=[;,.]|$)")


def finding_note(key: str, describe: str) -> str:
    """The note recorded beside the finding ``key``: the model's description ``describe`` (the claim's
    :meth:`~helpers.studies.claims.Claim.describe`), which for the event study names the average it
    reports; a per-event-time key (``"platform_att_by_event_time[2]"``) gets its own event time
    instead (``"the effect at event time 2 (2 years after adoption)"``). Other keys keep ``describe``.

    Returns
    -------
    str
        The note.
    """
    m = _EVENT_KEY.fullmatch(key)
    if m is None:
        return describe
    e = int(m.group(1))
    when = ("the adoption year" if e == 0 else f"{e} year{'s' if abs(e) != 1 else ''} "
            + ("after adoption" if e > 0 else "before adoption")).replace("-", "")
    return _AVERAGE_WORDS.sub(f"the effect at event time {e} ({when})", describe)


_SIDES = ("estimate", "se", "ci_low", "ci_high", "p")


def equal_weights_fit(claim, tables: dict):
    """A claim's design-based specification fitted with every respondent's weight set to 1.

    The strata, PSUs and finite-population correction stay, so the fit differs from the
    model-based one (the claim's ``spec``) only by its specification and its design-based
    variance, and from the design-based one (``design_based``) only by the weights: it splits the
    difference between the two.

    Returns
    -------
    The specification's result (:class:`helpers.stats.survey.SurveyGLMResult` or
    :class:`helpers.stats.survey.SurveyOLRResult`).
    """
    if claim.design_based is None:
        raise ValueError(f"equal_weights_fit: claim {claim.name!r} has no design-based specification")
    weight = claim.design_based.design["weight"]
    frame = claim.inputs(tables)[0]
    return claim.design_based.fit(frame.assign(**{weight: 1.0}))


def design_comparison(claim, model_fit, design_fit, equal_fit=None, terms=None) -> pd.DataFrame:
    """A claim's model-based estimates (its registry ``spec``) beside its design-based ones
    (``design_based``), term by term.

    Parameters
    ----------
    claim : a :class:`helpers.studies.claims.Claim` with a design-based specification.
    model_fit : ``claim.fit(tables)``.
    design_fit : ``claim.fit_design_based(tables)``.
    equal_fit : optionally :func:`equal_weights_fit` of the claim: adds ``estimate_equal``,
        ``se_equal`` and splits ``difference`` into ``specification`` (equal-weights minus
        model-based: what the change of model and of variance does) and ``weighting``
        (design-based minus equal-weights: what the weights do).
    terms : the terms to compare, in order; by default every term the claim labels that both fits
        estimate (standard deviations of random effects have no design-based counterpart).

    Returns
    -------
    DataFrame
        One row per term: ``claim, term, label, key`` (ground-truth key, empty where none), the
        model-based ``estimate, se, ci_low, ci_high, p`` and ``nobs``, the same with the suffix
        ``_design`` (``nobs_design``, ``df_design``: the design's residual degrees of freedom),
        ``difference`` (design-based minus model-based estimate), ``difference_se`` (that
        difference in model-based standard errors) and ``se_ratio`` (design-based over
        model-based standard error) and ``estimable`` (both standard errors finite and positive: a
        separated logit, whose coefficient runs off to infinity, has none); with ``equal_fit`` also
        ``estimate_equal``, ``se_equal``, ``specification`` and ``weighting`` (they add up to
        ``difference``).
    """
    m = claim.estimates(model_fit).set_index("term")
    d = claim.design_estimates(design_fit).set_index("term")
    keep = list(terms) if terms is not None else [t for t in claim.labels if t in m.index and t in d.index]
    unknown = [t for t in keep if t not in m.index or t not in d.index]
    if unknown:
        raise KeyError(f"design_comparison: claim {claim.name!r} has no terms {unknown} in both fits; model-based "
                       f"terms: {list(m.index)}; design-based terms: {list(d.index)}")
    rows = []
    for t in keep:
        r = {"claim": claim.name, "term": t, "label": m.loc[t, "label"], "key": m.loc[t, "key"]}
        r.update({c: float(m.loc[t, c]) for c in _SIDES})
        r["nobs"] = int(model_fit.nobs)
        r.update({f"{c}_design": float(d.loc[t, c]) for c in _SIDES})
        r["nobs_design"] = int(design_fit.nobs)
        r["df_design"] = float(design_fit.df_residual)
        rows.append(r)
    cols = (["claim", "term", "label", "key", *_SIDES, "nobs", *(f"{c}_design" for c in _SIDES), "nobs_design",
             "df_design"])
    out = pd.DataFrame(rows, columns=cols)
    out["difference"] = out["estimate_design"] - out["estimate"]
    out["difference_se"] = out["difference"] / out["se"]
    out["se_ratio"] = out["se_design"] / out["se"]
    out["estimable"] = (np.isfinite(out["se"]) & (out["se"] > 0) & np.isfinite(out["se_design"])
                        & (out["se_design"] > 0))
    if equal_fit is not None:
        e = claim.design_estimates(equal_fit).set_index("term").reindex(keep)
        out["estimate_equal"] = e["estimate"].to_numpy(float)
        out["se_equal"] = e["se"].to_numpy(float)
        out["specification"] = out["estimate_equal"] - out["estimate"]
        out["weighting"] = out["estimate_design"] - out["estimate_equal"]
    return out


def weight_variation(frame: pd.DataFrame, weight: str, strata=None) -> dict:
    """How much survey weights vary: overall and within strata.

    Parameters
    ----------
    frame : respondents (e.g. the complete cases of a model).
    weight : the weight column.
    strata : column(s) within which the weights are also compared (e.g. the design's strata).

    Returns
    -------
    dict
        ``n`` (rows), ``cv`` (coefficient of variation of the weights, population sd over mean),
        ``deff`` (Kish's design effect of unequal weighting, ``1 + cv**2``), ``ratio`` (largest over
        smallest weight) and, with ``strata``, ``cv_within`` (square root of the mean squared
        within-stratum deviation over the squared mean weight: the variation left once strata are
        held fixed) and ``share_within`` (the share of the weights' variance that lies within strata).

    References
    ----------
    Kish, L. (1965) *Survey Sampling*, section 11.7. Wiley.
    """
    w = pd.to_numeric(frame[weight], errors="coerce").to_numpy(float)
    if len(w) == 0 or not np.isfinite(w).all() or (w <= 0).any():
        raise ValueError(f"weight_variation: column {weight!r} needs positive finite weights in every row "
                         f"({len(w)} rows); drop rows without a weight first")
    mean, var = w.mean(), w.var()
    out = {"n": int(len(w)), "cv": float(np.sqrt(var) / mean), "deff": float(1 + var / mean ** 2),
           "ratio": float(w.max() / w.min())}
    if strata is not None:
        cols = [strata] if isinstance(strata, str) else list(strata)
        dev = w - frame.groupby(cols, sort=False)[weight].transform("mean").to_numpy(float)
        within = float(np.mean(dev ** 2))
        out["cv_within"] = float(np.sqrt(within) / mean)
        out["share_within"] = float(within / var) if var > 0 else 0.0
    return out
