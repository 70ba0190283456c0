"""Empirical-Bayes beta-binomial shrinkage and Fay-Herriot small-area estimates."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import paths
from helpers.stats import smallarea


def test_fit_beta_binomial_recovers_prior():
    rng = np.random.default_rng(0)
    p = rng.beta(4, 12, 3000)
    n = rng.integers(5, 80, 3000)
    x = rng.binomial(n, p)
    a, b = smallarea.fit_beta_binomial(x, n, "ml")
    assert a / (a + b) == pytest.approx(0.25, abs=0.01)
    assert a + b == pytest.approx(16, rel=0.2)
    am, bm = smallarea.fit_beta_binomial(x, n, "mm")
    assert am + bm == pytest.approx(16, rel=0.3)
    with pytest.raises(ValueError, match="allowed"):
        smallarea.fit_beta_binomial(x, n, "bayes")


def _eb_sim(rng, k=400):
    district = np.repeat([f"D{i}" for i in range(8)], k // 8)
    centre = np.repeat(rng.uniform(0.2, 0.6, 8), k // 8)
    conc = 30.0
    p = rng.beta(centre * conc, (1 - centre) * conc)
    n = rng.integers(3, 150, k)
    x = rng.binomial(n, p)
    return pd.DataFrame({"unit": np.arange(k), "district": district, "x": x, "n": n, "p": p})


def test_eb_shrinkage_reduces_error_and_covers():
    rng = np.random.default_rng(1)
    mse_raw, mse_eb, mse_grp, cover = [], [], [], []
    for _ in range(5):
        df = _eb_sim(rng)
        before = df.copy()
        out = smallarea.eb_beta_binomial(df, "x", "n", unit="unit")
        pd.testing.assert_frame_equal(df, before)
        grp = smallarea.eb_beta_binomial(df, "x", "n", unit="unit", group="district")
        mse_raw.append(np.mean((out["raw_rate"] - df["p"]) ** 2))
        mse_eb.append(np.mean((out["eb_rate"] - df["p"]) ** 2))
        mse_grp.append(np.mean((grp["eb_rate"] - df["p"]) ** 2))
        cover.append(np.mean((grp["ci_low"] <= df["p"]) & (df["p"] <= grp["ci_high"])))
    assert np.mean(mse_eb) < 0.8 * np.mean(mse_raw)
    assert np.mean(mse_grp) < np.mean(mse_eb)  # shrinking towards the district helps here
    assert 0.92 <= np.mean(cover) <= 0.98
    # small units shrink more
    assert out.loc[out["trials"].idxmin(), "shrinkage"] > out.loc[out["trials"].idxmax(), "shrinkage"]
    assert {"raw_rate", "eb_rate", "ci_low", "ci_high", "alpha", "beta", "prior_mean"} <= set(grp.columns)


def test_eb_validates_input():
    df = pd.DataFrame({"x": [5, 3], "n": [4, 10]})
    with pytest.raises(ValueError):
        smallarea.eb_beta_binomial(df, "x", "n")
    with pytest.raises(KeyError):
        smallarea.eb_beta_binomial(df, "x", "trials")


def test_eb_on_default_registration_truth():
    """Claim 7 on the shipped data: shrinkage beats raw rates against the true probabilities."""
    tr = paths.DATA_DIR / "truth_registration.csv"
    if not tr.exists():
        pytest.skip("default data not generated yet")
    truth = pd.read_csv(tr)
    members = pd.read_csv(paths.DATA_DIR / "members.csv")
    m = members[members["year"] == 2024].merge(truth, on=["community_id", "year"])
    m["district_id"] = m["community_id"].str[:3]
    m = m[m["in_service_resident"] > 0]
    out = smallarea.eb_beta_binomial(m, "registered", "in_service_resident", unit="community_id",
                                     group="district_id")
    err_raw = np.mean((out["raw_rate"] - m["p_registered"].to_numpy()) ** 2)
    err_eb = np.mean((out["eb_rate"] - m["p_registered"].to_numpy()) ** 2)
    assert err_eb < err_raw
    cover = np.mean((out["ci_low"] <= m["p_registered"].to_numpy()) & (m["p_registered"].to_numpy() <= out["ci_high"]))
    assert 0.90 <= cover <= 0.99
    small = m["in_service_resident"].to_numpy() < np.quantile(m["in_service_resident"], 0.25)
    assert (np.mean((out["eb_rate"][small] - m["p_registered"][small]) ** 2)
            < np.mean((out["raw_rate"][small] - m["p_registered"][small]) ** 2))


def _fh_sim(rng, m=80, s2v=4.0):
    x = rng.normal(0, 1, m)
    group = np.repeat(["a", "b", "c", "d"], m // 4)
    geff = np.repeat([0.0, 2.0, -1.0, 1.0], m // 4)
    theta = 50 + 3 * x + geff + rng.normal(0, np.sqrt(s2v), m)
    se = rng.uniform(0.5, 4.0, m)
    y = theta + rng.normal(0, se)
    return pd.DataFrame({"area": np.arange(m), "x": x, "g": group, "y": y, "se": se, "theta": theta})


@pytest.mark.parametrize("method", ["REML", "FH"])
def test_fay_herriot_beats_direct_and_mse_is_calibrated(method):
    rng = np.random.default_rng(2)
    err_direct, err_eblup, mse_est, cover, s2 = [], [], [], [], []
    for _ in range(60):
        df = _fh_sim(rng)
        res = smallarea.fay_herriot(df, "y", "se", unit="area", covariates=["x"], group="g", method=method)
        t = res.table
        err_direct.append(np.mean((t["direct"] - df["theta"]) ** 2))
        err_eblup.append(np.mean((t["eblup"] - df["theta"]) ** 2))
        mse_est.append(t["mse"].mean())
        cover.append(np.mean((t["ci_low"] <= df["theta"]) & (df["theta"] <= t["ci_high"])))
        s2.append(res.sigma2_v)
    assert np.mean(err_eblup) < 0.7 * np.mean(err_direct)
    assert np.mean(mse_est) == pytest.approx(np.mean(err_eblup), rel=0.15)  # MSE estimate right on average
    assert 0.92 <= np.mean(cover) <= 0.97
    assert np.mean(s2) == pytest.approx(4.0, rel=0.2)
    coef = res.coef.set_index("term")
    assert coef.loc["x", "estimate"] == pytest.approx(3.0, abs=0.5)
    assert list(res.coef.columns) == ["term", "estimate", "se", "ci_low", "ci_high", "p"]


def test_fay_herriot_no_area_variance_gives_synthetic():
    rng = np.random.default_rng(3)
    df = _fh_sim(rng, s2v=0.0)
    df["y"] = 50 + 3 * df["x"] + rng.normal(0, 0.01, len(df))
    df["se"] = 5.0
    res = smallarea.fay_herriot(df, "y", "se", covariates=["x"])
    assert res.sigma2_v == 0.0
    assert np.allclose(res.table["eblup"], res.table["synthetic"])


def test_fay_herriot_errors():
    df = pd.DataFrame({"y": [1.0, 2, 3], "se": [1.0, 1, 0]})
    with pytest.raises(ValueError):
        smallarea.fay_herriot(df, "y", "se")
    with pytest.raises(ValueError, match="allowed"):
        smallarea.fay_herriot(df, "y", "se", method="ML")


def test_eb_without_overdispersion_pools_completely():
    rng = np.random.default_rng(4)
    n = rng.integers(10, 200, 300)
    df = pd.DataFrame({"x": rng.binomial(n, 0.4), "n": n})
    out = smallarea.eb_beta_binomial(df, "x", "n")
    assert out["shrinkage"].min() > 0.5
    assert out["eb_rate"].std() < 0.5 * out["raw_rate"].std()
    assert out["prior_mean"].iloc[0] == pytest.approx(df["x"].sum() / df["n"].sum(), abs=0.01)


# ---------------------------------------------------------------- Fay-Herriot against samplics
def _samplics_fit(df, y, se, area, X, method):
    """samplics' EblupAreaModel (Fisher scoring to a relative 1e-14) on the same areas."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # samplics announces its successor (svy) on import
        from samplics.sae import EblupAreaModel
        from samplics.utils.types import FitMethod

    m = EblupAreaModel(method={"REML": FitMethod.reml, "FH": FitMethod.fh}[method])
    areas = df[area].to_numpy()
    m.fit(yhat=df[y].to_numpy(float), X=X, area=areas, error_std=df[se].to_numpy(float), tol=1e-14, maxiter=1000)
    m.predict(X=X, area=areas)
    return (m, np.array([m.area_est[a] for a in areas]), np.array([m.area_mse[a] for a in areas]))


