"""Design-based proportional-odds (cumulative link) models for ordinal outcomes (R's ``svyolr``).

::

    from helpers.stats.survey import svyolr
    fit = svyolr(design, "sat_service ~ within15 + aware_center + C(district_id)")
    fit.terms      # the regression coefficients, then the cut-points "1|2", "2|3", ...

The model is ``P(Y <= j) = F(zeta_j - x'beta)`` (F logistic, normal or Gumbel), no
intercept in ``x`` (the cut-points play its part), as R's ``svyolr`` and ``MASS::polr``.

How it is computed (R ``survey`` 4.x, ``svyolr.survey.design2``)
----------------------------------------------------------------
* The weighted log-likelihood ``sum_i w_i log(F(zeta_{y_i} - eta_i) - F(zeta_{y_i - 1} -
  eta_i))`` is maximised by Newton's method with the analytic Hessian (step halving keeps
  the cut-points ordered and the likelihood rising), until the Newton step is below 1e-10
  of each parameter's scale. R maximises it with ``optim(method="BFGS")``, which stops at
  ``reltol = 1e-8`` of the log-likelihood (parameters good to about 1e-5), and takes the
  Hessian by finite differences of the gradient (``ndeps = 1e-3``; about 1e-7 relative
  error). The tests therefore run R with ``reltol = 1e-15`` and ``ndeps = 1e-5``, where the
  two agree to about 1e-8; at R's defaults they agree to about 1e-5 (coefficients) and
  1e-6 (SEs).
* The variance is the sandwich: the influence values ``s_i H^-1`` (row scores of the
  log-likelihood in ``(beta, zeta)`` times the inverse Hessian) go through the design's
  variance of totals, as in :class:`~helpers.stats.survey.regression.SurveyGLM`.
* ``df_residual`` is R's: ``degf(design) - length(beta)``. Intervals and p-values are t on
  it (R's ``summary`` prints t values without p-values; R's ``confint`` uses the normal:
  ``confint(df=numpy.inf)``).

References
----------
Lumley, T. (2010) *Complex Surveys: A Guide to Analysis Using R*, sec. 6.3. Wiley.
McCullagh, P. (1980) Regression models for ordinal data. *JRSS B* 42, 109-142.
Binder, D. A. (1983) *International Statistical Review* 51, 279-292.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from helpers.stats.survey.inference import wald_table

__all__ = ["svyolr", "SurveyOLRResult", "OLR_METHODS"]


def _gumbel_cdf(x):  # R's survey:::pgumbel (cloglog in svyolr): exp(-exp(-x))
    return np.exp(-np.exp(-x))


def _gumbel_pdf(x):
    return np.exp(-x - np.exp(-x))


def _gumbel_dpdf(x):
    return _gumbel_pdf(x) * (np.exp(-x) - 1)


#: method -> (cdf, pdf, derivative of the pdf)
OLR_METHODS = {
    "logistic": (stats.logistic.cdf, stats.logistic.pdf,
                 lambda x: stats.logistic.pdf(x) * (1 - 2 * stats.logistic.cdf(x))),
    "probit": (stats.norm.cdf, stats.norm.pdf, lambda x: -x * stats.norm.pdf(x)),
    "cloglog": (_gumbel_cdf, _gumbel_pdf, _gumbel_dpdf),
}
#: Not offered: R's svyolr bounds the outer cut-points at -100 and 100 instead of -Inf and Inf,
#: which the Cauchy's heavy tails turn into a different likelihood (F(-100) = 0.003), so R's
#: cauchit fit is not the cumulative link model and cannot be matched.
_NOT_OFFERED = {"cauchit": "R's svyolr truncates the Cauchy at +/-100, a different model from the "
                           "cumulative cauchit link; use 'logistic', 'probit' or 'cloglog'"}


def _parts(theta, X, y, K, method):
    """Per row: probability p, and the derivative vectors of p at the upper and lower cut."""
    F, f, df = OLR_METHODS[method]
    pc = X.shape[1]
    beta, zeta = theta[:pc], theta[pc:]
    eta = X @ beta
    z = np.concatenate([[-np.inf], zeta, [np.inf]])
    yi = y.astype(np.int64)
    u = z[yi + 1] - eta
    lo = z[yi] - eta
    with np.errstate(invalid="ignore"):
        Fu = np.where(np.isinf(u), (u > 0).astype(float), F(np.where(np.isinf(u), 0.0, u)))
        Fl = np.where(np.isinf(lo), (lo > 0).astype(float), F(np.where(np.isinf(lo), 0.0, lo)))
        fu = np.where(np.isinf(u), 0.0, f(np.where(np.isinf(u), 0.0, u)))
        fl = np.where(np.isinf(lo), 0.0, f(np.where(np.isinf(lo), 0.0, lo)))
        dfu = np.where(np.isinf(u), 0.0, df(np.where(np.isinf(u), 0.0, u)))
        dfl = np.where(np.isinf(lo), 0.0, df(np.where(np.isinf(lo), 0.0, lo)))
    p = Fu - Fl
    q = K - 1
    n = len(y)
    Eu = np.zeros((n, q))
    El = np.zeros((n, q))
    up = yi < q
    Eu[np.flatnonzero(up), yi[up]] = 1.0
    dn = yi > 0
    El[np.flatnonzero(dn), yi[dn] - 1] = 1.0
    Du = np.hstack([-X, Eu])
    Dl = np.hstack([-X, El])
    return p, fu, fl, dfu, dfl, Du, Dl


def _loglik(theta, X, y, w, K, method):
    pc = X.shape[1]
    zeta = theta[pc:]
    if np.any(np.diff(zeta) <= 0):
        return -np.inf
    p = _parts(theta, X, y, K, method)[0]
    if np.any(p <= 0):
        return -np.inf
    return float(np.sum(w * np.log(p)))


def _score_hessian(theta, X, y, w, K, method):
    p, fu, fl, dfu, dfl, Du, Dl = _parts(theta, X, y, K, method)
    rows = (fu / p)[:, None] * Du - (fl / p)[:, None] * Dl  # d log p / d theta per row
    g = (w[:, None] * rows).sum(axis=0)
    a = w * (dfu / p - fu ** 2 / p ** 2)
    b = w * (-dfl / p - fl ** 2 / p ** 2)
    c = w * fu * fl / p ** 2
    H = (Du * a[:, None]).T @ Du + (Dl * b[:, None]).T @ Dl + (Du * c[:, None]).T @ Dl + (Dl * c[:, None]).T @ Du
    return g, (H + H.T) / 2, rows


def _start(X, y, w, K, method):
    """Cut-points at the cumulative weighted shares of the categories, coefficients 0."""
    share = np.bincount(y.astype(np.int64), weights=w, minlength=K) / w.sum()
    cum = np.clip(np.cumsum(share)[:-1], 1e-6, 1 - 1e-6)
    F_inv = {"logistic": stats.logistic.ppf, "probit": stats.norm.ppf,
             "cloglog": lambda p: -np.log(-np.log(p))}[method]
    zeta = F_inv(cum)
    zeta = np.maximum.accumulate(zeta + np.arange(K - 1) * 1e-6)
    return np.concatenate([np.zeros(X.shape[1]), zeta])


def _ascent_step(H: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Newton's step ``-H^-1 g``, damped (Levenberg-Marquardt) where the log-likelihood is not
    concave (far from the optimum, e.g. for the cloglog link), so that it always climbs."""
    N = -H
    d = np.abs(np.diag(N))
    d = np.where(d > 0, d, 1.0)
    lam = 0.0
    for _ in range(60):
        try:
            L = np.linalg.cholesky(N + lam * np.diag(d))
            return np.linalg.solve(L.T, np.linalg.solve(L, g))
        except np.linalg.LinAlgError:
            lam = 1e-8 if lam == 0 else lam * 10
    raise ValueError("the ordinal model's information matrix is singular (collinear regressors, or a "
                     "category that no regressor value separates)")


