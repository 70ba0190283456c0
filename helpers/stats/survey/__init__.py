"""Design-based survey estimation that matches R's ``survey`` package.

- :mod:`~helpers.stats.survey.design` - :class:`SurveyDesign`: a stratified multi-stage design
  (weights, strata, PSUs, finite-population corrections) and its descriptive estimators (means,
  totals, ratios, proportions by domain) with Taylor-linearised standard errors.
- :mod:`~helpers.stats.survey.replicates` - :class:`ReplicateDesign` (replicate-weight designs,
  R's ``svrepdesign``) and :func:`as_replicate_design` (R's ``as.svrepdesign``: JK1, JKn, BRR,
  Fay, bootstrap), with the same estimators and a hook to replicate any weighted statistic.
- :mod:`~helpers.stats.survey.quantiles` - :func:`quantile` (R's ``svyquantile``): quantile rules
  and confidence intervals for Taylor and replicate designs.
- :mod:`~helpers.stats.survey.calibration` - :func:`post_stratify`, :func:`rake`, :func:`calibrate`
  (linear, raking, logit) and :func:`trim_weights`, returning a :class:`CalibratedDesign` whose
  estimators use the calibrated weights and variance (R's ``postStratify``, ``rake``, ``calibrate``,
  ``trimWeights``).
- :mod:`~helpers.stats.survey.hadamard` - Hadamard matrices as R chooses them for BRR.
"""
from helpers.stats.survey.calibration import (CalibratedDesign, CalibrationError, calibrate, post_stratify, rake,
                                              trim_weights)
from helpers.stats.survey.design import LonelyPSUError, SurveyDesign
from helpers.stats.survey.quantiles import quantile
from helpers.stats.survey.replicates import ReplicateDesign, ReplicateResult, as_replicate_design

__all__ = ["SurveyDesign", "LonelyPSUError", "ReplicateDesign", "ReplicateResult", "as_replicate_design",
           "quantile", "CalibratedDesign", "CalibrationError", "calibrate", "post_stratify", "rake", "trim_weights"]
