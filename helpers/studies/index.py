"""The computations of 06_index: the composite index of grassroots work by district.

The index itself (normalisation, aggregation, the Monte Carlo of its uncertainty, the
one-at-a-time sensitivity) is :mod:`helpers.stats.composite`; its specification for this
collection is :data:`DEFAULT_SPEC` (``helpers/studies/index_default.yaml``), whose indicators
are measures of the glossary (:mod:`helpers.studies.measures`). This module computes those
indicators per district with their standard errors, decides which indicators a data folder
supports, and turns the results into tables for the report.

* :data:`INDICATORS` - each indicator's table, source and range.
* :func:`index_years` - the year of the administrative indicators and of the survey.
* :func:`district_indicators` - every indicator the data support, per district (tidy, with SEs).
* :func:`index_spec` - the specification restricted to the indicators the data support.
* :func:`indicator_matrix` / :func:`indicator_table` - one row per district (numbers / text);
  :func:`indicator_data` - the numbers behind the indicator tables, for download.
* :func:`bounds` - the range of each indicator of a specification (for the Monte Carlo draws).
* :func:`spec_table`, :func:`score_table`, :func:`sensitivity_table` - tables for the report.
* :func:`separable_pairs` / :func:`separation` - which districts' rank intervals do not overlap.
* :func:`plot_rank_intervals` - both kinds of rank interval per district.
* :func:`plot_index_map` - the districts shaded by their index score, every district named.
* :func:`assessment_by_district` / :func:`rank_agreement` - the top-down assessment kept beside.
* :func:`planted_agreement` - on synthetic data, how well each indicator orders the districts as
  the district effects planted by the generator do.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from helpers.publish import fmt
from helpers.studies import measures, verdicts

__all__ = ["DEFAULT_SPEC", "Indicator", "INDICATORS", "TABLES", "PLANTED_DISTRICT_EFFECTS", "default_spec",
           "index_years", "district_indicators", "index_spec", "indicator_matrix", "indicator_table", "indicator_data",
           "bounds",
           "spec_table", "score_table", "sensitivity_table", "separable_pairs", "separation", "plot_rank_intervals",
           "plot_index_map",
           "assessment_by_district", "rank_agreement", "planted_agreement"]

#: The collection's index specification (read with :func:`default_spec`).
DEFAULT_SPEC: Path = Path(__file__).with_name("index_default.yaml")


@dataclass(frozen=True)
class Indicator:
    """Where an indicator comes from: its ``table``, ``source`` (``"administrative"`` or
    ``"survey"``) and the range its values can take (``low``, ``high``), on the scale the index
    uses (percentages 0-100)."""

    table: str
    source: str
    low: float
    high: float


#: indicator (a glossary key of :mod:`helpers.studies.measures`) -> where it comes from.
INDICATORS: dict[str, Indicator] = {
    "org_coverage": Indicator("organisations", "administrative", 0.0, 100.0),
    "mobile_organised": Indicator("members", "administrative", 0.0, 100.0),
    "walk15_reported": Indicator("survey", "survey", 0.0, 100.0),
    "eight_haves": Indicator("service_points", "administrative", 0.0, 8.0),
    "registration": Indicator("members", "administrative", 0.0, 100.0),
    "agreement_share": Indicator("joint_building", "administrative", 0.0, 100.0),
    "participated": Indicator("survey", "survey", 0.0, 100.0),
    "sat_score": Indicator("survey", "survey", 0.0, 100.0),
    "aware": Indicator("survey", "survey", 0.0, 100.0),
    "trust": Indicator("survey", "survey", 1.0, 5.0),
}

#: The tables the study reads (those absent from a data folder leave their indicators out).
TABLES: list[str] = ["districts", "community_boundaries", "communities", "organisations", "service_points",
                     "members", "joint_building", "assessment", "survey"]

#: indicator -> (the planted district effect in ``ground_truth.json`` that drives it, what it is in words).
PLANTED_DISTRICT_EFFECTS: dict[str, tuple[str, str]] = {
    "org_coverage": ("org_hazard_logit_shift", "district shift in the yearly odds of setting up a party organisation"),
    "registration": ("registration_logit_intercept", "district shift in the odds of registering"),
    "participated": ("participate_lpm_intercept", "district shift in the probability of taking part"),
    "sat_score": ("sat_score_district_effect", "district shift in the satisfaction thermometer"),
    "aware": ("aware_logit_intercept", "district shift in the odds of knowing the centre"),
}

_RATES = {  # indicator -> (numerator, denominator) in its table
    "org_coverage": ("covered", "active"),
    "mobile_organised": ("mobile_organised", "mobile_in"),
    "registration": ("registered", "in_service_resident"),
    "agreement_share": ("signed_agreements", "resident_units"),
}
_SURVEY = {  # indicator -> (respondent column, scale)
    "walk15_reported": ("within15", 100.0), "participated": ("participated", 100.0), "aware": ("aware_center", 100.0),
    "sat_score": ("sat_score", 1.0), "trust": ("trust_committee", 1.0),
}
_LONG = ["district_id", "indicator", "label", "source", "year", "estimate", "se", "ci_low", "ci_high", "n"]


def default_spec():
    """The collection's index (:data:`DEFAULT_SPEC`) as a :class:`helpers.stats.composite.CompositeIndex`."""
    from helpers.stats.composite import CompositeIndex

    return CompositeIndex.from_yaml(DEFAULT_SPEC)


