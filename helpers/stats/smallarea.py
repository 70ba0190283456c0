"""Small-area estimation: empirical-Bayes shrinkage and Fay-Herriot EBLUPs.

* :func:`eb_beta_binomial` - community (or sub-district) rates ``x/n``
  shrunk towards a Beta prior fitted by marginal maximum likelihood of the
  beta-binomial (or by the method of moments), optionally one prior per
  group (e.g. per district, "shrink towards the district"). Posterior
  ``Beta(alpha + x, beta + n - x)``: mean and equal-tailed credible interval.
* :func:`fay_herriot` - area-level model ``y_i = x_i' beta + v_i + e_i``,
  ``v_i ~ N(0, sigma_v^2)``, ``e_i ~ N(0, D_i)`` with known sampling
  variances ``D_i = se_i^2`` (Fay & Herriot 1979). ``sigma_v^2`` by REML
  (default) or the Fay-Herriot moment method, EBLUP
  ``gamma_i y_i + (1 - gamma_i) x_i' beta``, ``gamma_i = sigma_v^2 /
  (sigma_v^2 + D_i)``, and the Prasad-Rao MSE ``g1 + g2 + 2 g3`` (Prasad &
  Rao 1990; Datta & Lahiri 2000 for REML; Rao & Molina 2015, ch. 6) with the
  Datta-Rao-Smith bias term for the moment estimator (Datta, Rao & Smith 2005).
  :meth:`FayHerriotResult.predict` gives regression-synthetic predictions and
  their MSE for areas without a direct estimate.

References
----------
Fay RE, Herriot RA (1979). Estimates of income for small places. JASA 74:269-277.
Prasad NGN, Rao JNK (1990). The estimation of the mean squared error of
small-area estimators. JASA 85:163-171.
Datta GS, Lahiri P (2000). A unified measure of uncertainty of estimated best
linear unbiased predictors in small area estimation problems. Statistica Sinica 10:613-627.
Datta GS, Rao JNK, Smith DD (2005). On measuring the variability of small area estimators
under a basic area level model. Biometrika 92:183-196.
Rao JNK, Molina I (2015). Small Area Estimation, 2nd ed. Wiley.
Efron B, Morris C (1975). Data analysis using Stein's estimator and its generalizations. JASA 70:311-319.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

__all__ = ["fit_beta_binomial", "eb_beta_binomial", "FayHerriotResult", "fay_herriot"]


# ----------------------------------------------------------------------------- beta-binomial
def _bb_negloglik(theta, x, n):
    """Negative beta-binomial log-likelihood in (log alpha, log beta), with its gradient."""
    a, b = np.exp(theta)
    ll = np.sum(special.betaln(x + a, n - x + b) - special.betaln(a, b))
    dab = special.digamma(a + b) - special.digamma(n + a + b)
    ga = np.sum(special.digamma(x + a) - special.digamma(a) + dab) * a
    gb = np.sum(special.digamma(n - x + b) - special.digamma(b) + dab) * b
    return -ll, -np.array([ga, gb])


def fit_beta_binomial(x, n, method: str = "ml") -> tuple[float, float]:
    """Fit the Beta(alpha, beta) prior of a beta-binomial to counts ``x`` out of ``n``.

    ``method="ml"`` maximises the marginal beta-binomial likelihood (the
    binomial coefficients do not depend on the parameters); ``"mm"`` is the
    method of moments of Kleinman (1973) with weights ``n``. When the data
    show no overdispersion the fitted prior is very concentrated (large
    ``alpha + beta``), i.e. complete pooling; it is capped at ``1e6``.
    """
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    keep = n > 0
    x, n = x[keep], n[keep]
    if x.size < 2:
        raise ValueError("need at least two units with a positive denominator")
    p = x / n
    m = x.sum() / n.sum()
    m = min(max(m, 1e-6), 1 - 1e-6)
    # moments (Kleinman 1973), weights n_i: with S = sum n_i (p_i - m)^2 and N = sum n_i,
    # E[S] = m(1-m) [(k - 1) + rho (N - sum n_i^2 / N - (k - 1))], rho = 1 / (alpha + beta + 1)
    k, N = x.size, n.sum()
    S = np.sum(n * (p - m) ** 2)
    denom = N - np.sum(n**2) / N - (k - 1)
    rho = (S / (m * (1 - m)) - (k - 1)) / denom if denom > 0 else 0.0
    rho = float(np.clip(rho, 1e-6, 0.999))
    ab = (1 - rho) / rho
    ab = min(ab, 1e6)
    a_mm, b_mm = m * ab, (1 - m) * ab
    if method == "mm":
        return float(a_mm), float(b_mm)
    if method != "ml":
        raise ValueError(f"unknown method {method!r}; allowed: 'ml', 'mm'")
    best = None
    for start in (np.log([a_mm, b_mm]), np.log([m * 10, (1 - m) * 10])):
        r = optimize.minimize(_bb_negloglik, np.clip(start, -10, np.log(1e6)), args=(x, n), method="BFGS",
                              jac=True)
        if best is None or r.fun < best.fun:
            best = r
    # no overdispersion drives alpha + beta to infinity: cap it (complete pooling)
    a, b = np.exp(np.clip(best.x, -10, None))
    if a + b > 1e6:
        a, b = m * 1e6, (1 - m) * 1e6
    return float(a), float(b)


def eb_beta_binomial(data: pd.DataFrame, successes: str, trials: str, unit: str | None = None,
                     group: str | None = None, method: str = "ml", level: float = 0.95) -> pd.DataFrame:
    """Empirical-Bayes beta-binomial shrinkage of rates ``successes/trials``.

    With ``group`` (e.g. ``"district_id"``) a separate prior is fitted per
    group so units shrink towards their group's rate; otherwise one prior
    for all. Returns a new frame with ``unit`` (if given), ``group`` (if
    given), ``successes``, ``trials``, ``raw_rate``, ``alpha``, ``beta``
    (prior), ``prior_mean``, ``shrinkage`` (weight on the prior,
    ``(alpha+beta)/(alpha+beta+n)``), ``eb_rate`` (posterior mean),
    ``ci_low``, ``ci_high`` (equal-tailed posterior interval). Units with
    ``trials == 0`` get the prior.
    """
    cols = [c for c in (unit, group) if c is not None] + [successes, trials]
    for c in cols:
        if c not in data.columns:
            raise KeyError(f"column {c!r} not in data")
    d = data[cols].copy()
    if d[[successes, trials]].isna().any().any():
        raise ValueError("successes/trials contain missing values")
    x = d[successes].to_numpy(float)
    n = d[trials].to_numpy(float)
    if np.any(x < 0) or np.any(x > n):
        raise ValueError("successes must lie between 0 and trials")
    a = np.empty(len(d))
    b = np.empty(len(d))
    if group is None:
        a[:], b[:] = fit_beta_binomial(x, n, method)
    else:
        for _, idx in d.groupby(group, sort=False).indices.items():
            a[idx], b[idx] = fit_beta_binomial(x[idx], n[idx], method)
    pa, pb = a + x, b + n - x
    lo = (1 - level) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = np.where(n > 0, x / n, np.nan)
    out = d.rename(columns={successes: "successes", trials: "trials"})
    out = out.assign(raw_rate=raw, alpha=a, beta=b, prior_mean=a / (a + b), shrinkage=(a + b) / (a + b + n),
                     eb_rate=pa / (pa + pb), ci_low=stats.beta.ppf(lo, pa, pb),
                     ci_high=stats.beta.ppf(1 - lo, pa, pb))
    return out.reset_index(drop=True)


# ----------------------------------------------------------------------------- Fay-Herriot
@dataclass
class FayHerriotResult:
    """A Fay-Herriot fit.

    Attributes
    ----------
    table : one row per sampled area: ``unit`` and ``group`` (when given), ``direct``,
        ``direct_se``, ``synthetic`` (``x' beta``), ``gamma``, ``eblup``, ``mse``, ``rmse``,
        ``ci_low``, ``ci_high``.
    coef : tidy frame of ``beta``: ``term, estimate, se, ci_low, ci_high, p`` (normal
        intervals, SEs from :meth:`cov_params`).
    sigma2_v : the area-effect variance estimate (truncated at 0).
    var_sigma2_v : its asymptotic variance (``2 / sum V_i^-2`` for REML,
        ``2 m / (sum V_i^-1)^2`` for FH).
    bias_sigma2_v : the estimated first-order bias of ``sigma2_v`` that the MSEs correct
        for: 0 for REML, Datta-Rao-Smith's ``b_FH`` for FH.
    method : ``"REML"`` or ``"FH"``.
    covariates, group, group_levels, unit, level : the specification, used by :meth:`predict`.
    """

    table: pd.DataFrame
    coef: pd.DataFrame
    sigma2_v: float
    var_sigma2_v: float
    method: str
    bias_sigma2_v: float = 0.0
    covariates: list = field(default_factory=list)
    group: str | None = None
    group_levels: list = field(default_factory=list)
    unit: str | None = None
    level: float = 0.95
    beta_cov: np.ndarray | None = field(default=None, repr=False)

    def cov_params(self) -> pd.DataFrame:
        """Covariance of the regression coefficients, ``(X' V^-1 X)^-1`` at ``sigma2_v``.

        Returns
        -------
        DataFrame
            Square, indexed and labelled by the terms of :attr:`coef`.
        """
        names = list(self.coef["term"])
        return pd.DataFrame(self.beta_cov, index=names, columns=names)

    def predict(self, new: pd.DataFrame, level: float | None = None) -> pd.DataFrame:
        """Regression-synthetic predictions ``x' beta`` for areas the survey did not reach.

        An area without a direct estimate has no data on its own effect ``v``: its best
        predictor is the synthetic ``x' beta`` (the EBLUP with ``gamma = 0``), with MSE
        ``sigma_v^2 + x' (X' V^-1 X)^-1 x`` (Rao & Molina 2015, sect. 6.2; emdi's ``fh``
        for out-of-sample domains). The MSE estimate plugs in ``sigma2_v - bias_sigma2_v``
        (0 for REML; the Datta-Rao-Smith bias of the FH moment estimator, so that the
        estimate is second-order unbiased for both methods), floored at 0.

        Parameters
        ----------
        new : one row per area with the fit's ``covariates``, its ``group`` column (levels
            seen in the fit; the areas' fixed effect is unknown otherwise) and, when the fit
            had one, its ``unit`` column. Sampled areas may be included: they get the same
            synthetic prediction (their EBLUP is in :attr:`table`).
        level : confidence level (default: the fit's).

        Returns
        -------
        DataFrame
            ``unit`` and ``group`` (when the fit has them), ``estimate`` (``x' beta``),
            ``mse``, ``rmse``, ``ci_low``, ``ci_high`` (``estimate -/+ z rmse``), with the
            rows and index of ``new``.
        """
        level = self.level if level is None else level
        need = list(self.covariates) + [c for c in (self.unit, self.group) if c is not None]
        missing = [c for c in need if c not in new.columns]
        if missing:
            raise KeyError(f"columns {missing} not in the frame to predict; the fit needs {need}")
        bad = new[need].isna().any(axis=1)
        if bad.any():
            rows = list(new.index[bad][:10])
            raise ValueError(f"{int(bad.sum())} area(s) to predict have missing {need} (rows {rows}); "
                             "drop them or fill the covariates")
        if self.group is not None:
            unknown = sorted(set(new[self.group]) - set(self.group_levels), key=str)
            if unknown:
                raise ValueError(f"{self.group} {unknown} had no sampled area in the fit, so their fixed effect "
                                 f"is unknown; fit without group= or with a coarser group")
        X, _ = _design(new.reset_index(drop=True), self.covariates, self.group, self.group_levels)
        beta = self.coef["estimate"].to_numpy(float)
        est = X @ beta
        s2 = max(self.sigma2_v - self.bias_sigma2_v, 0.0)
        mse = s2 + np.einsum("ij,jk,ik->i", X, self.beta_cov, X)
        z = stats.norm.ppf((1 + level) / 2)
        front = [c for c in (self.unit, self.group) if c is not None]
        out = new[front].copy()
        return out.assign(estimate=est, mse=mse, rmse=np.sqrt(mse), ci_low=est - z * np.sqrt(mse),
                          ci_high=est + z * np.sqrt(mse))


def _design(d: pd.DataFrame, covariates, group, levels=None) -> tuple[np.ndarray, list[str]]:
    """Intercept, covariates and treatment dummies of ``group`` (first of ``levels`` as reference)."""
    cols = [np.ones(len(d))]
    names = ["Intercept"]
    for c in covariates or []:
        cols.append(d[c].to_numpy(float))
        names.append(c)
    if group is not None:
        levels = sorted(d[group].unique()) if levels is None else list(levels)
        for lev in levels[1:]:
            cols.append((d[group] == lev).to_numpy(float))
            names.append(f"{group}[{lev}]")
    return np.column_stack(cols), names


def _gls(y, X, D, s2):
    w = 1.0 / (s2 + D)
    XtW = X.T * w
    A = XtW @ X
    Ainv = np.linalg.inv(A)
    beta = Ainv @ (XtW @ y)
    return beta, Ainv, w


def _reml_negll(s2, y, X, D):
    v = s2 + D
    w = 1.0 / v
    XtW = X.T * w
    A = XtW @ X
    beta = np.linalg.solve(A, XtW @ y)
    r = y - X @ beta
    sign, logdetA = np.linalg.slogdet(A)
    return 0.5 * (np.sum(np.log(v)) + logdetA + np.sum(w * r**2))


def _reml_dnegll(s2, y, X, D):
    """Derivative of :func:`_reml_negll` in ``sigma_v^2``: ``(tr P - y' P P y) / 2``."""
    w = 1.0 / (s2 + D)
    XtW = X.T * w
    A = XtW @ X
    beta = np.linalg.solve(A, XtW @ y)
    wr = w * (y - X @ beta)
    tr_p = np.sum(w) - np.trace(np.linalg.solve(A, (X.T * w**2) @ X))
    return 0.5 * (tr_p - np.sum(wr**2))


def fay_herriot(data: pd.DataFrame, estimate: str, se: str, unit: str | None = None,
                covariates: list[str] | None = None, group: str | None = None, method: str = "REML",
                level: float = 0.95) -> FayHerriotResult:
    """Fay-Herriot EBLUPs of area means from direct estimates and their SEs.

    ``covariates`` are area-level columns; ``group`` adds fixed effects for a grouping (e.g.
    district), so each area borrows strength from its district's areas. ``method``:
    ``"REML"`` (default) or ``"FH"`` (the Fay-Herriot moment estimator, the root of
    ``sum (y_i - x_i' beta)^2 / (sigma_v^2 + D_i) = m - p``). Variance estimates are
    truncated at 0.

    MSE (Prasad & Rao 1990; Datta & Lahiri 2000 for REML; Datta, Rao & Smith 2005 for FH;
    Rao & Molina 2015, sect. 6.2): ``g1 + g2 + 2 g3 - (1 - gamma)^2 b`` with
    ``g1 = gamma D``, ``g2 = (1 - gamma)^2 x' (X' V^-1 X)^-1 x``,
    ``g3 = D^2 / (sigma_v^2 + D)^3 Var(sigma_v^2)``, ``Var(sigma_v^2) = 2 / sum V_i^-2``
    (REML) or ``2 m / (sum V_i^-1)^2`` (FH), and ``b`` the first-order bias of the
    variance estimator: 0 for REML, ``b_FH = 2 [m sum V_i^-2 - (sum V_i^-1)^2] /
    (sum V_i^-1)^3`` for FH (``g1`` evaluated at a biased ``sigma_v^2`` is biased by
    ``(1 - gamma)^2 b``). Equal to samplics' ``EblupAreaModel`` for both methods
    (tests/test_smallarea.py). With FH and ``sigma_v^2`` estimated at (or near) 0 the
    corrected MSE can be negative; such areas get the naive ``g1 + g2`` instead, with a
    ``RuntimeWarning``. Intervals are ``eblup -/+ z sqrt(mse)``.

    Returns
    -------
    FayHerriotResult
        ``table`` (one row per area with complete data), ``coef``, ``sigma2_v``,
        ``var_sigma2_v``, ``bias_sigma2_v``, :meth:`~FayHerriotResult.cov_params` and
        :meth:`~FayHerriotResult.predict` for areas without a direct estimate.
    """
    if method not in ("REML", "FH"):
        raise ValueError(f"unknown method {method!r}; allowed: 'REML', 'FH'")
    need = [estimate, se] + list(covariates or []) + [c for c in (unit, group) if c is not None]
    for c in need:
        if c not in data.columns:
            raise KeyError(f"column {c!r} not in data")
    d = data[need].dropna().reset_index(drop=True)
    y = d[estimate].to_numpy(float)
    D = d[se].to_numpy(float) ** 2
    if np.any(D <= 0):
        raise ValueError("standard errors must be positive")
    levels = sorted(d[group].unique()) if group is not None else []
    X, names = _design(d, covariates, group, levels if group is not None else None)
    m, p = X.shape
    if m <= p:
        raise ValueError("more parameters than areas")
    hi = max(np.var(y) * 10, D.max() * 10, 1e-8)
    if method == "REML":
        r = optimize.minimize_scalar(_reml_negll, bounds=(0.0, hi), args=(y, X, D), method="bounded",
                                     options={"xatol": 1e-10 * hi})
        s2 = float(r.x)
        # a boundary solution: compare with s2 = 0 exactly
        if _reml_negll(0.0, y, X, D) <= r.fun:
            s2 = 0.0
        else:  # polish: the root of the REML score next to the minimum (Brent's bound is 1e-10 * hi)
            a, b = max(s2 - 1e-6 * hi, 0.0), s2 + 1e-6 * hi
            if _reml_dnegll(a, y, X, D) < 0 < _reml_dnegll(b, y, X, D):
                s2 = float(optimize.brentq(_reml_dnegll, a, b, args=(y, X, D), xtol=1e-15 * hi, rtol=1e-15))
    else:
        def fh_eq(s2):
            beta, _, w = _gls(y, X, D, s2)
            return np.sum(w * (y - X @ beta) ** 2) - (m - p)
        s2 = 0.0 if fh_eq(0.0) <= 0 else float(optimize.brentq(fh_eq, 0.0, hi * 10, xtol=1e-14 * hi, rtol=1e-15))
    beta, Ainv, w = _gls(y, X, D, s2)
    v = s2 + D
    if method == "REML":
        var_s2 = 2.0 / np.sum(1.0 / v**2)
        bias_s2 = 0.0
    else:
        s1, s2inv = np.sum(1.0 / v), np.sum(1.0 / v**2)
        var_s2 = 2.0 * m / s1**2
        bias_s2 = float(2.0 * (m * s2inv - s1**2) / s1**3)  # Datta, Rao & Smith (2005), >= 0
    gamma = s2 / v
    synth = X @ beta
    eblup = gamma * y + (1 - gamma) * synth
    g1 = gamma * D
    g2 = (1 - gamma) ** 2 * np.einsum("ij,jk,ik->i", X, Ainv, X)
    g3 = D**2 / v**3 * var_s2
    mse = g1 + g2 + 2 * g3 - (1 - gamma) ** 2 * bias_s2
    low = mse <= 0  # FH with sigma_v^2 at (or near) 0: the bias term can exceed 2 g3 + g2
    if low.any():
        import warnings

        warnings.warn(f"{int(low.sum())} area MSE estimate(s) were not positive after the Datta-Rao-Smith bias "
                      "correction (sigma_v^2 estimated at or near 0); they are set to the naive g1 + g2",
                      RuntimeWarning, stacklevel=2)
        mse = np.where(low, g1 + g2, mse)
    z = stats.norm.ppf((1 + level) / 2)
    tab = pd.DataFrame({"direct": y, "direct_se": np.sqrt(D), "synthetic": synth, "gamma": gamma,
                        "eblup": eblup, "mse": mse, "rmse": np.sqrt(mse),
                        "ci_low": eblup - z * np.sqrt(mse), "ci_high": eblup + z * np.sqrt(mse)})
    front = [c for c in (unit, group) if c is not None]
    tab = pd.concat([d[front], tab], axis=1)
    se_b = np.sqrt(np.diag(Ainv))
    zb = beta / se_b
    coef = pd.DataFrame({"term": names, "estimate": beta, "se": se_b, "ci_low": beta - z * se_b,
                         "ci_high": beta + z * se_b, "p": 2 * stats.norm.sf(np.abs(zb))})
    return FayHerriotResult(tab, coef, s2, float(var_s2), method, bias_sigma2_v=bias_s2,
                            covariates=list(covariates or []), group=group, group_levels=levels, unit=unit,
                            level=level, beta_cov=Ainv)
