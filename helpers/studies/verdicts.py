"""The collection's decision rules, stated once and used by every report.

Three questions recur across the reports, and each has one rule here, so that a district is
never "below the city" on one page and "no different" on another, and a claim is never called
an effect where the design only shows an association.

1. **Does a unit differ from the city?** (:data:`UNIT_RULE`, :func:`unit_verdicts`) A unit
   differs when its value lies outside the *overdispersion-adjusted* 95% funnel limits around
   the city value (Spiegelhalter 2005): outside them, the gap is larger than chance and than the
   ordinary variation between units. Administrative rates use the proportion funnel (exact
   binomial limits widened for overdispersion), and a unit of a handful of cases must also fail an
   exact binomial test (:func:`rate_verdicts`); survey estimates use the funnel of estimates with
   their design-based standard errors, centred on the city's design-based estimate. Verdicts are
   ``"above"``, ``"below"`` or ``"not distinguishable"``.
2. **Where does a unit rank?** (:data:`RANK_RULE`, :func:`rank_statement`) A unit is given a
   rank only when its 95% rank interval is a single rank; otherwise the interval is stated
   ("between 2nd and 7th of 12"), and no unit is called best or worst.
3. **What does an estimate say about a claim?** (:func:`claim_verdict`) The words depend on the
   design (:data:`helpers.studies.claims.DESIGNS`): only the staggered roll-out identifies an
   effect ("supported": the effect is positive); every other design yields an association
   ("consistent with the claim", "no evidence either way", "contrary to the claim").
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from helpers.publish import fmt
from helpers.stats import compare

__all__ = ["UNIT_RULE", "RANK_RULE", "LEVEL", "CAUSAL_DESIGNS", "unit_verdicts", "rate_verdicts",
           "estimate_verdicts", "rank_statement", "claim_verdict", "claims_table", "VERDICT_WORDS", "stated",
           "clear_stated", "STATED_FILE"]

#: The confidence level of every verdict.
LEVEL = 0.95
UNIT_RULE = ("A district or sub-district is said to differ from the city only when it lies outside the "
             "overdispersion-adjusted 95% funnel limits around the city value (Spiegelhalter 2005): beyond them the "
             "gap is larger than chance and the ordinary variation between units would produce.")
RANK_RULE = ("A unit is given a rank only when its 95% rank interval is a single rank; otherwise the interval "
             "of plausible ranks is stated, and no unit is called best or worst.")
#: Designs that identify an effect (causal wording allowed); see helpers.studies.claims.DESIGNS.
CAUSAL_DESIGNS = frozenset({"staggered roll-out"})
_SIDE = {"high": "above", "low": "below", "": "not distinguishable"}


def unit_verdicts(res: compare.FunnelResult, level: float = LEVEL) -> pd.DataFrame:
    """``unit, value, n, lower, upper, verdict`` from a funnel result: the overdispersion-adjusted
    limits at ``level`` and the verdict ``"above"``, ``"below"`` or ``"not distinguishable"``."""
    tag = f"{100 * level:g}".replace(".", "_")
    t = res.table
    return pd.DataFrame({"unit": t["unit"].to_numpy(), "value": t["value"].to_numpy(float),
                         "n": t["n"].to_numpy(float), "lower": t[f"lower_od_{tag}"].to_numpy(float),
                         "upper": t[f"upper_od_{tag}"].to_numpy(float),
                         "verdict": t[f"flag_od_{tag}"].map(_SIDE).to_numpy()})


def rate_verdicts(data: pd.DataFrame, numerator: str, denominator: str, unit: str, level: float = LEVEL,
                  scale: float = 1.0, measure: str | None = None, year: int | None = None
                  ) -> tuple[compare.FunnelResult, pd.DataFrame]:
    """Funnel of an administrative rate (``numerator / denominator`` per ``unit``, target the pooled city
    rate) and its :func:`unit_verdicts`. Returns ``(funnel, verdicts)``.

    A unit differs from the city when its rate lies outside the overdispersion-adjusted limits *and*
    an exact binomial test at the same level rejects the city rate for it: neither the ordinary
    variation between units nor chance accounts for it. For all but the smallest units the second
    condition is implied by the first; for units of a handful of cases it is not, because the
    adjusted limits are a normal approximation on the arcsine scale, which at 0 of 3 or 3 of 3
    would call a rate that chance gives one time in eight "below" or "above" the city. The returned
    funnel's adjusted limits are widened accordingly - never narrower than the exact binomial
    quantiles ``r/n`` - in its table (``lower_od_<tag>``, ``upper_od_<tag>``, ``flag_od_<tag>``) and
    in the curves it draws, so a funnel plot colours exactly the units the verdicts name, outside
    the adjusted lines it shows.

    ``scale`` multiplies rates and limits (100 for a funnel plot in percent; the verdicts do not
    depend on it). Units with a zero denominator are left out. The verdicts carry one more column,
    ``chance``: the verdict of the exact binomial test alone (what chance alone, without the
    variation between units, would single out).

    With ``measure`` (a glossary key) and ``year``, the verdicts are also stated for the site-wide
    consistency check (:func:`stated`).
    """
    res = compare.funnel_proportion(data, numerator, denominator, unit, levels=(level, 0.998), scale=scale)
    p0, base = res.target / scale, res.limits

    def exact(nn, q):  # the exact binomial quantile as a rate: a rate beyond it fails the exact test
        nn = np.asarray(nn, float)
        return _binom_ppf(q, nn, p0) / nn * scale

    def curve(nn) -> pd.DataFrame:
        lim = base(nn).copy()
        for lev in res.levels:
            tag, tail = _tag(lev), (1 - lev) / 2
            lim[f"lower_od_{tag}"] = np.minimum(lim[f"lower_od_{tag}"], exact(nn, tail))
            lim[f"upper_od_{tag}"] = np.maximum(lim[f"upper_od_{tag}"], exact(nn, 1 - tail))
        return lim

    t = res.table.copy()
    lim = curve(t["n"].to_numpy(float))
    value = t["value"].to_numpy(float)
    for lev in res.levels:
        tag, tail = _tag(lev), (1 - lev) / 2
        lo, hi = lim[f"lower_od_{tag}"].to_numpy(), lim[f"upper_od_{tag}"].to_numpy()
        t[f"lower_od_{tag}"], t[f"upper_od_{tag}"] = lo, hi
        t[f"flag_od_{tag}"] = np.where(value > hi, "high", np.where(value < lo, "low", ""))
        n = t["n"].to_numpy(float)
        t[f"chance_{tag}"] = np.where(value > exact(n, 1 - tail), "high",
                                      np.where(value < exact(n, tail), "low", ""))
    res = dataclasses.replace(res, table=t, _curve=curve)
    out = unit_verdicts(res, level)
    out["chance"] = t[f"chance_{_tag(level)}"].map(_SIDE).to_numpy()
    _state(out, unit, measure, year)
    return res, out


def _tag(level: float) -> str:
    return f"{100 * level:g}".replace(".", "_")


def _binom_ppf(q, n, p):
    from scipy import stats

    return stats.binom.ppf(q, n, p)


def estimate_verdicts(data: pd.DataFrame, estimate: str, se: str, unit: str, city: float, level: float = LEVEL,
                      measure: str | None = None, year: int | None = None
                      ) -> tuple[compare.FunnelResult, pd.DataFrame]:
    """Funnel of survey estimates (``estimate`` with design-based ``se`` per ``unit``) around the city's
    design-based estimate ``city``, and its :func:`unit_verdicts`. Returns ``(funnel, verdicts)``.
    ``measure`` and ``year`` as in :func:`rate_verdicts`."""
    res = compare.funnel_estimate(data, estimate, se, unit, target=city, levels=(level, 0.998))
    v = unit_verdicts(res, level)
    _state(v, unit, measure, year)
    return res, v


#: Verdicts stated by the running report: (measure, unit column, unit, year) -> verdict.
_STATED: dict[tuple, str] = {}
#: File, beside a report's data files, listing the verdicts it states (read by the consistency test).
STATED_FILE = "verdicts.csv"


def _state(v: pd.DataFrame, unit: str, measure: str | None, year: int | None) -> None:
    if measure is None:
        return
    for u, verdict in zip(v["unit"], v["verdict"]):
        _STATED[(measure, unit, str(u), None if year is None else int(year))] = verdict
    _write_stated()


def stated() -> pd.DataFrame:
    """The verdicts this report has stated: ``measure, level, unit, year, verdict``."""
    return pd.DataFrame([{"measure": m, "level": lv, "unit": u, "year": y, "verdict": v}
                         for (m, lv, u, y), v in _STATED.items()],
                        columns=["measure", "level", "unit", "year", "verdict"])


def _write_stated() -> None:
    """Under the build (``$HELPERS_REPORT_ASSETS`` set), write :func:`stated` beside the report's data."""
    import os

    from helpers.publish.report import ASSETS_ENV

    folder = os.environ.get(ASSETS_ENV)
    if folder:
        os.makedirs(folder, exist_ok=True)
        stated().to_csv(os.path.join(folder, STATED_FILE), index=False, lineterminator="\n")


