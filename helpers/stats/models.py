"""Regression models with statsmodels underneath and tidy frames out.

Every helper returns a :class:`ModelResult`: ``.terms`` is a tidy frame with
one row per coefficient (``term, estimate, se, ci_low, ci_high, p``) and
``.result`` is the fitted statsmodels result (``.result.summary()``).
Inputs are never modified; rows with a missing value in any model variable
(or the cluster variable) are dropped and counted in ``.nobs``.

* :func:`binomial_glm` - logistic regression for 0/1 outcomes or for
  ``successes`` out of ``trials`` (coverage, registration, participation
  rates), cluster-robust (sandwich) SEs by ``cluster`` (default the
  district), with t-based intervals on ``G - 1`` degrees of freedom
  (Cameron & Miller 2015).
* :func:`ols` - linear (probability) model with cluster-robust SEs.
* :func:`ordinal_logit` - proportional-odds model for 1-5 items
  (statsmodels ``OrderedModel``; McCullagh 1980). Thresholds are reported as
  terms ``"1/2"``, ``"2/3"``, ... on the latent scale.
* :func:`mixed_model` - linear mixed model with random intercepts for a
  grouping (district) and a nested variance component (community), via
  ``MixedLM`` (REML).
* :func:`latent_mean_correlation` - correlation between a unit-level
  variable and the unit means of a noisy survey variable, corrected for the
  sampling noise of those means (Spearman 1904 disattenuation), with a
  bootstrap interval over units.

References
----------
Cameron AC, Miller DL (2015). A practitioner's guide to cluster-robust
inference. J Human Resources 50:317-372.
McCullagh P (1980). Regression models for ordinal data. JRSS B 42:109-142.
Spearman C (1904). The proof and measurement of association between two things.
"""
from __future__ import annotations

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
    return str(int(v)) if float(v).is_integer() else str(v)


def ordinal_logit(data: pd.DataFrame, formula: str, distr: str = "logit", cluster: str | None = None,
                  level: float = 0.95) -> ModelResult:
    """Proportional-odds (ordered logit) model of a 1-5 item, ``"item ~ x1 + C(district_id)"``.

    The right-hand side is expanded with treatment coding and the intercept
    dropped (the thresholds play its role), so categorical fixed effects
    such as district dummies are identified. ``cluster`` gives
    cluster-robust SEs (default: model-based). Thresholds appear as terms
    ``"1/2"``, ``"2/3"``, ... on the latent scale (statsmodels' first
    cut-point and log-increments are converted to cut-points, with
    delta-method SEs).
    """
    import patsy
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    yname, rhs = (s.strip() for s in formula.split("~", 1))
    cols = _formula_vars(formula, data) + ([cluster] if cluster else [])
    d = _prepare(data, list(dict.fromkeys(cols)))
    X = patsy.dmatrix("1 + " + rhs, d, return_type="dataframe")
    X = X.drop(columns="Intercept")
    levels = sorted(d[yname].unique())
    y = pd.Series(pd.Categorical(d[yname], categories=levels, ordered=True), name=yname)
    model = OrderedModel(y, X, distr=distr)
    fit_kw = {"method": "bfgs", "disp": False, "maxiter": 1000}
    if cluster is not None:
        fit_kw.update(cov_type="cluster", cov_kwds={"groups": pd.factorize(d[cluster])[0]})
    res = model.fit(**fit_kw)
    t = tidy(res, level)
    k = X.shape[1]
    # statsmodels parametrises the cut-points as the first one then log-increments:
    # cut_j = th_1 + sum_{i=2..j} exp(th_i); delta-method SEs from the parameter covariance
    th = np.asarray(res.params)[k:]
    cuts = model.transform_threshold_params(np.asarray(res.params))[1:-1]
    J = np.zeros((th.size, th.size))
    J[:, 0] = 1.0
    for j in range(1, th.size):
        J[j:, j] = np.exp(th[j])
    V = np.asarray(res.cov_params())[k:, k:]
    se = np.sqrt(np.diag(J @ V @ J.T))
    zq = stats.norm.ppf((1 + level) / 2)
    lab = [f"{_fmt_level(a)}/{_fmt_level(b)}" for a, b in zip(levels[:-1], levels[1:])]
    thr = pd.DataFrame({"term": lab, "estimate": cuts, "se": se, "ci_low": cuts - zq * se,
                        "ci_high": cuts + zq * se, "p": 2 * stats.norm.sf(np.abs(cuts / se))})
    terms = pd.concat([t.iloc[:k], thr], ignore_index=True)
    return ModelResult(terms, res, int(res.nobs), {"levels": levels, "distr": distr})


def mixed_model(data: pd.DataFrame, formula: str, group: str = "district_id", nested: str | None = "community_id",
                level: float = 0.95, reml: bool = True) -> ModelResult:
    """Linear mixed model with random intercepts for ``group`` and ``nested`` units.

    ``y ~ x`` fixed effects; a random intercept per ``group`` (district) and,
    if ``nested`` is given, a variance component for ``nested`` units inside
    each group (community random intercepts). Variance estimates appear as
    terms ``"var(<group>)"``, ``"var(<nested>)"`` and ``"var(residual)"``
    (estimate only). Fixed-effect intervals are normal (Wald).
    """
    import statsmodels.formula.api as smf

    cols = _formula_vars(formula, data) + [group] + ([nested] if nested else [])
    d = _prepare(data, list(dict.fromkeys(cols)))
    vc = {nested: f"0 + C({nested})"} if nested else None
    model = smf.mixedlm(formula, d, groups=d[group], re_formula="1", vc_formula=vc)
    res = None
    for method in ("lbfgs", "powell"):
        try:
            res = model.fit(reml=reml, method=method)
            if res.converged:
                break
        except (np.linalg.LinAlgError, ValueError):  # pragma: no cover - optimiser trouble
            continue
    if res is None:  # pragma: no cover
        raise RuntimeError("MixedLM did not fit")
    k = len(res.fe_params)
    z = stats.norm.ppf((1 + level) / 2)
    est = np.asarray(res.fe_params)
    se = np.asarray(res.bse_fe)
    terms = pd.DataFrame({"term": list(res.fe_params.index), "estimate": est, "se": se,
                          "ci_low": est - z * se, "ci_high": est + z * se,
                          "p": 2 * stats.norm.sf(np.abs(est / se))})
    var_rows = [{"term": f"var({group})", "estimate": float(np.asarray(res.cov_re)[0, 0])}]
    if nested:
        var_rows.append({"term": f"var({nested})", "estimate": float(np.asarray(res.vcomp)[0])})
    var_rows.append({"term": "var(residual)", "estimate": float(res.scale)})
    terms = pd.concat([terms, pd.DataFrame(var_rows)], ignore_index=True)
    return ModelResult(terms, res, int(res.nobs), {"converged": bool(res.converged), "k_fe": k})


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