def _milk() -> pd.DataFrame:
    """Milk expenditure in 43 US small areas (Arora & Lahiri 1997), as shipped with samplics."""
    import importlib.util
    from pathlib import Path

    root = Path(importlib.util.find_spec("samplics").origin).parent
    return pd.read_csv(root / "datasets" / "data" / "expenditure_on_milk.csv")


def _rel(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


@pytest.mark.parametrize("method", ["REML", "FH"])
def test_fay_herriot_equals_samplics_on_milk(method):
    """The classic milk data (major-area fixed effects): variance, beta, SEs, EBLUPs and MSEs.

    For FH the MSE includes the Datta-Rao-Smith bias term (without it the MSEs were up to
    0.6 % too large here)."""
    milk = _milk()
    res = smallarea.fay_herriot(milk, "direct_est", "std_error", unit="small_area", group="major_area",
                                method=method)
    X = pd.get_dummies(milk["major_area"], drop_first=True).to_numpy(float)
    sm, est, mse = _samplics_fit(milk, "direct_est", "std_error", "small_area", X, method)
    assert sm.convergence["achieved"]
    worst = max(_rel(res.sigma2_v, sm.re_std**2), _rel(res.coef["estimate"], sm.fixed_effects),
                _rel(res.coef["se"], sm.fe_std), _rel(res.table["eblup"], est), _rel(res.table["mse"], mse))
    print(f"fay_herriot({method}) vs samplics on milk: worst relative difference {worst:.2g}")
    assert worst < 1e-8
    if method == "FH":
        assert res.bias_sigma2_v > 0
        without = res.table["mse"] + (1 - res.table["gamma"]) ** 2 * res.bias_sigma2_v
        assert _rel(without, mse) > 1e-3  # the term matters at this size
    else:
        assert res.bias_sigma2_v == 0.0


@pytest.mark.parametrize("method", ["REML", "FH"])
def test_fay_herriot_equals_samplics_with_covariates(method):
    rng = np.random.default_rng(7)
    worst = 0.0
    for s2v in (4.0, 9.0):
        df = _fh_sim(rng, m=40, s2v=s2v)
        res = smallarea.fay_herriot(df, "y", "se", unit="area", covariates=["x"], group="g", method=method)
        assert res.sigma2_v > 0
        X = np.column_stack([df["x"], df["g"] == "b", df["g"] == "c", df["g"] == "d"]).astype(float)
        sm, est, mse = _samplics_fit(df, "y", "se", "area", X, method)
        worst = max(worst, _rel(res.sigma2_v, sm.re_std**2), _rel(res.coef["estimate"], sm.fixed_effects),
                    _rel(res.coef["se"], sm.fe_std), _rel(res.table["eblup"], est), _rel(res.table["mse"], mse))
    print(f"fay_herriot({method}) vs samplics, covariates + groups: worst relative difference {worst:.2g}")
    assert worst < 1e-8


def test_fay_herriot_cov_params_and_coef():
    rng = np.random.default_rng(9)
    df = _fh_sim(rng)
    res = smallarea.fay_herriot(df, "y", "se", unit="area", covariates=["x"], group="g")
    cov = res.cov_params()
    assert list(cov.index) == list(res.coef["term"]) == list(cov.columns)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), res.coef["se"], rtol=1e-12)
    np.testing.assert_allclose(cov, cov.T)
    # (X' V^-1 X)^-1 written out with V = sigma_v^2 + D
    X = np.column_stack([np.ones(len(df)), df["x"], df["g"] == "b", df["g"] == "c", df["g"] == "d"]).astype(float)
    V = res.sigma2_v + df["se"].to_numpy() ** 2
    np.testing.assert_allclose(cov.to_numpy(), np.linalg.inv((X.T / V) @ X), rtol=1e-10)