def clear_stated() -> None:
    """Forget the stated verdicts (the build calls it between reports run in one kernel)."""
    _STATED.clear()


def rank_statement(rank: int, low: int, high: int, n_units: int) -> str:
    """The rank a reader may be told, under :data:`RANK_RULE`: ``"3rd of 12"`` when the interval is the
    single rank, else ``"between 2nd and 7th of 12"``."""
    low, high = int(low), int(high)
    if low == high:
        return f"{fmt.ordinal(low)} of {n_units}"
    return f"between {fmt.ordinal(low)} and {fmt.ordinal(high)} of {n_units}"


#: The verdict words by kind of design: (positive, null, negative).
VERDICT_WORDS = {"causal": ("supported", "inconclusive", "contradicted"),
                 "association": ("consistent with the claim", "no evidence either way", "contrary to the claim")}


def claim_verdict(low: float, high: float, design: str, direction: int = 1, null: float = 0.0) -> str:
    """The verdict on a claim from the interval ``(low, high)`` of its estimate.

    ``direction`` is +1 when the claim says the effect is positive, -1 when negative. With a design
    in :data:`CAUSAL_DESIGNS` the words are those of an effect (supported / inconclusive /
    contradicted); otherwise those of an association (consistent with the claim / no evidence
    either way / contrary to the claim)."""
    pos, nul, neg = VERDICT_WORDS["causal" if design in CAUSAL_DESIGNS else "association"]
    lo, hi = sorted((float(low), float(high)))
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return nul
    if direction > 0:
        return pos if lo > null else (neg if hi < null else nul)
    return pos if hi < null else (neg if lo > null else nul)


