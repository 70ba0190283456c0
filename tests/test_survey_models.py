"""Survey regression, covariances, contrasts and tests without R: independent formulas, engines, errors.

The comparison with R's survey package is in tests/test_survey_models_r.py. Here the numbers are
checked against a second implementation: statsmodels for the point estimates of the GLMs, a
row-by-row textbook sandwich and between-PSU variance for the SEs, analytic gradients for the
nonlinear contrasts, and a planted truth over repeated samples for the interval coverage.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from helpers.stats.survey import (SurveyDesign, SurveyGLM, svychisq, svycontrast, svyglm, svyolr,
                                  svyttest)

from test_survey import make_sample


@pytest.fixture(scope="module")
def sample():
    df = make_sample(n_psu=60, n_strata=4, seed=11, missing=0.05)
    rng = np.random.default_rng(4)
    df["x"] = rng.normal(size=len(df))
    df["cnt"] = rng.poisson(np.exp(0.5 + 0.3 * df["x"]))
    df["g3"] = np.array(["p", "q", "r"])[rng.integers(0, 3, len(df))]
    return df


@pytest.fixture(scope="module")
def design(sample):
    return SurveyDesign(sample, weight="w", strata="stratum", psu="psu", fpc="N")


def textbook_vcov(df: pd.DataFrame, Z: np.ndarray) -> np.ndarray:
    """sum_h (1 - n_h/N_h) n_h/(n_h - 1) sum_j (z_hj - zbar_h)(z_hj - zbar_h)', row by row."""
    V = np.zeros((Z.shape[1], Z.shape[1]))
    zz = pd.DataFrame(Z).assign(stratum=df["stratum"].to_numpy(), psu=df["psu"].to_numpy(), N=df["N"].to_numpy())
    for _, g in zz.groupby("stratum"):
        tot = g.groupby("psu")[list(range(Z.shape[1]))].sum().to_numpy()
        n_h, N_h = len(tot), g["N"].iloc[0]
        dev = tot - tot.mean(axis=0)
        V += (1 - n_h / N_h) * n_h / (n_h - 1) * dev.T @ dev
    return V


# ---------------------------------------------------------------------- covariance of linearised totals
def test_linearised_vcov_matches_textbook_and_mean_se(design, sample):
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(len(sample), 3))
    V = design.linearised_vcov(Z)
    np.testing.assert_allclose(V.to_numpy(), textbook_vcov(sample, Z), rtol=1e-12)
    # the diagonal for a mean's influence values is the mean's variance
    y = sample["x"].to_numpy()
    w = sample["w"].to_numpy()
    m = (w * y).sum() / w.sum()
    v = design.linearised_vcov(pd.Series(w * (y - m) / w.sum(), name="x"))
    assert float(np.sqrt(v.loc["x", "x"])) == pytest.approx(float(design.mean("x")["se"].iloc[0]), rel=1e-12)


def test_linearised_vcov_by_domain_and_subset(design, sample):
    y = sample["x"].to_numpy()
    w = sample["w"].to_numpy()
    est = design.mean("x", by="grp").set_index("grp")
    z = np.zeros(len(y))
    for g in est.index:
        m = (sample["grp"] == g).to_numpy()
        z[m] = w[m] * (y[m] - est.loc[g, "estimate"]) / w[m].sum()
    by = design.linearised_vcov(z, by="grp")
    for g in est.index:
        assert np.sqrt(by[g].iloc[0, 0]) == pytest.approx(est.loc[g, "se"], rel=1e-12)
        m = (sample["grp"] == g).to_numpy()
        sub = design.linearised_vcov(np.where(m, z, 0.0), subset=m)
        assert np.sqrt(sub.iloc[0, 0]) == pytest.approx(est.loc[g, "se"], rel=1e-12)


def test_linearised_vcov_errors(design, sample):
    with pytest.raises(ValueError, match="rows"):
        design.linearised_vcov(np.ones(5))
    z = np.ones(len(sample))
    z[3] = np.nan
    with pytest.raises(ValueError, match="missing values"):
        design.linearised_vcov(z)


# ---------------------------------------------------------------------- svyglm
def _complete(sample, cols):
    return sample.dropna(subset=cols)