def _fh_areas(rng, M=120, m=80, s2v=2.0):
    """``M`` areas with covariates; the first ``m`` are sampled (direct estimate and SE)."""
    x = rng.normal(0, 1, M)
    g = np.where(np.arange(M) % 2 == 0, "a", "b")
    theta = 10 + 2 * x + np.where(g == "b", 1.0, 0.0) + rng.normal(0, np.sqrt(s2v), M)
    se = rng.uniform(0.5, 2.5, M)
    d = pd.DataFrame({"area": [f"A{i:03d}" for i in range(M)], "x": x, "g": g, "theta": theta, "se": se,
                      "y": theta + rng.normal(0, se)})
    return d.iloc[:m].reset_index(drop=True), d.iloc[m:]


@pytest.mark.parametrize("method", ["REML", "FH"])
def test_predict_unsampled_areas_is_calibrated(method):
    """Planted truth: over 100 replicates the MSE estimate of the synthetic predictions for
    unsampled areas matches their squared error on average and 95% intervals cover ~95%."""
    rng = np.random.default_rng(12)
    err, mse, cover = [], [], []
    for _ in range(100):
        s, u = _fh_areas(rng)
        res = smallarea.fay_herriot(s, "y", "se", unit="area", covariates=["x"], group="g", method=method)
        p = res.predict(u)
        assert list(p.index) == list(u.index) and list(p["area"]) == list(u["area"])
        err.append(np.mean((p["estimate"] - u["theta"]) ** 2))
        mse.append(p["mse"].mean())
        cover.append(np.mean((p["ci_low"] <= u["theta"]) & (u["theta"] <= p["ci_high"])))
    assert np.mean(mse) == pytest.approx(np.mean(err), rel=0.1)
    assert 0.92 <= np.mean(cover) <= 0.97


