"""Estimators written down once: a specification is declared, then fitted.

A specification holds every choice that defines an estimate - the model family, the formula,
the fixed effects, the variance (clustering, model-based), the bootstrap - and nothing about
the data it will meet, in the way statsmodels separates a model from its fit. One
specification object is what a report publishes, what a test checks against a planted truth
and what a coverage study repeats over many simulated datasets, so the three cannot drift.

Every class has the same three methods:

* ``fit(*inputs, **run)`` - fit to the inputs (frames) and return the estimator's own result
  (``run`` holds settings that do not change the estimand, such as a bootstrap seed);
* ``terms(result)`` - a tidy frame ``term, estimate, se, ci_low, ci_high, p`` of that result;
* ``describe()`` - the specification in one sentence, for a report's methods text.

Classes: :class:`GLMSpec` (binomial and gaussian GLMs, cluster-robust or model-based),
:class:`OrdinalSpec` (proportional odds), :class:`MixedSpec` (linear mixed model with variance
components), :class:`EventStudySpec` (Callaway-Sant'Anna), :class:`MediationSpec` (product of
coefficients, cluster bootstrap), :class:`CorrelationSpec` (disattenuated correlation of a
unit-level score with noisy unit means) and :class:`SurveyModelSpec` (design-based regression of
survey microdata: R's ``svyglm`` and ``svyolr``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from helpers.stats import models

__all__ = ["GLMSpec", "OrdinalSpec", "MixedSpec", "EventStudySpec", "MediationSpec", "CorrelationSpec",
           "SurveyModelSpec", "TERM_COLUMNS"]

#: The columns of every ``terms()`` frame.
TERM_COLUMNS = ["term", "estimate", "se", "ci_low", "ci_high", "p"]


def _by(name: str | None) -> str:
    return name.replace("_id", "").replace("_", "-") if name else ""


@dataclass(frozen=True)
class GLMSpec:
    """A binomial (logit) or gaussian (least-squares) GLM.

    Attributes
    ----------
    formula : patsy formula, e.g. ``"aware_center ~ within15 + C(district_id)"``.
    family : ``"binomial"`` (logit link; a 0/1 outcome, or successes out of ``trials``) or
        ``"gaussian"`` (OLS, e.g. a linear probability model).
    trials : column of trials for a binomial outcome given as successes.
    absorb : a categorical column whose fixed effects are absorbed (see
        :func:`helpers.stats.models.binomial_glm` and :func:`helpers.stats.models.ols`).
    cluster : column defining clusters for the sandwich variance (t intervals on G - 1 df).
    variance : ``"cluster"`` (sandwich by ``cluster``) or ``"model"`` (the model-based variance;
        binomial only).
    """

    formula: str
    family: str = "binomial"
    trials: str | None = None
    absorb: str | None = None
    cluster: str | None = None
    variance: str = "cluster"

    def __post_init__(self):
        if self.family not in ("binomial", "gaussian"):
            raise ValueError(f"family {self.family!r}: allowed 'binomial', 'gaussian'")
        if self.variance not in ("cluster", "model"):
            raise ValueError(f"variance {self.variance!r}: allowed 'cluster', 'model'")
        if self.variance == "cluster" and self.cluster is None:
            raise ValueError("variance='cluster' needs a cluster column")

    def fit(self, data: pd.DataFrame, level: float = 0.95) -> models.ModelResult:
        """Fit to ``data``; returns a :class:`helpers.stats.models.ModelResult`."""
        if self.family == "binomial":
            if self.variance == "model":
                return models.binomial_glm(data, self.formula, trials=self.trials, cluster=None, robust=False,
                                           absorb=self.absorb, level=level)
            return models.binomial_glm(data, self.formula, trials=self.trials, cluster=self.cluster,
                                       absorb=self.absorb, level=level)
        return models.ols(data, self.formula, cluster=None if self.variance == "model" else self.cluster, level=level,
                          absorb=self.absorb)

    def terms(self, result: models.ModelResult) -> pd.DataFrame:
        return result.terms[TERM_COLUMNS].reset_index(drop=True)

    def describe(self) -> str:
        kind = "logistic regression (binomial GLM)" if self.family == "binomial" else "linear regression (OLS)"
        fe = [f"{_by(c)} fixed effects" for c in _fixed_effects(self.formula)]
        if self.absorb:
            fe.insert(0, f"{_by(self.absorb)} fixed effects")
        var = (f"standard errors clustered by {_by(self.cluster)} (t intervals)" if self.variance == "cluster"
               else "model-based standard errors")
        return f"{kind} of {self.formula}" + (f" with {' and '.join(fe)}" if fe else "") + f"; {var}"


def _fixed_effects(formula: str) -> list[str]:
    import re

    return re.findall(r"C\(([A-Za-z_][A-Za-z0-9_]*)\)", formula.split("~", 1)[1])


@dataclass(frozen=True)
class OrdinalSpec:
    """A proportional-odds (ordered logit) model of an ordinal item, e.g. a 1-5 rating.

    Attributes: ``formula``, ``distr`` (``"logit"``), ``cluster`` (None: model-based SEs)."""

    formula: str
    distr: str = "logit"
    cluster: str | None = None

    def fit(self, data: pd.DataFrame, level: float = 0.95) -> models.ModelResult:
        return models.ordinal_logit(data, self.formula, distr=self.distr, cluster=self.cluster, level=level)

    def terms(self, result: models.ModelResult) -> pd.DataFrame:
        return result.terms[TERM_COLUMNS].reset_index(drop=True)

    def describe(self) -> str:
        fe = [f"{_by(c)} dummies" for c in _fixed_effects(self.formula)]
        return (f"proportional-odds ({self.distr}) model of {self.formula}" + (f" with {' and '.join(fe)}" if fe else "")
                + ("; model-based standard errors" if self.cluster is None
                   else f"; standard errors clustered by {_by(self.cluster)}"))


@dataclass(frozen=True)
class MixedSpec:
    """A linear mixed model with random intercepts for ``group`` and a nested variance component.

    ``terms()`` adds the standard deviations of the random effects and the residual as terms
    ``sd(<group>)``, ``sd(<nested>)`` and ``sd(residual)`` with chi-square intervals
    (:func:`helpers.stats.models.variance_components`)."""

    formula: str
    group: str
    nested: str | None = None
    reml: bool = True

    def fit(self, data: pd.DataFrame, level: float = 0.95) -> models.ModelResult:
        return models.mixed_model(data, self.formula, group=self.group, nested=self.nested, level=level,
                                  reml=self.reml)

    def terms(self, result: models.ModelResult) -> pd.DataFrame:
        fixed = result.terms[result.terms["se"].notna()][TERM_COLUMNS]
        sds = models.variance_components(result, self.group, self.nested)
        sds = sds.assign(p=np.nan)[TERM_COLUMNS]
        return pd.concat([fixed, sds], ignore_index=True)

    def describe(self) -> str:
        re_ = f"random intercepts for {_by(self.group)}s" + (f" and {_by(self.nested)}s within them" if self.nested
                                                             else "")
        return (f"linear mixed model of {self.formula} with {re_} ({'REML' if self.reml else 'ML'}); Wald "
                "intervals for the coefficients, chi-square intervals for the standard deviations")


@dataclass(frozen=True)
class EventStudySpec:
    """A Callaway-Sant'Anna event study of a staggered adoption (:func:`helpers.stats.eventstudy.event_study`).

    ``fit(panel, adoption)``; ``terms()`` has one row per event time (``"e=<k>"``) and the average
    over ``post_window`` (``"ATT"``)."""

    unit: str
    outcome: str
    cohort: str
    time: str = "year"
    control: str = "notyet"
    post_window: tuple[int, int] = (0, 3)
    se: str = "analytic"

    def fit(self, panel: pd.DataFrame, adoption: pd.DataFrame, level: float = 0.95, seed=None):
        from helpers.stats import eventstudy

        return eventstudy.event_study(panel, adoption, unit=self.unit, time=self.time, outcome=self.outcome,
                                      cohort=self.cohort, control=self.control, post_window=self.post_window,
                                      se=self.se, seed=seed, level=level)

    def terms(self, result) -> pd.DataFrame:
        b = result.by_event_time.assign(term=[f"e={int(e)}" for e in result.by_event_time["event_time"]])
        o = result.overall.assign(term="ATT")
        return pd.concat([b[TERM_COLUMNS], o[TERM_COLUMNS]], ignore_index=True)

    def describe(self) -> str:
        ctl = "not-yet and never treated" if self.control == "notyet" else "never treated"
        lo, hi = self.post_window
        return (f"Callaway-Sant'Anna event study of {self.outcome} by {_by(self.unit)} and {self.time}, {ctl} "
                f"controls, base period the year before adoption, the average effect over event times {lo} to {hi}; "
                f"{'analytic influence-function' if self.se == 'analytic' else 'bootstrap'} standard errors "
                f"clustered by {_by(self.unit)}")


@dataclass(frozen=True)
class MediationSpec:
    """Product-of-coefficients mediation with a cluster bootstrap (:func:`helpers.stats.mediation.mediation`).

    ``terms()`` has rows ``a``, ``b``, ``indirect``, ``direct``, ``total``."""

    treatment: str
    mediator: str
    outcome: str
    mediator_covariates: tuple[str, ...] = ()
    outcome_covariates: tuple[str, ...] = ()
    cluster: str = "community_id"
    strata: str | None = None
    n_boot: int = 999

    def fit(self, data: pd.DataFrame, level: float = 0.95, seed=None, n_boot: int | None = None):
        from helpers.stats import mediation

        return mediation.mediation(data, self.treatment, self.mediator, self.outcome,
                                   mediator_covariates=list(self.mediator_covariates),
                                   outcome_covariates=list(self.outcome_covariates), cluster=self.cluster,
                                   strata=self.strata, n_boot=self.n_boot if n_boot is None else n_boot, seed=seed,
                                   level=level)

    def terms(self, result) -> pd.DataFrame:
        return result.terms[TERM_COLUMNS].reset_index(drop=True)

    def describe(self) -> str:
        return (f"{self.mediator} on {self.treatment} and {self.outcome} on {self.mediator} and {self.treatment} "
                f"(least squares), indirect effect = product of the two coefficients; percentile intervals from "
                f"{self.n_boot:,} bootstrap replicates resampling {_by(self.cluster)}s"
                + (f" within {_by(self.strata)}s" if self.strata else ""))


@dataclass(frozen=True)
class CorrelationSpec:
    """Correlation of a unit-level score ``x`` with the true unit means of a noisy survey item ``y``,
    disattenuated for the sampling noise of the means (:func:`helpers.stats.models.latent_mean_correlation`).

    ``fit(units, micro, n_population=None)``; with ``finite_population=True`` the bootstrap
    interval gets the finite-population correction for the share of all units sampled
    (``n_population``, required then). ``terms()`` has one row ``"correlation"``; its ``se`` is
    the interval's half-width over the normal quantile."""

    x: str
    y: str
    unit: str
    n_boot: int = 999
    finite_population: bool = False

    def fit(self, units: pd.DataFrame, micro: pd.DataFrame, n_population: int | None = None, level: float = 0.95,
            seed=None, n_boot: int | None = None) -> dict:
        if self.finite_population and n_population is None:
            raise ValueError("finite_population=True needs n_population (the number of units in the population)")
        return models.latent_mean_correlation(units, self.x, micro, self.y, self.unit,
                                              n_boot=self.n_boot if n_boot is None else n_boot, level=level,
                                              seed=seed,
                                              n_population=n_population if self.finite_population else None)

    def terms(self, result: dict, level: float = 0.95) -> pd.DataFrame:
        q = stats.norm.ppf(0.5 + level / 2)
        return pd.DataFrame([{"term": "correlation", "estimate": result["estimate"],
                              "se": (result["ci_high"] - result["ci_low"]) / (2 * q), "ci_low": result["ci_low"],
                              "ci_high": result["ci_high"], "p": np.nan}])

    def describe(self) -> str:
        return (f"correlation of {self.x} with the {_by(self.unit)} means of {self.y}, corrected for the sampling noise "
                f"of the means (Spearman's disattenuation); percentile interval from {self.n_boot:,} bootstrap "
                f"replicates resampling {_by(self.unit)}s"
                + (" with the finite-population correction" if self.finite_population else ""))