def _fit(X, y, w, K, method, tol=1e-10, maxit=100):
    theta = _start(X, y, w, K, method)
    ll = _loglik(theta, X, y, w, K, method)
    for it in range(1, maxit + 1):
        g, H, _ = _score_hessian(theta, X, y, w, K, method)
        step = _ascent_step(H, g)
        try:
            scale = np.abs(theta) + np.sqrt(np.abs(np.diag(np.linalg.inv(-H))))
        except np.linalg.LinAlgError as e:
            raise ValueError("the ordinal model's information matrix is singular (collinear regressors, or "
                             "a category that no regressor value separates)") from e
        if np.all(np.abs(step) <= tol * scale):
            return theta + step, it
        t = 1.0
        for _ in range(60):
            new = theta + t * step
            ll_new = _loglik(new, X, y, w, K, method)
            if np.isfinite(ll_new) and ll_new >= ll - 1e-12 * abs(ll):
                break
            t /= 2
        else:
            raise FloatingPointError("the ordinal model's Newton steps cannot raise the likelihood")
        theta, ll = new, ll_new
    warnings.warn(f"svyolr did not converge in {maxit} Newton iterations", RuntimeWarning, stacklevel=3)
    return theta, maxit


def _fmt(v) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


@dataclass
class SurveyOLRResult:
    """A fitted design-based proportional-odds model (R: ``svyolr``).

    Attributes
    ----------
    terms : DataFrame
        ``term, estimate, se, ci_low, ci_high, p, df``: the regression coefficients, then the
        cut-points named ``"a|b"`` (R's ``zeta``); t intervals and p-values on
        ``df_residual``.
    coef : Series
        Coefficients then cut-points (R: ``coef(fit)``).
    vcov : DataFrame
        Their design-based covariance (R: ``vcov(fit)``).
    df_residual : float
        ``degf(design) - length(beta)`` (R's).
    degf : float
        Design df of the fit's rows.
    nobs : int
        Rows in the fit.
    levels : list
        The outcome's ordered categories.
    method : str
        The link: ``logistic``, ``probit`` or ``cloglog``.
    iterations : int
        Newton iterations.
    """

    formula: str
    coef: pd.Series
    vcov: pd.DataFrame
    terms: pd.DataFrame
    df_residual: float
    degf: float
    nobs: int
    levels: list
    method: str
    iterations: int
    loglik: float = field(default=np.nan)

    @property
    def estimate(self) -> pd.Series:
        """Alias of :attr:`coef` (for :func:`~helpers.stats.survey.contrast.svycontrast`)."""
        return self.coef

    @property
    def df(self) -> float:
        """Degrees of freedom of intervals of functions of the coefficients."""
        return self.df_residual

    def term(self, name: str) -> pd.Series:
        """The row of :attr:`terms` for one coefficient or cut-point."""
        hit = self.terms[self.terms["term"] == name]
        if hit.empty:
            raise KeyError(f"no term {name!r}; terms are {list(self.terms['term'])}")
        return hit.iloc[0]

    def confint(self, level: float = 0.95, df: float | None = None) -> pd.DataFrame:
        """Wald intervals (``df`` default ``df_residual``; ``numpy.inf``: R's ``confint``).

        Returns
        -------
        DataFrame ``term, ci_low, ci_high``.
        """
        t = wald_table(self.coef.to_numpy(), np.sqrt(np.diag(self.vcov)),
                       self.df_residual if df is None else df, level)
        return pd.DataFrame({"term": self.coef.index, "ci_low": t["ci_low"], "ci_high": t["ci_high"]})

    def contrast(self, contrasts, *, level: float = 0.95, df: float | None = None) -> pd.DataFrame:
        """Contrasts of the coefficients: :func:`~helpers.stats.survey.contrast.svycontrast`."""
        from helpers.stats.survey.contrast import svycontrast

        return svycontrast(self, contrasts, level=level, df=df)


