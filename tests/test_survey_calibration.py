"""Calibration without R: the calibration equations hold, the identities theory gives, errors.

The comparisons with R's survey package (postStratify, rake, calibrate, trimWeights on
the API samples and NHANES, Taylor and replicate designs) are in
tests/test_survey_methods_r.py; the synthetic city's survey calibrated to its census
margins is checked in tests/test_survey_methods_r.py too.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.stats.survey import SurveyDesign, as_replicate_design
from helpers.stats.survey.calibration import (CalibratedDesign, CalibrationError, calibrate, post_stratify, rake,
                                              trim_weights)

from test_survey import make_sample


def sample():
    df = make_sample(n_psu=80, missing=0.0)
    df["sex"] = np.where(np.random.default_rng(1).random(len(df)) < 0.45, "female", "male")
    df["x"] = df["y"] * 0.8 + np.random.default_rng(2).normal(0, 3, len(df))
    return df


def margins(df, scale=1.1):
    """Population margins a little off the sample's weighted totals (so calibration moves)."""
    grp = (df.groupby("grp")["w"].sum() * np.array([1.2, 0.9, 1.0]) * scale).round()
    N = grp.sum()
    sex = df.groupby("sex")["w"].sum()
    sex = (sex / sex.sum() * N * np.array([1.05, 0.96])).round()
    sex.iloc[-1] = N - sex.iloc[0]
    return grp.rename("count").reset_index(), sex.rename("count").reset_index(), N


def design(df):
    return SurveyDesign(df, weight="w", strata="stratum", psu="psu", fpc="N")


@pytest.mark.parametrize("how", ["post_stratify", "rake", "linear", "raking", "logit", "linear_bounded"])
def test_calibrated_weights_meet_the_margins(how):
    df = sample()
    mg, ms, N = margins(df)
    d = design(df)
    if how == "post_stratify":
        cal = post_stratify(d, "grp", mg)
        checks = [mg]
    elif how == "rake":
        cal = rake(d, [mg, ms], epsilon=1e-6)
        checks = [mg, ms]
    else:
        kw = dict(linear={}, raking=dict(calfun="raking"), logit=dict(calfun="logit", bounds=(0.5, 2.5)),
                  linear_bounded=dict(bounds=(0.6, 1.6)))[how]
        cal = calibrate(d, [mg, ms], totals={"x": float((df.w * df.x).sum() * 1.15)}, **kw)
        checks = [mg, ms]
        assert (cal.weights * df.x).sum() == pytest.approx((df.w * df.x).sum() * 1.15, rel=1e-6)
        if how == "logit":
            assert cal.g.min() > 0.5 - 1e-9 and cal.g.max() < 2.5 + 1e-9
        if how == "linear_bounded":
            assert cal.g.min() >= 0.6 - 1e-9 and cal.g.max() <= 1.6 + 1e-9
    assert isinstance(cal, CalibratedDesign)
    for m in checks:
        var = m.columns[0]
        got = pd.Series(cal.weights, index=df.index).groupby(df[var]).sum()
        np.testing.assert_allclose(got.loc[m[var]].to_numpy(), m["count"].to_numpy(), rtol=1e-6)
    assert np.isfinite(cal.total("b").se.iloc[0]) and (cal.mean("y", by="grp").se > 0).all()


def test_total_of_a_calibration_variable_has_zero_variance():
    df = sample()
    mg, ms, N = margins(df)
    d = design(df)
    cal = calibrate(d, [mg], totals={"x": float((df.w * df.x).sum() * 1.1)})
    before = d.total("x").se.iloc[0]
    after = cal.total("x").se.iloc[0]
    assert after < 1e-7 * before
    # and the GREG variance of a correlated variable shrinks
    assert cal.total("y").se.iloc[0] < 0.6 * d.total("y").se.iloc[0]
    # post-stratified counts of the cells have no variance either
    ps = post_stratify(d, "grp", mg)
    df2 = df.assign(one=1.0)
    ps2 = post_stratify(design(df2), "grp", mg)
    tt = ps2.total("one", by="grp")
    assert (tt.se < 1e-8 * tt.estimate).all()
    assert ps.mean("y").estimate.iloc[0] == pytest.approx(
        np.average(df.y, weights=ps.weights), rel=1e-12)


def test_rake_converges_to_raking_calibration():
    df = sample()
    mg, ms, _ = margins(df)
    d = design(df)
    r = rake(d, [mg, ms], maxit=100, epsilon=1e-9)
    c = calibrate(d, [mg, ms], calfun="raking", epsilon=1e-12)
    np.testing.assert_allclose(r.weights, c.weights, rtol=1e-8)


def test_replicate_calibration_keeps_replicate_design():
    df = sample()
    mg, ms, _ = margins(df)
    rd = as_replicate_design(design(df), "JKn")
    cal = calibrate(rd, [mg, ms])
    assert cal.n_replicates == rd.n_replicates
    # every replicate meets the margins: the margin totals have zero replicate variance
    df1 = df.assign(one=1.0)
    cal1 = calibrate(as_replicate_design(design(df1), "JKn"), [mg, ms])
    t = cal1.total("one", by="grp")
    assert (t.se < 1e-6 * t.estimate).all()


