"""Model helpers on small simulations: tidy terms, clustering, ordinal, mixed and mediation."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from helpers.stats import models
from helpers.stats.mediation import mediation

TERM_COLUMNS = ["term", "estimate", "se", "ci_low", "ci_high", "p"]


def _survey_sim(seed=0, n_d=8, n_c=25, n_i=12):
    """A miniature of the DGP in docs/synthetic_dgp.md (survey part)."""
    rng = np.random.default_rng(seed)
    d = np.repeat(np.arange(n_d), n_c * n_i)
    c = np.repeat(np.arange(n_d * n_c), n_i)
    n = d.size
    a_d = rng.normal(-0.3, 0.35, n_d)
    p_d = rng.uniform(0.1, 0.22, n_d)
    u_d = rng.normal(0, 4, n_d)
    v_c = rng.normal(0, 3, n_d * n_c)
    mig = rng.uniform(0, 0.5, n_d * n_c)
    s60 = rng.uniform(0.05, 0.35, n_d * n_c)
    walk = rng.gamma(2, 9, n)
    w15 = (walk <= 15).astype(float)
    band = ((walk > 15) & (walk <= 30)).astype(float)
    aware = (rng.uniform(size=n) < expit(a_d[d] + 0.9 * w15 + 0.4 * band - 1.5 * mig[c])).astype(float)
    part = (rng.uniform(size=n) < p_d[d] + 0.15 * aware + 0.4 * s60[c]).astype(float)
    sat = 55 + 6 * part + 4 * aware + 3 * w15 + u_d[d] + v_c[c] + rng.normal(0, 12, n)
    lat = 0.5 * w15 + 0.8 * aware + rng.normal(0, 0.3, n_d)[d] + rng.logistic(size=n)
    sat_service = 1 + (lat[:, None] > np.array([-1.2, 0.0, 1.3, 2.6])).sum(axis=1)
    return pd.DataFrame({
        "district_id": [f"D{k:02d}" for k in d], "community_id": [f"C{k:04d}" for k in c],
        "within15": w15, "band15_30": band, "migrant_share": mig[c], "share_60plus": s60[c],
        "aware_center": aware, "participated": part, "sat_score": sat, "sat_service": sat_service,
    })


@pytest.fixture(scope="module")
def sim():
    return _survey_sim()


def test_tidy_columns_and_cluster_t_intervals(sim):
    before = sim.copy()
    res = models.binomial_glm(sim, "aware_center ~ within15 + band15_30 + migrant_share + C(district_id)",
                              cluster="community_id")
    pd.testing.assert_frame_equal(sim, before)
    assert list(res.terms.columns) == TERM_COLUMNS
    r = res.term("within15")
    assert r["ci_low"] < 0.9 < r["ci_high"]
    assert res.info["clusters"] == sim["community_id"].nunique()
    # t interval on G-1 df
    from scipy import stats

    half = stats.t.ppf(0.975, res.info["clusters"] - 1) * r["se"]
    assert r["ci_high"] - r["estimate"] == pytest.approx(half, rel=1e-6)
    assert "within15" in str(res.summary())
    with pytest.raises(KeyError):
        res.term("nope")


def test_binomial_glm_aggregated_equals_microdata(sim):
    micro = models.binomial_glm(sim, "aware_center ~ within15 + C(district_id)", cluster=None)
    agg = sim.groupby(["district_id", "within15"], as_index=False).agg(k=("aware_center", "sum"),
                                                                      n=("aware_center", "size"))
    grouped = models.binomial_glm(agg, "k ~ within15 + C(district_id)", trials="n", cluster=None)
    assert grouped.term("within15")["estimate"] == pytest.approx(micro.term("within15")["estimate"], rel=1e-6)
    with pytest.raises(ValueError):
        models.binomial_glm(agg.assign(k=agg["n"] + 1), "k ~ within15", trials="n", cluster=None)


def test_binomial_glm_drops_missing_rows(sim):
    s = sim.copy()
    s.loc[::10, "within15"] = np.nan
    res = models.binomial_glm(s, "aware_center ~ within15 + C(district_id)", cluster="district_id")
    assert res.nobs == s["within15"].notna().sum()
    assert res.info["clusters"] == 8


def test_ols_lpm(sim):
    res = models.ols(sim, "participated ~ aware_center + share_60plus + C(district_id)", cluster="community_id")
    r = res.term("aware_center")
    assert r["ci_low"] < 0.15 < r["ci_high"]
    assert list(res.terms.columns) == TERM_COLUMNS


def test_ordinal_logit_recovers_coefficients(sim):
    res = models.ordinal_logit(sim, "sat_service ~ within15 + aware_center + C(district_id)")
    for term, truth in (("within15", 0.5), ("aware_center", 0.8)):
        r = res.term(term)
        assert r["ci_low"] - 0.05 < truth < r["ci_high"] + 0.05
    thr = res.terms[res.terms["term"].str.contains("/")]
    assert list(thr["term"]) == ["1/2", "2/3", "3/4", "4/5"]
    assert thr["estimate"].is_monotonic_increasing
    assert thr["se"].notna().all() and (thr["se"] > 0).all()
    for cut, truth in zip(thr.itertuples(), (-1.2, 0.0, 1.3, 2.6)):
        # cut-points are confounded with the district shifts of the reference district only
        assert abs(cut.estimate - truth) < 1.0


def test_mixed_model_recovers_fixed_effects_and_variances(sim):
    res = models.mixed_model(sim, "sat_score ~ participated + aware_center + within15", group="district_id",
                             nested="community_id")
    for term, truth in (("participated", 6), ("aware_center", 4), ("within15", 3)):
        r = res.term(term)
        assert r["ci_low"] - 0.3 < truth < r["ci_high"] + 0.3
    assert res.term("var(residual)")["estimate"] == pytest.approx(144, rel=0.1)
    assert 2 < res.term("var(community_id)")["estimate"] < 20
    assert res.info["converged"]


def test_ordinal_logit_exact_derivatives_match_numerical(sim):
    """The analytic score, per-observation score and Hessian equal finite differences (logit, probit)."""
    from statsmodels.tools.numdiff import approx_fprime, approx_hess

    for distr in ("logit", "probit"):
        res = models.ordinal_logit(sim, "sat_service ~ within15 + aware_center + C(district_id)", distr=distr)
        m = res.result.model
        p = np.asarray(res.result.params) + 0.05  # away from the maximum
        np.testing.assert_allclose(m.score(p), approx_fprime(p, m.loglike, centered=True), rtol=1e-6, atol=1e-5)
        np.testing.assert_allclose(m.score_obs(p), approx_fprime(p, m.loglikeobs, centered=True), atol=1e-6)
        H = m.hessian(p)
        np.testing.assert_allclose(H, approx_hess(p, m.loglike), rtol=1e-4, atol=1e-6 * np.abs(H).max())
        assert res.info["converged"] and res.info["max_abs_score"] < 1e-6


def test_ordinal_logit_ordered_categorical_and_convergence_check(sim):
    labels = np.array(["very poor", "poor", "fair", "good", "very good"])
    cat = pd.Categorical(labels[sim["sat_service"].to_numpy() - 1], categories=list(labels), ordered=True)
    a = models.ordinal_logit(sim.assign(item=cat), "item ~ within15 + aware_center")
    b = models.ordinal_logit(sim, "sat_service ~ within15 + aware_center")
    assert list(a.terms["term"][2:]) == ["very poor/poor", "poor/fair", "fair/good", "good/very good"]
    np.testing.assert_allclose(a.terms["estimate"], b.terms["estimate"], rtol=1e-10)
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    with pytest.warns(ConvergenceWarning, match="did not converge"):
        c = models.ordinal_logit(sim, "sat_service ~ within15 + aware_center", gtol=1e-300)
    assert not c.info["converged"]
    with pytest.raises(ValueError, match="logit"):
        models.ordinal_logit(sim, "sat_service ~ within15", distr="cauchy")


@pytest.fixture(scope="module")
def fits(sim):
    """One fit of each kind, clustered and not."""
    ordf = "sat_service ~ within15 + aware_center + C(district_id)"
    return {
        "glm_cluster": models.binomial_glm(sim, "aware_center ~ within15 + band15_30 + migrant_share + C(district_id)",
                                           cluster="community_id"),
        "glm_hc1": models.binomial_glm(sim, "aware_center ~ within15 + band15_30 + C(district_id)", cluster=None),
        "ols_cluster": models.ols(sim, "participated ~ aware_center + share_60plus + C(district_id)",
                                  cluster="district_id"),
        "ols_hc1": models.ols(sim, "participated ~ aware_center + share_60plus", cluster=None),
        "ordinal": models.ordinal_logit(sim, ordf),
        "ordinal_cluster": models.ordinal_logit(sim, ordf, cluster="community_id"),
        "mixed": models.mixed_model(sim, "sat_score ~ participated + aware_center + within15"),
        "mixed_statsmodels": models.mixed_model(sim, "sat_score ~ participated + aware_center + within15",
                                                se="statsmodels"),
    }


@pytest.mark.parametrize("kind", ["glm_cluster", "glm_hc1", "ols_cluster", "ols_hc1", "ordinal", "ordinal_cluster",
                                  "mixed", "mixed_statsmodels"])
def test_contrast_of_one_coefficient_is_its_terms_row(fits, kind):
    """statsmodels' t_test on one coefficient reproduces terms (SE, interval, p, reference distribution)."""
    fit = fits[kind]
    for name in fit._coef_names():
        c = fit.contrast(name)
        assert list(c.columns) == ["term", "estimate", "se", "ci_low", "ci_high", "p", "df"] and len(c) == 1
        row = fit.term(name)
        for col in ("estimate", "se", "ci_low", "ci_high", "p"):
            assert c[col].iloc[0] == pytest.approx(row[col], rel=1e-9, abs=1e-300), (name, col)
    df = c["df"].iloc[0]
    if fit.info.get("clusters") and getattr(fit.result, "use_t", False):
        # t on G - 1 df: statsmodels' df_resid_inference for cluster covariances
        assert df == fit.info["clusters"] - 1 == fit.result.df_resid_inference
    elif not getattr(fit.result, "use_t", False):
        assert df == np.inf