@pytest.mark.parametrize("family,formula,sm_family", [
    ("gaussian", "y ~ x + C(g3)", "Gaussian"),
    ("binomial", "b ~ x + lik", "Binomial"),
    ("poisson", "cnt ~ x + C(g3)", "Poisson"),
])
def test_glm_point_estimates_match_statsmodels(design, sample, family, formula, sm_family):
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    fit = design.glm(formula, family=family)
    cols = [c for c in ("y", "b", "cnt", "x", "lik", "g3") if c in formula]
    d = _complete(sample, cols)
    ref = smf.glm(formula, d, family=getattr(sm.families, sm_family)(), var_weights=d["w"]).fit(tol=1e-14)
    np.testing.assert_allclose(fit.coef.to_numpy(), ref.params[fit.coef.index].to_numpy(), rtol=1e-9, atol=1e-12)
    assert fit.nobs == len(d)


def test_glm_sandwich_matches_row_by_row(design, sample):
    """SE = A^-1 B A^-1 with B the textbook between-PSU covariance of the score totals."""
    fit = design.glm("b ~ x + lik", family="binomial")
    ok = sample[["b", "x", "lik"]].notna().all(axis=1).to_numpy()
    X = np.column_stack([np.ones(len(sample)), sample["x"], sample["lik"].fillna(0)])
    mu = 1 / (1 + np.exp(-X @ fit.coef.to_numpy()))
    w = sample["w"].to_numpy()
    score = np.where(ok[:, None], X * (w * (sample["b"].fillna(0).to_numpy() - mu))[:, None], 0.0)
    A = (X[ok] * (w * mu * (1 - mu))[ok, None]).T @ X[ok]
    Ainv = np.linalg.inv(A)
    V = Ainv @ textbook_vcov(sample, score) @ Ainv
    np.testing.assert_allclose(fit.vcov.to_numpy(), V, rtol=1e-9)
    # design df: PSUs minus strata among the fit's rows, less p - 1
    assert fit.df_residual == fit.degf + 1 - 3
    assert fit.degf == sample.loc[ok, "psu"].nunique() - sample.loc[ok, "stratum"].nunique()


def test_glm_domain_keeps_the_design(design, sample):
    """A domain fit = the full-sample formula with scores zero outside the domain (not a refit
    of a design built on the domain's rows, whose strata would lose their other PSUs)."""
    dom = (sample["grp"] == "x").to_numpy()
    fit = design.glm("y ~ x", subset=dom)
    alone = SurveyDesign(sample[dom], weight="w", strata="stratum", psu="psu", fpc="N").glm("y ~ x")
    np.testing.assert_allclose(fit.coef, alone.coef, rtol=1e-12)
    ok = dom & sample[["y", "x"]].notna().all(axis=1).to_numpy()
    X = np.column_stack([np.ones(len(sample)), sample["x"]])
    w = sample["w"].to_numpy()
    res = sample["y"].fillna(0).to_numpy() - X @ fit.coef.to_numpy()
    score = np.where(ok[:, None], X * (w * res)[:, None], 0.0)
    Ainv = np.linalg.inv((X[ok] * w[ok, None]).T @ X[ok])
    np.testing.assert_allclose(fit.vcov.to_numpy(), Ainv @ textbook_vcov(sample, score) @ Ainv, rtol=1e-9)
    # the same domain given as a query string
    np.testing.assert_allclose(design.glm("y ~ x", subset="grp == 'x'").vcov, fit.vcov, rtol=1e-14)


def test_glm_engines_agree(sample, tmp_path):
    kw = dict(weight="w", strata="stratum", psu="psu", fpc="N")
    a = SurveyDesign(sample, **kw).glm("b ~ x + C(g3)", family="quasibinomial")
    b = SurveyDesign(sample, engine="duckdb", **kw).glm("b ~ x + C(g3)", family="quasibinomial")
    path = tmp_path / "s.parquet"
    sample.to_parquet(path)
    c = SurveyDesign.from_parquet(path, **kw).glm("b ~ x + C(g3)", family="quasibinomial")
    for other in (b, c):
        np.testing.assert_allclose(other.vcov, a.vcov, rtol=1e-12)
        pd.testing.assert_frame_equal(other.terms, a.terms, rtol=1e-10)