def test_trim_weights_reports_what_it_did():
    df = sample()
    d = design(df)
    up = np.quantile(df.w, 0.9)
    tr = trim_weights(d, upper=up)
    assert tr.weights.max() <= up + (df.w.clip(upper=up) - df.w).abs().sum()  # shared amount can lift others
    assert tr.weights.sum() == pytest.approx(df.w.sum(), rel=1e-12)
    rep = tr.trimming.iloc[0]
    assert rep.n_above == int((df.w > up).sum()) and rep.n_below == 0
    assert rep.weight_removed_above == pytest.approx((df.w - up).clip(lower=0).sum(), rel=1e-12)
    assert rep.redistributed_per_unit == pytest.approx(rep.weight_removed_above / rep.n_redistributed, rel=1e-12)
    strict = trim_weights(d, upper=up, strict=True)
    assert strict.weights.max() <= up + 1e-9 and len(strict.trimming) >= 1
    assert strict.weights.sum() == pytest.approx(df.w.sum(), rel=1e-12)


def test_calibration_errors_name_the_variable_and_category():
    df = sample()
    mg, ms, N = margins(df)
    d = design(df)
    extra = pd.concat([mg, pd.DataFrame({"grp": ["w"], "count": [100.0]})], ignore_index=True)
    with pytest.raises(CalibrationError, match=r"margin grp: category grp='w' \(population 100\) is absent from "
                                               r"the sample"):
        calibrate(d, [extra])
    with pytest.raises(CalibrationError, match=r"category grp='w' .* absent"):
        post_stratify(d, "grp", extra)
    assert len(post_stratify(d, "grp", extra, partial=True).weights) == len(df)
    short = mg[mg.grp != "z"]
    with pytest.raises(CalibrationError, match=r"the sample has grp='z' \(\d+ respondents\) but the margin has no "
                                               r"such category"):
        rake(d, [short, ms])
    bad = ms.assign(count=ms["count"] * 1.5)
    with pytest.raises(CalibrationError, match=r"margins disagree on the population size: grp sums to .*, sex to"):
        calibrate(d, [mg, bad])
    with pytest.raises(CalibrationError, match="margins disagree on the population size"):
        rake(d, [mg, bad])
    with pytest.raises(CalibrationError, match=r"raking to grp, sex did not converge in 1 sweeps"):
        rake(d, [mg, ms], maxit=1, epsilon=1e-9)
    with pytest.warns(UserWarning, match="did not converge"):
        assert isinstance(rake(d, [mg, ms], maxit=1, epsilon=1e-9, force=True), CalibratedDesign)
    holes = df.copy()
    holes.loc[[1, 5], "sex"] = None
    with pytest.raises(CalibrationError, match=r"calibration variable 'sex' has 2 missing values"):
        calibrate(design(holes), [ms])
    with pytest.raises(CalibrationError, match=r"did not meet its totals in 50 iterations: grp='y' is off"):
        tight = mg.assign(count=mg["count"] * np.array([1.0, 3.0, 1.0]))
        calibrate(d, [tight], calfun="raking", bounds=(0.8, 1.25))
    with pytest.raises(CalibrationError, match="logit calibration needs finite bounds"):
        calibrate(d, [mg], calfun="logit")
    with pytest.raises(CalibrationError, match="one column of population counts"):
        calibrate(d, [mg.assign(extra=1)])
    zero = mg.assign(count=np.where(mg.grp == "x", 0.0, mg["count"]))
    with pytest.raises(CalibrationError, match=r"category grp='x' has population 0 but respondents"):
        post_stratify(d, "grp", zero)


def test_margin_forms_agree():
    df = sample()
    mg, ms, N = margins(df)
    d = design(df)
    a = calibrate(d, [mg, ms])
    b = calibrate(d, [mg.set_index("grp")["count"], {"sex": dict(zip(ms.sex, ms["count"]))}])
    np.testing.assert_allclose(a.weights, b.weights, rtol=1e-12)
    joint = df.groupby(["grp", "sex"])["w"].sum().mul(1.1).rename("count").reset_index()
    c = post_stratify(d, ["grp", "sex"], joint)
    got = pd.Series(c.weights).groupby([df.grp.values, df.sex.values]).sum()
    np.testing.assert_allclose(got.to_numpy(), joint["count"].to_numpy(), rtol=1e-12)


def test_resident_survey_calibrates_to_the_census_margins():
    from helpers.paths import DATA_DIR
    if not (DATA_DIR / "survey.csv").exists() or not (DATA_DIR / "population.csv").exists():
        pytest.skip("data/survey.csv or data/population.csv missing (make data generates them)")
    from helpers.data.concepts import resident_survey_design
    raw = pd.read_csv(DATA_DIR / "survey.csv")
    pop = pd.read_csv(DATA_DIR / "population.csv")
    d = resident_survey_design(raw[raw.responded == 1])
    years = pd.DataFrame({"year": sorted(d.data.year.unique())})
    m_age = pop.groupby(["district_id", "age_band"], as_index=False).residents.sum().merge(years, how="cross")
    m_sex = pop.groupby(["district_id", "sex"], as_index=False).residents.sum().merge(years, how="cross")
    cal = rake(d, [m_age, m_sex])  # R's stopping rule: no cell changes by 1 person or more
    w = pd.Series(cal.weights, index=d.data.index)
    got = w.groupby([d.data.year, d.data.district_id, d.data.age_band]).sum()
    want = m_age.set_index(["year", "district_id", "age_band"]).residents.loc[got.index]
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-5)
    # a GREG calibration to the same margins gives nearly the same district means
    greg = calibrate(d, [m_age, m_sex])
    a = cal.mean("sat_score", by="district_id").set_index("district_id")
    b = greg.mean("sat_score", by="district_id").set_index("district_id")
    base = d.mean("sat_score", by="district_id").set_index("district_id")
    assert ((a.estimate - b.estimate).abs() < 0.25 * base.se).all()
    # nonresponse does not depend on age or sex here: calibration moves district means by less than 2 SE
    assert ((a.estimate - base.estimate).abs() < 2 * base.se).all()
