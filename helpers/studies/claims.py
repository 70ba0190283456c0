"""The claims from the field, each tested by one estimator specified once.

This registry is the single place where each claim's estimator is written down: its analysis
frame (which rows, which derived variables), its model (family, formula, fixed effects,
clustering, standard errors, finite-population correction), the design that justifies (or not)
causal language, and the ground-truth keys it estimates in the synthetic city. The notebooks
that publish a claim (02, 03, 04), the truth-recovery tests and the many-seed coverage study
(``bench/validate_coverage.py``) all fit :data:`CLAIMS` entries, so what is published is what is
validated.

The claims are those of ``shared/domain.md`` ("Claims from the field"): 1 the regional platform
and organisational coverage; 2 proximity to a service point; 3 joint-building agreements; 4
community capacity; 5 awareness -> participation -> satisfaction; 6 assessment versus
satisfaction; 7 small communities and noisy rates (a descriptive claim, tested in 01 and 06).

Use::

    from helpers.studies import claims
    fit = claims.CLAIMS["awareness"].fit(tables)          # the estimator's own result
    claims.CLAIMS["awareness"].estimates(fit)             # tidy rows with their truth keys
    claims.estimate(tables, ["awareness", "registration"])  # rows for the tests / coverage study

Why each specification is what it is (measured over many synthetic cities,
``bench/validate_coverage.py``) is said in its ``choice`` text, which the notebooks print.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from helpers.data import concepts
from helpers.data.load import study_years
from helpers.data.truth import truth_value
from helpers.stats import specs

__all__ = ["Claim", "CLAIMS", "DESIGNS", "estimate", "truth_keys", "beside_truth", "eight_haves_frame", "hazard_frame",
           "platform_inputs", "registration_frame", "truth_table"]

#: The designs behind the claims, and what they allow a report to say.
DESIGNS: dict[str, str] = {
    "staggered roll-out": (
        "staggered adoption of the platform by sub-district, compared with sub-districts not yet (or never) "
        "adopting; causal under parallel trends and no anticipation"),
    "within-community change": (
        "changes within the same community over the years, net of city-wide year effects; removes every stable "
        "difference between communities, but not changes that coincide with the exposure: an association"),
    "observational": (
        "cross-sectional comparison adjusted for the covariates and district effects named in the model: an "
        "association, not an effect"),
}




# ------------------------------------------------------------------ analysis frames (inputs)

def _respondents(tables: dict) -> tuple:
    return (concepts.resident_respondents(tables["survey"], tables["communities"]),)


def registration_frame(tables: dict) -> pd.DataFrame:
    """Community-years of :func:`helpers.data.concepts.member_panel` with ``hours_per_member`` (volunteer
    hours per in-service member resident; NaN where there are none)."""
    m = concepts.member_panel(tables["members"], tables["joint_building"], concepts.community_lookup(tables))
    n = m["in_service_resident"].to_numpy(float)
    hours = np.divide(m["volunteer_hours"].to_numpy(float), n, out=np.full(len(m), np.nan), where=n > 0)
    return m.assign(hours_per_member=hours)


def _registration(tables: dict) -> tuple:
    return (registration_frame(tables),)


def eight_haves_frame(service_points: pd.DataFrame, communities: pd.DataFrame) -> pd.DataFrame:
    """One row per service point: ``point_id, community_id, level, score`` (0-8 checklist items met),
    ``items`` (8), and ``funding_std``, ``staff_std``: the funding and staff of the point's community
    standardised over all communities, ``(x - mean) / sd`` with the population sd."""
    from helpers.data.schema import EIGHT_HAVES

    c = communities
    std = pd.DataFrame({
        "community_id": c["community_id"].to_numpy(),
        "funding_std": ((c["funding_10k_yuan"] - c["funding_10k_yuan"].mean())
                        / c["funding_10k_yuan"].std(ddof=0)).to_numpy(),
        "staff_std": ((c["staff"] - c["staff"].mean()) / c["staff"].std(ddof=0)).to_numpy(),
    })
    sp = pd.DataFrame(service_points[["point_id", "community_id", "level", *EIGHT_HAVES]])
    sp = sp.merge(std, on="community_id", how="left", validate="many_to_one")
    sp["score"] = sp[list(EIGHT_HAVES)].sum(axis=1).astype("int64")
    sp["items"] = len(EIGHT_HAVES)
    return sp[["point_id", "community_id", "level", "score", "items", "funding_std", "staff_std"]]


def _eight_haves(tables: dict) -> tuple:
    return (eight_haves_frame(tables["service_points"], tables["communities"]),)


def platform_inputs(tables: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(panel, adoption)`` for the event study: sub-district coverage (%) by year
    (:func:`helpers.data.concepts.coverage_panel`) and the platform table."""
    lookup = concepts.community_lookup(tables)
    org_years = concepts.organisation_years(tables["organisations"], lookup, study_years(tables))
    return concepts.coverage_panel(org_years, lookup, "subdistrict_id"), tables["platform"]