def claims_table(rows: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The table of claims a report tests, in words a reader can use.

    Each row is a dict with ``claim`` (the claim as a sentence), ``estimate``, ``ci`` (low, high),
    ``unit`` (how the estimate is expressed), ``design`` (a key of
    :data:`helpers.studies.claims.DESIGNS`), optional ``direction`` (+1 / -1) and ``digits``.
    Returns ``(shown, data)``: ``shown`` has the columns ``Claim``, ``Design``, ``Estimate (95% CI)``,
    ``Verdict`` as text, ``data`` the raw numbers (``claim, design, estimate, ci_low, ci_high, unit,
    verdict``) for the downloadable file."""
    shown, data = [], []
    for r in rows:
        lo, hi = r["ci"]
        v = claim_verdict(lo, hi, r["design"], r.get("direction", 1))
        est = fmt.interval(r["estimate"], lo, hi, digits=r.get("digits"))
        shown.append({"Claim": r["claim"], "Design": _DESIGN_SHORT.get(r["design"], r["design"]),
                      "Estimate (95% CI)": f"{est} {r.get('unit', '')}".strip(), "Verdict": v})
        data.append({"claim": r["claim"], "design": r["design"], "estimate": r["estimate"], "ci_low": lo,
                     "ci_high": hi, "unit": r.get("unit", ""), "verdict": v})
    return pd.DataFrame(shown), pd.DataFrame(data)


_DESIGN_SHORT = {"staggered roll-out": "staggered roll-out (effect)",
                 "within-community change": "within-community change (association)",
                 "observational": "cross-section (association)"}