def test_contrast_of_a_difference(fits):
    from scipy import stats

    fit = fits["glm_cluster"]
    c = fit.contrast("within15 - band15_30").iloc[0]
    names = list(fit.result.params.index)
    w = np.zeros(len(names))
    w[names.index("within15")], w[names.index("band15_30")] = 1.0, -1.0
    V = np.asarray(fit.result.cov_params())
    est, se = w @ np.asarray(fit.result.params), np.sqrt(w @ V @ w)
    q = stats.t.ppf(0.975, fit.info["clusters"] - 1)
    assert c["estimate"] == pytest.approx(est) and c["se"] == pytest.approx(se)
    assert c["ci_low"] == pytest.approx(est - q * se) and c["ci_high"] == pytest.approx(est + q * se)
    assert c["p"] == pytest.approx(2 * stats.t.sf(abs(est / se), fit.info["clusters"] - 1))
    assert c["term"] == "within15 - band15_30"
    # the same contrast as a dict and as weights; a test against a value; two rows at once
    d = fit.contrast({"within15": 1, "band15_30": -1}).iloc[0]
    assert d["estimate"] == pytest.approx(est) and d["term"] == "within15 - band15_30"
    assert fit.contrast(w).iloc[0]["se"] == pytest.approx(se)
    v = fit.contrast("within15 - band15_30 = 0.5").iloc[0]
    assert v["estimate"] == pytest.approx(est) and v["ci_low"] == pytest.approx(c["ci_low"])
    assert v["p"] == pytest.approx(2 * stats.t.sf(abs((est - 0.5) / se), fit.info["clusters"] - 1))
    two = fit.contrast("within15 - band15_30, within15")
    assert list(two["term"]) == ["within15 - band15_30", "within15"]
    assert two["estimate"].iloc[1] == pytest.approx(fit.term("within15")["estimate"])
    # mixed model: lme4's covariance
    m = fits["mixed"]
    mc = m.contrast("participated - aware_center").iloc[0]
    Vm = np.asarray(m.result.cov_params())[:4, :4]
    assert mc["se"] == pytest.approx(np.sqrt(Vm[1, 1] + Vm[2, 2] - 2 * Vm[1, 2]))