def hazard_frame(tables: dict) -> pd.DataFrame:
    """Organisation-years at risk of setting up a party organisation.

    At risk in year ``t``: active (:func:`helpers.data.concepts.organisation_years`) and without a
    party organisation before ``t``. ``event`` = 1 when it was set up in ``t``; ``treated`` = 1
    when the organisation's sub-district had adopted the platform by ``t``; ``log1p_members`` =
    log(1 + party members)."""
    lookup = concepts.community_lookup(tables)
    oy = concepts.organisation_years(tables["organisations"], lookup, study_years(tables))
    oy = oy[oy["covered_before"] == 0]
    adopt = pd.to_numeric(tables["platform"].set_index("subdistrict_id")["platform_year"], errors="coerce")
    py = oy["subdistrict_id"].map(adopt).astype("float64")
    return oy.assign(event=oy["new_cover"], treated=(py <= oy["year"]).astype(int),
                     log1p_members=np.log1p(oy["party_members"].astype(float))).reset_index(drop=True)


def _hazard(tables: dict) -> tuple:
    return (hazard_frame(tables),)


def _assessment(tables: dict) -> tuple:
    scores = tables["assessment"].groupby("community_id", as_index=False)["score"].mean()
    return scores, _respondents(tables)[0], int(scores["community_id"].nunique())


# ------------------------------------------------------------------ the registry

