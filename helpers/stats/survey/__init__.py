"""Design-based survey estimation that matches R's ``survey`` package.

- :mod:`~helpers.stats.survey.design` - :class:`SurveyDesign`: a stratified multi-stage design
  (weights, strata, PSUs, finite-population corrections) and its descriptive estimators (means,
  totals, ratios, proportions by domain) with Taylor-linearised standard errors.
"""
from helpers.stats.survey.design import LonelyPSUError, SurveyDesign

__all__ = ["SurveyDesign", "LonelyPSUError"]