def test_glm_binomial_equals_quasibinomial(design):
    a = design.glm("b ~ x", family="binomial")
    b = design.glm("b ~ x", family="quasibinomial")
    pd.testing.assert_frame_equal(a.terms, b.terms)


def test_predict(design, sample):
    fit = design.glm("b ~ x + C(g3)", family="binomial")
    new = pd.DataFrame({"x": [-1.0, 0.0, 2.0], "g3": ["q", "p", "r"]})
    link = fit.predict(new)
    resp = fit.predict(new, type="response")
    X = np.array([[1, -1, 1, 0], [1, 0, 0, 0], [1, 2, 0, 1]], dtype=float)
    eta = X @ fit.coef.to_numpy()
    np.testing.assert_allclose(link["estimate"], eta, rtol=1e-12)
    np.testing.assert_allclose(link["se"], np.sqrt(np.diag(X @ fit.vcov.to_numpy() @ X.T)), rtol=1e-12)
    p = 1 / (1 + np.exp(-eta))
    np.testing.assert_allclose(resp["estimate"], p, rtol=1e-12)
    np.testing.assert_allclose(resp["se"], p * (1 - p) * link["se"], rtol=1e-12)  # delta method
    assert len(fit.predict()) == fit.nobs
    with pytest.raises(ValueError, match="'g3' has the level 'z'"):
        fit.predict(pd.DataFrame({"x": [0.0], "g3": ["z"]}))
    with pytest.raises(KeyError, match="x"):
        fit.predict(pd.DataFrame({"g3": ["p"]}))


def test_main_effects_coded_as_formulaic_codes_them(sample):
    """Main-effects formulas are coded without formulaic: same columns, same names."""
    from formulaic import model_matrix

    from helpers.stats.survey.regression import _categoricals, _formula_parts, _simple_matrix, _simple_terms

    s = sample.assign(flag=sample["x"] > 0).dropna(subset=["y", "x", "lik"])
    formula = "y ~ x + g3 + C(year) + flag + lik + C(lik)"
    terms = _simple_terms(_formula_parts(formula), s, formula)
    assert terms is not None
    X, names, _ = _simple_matrix(s, None, terms)
    X = X.to_dense()
    conv = {c: pd.Categorical(s[c], categories=sorted(s[c].unique())) for c in _categoricals(s, ["g3", "year", "flag"])}
    ref = model_matrix(formula, s.assign(**conv)).rhs
    assert names == list(ref.columns)
    np.testing.assert_array_equal(X, ref.to_numpy(dtype=float))
    assert _simple_terms(_formula_parts("y ~ x * lik"), s, "y ~ x * lik") is None  # interactions: formulaic


def test_factor_blocks_equal_dense_columns(design, monkeypatch):
    """Many-level factors kept as codes (their X'WX blocks summed per level) give the fit that
    formulaic's dense indicator columns give."""
    from helpers.stats.survey import regression

    formula = "b ~ x + C(g3) + C(lik) + grp"
    a = design.glm(formula, family="binomial")
    assert a._frame.X.factors  # g3, lik and grp are kept as codes
    monkeypatch.setattr(regression, "_simple_terms", lambda *args: None)
    b = design.glm(formula, family="binomial")
    assert not b._frame.X.factors
    assert list(a.coef.index) == list(b.coef.index)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-10)
    np.testing.assert_allclose(a.vcov, b.vcov, rtol=1e-9)
    np.testing.assert_allclose(a.predict()["se"], b.predict()["se"], rtol=1e-9)


