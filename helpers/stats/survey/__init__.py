"""Design-based survey estimation that matches R's ``survey`` package.

- :mod:`~helpers.stats.survey.design` - :class:`SurveyDesign`: a stratified multi-stage design
  (weights, strata, PSUs, finite-population corrections) and its descriptive estimators (means,
  totals, ratios, proportions by domain) with Taylor-linearised standard errors, and the
  covariance of linearised totals that every other estimator rests on.
- :mod:`~helpers.stats.survey.regression` - :class:`SurveyGLM` / :func:`svyglm`: design-based
  generalised linear models with sandwich SEs and predictions.
"""
from helpers.stats.survey.design import LonelyPSUError, SurveyDesign
from helpers.stats.survey.regression import SurveyGLM, SurveyGLMResult, svyglm

__all__ = ["SurveyDesign", "LonelyPSUError", "SurveyGLM", "SurveyGLMResult", "svyglm"]