def test_predict_matches_the_synthetic_part_of_sampled_areas():
    rng = np.random.default_rng(13)
    s, u = _fh_areas(rng, M=60, m=50)
    for method in ("REML", "FH"):
        res = smallarea.fay_herriot(s, "y", "se", unit="area", covariates=["x"], group="g", method=method)
        p = res.predict(s)
        np.testing.assert_allclose(p["estimate"], res.table["synthetic"], rtol=1e-12)
        # x'(X'V^-1X)^-1 x of a sampled area is its g2 / (1 - gamma)^2
        g2 = (p["mse"] - max(res.sigma2_v - res.bias_sigma2_v, 0)) * (1 - res.table["gamma"]) ** 2
        X = np.column_stack([np.ones(len(s)), s["x"], s["g"] == "b"]).astype(float)
        np.testing.assert_allclose(g2, (1 - res.table["gamma"]) ** 2 * np.einsum("ij,jk,ik->i", X, res.beta_cov, X))




def test_predict_errors():
    rng = np.random.default_rng(15)
    s, u = _fh_areas(rng, M=50, m=40)
    res = smallarea.fay_herriot(s, "y", "se", unit="area", covariates=["x"], group="g")
    with pytest.raises(ValueError, match=r"g \['c'\] had no sampled area"):
        res.predict(u.assign(g="c"))
    with pytest.raises(KeyError, match="x"):
        res.predict(u.drop(columns="x"))
    with pytest.raises(ValueError, match="missing"):
        res.predict(u.assign(x=np.nan))


def test_fh_negative_mse_falls_back_to_naive():
    """FH with sigma_v^2 = 0: the bias term can push an MSE below 0; it is replaced, with a warning."""
    rng = np.random.default_rng(16)
    df = _fh_sim(rng, s2v=0.0)
    df["se"] = np.where(np.arange(len(df)) % 2 == 0, 0.3, 6.0)
    df["y"] = 50 + 3 * df["x"] + rng.normal(0, df["se"])
    with pytest.warns(RuntimeWarning, match="not positive"):
        res = smallarea.fay_herriot(df, "y", "se", covariates=["x"], method="FH")
    assert res.sigma2_v == 0.0 and (res.table["mse"] > 0).all()
