"""Glue of the notebooks 05_spatial and 90_validation, checked against
independent computations (plain pandas/NumPy sums, esda directly, hand-written formulas)."""
from __future__ import annotations

from types import SimpleNamespace

import esda
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from helpers.data import load
from helpers.stats import spatial
from helpers.studies import spatial as ss

YEAR = 2024


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def tables():
    return {"boundaries": load.load_community_boundaries(), "members": load.load_members(),
            "organisations": load.load_organisations(), "subdistricts": load.load_subdistricts(),
            "survey": load.load_survey()}


@pytest.fixture(scope="module")
def com(tables):
    return ss.community_rates(tables["boundaries"], tables["members"], tables["organisations"], YEAR)


def _toy_squares():
    """Three unit squares in a row (A-B-C) and one far away (D): D is an island."""
    geoms = [box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1), box(10, 10, 11, 11)]
    return gpd.GeoDataFrame({"uid": list("ABCD"), "name_en": ["A", "B", "C", "D"],
                             "y": [1.0, 2.0, 3.0, 4.0]}, geometry=geoms, crs="EPSG:4548")


# ----------------------------------------------------------------------------- 05_spatial glue
def test_community_rates_match_direct_counts(tables, com):
    m = tables["members"]
    m = m[m["year"] == YEAR].set_index("community_id")
    c = com.set_index("community_id")
    np.testing.assert_array_equal(c.loc[m.index, "registered"], m["registered"])
    np.testing.assert_array_equal(c.loc[m.index, "in_service_resident"], m["in_service_resident"])
    o = tables["organisations"]
    closed = pd.to_numeric(o["year_closed"]).astype(float)
    porg = pd.to_numeric(o["party_org_year"]).astype(float)
    active = (o["year_founded"] <= YEAR) & (closed.isna() | (closed > YEAR))
    covered = active & (o["party_org_mode"] != "none") & (porg <= YEAR)
    a = active.groupby(o["community_id"]).sum()
    k = covered.groupby(o["community_id"]).sum()
    exp_active = a.reindex(c.index, fill_value=0)
    exp_cov = k.reindex(c.index, fill_value=0)
    np.testing.assert_array_equal(c["active"], exp_active)
    np.testing.assert_array_equal(c["covered"], exp_cov)
    ok = exp_active > 0
    np.testing.assert_allclose(c.loc[ok, "coverage_rate"], (exp_cov / exp_active)[ok])
    assert c.loc[~ok, "coverage_rate"].isna().all() and c.loc[~ok, "coverage_eb"].isna().all()
    # EB smoothing pulls every rate towards the pooled rate, never past it
    pooled = exp_cov[ok].sum() / exp_active[ok].sum()
    raw, eb = c.loc[ok, "coverage_rate"], c.loc[ok, "coverage_eb"]
    assert ((eb - pooled).abs() <= (raw - pooled).abs() + 0.02).all()


def test_subdistrict_rates_are_summed_counts(com, tables):
    sub = ss.subdistrict_rates(com, tables["subdistricts"]).set_index("subdistrict_id")
    direct = pd.DataFrame(com).groupby("subdistrict_id")[["registered", "in_service_resident"]].sum()
    np.testing.assert_array_equal(sub.loc[direct.index, "registered"], direct["registered"])
    np.testing.assert_allclose(sub.loc[direct.index, "registration_rate"],
                               direct["registered"] / direct["in_service_resident"])


def test_subdistrict_satisfaction_direct_means_are_weighted_means(tables):
    sv = tables["survey"]
    sat = ss.subdistrict_satisfaction(sv, tables["subdistricts"]).set_index("subdistrict_id")
    s = sv[sv["sat_score"].notna()]
    wm = (s["weight"] * s["sat_score"]).groupby(s["subdistrict_id"]).sum() / s["weight"].groupby(
        s["subdistrict_id"]).sum()
    n = s.groupby("subdistrict_id").size()
    psus = s.groupby("subdistrict_id").apply(lambda g: g[["community_id", "year"]].drop_duplicates().shape[0])
    keep = (n >= 10) & (psus > 1)
    np.testing.assert_allclose(sat.loc[keep[keep].index, "estimate"], wm[keep], rtol=1e-12)
    np.testing.assert_array_equal(sat.loc[n.index, "n"], n)
    # one sampled community-year: no design-based SE, blanked and flagged
    single = psus[psus == 1].index
    assert sat.loc[single, "single_psu"].all() and sat.loc[single, "estimate"].isna().all()
    # shrinkage: every EBLUP lies between its direct estimate and the other values (weight gamma in (0, 1])
    ok = sat["eblup"].notna()
    assert ((sat.loc[ok, "gamma"] > 0) & (sat.loc[ok, "gamma"] <= 1)).all()