def test_subsample_start_reaches_the_same_fit(design, sample, monkeypatch):
    """Large fits start from a subsample's fit: the same fixed point as R's starting values, also
    when the subsample misses a category (it then starts as R does)."""
    from helpers.stats.survey import regression

    formula = "b ~ x + lik + C(g3)"
    ref = design.glm(formula, family="binomial")
    monkeypatch.setattr(regression, "WARM_START_ROWS", 100)
    monkeypatch.setattr(regression, "SUBSAMPLE", 150)
    warm = design.glm(formula, family="binomial")
    np.testing.assert_allclose(warm.coef, ref.coef, rtol=1e-10)
    np.testing.assert_allclose(warm.vcov, ref.vcov, rtol=1e-9)
    rare = sample.assign(g4=np.where(np.arange(len(sample)) == 5, "rare", sample["g3"]))  # row 5: not in every 4th
    d = SurveyDesign(rare, weight="w", strata="stratum", psu="psu", fpc="N")
    monkeypatch.setattr(regression, "SUBSAMPLE", len(rare) // 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the subsample's trouble is not the user's
        fit = d.glm("y ~ x + C(g4)")
    monkeypatch.setattr(regression, "WARM_START_ROWS", 10**9)
    np.testing.assert_allclose(fit.coef, d.glm("y ~ x + C(g4)").coef, rtol=1e-10)


def test_glm_specified_then_fitted(design):
    model = SurveyGLM("y ~ x", family="gaussian")
    assert model.fit(design).coef.equals(svyglm(design, "y ~ x").coef)
    assert list(model.fit(design).terms.columns) == ["term", "estimate", "se", "ci_low", "ci_high", "p", "df"]


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(formula="y ~ nothere"), KeyError, "formula variable 'nothere'"),
    (dict(formula="lik ~ x", family="binomial"), ValueError, "outcome 'lik' must be 0/1"),
    (dict(formula="cnt ~ x", family="poisson", subset="grp == 'none'"), ValueError, "domain .* no rows"),
    (dict(formula="g3 ~ x"), TypeError, "outcome 'g3' is not numeric"),
    (dict(formula="y ~ x", family="gamma"), ValueError, "family must be one of"),
    (dict(formula="y ~ x", family="poisson", link="logit"), ValueError, "link 'logit' is not available"),
])
def test_glm_errors(design, kwargs, error, match):
    with pytest.raises(error, match=match):
        design.glm(**kwargs)


def test_glm_collinear_column_is_named(sample):
    s = sample.assign(x2=2 * sample["x"])
    d = SurveyDesign(s, weight="w", strata="stratum", psu="psu", fpc="N")
    with pytest.raises(ValueError, match="rank-deficient: column '(x|x2)'"):
        d.glm("y ~ x + x2")


@pytest.mark.slow
def test_glm_interval_coverage_of_a_planted_coefficient():
    """Over 300 stratified cluster samples from one population, the 95% design-based interval
    of a logistic slope covers the population (census) value about 95% of the time."""
    rng = np.random.default_rng(2024)
    H, M, m_per = 4, 200, 10  # strata, PSUs per stratum in the population, people per PSU
    psu = np.repeat(np.arange(H * M), m_per)
    stratum = psu // M
    u = rng.normal(0, 0.7, H * M)[psu]
    x = rng.normal(size=len(psu)) + 0.5 * u
    y = (rng.random(len(psu)) < 1 / (1 + np.exp(-(-0.3 + 0.8 * x + u)))).astype(float)
    pop = pd.DataFrame({"stratum": stratum, "psu": psu, "x": x, "y": y})
    import statsmodels.api as sm

    truth = sm.GLM(y, sm.add_constant(x), family=sm.families.Binomial()).fit().params[1]
    n_h = 12
    cover = 0
    reps = 300
    for _ in range(reps):
        chosen = np.concatenate([rng.choice(np.arange(h * M, (h + 1) * M), n_h, replace=False) for h in range(H)])
        s = pop[np.isin(pop["psu"], chosen)].assign(w=M / n_h, N=M)
        fit = SurveyDesign(s, weight="w", strata="stratum", psu="psu", fpc="N").glm("y ~ x", family="binomial")
        t = fit.term("x")
        cover += t["ci_low"] <= truth <= t["ci_high"]
    assert 0.90 <= cover / reps <= 0.985, cover / reps


# ---------------------------------------------------------------------- covariances across domains, contrasts
def test_covmat_diagonal_is_the_frame(design, sample):
    est = design.mean(["y", "x"], by="grp", covmat=True, overall=True)
    plain = design.mean(["y", "x"], by="grp")
    n = len(plain)
    np.testing.assert_allclose(est.frame["se"].to_numpy()[:n], plain["se"], rtol=1e-14)
    np.testing.assert_allclose(est.se.to_numpy(), est.frame["se"], rtol=1e-10)  # no lonely PSUs here
    overall = design.mean(["y", "x"])
    np.testing.assert_allclose(est.estimate[["(all):y", "(all):x"]], overall["estimate"], rtol=1e-14)
    assert list(est.estimate.index[:3]) == ["x:y", "y:y", "z:y"]