@dataclass(frozen=True)
class Claim:
    """One claim's estimator, specified once.

    Attributes
    ----------
    name : registry key.
    field_claims : the numbers of the field's claims it tests (``shared/domain.md``).
    statement : the claim as a sentence, for tables of verdicts.
    design : a key of :data:`DESIGNS`: what the comparison identifies.
    tables : the tables it needs.
    inputs : builds the estimator's inputs (a tuple of frames) from loaded tables.
    spec : the estimator (:mod:`helpers.stats.specs`).
    truth : result term -> ground-truth key of the synthetic city.
    choice : why this specification (measured coverage, alternatives tried).
    speed : ``"fast"`` or ``"slow"`` (slow ones get fewer replicates in the coverage study).
    labels : result term -> what it is, for a reader (tables of estimates beside the truth).
    design_based : for claims on the resident survey, the design-based counterpart of ``spec``
        (:class:`helpers.stats.specs.SurveyModelSpec`: the survey weights, strata, PSUs and
        finite-population correction of :data:`helpers.data.concepts.SURVEY_DESIGN`), fitted to the
        same inputs by :meth:`fit_design_based`; None where the data are not a sample survey.
    design_note : why the design-based specification is what it is (how it departs from ``spec``).
    min_years : the fewest years of data the estimator can use (2 for a within-unit comparison
        over time: with one year, community fixed effects absorb every difference).
    """

    name: str
    field_claims: tuple[int, ...]
    statement: str
    design: str
    tables: tuple[str, ...]
    inputs: Callable[[dict], tuple]
    spec: object
    truth: dict[str, str] = field(default_factory=dict)
    choice: str = ""
    speed: str = "fast"
    labels: dict[str, str] = field(default_factory=dict)
    design_based: object = None
    design_note: str = ""
    min_years: int = 1

    def unavailable(self, tables: dict) -> str | None:
        """Why the claim cannot be estimated from ``tables`` (a sentence fragment such as "the data have
        no members table"), or None when it can."""
        missing = [t for t in self.tables if t not in tables]
        if missing:
            return "the data have no " + " and no ".join(missing) + " table" + ("s" if len(missing) > 1 else "")
        if self.min_years > 1:
            frame = self.inputs(tables)[0]
            years = frame["year"].nunique() if "year" in frame else 1
            if years < self.min_years:
                return (f"it compares each unit with itself over time and the data hold {years} year"
                        f"{'' if years == 1 else 's'} (it needs at least {self.min_years})")
        return None

    def fit(self, tables: dict, **run):
        """Fit the estimator to loaded ``tables``; ``run`` passes settings such as ``seed`` (bootstraps)."""
        missing = [t for t in self.tables if t not in tables]
        if missing:
            raise KeyError(f"claim {self.name!r} needs the tables {', '.join(missing)}")
        args = self.inputs(tables)
        return self.spec.fit(*args, **run)

    def estimates(self, result) -> pd.DataFrame:
        """The tidy terms of ``result`` (``term, estimate, se, ci_low, ci_high, p``) with ``key``, the
        ground-truth key each term estimates (empty where none), and ``label``, what it is in words."""
        t = self.spec.terms(result)
        return t.assign(key=t["term"].map(self.truth).fillna(""),
                        label=t["term"].map(lambda x: self.labels.get(x, x)))

    def describe(self) -> str:
        return self.spec.describe()

    def fit_design_based(self, tables: dict, **run):
        """Fit the design-based counterpart (:attr:`design_based`) to the same inputs as :meth:`fit`."""
        if self.design_based is None:
            raise ValueError(f"claim {self.name!r} has no design-based specification (its data are not a sample "
                             "survey); claims that have one: "
                             + ", ".join(n for n, c in CLAIMS.items() if c.design_based is not None))
        missing = [t for t in self.tables if t not in tables]
        if missing:
            raise KeyError(f"claim {self.name!r} needs the tables {', '.join(missing)}")
        return self.design_based.fit(*self.inputs(tables), **run)

    def design_estimates(self, result) -> pd.DataFrame:
        """:meth:`estimates` of a :meth:`fit_design_based` result: ``term, estimate, se, ci_low,
        ci_high, p, key, label``."""
        t = self.design_based.terms(result)
        return t.assign(key=t["term"].map(self.truth).fillna(""),
                        label=t["term"].map(lambda x: self.labels.get(x, x)))


_SURVEY = ("survey", "communities", "community_boundaries")


def _design_based(formula: str, family: str) -> specs.SurveyModelSpec:
    # a stratum with one sampled PSU (possible in a small data folder) contributes its deviation from
    # the grand mean, R's options(survey.lonely.psu = "adjust"); with two or more PSUs per stratum it
    # changes nothing
    return specs.SurveyModelSpec(formula, family=family, design=concepts.SURVEY_DESIGN, lonely_psu="adjust")


_DISTRICT_STRATA = ("The same formula: the district dummies stay, districts being strata of the design, so both fits "
                    "compare respondents within districts and differ only in the weights and the variance.")

