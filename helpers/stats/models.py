"""Regression models with statsmodels underneath and tidy frames out.

Every helper returns a :class:`ModelResult`: ``.terms`` is a tidy frame with
one row per coefficient (``term, estimate, se, ci_low, ci_high, p``),
``.result`` is the fitted statsmodels result (``.result.summary()``) and
:meth:`ModelResult.contrast` tests linear combinations of the coefficients
with statsmodels' ``t_test`` on the same covariance and reference
distribution as ``.terms``. Inputs are never modified; rows with a missing
value in any model variable (or the cluster variable) are dropped and
counted in ``.nobs``.

* :func:`binomial_glm` - logistic regression for 0/1 outcomes or for
  ``successes`` out of ``trials`` (coverage, registration, participation
  rates), cluster-robust (sandwich) SEs by ``cluster`` (default the
  district), with t-based intervals on ``G - 1`` degrees of freedom
  (Cameron & Miller 2015).
* :func:`ols` - linear (probability) model with cluster-robust SEs.
* :func:`ordinal_logit` - proportional-odds model for 1-5 items
  (statsmodels ``OrderedModel`` with exact derivatives, converged by Newton;
  McCullagh 1980), equal to R ``ordinal::clm``. Thresholds are reported as
  terms ``"1/2"``, ``"2/3"``, ... on the latent scale.
* :func:`mixed_model` - linear mixed model with random intercepts for a
  grouping (district) and a nested variance component (community), via
  ``MixedLM`` (REML), with ``lme4::lmer``'s fixed-effect SEs by default.
* :func:`latent_mean_correlation` - correlation between a unit-level
  variable and the unit means of a noisy survey variable, corrected for the
  sampling noise of those means (Spearman 1904 disattenuation), with a
  bootstrap interval over units.

References
----------
Cameron AC, Miller DL (2015). A practitioner's guide to cluster-robust
inference. J Human Resources 50:317-372.
McCullagh P (1980). Regression models for ordinal data. JRSS B 42:109-142.
Christensen RHB (2019). Cumulative link models for ordinal regression with the R package
ordinal. Vignette of R package ordinal.
Bates D, Maechler M, Bolker B, Walker S (2015). Fitting linear mixed-effects models using
lme4. J Statistical Software 67(1).
Spearman C (1904). The proof and measurement of association between two things.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["ModelResult", "tidy", "binomial_glm", "ols", "ordinal_logit", "mixed_model",
           "latent_mean_correlation", "variance_components"]


@dataclass
class ModelResult:
    """A fitted model: ``terms`` (tidy frame), ``result`` (statsmodels), ``nobs``, ``info``."""

    terms: pd.DataFrame
    result: object
    nobs: int
    info: dict = field(default_factory=dict)

    def term(self, name: str) -> pd.Series:
        """The row of :attr:`terms` for one coefficient."""
        hit = self.terms[self.terms["term"] == name]
        if hit.empty:
            raise KeyError(f"no term {name!r}; terms are {list(self.terms['term'])}")
        return hit.iloc[0]

    def summary(self):
        return self.result.summary()

    def _coef_names(self) -> list[str]:
        """Names of the regression coefficients a contrast may weight (no cut-points or variances)."""
        res = self.result
        names = [str(n) for n in res.model.exog_names]
        if hasattr(res, "k_fe"):  # MixedLM: the fixed effects
            return names[: res.k_fe]
        if "levels" in self.info and "distr" in self.info:  # ordinal: cut-points follow the coefficients
            return names[: len(names) - (len(self.info["levels"]) - 1)]
        return names

    def contrast(self, hypothesis, level: float = 0.95) -> pd.DataFrame:
        """A linear combination of the coefficients, tested with statsmodels' ``t_test``.

        Parameters
        ----------
        hypothesis : the combination ``L b`` (tested against 0), as
            * a string in statsmodels' (patsy's) constraint syntax over the coefficient names,
              e.g. ``"within15 - band15_30"`` or ``"within15 - band15_30, aware_center"``
              (one row per comma-separated part); ``"= value"`` tests against a value;
            * a dict ``{term: weight}``;
            * an array of weights over the coefficients (``len(terms)`` of the regression
              coefficients, in their order), or a 2-d array with one combination per row.
            Only regression coefficients can be weighted: not the cut-points of
            :func:`ordinal_logit` (statsmodels' parameters are the first cut-point and
            log-increments) nor the variances of :func:`mixed_model`.
        level : confidence level of the interval.

        Returns
        -------
        DataFrame
            One row per combination: ``term`` (the hypothesis, or ``"contrast"`` for
            arrays), ``estimate`` (``L b``), ``se`` (``sqrt(L V L')`` with the fit's
            covariance: cluster-robust when the fit is, lme4's for :func:`mixed_model` by
            default), ``ci_low``, ``ci_high``, ``p`` (two-sided) and ``df``: the fit's
            reference distribution, the same as in :attr:`terms` - t on ``G - 1`` df for
            cluster-robust fits (statsmodels' ``df_resid_inference``), otherwise the
            fit's own (``inf`` for normal intervals). ``p`` tests ``L b = value`` (NaN
            when ``se`` is 0); the interval is for ``L b``.
        """
        import patsy

        res = self.result
        names = self._coef_names()
        all_names = [str(n) for n in res.model.exog_names]
        value = None
        if isinstance(hypothesis, str):
            lc = patsy.DesignInfo(all_names).linear_constraint(hypothesis)
            L, value = np.asarray(lc.coefs, float), np.asarray(lc.constants, float).ravel()
            label = [s.strip() for s in hypothesis.split(",")] if L.shape[0] > 1 else [hypothesis.strip()]
            if len(label) != L.shape[0]:
                label = [hypothesis.strip()] * L.shape[0]
            extra = L[:, len(names):]
            if extra.size and np.any(extra != 0):
                bad = [all_names[len(names) + j] for j in np.flatnonzero(np.any(extra != 0, axis=0))]
                raise ValueError(f"contrast {hypothesis!r} weights {bad}, which are not regression coefficients; "
                                 f"contrasts take only {names}")
            L = L[:, : len(names)]
        elif isinstance(hypothesis, dict):
            unknown = [k for k in hypothesis if k not in names]
            if unknown:
                raise KeyError(f"contrast names {unknown} that are not coefficients; coefficients are {names}")
            L = np.array([[float(hypothesis.get(n, 0.0)) for n in names]])
            label = [" ".join(f"{'-' if w < 0 else '+'} {'' if abs(w) == 1 else f'{abs(w):g}*'}{k}"
                              for k, w in hypothesis.items() if w != 0).lstrip("+ ")]
        else:
            L = np.atleast_2d(np.asarray(hypothesis, dtype=float))
            if L.shape[1] != len(names):
                raise ValueError(f"contrast weights have {L.shape[1]} columns; the fit has {len(names)} "
                                 f"coefficients ({names})")
            label = ["contrast"] * L.shape[0]
        if value is None:
            value = np.zeros(L.shape[0])
        from statsmodels.base.model import LikelihoodModelResults

        # zero weights for the parameters that are not coefficients (cut-points, variances);
        # the generic t_test (MixedLM's own override takes no constants and pads the same way)
        L = np.hstack([L, np.zeros((L.shape[0], len(np.asarray(res.params)) - len(names)))])
        tt = LikelihoodModelResults.t_test(getattr(res, "_results", res), (L, value))
        est = np.asarray(tt.effect, float).ravel()
        se = np.asarray(tt.sd, float).ravel()
        ci = np.asarray(tt.conf_int(alpha=1 - level), float).reshape(-1, 2)
        p = np.where(se > 0, np.asarray(tt.pvalue, float).ravel(), np.nan)
        df = float(np.asarray(tt.df_denom).ravel()[0]) if tt.distribution == "t" else np.inf
        return pd.DataFrame({"term": label, "estimate": est, "se": se, "ci_low": ci[:, 0], "ci_high": ci[:, 1],
                             "p": p, "df": df})


def tidy(result, level: float = 0.95) -> pd.DataFrame:
    """Tidy frame ``term, estimate, se, ci_low, ci_high, p`` of a statsmodels result."""
    params = pd.Series(np.asarray(result.params), index=getattr(result.params, "index", None))
    if params.index is None or isinstance(params.index, pd.RangeIndex):
        names = getattr(result.model, "exog_names", None) or [f"x{i}" for i in range(len(params))]
        params.index = names[: len(params)]
    bse = np.asarray(result.bse)
    ci = np.asarray(result.conf_int(alpha=1 - level))
    pv = np.asarray(result.pvalues)
    return pd.DataFrame({"term": [str(t) for t in params.index], "estimate": params.to_numpy(float),
                         "se": bse, "ci_low": ci[:, 0], "ci_high": ci[:, 1], "p": pv})


def _prepare(data: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise KeyError(f"columns not in data: {missing}")
    return data.dropna(subset=cols).reset_index(drop=True)


def _formula_vars(formula: str, data: pd.DataFrame) -> list[str]:
    """Data columns mentioned in a formula (a conservative token match)."""
    import re

    tokens = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", formula))
    return [c for c in data.columns if c in tokens]


def _cluster_kw(d: pd.DataFrame, cluster: str | None, robust: bool = True):
    if cluster is None:
        return ({"cov_type": "HC1"} if robust else {"cov_type": "nonrobust"}), None
    g = pd.factorize(d[cluster])[0]
    return {"cov_type": "cluster", "cov_kwds": {"groups": g}, "use_t": True}, int(g.max() + 1)


def binomial_glm(data: pd.DataFrame, formula: str, trials: str | None = None, cluster: str | None = "district_id",
                 level: float = 0.95, collapse: bool = True, robust: bool = True,
                 absorb: str | None = None) -> ModelResult:
    """Logistic regression (binomial GLM, logit link) with cluster-robust SEs.

    ``formula`` is ``"y ~ x1 + C(district_id)"``. Without ``trials`` the
    outcome is 0/1 per row; with ``trials`` the outcome column holds the
    number of successes out of ``trials`` (aggregated rates). ``cluster``:
    column whose values define clusters for the sandwich variance (``None``
    for heteroskedasticity-robust HC1, or with ``robust=False`` the
    model-based variance). Intervals use the t distribution with ``G - 1``
    df when clustered.

    ``collapse`` (default) first sums a 0/1 outcome over rows that share
    every model variable and the cluster into successes out of trials: the
    likelihood, the estimates and the cluster sums of scores are unchanged,
    and the fit is much faster (only the ``(N-1)/(N-K)`` small-sample factor
    of the sandwich sees the smaller N). ``nobs`` stays the number of rows.

    ``absorb`` names a categorical column with many levels (e.g. ``community_id``) whose fixed
    effects are absorbed rather than estimated as dummies (like ``y ~ x | community`` in R's
    ``fixest::feglm``): see :func:`_binomial_absorbed`. The formula then carries no intercept
    (the fixed effects replace it) and no term constant within the absorbed groups.
    """
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    yname = formula.split("~")[0].strip()
    if absorb is not None:
        return _binomial_absorbed(data, formula, trials, absorb, cluster, level)
    cols = _formula_vars(formula, data) + [c for c in (trials, cluster) if c is not None]
    d = _prepare(data, list(dict.fromkeys(cols)))
    fam = sm.families.Binomial()
    n_rows = len(d)
    if trials is None and collapse and yname in d.columns:
        keys = [c for c in dict.fromkeys(cols) if c != yname]
        y = d[yname].astype("float64")
        if not y.isin([0.0, 1.0]).all():
            raise ValueError(f"{yname} must be 0/1 without trials")
        d = (d.assign(**{yname: y, "_n": 1.0}).groupby(keys, as_index=False, sort=False, observed=True, dropna=False)
             [[yname, "_n"]].sum())
        trials = "_n"
    kw, n_clusters = _cluster_kw(d, cluster, robust)
    if trials is None:
        model = smf.glm(formula, data=d, family=fam)
    else:
        if np.any(d[trials] <= 0):
            d = d[d[trials] > 0].reset_index(drop=True)
            kw, n_clusters = _cluster_kw(d, cluster, robust)
        succ = d[yname].to_numpy(float)
        n = d[trials].to_numpy(float)
        if np.any(succ > n) or np.any(succ < 0):
            raise ValueError("successes must lie between 0 and trials")
        base = smf.glm(formula, data=d, family=fam)
        exog = pd.DataFrame(base.exog, columns=base.exog_names)
        endog = pd.DataFrame({yname: succ, f"{trials} - {yname}": n - succ})
        model = sm.GLM(endog, exog, family=fam)
    res = model.fit(**kw)
    return ModelResult(tidy(res, level), res, n_rows, {"clusters": n_clusters, "family": "binomial",
                                                       "fitted_rows": int(res.nobs)})


def _binomial_absorbed(data: pd.DataFrame, formula: str, trials: str | None, absorb: str, cluster: str | None,
                       level: float, tol: float = 1e-13, maxiter: int = 200) -> ModelResult:
    """Logit with one absorbed categorical fixed effect: IRLS with weighted within-group demeaning.

    Why written here: statsmodels has no absorbed fixed effects for GLMs (dummies for 1,000+
    communities make a dense design that takes minutes to fit), and pyfixest's ``feglm`` takes no
    weights, so it cannot fit successes out of trials. Each IRLS step is the weighted least
    squares fit of the working response on the regressors and the group dummies, which by the
    Frisch-Waugh-Lovell theorem equals the fit on the weighted group-demeaned variables (one
    absorbed factor: demeaning is exact, no alternating projections needed). Groups whose
    outcomes are all failures or all successes have an infinite fixed effect and carry no
    information on the other coefficients; they are dropped and counted (``info["dropped_groups"]``),
    as ``fixest`` does. Converges when the deviance changes by less than ``tol`` (relative).

    The returned ``result`` is statsmodels' WLS fit of the final IRLS step on the demeaned
    variables with weights ``n mu (1 - mu)``: its coefficients are the maximum-likelihood
    estimates, and its cluster-robust covariance is the logit sandwich (the scores of the
    demeaned design are the profile scores of the coefficients), with statsmodels' small-sample
    factor ``G/(G-1) (N-1)/(N-K)`` where K counts the regressors but not the absorbed effects
    (fixed effects nested in the clusters, the convention of Stata's ``reghdfe`` and fixest).
    Intervals are t on ``G - 1`` df. Without ``cluster`` the covariance is the model-based
    ``(X'WX)^-1`` of the demeaned design (scale 1).
    """
    import patsy
    import statsmodels.api as sm
    from scipy.special import expit

    yname, rhs = (s.strip() for s in formula.split("~", 1))
    cols = _formula_vars(formula, data) + [c for c in (trials, cluster, absorb) if c is not None]
    d = _prepare(data, list(dict.fromkeys(cols)))
    n_rows = len(d)
    y = d[yname].to_numpy(float)
    n = d[trials].to_numpy(float) if trials is not None else np.ones(len(d))
    if trials is None and not np.isin(y, (0.0, 1.0)).all():
        raise ValueError(f"{yname} must be 0/1 without trials")
    if np.any(y > n) or np.any(y < 0):
        raise ValueError(f"{yname}: successes must lie between 0 and {trials}")
    keep = n > 0
    g_all = pd.factorize(d[absorb])[0]
    ys, ns = np.bincount(g_all, y), np.bincount(g_all, n)
    informative = (ys > 0) & (ys < ns)
    keep &= informative[g_all]
    dropped_groups = int((~informative).sum())
    d = d[keep].reset_index(drop=True)
    y, n = y[keep], n[keep]
    # treatment coding as with an intercept, then the intercept dropped: the fixed effects replace it
    X = patsy.dmatrix("1 + " + rhs, d, return_type="dataframe").drop(columns="Intercept")
    g = pd.factorize(d[absorb])[0]
    G_fe = int(g.max() + 1)
    Xv = X.to_numpy(float)

    def demean(a: np.ndarray, w: np.ndarray) -> np.ndarray:
        sw = np.bincount(g, w, minlength=G_fe)
        if a.ndim == 1:
            return a - (np.bincount(g, w * a, minlength=G_fe) / sw)[g]
        m = np.column_stack([np.bincount(g, w * a[:, j], minlength=G_fe) for j in range(a.shape[1])]) / sw[:, None]
        return a - m[g]

    mu = (y + 0.5) / (n + 1.0)
    eta = np.log(mu / (1 - mu))
    dev_old = np.inf
    beta = np.zeros(Xv.shape[1])
    for it in range(maxiter):
        w = n * mu * (1 - mu)
        z = eta + (y - n * mu) / w
        Xt, zt = demean(Xv, w), demean(z, w)
        sw = np.sqrt(w)
        beta, *_ = np.linalg.lstsq(Xt * sw[:, None], zt * sw, rcond=None)
        xb = Xv @ beta
        alpha = np.bincount(g, w * (z - xb), minlength=G_fe) / np.bincount(g, w, minlength=G_fe)
        eta = xb + alpha[g]
        mu = np.clip(expit(eta), 1e-15, 1 - 1e-15)
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = 2 * np.sum(np.where(y > 0, y * np.log(y / (n * mu)), 0.0)
                             + np.where(n - y > 0, (n - y) * np.log((n - y) / (n * (1 - mu))), 0.0))
        if abs(dev - dev_old) <= tol * (abs(dev) + 0.1):
            break
        dev_old = dev
    else:  # pragma: no cover - a well-posed logit converges in a handful of steps
        raise RuntimeError(f"absorbed logit did not converge in {maxiter} iterations")
    # the final weighted least-squares step, at the converged weights, as a statsmodels result
    w = n * mu * (1 - mu)
    z = eta + (y - n * mu) / w
    Xt = pd.DataFrame(demean(Xv, w), columns=X.columns)
    wls = sm.WLS(demean(z, w), Xt, weights=w)
    if cluster is not None:
        groups = pd.factorize(d[cluster])[0]
        res = wls.fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
        n_clusters = int(groups.max() + 1)
    else:
        res = wls.fit(cov_type="fixed scale", cov_kwds={"scale": 1.0})
        n_clusters = None
    return ModelResult(tidy(res, level), res, n_rows,
                       {"clusters": n_clusters, "family": "binomial", "absorbed": absorb,
                        "absorbed_groups": G_fe, "dropped_groups": dropped_groups, "fitted_rows": int(len(d)),
                        "deviance": float(dev), "iterations": it + 1})


def ols(data: pd.DataFrame, formula: str, cluster: str | None = "district_id", level: float = 0.95,
        weights: str | None = None, absorb: str | None = None) -> ModelResult:
    """OLS (e.g. a linear probability model) with cluster-robust SEs (t on G - 1 df).

    ``absorb`` names a categorical column whose fixed effects are absorbed by demeaning within its
    groups (Frisch-Waugh-Lovell; the same coefficients as dummies in the formula, without the
    dense design). The cluster covariance then counts only the formula's regressors in statsmodels'
    ``(N-1)/(N-K)`` factor (fixed effects nested in the clusters, as Stata's ``reghdfe`` and
    fixest do). Not with ``weights``.
    """
    import statsmodels.formula.api as smf

    cols = _formula_vars(formula, data) + [c for c in (cluster, weights, absorb) if c is not None]
    d = _prepare(data, list(dict.fromkeys(cols)))
    kw, n_clusters = _cluster_kw(d, cluster)
    if absorb is not None:
        import patsy
        import statsmodels.api as sm

        if weights is not None:
            raise ValueError("ols: absorb does not take weights")
        yname, rhs = (s.strip() for s in formula.split("~", 1))
        X = patsy.dmatrix("1 + " + rhs, d, return_type="dataframe").drop(columns="Intercept")
        g = d[absorb]
        Xt = X - X.groupby(g.to_numpy()).transform("mean")
        yt = d[yname] - d[yname].groupby(g.to_numpy()).transform("mean")
        res = sm.OLS(yt.rename(yname), Xt).fit(**kw)
        return ModelResult(tidy(res, level), res, int(res.nobs), {"clusters": n_clusters, "absorbed": absorb,
                                                                  "absorbed_groups": int(g.nunique())})
    if weights is None:
        model = smf.ols(formula, data=d)
    else:
        model = smf.wls(formula, data=d, weights=d[weights])
    res = model.fit(**kw)
    return ModelResult(tidy(res, level), res, int(res.nobs), {"clusters": n_clusters})


def _fmt_level(v) -> str:
    try:
        return str(int(v)) if float(v).is_integer() else str(v)
    except (TypeError, ValueError):
        return str(v)


@functools.cache
def _exact_ordered_model():
    """statsmodels' ``OrderedModel`` with analytic score, per-observation score and Hessian.

    ``OrderedModel`` differentiates its log-likelihood numerically (``approx_fprime``,
    ``approx_hess``), so its optimiser stops early and its SEs carry the finite-difference
    error; R ``ordinal::clm`` uses the exact derivatives. Written here because statsmodels
    has no analytic derivatives for this model; the parametrisation is statsmodels' own
    (coefficients, first cut-point, log-increments of the others). Derivatives follow
    McCullagh (1980) and Christensen (2019, ``ordinal`` package vignette): for an
    observation in category ``k`` with bounds ``u = c_k - x'b``, ``l = c_{k-1} - x'b`` and
    ``p = F(u) - F(l)``, the score is ``-x (f(u) - f(l)) / p`` for ``b``, ``f(u) / p`` for
    ``c_k`` and ``-f(l) / p`` for ``c_{k-1}``; the Hessian follows by differentiating once more
    (with ``f'``) and the chain rule through ``c_j = th_1 + sum_{i<=j} exp(th_i)``.
    """
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    class ExactOrderedModel(OrderedModel):
        def _fprime(self, x):
            if self.distr is stats.logistic:
                f = stats.logistic.pdf(x)
                return f * (1 - 2 * stats.logistic.cdf(x))
            return -x * stats.norm.pdf(x)

        def _pieces(self, params):
            """Per observation: ``p``, ``f`` and ``f'`` at the upper and lower bounds, and which bounds are finite."""
            low, upp = self._bounds(params)
            p = self.prob(low, upp)
            hi_ok, lo_ok = np.isfinite(upp), np.isfinite(low)
            fu = np.where(hi_ok, self.pdf(np.where(hi_ok, upp, 0.0)), 0.0)
            fl = np.where(lo_ok, self.pdf(np.where(lo_ok, low, 0.0)), 0.0)
            du = np.where(hi_ok, self._fprime(np.where(hi_ok, upp, 0.0)), 0.0)
            dl = np.where(lo_ok, self._fprime(np.where(lo_ok, low, 0.0)), 0.0)
            return p, fu, fl, du, dl, hi_ok, lo_ok

        def _jacobian(self, params):
            """d cut-points / d threshold parameters (lower triangular)."""
            th = np.asarray(params)[-(self.k_levels - 1):]
            m = th.size
            J = np.zeros((m, m))
            J[:, 0] = 1.0
            for i in range(1, m):
                J[i:, i] = np.exp(th[i])
            return J

        def _cut_matrix(self, a_upper, a_lower, hi_ok, lo_ok):
            """n x (K-1) matrix with ``a_upper`` at the upper cut-point's column and ``a_lower`` at the lower's."""
            n, m = self.nobs, self.k_levels - 1
            M = np.zeros((n, m))
            rows = np.arange(n)
            k = np.asarray(self.endog)
            M[rows[hi_ok], k[hi_ok]] += a_upper[hi_ok]
            M[rows[lo_ok], k[lo_ok] - 1] += a_lower[lo_ok]
            return M

        def score_obs(self, params):
            params = np.asarray(params)
            p, fu, fl, _, _, hi_ok, lo_ok = self._pieces(params)
            x = np.asarray(self.exog) if self.k_vars else np.zeros((self.nobs, 0))
            sb = -x * ((fu - fl) / p)[:, None]
            sc = self._cut_matrix(fu / p, -fl / p, hi_ok, lo_ok)
            return np.column_stack([sb, sc @ self._jacobian(params)])

        def score(self, params):
            return self.score_obs(params).sum(axis=0)

        def hessian(self, params):
            params = np.asarray(params)
            p, fu, fl, du, dl, hi_ok, lo_ok = self._pieces(params)
            x = np.asarray(self.exog) if self.k_vars else np.zeros((self.nobs, 0))
            k, m = self.k_vars, self.k_levels - 1
            d = fu - fl
            hbb = (x * ((du - dl) / p - d**2 / p**2)[:, None]).T @ x
            # b with the upper cut: -x (f'(u)/p - f(u) d/p^2); with the lower: x (f'(l)/p - f(l) d/p^2)
            hbc = x.T @ self._cut_matrix(-(du / p - fu * d / p**2), dl / p - fl * d / p**2, hi_ok, lo_ok)
            hcc = np.zeros((m, m))
            ku = np.asarray(self.endog)[hi_ok]
            kl = np.asarray(self.endog)[lo_ok] - 1
            np.add.at(hcc, (ku, ku), (du / p - fu**2 / p**2)[hi_ok])
            np.add.at(hcc, (kl, kl), (-dl / p - fl**2 / p**2)[lo_ok])
            both = hi_ok & lo_ok
            kb = np.asarray(self.endog)[both]
            cross = (fu * fl / p**2)[both]
            np.add.at(hcc, (kb, kb - 1), cross)
            np.add.at(hcc, (kb - 1, kb), cross)
            J = self._jacobian(params)
            gc = self._cut_matrix(fu / p, -fl / p, hi_ok, lo_ok).sum(axis=0)
            htt = J.T @ hcc @ J
            th = params[k:]
            for i in range(1, m):  # second derivative of c_j in th_i: exp(th_i) for j >= i
                htt[i, i] += np.exp(th[i]) * gc[i:].sum()
            H = np.zeros((k + m, k + m))
            H[:k, :k] = hbb
            H[:k, k:] = hbc @ J
            H[k:, :k] = H[:k, k:].T
            H[k:, k:] = htt
            return H

    return ExactOrderedModel


def ordinal_logit(data: pd.DataFrame, formula: str, distr: str = "logit", cluster: str | None = None,
                  level: float = 0.95, gtol: float = 1e-6) -> ModelResult:
    """Proportional-odds (cumulative logit) model of an ordinal item, ``"item ~ x1 + C(district_id)"``.

    ``P(Y <= j | x) = F(c_j - x'b)`` with ``F`` logistic (``distr="logit"``) or normal
    (``"probit"``), the parametrisation of R ``ordinal::clm`` and ``MASS::polr``
    (McCullagh 1980). The right-hand side is expanded with treatment coding and the
    intercept dropped (the cut-points play its role), so categorical fixed effects such as
    district dummies are identified. The outcome's levels are its sorted values, or the
    categories of an ordered ``Categorical`` (in their order; unused ones dropped).

    Fitted with statsmodels ``OrderedModel`` given exact derivatives: BFGS from the
    null model, then Newton-Raphson to convergence; the largest absolute score (gradient of
    the log-likelihood) at the estimate must be below ``gtol`` (``ordinal::clm``'s
    ``gradTol``), otherwise a ``ConvergenceWarning`` is issued (e.g. under separation, when
    the estimates diverge). The model-based SEs come from the exact Hessian, so coefficients,
    cut-points and SEs equal ``ordinal::clm``'s (tests/test_models_r.py).

    Parameters
    ----------
    data : frame with the outcome, the regressors and ``cluster``; rows with a missing
        value in any of them are dropped.
    formula : ``"y ~ rhs"`` (patsy right-hand side).
    distr : ``"logit"`` (proportional odds) or ``"probit"``.
    cluster : column whose values define clusters for cluster-robust (sandwich) SEs,
        statsmodels' convention with the ``G/(G-1) (N-1)/(N-K)`` correction, intervals and
        p-values on the t distribution with ``G - 1`` df, like :func:`binomial_glm`.
        ``None`` (default): model-based SEs, normal intervals.
    level : confidence level of the intervals.
    gtol : convergence criterion on the largest absolute score.

    Returns
    -------
    ModelResult
        ``terms``: ``term, estimate, se, ci_low, ci_high, p``, one row per regression
        coefficient, then one per cut-point named ``"1/2"``, ``"2/3"``, ... (lower/upper
        level) on the latent scale (statsmodels' first cut-point and log-increments
        converted, with delta-method SEs: at the maximum these equal the SEs of the
        cut-points themselves). ``result``: the statsmodels ``OrderedResults``.
        ``info``: ``levels``, ``distr``, ``clusters`` (``None`` without ``cluster``),
        ``max_abs_score``, ``converged``, ``loglike``.
    """
    import warnings

    import patsy
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    if distr not in ("logit", "probit"):
        raise ValueError(f"distr must be 'logit' or 'probit', not {distr!r}")
    yname, rhs = (s.strip() for s in formula.split("~", 1))
    cols = _formula_vars(formula, data) + ([cluster] if cluster else [])
    d = _prepare(data, list(dict.fromkeys(cols)))
    X = patsy.dmatrix("1 + " + rhs, d, return_type="dataframe")
    X = X.drop(columns="Intercept")
    yv = d[yname]
    if isinstance(yv.dtype, pd.CategoricalDtype) and yv.cat.ordered:
        levels = [c for c in yv.cat.categories if (yv == c).any()]
    else:
        levels = sorted(yv.unique())
    if len(levels) < 2:
        raise ValueError(f"{yname} has fewer than two levels in the rows used; an ordinal model needs two or more")
    y = pd.Series(pd.Categorical(yv, categories=levels, ordered=True), name=yname)
    model = _exact_ordered_model()(y, X, distr=distr)
    fit_kw = {"method": "newton", "disp": False, "maxiter": 100, "tol": 1e-12}
    n_clusters = None
    if cluster is not None:
        g = pd.factorize(d[cluster])[0]
        n_clusters = int(g.max() + 1)
        fit_kw.update(cov_type="cluster", cov_kwds={"groups": g}, use_t=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # judged below on the score itself
        # BFGS brings the null-model start near the maximum, Newton converges from there
        start = model.fit(method="bfgs", disp=False, maxiter=1000, gtol=1e-8)
        res = model.fit(start_params=start.params, **fit_kw)
    score = float(np.max(np.abs(model.score(np.asarray(res.params)))))
    converged = bool(np.isfinite(score) and score <= gtol)
    if not converged:
        warnings.warn(f"ordinal_logit({formula!r}) did not converge: largest absolute score {score:.3g} > "
                      f"gtol {gtol:g}; check for categories that no one in a group chose (separation)",
                      ConvergenceWarning, stacklevel=2)
    t = tidy(res, level)
    k = X.shape[1]
    # statsmodels parametrises the cut-points as the first one then log-increments:
    # cut_j = th_1 + sum_{i=2..j} exp(th_i); delta-method SEs from the parameter covariance
    cuts = model.transform_threshold_params(np.asarray(res.params))[1:-1]
    J = model._jacobian(np.asarray(res.params))
    V = np.asarray(res.cov_params())[k:, k:]
    se = np.sqrt(np.diag(J @ V @ J.T))
    ref = stats.t(n_clusters - 1) if n_clusters is not None else stats.norm()
    q = ref.ppf((1 + level) / 2)
    lab = [f"{_fmt_level(a)}/{_fmt_level(b)}" for a, b in zip(levels[:-1], levels[1:])]
    thr = pd.DataFrame({"term": lab, "estimate": cuts, "se": se, "ci_low": cuts - q * se,
                        "ci_high": cuts + q * se, "p": 2 * ref.sf(np.abs(cuts / se))})
    terms = pd.concat([t.iloc[:k], thr], ignore_index=True)
    return ModelResult(terms, res, int(res.nobs), {"levels": levels, "distr": distr, "clusters": n_clusters,
                                                   "max_abs_score": score, "converged": converged,
                                                   "loglike": float(res.llf)})


def _lme4_fe_cov(res, d: pd.DataFrame, group: str, nested: str | None) -> np.ndarray:
    """``sigma^2 (X' V^-1 X)^-1`` at the (RE)ML estimates, with ``V = I + Z Lambda Lambda' Z'``.

    The covariance of the fixed effects that ``lme4::lmer`` reports (``vcov``; Bates et
    al. 2015, eq. 51-54): the fixed effects' GLS covariance with the variance components
    taken as known. Computed per ``group`` through the Woodbury identity
    ``X'V^-1 X = X'X - X'Z L (I + L Z'Z L)^-1 L Z'X`` with ``Z`` = [group intercept,
    nested-unit dummies] and ``L`` the relative standard deviations (zeros allowed).
    """
    X = np.asarray(res.model.exog, dtype=float)
    scale = float(res.scale)
    sd_g = np.sqrt(max(float(np.asarray(res.cov_re)[0, 0]), 0.0) / scale)
    sd_n = np.sqrt(max(float(np.asarray(res.vcomp)[0]), 0.0) / scale) if nested else 0.0
    A = np.zeros((X.shape[1], X.shape[1]))
    nested_vals = d[nested].to_numpy() if nested else None
    for idx in d.groupby(group, sort=False).indices.values():
        Xg = X[idx]
        cols = [np.full((len(idx), 1), sd_g)]
        if nested:
            codes = pd.factorize(nested_vals[idx])[0]
            cols.append(np.eye(codes.max() + 1)[codes] * sd_n)
        ZL = np.hstack(cols)
        XZ = Xg.T @ ZL
        A += Xg.T @ Xg - XZ @ np.linalg.solve(np.eye(ZL.shape[1]) + ZL.T @ ZL, XZ.T)
    return scale * np.linalg.inv(A)


def _fit_mixedlm(model, reml: bool, start=None, free=None):
    """MixedLM fitted to a tight optimum: L-BFGS (Powell if it fails), then BFGS to a gradient of 1e-10.

    L-BFGS alone stops with a score of ~1e-2, which moves the variance components in the
    5th digit. ``start``/``free``: statsmodels' ``MixedLMParams`` (free = 0 holds a parameter
    at its start value). statsmodels' ConvergenceWarnings and singular random-effects warnings
    are silenced: the caller judges the score and reports a boundary fit itself.
    """
    import warnings

    from statsmodels.tools.sm_exceptions import ConvergenceWarning, SingularMatrixWarning

    res = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", SingularMatrixWarning)
        for method in ("lbfgs", "powell"):
            try:
                res = model.fit(reml=reml, method=method, start_params=start, free=free)
                if res.converged:
                    break
            except (np.linalg.LinAlgError, ValueError):  # pragma: no cover - optimiser trouble
                continue
        if res is None:  # pragma: no cover
            raise RuntimeError("MixedLM did not fit")
        try:
            polished = model.fit(reml=reml, method="bfgs", start_params=res.params_object.copy(), free=free,
                                 gtol=1e-10, maxiter=500)
            if np.all(np.isfinite(polished.params)):
                res = polished
        except (np.linalg.LinAlgError, ValueError):  # pragma: no cover
            pass
    return res


def _restart_bfgs(model, reml: bool, res, restarts: int = 5):
    """BFGS restarted from its own optimum while the profiled score falls (at most ``restarts`` times).

    One BFGS pass can stop at a score of ~1e-4 when its line search stalls (the synthetic survey's
    satisfaction model did); a restart, with a fresh Hessian approximation, goes on. Used for
    interior optima only (a boundary fit holds a parameter fixed and is left as it is)."""
    import warnings

    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    best = _mixedlm_score(model, res)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(restarts):
            if best <= 1e-7:
                break
            try:
                again = model.fit(reml=reml, method="bfgs", start_params=res.params_object.copy(), gtol=1e-10,
                                  maxiter=500)
            except (np.linalg.LinAlgError, ValueError):  # pragma: no cover
                break
            score = _mixedlm_score(model, again) if np.all(np.isfinite(again.params)) else np.inf
            if not score < best:
                break
            res, best = again, score
    return res


def _mixedlm_score(model, res) -> float:
    """Largest absolute score of the profiled (RE)ML log-likelihood at ``res`` (its free parameters)."""
    packed = res.params_object.get_packed(use_sqrt=model.use_sqrt, has_fe=False)
    return float(np.max(np.abs(model.score(packed)), initial=0.0))


def _relative_sds(res, group: str, nested: str | None) -> dict:
    """Random-intercept sds relative to the residual sd (lme4's theta)."""
    out = {f"var({group})": np.sqrt(max(float(np.asarray(res.cov_re)[0, 0]), 0.0) / res.scale)}
    if nested:
        out[f"var({nested})"] = np.sqrt(max(float(np.asarray(res.vcomp)[0]), 0.0) / res.scale)
    return out


def mixed_model(data: pd.DataFrame, formula: str, group: str = "district_id", nested: str | None = "community_id",
                level: float = 0.95, reml: bool = True, se: str = "lme4") -> ModelResult:
    """Linear mixed model with random intercepts for ``group`` and ``nested`` units.

    ``y ~ x`` fixed effects; a random intercept per ``group`` (district) and, if ``nested``
    is given, a variance component for ``nested`` units inside each group (community random
    intercepts): R ``lme4::lmer(y ~ x + (1 | group) + (1 | group:nested))``. Fitted by
    statsmodels ``MixedLM`` (REML by default): L-BFGS, then BFGS to a tight gradient
    tolerance so that the estimates equal lmer's at its optimum (tests/test_models_r.py);
    a ``ConvergenceWarning`` is issued when the largest absolute score of the profiled
    (RE)ML log-likelihood exceeds ``1e-4``.

    Parameters
    ----------
    data : frame with the model variables, ``group`` and ``nested``; rows with a missing
        value in any of them are dropped.
    formula : ``"y ~ x1 + x2"`` (fixed effects).
    group, nested : grouping column and the column of units nested in it (``nested=None``
        for a random intercept per group only). ``nested`` values need not be unique across
        groups: units are taken within their group, as ``group:nested`` in lme4.
    level : confidence level of the fixed-effect intervals (normal, Wald).
    reml : REML (default) or maximum likelihood.
    se : covariance of the fixed effects.

        * ``"lme4"`` (default): ``sigma^2 (X' V^-1 X)^-1`` at the estimates, the
          variance components taken as known - what ``lme4::lmer`` (``vcov``) and Stata's
          ``mixed`` report, and the usual convention for REML.
        * ``"statsmodels"``: statsmodels' default, the inverse of the joint observed
          Hessian of the log-likelihood in the fixed effects and the variance parameters;
          it differs from lme4's in the 4th significant digit (more where the variance
          components are poorly determined).

        The chosen covariance is also the fit's ``result.cov_params()`` (for ``"lme4"``
        its fixed-effect block is replaced and the cross block with the variance
        parameters set to 0), so ``result.summary()``, ``result.t_test`` and
        :meth:`ModelResult.contrast` agree with ``terms``.

    Returns
    -------
    ModelResult
        ``terms``: one row per fixed effect (``term, estimate, se, ci_low, ci_high, p``), then
        variance estimates ``"var(<group>)"``, ``"var(<nested>)"`` and ``"var(residual)"``
        (estimate only). ``result``: statsmodels ``MixedLMResults``. ``info``:
        ``converged``, ``k_fe``, ``se`` (the convention), ``max_abs_score``.
    """
    import warnings

    import statsmodels.formula.api as smf
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    if se not in ("lme4", "statsmodels"):
        raise ValueError(f"se must be 'lme4' or 'statsmodels', not {se!r}")
    cols = _formula_vars(formula, data) + [group] + ([nested] if nested else [])
    d = _prepare(data, list(dict.fromkeys(cols)))
    vc = {nested: f"0 + C({nested})"} if nested else None
    model = smf.mixedlm(formula, d, groups=d[group], re_formula="1", vc_formula=vc)
    # MixedLM works on many small per-group matrices: threaded BLAS only adds synchronisation, and on
    # a busy machine (pytest -n 2 on two cores) it made this fit 30 times slower (120 s, not 4 s, on
    # the synthetic survey)
    with threadpool_limits(limits=1, user_api="blas"):
        res = _fit_mixedlm(model, reml)
        rel_sd = _relative_sds(res, group, nested)
        at_zero = [name for name, v in rel_sd.items() if v < 1e-4]
        if not at_zero:
            res = _restart_bfgs(model, reml, res)
        if at_zero:
            # a variance at 0 (lme4's isSingular rule: relative sd below 1e-4): BFGS creeps towards
            # the boundary without reaching it, so fix those at (practically) 0 and refit the rest
            from statsmodels.regression.mixed_linear_model import MixedLMParams

            start = res.params_object.copy()
            free = MixedLMParams.from_components(fe_params=np.ones(len(res.fe_params)), cov_re=np.ones((1, 1)),
                                                 vcomp=np.ones(len(np.atleast_1d(res.vcomp))))
            if f"var({group})" in at_zero:
                start.cov_re, free.cov_re = np.full((1, 1), 1e-12), np.zeros((1, 1))
            if nested and f"var({nested})" in at_zero:
                start.vcomp, free.vcomp = np.full(1, 1e-12), np.zeros(1)
            res = _fit_mixedlm(model, reml, start=start, free=free)
            warnings.warn(f"mixed_model({formula!r}): boundary (singular) fit, {', '.join(at_zero)} estimated at 0 "
                          "(lme4's isSingular rule); consider dropping that random intercept",
                          ConvergenceWarning, stacklevel=2)
        # converged: the score of the profiled (RE)ML log-likelihood in the free parameters is ~0
        # (those fixed at the boundary score 0 under statsmodels' free pattern)
        packed = res.params_object.get_packed(use_sqrt=model.use_sqrt, has_fe=False)
        score = float(np.max(np.abs(model.score(packed)), initial=0.0))
        converged = bool(np.isfinite(score) and score <= 1e-4)
        if not converged:
            warnings.warn(f"mixed_model({formula!r}) did not converge: largest absolute score {score:.3g}",
                          ConvergenceWarning, stacklevel=2)
        k = len(res.fe_params)
        if se == "lme4":
            cov = np.array(res.cov_params(), dtype=float)
            cov[:k, :] = 0.0
            cov[:, :k] = 0.0
            cov[:k, :k] = _lme4_fe_cov(res, d, group, nested)
            # the wrapped results object carries the covariance (statsmodels' robust covariances are
            # attached the same way); bse, bse_fe, tvalues ... were cached from the old one
            res._results.cov_params_default = cov
            res._results._cache = {}
    z = stats.norm.ppf((1 + level) / 2)
    est = np.asarray(res.fe_params)
    se_fe = np.sqrt(np.diag(np.asarray(res.cov_params())[:k, :k]))
    terms = pd.DataFrame({"term": list(res.fe_params.index), "estimate": est, "se": se_fe,
                          "ci_low": est - z * se_fe, "ci_high": est + z * se_fe,
                          "p": 2 * stats.norm.sf(np.abs(est / se_fe))})
    var_rows = [{"term": f"var({group})", "estimate": float(np.asarray(res.cov_re)[0, 0])}]
    if nested:
        var_rows.append({"term": f"var({nested})", "estimate": float(np.asarray(res.vcomp)[0])})
    for row in var_rows:
        if row["term"] in at_zero:
            row["estimate"] = 0.0
    var_rows.append({"term": "var(residual)", "estimate": float(res.scale)})
    terms = pd.concat([terms, pd.DataFrame(var_rows)], ignore_index=True)
    return ModelResult(terms, res, int(res.nobs), {"converged": converged, "k_fe": k, "se": se,
                                                   "max_abs_score": score})


def latent_mean_correlation(units: pd.DataFrame, x: str, micro: pd.DataFrame, y: str, unit: str,
                            n_boot: int = 999, level: float = 0.95, seed=None,
                            n_population: int | None = None) -> dict:
    """Correlation between unit-level ``x`` and the *true* unit means of ``y``.

    The unit means of ``y`` observed in a sample (``micro``, one row per
    respondent) are noisy; their correlation with ``x`` is attenuated by the
    reliability ``lambda = var_true / var_observed`` of the means, with
    ``var_true = var(ybar) - mean(s_c^2 / n_c)``. The corrected estimate is
    ``r_obs / sqrt(lambda)`` (Spearman 1904). The interval is a percentile
    bootstrap resampling units (which carries the within-unit noise of the
    means with them). When the target is the correlation over a finite
    population of ``n_population`` units of which the ``n`` sampled ones are
    a sizeable fraction ``f = n / n_population``, the bootstrap deviations
    are shrunk by the finite-population correction ``sqrt(1 - f)`` (Cochran
    1977, sect. 2.5; the with-replacement bootstrap ignores it). Returns a dict
    with ``estimate``, ``ci_low``, ``ci_high``, ``r_observed``,
    ``reliability``, ``n_units``.
    """
    rng = np.random.default_rng(seed)
    m = micro[[unit, y]].dropna()
    g = m.groupby(unit)[y]
    agg = pd.DataFrame({"ybar": g.mean(), "s2": g.var(ddof=1), "n": g.size()})
    agg = agg[agg["n"] >= 2].join(units.set_index(unit)[[x]], how="inner").dropna()
    if len(agg) < 5:
        raise ValueError("need at least five units with two or more respondents")

    def est(xv, yb, s2, n):
        r = np.corrcoef(xv, yb)[0, 1]
        vobs = np.var(yb, ddof=1)
        lam = (vobs - np.mean(s2 / n)) / vobs
        return r / np.sqrt(lam) if lam > 0 else np.nan, r, lam

    e, r_obs, lam = est(agg[x].to_numpy(float), agg["ybar"].to_numpy(), agg["s2"].to_numpy(), agg["n"].to_numpy())
    xs = agg[x].to_numpy(float)
    yb, s2, nn = agg["ybar"].to_numpy(), agg["s2"].to_numpy(), agg["n"].to_numpy(float)
    boots = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(xs), len(xs))
        boots.append(est(xs[idx], yb[idx], s2[idx], nn[idx])[0])
    boots = np.asarray(boots)
    boots = boots[np.isfinite(boots)]
    a = (1 - level) / 2
    lo, hi = np.quantile(boots, [a, 1 - a])
    fpc = 1.0
    if n_population is not None:
        if n_population < len(agg):
            raise ValueError(f"n_population ({n_population}) is smaller than the units sampled ({len(agg)})")
        fpc = float(np.sqrt(1 - len(agg) / n_population))
        lo, hi = e + fpc * (lo - e), e + fpc * (hi - e)
    return {"estimate": float(e), "ci_low": float(lo), "ci_high": float(hi), "r_observed": float(r_obs),
            "reliability": float(lam), "n_units": int(len(agg)), "fpc": fpc}


def variance_components(fit: ModelResult, group: str = "district_id", nested: str | None = "community_id",
                        level: float = 0.95) -> pd.DataFrame:
    """Standard deviations of a :func:`mixed_model` fit's random intercepts and residual, with intervals.

    Returns ``term`` (``sd(<group>)``, ``sd(<nested>)``, ``sd(residual)``), ``estimate``, ``se``,
    ``ci_low``, ``ci_high``, ``df``. The intervals are chi-square intervals for a variance,
    ``sqrt(v df / chi2_{1-a/2, df})`` to ``sqrt(v df / chi2_{a/2, df})``, with the degrees of
    freedom of the balanced one-way ANOVA approximation (Searle, Casella & McCulloch 1992, ch. 3):
    ``G - 1`` for the group (the realised group effects), ``2 v_c^2 / Var(v_c)`` with
    ``Var(v_c) = 2 (v_c + v_e/n)^2 / (m - 1) + 2 (v_e/n)^2 / (N - m)`` for the nested units (``m``
    units, ``n`` their harmonic mean size) and ``N - p`` for the residual (``p`` fixed effects).
    ``se`` is the delta-method standard error of the sd, ``sd / sqrt(2 df)``. A variance
    estimated at 0 gets the interval of 1e-12.
    """
    t = fit.terms.set_index("term")["estimate"]
    v_g, v_e = float(t[f"var({group})"]), float(t["var(residual)"])
    d = fit.result.model.data.frame
    rows = [(f"sd({group})", v_g, d[group].nunique() - 1)]
    if nested is not None:
        v_c = float(t[f"var({nested})"])
        sizes = d.groupby(nested).size()
        m = sizes.size
        n_h = m / float(np.sum(1.0 / sizes))
        var_vc = 2 * (v_c + v_e / n_h) ** 2 / (m - 1) + 2 * (v_e / n_h) ** 2 / (len(d) - m)
        rows.append((f"sd({nested})", v_c, 2 * v_c**2 / var_vc if v_c > 0 else 1.0))
    rows.append(("sd(residual)", v_e, len(d) - fit.info.get("k_fe", 1)))
    a = (1 - level) / 2
    out = []
    for term, v, df in rows:
        sd, v = float(np.sqrt(max(v, 0.0))), max(v, 1e-12)
        out.append({"term": term, "estimate": sd, "se": sd / np.sqrt(2 * df),
                    "ci_low": float(np.sqrt(v * df / stats.chi2.ppf(1 - a, df))),
                    "ci_high": float(np.sqrt(v * df / stats.chi2.ppf(a, df))), "df": float(df)})
    return pd.DataFrame(out)