def test_covariance_with_the_population_is_a_weighted_sum(design, sample):
    """The overall mean is sum_d (W_d/W) mean_d to first order: Cov(all, d) from the joint
    influence functions equals the covariance of that combination (W_d treated as estimated)."""
    ok = sample["x"].notna()
    est = design.mean("x", by="grp", covmat=True, overall=True)
    tot = design.total(["x"], by="grp", covmat=True)
    assert est.vcov.loc["(all)", "(all)"] == pytest.approx(float(design.mean("x")["se"].iloc[0]) ** 2, rel=1e-10)
    diff = est.difference_from("(all)")
    assert list(diff["grp"]) == ["x", "y", "z"]
    v = est.vcov.to_numpy()
    np.testing.assert_allclose(diff["se"] ** 2, [v[i, i] + v[3, 3] - 2 * v[i, 3] for i in range(3)], rtol=1e-12)
    assert tot.vcov.shape == (3, 3)
    assert ok.any()


def test_covmat_engines_agree(sample):
    kw = dict(weight="w", strata="stratum", psu="psu", fpc="N")
    a = SurveyDesign(sample, **kw).mean("y", by="grp", covmat=True, overall=True)
    b = SurveyDesign(sample, engine="duckdb", **kw).mean("y", by="grp", covmat=True, overall=True)
    np.testing.assert_allclose(b.vcov.to_numpy(), a.vcov.to_numpy(), rtol=1e-11)
    r = SurveyDesign(sample, **kw).ratio("y", "den", by="year", covmat=True)
    assert r.vcov.shape == (2, 2)


def test_nonlinear_contrasts_against_analytic_gradients(design):
    est = design.mean(["y", "x"], covmat=True)
    a, b = est.estimate["y"], est.estimate["x"]
    V = est.vcov.to_numpy()
    out = svycontrast(est, {"ratio": "y / x", "log": "log(y) - exp(x)",
                            "pow": "y^2 * sqrt(x ** 2)"}).set_index("term")
    grads = {"ratio": [1 / b, -a / b ** 2], "log": [1 / a, -np.exp(b)], "pow": [2 * a * abs(b), a ** 2 * np.sign(b)]}
    for k, g in grads.items():
        g = np.array(g)
        assert out.loc[k, "se"] == pytest.approx(float(np.sqrt(g @ V @ g)), rel=1e-12)
    # a callable, and a linear contrast given three ways
    c = svycontrast(est, lambda t: t["y"] / t["x"])
    assert c["se"].iloc[0] == pytest.approx(out.loc["ratio", "se"], rel=1e-12)
    lin = [svycontrast(est, s)["se"].iloc[0] for s in ({"y": 1, "x": -1}, [1, -1], "y - x", np.array([[1, -1]]))]
    np.testing.assert_allclose(lin, lin[0], rtol=1e-12)
    two = svycontrast(est, np.array([[1, -1], [1, 1]]))
    assert list(two["term"]) == ["contrast1", "contrast2"]
    assert two.attrs["vcov"].shape == (2, 2)


def test_contrast_of_a_non_analytic_callable_falls_back(design):
    est = design.mean(["y", "x"], covmat=True)
    with pytest.warns(RuntimeWarning, match="central differences"):
        c = svycontrast(est, lambda t: abs(t["y"] - 100.0))
    ref = svycontrast(est, {"y": -1.0})  # mean y < 100: |y - 100| has gradient -1
    assert c["se"].iloc[0] == pytest.approx(ref["se"].iloc[0], rel=1e-6)


@pytest.mark.parametrize("spec,error,match", [
    ({"nothere": 1}, KeyError, "no estimate named 'nothere'"),
    ("log(nothere)", KeyError, "no estimate named 'nothere'"),
    ("__import__('os')", ValueError, "only the functions"),
    ("y.real", ValueError, "Attribute is not allowed"),
    ([1, 2, 3], ValueError, "has 3 weights; there are 2"),
])
def test_contrast_errors(design, spec, error, match):
    est = design.mean(["y", "x"], covmat=True)
    with pytest.raises(error, match=match):
        svycontrast(est, spec)