def test_contrast_errors(fits):
    with pytest.raises(ValueError, match="not regression coefficients"):
        fits["ordinal"].contrast("within15 - 1/2")
    with pytest.raises(KeyError, match="not coefficients"):
        fits["glm_cluster"].contrast({"nope": 1})
    with pytest.raises(ValueError, match="columns"):
        fits["mixed"].contrast([1.0, -1.0])


def test_mixed_model_warns_on_a_boundary_fit():
    """No district effect in the data: its variance is estimated at 0, reported like lme4's isSingular."""
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    rng = np.random.default_rng(3)
    n_c, n_i = 60, 8
    c = np.repeat(np.arange(n_c), n_i)
    x = rng.normal(size=c.size)
    d = pd.DataFrame({"district_id": [f"D{k % 6}" for k in c], "community_id": [f"C{k}" for k in c], "x": x,
                      "y": 2 * x + rng.normal(0, 1, n_c)[c] + rng.normal(0, 2, c.size)})
    with pytest.warns(ConvergenceWarning, match=r"boundary \(singular\) fit, var\(district_id\)") as rec:
        res = models.mixed_model(d, "y ~ x")
    assert not [w for w in rec if "did not converge" in str(w.message)]
    assert res.info["converged"] and res.term("var(district_id)")["estimate"] == 0.0
    # with the district variance at 0 the model is the one with community intercepts only
    alone = models.mixed_model(d, "y ~ x", group="community_id", nested=None)
    for term in ("Intercept", "x"):
        for col in ("estimate", "se"):
            assert res.term(term)[col] == pytest.approx(alone.term(term)[col], rel=1e-6)
    assert res.term("var(community_id)")["estimate"] == pytest.approx(
        alone.term("var(community_id)")["estimate"], rel=1e-6)
    assert res.term("var(residual)")["estimate"] == pytest.approx(alone.term("var(residual)")["estimate"], rel=1e-6)