def svyolr(design, formula: str, method: str = "logistic", *, subset=None, level: float = 0.95,
           tol: float = 1e-10, maxit: int = 100) -> SurveyOLRResult:
    """Design-based proportional-odds model of an ordinal outcome (R: ``svyolr``).

    Parameters
    ----------
    design : SurveyDesign (a DuckDB design loads the model's columns into memory).
    formula : ``"y ~ x1 + C(g)"``; y has three or more ordered categories (an ordered
        categorical's order, else sorted values such as 1-5).
    method : ``"logistic"`` (proportional odds), ``"probit"`` or ``"cloglog"`` (R's, with the
        Gumbel distribution ``exp(-exp(-x))``). R's ``"cauchit"`` is not offered: R bounds the
        outer cut-points at +/-100, which changes the Cauchy likelihood.
    subset : the domain (boolean rows or a query string; R's ``subset(design, ...)``).
    level : confidence level of the intervals.
    tol, maxit : convergence of Newton's method (step below ``tol`` of each parameter's
        ``|value| + SE``) and its iteration limit.

    Returns
    -------
    SurveyOLRResult: ``terms`` (coefficients, then cut-points ``"1|2"``...), ``coef``,
    ``vcov``, ``df_residual``.

    Notes
    -----
    R counterpart: ``svyolr(factor(y) ~ x1 + g, design, method=...)``; see the module
    docstring for the estimator and its numerical agreement with R.
    """
    from helpers.stats.survey.regression import _formula_parts, _model_frame

    if method in _NOT_OFFERED:
        raise ValueError(f"method={method!r} is not offered: {_NOT_OFFERED[method]}")
    if method not in OLR_METHODS:
        raise ValueError(f"method must be one of {sorted(OLR_METHODS)}, got {method!r}")
    vars_ = sorted(_formula_parts(formula).required_variables)
    if getattr(design, "_duck", None) is not None:
        design = design._in_memory(vars_)
    mf = _model_frame(design, formula, subset, None, ordinal=True)
    keep = [j for j, nm in enumerate(mf.names) if nm != "Intercept"]
    if len(keep) == len(mf.names):
        warnings.warn("an intercept is needed and assumed (the cut-points)", RuntimeWarning, stacklevel=2)
    X = mf.X.to_dense()[:, keep]
    xnames = [mf.names[j] for j in keep]
    levels = mf.categories[mf.yname]
    K = len(levels)
    theta, it = _fit(X, mf.y, mf.w, K, method, tol=tol, maxit=maxit)
    _, H, rows = _score_hessian(theta, X, mf.y, mf.w, K, method)
    Hinv = np.linalg.inv(H)
    n = len(design.data)
    P = len(theta)
    Z = np.zeros((n, P))
    Z[mf.rows] = mf.w[:, None] * rows
    cells, Zc, present = design._cell_totals(Z, None if mf.rows.all() else mf.rows)
    V = design._vcov(cells, Zc @ Hinv, present)[0]
    V = (V + V.T) / 2
    names = xnames + [f"{_fmt(a)}|{_fmt(b)}" for a, b in zip(levels[:-1], levels[1:])]
    degf = design._degf(mf.rows)
    df_resid = degf - len(xnames)
    terms = wald_table(theta, np.sqrt(np.diag(V)), df_resid, level)
    terms.insert(0, "term", names)
    return SurveyOLRResult(formula=formula, coef=pd.Series(theta, index=names),
                           vcov=pd.DataFrame(V, index=names, columns=names), terms=terms,
                           df_residual=float(df_resid), degf=degf, nobs=int(len(mf.y)), levels=list(levels),
                           method=method, iterations=it,
                           loglik=_loglik(theta, X, mf.y, mf.w, K, method))