def test_difference_from_unknown_reference(design):
    est = design.mean("y", by="grp", covmat=True)
    with pytest.raises(KeyError, match="overall=True adds"):
        est.difference_from("(all)")
    assert len(est.difference_from("x")) == 2
    assert len(est.pairwise()) == 3


# ---------------------------------------------------------------------- tests
def test_ttest_two_groups(design, sample):
    s = sample.assign(female=(sample["grp"] == "x").astype(int))
    d = SurveyDesign(s, weight="w", strata="stratum", psu="psu", fpc="N")
    t = svyttest(d, "y", "female")
    est = d.mean("y", by="female", covmat=True).pairwise().iloc[0]
    assert t.estimate == pytest.approx(-est["estimate"], rel=1e-12)  # second group minus first
    assert t.se == pytest.approx(est["se"], rel=1e-10)
    with pytest.raises(ValueError, match="group 'grp' must be binary"):
        svyttest(d, "y", "grp")
    with pytest.raises(ValueError, match="group 'year' must be binary"):  # 2020/2021: not 0/1 or 1/2
        svyttest(d, "y", "year")
    one = svyttest(d, "y", mu=50.0)
    m = d.mean("y")
    assert one.estimate == pytest.approx(m["estimate"].iloc[0] - 50.0, rel=1e-12)
    assert one.se == pytest.approx(m["se"].iloc[0], rel=1e-12)
    assert one.df == m["df"].iloc[0] - 1


def test_chisq_errors(design, sample):
    with pytest.raises(ValueError, match="'year' has 1 category"):
        svychisq(design, "grp", "year", subset="year == 2020")
    with pytest.raises(ValueError, match="statistic must be one of"):
        svychisq(design, "grp", "year", statistic="lincom")
    with pytest.raises(KeyError, match="'nope'"):
        svychisq(design, "grp", "nope")


def test_olr_needs_three_categories(design):
    with pytest.raises(ValueError, match="outcome 'b' has 2 categories"):
        svyolr(design, "b ~ x")
    fit = svyolr(design, "lik ~ x")
    assert list(fit.terms["term"]) == ["x", "1|2", "2|3", "3|4", "4|5"]
    with pytest.raises(ValueError, match="'cauchit' is not offered: R's svyolr truncates"):
        svyolr(design, "lik ~ x", method="cauchit")