def test_core_bounds_enclose_the_small_central_units_and_none_without_them():
    """The inset extent for the sub-district maps: the dense cluster of small communities (here a fine grid in
    the middle of coarse cells), or None when every unit is large enough to read."""
    import matplotlib.pyplot as plt

    coarse = [box(x * 4000, y * 4000, (x + 1) * 4000, (y + 1) * 4000) for x in range(10) for y in range(10)
              if not (4 <= x <= 5 and 4 <= y <= 5)]
    fine = [box(16000 + i * 400, 16000 + j * 400, 16000 + (i + 1) * 400, 16000 + (j + 1) * 400)
            for i in range(20) for j in range(20)]
    units = gpd.GeoDataFrame({"uid": range(len(coarse) + len(fine))}, geometry=coarse + fine, crs="EPSG:4548")
    fig, ax = plt.subplots(figsize=(7, 5.8))
    try:
        b = ss.core_bounds(units, ax)
        assert b is not None
        x0, y0, x1, y1 = b
        assert x0 <= 16500 and y0 <= 16500 and x1 >= 23500 and y1 >= 23500  # the fine grid is inside
        assert x1 - x0 < 12000 and y1 - y0 < 12000  # and not much of the coarse cells
        assert ss.core_bounds(units.iloc[:len(coarse)], ax) is None
    finally:
        plt.close(fig)