#: Families of :class:`SurveyModelSpec`: those of :func:`helpers.stats.survey.svyglm`, and ``"ordinal"``.
SURVEY_FAMILIES = ("gaussian", "binomial", "quasibinomial", "poisson", "quasipoisson", "ordinal")


@dataclass(frozen=True)
class SurveyModelSpec:
    """A design-based regression of survey microdata: R's ``svyglm`` or, for ``family="ordinal"``,
    ``svyolr`` (proportional odds, logistic).

    The coefficients solve the survey-weighted score equations (they estimate the regression
    that would be fitted to the whole population) and their standard errors are
    Taylor-linearised through the sampling design: PSU totals of the estimating functions within
    strata, with the finite-population correction (:mod:`helpers.stats.survey.regression`,
    :mod:`helpers.stats.survey.ordinal`). Rows missing a model variable are left out of the fit
    but kept in the design (R's ``na.omit`` on a design).

    Attributes
    ----------
    formula : ``"y ~ x1 + C(g)"`` (formulaic syntax; ``C()`` columns are coded against their
        first sorted level, as R codes a factor).
    family : one of :data:`SURVEY_FAMILIES`.
    design : the sampling design in columns of the data: ``weight``, ``strata`` (a column or a
        tuple of columns, crossed), ``psu`` and ``fpc`` (e.g.
        :data:`helpers.data.concepts.SURVEY_DESIGN`).
    lonely_psu : what a stratum with one PSU contributes to the variance (R's
        ``options(survey.lonely.psu=)``: ``"fail"``, ``"adjust"``, ``"average"``, ...).
    """

    formula: str
    family: str = "gaussian"
    design: dict | None = None
    lonely_psu: str = "fail"

    def __post_init__(self):
        if self.family not in SURVEY_FAMILIES:
            raise ValueError(f"family {self.family!r}: allowed {', '.join(map(repr, SURVEY_FAMILIES))}")
        if not self.design or "weight" not in self.design:
            raise ValueError("SurveyModelSpec needs design= a dict with at least 'weight' (and 'strata', 'psu', "
                             "'fpc' where the survey has them)")

    def survey_design(self, data: pd.DataFrame):
        """The :class:`helpers.stats.survey.SurveyDesign` of ``data`` (respondents) under this design."""
        from helpers.stats.survey import SurveyDesign

        d = self.design

        def cols(v):
            return list(v) if isinstance(v, (tuple, list)) else v

        return SurveyDesign(data, weight=d["weight"], strata=cols(d.get("strata")), psu=cols(d.get("psu")),
                            fpc=cols(d.get("fpc")), lonely_psu=self.lonely_psu)

    def fit(self, data: pd.DataFrame, level: float = 0.95):
        """Fit to ``data`` (one row per respondent, with the design's columns).

        Returns
        -------
        :class:`helpers.stats.survey.SurveyGLMResult` (``family`` of svyglm) or
        :class:`helpers.stats.survey.SurveyOLRResult` (``"ordinal"``): ``.terms`` (``term,
        estimate, se, ci_low, ci_high, p, df``, t intervals on the design's residual df),
        ``.vcov``, ``.nobs``, ``.contrast()``.
        """
        from helpers.stats.survey import svyglm, svyolr

        design = self.survey_design(data)
        if self.family == "ordinal":
            return svyolr(design, self.formula, level=level)
        return svyglm(design, self.formula, self.family, level=level)

    def terms(self, result) -> pd.DataFrame:
        return result.terms[TERM_COLUMNS].reset_index(drop=True)

    def describe(self) -> str:
        link = "logistic" if "binomial" in self.family else "log-linear" if "poisson" in self.family else "linear"
        kind = ("design-based proportional-odds (logit) model" if self.family == "ordinal" else
                f"design-based {link} regression ({self.family} svyglm)")
        fe = [f"{_by(c)} dummies" for c in _fixed_effects(self.formula)]
        d = self.design
        parts = [f"weights {d['weight']}"]
        if d.get("strata"):
            st = d["strata"]
            parts.append("strata " + (" x ".join(_by(c) for c in st) if isinstance(st, (tuple, list)) else _by(st)))
        if d.get("psu"):
            parts.append(f"PSUs {_by(d['psu']) if isinstance(d['psu'], str) else ', '.join(map(_by, d['psu']))}")
        if d.get("fpc"):
            parts.append("finite-population correction")
        return (f"{kind} of {self.formula}" + (f" with {' and '.join(fe)}" if fe else "")
                + f"; Taylor-linearised standard errors from the design ({', '.join(parts)}), t intervals on the "
                  "design's degrees of freedom")