def test_fit_with_rows_ordered_by_a_factor_matches_the_dense_path(sample, design):
    """A factor of 3+ levels reorders the fit's rows internally (its X'WX blocks by row ranges):
    coefficients, SEs and the per-row outputs must equal the dense coding, row for row, and not
    depend on the order of the data (a shuffled frame gives the same fit)."""
    from helpers.stats.survey import regression as rg

    f = "b ~ x + y + C(g3) + C(grp)"
    fit = design.glm(f, family="quasibinomial")
    assert fit._frame.perm is not None  # the reordered path is the one tested
    # the same model with the factors as dense 0/1 columns (no reordering)
    dense = sample.assign(**{f"g3_{v}": (sample["g3"] == v).astype(float) for v in ("q", "r")},
                          **{f"grp_{v}": (sample["grp"] == v).astype(float) for v in ("y", "z")})
    dd = SurveyDesign(dense, weight="w", strata="stratum", psu="psu", fpc="N")
    ref = dd.glm("b ~ x + y + g3_q + g3_r + grp_y + grp_z", family="quasibinomial")
    assert ref._frame.perm is None
    np.testing.assert_allclose(fit.coef.to_numpy(), ref.coef.to_numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fit.vcov.to_numpy(), ref.vcov.to_numpy(), rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(fit._mu, ref._mu, rtol=1e-10)
    p, q = fit.predict(type="response"), ref.predict(type="response")
    assert p.index.equals(q.index)
    np.testing.assert_allclose(p.to_numpy(), q.to_numpy(), rtol=1e-9)
    # shuffled rows: same fit
    shuffled = sample.sample(frac=1.0, random_state=5)
    sd = SurveyDesign(shuffled, weight="w", strata="stratum", psu="psu", fpc="N")
    fs = sd.glm(f, family="quasibinomial")
    np.testing.assert_allclose(fs.coef.to_numpy(), fit.coef.to_numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fs.vcov.to_numpy(), fit.vcov.to_numpy(), rtol=1e-9, atol=1e-14)
    # the gram matrix by row ranges equals the dense product
    mf = rg._model_frame(design, f, None, rg.FAMILIES["quasibinomial"])
    ww = np.linspace(0.1, 2.0, mf.X.n)
    r = np.cos(np.arange(mf.X.n))
    A, g = mf.X.gram_score(ww, r)
    Xd = mf.X.to_dense()[:, np.argsort(mf.X.order)]  # internal column order
    np.testing.assert_allclose(A, Xd.T @ (ww[:, None] * Xd), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g, Xd.T @ r, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("family,link,subset", [
    ("quasibinomial", None, None), ("binomial", "probit", None), ("binomial", "cloglog", "year == 2021"),
    ("gaussian", None, None), ("poisson", None, "grp != 'z'"), ("quasipoisson", "sqrt", None)])
def test_compressed_fit_equals_the_row_fit(sample, design, monkeypatch, family, link, subset):
    """With only discrete regressors the fit is scored on the distinct regressor patterns (the
    GLM's sufficient statistics): coefficients, design-based SEs, deviance and fitted values
    must equal scoring on the rows, for canonical and other links, in a domain, and whatever
    the order of the rows (runs of a unit's rows or scattered rows)."""
    from helpers.stats.survey import regression as rg

    f = ("cnt" if "poisson" in family else "b") + " ~ lik + C(g3) + grp + C(year)"
    mf = rg._model_frame(design, f, None, rg.FAMILIES[family])
    pat = rg._compress(mf.X, mf.y, mf.w)
    assert pat is not None and len(pat.y) <= 5 * 3 * 3 * 2  # the compressed path is the one tested
    np.testing.assert_allclose(np.bincount(pat.id, weights=mf.w), pat.w, rtol=1e-14)
    fit = design.glm(f, family=family, link=link, subset=subset)
    monkeypatch.setattr(rg, "COMPRESS_SHARE", -1.0)  # no compression: scoring on the rows
    ref = design.glm(f, family=family, link=link, subset=subset)
    assert ref._frame.perm is not None  # rows ordered by C(g3): the row path
    np.testing.assert_allclose(fit.coef.to_numpy(), ref.coef.to_numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fit.vcov.to_numpy(), ref.vcov.to_numpy(), rtol=1e-8, atol=1e-15)
    assert fit.deviance == pytest.approx(ref.deviance, rel=1e-10)
    np.testing.assert_allclose(fit._mu, ref._mu, rtol=1e-9)
    monkeypatch.undo()
    shuffled = SurveyDesign(sample.sample(frac=1.0, random_state=9), weight="w", strata="stratum", psu="psu", fpc="N")
    fs = shuffled.glm(f, family=family, link=link, subset=subset)
    np.testing.assert_allclose(fs.coef.to_numpy(), fit.coef.to_numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fs.vcov.to_numpy(), fit.vcov.to_numpy(), rtol=1e-8, atol=1e-15)


def test_compression_only_for_integer_valued_regressors(design):
    """A continuous regressor, or too many patterns, keeps the row path (no approximation)."""
    from helpers.stats.survey import regression as rg

    fam = rg.FAMILIES["binomial"]
    cont = rg._model_frame(design, "b ~ x + C(g3)", None, fam)
    assert rg._compress(cont.X, cont.y, cont.w) is None
    half = rg._model_frame(design, "b ~ lik + C(g3)", None, fam)
    assert rg._compress(half.X, half.y, half.w) is not None
    shifted = design.data.assign(lik2=design.data["lik"] + 0.5, big=np.arange(len(design.data)) * 1.0)
    d2 = SurveyDesign(shifted, weight="w", strata="stratum", psu="psu", fpc="N")
    for f in ("b ~ lik2 + C(g3)", "b ~ big"):  # half-integers; one pattern per row
        m = rg._model_frame(d2, f, None, fam)
        assert rg._compress(m.X, m.y, m.w) is None, f
