"""Design-based survey estimation that matches R's ``survey`` package.

- :mod:`~helpers.stats.survey.design` - :class:`SurveyDesign`: a stratified multi-stage design
  (weights, strata, PSUs, finite-population corrections) and its descriptive estimators (means,
  totals, ratios, proportions by domain) with Taylor-linearised standard errors, and the
  covariance of linearised totals that every other estimator rests on.
- :mod:`~helpers.stats.survey.regression` - :class:`SurveyGLM` / :func:`svyglm`: design-based
  generalised linear models with sandwich SEs and predictions.
- :mod:`~helpers.stats.survey.ordinal` - :func:`svyolr`: design-based proportional-odds models.
- :mod:`~helpers.stats.survey.contrast` - :class:`Estimates` (estimates by domain with their full
  covariance, ``design.mean(..., covmat=True)``) and :func:`svycontrast` (linear and nonlinear
  contrasts).
- :mod:`~helpers.stats.survey.testing` - :func:`svychisq` (Rao-Scott tests of independence) and
  :func:`svyttest` (design-based t-tests).
- :mod:`~helpers.stats.survey.replicates` - :class:`ReplicateDesign` (replicate-weight designs,
  R's ``svrepdesign``) and :func:`as_replicate_design` (R's ``as.svrepdesign``: JK1, JKn, BRR,
  Fay, bootstrap), with the same estimators and a hook to replicate any weighted statistic.
- :mod:`~helpers.stats.survey.quantiles` - :func:`quantile` (R's ``svyquantile``): quantile rules
  and confidence intervals for Taylor, replicate and calibrated designs.
- :mod:`~helpers.stats.survey.calibration` - :func:`post_stratify`, :func:`rake`, :func:`calibrate`
  (linear, raking, logit) and :func:`trim_weights`, returning a :class:`CalibratedDesign` whose
  estimators use the calibrated weights and variance (R's ``postStratify``, ``rake``, ``calibrate``,
  ``trimWeights``).
- :mod:`~helpers.stats.survey.hadamard` - Hadamard matrices as R chooses them for BRR.
"""
from helpers.stats.survey.calibration import (CalibratedDesign, CalibrationError, calibrate, post_stratify, rake,
                                              trim_weights)
from helpers.stats.survey.contrast import Estimates, domain_estimates, svycontrast
from helpers.stats.survey.design import LonelyPSUError, SurveyDesign
from helpers.stats.survey.ordinal import SurveyOLRResult, svyolr
from helpers.stats.survey.quantiles import quantile
from helpers.stats.survey.regression import SurveyGLM, SurveyGLMResult, svyglm
from helpers.stats.survey.replicates import ReplicateDesign, ReplicateResult, as_replicate_design
from helpers.stats.survey.testing import ChisqTest, TTest, svychisq, svyttest

__all__ = ["SurveyDesign", "LonelyPSUError", "SurveyGLM", "SurveyGLMResult", "svyglm", "Estimates",
           "domain_estimates", "svycontrast", "svychisq", "svyttest", "ChisqTest", "TTest", "svyolr", "SurveyOLRResult",
           "ReplicateDesign", "ReplicateResult", "as_replicate_design", "quantile", "CalibratedDesign",
           "CalibrationError", "calibrate", "post_stratify", "rake", "trim_weights"]