def index_years(tables: dict, year: int | None = None) -> tuple[int, int | None]:
    """``(year, survey_year)``: the year of the administrative indicators (``year``, default the last
    year of the study period) and of the survey indicators (``year`` when the survey has it, else
    the survey's last year up to ``year``, else its last year; None without a survey)."""
    from helpers.data import load

    period = load.study_period(tables)
    yr = period.last if year is None else int(year)
    if yr not in period.years:
        raise ValueError(f"year {yr} is outside the study period {period} of the data; give a year in it")
    if "survey" not in tables:
        return yr, None
    sy = sorted(int(y) for y in tables["survey"]["year"].unique())
    if not sy:
        raise ValueError("the survey table has no rows; remove the empty file or add the survey's rows")
    earlier = [y for y in sy if y <= yr]
    return yr, (yr if yr in sy else (earlier[-1] if earlier else sy[-1]))


def district_indicators(tables: dict, year: int, survey_year: int | None = None,
                        level: float = verdicts.LEVEL) -> pd.DataFrame:
    """Every indicator of :data:`INDICATORS` whose table the data have, per district.

    Administrative rates (organisational coverage, mobile members organised, registration,
    agreements) are summed numerators over summed denominators in ``year``
    (:func:`helpers.stats.rates.rates`, Wilson intervals) with the binomial standard error
    ``sqrt(p (1 - p) / n)``: the noise of a rate from n independent units, which is what makes
    small districts' rates unstable. Survey indicators are design-based means of the respondents
    of ``survey_year`` (:func:`helpers.data.concepts.resident_survey_design`: strata = districts,
    PSUs = communities, finite-population correction; t intervals on the design degrees of
    freedom). The eight-haves score is the mean over service points open in ``year``, with
    ``sd / sqrt(n)`` and a t interval.

    Returns
    -------
    DataFrame
        One row per district (every district of ``tables["districts"]``) and indicator:
        ``district_id, indicator, label, source, year, estimate, se, ci_low, ci_high, n``
        (``label``: the glossary name; ``n``: denominator, respondents or service points).
        Percentages are on the 0-100 scale; the intervals of survey percentages are clipped to
        [0, 100]. A district the data say nothing about (no denominator, no respondent, no open
        service point) has missing values.
    """
    from helpers.data import concepts
    from helpers.data.schema import EIGHT_HAVES
    from helpers.stats import rates

    cmap = concepts.community_lookup(tables)
    yr = int(year)
    parts = []
    for ind, (num, den) in _RATES.items():
        tab = INDICATORS[ind].table
        if tab not in tables:
            continue
        if tab == "organisations":
            d = concepts.organisation_years(tables["organisations"], cmap, [yr])
        else:
            d = tables[tab][tables[tab]["year"] == yr].merge(cmap, on="community_id", how="left",
                                                              validate="many_to_one")
        r = rates.rates(d, {ind: (num, den)}, by="district_id", level=level)
        p, n = r["estimate"].to_numpy(float), r["denominator"].to_numpy(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            se = np.sqrt(p * (1 - p) / n)
        parts.append(pd.DataFrame({"district_id": r["district_id"], "indicator": ind, "year": yr, "estimate": 100 * p,
                                   "se": 100 * se, "ci_low": 100 * r["ci_low"], "ci_high": 100 * r["ci_high"],
                                   "n": n}))
    if "survey" in tables:
        if survey_year is None:
            raise ValueError("survey_year: give the year of the survey indicators (see index_years)")
        sv = concepts.resident_respondents(tables["survey"], tables["communities"])
        design = concepts.resident_survey_design(sv[sv["year"] == int(survey_year)])
        est = design.mean([c for c, _ in _SURVEY.values()], by="district_id", level=level)
        for ind, (col, scale) in _SURVEY.items():
            e = est[est["variable"] == col]
            lo, hi = scale * e["ci_low"], scale * e["ci_high"]
            if scale == 100.0:
                lo, hi = lo.clip(0, 100), hi.clip(0, 100)
            parts.append(pd.DataFrame({"district_id": e["district_id"], "indicator": ind, "year": int(survey_year),
                                       "estimate": scale * e["estimate"], "se": scale * e["se"], "ci_low": lo,
                                       "ci_high": hi, "n": e["n"].astype(float)}))
    if "service_points" in tables:
        sp = tables["service_points"]
        sp = pd.DataFrame(sp[sp["year_opened"] <= yr]).merge(cmap, on="community_id", how="left",
                                                              validate="many_to_one")
        g = sp.assign(h=sp[list(EIGHT_HAVES)].sum(axis=1)).groupby("district_id")["h"]
        m, s, n = g.mean(), g.std(ddof=1), g.size()
        with np.errstate(invalid="ignore", divide="ignore"):
            q = stats.t.ppf((1 + level) / 2, n - 1)
        se = s / np.sqrt(n)
        parts.append(pd.DataFrame({"district_id": m.index, "indicator": "eight_haves", "year": yr,
                                   "estimate": m.to_numpy(), "se": se.to_numpy(), "ci_low": (m - q * se).to_numpy(),
                                   "ci_high": (m + q * se).to_numpy(), "n": n.to_numpy(float)}))
    if not parts:
        return pd.DataFrame(columns=_LONG)
    out = pd.concat(parts, ignore_index=True)
    # every district appears for every indicator computed (missing where the data say nothing)
    ids = pd.Index(sorted(tables["districts"]["district_id"].unique()), name="district_id")
    inds = [k for k in INDICATORS if k in set(out["indicator"])]
    full = pd.MultiIndex.from_product([inds, ids], names=["indicator", "district_id"]).to_frame(index=False)
    out = full.merge(out, on=["indicator", "district_id"], how="left")
    out["year"] = out.groupby("indicator")["year"].transform("max").astype("int64")
    out["label"] = out["indicator"].map(measures.label)
    out["source"] = out["indicator"].map(lambda k: INDICATORS[k].source)
    return out[_LONG].reset_index(drop=True)


def index_spec(long: pd.DataFrame, spec=None) -> tuple:
    """The specification restricted to the indicators the data support, and what was left out.

    An indicator is left out when the data lack its table (it is absent from ``long``), when it is
    missing for some district, or when it is the same in every district (it cannot separate them,
    and min-max normalisation is undefined). The other weights are kept (see
    :meth:`helpers.stats.composite.CompositeIndex.without`).

    Parameters
    ----------
    long : :func:`district_indicators`.
    spec : a :class:`helpers.stats.composite.CompositeIndex` (default :func:`default_spec`).

    Returns
    -------
    (CompositeIndex, DataFrame)
        The restricted specification, and one row per indicator left out: ``indicator, label,
        reason`` (``"absent table"``, ``"missing for some districts"``, ``"the same in every
        district"``), ``table`` and ``districts`` (the districts it is missing for, comma-separated).

    Raises
    ------
    ValueError
        When a whole pillar would be left without an indicator: the index would then summarise
        other families than it says, so the report is not built.
    """
    spec = default_spec() if spec is None else spec
    rows = []
    w = indicator_matrix(long) if len(long) else pd.DataFrame(columns=["district_id"])
    for ind in spec.indicators:
        info = INDICATORS.get(ind)
        table = info.table if info else ""
        if ind not in w.columns:
            rows.append({"indicator": ind, "reason": "absent table", "table": table, "districts": ""})
            continue
        miss = w.loc[w[ind].isna(), "district_id"].astype(str).tolist()
        if miss:
            rows.append({"indicator": ind, "reason": "missing for some districts", "table": table,
                         "districts": ", ".join(miss)})
        elif np.ptp(w[ind].to_numpy(float)) == 0:
            rows.append({"indicator": ind, "reason": "the same in every district", "table": table, "districts": ""})
    out = pd.DataFrame(rows, columns=["indicator", "reason", "table", "districts"])
    out.insert(1, "label", [measures.label(k) if k in measures.MEASURES else k for k in out["indicator"]])
    gone = set(out["indicator"])
    empty = [p for p, inds in spec.pillars.items() if all(i in gone for i in inds)]
    if empty:
        why = "; ".join(f"{r.label}: {r.reason}" + (f" ({r.table})" if r.reason == "absent table" else "")
                        for r in out.itertuples())
        raise ValueError(f"the index cannot be built: pillar(s) {', '.join(empty)} would have no indicator "
                         f"({why}); this report needs data for every pillar")
    return (spec.without(out["indicator"]) if len(out) else spec), out


def indicator_matrix(long: pd.DataFrame, value: str = "estimate") -> pd.DataFrame:
    """One row per district, one column per indicator (``value`` of :func:`district_indicators`),
    in :data:`INDICATORS` order."""
    w = long.pivot(index="district_id", columns="indicator", values=value)
    w = w[[c for c in INDICATORS if c in w.columns] + [c for c in w.columns if c not in INDICATORS]]
    w.columns.name = None
    return w.reset_index()


def indicator_data(long: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind an indicator table, for download: :func:`district_indicators` rows with
    ``n`` renamed ``count`` (a denominator, respondents or service points: only survey rows are
    respondents), and survey estimates resting on fewer respondents than the disclosure threshold
    suppressed as :func:`helpers.publish.report.table` suppresses them."""
    from helpers.publish import report

    out = long.rename(columns={"n": "count"})
    thin = ((long["source"] == "survey") & (pd.to_numeric(long["n"], errors="coerce").fillna(0)
                                            < report.min_respondents())).to_numpy()
    if thin.any():
        cols = ["estimate", "se", "ci_low", "ci_high"]
        out = out.astype({c: object for c in cols})
        out.loc[thin, cols] = report.suppressed_label()
    return out


def bounds(spec) -> dict:
    """``indicator -> (low, high)`` for the indicators of ``spec`` (the ``bounds`` of
    :meth:`helpers.stats.composite.IndexResult.uncertainty`)."""
    return {i: (INDICATORS[i].low, INDICATORS[i].high) for i in spec.indicators if i in INDICATORS}


def _names(units: pd.DataFrame | None, unit: str = "district_id") -> pd.Series | None:
    if units is None:
        return None
    return pd.DataFrame(units[[unit, "name_en"]]).drop_duplicates(unit).set_index(unit)["name_en"]


def indicator_table(long: pd.DataFrame, units: pd.DataFrame, indicators) -> pd.DataFrame:
    """One row per district: ``District``, each indicator in ``indicators`` as ``"estimate (low to
    high)"`` under its glossary label with its unit (one number of decimals per column, from the
    median standard error, see :func:`helpers.publish.fmt.column_digits`; a percentage at most one,
    so that a rate reads the same here as in the other reports) and, when a survey
    indicator is among them, ``Respondents`` (the district's smallest survey count), so that
    :func:`helpers.publish.report.table` (``n="Respondents"``) suppresses a thin district's survey
    cells."""
    long = long[long["indicator"].isin(list(indicators))]
    name = _names(units)
    ids = sorted(long["district_id"].unique())
    out = pd.DataFrame({"District": [name.get(d, d) for d in ids]})
    for ind in [i for i in indicators if i in set(long["indicator"])]:
        d = long[long["indicator"] == ind].set_index("district_id").loc[ids]
        digits = fmt.column_digits(d["se"], d["estimate"])
        if ind in measures.MEASURES and measures.MEASURES[ind].unit == "%":
            digits = min(digits, 1)  # a percentage to one decimal at most, as every other report prints it
        out[measures.label(ind, unit=True)] = [fmt.interval(e, a, b, digits=digits)
                                               for e, a, b in zip(d["estimate"], d["ci_low"], d["ci_high"])]
    survey = long[long["source"] == "survey"]
    if len(survey):
        n = survey.groupby("district_id")["n"].min().reindex(ids)
        out["Respondents"] = [int(v) if np.isfinite(v) else 0 for v in n]
    return out


def spec_table(spec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The index's indicators, for a reader and as data.

    Returns ``(shown, data)``: ``shown`` has ``Pillar``, ``Measure`` (glossary label), ``Source``,
    ``Better when`` and ``Weight in pillar`` (%); ``data`` has ``pillar, indicator, label, source,
    direction, weight_in_pillar`` (the weight within its pillar after normalising the pillar's
    weights to sum to 1) and ``pillar_weight`` (the pillar's share of the index)."""
    rows = []
    pw = np.array([float(spec.weights.get(p, 1.0)) for p in spec.pillars])
    for (p, inds), pwi in zip(spec.pillars.items(), pw / pw.sum()):
        w = np.array([float(spec.weights.get(i, 1.0)) for i in inds])
        for (ind, direction), wi in zip(inds.items(), w / w.sum()):
            info = INDICATORS.get(ind)
            rows.append({"pillar": p, "indicator": ind, "label": measures.label(ind),
                         "source": measures.measure(ind).source if info else "",
                         "direction": direction, "weight_in_pillar": float(wi), "pillar_weight": float(pwi)})
    data = pd.DataFrame(rows)
    shown = pd.DataFrame({"Pillar": data["pillar"].str.capitalize(), "Measure": data["label"],
                          "Source": data["source"],
                          "Better when": data["direction"].map({"higher": "higher", "lower": "lower"}),
                          "Weight in pillar": [fmt.percent(v, 0) for v in data["weight_in_pillar"]]})
    return shown, data


def score_table(noise, method, full, units: pd.DataFrame, scores: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The index by district, for a reader and as data.

    ``scores`` is :attr:`helpers.stats.composite.IndexResult.scores` (pillar scores, ``index``,
    ``rank``); ``noise``, ``method`` and ``full`` are the ``summary`` frames of the Monte Carlo
    varying the indicators, the method, and both. Rows are in the order of the default method's
    score. Ranks are written under the rank-interval rule (:func:`helpers.studies.verdicts.rank_statement`):
    a single rank only when the 95% interval is that rank.

    Returns ``(shown, data)``: ``shown`` has ``District``, each pillar's score, ``Index (95%
    interval, indicator noise)``, ``Rank (noise and method)`` and ``Rank (method choices only)``;
    ``data`` the numbers (``district_id, <pillars>, index, index_low, index_high, rank,
    rank_low, rank_high, rank_low_method, rank_high_method, rank_low_noise, rank_high_noise``).
    """
    unit = "district_id"
    s = scores.sort_values("rank", kind="stable").reset_index(drop=True)
    pillars = [c for c in s.columns if c not in (unit, "index", "rank")]
    nz, me, fu = (f.set_index(unit).loc[s[unit]] for f in (noise, method, full))
    data = s[[unit, *pillars, "index"]].copy()
    data["index_low"], data["index_high"] = nz["score_low"].to_numpy(), nz["score_high"].to_numpy()
    data["rank"] = s["rank"].astype("int64").to_numpy()
    for tag, f in (("", fu), ("_method", me), ("_noise", nz)):
        data[f"rank_low{tag}"] = f["rank_low"].astype("int64").to_numpy()
        data[f"rank_high{tag}"] = f["rank_high"].astype("int64").to_numpy()
    k = len(s)
    name = _names(units)
    shown = pd.DataFrame({"District": [name.get(u, u) for u in s[unit]]})
    for p in pillars:
        shown[measures.label(f"pillar_{p}") if f"pillar_{p}" in measures.MEASURES else p.capitalize()] = [
            fmt.number(v, 0) for v in s[p]]
    digits = fmt.column_digits((data["index_high"] - data["index_low"]) / 3.92, data["index"])
    shown["Index (95% interval, indicator noise)"] = [fmt.interval(e, a, b, digits=digits) for e, a, b in
                                                      zip(data["index"], data["index_low"], data["index_high"])]
    shown["Rank (noise and method)"] = [verdicts.rank_statement(r, a, b, k) for r, a, b in
                                        zip(data["rank"], data["rank_low"], data["rank_high"])]
    shown["Rank (method choices only)"] = [verdicts.rank_statement(r, a, b, k) for r, a, b in
                                           zip(data["rank"], data["rank_low_method"], data["rank_high_method"])]
    return shown, data


def sensitivity_table(sensitivity: pd.DataFrame, top: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The one-at-a-time sensitivity (:attr:`helpers.stats.composite.IndexUncertainty.sensitivity`),
    for a reader and as data: ``choice`` in words (indicators and pillars by their names), the mean
    and largest absolute rank shift and the share of districts whose rank moves; the ``top`` most
    influential rows (all by default). Returns ``(shown, data)``; ``data`` adds ``choice_text``."""
    s = sensitivity if top is None else sensitivity.head(top)
    data = s.reset_index(drop=True).assign(choice_text=[_choice(f, c) for f, c in zip(s["factor"], s["choice"])])
    shown = pd.DataFrame({
        "Choice": data["choice_text"],
        "Mean rank shift": [fmt.number(v, 2) for v in data["mean_abs_rank_shift"]],
        "Largest rank shift": [fmt.count(v) for v in data["max_abs_rank_shift"]],
        "Districts moved": [fmt.percent(v, 0) for v in data["share_units_moved"]],
    })
    return shown, data


def _what(name: str) -> str:
    return f"“{measures.label(name)}”" if name in measures.MEASURES else f"the {name} pillar"


def _choice(factor: str, choice: str) -> str:
    words = {"minmax": "min-max", "zscore": "z-scores", "rank": "ranks", "arithmetic": "arithmetically",
             "geometric": "geometrically"}
    if factor == "normalisation":
        return f"normalise by {words.get(choice, choice)}"
    if factor == "aggregation":
        return f"aggregate {words.get(choice, choice)}"
    if factor == "weight":
        return f"perturb the weight of {_what(choice)}"
    if factor == "drop indicator":
        return f"leave out {_what(choice)}"
    return f"{factor}: {choice}"


def separable_pairs(summary: pd.DataFrame, unit: str = "district_id") -> pd.DataFrame:
    """Every pair of units with ``overlap``: whether their rank intervals ``[rank_low, rank_high]``
    share a rank. Units whose intervals overlap cannot be told apart. Returns ``unit_a, unit_b,
    overlap`` (``unit_a`` the unit with the better base rank)."""
    s = summary.sort_values("rank", kind="stable")[[unit, "rank_low", "rank_high"]].to_numpy()
    rows = []
    for i in range(len(s)):
        for j in range(i + 1, len(s)):
            rows.append({"unit_a": s[i][0], "unit_b": s[j][0],
                         "overlap": bool(s[i][1] <= s[j][2] and s[j][1] <= s[i][2])})
    return pd.DataFrame(rows, columns=["unit_a", "unit_b", "overlap"])


def separation(summary: pd.DataFrame, units: pd.DataFrame | None = None,
               unit: str = "district_id") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per unit (in the order of the base rank): its rank under the rank-interval rule and the units
    it can be told apart from (rank intervals do not overlap), split into those placed above and
    below it.

    Returns ``(shown, data)``: ``shown`` has ``District``, ``Rank (95% interval)``, ``Districts placed
    above it`` and ``Districts it is placed above`` (names, or ``none``); ``data`` has ``<unit>, rank,
    rank_low, rank_high, apart_from`` (count), ``above`` and ``below`` (ids, comma-separated)."""
    s = summary.sort_values("rank", kind="stable").reset_index(drop=True)
    pairs = separable_pairs(s, unit)
    apart = pairs[~pairs["overlap"]]
    name = _names(units, unit)
    label = (lambda u: str(name.get(u, u))) if name is not None else str
    k = len(s)
    rows, shown = [], []
    for r in s.itertuples(index=False):
        u = getattr(r, unit)
        above = apart.loc[apart["unit_b"] == u, "unit_a"].tolist()   # placed above u
        below = apart.loc[apart["unit_a"] == u, "unit_b"].tolist()   # placed below u
        rows.append({unit: u, "rank": int(r.rank), "rank_low": int(r.rank_low), "rank_high": int(r.rank_high),
                     "apart_from": len(above) + len(below), "above": ", ".join(map(str, above)),
                     "below": ", ".join(map(str, below))})
        shown.append({"District": label(u), "Rank (95% interval)": verdicts.rank_statement(r.rank, r.rank_low,
                                                                                            r.rank_high, k),
                      "Districts placed above it": ", ".join(label(x) for x in above) or "none",
                      "Districts it is placed above": ", ".join(label(x) for x in below) or "none"})
    return pd.DataFrame(shown), pd.DataFrame(rows)


def plot_rank_intervals(method: pd.DataFrame, full: pd.DataFrame, units: pd.DataFrame | None = None,
                        unit: str = "district_id", ax=None, synthetic: bool = False, title: str | None = None):
    """Rank intervals per unit (ordered by the base rank): a thin line for the method choices
    alone, a thick line for method and indicator noise together, a dot for the rank under the
    default method. Returns ``ax``."""
    import matplotlib.pyplot as plt

    from helpers.viz import style

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.35 * len(full) + 1.2))
    f = full.sort_values("rank", kind="stable").reset_index(drop=True)
    m = method.set_index(unit).loc[f[unit]].reset_index()
    y = np.arange(len(f))
    c_full, c_meth = style.QUALITATIVE[0], style.QUALITATIVE[1]
    ax.hlines(y, f["rank_low"] - 0.3, f["rank_high"] + 0.3, color=c_full, lw=6, alpha=0.35,
              label="95% interval: indicator noise and method choices")
    ax.hlines(y, m["rank_low"] - 0.3, m["rank_high"] + 0.3, color=c_meth, lw=1.8,
              label="95% interval: method choices only")
    ax.plot(f["rank"], y, "o", color=style.REFERENCE_COLOR, ms=4, label="rank under the default method")
    name = _names(units, unit)
    ax.set_yticks(y)
    ax.set_yticklabels([str(name.get(u, u)) if name is not None else str(u) for u in f[unit]])
    ax.invert_yaxis()
    ax.set_xticks(range(1, len(f) + 1))
    ax.set_xlim(0.3, len(f) + 0.7)
    ax.set_xlabel("Rank (1 = highest index)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5)
    if title:
        ax.set_title(title)
    if synthetic:
        style.stamp_synthetic(ax)
    return ax


#: Room around the city on the index map, as a share of its extent on each side: where the names of
#: districts too small to hold them go, as callouts with leader lines.
MAP_LABEL_MARGIN = 0.12


def plot_index_map(districts, scores: pd.DataFrame, column: str = "index", *, ax=None, synthetic: bool = False,
                   legend_title: str | None = None):
    """The districts shaded by their index score (quantiles, at most 4 classes), every district named.

    A name sits inside its own district when it fits there (on one line or two); the names of
    districts too small to hold them (the dense urban core) go to the margin around the city with a
    leader line ending on a dot inside the district, so no name sits on another district
    (:mod:`helpers.viz.labels`, area labels). Meant to be drawn alone at full width.

    Parameters
    ----------
    districts : GeoDataFrame of the districts (``district_id``, ``name_en``, geometry).
    scores : ``district_id`` and ``column`` (the index's scores, e.g. ``IndexResult.scores``).
    column : the score to map.
    ax : Axes to draw on (default a new 9.5 by 6.6 inch figure).
    synthetic : stamp "Synthetic data".
    legend_title : the legend's heading (default the glossary label of the index).

    Returns
    -------
    ax (its alt text in ``ax._helpers_alt``).
    """
    import matplotlib.pyplot as plt

    from helpers.viz import maps

    if ax is None:
        _, ax = plt.subplots(figsize=(9.5, 6.6))
    frame = districts.merge(scores[["district_id", column]], on="district_id", how="left")
    return maps.choropleth(frame, column, ax=ax, k=max(1, min(4, len(frame) - 1)), labels="en", fmt="{:.0f}",
                           legend_title=legend_title or measures.label("index_score"), synthetic=synthetic,
                           label_margin=MAP_LABEL_MARGIN, inset=False, units_name=("district", "districts"))


def assessment_by_district(assessment: pd.DataFrame, community_map: pd.DataFrame, year: int) -> pd.DataFrame:
    """``district_id, assessment_mean, communities``: the mean top-down assessment score (考核, 0-100)
    of the district's communities in ``year`` (each community counts once)."""
    a = assessment[assessment["year"] == year].merge(
        pd.DataFrame(community_map[["community_id", "district_id"]]).drop_duplicates(), on="community_id", how="left")
    g = a.groupby("district_id")["score"]
    return pd.DataFrame({"assessment_mean": g.mean(), "communities": g.size()}).reset_index()


def rank_agreement(x: pd.DataFrame, x_col: str, y: pd.DataFrame, y_col: str, unit: str = "district_id",
                   level: float = verdicts.LEVEL) -> dict:
    """Spearman rank correlation of ``x_col`` and ``y_col`` across units, with a Fisher-z interval
    (standard error ``1.06 / sqrt(n - 3)``, Fieller, Hartley & Pearson 1957). Returns ``estimate,
    ci_low, ci_high, n``; the interval is missing (NaN) with fewer than 4 units."""
    d = pd.DataFrame(x[[unit, x_col]]).merge(pd.DataFrame(y[[unit, y_col]]), on=unit).dropna()
    n = len(d)
    if n < 3:
        return {"estimate": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "n": n}
    rho = float(stats.spearmanr(d[x_col], d[y_col]).statistic)
    if n < 4 or not np.isfinite(rho):
        return {"estimate": rho, "ci_low": float("nan"), "ci_high": float("nan"), "n": n}
    z, h = np.arctanh(np.clip(rho, -0.999999, 0.999999)), stats.norm.ppf((1 + level) / 2) * 1.06 / np.sqrt(n - 3)
    return {"estimate": rho, "ci_low": float(np.tanh(z - h)), "ci_high": float(np.tanh(z + h)), "n": n}


def planted_agreement(long: pd.DataFrame, truth: dict | None, level: float = verdicts.LEVEL) -> pd.DataFrame | None:
    """On synthetic data: for each indicator driven by a planted district effect
    (:data:`PLANTED_DISTRICT_EFFECTS`), the Spearman correlation across districts between the
    indicator and that effect (:func:`rank_agreement`). Returns ``indicator, label, effect,
    effect_text, estimate, ci_low, ci_high, districts``, or None without a truth."""
    if not truth or "district_effects" not in truth:
        return None
    eff = pd.DataFrame.from_dict(truth["district_effects"], orient="index")
    eff.index.name = "district_id"
    eff = eff.reset_index()
    w = indicator_matrix(long)
    rows = []
    for ind, (key, text) in PLANTED_DISTRICT_EFFECTS.items():
        if ind not in w.columns or key not in eff.columns:
            continue
        r = rank_agreement(w, ind, eff, key, level=level)
        rows.append({"indicator": ind, "label": measures.label(ind), "effect": key, "effect_text": text,
                     "estimate": r["estimate"], "ci_low": r["ci_low"], "ci_high": r["ci_high"], "districts": r["n"]})
    return pd.DataFrame(rows, columns=["indicator", "label", "effect", "effect_text", "estimate", "ci_low", "ci_high",
                                       "districts"])