CLAIMS: dict[str, Claim] = {c.name: c for c in [
    Claim("platform_event_study", (1,), "The regional platform raises organisational coverage",
          "staggered roll-out", ("organisations", "platform", "community_boundaries"), platform_inputs,
          specs.EventStudySpec(unit="subdistrict_id", outcome="coverage", cohort="platform_year", control="notyet"),
          truth={**{f"e={e}": f"platform_att_by_event_time[{e}]" for e in range(4)}, "ATT": "platform_att"},
          labels={"e=0": "Platform effect on coverage in the adoption year (points)",
                  **{f"e={e}": f"Platform effect on coverage {e} year{'s' if e > 1 else ''} after adoption (points)"
                     for e in range(1, 4)},
                  "ATT": "Platform effect on coverage, average of the first four years (points)"}),
    Claim("platform_hazard", (1,), "Organisations in platform sub-districts set up party organisations sooner",
          "staggered roll-out", ("organisations", "platform", "community_boundaries"), _hazard,
          specs.GLMSpec("event ~ treated + log1p_members + C(year)", absorb="subdistrict_id",
                        cluster="subdistrict_id"),
          truth={"treated": "platform_logit_hazard"},
          labels={"treated": "Platform in place: log-odds ratio of setting up a party organisation"},
          choice=("Sub-district fixed effects absorb the spatial field's effect on the hazard and year effects the "
                  "drift of the at-risk population; standard errors are clustered by sub-district, the level at "
                  "which the platform is adopted. Sub-districts with no event carry no information under their "
                  "own fixed effect and are left out, as a conditional logit would.")),
    Claim("awareness", (2, 4), "Living near a service point raises awareness; a high migrant share lowers it",
          "observational", _SURVEY, _respondents,
          specs.GLMSpec("aware_center ~ within15 + band15_30 + migrant_share + C(district_id)",
                        cluster="community_id"),
          truth={"within15": "aware_within15_logit", "band15_30": "aware_15to30_logit",
                 "migrant_share": "aware_migrant_share_logit"},
          labels={"within15": "Awareness: reported walk of 15 minutes or less vs over 30 (log-odds ratio)",
                  "band15_30": "Awareness: reported walk of 15–30 minutes vs over 30 (log-odds ratio)",
                  "migrant_share": "Awareness: community migrant share, per unit (log-odds ratio)"},
          design_based=_design_based("aware_center ~ within15 + band15_30 + migrant_share + C(district_id)",
                                     "quasibinomial"),
          design_note=_DISTRICT_STRATA),
    Claim("participation", (4, 5), "Older communities and aware residents take part more",
          "observational", _SURVEY, _respondents,
          specs.GLMSpec("participated ~ aware_center + share_60plus + C(district_id)", family="gaussian",
                        cluster="community_id"),
          truth={"aware_center": "participate_aware_lpm", "share_60plus": "participate_share60_lpm"},
          labels={"aware_center": "Taking part: aware of the centre (difference in probability)",
                  "share_60plus": "Taking part: community share aged 60+, per unit (difference in probability)"},
          design_based=_design_based("participated ~ aware_center + share_60plus + C(district_id)", "gaussian"),
          design_note=_DISTRICT_STRATA),
    Claim("registration", (3,), "Joint-building agreements raise member registration",
          "within-community change", ("members", "joint_building", "community_boundaries"), _registration,
          specs.GLMSpec("registered ~ agreement_share + C(year)", trials="in_service_resident",
                        absorb="community_id", cluster="community_id"),
          truth={"agreement_share": "registration_agreement_logit"},
          labels={"agreement_share": "Registration: agreement share, per unit, within communities (log-odds ratio)"},
          min_years=2,
          choice=("A community's registration is compared with its own registration in other years, and year "
                  "effects take out what changed city-wide, so every stable trait of the community — including a "
                  "spatially smooth propensity to register that district or sub-district effects absorb only in "
                  "part — drops out. Checked on 200 simulated cities with a known effect, the 95% interval covered "
                  "it in 96.5% of them with community fixed effects, against 91.5% with district fixed effects, "
                  "under which that trait stays in the error and attenuates the coefficient.")),
    Claim("volunteering", (3,), "Joint-building agreements raise volunteering",
          "within-community change", ("members", "joint_building", "community_boundaries"), _registration,
          specs.GLMSpec("hours_per_member ~ agreement_share + C(year)", family="gaussian", absorb="community_id",
                        cluster="community_id"), min_years=2),
    Claim("eight_haves", (4,), "Funding and staff raise service-point quality", "observational",
          ("service_points", "communities"), _eight_haves,
          specs.GLMSpec("score ~ funding_std + staff_std", trials="items", variance="model"),
          truth={"funding_std": "eight_haves_funding_logit", "staff_std": "eight_haves_staff_logit"},
          labels={"funding_std": "Eight-haves items: community funding, per SD (log-odds ratio)",
                  "staff_std": "Eight-haves items: community staff, per SD (log-odds ratio)"},
          choice=("Model-based binomial standard errors: given a community's funding and staff the eight checklist "
                  "items are treated as independent, so the score is binomial. Clustered (sandwich) standard errors "
                  "can be too small when a few communities carry much of a regressor's leverage, as when funding is "
                  "skewed: checked on 200 simulated cities with a known effect and log-normal funding, the 95% "
                  "interval covered it in 92.5% of them with model-based standard errors, against 91.5% with "
                  "clustered ones.")),
    Claim("service_satisfaction", (2,), "Living near a service point raises satisfaction with service",
          "observational", _SURVEY, _respondents,
          specs.OrdinalSpec("sat_service ~ within15 + aware_center + C(district_id)"),
          truth={"within15": "sat_service_within15_ologit", "aware_center": "sat_service_aware_ologit"},
          labels={"within15": "Satisfaction with service: reported walk of 15 minutes or less (log-odds ratio)",
                  "aware_center": "Satisfaction with service: aware of the centre (log-odds ratio)"},
          speed="slow",
          design_based=_design_based("sat_service ~ within15 + aware_center + C(district_id)", "ordinal"),
          design_note=_DISTRICT_STRATA),
    Claim("satisfaction", (2, 5), "Participation, awareness and proximity go with higher satisfaction",
          "observational", _SURVEY, _respondents,
          specs.MixedSpec("sat_score ~ participated + aware_center + within15", group="district_id",
                          nested="community_id"),
          truth={"participated": "sat_participated", "aware_center": "sat_aware", "within15": "sat_within15",
                 "sd(district_id)": "sat_district_sd", "sd(community_id)": "sat_community_sd",
                 "sd(residual)": "sat_residual_sd"},
          labels={"participated": "Thermometer: took part (points)", "aware_center": "Thermometer: aware of the centre (points)",
                  "within15": "Thermometer: reported walk of 15 minutes or less (points)",
                  "sd(district_id)": "Thermometer: SD between districts (points)",
                  "sd(community_id)": "Thermometer: SD between communities within a district (points)",
                  "sd(residual)": "Thermometer: SD between residents within a community (points)"},
          speed="slow",
          design_based=_design_based("sat_score ~ participated + aware_center + within15 + C(district_id)",
                                     "gaussian"),
          design_note=("Random intercepts have no design-based counterpart: the district intercepts become district "
                       "dummies (districts are strata of the design) and the community intercepts are left out, the "
                       "design's primary sampling units (communities) carrying the likeness of neighbours into the "
                       "standard errors instead. The coefficients then estimate the population regression within "
                       "districts, with respondents weighted as sampled rather than communities weighted by their "
                       "precision.")),
    Claim("mediation", (5,), "Awareness works through participation", "observational", _SURVEY, _respondents,
          specs.MediationSpec("aware_center", "participated", "sat_score",
                              mediator_covariates=("share_60plus", "C(district_id)"),
                              outcome_covariates=("within15", "C(district_id)"), cluster="community_id",
                              strata="district_id"),
          truth={"indirect": "mediation_indirect", "direct": "mediation_direct"},
          labels={"indirect": "Awareness to thermometer, path through taking part (points)",
                  "direct": "Awareness to thermometer, direct path (points)",
                  "a": "Taking part: aware of the centre (difference in probability), path a",
                  "b": "Thermometer: took part (points), path b",
                  "total": "Awareness to thermometer, total (points)"}),
    Claim("assessment", (6,), "Top-down assessment scores track residents' satisfaction only weakly",
          "observational", ("assessment", *_SURVEY), _assessment,
          specs.CorrelationSpec("score", "sat_score", "community_id", finite_population=True),
          truth={"correlation": "assessment_satisfaction_corr"},
          labels={"correlation": "Correlation of assessment scores with residents' satisfaction"},
          choice=("The target is the correlation over every community of the city, and the survey reaches a "
                  "sizeable share of them, so the bootstrap interval carries the finite-population correction.")),
]}