def test_moran_table_matches_esda_and_its_permutations():
    geoms = [box(i % 3, i // 3, i % 3 + 1, i // 3 + 1) for i in range(6)]  # a 3 x 2 grid
    g = gpd.GeoDataFrame({"uid": list("abcdef"), "y": [1.0, 2.0, 4.0, 2.0, 3.0, 7.0]}, geometry=geoms,
                         crs="EPSG:4548")
    w = spatial.weights(g, "queen", id_col="uid")
    m = spatial.moran(g, "y", w, seed=1, permutations=999)
    ref = esda.Moran(g["y"].to_numpy(), w.w, permutations=0)
    t = ss.moran_table({"toy": m}).iloc[0]
    assert t["I"] == pytest.approx(ref.I, rel=1e-12)
    assert t["EI"] == pytest.approx(-1 / 5)
    assert t["null_low"] == pytest.approx(np.quantile(m.esda.sim, 0.025))
    assert t["null_high"] == pytest.approx(np.quantile(m.esda.sim, 0.975))


@pytest.mark.parametrize("I,p,expected", [(0.4, 0.001, 1), (-0.3, 0.01, -1), (0.4, 0.2, 0), (-0.01, 0.5, 0),
                                          (0.4, 0.05, 1)])
def test_moran_side(I, p, expected):
    assert ss.moran_side(SimpleNamespace(I=I, EI=-0.001, p_sim=p)) == expected


def test_islands_are_reported_by_name():
    g = _toy_squares()
    w = ss.build_weights(g, "uid")
    t = ss.weights_table({"toy": w}).iloc[0]
    assert (t["islands"], t["units"], t["links_added"], t["detached_groups"]) == (1, 4, 1, 0)
    assert t["mean_neighbours"] == pytest.approx((1 + 2 + 2 + 1) / 4)  # A-B-C in a row, D linked to C
    isl = ss.islands_table({"toy": w})
    assert isl[["weights", "unit_id", "unit", "linked_id", "linked_to", "kind"]].to_dict("records") == [
        {"weights": "toy", "unit_id": "D", "unit": "D", "linked_id": "C", "linked_to": "C", "kind": "island"}]
    assert w.islands == ["D"] and w.names == list("ABCD")  # named by name_en, built on the ids


def test_islands_of_the_same_name_are_told_apart_by_their_district():
    """Two villages called "Shengzhuang Village" in two districts, each an island: the table names each with
    its own district (pinyin and Chinese) and links each to its own nearest unit."""
    geoms = [box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 0, 6, 1),  # D01: A-B touch, the first village apart
             box(20, 0, 21, 1), box(21, 0, 22, 1), box(25, 0, 26, 1)]  # D02: the same, far to the east
    g = gpd.GeoDataFrame({"uid": ["a", "b", "v1", "c", "d", "v2"],
                          "name_en": ["A", "B", "Shengzhuang Village", "C", "D", "Shengzhuang Village"],
                          "name_zh": ["甲", "乙", "胜庄村", "丙", "丁", "胜庄村"],
                          "district_id": ["D01"] * 3 + ["D02"] * 3}, geometry=geoms, crs="EPSG:4548")
    districts = pd.DataFrame({"district_id": ["D01", "D02"], "name_en": ["North District", "South County"],
                              "name_zh": ["北区", "南县"]})
    w = ss.build_weights(g, "uid")
    isl = ss.islands_table({"toy": w}, districts).set_index("unit_id")
    assert set(isl.index) >= {"v1", "v2"}
    assert isl.loc["v1", "unit"] == isl.loc["v2", "unit"] == "Shengzhuang Village 胜庄村"
    assert (isl.loc["v1", "unit_district"], isl.loc["v2", "unit_district"]) == ("North District 北区", "South County 南县")
    assert (isl.loc["v1", "linked_id"], isl.loc["v2", "linked_id"]) == ("b", "d")
    assert isl.loc["v1", "linked_to"] == "B 乙" and isl.loc["v1", "linked_district"] == "North District 北区"
    assert ss.place_name(districts).tolist() == ["North District 北区", "South County 南县"]
    assert ss.place_name(districts.assign(name_zh=[None, "南县"])).tolist() == ["North District", "South County 南县"]


def test_detached_groups_are_linked_and_listed():
    # two pairs of touching squares far apart: the smaller part (a tie: the second) is linked to the other
    geoms = [box(0, 0, 1, 1), box(1, 0, 2, 1), box(10, 0, 11, 1), box(11, 0, 12, 1)]
    g = gpd.GeoDataFrame({"uid": list("ABCD"), "name_en": list("ABCD")}, geometry=geoms, crs="EPSG:4548")
    w = ss.build_weights(g, "uid")
    t = ss.weights_table({"pairs": w}).iloc[0]
    assert (t["islands"], t["detached_groups"], t["links_added"]) == (0, 1, 1)
    assert w.n_components == 1
    isl = ss.islands_table({"pairs": w})
    assert isl[["weights", "unit", "linked_to", "kind"]].to_dict("records") == [
        {"weights": "pairs", "unit": "C", "linked_to": "B", "kind": "detached group"}]
    assert isl["unit_district"].tolist() == [""]  # no district column, no districts table: left empty
    assert ss.islands_table({"pairs": ss.build_weights(g.iloc[:2], "uid")}).empty


def test_neighbour_values_pool_rates_and_average_values():
    g = _toy_squares().assign(num=[1, 2, 3, 8], den=[10, 10, 20, 10])
    w = ss.build_weights(g, "uid")  # A-B, B-C, and the island D linked to C
    v = ss.neighbour_values(w, g, numerator="num", denominator="den").set_index("id")
    np.testing.assert_allclose(v["own"], [0.1, 0.2, 0.15, 0.8])
    assert v.loc["A", "neighbours"] == pytest.approx(2 / 10)
    assert v.loc["B", "neighbours"] == pytest.approx((1 + 3) / (10 + 20))  # pooled, not the mean of rates
    assert v.loc["C", "neighbours"] == pytest.approx((2 + 8) / (10 + 10))
    assert v.loc["D", "neighbours"] == pytest.approx(3 / 20)
    assert v["n_neighbours"].tolist() == [1, 2, 2, 1]
    m = ss.neighbour_values(w, g, column="y").set_index("id")
    assert m.loc["B", "neighbours"] == pytest.approx((1.0 + 3.0) / 2)
    assert m.loc["C", "own"] == 3.0
    with pytest.raises(ValueError, match="either column"):
        ss.neighbour_values(w, g, column="y", numerator="num", denominator="den")


def test_cluster_members_lists_hot_spots_first_with_values():
    frame = pd.DataFrame({"id": list("abcd"), "name": list("ABCD"),
                          "cluster": ["Low-Low", "High-High", "High-High", "Not significant"],
                          "value": [-1.0, 0.5, 1.5, 0.0], "p_adj": [0.01, 0.02, 0.03, 0.5]})
    values = pd.DataFrame({"id": list("abcd"), "own": [0.2, 0.6, 0.7, 0.5], "neighbours": [0.3, 0.6, 0.65, 0.5]})
    t = ss.cluster_members(SimpleNamespace(frame=frame), values)
    assert t["id"].tolist() == ["c", "b", "a"]
    assert t.loc[0, "own"] == 0.7 and t.loc[0, "neighbours"] == 0.65 and t.loc[0, "analysed_value"] == 1.5
    assert t.loc[2, "p_adj"] == 0.01


def test_rates_without_a_table_leave_that_rate_out(tables, com):
    no_org = ss.community_rates(tables["boundaries"], tables["members"], None, YEAR)
    no_mem = ss.community_rates(tables["boundaries"], None, tables["organisations"], YEAR)
    assert "covered" not in no_org and "coverage_eb" not in no_org
    assert "registered" not in no_mem and "registration_rate" not in no_mem
    pd.testing.assert_series_equal(no_org["registration_eb"], com["registration_eb"])
    pd.testing.assert_series_equal(no_mem["coverage_eb"], com["coverage_eb"])
    sub = ss.subdistrict_rates(no_mem, tables["subdistricts"])
    assert "coverage_rate" in sub and "registration_rate" not in sub


def test_within_district_gives_a_lone_unit_zero():
    f = pd.DataFrame({"district_id": ["A", "A", "B"], "x": [1, 3, 2], "n": [10, 10, 4]})
    np.testing.assert_allclose(ss.within_district(f, "x", "n"), [0.1 - 0.2, 0.3 - 0.2, 0.0])


def test_satisfaction_without_enough_subdistricts_is_not_shrunk(tables):
    sv = tables["survey"]
    few = sv[sv["subdistrict_id"].isin(sorted(sv["subdistrict_id"].unique())[:2])]
    sat = ss.subdistrict_satisfaction(few, tables["subdistricts"])
    assert sat["estimate"].notna().sum() == 2 and sat["eblup"].isna().all()


def test_cluster_truth_groups_planted_probabilities():
    frame = pd.DataFrame({"id": ["a", "b", "c", "d"], "cluster": ["High-High", "High-High", "Low-Low",
                                                                  "Not significant"]})
    truth = pd.DataFrame({"community_id": ["a", "b", "c", "d"], "p_registered": [0.8, 0.4, 0.3, 0.6]})
    t = ss.cluster_truth(SimpleNamespace(frame=frame), truth, 0.5).set_index("cluster")
    assert t.loc["High-High", "communities"] == 2
    assert t.loc["High-High", "mean_true_p"] == pytest.approx(0.6)
    assert t.loc["High-High", "share_true_above_city"] == pytest.approx(0.5)
    assert t.loc["Low-Low", "share_true_above_city"] == 0
    assert list(t.index) == ["High-High", "Low-Low", "Not significant"]


# ----------------------------------------------------------------------------- 90_validation glue
from helpers.studies import validation as val  # noqa: E402


@pytest.fixture(scope="module")
def api():
    a = val.load_api()
    if a is None:
        pytest.skip("api.rda (R's survey package) is not installed")
    return a


def test_api_srs_estimates_match_textbook_formulas(api):
    """Simple random sample: mean = plain mean, SE = sqrt((1 - n/N) s^2 / n), total = N * mean."""
    srs = api["apisrs"]
    o = val.our_estimates(api).set_index(["sample", "statistic", "variable", "domain"])
    y = srs["api00"].to_numpy(float)
    n, N = len(y), float(srs["fpc"].iloc[0])
    r = o.loc[("apisrs", "mean", "api00", "all")]
    assert r["estimate"] == pytest.approx(y.mean(), rel=1e-12)
    assert r["se"] == pytest.approx(np.sqrt((1 - n / N) * y.var(ddof=1) / n), rel=1e-12)
    e = srs["enroll"].to_numpy(float)
    t = o.loc[("apisrs", "total", "enroll", "all")]
    assert t["estimate"] == pytest.approx(N * e.mean(), rel=1e-9)
    assert t["se"] == pytest.approx(N * np.sqrt((1 - n / N) * e.var(ddof=1) / n), rel=1e-9)
    q = o.loc[("apisrs", "ratio", "api.stu/enroll", "all")]
    assert q["estimate"] == pytest.approx(srs["api.stu"].sum() / srs["enroll"].sum(), rel=1e-12)
    # stratified: the mean is the population-weighted mean of the stratum means
    st = api["apistrat"]
    Nh = st.groupby("stype")["fpc"].first()
    mh = st.groupby("stype")["api00"].mean()
    assert o.loc[("apistrat", "mean", "api00", "all"), "estimate"] == pytest.approx((Nh * mh).sum() / Nh.sum())


def test_compare_relative_differences_and_missing_r():
    ours = pd.DataFrame({"sample": ["s"], "statistic": ["mean"], "variable": ["y"], "domain": ["all"],
                         "estimate": [10.0], "se": [2.0], "n": [50]})
    ref = pd.DataFrame({"sample": ["s"], "statistic": ["mean"], "variable": ["y"], "domain": ["all"],
                        "estimate": [8.0], "se": [2.5]})
    c = val.compare(ours, val.RResult(ref)).iloc[0]
    assert c["rel_diff_estimate"] == pytest.approx(0.25) and c["rel_diff_se"] == pytest.approx(0.2)
    assert c["digits_estimate"] == 0 and c["digits_se"] == 0
    c = val.compare(ours, val.RResult(None, "R is not installed")).iloc[0]
    assert np.isnan(c["estimate_r"]) and np.isnan(c["rel_diff_se"]) and np.isnan(c["digits_se"])


def test_agreement_digits():
    d = val.agreement_digits([0.0, 2.1e-15, 1e-9, 9.9e-9, 0.25, 3.0, np.nan])
    np.testing.assert_array_equal(d[:6], [val.MAX_DIGITS, 14, 9, 8, 0, 0])
    assert np.isnan(d[6])
    # 644.1234567 against 644.1234000: the first 7 significant digits (6441234) agree
    rel = abs(644.1234567 - 644.1234) / 644.1234
    assert val.agreement_digits([rel])[0] == 7


def test_r_missing_is_reported_not_raised(monkeypatch, api):
    monkeypatch.setattr(val.shutil, "which", lambda name: None)
    r = val.r_estimates()
    assert not r.ok and "not installed" in r.reason
    a = val.api_validation()
    assert a.found and a.worst is None and a.fewest_digits is None
    assert a.example()["estimate"] == pytest.approx(a.ours.query(
        "sample == 'apistrat' and statistic == 'mean' and variable == 'api00' and domain == 'all'")["estimate"].iloc[0])


@pytest.mark.r
@pytest.mark.slow
def test_api_agrees_with_r_when_installed(api):
    if val.shutil.which("Rscript") is None:
        pytest.skip("Rscript not installed")
    a = val.api_validation()
    assert a.r.ok, a.r.reason
    assert a.comparison["estimate_r"].notna().all()
    assert a.worst < 1e-8 and a.fewest_digits >= 8


def test_sids_reproduces_the_published_esda_example():
    ref = val.sids_reference(seed=1, permutations=999)
    assert ref["agrees"].all(), ref


def test_within_district_departures(com):
    reg = com[com["in_service_resident"] > 0]
    dep = ss.within_district(reg, "registered", "in_service_resident")
    d = reg.assign(dep=dep.to_numpy())
    for did, g in d.groupby("district_id"):
        pooled = g["registered"].sum() / g["in_service_resident"].sum()
        np.testing.assert_allclose(g["dep"], g["registered"] / g["in_service_resident"] - pooled)
        # member-weighted departures sum to zero within each district
        assert (g["dep"] * g["in_service_resident"]).sum() == pytest.approx(0, abs=1e-6)


def test_clusters_by_district_and_members():
    frame = pd.DataFrame({"id": ["a", "b", "c", "d", "e"], "name": list("ABCDE"),
                          "cluster": ["High-High", "Low-Low", "High-High", "Not significant", "Low-High"],
                          "value": [2.0, -1.5, 1.0, 0.1, -0.3], "p_adj": [0.01, 0.02, 0.03, 0.5, 0.04]})
    local = SimpleNamespace(frame=frame)
    units = pd.DataFrame({"community_id": list("abcde"), "district_id": ["D1", "D1", "D2", "D2", "D2"]})
    dists = pd.DataFrame({"district_id": ["D1", "D2", "D3"], "name_en": ["One", "Two", "Three"]})
    t = ss.clusters_by_district(local, units, dists).set_index("district_id")
    assert t.loc["D1", ["units", "hot_spots", "cold_spots", "outliers"]].tolist() == [2, 1, 1, 0]
    assert t.loc["D2", ["units", "hot_spots", "cold_spots", "outliers"]].tolist() == [3, 1, 0, 1]
    assert t.loc["D3", "units"] == 0
    m = ss.cluster_members(local, frame[["id"]].assign(own=frame["value"], neighbours=0.0))
    assert m["name"].tolist() == ["A", "C", "B"]
