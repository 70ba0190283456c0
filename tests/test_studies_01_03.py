"""Study glue of notebooks 01-03 (helpers.studies), checked against independent computations:
brute-force loops, scipy's own tests and intervals, and the shared helpers' results."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers.publish import fmt
from helpers.stats import smallarea
from helpers.studies import common, coverage, participation
from helpers.studies import satisfaction as sat


# ---------------------------------------------------------------------------------------- fixtures
@pytest.fixture
def orgs():
    return pd.DataFrame({
        "org_id": ["O1", "O2", "O3", "O4", "O5", "O6"],
        "community_id": ["C1", "C1", "C2", "C3", "C3", "C3"],
        "kind": ["non_public_enterprise", "social_organisation", "non_public_enterprise",
                 "non_public_enterprise", "social_organisation", "non_public_enterprise"],
        "year_founded": [2010, 2019, 2015, 2020, 2000, 2018],
        "year_closed": pd.array([pd.NA, pd.NA, 2021, pd.NA, 2019, pd.NA], dtype="Int64"),
        "party_org_mode": ["own", "joint", "joint", "none", "own", "joint"],
        "party_org_year": pd.array([2012, 2020, 2016, pd.NA, 2005, 2023], dtype="Int64"),
        "work_coverage": [1, 0, 1, 1, 0, 0],
    })


@pytest.fixture
def cmap():
    return pd.DataFrame({"community_id": ["C1", "C2", "C3"], "subdistrict_id": ["S1", "S1", "S2"],
                         "district_id": ["D1", "D1", "D2"]})


# ---------------------------------------------------------------------------------------- coverage






def test_unit_contrast_matches_scipy_welch():
    rng = np.random.default_rng(1)
    d = pd.DataFrame({"v": np.r_[rng.normal(0.6, 0.1, 30), rng.normal(0.5, 0.2, 12), np.nan],
                      "g": ["a"] * 30 + ["b"] * 13})
    r = coverage.unit_contrast(d, "v", "g", "a", "b").iloc[0]
    a, b = d.loc[d.g == "a", "v"], d.loc[d.g == "b", "v"].dropna()
    tt = stats.ttest_ind(a, b, equal_var=False)
    ci = tt.confidence_interval(0.95)
    assert r["estimate"] == pytest.approx(a.mean() - b.mean())
    assert r["ci_low"] == pytest.approx(ci.low) and r["ci_high"] == pytest.approx(ci.high)
    assert r["df"] == pytest.approx(tt.df)
    assert (r["n_a"], r["n_b"]) == (30, 12)


def test_unit_means_by_year_matches_a_t_interval():
    rng = np.random.default_rng(2)
    d = pd.DataFrame({"year": np.repeat([2020, 2021], 20), "g": np.tile(["x", "y"], 20),
                      "v": rng.normal(size=40)})
    out = coverage.unit_means_by_year(d, "v", "g")
    s = d[(d.year == 2021) & (d.g == "y")]["v"]
    lo, hi = stats.t.interval(0.95, len(s) - 1, loc=s.mean(), scale=stats.sem(s))
    r = out[(out.year == 2021) & (out.g == "y")].iloc[0]
    assert (r["estimate"], r["ci_low"], r["ci_high"], r["n"]) == pytest.approx((s.mean(), lo, hi, 10))


def test_spread_by_size_estimate_and_interval():
    rng = np.random.default_rng(3)
    n = rng.integers(1, 30, 400)
    x = rng.binomial(n, 0.6)
    d = pd.DataFrame({"x": x, "n": n})
    r = coverage.spread_by_size(d, "x", "n", n_boot=300, seed=4).iloc[0]
    p = x / n
    small = n < np.median(n)
    assert r["estimate"] == pytest.approx(np.std(p[small], ddof=1) - np.std(p[~small], ddof=1))
    assert r["ci_low"] < r["estimate"] < r["ci_high"]
    assert r["ci_low"] > 0  # binomial noise is larger in small units
    same = coverage.spread_by_size(d, "x", "n", n_boot=300, seed=4).iloc[0]
    assert same["ci_low"] == r["ci_low"]  # seeded


def test_platform_status():
    p = pd.DataFrame({"subdistrict_id": ["S1", "S2", "S3"],
                      "platform_year": pd.array([2019, pd.NA, 2024], dtype="Int64")})
    s = coverage.platform_status(p, 2023)
    assert s["adopted"].tolist() == ["adopted by 2023", "not yet or never", "not yet or never"]


def test_lowest_raw_summarises_the_bottom_of_a_league_table():
    """Hand-made: four communities at 0% (two tiny, two large), the rest higher; the bottom holds every
    unit tied at the lowest rate, and only the large one the rule names counts as below."""
    eb = pd.DataFrame({"community_id": list("ABCDEFG"), "trials": [1, 2, 40, 50, 10, 3, 0],
                       "raw_rate": [0.0, 0.0, 0.0, 0.0, 0.3, 0.67, np.nan],
                       "eb_rate": [0.45, 0.40, 0.05, 0.04, 0.35, 0.55, 0.5]})
    v = pd.DataFrame({"unit": list("ABCDEF"), "verdict": ["not distinguishable", "not distinguishable", "below",
                                                          "not distinguishable", "not distinguishable",
                                                          "not distinguishable"]})
    r = coverage.lowest_raw(eb, v, k=2).iloc[0]
    assert r["units"] == 4 and r["median_trials"] == np.median([1, 2, 40, 50, 10, 3])
    assert r["small"] == 2 and r["below"] == 1
    assert (r["raw_low"], r["raw_high"], r["eb_low"], r["eb_high"]) == (0.0, 0.0, 0.04, 0.45)
    assert coverage.lowest_raw(eb, v, k=5).iloc[0]["units"] == 5  # no tie at the 5th: exactly five


def test_verdict_map_frame_uses_the_words_of_the_rule():
    units = pd.DataFrame({"subdistrict_id": ["S1", "S2", "S3"]})
    v = pd.DataFrame({"unit": ["S1", "S2"], "verdict": ["below", "not distinguishable"]})
    out = coverage.verdict_map_frame(units, v, "subdistrict_id")
    assert out["verdict"].tolist()[:2] == ["Below the city", "Not distinguishable"]
    assert pd.isna(out["verdict"].iloc[2])  # no denominator: no verdict, drawn as "No data"
    assert list(coverage.verdict_colours()) == list(coverage.VERDICT_LABELS.values())
    assert "verdict" not in units.columns  # input unchanged


def test_named_funnel_relabels_a_copy_and_keeps_the_verdicts():
    from helpers.studies import verdicts

    counts = pd.DataFrame({"district_id": ["D1", "D2", "D3", "D4"], "covered": [10, 80, 50, 45],
                           "active": [100, 100, 100, 90]})
    res, v = verdicts.rate_verdicts(counts, "covered", "active", "district_id")
    named = coverage.named_funnel(res, pd.Series({"D1": "North", "D2": "South", "D3": "East"}))
    assert named.table["unit"].tolist() == ["North", "South", "East", "D4"]  # no name: the id stays
    assert res.table["unit"].tolist() == ["D1", "D2", "D3", "D4"]  # the input is not changed
    pd.testing.assert_frame_equal(named.table.drop(columns="unit"), res.table.drop(columns="unit"))
    assert named.target == res.target and named.limits(np.array([50.0])).equals(res.limits(np.array([50.0])))
    assert v["unit"].tolist() == ["D1", "D2", "D3", "D4"]  # the verdicts stay keyed by id


# ---------------------------------------------------------------------------------------- common
def test_interval_text_and_rate_table():
    from helpers.stats.rates import rates

    d = pd.DataFrame({"district_id": ["D1", "D1", "D2"], "x": [3, 4, 0], "n": [10, 10, 5]})
    r = rates(d, {"m": ("x", "n")}, by="district_id")
    units = pd.DataFrame({"district_id": ["D1", "D2"], "name_en": ["One", "Two"]})
    t = common.rate_table(r, units, labels={"m": "rate"}, denominator_label="n_units")
    assert list(t.columns) == ["district_id", "name_en", "rate", "n_units"]
    assert t.loc[0, "rate"].startswith("35.0 (") and t.loc[0, "n_units"] == "20"  # counts as text, fmt.count
    assert common.interval_text([np.nan], [0], [1]).iloc[0] == fmt.MISSING


# ---------------------------------------------------------------------------------------- participation
def test_per_member_and_safe_ratio(cmap):
    from helpers.data.concepts import member_panel

    m = pd.DataFrame({"community_id": ["C1", "C2", "C3"], "year": 2020, "registered": [5, 6, 0],
                      "in_service_resident": [10, 12, 0], "volunteer_hours": [50.0, 30.0, 0.0]})
    j = pd.DataFrame({"community_id": ["C1", "C2", "C3"], "year": 2020, "resident_units": [4, 0, 2],
                      "signed_agreements": [1, 0, 2], "joint_events": [3, 0, 1]})
    p = member_panel(m, j, cmap)
    h = participation.per_member(p, "volunteer_hours", "registered", by="district_id").set_index("district_id")
    assert h.loc["D1", "per_member"] == pytest.approx(80 / 11) and np.isnan(h.loc["D2", "per_member"])
    r = participation.safe_ratio(p, "volunteer_hours", "in_service_resident")
    assert r.iloc[0] == 5.0 and np.isnan(r.iloc[2])


def test_shrinkage_accuracy_by_hand():
    eb = pd.DataFrame({"community_id": ["A", "B", "C"], "trials": [10, 20, 0], "raw_rate": [0.5, 0.2, np.nan],
                       "eb_rate": [0.45, 0.25, 0.3], "ci_low": [0.3, 0.1, 0.1], "ci_high": [0.6, 0.24, 0.5]})
    truth = pd.DataFrame({"community_id": ["A", "B", "C"], "p_registered": [0.4, 0.3, 0.3]})
    a = participation.shrinkage_accuracy(eb, truth).set_index("estimator")
    assert a.loc["raw", "rmse"] == pytest.approx(np.sqrt((0.1**2 + 0.1**2) / 2))
    assert a.loc["shrunken", "rmse"] == pytest.approx(np.sqrt((0.05**2 + 0.05**2) / 2))
    assert a.loc["shrunken", "interval_coverage"] == 0.5 and a.loc["raw", "n_units"] == 2




# ---------------------------------------------------------------------------------------- satisfaction
def test_item_table_takes_the_smallest_n():
    a = pd.DataFrame({"district_id": ["D1", "D2"], "estimate": [3.0, 3.5], "ci_low": [2.8, 3.1],
                      "ci_high": [3.2, 3.9], "n": [120, 9]})
    b = a.assign(estimate=[0.4, 0.5], ci_low=[0.3, 0.4], ci_high=[0.5, 0.6], n=[118, 12])
    t = sat.item_table({"mean": a, "% top": b}, scales={"% top": 100}, decimals={"% top": 1})
    assert t["n"].tolist() == [118, 9]
    assert t.loc[0, "mean"] == "3.00 (2.80 to 3.20)" and t.loc[0, "% top"] == "40.0 (30.0 to 50.0)"
    from helpers.publish import report

    shown = report.table(t, n="n", columns=["mean", "% top"])
    assert shown.loc[1, "mean"].startswith("suppressed")


def test_area_covariates_population_weighted(cmap):
    c = pd.DataFrame({"community_id": ["C1", "C2", "C3"], "population": [100, 300, 50],
                      "share_60plus": [0.1, 0.3, 0.2], "migrant_share": [0.0, 0.4, 0.1], "urban": [1, 0, 1]})
    a = sat.area_covariates(c, cmap).set_index("subdistrict_id")
    assert a.loc["S1", "share_60plus"] == pytest.approx((10 + 90) / 400)
    assert a.loc["S1", "population"] == 400 and a.loc["S2", "urban"] == 1


def test_smoothed_se_is_the_generalised_variance_function():
    rng = np.random.default_rng(7)
    micro = pd.DataFrame({"a": np.repeat(["X", "Y", "Z"], [10, 20, 30]), "y": rng.normal(size=60)})
    direct = micro.groupby("a", as_index=False)["y"].agg(estimate="mean", n="size").assign(se=0.0)
    out = sat.smoothed_se(direct, micro, "y", "a", deff=1.5)
    g = micro.groupby("a")["y"]
    s2 = ((g.size() - 1) * g.var()).sum() / (g.size() - 1).sum()
    assert np.allclose(out["se"], np.sqrt(1.5 * s2 / np.array([10, 20, 30])))
    assert (out["se_direct"] == 0).all()


def test_fh_all_areas_in_and_out_of_sample():
    rng = np.random.default_rng(8)
    m = 40
    areas = pd.DataFrame({"a": [f"A{i}" for i in range(m + 2)], "g": ["G1", "G2"] * ((m + 2) // 2),
                          "x": rng.normal(size=m + 2)})
    areas.loc[m, "x"] = areas.loc[0, "x"]  # an unsampled area with the same covariates and group as A0
    areas.loc[m, "g"] = areas.loc[0, "g"]
    y = 1 + 0.5 * areas["x"][:m] + rng.normal(0, 0.3, m) + rng.normal(0, 0.2, m)
    d = areas[:m].assign(est=y.to_numpy(), se=0.2)
    res = smallarea.fay_herriot(d, "est", "se", unit="a", covariates=["x"], group="g")
    out = sat.fh_all_areas(res, areas).set_index("a")
    t = res.table.set_index("a")
    assert np.allclose(out.loc[t.index, "estimate"], t["eblup"]) and np.allclose(out.loc[t.index, "mse"], t["mse"])
    assert out.loc[f"A{m}", "source"] == "synthetic"
    assert out.loc[f"A{m}", "estimate"] == pytest.approx(t.loc["A0", "synthetic"])
    # x'(X'V^-1X)^-1 x at an intercept-only point of the first group is the intercept's variance
    se_int = res.coef.set_index("term").loc["Intercept", "se"]
    probe = pd.DataFrame({"a": ["P"], "g": [sorted(areas["g"].unique())[0]], "x": [0.0]})
    p = sat.fh_all_areas(res, pd.concat([areas, probe])).set_index("a")
    assert p.loc["P", "mse"] == pytest.approx(res.sigma2_v + se_int**2)


def test_community_means():
    micro = pd.DataFrame({"community_id": ["A", "A", "B", "C"], "s": [50.0, 70.0, 40.0, np.nan]})
    units = pd.DataFrame({"community_id": ["A", "B", "C", "D"], "score": [80, 70, 60, 50]})
    m = sat.community_means(micro, "s", units, "score").set_index("community_id")
    assert m.loc["A", "mean_s"] == 60 and m.loc["A", "n"] == 2 and list(m.index) == ["A", "B"]


def test_funnel_plot_draws_binomial_limits_for_small_units():
    from helpers.stats.compare import funnel_proportion

    rng = np.random.default_rng(9)
    n = rng.integers(1, 25, 80)
    d = pd.DataFrame({"u": [f"C{i}" for i in range(80)], "x": rng.binomial(n, 0.6), "n": n})
    f = funnel_proportion(d, "x", "n", "u")
    ax = common.funnel_plot(f, "n", "rate", "t", max_labels=0)
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert "City value" in labels and "99.8% limits (binomial)" in labels
    assert not [x for x in labels if x == "target" or ".0%" in x]  # a reader's legend
    lines = [ln for ln in ax.get_lines() if ln.get_label() == "95% limits (binomial)"]
    assert lines, "no binomial limit line"
    y = lines[0].get_ydata()
    assert np.isfinite(y).sum() >= n.max() - 1  # drawn at every whole denominator
    ref = f.limits(lines[0].get_xdata())["lower_95"].to_numpy()
    assert np.allclose(y, ref, equal_nan=True)


def test_funnel_plot_colours_outliers_as_the_maps_do_and_names_them_in_the_legend():
    from matplotlib.colors import to_hex

    from helpers.stats.compare import funnel_proportion

    rng = np.random.default_rng(3)
    n = rng.integers(200, 400, 60)
    p = np.where(np.arange(60) < 3, 0.2, np.where(np.arange(60) >= 57, 0.95, 0.6))  # 3 low, 3 high units
    d = pd.DataFrame({"u": [f"C{i}" for i in range(60)], "x": rng.binomial(n, p), "n": n})
    f = funnel_proportion(d, "x", "n", "u")
    flag = common.funnel_flags(f)
    order = dict(zip(f.table["unit"], range(len(f.table))))
    assert all(flag[order[f"C{i}"]] == "low" for i in range(3))
    assert all(flag[order[f"C{i}"]] == "high" for i in range(57, 60))
    ax = common.funnel_plot(f, "n", "rate", "t", max_labels=0)
    colours = coverage.verdict_colours()
    pts = [c for c in ax.collections if len(c.get_offsets()) == len(d)][-1]
    face = [to_hex(c) for c in pts.get_facecolors()]
    assert all(face[order[f"C{i}"]] == colours["Below the city"] for i in range(3))
    assert all(face[order[f"C{i}"]] == colours["Above the city"] for i in range(57, 60))
    inside = {face[order[f"C{i}"]] for i in range(3, 57) if flag[order[f"C{i}"]] == ""}
    assert inside and not inside & {colours["Below the city"], colours["Above the city"]}
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("Below the city") for t in legend) and any(t.startswith("Above the city") for t in legend)


def test_and_join_lists_names_as_a_sentence():
    assert [common.and_join(x) for x in ([], ["A"], ["A", "B"], ["A", "B", "C"])] == ["", "A", "A and B", "A, B and C"]