def test_mediation_product_of_coefficients(sim):
    res = mediation(sim, "aware_center", "participated", "sat_score",
                    mediator_covariates=["share_60plus", "C(district_id)"],
                    outcome_covariates=["within15", "C(district_id)"], cluster="community_id",
                    strata="district_id", n_boot=150, seed=4)
    t = res.terms.set_index("term")
    assert list(res.terms.columns) == TERM_COLUMNS
    assert t.loc["indirect", "estimate"] == pytest.approx(t.loc["a", "estimate"] * t.loc["b", "estimate"])
    assert t.loc["total", "estimate"] == pytest.approx(t.loc["indirect", "estimate"] + t.loc["direct", "estimate"])
    assert t.loc["indirect", "ci_low"] < 0.9 < t.loc["indirect", "ci_high"]
    assert t.loc["direct", "ci_low"] < 4 < t.loc["direct", "ci_high"]
    # the point estimates equal the statsmodels fits
    assert t.loc["a", "estimate"] == pytest.approx(res.result["mediator"].params["aware_center"])
    again = mediation(sim, "aware_center", "participated", "sat_score",
                      mediator_covariates=["share_60plus", "C(district_id)"],
                      outcome_covariates=["within15", "C(district_id)"], cluster="community_id",
                      strata="district_id", n_boot=150, seed=4)
    pd.testing.assert_frame_equal(res.terms, again.terms)
    assert res.n_clusters == sim["community_id"].nunique()
    # the cluster bootstrap SE of a agrees with the cluster-robust sandwich SE
    assert t.loc["a", "se"] == pytest.approx(res.result["mediator"].bse["aware_center"], rel=0.3)


def test_latent_mean_correlation_corrects_attenuation():
    rng = np.random.default_rng(5)
    k, m = 300, 15
    true_mean = rng.normal(60, 3, k)
    x = 0.4 * (true_mean - 60) / 3 + rng.normal(0, np.sqrt(1 - 0.16), k)
    units = pd.DataFrame({"u": np.arange(k), "x": x})
    micro = pd.DataFrame({"u": np.repeat(np.arange(k), m), "y": np.repeat(true_mean, m) + rng.normal(0, 12, k * m)})
    r = models.latent_mean_correlation(units, "x", micro, "y", "u", n_boot=300, seed=1)
    assert r["r_observed"] < r["estimate"]
    assert r["ci_low"] < 0.4 < r["ci_high"]
    assert 0.2 < r["reliability"] < 0.7




def test_latent_mean_correlation_finite_population_correction():
    rng = np.random.default_rng(6)
    k, m = 200, 10
    true_mean = rng.normal(60, 3, k)
    units = pd.DataFrame({"u": np.arange(k), "x": true_mean + rng.normal(0, 3, k)})
    micro = pd.DataFrame({"u": np.repeat(np.arange(k), m), "y": np.repeat(true_mean, m) + rng.normal(0, 6, k * m)})
    a = models.latent_mean_correlation(units, "x", micro, "y", "u", n_boot=200, seed=1)
    b = models.latent_mean_correlation(units, "x", micro, "y", "u", n_boot=200, seed=1, n_population=400)
    assert b["fpc"] == pytest.approx(np.sqrt(0.5))
    assert b["ci_high"] - b["ci_low"] == pytest.approx(np.sqrt(0.5) * (a["ci_high"] - a["ci_low"]))
    with pytest.raises(ValueError):
        models.latent_mean_correlation(units, "x", micro, "y", "u", n_boot=10, n_population=100)