def truth_keys(names=None) -> dict[str, tuple[str, ...]]:
    """Claim name -> the ground-truth keys it estimates (claims without any are left out)."""
    names = list(CLAIMS) if names is None else list(names)
    return {n: tuple(CLAIMS[n].truth.values()) for n in names if CLAIMS[n].truth}


def estimate(tables: dict, names=None, seed=None, truth: dict | None = None,
             design_based: bool = False) -> pd.DataFrame:
    """Fit the named claims (default: every claim with a ground-truth key) and return one row per
    ground-truth key: ``claim, key, term, estimate, se, ci_low, ci_high`` and, with ``truth``
    (a ground-truth dict), ``truth`` and ``covered`` (the truth inside the 95% interval).

    With ``design_based=True`` the claims' design-based specifications are fitted instead
    (:attr:`Claim.design_based`; default names: the claims with one and a ground-truth key)."""
    if names is None:
        names = [n for n in truth_keys() if not design_based or CLAIMS[n].design_based is not None]
    names = list(names)
    rows = []
    for n in names:
        if n not in CLAIMS:
            raise ValueError(f"unknown claim {n!r}; allowed: {', '.join(CLAIMS)}")
        c = CLAIMS[n]
        if design_based:
            est = c.design_estimates(c.fit_design_based(tables))
            rows.append(est[est["key"] != ""].assign(claim=n))
            continue
        run = {"seed": seed} if isinstance(c.spec, (specs.MediationSpec, specs.CorrelationSpec,
                                                     specs.EventStudySpec)) else {}
        est = c.estimates(c.fit(tables, **run))
        rows.append(est[est["key"] != ""].assign(claim=n))
    out = pd.concat(rows, ignore_index=True)[["claim", "key", "term", "estimate", "se", "ci_low", "ci_high"]]
    return out if truth is None else beside_truth(out, truth)


