"""Glue for 06_index: the composite index's indicators per district with their uncertainty, a
Monte Carlo that adds the indicators' own noise to the index's methodological choices, which
districts can be told apart, and the plots.

The index itself (normalisation, aggregation, method uncertainty, sensitivity) is
:mod:`helpers.stats.composite`; rates come from :mod:`helpers.stats.rates` and survey estimates from
:mod:`helpers.stats.survey`.

* :data:`INDICATORS` - label, unit and source of each indicator of the default index.
* :func:`district_indicators` - every indicator per district for one year (tidy, with SEs).
* :func:`indicator_matrix` / :func:`indicator_table` - one row per district (values / text).
* :func:`full_uncertainty` - score and rank intervals when both the indicators (sampling noise)
  and the method choices (normalisation, aggregation, weights) vary.
* :func:`separation` / :func:`separable_pairs` - which districts' rank intervals do not overlap.
* :func:`plot_rank_intervals` - both kinds of rank interval per district.
* :func:`assessment_by_district` / :func:`rank_agreement` - the top-down assessment kept beside.
* :func:`planted_agreement` - on synthetic data, how well each indicator ranks districts in the
  order of the district effects planted by the generator.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["INDICATORS", "PLANTED_DISTRICT_EFFECTS", "district_indicators", "indicator_matrix", "indicator_table",
           "FullUncertainty", "full_uncertainty", "separation", "separable_pairs", "plot_rank_intervals",
           "assessment_by_district", "rank_agreement", "planted_agreement", "spec_table", "score_table",
           "sensitivity_table"]

#: indicator -> (label, unit, source) for the default index (``helpers/stats/index_default.yaml``).
INDICATORS: dict[str, tuple[str, str, str]] = {
    "org_coverage": ("organisational coverage", "% of active organisations", "administrative"),
    "mobile_organised_rate": ("mobile members organised", "% of inflowing mobile members", "administrative"),
    "within15_share": ("within a 15-minute walk", "% of residents", "survey"),
    "eight_haves_mean": ("eight-haves score", "mean items met (0-8)", "administrative"),
    "registration_rate": ("member registration", "% of in-service members resident", "administrative"),
    "agreement_share": ("units with an agreement", "% of resident units", "administrative"),
    "participated_share": ("residents taking part", "% of residents", "survey"),
    "sat_score_mean": ("satisfaction thermometer", "mean (0-100)", "survey"),
    "aware_share": ("aware of the centre", "% of residents", "survey"),
    "trust_mean": ("trust in the committee", "mean (1-5)", "survey"),
}

#: indicator -> the planted district effect (``ground_truth.json`` ``district_effects``) that drives it.
PLANTED_DISTRICT_EFFECTS: dict[str, str] = {
    "org_coverage": "org_hazard_logit_shift",
    "registration_rate": "registration_logit_intercept",
    "participated_share": "participate_lpm_intercept",
    "sat_score_mean": "sat_score_district_effect",
    "aware_share": "aware_logit_intercept",
}

_RATES = {  # indicator -> (table, numerator, denominator)
    "org_coverage": ("organisations", "covered", "active"),
    "mobile_organised_rate": ("members", "mobile_organised", "mobile_in"),
    "registration_rate": ("members", "registered", "in_service_resident"),
    "agreement_share": ("joint_building", "signed_agreements", "resident_units"),
}
_SURVEY = {  # indicator -> (survey column, scale)
    "within15_share": ("within15", 100.0), "participated_share": ("participated", 100.0),
    "aware_share": ("aware_center", 100.0), "sat_score_mean": ("sat_score", 1.0), "trust_mean": ("trust_committee", 1.0),
}




def district_indicators(tables: dict, year: int | None = None, level: float = 0.95) -> pd.DataFrame:
    """The default index's ten indicators per district in ``year`` (default: the last survey year).

    Administrative rates (organisational coverage, mobile members organised, registration,
    agreements) are summed numerators over summed denominators (:func:`helpers.stats.rates.rates`,
    Wilson intervals) with the binomial standard error ``sqrt(p (1 - p) / n)``: the noise of a
    rate from n independent units, which is what makes small districts' rates unstable.
    Survey indicators are design-based means of respondents (:class:`helpers.stats.survey.SurveyDesign`:
    strata = districts, PSUs = communities, finite-population correction; t intervals on the
    design df). The eight-haves score is the mean over service points open in the year, with
    ``sd / sqrt(n)``.

    Returns one row per district and indicator: ``district_id, indicator, label, unit, source,
    estimate, se, ci_low, ci_high, n`` (``n``: denominator, respondents or service points).
    Percentages are on the 0-100 scale; the Wald intervals of survey percentages are clipped to
    [0, 100] (a district where every respondent lives within 15 minutes has a 0-width interval).
    """
    from helpers.stats import rates
    from helpers.data.schema import EIGHT_HAVES

    from helpers.data import concepts

    cmap = concepts.community_lookup(tables)
    yr = int(tables["survey"]["year"].max()) if year is None else int(year)
    frames = {
        "organisations": concepts.organisation_years(tables["organisations"], cmap, [yr])[
            ["community_id", "active", "covered"]],
        "members": tables["members"][tables["members"]["year"] == yr],
        "joint_building": tables["joint_building"][tables["joint_building"]["year"] == yr],
    }
    parts = []
    for ind, (tab, num, den) in _RATES.items():
        d = frames[tab].merge(cmap, on="community_id", how="left", validate="many_to_one")
        r = rates.rates(d, {ind: (num, den)}, by="district_id", level=level)
        p, n = r["estimate"].to_numpy(float), r["denominator"].to_numpy(float)
        parts.append(pd.DataFrame({"district_id": r["district_id"], "indicator": ind, "estimate": 100 * p,
                                   "se": 100 * np.sqrt(p * (1 - p) / n), "ci_low": 100 * r["ci_low"],
                                   "ci_high": 100 * r["ci_high"], "n": n}))
    sv = concepts.resident_respondents(tables["survey"], tables["communities"])
    design = concepts.resident_survey_design(sv[sv["year"] == yr])
    est = design.mean([c for c, _ in _SURVEY.values()], by="district_id", level=level)
    for ind, (col, scale) in _SURVEY.items():
        e = est[est["variable"] == col]
        lo, hi = scale * e["ci_low"], scale * e["ci_high"]
        if scale == 100.0:
            lo, hi = lo.clip(0, 100), hi.clip(0, 100)
        parts.append(pd.DataFrame({"district_id": e["district_id"], "indicator": ind, "estimate": scale * e["estimate"],
                                   "se": scale * e["se"], "ci_low": lo, "ci_high": hi, "n": e["n"].astype(float)}))
    sp = tables["service_points"]
    sp = pd.DataFrame(sp[sp["year_opened"] <= yr]).merge(cmap, on="community_id", how="left", validate="many_to_one")
    g = sp.assign(h=sp[list(EIGHT_HAVES)].sum(axis=1)).groupby("district_id")["h"]
    m, s, n = g.mean(), g.std(ddof=1), g.size()
    q = stats.t.ppf((1 + level) / 2, n - 1)
    parts.append(pd.DataFrame({"district_id": m.index, "indicator": "eight_haves_mean", "estimate": m.to_numpy(),
                               "se": (s / np.sqrt(n)).to_numpy(), "ci_low": (m - q * s / np.sqrt(n)).to_numpy(),
                               "ci_high": (m + q * s / np.sqrt(n)).to_numpy(), "n": n.to_numpy(float)}))
    out = pd.concat(parts, ignore_index=True)
    meta = pd.DataFrame([(k, *v) for k, v in INDICATORS.items()], columns=["indicator", "label", "unit", "source"])
    out = out.merge(meta, on="indicator", how="left")
    order = {k: i for i, k in enumerate(INDICATORS)}
    out = out.sort_values(["indicator", "district_id"], key=lambda c: c.map(order) if c.name == "indicator" else c)
    return out[["district_id", "indicator", "label", "unit", "source", "estimate", "se", "ci_low", "ci_high",
                "n"]].reset_index(drop=True)


def indicator_matrix(long: pd.DataFrame, value: str = "estimate") -> pd.DataFrame:
    """One row per district, one column per indicator (``value`` of :func:`district_indicators`)."""
    w = long.pivot(index="district_id", columns="indicator", values=value)
    w = w[[c for c in INDICATORS if c in w.columns]]
    w.columns.name = None
    return w.reset_index()


def indicator_table(long: pd.DataFrame, units: pd.DataFrame | None = None, indicators=None,
                    decimals: int = 1) -> pd.DataFrame:
    """One row per district with each indicator (all, or those named in ``indicators``) as
    ``"estimate (ci_low to ci_high)"`` (column = the indicator's label) and, when a survey
    indicator is among them, ``respondents``: the smallest survey respondent count of the row, so
    that :func:`helpers.publish.report.table` (``n="respondents"``) suppresses a thin district's survey
    cells."""
    f = f"{{:.{decimals}f}}"
    if indicators is not None:
        long = long[long["indicator"].isin(list(indicators))]
    t = long.assign(text=[f"{f.format(e)} ({f.format(a)} to {f.format(b)})"
                          for e, a, b in zip(long["estimate"], long["ci_low"], long["ci_high"])])
    w = t.pivot(index="district_id", columns="label", values="text")
    w = w[[INDICATORS[k][0] for k in INDICATORS if INDICATORS[k][0] in w.columns]]
    w.columns.name = None
    if (long["source"] == "survey").any():
        resp = long[long["source"] == "survey"].groupby("district_id")["n"].min().astype("int64").rename("respondents")
        w = w.join(resp)
    w = w.reset_index()
    if units is not None:
        names = pd.DataFrame(units[["district_id", "name_en"]]).drop_duplicates("district_id")
        w = w.merge(names, on="district_id", how="left")
        w = w[["district_id", "name_en"] + [c for c in w.columns if c not in ("district_id", "name_en")]]
    return w


@dataclass
class FullUncertainty:
    """``summary``: per unit the base score and rank with Monte Carlo intervals at ``level``
    (``score_low/high``, ``rank_median``, ``rank_low/high``), as
    :class:`helpers.stats.composite.IndexUncertainty`; ``draws_score`` / ``draws_rank``: simulations x units."""

    summary: pd.DataFrame
    draws_score: np.ndarray = field(repr=False)
    draws_rank: np.ndarray = field(repr=False)
    n_sim: int = 0
    level: float = 0.95


def full_uncertainty(spec, long: pd.DataFrame, n_sim: int = 1000, seed=None, level: float = 0.95,
                     vary_method: bool = True) -> FullUncertainty:
    """Monte Carlo of the index in which the indicators (and, by default, the method) vary.

    Each replicate draws every indicator of every district from a normal distribution around its
    estimate with its standard error (truncated at 0), and, if ``vary_method``, as
    :meth:`helpers.stats.composite.IndexResult.uncertainty` does, a normalisation and an aggregation
    uniformly from the spec's alternatives and every weight times ``Uniform(1 - noise, 1 + noise)``;
    the index is recomputed with :meth:`helpers.stats.composite.CompositeIndex.compute`. Without
    ``vary_method`` the scores stay on the default normalisation's scale, so their intervals can be
    read as intervals of the published score. Ranks: 1 = best; intervals are equal-tailed at
    ``level`` (ranks floored / ceiled to whole ranks).
    """
    rng = np.random.default_rng(seed)
    est = indicator_matrix(long, "estimate")
    se = indicator_matrix(long, "se").set_index("district_id").loc[est["district_id"]]
    inds = spec.indicators
    E, S = est[inds].to_numpy(float), se[inds].to_numpy(float)
    names = list(spec.pillars) + inds
    wbase = {n: float(spec.weights.get(n, 1.0)) for n in names}
    base = spec.compute(est).scores.set_index(spec.unit).loc[est[spec.unit]]
    units = est[spec.unit].to_numpy()
    scores = np.empty((n_sim, len(units)))
    ranks = np.empty_like(scores)
    for k in range(n_sim):
        X = np.clip(E + S * rng.standard_normal(E.shape), 0.0, None)
        if vary_method:
            norm = spec.alt_normalisations[rng.integers(len(spec.alt_normalisations))]
            agg = spec.alt_aggregations[rng.integers(len(spec.alt_aggregations))]
            w = {n: wbase[n] * rng.uniform(1 - spec.weight_noise, 1 + spec.weight_noise) for n in names}
        else:
            norm, agg, w = spec.normalisation, spec.aggregation, wbase
        r = spec.with_options(normalisation=norm, aggregation=agg, weights=w).compute(
            pd.DataFrame(X, columns=inds).assign(**{spec.unit: units})).scores.set_index(spec.unit).loc[units]
        scores[k], ranks[k] = r["index"].to_numpy(), r["rank"].to_numpy()
    a = (1 - level) / 2
    summary = pd.DataFrame({
        spec.unit: units, "score": base["index"].to_numpy(), "score_median": np.median(scores, 0),
        "score_low": np.quantile(scores, a, 0), "score_high": np.quantile(scores, 1 - a, 0),
        "rank": base["rank"].to_numpy(), "rank_median": np.median(ranks, 0),
        "rank_low": np.floor(np.quantile(ranks, a, 0)), "rank_high": np.ceil(np.quantile(ranks, 1 - a, 0)),
    }).sort_values("rank", kind="stable").reset_index(drop=True)
    return FullUncertainty(summary, scores, ranks, n_sim, level)


def separable_pairs(summary: pd.DataFrame, unit: str = "district_id") -> pd.DataFrame:
    """Every pair of units with ``overlap``: whether their rank intervals ``[rank_low, rank_high]``
    share a rank. Units whose intervals overlap cannot be told apart."""
    s = summary[[unit, "rank_low", "rank_high"]].to_numpy()
    rows = []
    for i in range(len(s)):
        for j in range(i + 1, len(s)):
            rows.append({"unit_a": s[i][0], "unit_b": s[j][0],
                         "overlap": bool(s[i][1] <= s[j][2] and s[j][1] <= s[i][2])})
    return pd.DataFrame(rows)


def separation(summary: pd.DataFrame, units: pd.DataFrame | None = None, unit: str = "district_id") -> pd.DataFrame:
    """Per unit (in rank order): its rank interval as text and the units it *can* be told apart
    from (rank intervals do not overlap), as a count and a list of names (``name_en`` of ``units``
    when given, else ids)."""
    pairs = separable_pairs(summary, unit)
    name = (pd.DataFrame(units[[unit, "name_en"]]).drop_duplicates(unit).set_index(unit)["name_en"]
            if units is not None else None)
    rows = []
    for _, r in summary.iterrows():
        u = r[unit]
        sep = pairs[~pairs["overlap"] & ((pairs["unit_a"] == u) | (pairs["unit_b"] == u))]
        others = [b if a == u else a for a, b in zip(sep["unit_a"], sep["unit_b"])]
        others = sorted(others, key=lambda o: float(summary.set_index(unit).loc[o, "rank"]))
        rows.append({unit: u, **({"name_en": name[u]} if name is not None else {}),
                     "rank": int(r["rank"]), "rank interval": f"{int(r['rank_low'])}–{int(r['rank_high'])}",
                     "told apart from": len(others),
                     "districts it can be told apart from": ", ".join(str(name[o]) if name is not None else str(o)
                                                                       for o in others)})
    return pd.DataFrame(rows)


def plot_rank_intervals(method: pd.DataFrame, full: pd.DataFrame, units: pd.DataFrame | None = None,
                        unit: str = "district_id", level: float = 0.95, ax=None, synthetic: bool = False,
                        title: str | None = None):
    """Rank intervals per unit (ordered by the base rank): a thin line for the method choices
    alone, a thick line for method and indicator noise together, a dot for the base rank.
    Returns ``ax``."""
    import matplotlib.pyplot as plt

    from helpers.viz import style

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.35 * len(full) + 1.2))
    f = full.sort_values("rank", kind="stable").reset_index(drop=True)
    m = method.set_index(unit).loc[f[unit]].reset_index()
    y = np.arange(len(f))
    c_full, c_meth = style.QUALITATIVE[0], style.QUALITATIVE[1]
    ax.hlines(y, f["rank_low"] - 0.3, f["rank_high"] + 0.3, color=c_full, lw=6, alpha=0.35,
              label=f"{level:.0%} interval: indicator noise and method choices")
    ax.hlines(y, m["rank_low"] - 0.3, m["rank_high"] + 0.3, color=c_meth, lw=1.8,
              label=f"{level:.0%} interval: method choices only")
    ax.plot(f["rank"], y, "o", color=style.REFERENCE_COLOR, ms=4, label="rank with the default method")
    labels = f[unit].astype(str)
    if units is not None:
        names = pd.DataFrame(units[[unit, "name_en"]]).drop_duplicates(unit).set_index(unit)["name_en"]
        labels = [names[u] for u in f[unit]]
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    ax.invert_yaxis()
    ax.set_xticks(range(1, len(f) + 1))
    ax.set_xlim(0.3, len(f) + 0.7)
    ax.set_xlabel("rank (1 = best)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5)
    if title:
        ax.set_title(title)
    if synthetic:
        style.stamp_synthetic(ax)
    return ax


def assessment_by_district(assessment: pd.DataFrame, community_map: pd.DataFrame, year: int) -> pd.DataFrame:
    """``district_id, assessment_mean, communities``: the mean top-down assessment score (考核, 0-100)
    of the district's communities in ``year`` (each community counts once)."""
    a = assessment[assessment["year"] == year].merge(
        pd.DataFrame(community_map[["community_id", "district_id"]]).drop_duplicates(), on="community_id", how="left")
    g = a.groupby("district_id")["score"]
    return pd.DataFrame({"assessment_mean": g.mean(), "communities": g.size()}).reset_index()


def rank_agreement(x: pd.DataFrame, x_col: str, y: pd.DataFrame, y_col: str, unit: str = "district_id",
                   level: float = 0.95) -> dict:
    """Spearman rank correlation of ``x_col`` and ``y_col`` across units, with a Fisher-z interval
    (standard error ``1.06 / sqrt(n - 3)``, Fieller et al. 1957). Returns ``estimate, ci_low,
    ci_high, n``."""
    d = pd.DataFrame(x[[unit, x_col]]).merge(pd.DataFrame(y[[unit, y_col]]), on=unit).dropna()
    n = len(d)
    rho = float(stats.spearmanr(d[x_col], d[y_col]).statistic)
    z, h = np.arctanh(np.clip(rho, -0.999999, 0.999999)), stats.norm.ppf((1 + level) / 2) * 1.06 / np.sqrt(n - 3)
    return {"estimate": rho, "ci_low": float(np.tanh(z - h)), "ci_high": float(np.tanh(z + h)), "n": n}


def planted_agreement(long: pd.DataFrame, truth: dict | None, level: float = 0.95) -> pd.DataFrame | None:
    """On synthetic data: for each indicator driven by a planted district effect
    (:data:`PLANTED_DISTRICT_EFFECTS`), the Spearman correlation across districts between the
    indicator and that effect (:func:`rank_agreement`). None without a truth."""
    if not truth or "district_effects" not in truth:
        return None
    eff = pd.DataFrame.from_dict(truth["district_effects"], orient="index")
    eff.index.name = "district_id"
    eff = eff.reset_index()
    w = indicator_matrix(long)
    rows = []
    for ind, key in PLANTED_DISTRICT_EFFECTS.items():
        if ind not in w.columns or key not in eff.columns:
            continue
        r = rank_agreement(w, ind, eff, key, level=level)
        rows.append({"indicator": INDICATORS[ind][0], "planted district effect": key, "spearman": r["estimate"],
                     "ci_low": r["ci_low"], "ci_high": r["ci_high"], "districts": r["n"]})
    return pd.DataFrame(rows)


def spec_table(spec) -> pd.DataFrame:
    """The index's indicators: ``pillar, indicator, label, unit, source, direction, weight`` (the
    weight within its pillar after normalising the pillar's weights to sum to 1)."""
    rows = []
    for p, inds in spec.pillars.items():
        w = np.array([float(spec.weights.get(i, 1.0)) for i in inds])
        for (ind, direction), wi in zip(inds.items(), w / w.sum()):
            lab, unit, src = INDICATORS.get(ind, (ind, "", ""))
            rows.append({"pillar": p, "indicator": ind, "label": lab, "unit": unit, "source": src,
                         "direction": f"{direction} is better", "weight in pillar": round(float(wi), 3)})
    return pd.DataFrame(rows)


def score_table(scores: pd.DataFrame, noise: pd.DataFrame, method: pd.DataFrame, full: pd.DataFrame,
                units: pd.DataFrame | None = None, unit: str = "district_id", decimals: int = 1,
                level: float = 0.95) -> pd.DataFrame:
    """One row per unit in rank order: the pillar scores and the index (``scores``, from
    :meth:`helpers.stats.composite.CompositeIndex.compute`), the index's interval from indicator noise alone
    (``noise``, :func:`full_uncertainty` with ``vary_method=False``), the rank and its intervals
    from the method choices (``method``, :meth:`helpers.stats.composite.IndexResult.uncertainty`) and from
    both (``full``)."""
    f = f"{{:.{decimals}f}}"
    s = scores.sort_values("rank", kind="stable").reset_index(drop=True)
    pillars = [c for c in s.columns if c not in (unit, "index", "rank")]
    out = pd.DataFrame({unit: s[unit]})
    if units is not None:
        out["name_en"] = pd.DataFrame(units[[unit, "name_en"]]).drop_duplicates(unit).set_index(unit).loc[
            s[unit], "name_en"].to_numpy()
    for p in pillars:
        out[p] = [f.format(v) for v in s[p]]
    nz = noise.set_index(unit).loc[s[unit]]
    out[f"index ({level:.0%} interval, indicator noise)"] = [f"{f.format(e)} ({f.format(a)} to {f.format(b)})" for e, a, b in
                                                    zip(s["index"], nz["score_low"], nz["score_high"])]
    out["rank"] = s["rank"].astype("int64").to_numpy()
    for lab, frame in (("rank interval, method choices", method), ("rank interval, noise and method", full)):
        r = frame.set_index(unit).loc[s[unit]]
        out[lab] = [f"{int(a)}–{int(b)}" for a, b in zip(r["rank_low"], r["rank_high"])]
    return out


def sensitivity_table(sensitivity: pd.DataFrame, top: int | None = None) -> pd.DataFrame:
    """The one-at-a-time sensitivity of :meth:`helpers.stats.composite.IndexResult.uncertainty` for display:
    ``choice`` in words (indicator names as their labels), the mean and largest absolute rank shift
    and the share of units whose rank moves; the ``top`` most influential rows (all by default)."""
    what = {"normalisation": "normalise by {}", "aggregation": "aggregate {}", "weight": "perturb the weight of {}",
            "drop indicator": "drop {}"}
    words = {"minmax": "min-max", "zscore": "z-score", "rank": "rank", "arithmetic": "arithmetically",
             "geometric": "geometrically"}
    s = sensitivity if top is None else sensitivity.head(top)
    return pd.DataFrame({
        "choice": [what.get(f, f + ": {}").format(words.get(c, INDICATORS.get(c, (c,))[0]))
                   for f, c in zip(s["factor"], s["choice"])],
        "mean rank shift": s["mean_abs_rank_shift"].round(2).to_numpy(),
        "largest rank shift": s["max_abs_rank_shift"].astype("int64").to_numpy(),
        "share of districts moved": [f"{v:.0%}" for v in s["share_units_moved"]],
    })
