"""Replicate designs and quantiles without R: identities, a planted truth, the API and errors.

The comparisons with R's survey package are in tests/test_survey_methods_r.py. Here:
replicate variances of linear statistics equal the Taylor variance exactly where theory
says so (JKn and JK1 totals with the finite-population correction; BRR totals with two
PSUs per stratum); the random bootstraps agree with the Taylor variance within Monte
Carlo error; the generic ``replicate()`` hook reproduces the built-in estimators; the
weighted quantile rules reduce to NumPy's Hyndman-Fan definitions with equal weights.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from helpers.stats.survey import SurveyDesign
from helpers.stats.survey.hadamard import hadamard, is_hadamard
from helpers.stats.survey.quantiles import quantile, weighted_quantile
from helpers.stats.survey.replicates import ReplicateDesign, as_replicate_design, replicate_vcov

from test_survey import make_sample


def paired_sample(n_strata=12, seed=5) -> pd.DataFrame:
    """Two PSUs per stratum (the BRR layout), 5-15 respondents per PSU."""
    rng = np.random.default_rng(seed)
    rows = []
    for h in range(n_strata):
        for j in range(2):
            m = rng.integers(5, 16)
            rows.append(pd.DataFrame({"h": h, "psu": 2 * h + j, "w": rng.uniform(20, 80, m),
                                      "y": rng.normal(10 + h, 3, m) + rng.normal(0, 2),
                                      "g": rng.choice(["a", "b"], m)}))
    return pd.concat(rows, ignore_index=True)


def test_jackknife_total_variance_equals_taylor():
    df = make_sample(missing=0.0)
    d = SurveyDesign(df, weight="w", strata="stratum", psu="psu", fpc="N")
    rd = as_replicate_design(d, "JKn")
    t, r = d.total("y"), rd.total("y")
    assert r.estimate.iloc[0] == pytest.approx(t.estimate.iloc[0], rel=1e-12)
    assert r.se.iloc[0] == pytest.approx(t.se.iloc[0], rel=1e-10)
    one = df.assign(N=df.psu.nunique() * 3)
    d1 = SurveyDesign(one, weight="w", psu="psu", fpc="N")
    r1 = as_replicate_design(d1)
    assert r1.type == "JK1"
    assert r1.total("y").se.iloc[0] == pytest.approx(d1.total("y").se.iloc[0], rel=1e-10)


def test_brr_total_variance_equals_taylor_with_two_psus_per_stratum():
    df = paired_sample()
    d = SurveyDesign(df, weight="w", strata="h", psu="psu")
    rd = as_replicate_design(d, "BRR")
    assert rd.n_replicates == hadamard(12).shape[1] == 16
    assert rd.total("y").se.iloc[0] == pytest.approx(d.total("y").se.iloc[0], rel=1e-10)
    # Fay's variance of a total is the same for any rho (linear statistic)
    fay = as_replicate_design(d, "Fay", fay_rho=0.5)
    assert fay.total("y").se.iloc[0] == pytest.approx(d.total("y").se.iloc[0], rel=1e-10)
    # the mean: close to Taylor, not identical (nonlinear)
    assert rd.mean("y").se.iloc[0] == pytest.approx(d.mean("y").se.iloc[0], rel=0.05)


@pytest.mark.parametrize("type_", ["bootstrap", "subbootstrap"])
def test_bootstraps_agree_with_taylor_within_monte_carlo_error(type_):
    df = make_sample(n_psu=80, missing=0.0)
    d = SurveyDesign(df, weight="w", strata="stratum", psu="psu")   # with replacement: no fpc
    rd = as_replicate_design(d, type_, replicates=3000, seed=11)
    t, b = d.total("y").se.iloc[0], rd.total("y").se.iloc[0]
    # SE of a variance estimate from R replicates ~ sqrt(2/R) = 2.6 %; allow 4 SEs on the SE scale
    assert b == pytest.approx(t, rel=0.06)
    again = as_replicate_design(d, type_, replicates=3000, seed=11).total("y").se.iloc[0]
    assert again == b  # seeded


def test_bootstrap_with_fpc_resamples_without_replacement():
    df = make_sample(n_psu=80, missing=0.0)
    d = SurveyDesign(df, weight="w", strata="stratum", psu="psu", fpc="N")  # N = 3 n: f = 1/3
    rd = as_replicate_design(d, "bootstrap", replicates=3000, seed=3)
    F = rd._F
    # each replicate draws n_h PSUs per stratum, never more copies of a PSU than the
    # pseudo-population holds (N_h / n_h = 3 here)
    assert F.max() <= 3 and np.allclose(F.sum(axis=0), len(F))
    t, b = d.total("y").se.iloc[0], rd.total("y").se.iloc[0]
    assert b == pytest.approx(t, rel=0.1)


def test_replicate_hook_reproduces_builtin_estimators():
    df = make_sample()
    d = SurveyDesign(df, weight="w", strata="stratum", psu="psu", fpc="N")
    rd = as_replicate_design(d, "JKn")
    y = df["y"].to_numpy()
    ok = ~np.isnan(y)
    g = (df["grp"] == "x").to_numpy()

    def mean_in_x(w):
        ww = np.where(ok & g, w, 0.0)
        return [np.sum(ww * np.where(ok, y, 0)) / ww.sum()]

    res = rd.replicate(mean_in_x)
    m = rd.mean("y", by="grp").set_index("grp").loc["x"]
    assert res.estimate[0] == pytest.approx(m.estimate, rel=1e-12)
    assert res.se[0] == pytest.approx(m.se, rel=1e-10)
    assert res.replicates.shape == (rd.n_replicates, 1)
    tot = rd.totals(np.c_[np.where(ok, y, 0.0), np.ones(len(y))])
    assert tot.se[0] == pytest.approx(rd.total("y").se.iloc[0], rel=1e-10)
    assert tot.vcov.shape == (2, 2)
    # the same replicates as columns of a frame: a design that arrives with replicate weights
    cols = rd.replicate_weights()
    given = ReplicateDesign(pd.concat([df, cols], axis=1), weight="w", repweights="^repw", type="JKn",
                            rscales=rd.rscales, scale=rd.scale)
    a = rd.mean(["y", "b"], by="grp")
    b = given.mean(["y", "b"], by="grp")
    np.testing.assert_allclose(a[["estimate", "se", "df", "deff"]], b[["estimate", "se", "df", "deff"]], rtol=1e-10)


def test_replicate_vcov_formula():
    rng = np.random.default_rng(0)
    th = rng.normal(size=(20, 2))
    rs = rng.uniform(0.5, 1, 20)
    v = replicate_vcov(th, 0.3, rs)
    c = th - th.mean(axis=0)
    assert np.allclose(v, 0.3 * (c * rs[:, None]).T @ c)
    vm = replicate_vcov(th, 0.3, rs, mse=True, coef=np.zeros(2))
    assert np.allclose(vm, 0.3 * (th * rs[:, None]).T @ th)
    th[3, 0] = np.nan
    with pytest.warns(UserWarning, match="1 replicates gave NA"):
        v = replicate_vcov(th, 0.3, rs)
    assert v.shape == (2, 2) and np.isfinite(v).all()


def test_degf_is_the_rank_of_the_analysis_weights_minus_one():
    df = make_sample()
    d = SurveyDesign(df, weight="w", strata="stratum", psu="psu", fpc="N")
    for type_ in ("JKn", "bootstrap"):
        rd = as_replicate_design(d, type_, seed=1)
        A = rd.analysis_weights()
        assert rd.degf() == np.linalg.matrix_rank(A) - 1
        by = rd.degf(by="grp").set_index("grp")["df"]
        for g in ("x", "y", "z"):
            assert by[g] == np.linalg.matrix_rank(A[(df.grp == g).to_numpy()]) - 1


def test_hadamard_is_hadamard():
    for n in (1, 3, 7, 12, 15, 16, 27, 35, 50, 100, 101, 200):
        h = hadamard(n)
        assert h.shape[0] >= n + 1 and is_hadamard(h, full_orthogonal_balance=False), n


def test_replicate_design_errors():
    df = make_sample()
    d = SurveyDesign(df, weight="w", strata="stratum", psu="psu")
    rd = as_replicate_design(d, "JKn")
    full = pd.concat([df, rd.replicate_weights()], axis=1)
    with pytest.raises(ValueError, match=r"expected 70 replicate-weight columns, found 60 \(repw1..repw60\)"):
        ReplicateDesign(full, weight="w", repweights="^repw", type="JKn", rscales=1, n_replicates=70)
    holes = full.copy()
    holes.loc[[3, 8], "repw7"] = np.nan
    holes.loc[5, "repw12"] = np.nan
    with pytest.raises(ValueError, match=r"missing values: repw7 \(2 rows\), repw12 \(1 rows\)"):
        ReplicateDesign(holes, weight="w", repweights="^repw", type="JKn", rscales=1)
    with pytest.raises(ValueError, match=r"rscales has 3 values, should be 60 .*repw1..repw60"):
        ReplicateDesign(full, weight="w", repweights="^repw", type="JKn", rscales=[1, 1, 1])
    with pytest.raises(ValueError, match="needs rscales"):
        ReplicateDesign(full, weight="w", repweights="^repw", type="JKn")
    with pytest.raises(ValueError, match="no column matches"):
        ReplicateDesign(full, weight="w", repweights="^bw", type="bootstrap")
    with pytest.raises(ValueError, match="needs rho"):
        ReplicateDesign(full, weight="w", repweights="^repw", type="Fay")
    with pytest.raises(ValueError, match="JK1 is for unstratified"):
        as_replicate_design(d, "JK1")
    with pytest.raises(ValueError, match="needs strata"):
        as_replicate_design(SurveyDesign(df, weight="w", psu="psu"), "BRR")
    with pytest.raises(ValueError, match=r"strata with more than 2 PSUs|odd number"):
        as_replicate_design(d, "BRR", large="fail")
    lone = df.copy()
    lone.loc[lone.psu == 100, "stratum"] = "Z"
    with pytest.raises(ValueError, match="stratum 'Z' has only one PSU"):
        as_replicate_design(SurveyDesign(lone, weight="w", strata="stratum", psu="psu"), "JKn")
    with pytest.raises(ValueError, match=r"fewer than 2 PSUs: \['Z'\]"):
        as_replicate_design(SurveyDesign(lone, weight="w", strata="stratum", psu="psu"), "BRR")


# ---------------------------------------------------------------------------------- quantiles
# survey's qrule_hf3 is not Hyndman-Fan type 3 (R: qrule_hf3(x, w, p) != quantile(x, p, type = 3));
# it is checked against R's survey in tests/test_survey_methods_r.py
@pytest.mark.parametrize("rule,method", [("hf1", "inverted_cdf"), ("hf2", "averaged_inverted_cdf"),
                                         ("hf4", "interpolated_inverted_cdf"),
                                         ("hf5", "hazen"), ("hf6", "weibull"), ("hf7", "linear"),
                                         ("hf8", "median_unbiased"), ("hf9", "normal_unbiased")])
def test_equal_weight_rules_are_hyndman_fan(rule, method):
    rng = np.random.default_rng(4)
    x = rng.normal(size=37).round(2)
    w = np.full(37, 2.5)
    for p in (0.1, 0.25, 0.5, 0.77, 0.9):
        assert weighted_quantile(x, w, p, rule) == pytest.approx(np.quantile(x, p, method=method), rel=1e-12), p


def test_weighted_median_by_hand():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    assert weighted_quantile(x, np.array([1, 1, 1, 5.0]), 0.5) == 4.0
    assert weighted_quantile(x, np.array([1, 1, 1, 1.0]), 0.5) == 2.0            # math: lower at a step
    assert weighted_quantile(x, np.array([1, 1, 1, 1.0]), 0.5, "school") == 2.5  # school: midpoint
    for p in (0.0, 0.3, 0.5, 0.9):  # zero weights are dropped; below the first step R gives the second value
        for rule in ("math", "hf5"):
            assert weighted_quantile(x, np.array([0, 1, 1, 1.0]), p, rule) == weighted_quantile(
                x[1:], np.ones(3), p, rule)
    assert weighted_quantile(x, np.ones(4), 0.1) == 2.0  # R's qs(): last() of no match is the first row


def test_quantile_frame_and_errors():
    df = make_sample()
    d = SurveyDesign(df, weight="w", strata="stratum", psu="psu", fpc="N")
    q = quantile(d, ["y", "lik"], [0.25, 0.5], by="grp")
    assert list(q.columns) == ["grp", "variable", "prob", "estimate", "se", "ci_low", "ci_high", "df", "n"]
    assert len(q) == 3 * 2 * 2
    assert (q.ci_low <= q.estimate).all() and (q.estimate <= q.ci_high).all()
    sub = df[df.grp == "x"].dropna(subset=["y"])
    est = q[(q.grp == "x") & (q.variable == "y") & (q.prob == 0.5)].estimate.iloc[0]
    assert est == weighted_quantile(sub.y.to_numpy(), sub.w.to_numpy(), 0.5)
    rd = as_replicate_design(d)
    assert len(rd.quantile("y", [0.5], interval_type="quantile")) == 1
    with pytest.raises(ValueError, match="replicate designs offer 'quantile'"):
        quantile(rd, "y", interval_type="score")
    with pytest.raises(ValueError, match="needs a replicate design"):
        quantile(d, "y", interval_type="quantile")
    with pytest.raises(ValueError, match="qrule must be one of"):
        quantile(d, "y", qrule="hf10")
    with pytest.raises(ValueError, match=r"quantiles must lie in \[0, 1\]"):
        quantile(d, "y", [50])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quantile(d, "y", 0.5, interval_type="score")


@pytest.mark.parametrize("type_", ["JKn", "bootstrap", "Fay"])
def test_replicate_columns_kept_as_unit_factors_give_the_same_estimates(type_, monkeypatch):
    """Replicate-weight columns that are each row's weight times its unit's factors are kept
    in that form (sums per unit, not over n x R weights): every estimator, its SE and df equal
    those of the same columns kept whole, in scattered row order too; columns of any other
    form (one weight perturbed) are kept whole."""
    from helpers.stats.survey import replicates

    df = paired_sample() if type_ == "Fay" else make_sample()
    args = dict(weight="w", strata="h", psu="psu") if type_ == "Fay" else dict(weight="w", strata="stratum",
                                                                              psu="psu", fpc="N")
    kw = dict(fay_rho=0.3) if type_ == "Fay" else {}
    conv = as_replicate_design(SurveyDesign(df, **args), type_, seed=2, **kw)
    cols = [f"rw{i + 1}" for i in range(conv.n_replicates)]
    data = pd.concat([df, pd.DataFrame(conv.analysis_weights(), columns=cols, index=df.index)], axis=1)
    data = data.sample(frac=1.0, random_state=3)  # units' rows scattered
    opts = dict(type=type_, scale=conv.scale, rscales=conv.rscales, rho=conv.rho)
    by = "g" if type_ == "Fay" else "grp"
    item = "y"

    def estimates(rd):
        return [rd.mean(item, by=by), rd.total(item), rd.ratio(item, "w", by=by), rd.degf(by=by),
                rd.quantile(item, [0.5])]

    bumped = data.copy()  # one row's weight in one replicate changed: that row is a unit of its own
    bumped.iloc[7, bumped.columns.get_loc(cols[3])] *= 1 + 1e-6
    for frame, units in ((data, df["psu"].nunique()), (bumped, df["psu"].nunique() + 1)):
        fac = ReplicateDesign(frame, "w", cols, **opts)
        assert fac._F is not None and fac._W is None and fac._F.shape[0] <= units
        with monkeypatch.context() as m:
            m.setattr(replicates, "_unit_factors", lambda W, w: None)
            whole = ReplicateDesign(frame, "w", cols, **opts)
        assert whole._W is not None
        for a, b in zip(estimates(fac), estimates(whole)):
            num = a.select_dtypes("number").columns
            np.testing.assert_allclose(a[num].to_numpy(float), b[num].to_numpy(float), rtol=1e-11, atol=1e-12)
    # weights adjusted row by row in each replicate (as a per-replicate calibration would): kept whole
    rng = np.random.default_rng(0)
    adjusted = data.assign(**{c: data[c] * rng.uniform(0.9, 1.1, len(data)) for c in cols})
    assert ReplicateDesign(adjusted, "w", cols, **opts)._F is None


def test_rank_shortcut_decides_as_dqrdc2():
    """A tall matrix that is clearly of full rank skips the dqrdc2 emulation: the decision must
    be the emulation's, for full-rank, exactly deficient and nearly deficient (below and above
    R's tol = 1e-5) matrices."""
    from helpers.stats.survey.replicates import _qr_rank

    rng = np.random.default_rng(1)
    base = rng.standard_normal((400, 12))
    cases = [base, np.c_[base, base[:, 3]], np.c_[base, base[:, 2] + 1e-7 * rng.standard_normal(400)],
             np.c_[base, base[:, 2] + 1e-3 * rng.standard_normal(400)], np.c_[base, np.zeros(400)]]
    for M in cases:
        assert _qr_rank(M) == _qr_rank(np.linalg.qr(M, mode="r")), M.shape
    assert [_qr_rank(M) for M in cases] == [12, 12, 12, 13, 12]