def beside_truth(rows: pd.DataFrame, truth: dict | None) -> pd.DataFrame | None:
    """Estimates beside the planted truth.

    ``rows`` has ``key`` (a ground-truth key, ``"name[e]"`` for an entry of a dict-valued effect),
    ``estimate``, ``ci_low``, ``ci_high`` (e.g. :meth:`Claim.estimates` of one or several fits).
    Returns the rows whose key the truth holds, with ``truth``, ``error`` (estimate minus truth)
    and ``covered`` (the truth inside the interval); ``None`` for real data (``truth`` is None)."""
    if truth is None:
        return None
    r = rows[rows["key"].astype(str) != ""].copy()
    r["truth"] = [truth_value(truth, k) for k in r["key"]]
    r = r[r["truth"].notna()].reset_index(drop=True)
    r["truth"] = r["truth"].astype(float)
    r["error"] = r["estimate"] - r["truth"]
    r["covered"] = (r["ci_low"] <= r["truth"]) & (r["truth"] <= r["ci_high"])
    return r


def truth_table(checks: pd.DataFrame) -> pd.DataFrame:
    """:func:`beside_truth` rows as a reader sees them: ``Effect``, ``Estimate (95% CI)``, ``Planted value``
    (at the estimate's precision) and ``Inside the interval``, which says when a planted value lies just
    outside an interval whose bound rounds to it (the printed numbers alone would suggest a hit)."""
    from helpers.publish import fmt

    inside = []
    for c, t, a, b, s in zip(checks["covered"], checks["truth"], checks["ci_low"], checks["ci_high"], checks["se"]):
        d = fmt.digits_for(s)
        at_bound = fmt.number(t, d) in (fmt.number(a, d), fmt.number(b, d))
        inside.append(fmt.yes_no(c) if c or not at_bound else "no (just outside: the bound rounds to it)")
    return pd.DataFrame({
        "Effect": checks["label"],
        "Estimate (95% CI)": [fmt.interval(e, a, b, se=s) for e, a, b, s in
                              zip(checks["estimate"], checks["ci_low"], checks["ci_high"], checks["se"])],
        "Planted value": [fmt.number(t, fmt.digits_for(s)) for t, s in zip(checks["truth"], checks["se"])],
        "Inside the interval": inside})
