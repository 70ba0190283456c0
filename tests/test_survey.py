"""helpers.stats.survey and helpers.stats.likert without R: formulas, engines, API and errors.

The comparison with R's survey package itself is in tests/test_survey_r.py.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers.stats import likert
from helpers.paths import DATA_DIR
from helpers.stats.survey import LonelyPSUError, SurveyDesign

COLUMNS = ["variable", "estimate", "se", "ci_low", "ci_high", "df", "deff", "n"]


def make_sample(n_psu=60, n_strata=4, seed=3, missing=0.05) -> pd.DataFrame:
    """A small stratified cluster sample with item nonresponse."""
    rng = np.random.default_rng(seed)
    psu_stratum = np.arange(n_psu) % n_strata
    sizes = rng.integers(3, 12, n_psu)
    psu = np.repeat(np.arange(n_psu), sizes)
    n = len(psu)
    df = pd.DataFrame({
        "stratum": np.array(["A", "B", "C", "D", "E", "F"])[psu_stratum[psu]],
        "psu": psu + 100,
        "w": rng.uniform(10, 60, n),
        "grp": rng.choice(["x", "y", "z"], n),
        "year": rng.choice([2020, 2021], n),
        "y": rng.normal(50, 10, n) + psu_stratum[psu],
        "b": (rng.random(n) < 0.4).astype(float),
        "lik": rng.integers(1, 6, n).astype(float),
        "den": rng.integers(1, 4, n).astype(float),
    })
    nh = df.groupby("stratum")["psu"].transform("nunique")
    df["N"] = nh * 3
    for c in ("y", "b", "lik"):
        df.loc[rng.random(n) < missing, c] = np.nan
    return df


def brute_force_domain_mean(df, y, dom_mask, nh_pop="N"):
    """Textbook domain mean and its Taylor variance (zeros outside the domain), row by row."""
    m = dom_mask & df[y].notna()
    w = df["w"].where(m, 0.0)
    yy = df[y].fillna(0.0)
    W = w.sum()
    mean = (w * yy).sum() / W
    z = w * (yy - mean) / W
    var = 0.0
    for h, g in df.assign(z=z).groupby("stratum"):
        tot = g.groupby("psu")["z"].sum()
        n_h = len(tot)
        N_h = g[nh_pop].iloc[0]
        var += (1 - n_h / N_h) * n_h / (n_h - 1) * ((tot - tot.mean()) ** 2).sum()
    return mean, np.sqrt(var)


def test_columns_and_types():
    df = make_sample()
    d = SurveyDesign(df, weight="w", strata="stratum", psu="psu", fpc="N")
    r = d.mean(["y", "b"], by=["grp", "year"])
    assert list(r.columns) == ["grp", "year"] + COLUMNS
    assert len(r) == 2 * 3 * 2 and r["n"].dtype == np.int64
    p = d.proportion("lik", by="grp")
    assert list(p.columns) == ["grp", "variable", "level"] + COLUMNS[1:]
    assert sorted(p.level.unique()) == [1, 2, 3, 4, 5]
    t = d.ratio("y", "den")
    assert list(t.columns) == COLUMNS and t.variable.iloc[0] == "y/den"


def test_domain_keeps_zeros_in_variance():
    df = make_sample()
    d = SurveyDesign(df, weight="w", strata="stratum", psu="psu", fpc="N")
    r = d.mean("y", by="grp").set_index("grp")
    for g in ["x", "y", "z"]:
        mean, se = brute_force_domain_mean(df, "y", df["grp"] == g)
        assert r.loc[g, "estimate"] == pytest.approx(mean, rel=1e-12)
        assert r.loc[g, "se"] == pytest.approx(se, rel=1e-10)
        # subsetting the domain away (its own design) gives a different, wrong SE
        sub = df[df.grp == g].copy()
        sub["N"] = df["N"]
        wrong = SurveyDesign(sub, weight="w", strata="stratum", psu="psu", fpc="N").mean("y")
        assert wrong["se"].iloc[0] != pytest.approx(se, rel=1e-6)


def test_total_and_ratio_by_hand():
    df = make_sample(missing=0.0)
    d = SurveyDesign(df, weight="w", strata="stratum", psu="psu")
    t = d.total("y")
    assert t.estimate.iloc[0] == pytest.approx((df.w * df.y).sum(), rel=1e-12)
    r = d.ratio("y", "den")
    assert r.estimate.iloc[0] == pytest.approx((df.w * df.y).sum() / (df.w * df.den).sum(), rel=1e-12)


def test_ci_quantiles_and_level():
    df = make_sample()
    d = SurveyDesign(df, weight="w", strata="stratum", psu="psu", fpc="N")
    pd.testing.assert_frame_equal(d.mean("y", df=np.inf), d.mean("y", ci_df=np.inf))  # df= is an alias
    r = d.mean("y", ci_df=np.inf, level=0.9).iloc[0]
    z = stats.norm.ppf(0.95)
    assert r.ci_high == pytest.approx(r.estimate + z * r.se, rel=1e-12)
    r = d.mean("y").iloc[0]
    assert r.df == df.psu.nunique() - df.stratum.nunique()
    assert r.ci_low == pytest.approx(r.estimate - stats.t.ppf(0.975, r.df) * r.se, rel=1e-12)
    p = d.proportion("b", level=1.0).iloc[0]
    q = stats.t.ppf(0.975, p.df)
    eta, s = np.log(p.estimate / (1 - p.estimate)), p.se / (p.estimate * (1 - p.estimate))
    assert p.ci_low == pytest.approx(1 / (1 + np.exp(-(eta - q * s))), rel=1e-12)
    m = d.mean("b").iloc[0]
    assert p.estimate == pytest.approx(m.estimate) and p.se == pytest.approx(m.se) and p.deff == pytest.approx(m.deff)


def test_fpc_as_fraction_equals_popsize():
    df = make_sample()
    nh = df.groupby("stratum")["psu"].transform("nunique")
    df["frac"] = nh / df["N"]
    a = SurveyDesign(df, weight="w", strata="stratum", psu="psu", fpc="N").mean(["y", "b"], by="grp")
    b = SurveyDesign(df, weight="w", strata="stratum", psu="psu", fpc="frac").mean(["y", "b"], by="grp")
    np.testing.assert_allclose(a[["estimate", "se", "deff"]], b[["estimate", "se", "deff"]], rtol=1e-12)


def test_errors():
    df = make_sample()
    bad = df.copy()
    bad.loc[0, "w"] = np.nan
    with pytest.raises(ValueError, match="missing weight"):
        SurveyDesign(bad, weight="w", strata="stratum", psu="psu")
    assert len(SurveyDesign(bad, weight="w", strata="stratum", psu="psu", dropna_weight=True).data) == len(df) - 1
    mixed = df.copy()
    mixed["N"] = np.where(mixed.stratum == "A", 0.5, mixed.N)
    with pytest.raises(ValueError, match="fpc"):
        SurveyDesign(mixed, weight="w", strata="stratum", psu="psu", fpc="N")
    with pytest.raises(ValueError, match="lonely_psu"):
        SurveyDesign(df, weight="w", strata="stratum", psu="psu", lonely_psu="nope")
    lone = df.copy()
    lone.loc[lone.psu == 100, "stratum"] = "Z"  # a stratum holding one PSU
    d = SurveyDesign(lone, weight="w", strata="stratum", psu="psu")
    with pytest.raises(LonelyPSUError, match="stratum 'Z' has only one PSU"):
        d.mean("y")
    ok = SurveyDesign(lone, weight="w", strata="stratum", psu="psu", lonely_psu="adjust").mean("y")
    assert np.isfinite(ok.se.iloc[0])
    with pytest.raises(KeyError):
        SurveyDesign(df, weight="w").mean("nope")


def test_duckdb_engine_matches_pandas(tmp_path):
    df = make_sample(n_psu=120, n_strata=6)
    df["responded"] = 1
    extra = df.head(30).assign(responded=0, w=np.nan)
    path = tmp_path / "s.parquet"
    pd.concat([df, extra]).to_parquet(path, index=False)
    args = dict(weight="w", strata="stratum", psu="psu", fpc="N")
    a = SurveyDesign(df, **args)
    b = SurveyDesign.from_parquet(path, where="responded = 1", **args)
    c = SurveyDesign(df, engine="duckdb", **args)
    assert b.engine == "duckdb" and c.engine == "duckdb"
    for fn in (lambda d: d.mean(["y", "b"], by=["grp", "year"]), lambda d: d.total("y", by="grp"),
               lambda d: d.ratio("y", "den", by="year"), lambda d: d.mean("lik"),
               lambda d: d.proportion("lik", by="grp"), lambda d: d.proportion("lik", level=[4, 5])):
        x = fn(a)
        key = [k for k in x.columns if k not in COLUMNS[1:]]
        x = x.sort_values(key, kind="stable").reset_index(drop=True)
        for other in (b, c):
            y = fn(other).sort_values(key, kind="stable").reset_index(drop=True)
            pd.testing.assert_frame_equal(x[key].astype(str), y[key].astype(str))
            np.testing.assert_allclose(x[COLUMNS[1:]].to_numpy(float), y[COLUMNS[1:]].to_numpy(float), rtol=1e-10)
    with pytest.raises(ValueError, match="missing weight"):
        SurveyDesign.from_parquet(path, **args)


def test_likert_helpers():
    df = make_sample()
    d = SurveyDesign(df, weight="w", strata="stratum", psu="psu", fpc="N")
    dist = likert.distribution(d, "lik", by="grp")
    assert len(dist) == 3 * 5
    np.testing.assert_allclose(dist.groupby("grp").estimate.sum(), 1.0, rtol=1e-12)
    ttb = likert.top_two_box(d, "lik", by="grp").set_index("grp")
    top = dist[dist.level.isin([4, 5])].groupby("grp").estimate.sum()
    np.testing.assert_allclose(ttb.loc[top.index, "estimate"], top, rtol=1e-12)
    assert (ttb.level == "4|5").all()
    ms = likert.mean_score(d, "lik", by="grp")
    pd.testing.assert_frame_equal(ms, d.mean("lik", by="grp"))


def test_synthetic_survey_api():
    path = DATA_DIR / "survey.csv"
    if not path.exists():
        pytest.skip(f"{path} not generated yet")
    raw = pd.read_csv(path)
    df = raw[raw.responded == 1]
    # each year a fresh sample: strata district x year, PSUs (communities) nested in them
    d = SurveyDesign(df, weight="weight", strata=["district_id", "year"], psu="community_id", fpc="n_psu_stratum")
    r = d.mean(["sat_overall", "aware_center"], by=["district_id", "year"])
    assert len(r) == 2 * df.district_id.nunique() * df.year.nunique()
    assert r.estimate.notna().all() and (r.se > 0).all() and (r.df > 0).all()
    ttb = likert.top_two_box(d, by="district_id")
    assert ttb.estimate.between(0, 1).all()



@pytest.mark.parametrize("lonely", ["adjust", "remove"])
def test_duckdb_engine_two_stage_matches_pandas(tmp_path, lonely):
    """Two-stage designs (PSU + SSU, both fpcs) give the in-memory engine's results in DuckDB."""
    rng = np.random.default_rng(11)
    df = make_sample(n_psu=80, n_strata=5, seed=7)
    # second stage: households within each PSU (some PSUs hold one SSU: a lonely second stage)
    df["hh"] = rng.integers(0, 4, len(df)) * (df["psu"] % 7 != 0)
    df["M"] = df.groupby("psu")["hh"].transform("nunique") + df["psu"] % 3
    df["responded"] = 1
    extra = df.head(20).assign(responded=0, w=np.nan)
    path = tmp_path / "two.parquet"
    pd.concat([df, extra]).to_parquet(path, index=False)
    args = dict(weight="w", strata="stratum", psu=["psu", "hh"], fpc=["N", "M"], lonely_psu=lonely)
    a = SurveyDesign(df, **args)
    b = SurveyDesign.from_parquet(path, where="responded = 1", **args)
    c = SurveyDesign(df, engine="duckdb", **args)
    assert b._ssu is not None and c.engine == "duckdb"
    for fn in (lambda d: d.mean(["y", "b"], by=["grp", "year"]), lambda d: d.total("y", by="grp"),
               lambda d: d.ratio("y", "den", by="year"), lambda d: d.mean("lik"),
               lambda d: d.proportion("lik", by="grp")):
        x = fn(a)
        key = [k for k in x.columns if k not in COLUMNS[1:]]
        x = x.sort_values(key, kind="stable").reset_index(drop=True)
        assert (x["se"] > 0).all()
        for other in (b, c):
            y = fn(other).sort_values(key, kind="stable").reset_index(drop=True)
            pd.testing.assert_frame_equal(x[key].astype(str), y[key].astype(str))
            np.testing.assert_allclose(x[COLUMNS[1:]].to_numpy(float), y[COLUMNS[1:]].to_numpy(float), rtol=1e-10)
    # the second stage matters here: without it (ultimate clusters) the SEs differ
    uc = SurveyDesign(df, weight="w", strata="stratum", psu="psu", fpc="N", lonely_psu=lonely).mean("y")
    assert abs(uc["se"].iloc[0] - a.mean("y")["se"].iloc[0]) > 1e-6 * a.mean("y")["se"].iloc[0]
    with pytest.raises(ValueError, match="fpc varies within a PSU"):
        SurveyDesign(df.assign(M=np.arange(len(df)) + 10.0), engine="duckdb", **{**args, "lonely_psu": lonely})


def test_lonely_second_stage_error_names_the_psu_on_both_engines():
    """A PSU with one sampled second-stage unit (lonely_psu='fail') is named by its own value on
    the DuckDB engine too, not by an internal code."""
    df = make_sample(n_psu=20, n_strata=4, seed=7)
    df["hh"] = np.where(df["psu"] == 107, 0, np.arange(len(df)) % 3)
    df["M"] = 5.0
    args = dict(weight="w", strata="stratum", psu=["psu", "hh"], fpc=["N", "M"])
    for engine in ("pandas", "duckdb"):
        with pytest.raises(ValueError, match="PSU '107' has only one sampled second-stage unit"):
            SurveyDesign(df, engine=engine, **args).mean("y")
