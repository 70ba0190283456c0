"""Spatial weights (islands and components by name), Moran's I, LISA with FDR, EB rates, SIDS case."""
from __future__ import annotations

import warnings

import esda
import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import shapely  # noqa: E402

from helpers.viz import maps
from helpers.stats import spatial
from helpers.viz import style  # noqa: E402
from helpers.stats.spatial import SpatialWeightsWarning  # noqa: E402


def grid(nx: int = 6, ny: int = 6, size: float = 1000.0, x0: float = 500_000.0) -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for i in range(nx):
        for j in range(ny):
            geoms.append(shapely.box(x0 + i * size, 3_400_000 + j * size, x0 + (i + 1) * size,
                                     3_400_000 + (j + 1) * size))
            rows.append({"uid": f"U{i:02d}{j:02d}", "name_en": f"Cell {i}-{j}", "i": i, "j": j})
    return gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4548")


def with_island(g: gpd.GeoDataFrame, name: str = "Lonely Isle") -> gpd.GeoDataFrame:
    extra = gpd.GeoDataFrame([{"uid": "ISL", "name_en": name, "i": 99, "j": 99}],
                             geometry=[shapely.box(520_000, 3_400_000, 521_000, 3_401_000)], crs=g.crs)
    return gpd.GeoDataFrame(pd.concat([g, extra], ignore_index=True), crs=g.crs)


# ---------------------------------------------------------------- weights
def test_queen_rook_knn_neighbour_counts():
    g = grid(3, 3)
    q = spatial.weights(g, "queen", id_col="uid")
    r = spatial.weights(g, "rook", id_col="uid")
    k = spatial.weights(g, "knn", k=2, id_col="uid")
    assert q.w.cardinalities["U0000"] == 3 and r.w.cardinalities["U0000"] == 2
    assert q.w.cardinalities["U0101"] == 8 and r.w.cardinalities["U0101"] == 4
    assert q.islands == [] and q.components == [] and q.n_components == 1
    # knn made symmetric
    for a, nb in k.w.neighbors.items():
        for b in nb:
            assert a in k.w.neighbors[b]
    assert q.w.transform == "R"
    assert q.names[0] == "Cell 0-0"


def test_islands_reported_by_name_by_default():
    g = with_island(grid(3, 3))
    with pytest.warns(SpatialWeightsWarning, match="Lonely Isle"):
        w = spatial.weights(g, "queen", id_col="uid")
    assert w.islands == ["Lonely Isle"]
    assert w.islands_action == "warn"
    assert w.w.cardinalities["ISL"] == 0
    assert "Lonely Isle" in w.summary()


def test_islands_error_drop_knn():
    g = with_island(grid(3, 3))
    with pytest.raises(ValueError, match="Lonely Isle"):
        spatial.weights(g, "queen", id_col="uid", islands="error")
    with pytest.warns(SpatialWeightsWarning, match="dropped"):
        w = spatial.weights(g, "queen", id_col="uid", islands="drop")
    assert "ISL" not in w.ids and w.dropped == ["Lonely Isle"] and w.n == 9
    assert len(w.frame) == 9
    with pytest.warns(SpatialWeightsWarning, match="linked"):
        w = spatial.weights(g, "queen", id_col="uid", islands="knn")
    # nearest unit by boundary distance is in the easternmost column (i = 2)
    (a, b), = w.added_links
    assert a == "Lonely Isle" and b.startswith("Cell 2-")
    assert w.n_components == 1
    assert w.w.neighbors[w.ids[[n for n in w.names].index(b)]].count("ISL") == 1  # symmetric


def test_disconnected_components_reported_and_connected():
    west = grid(2, 2)
    east = grid(2, 2, x0=510_000.0)
    east["uid"] = "E" + east["uid"]
    east["name_en"] = "East " + east["name_en"]
    g = gpd.GeoDataFrame(pd.concat([west, east], ignore_index=True), crs=west.crs)
    with pytest.warns(SpatialWeightsWarning, match="2 connected parts"):
        w = spatial.weights(g, "rook", id_col="uid")
    assert len(w.components) == 1 and len(w.components[0]) == 4
    assert w.n_components == 2
    with pytest.raises(ValueError, match="connected parts"):
        spatial.weights(g, "rook", id_col="uid", components="error")
    with pytest.warns(SpatialWeightsWarning, match="linked"):
        w = spatial.weights(g, "rook", id_col="uid", components="connect")
    assert w.n_components == 1 and len(w.added_links) == 1


def test_parts_nearest_to_each_other_are_still_joined_to_the_rest():
    # a 3 x 3 block and, far to the east, two 1 x 2 strips 1 km apart: each strip is nearest to the other,
    # so linking each part once would join the strips to each other and leave them cut off from the block
    main = grid(3, 3)
    a = grid(1, 2, x0=530_000.0).assign(uid=lambda d: "A" + d["uid"], name_en=lambda d: "A " + d["name_en"])
    b = grid(1, 2, x0=532_000.0).assign(uid=lambda d: "B" + d["uid"], name_en=lambda d: "B " + d["name_en"])
    g = gpd.GeoDataFrame(pd.concat([main, a, b], ignore_index=True), crs=main.crs)
    with pytest.warns(SpatialWeightsWarning, match="3 connected parts"):
        w = spatial.weights(g, "rook", id_col="uid", components="connect")
    assert len(w.components) == 2 and w.n_components == 1
    assert len(w.added_links) == 2 and len(set(map(frozenset, w.added_links))) == 2  # no link added twice
    # one strip is joined to the block ("Cell ..."), the other to that strip
    assert sorted("".join(sorted((p[0][0], p[1][0]))) for p in w.added_links) == ["AB", "AC"]


def test_weights_argument_checks():
    g = grid(2, 2)
    with pytest.raises(ValueError):
        spatial.weights(g, "bishop")
    with pytest.raises(ValueError):
        spatial.weights(g, islands="ignore")
    w = spatial.weights(g)  # ids from the index
    assert w.ids == [0, 1, 2, 3]


# ---------------------------------------------------------------- Moran
def test_moran_sign_seed_and_permutations():
    g = grid()
    g["gradient"] = g["i"] + 0.01 * g["j"]
    g["checker"] = ((g["i"] + g["j"]) % 2).astype(float)
    w = spatial.weights(g, "rook", id_col="uid")
    m = spatial.moran(g, "gradient", w, seed=1)
    assert m.I > 0.5 and m.p_sim <= 0.002 and m.permutations == 999
    assert np.isclose(m.I, esda.Moran(g["gradient"].to_numpy(), w.w, permutations=0).I)
    c = spatial.moran(g, "checker", w, seed=1)
    assert c.I < -0.9
    again = spatial.moran(g, "gradient", w, seed=1)
    assert again.p_sim == m.p_sim and np.array_equal(again.esda.sim, m.esda.sim)
    assert not np.array_equal(spatial.moran(g, "gradient", w, seed=2).esda.sim, m.esda.sim)
    with pytest.raises(ValueError, match="999"):
        spatial.moran(g, "gradient", w, seed=1, permutations=99)
    with pytest.raises(ValueError, match="seed"):
        spatial.moran(g, "gradient", w, seed=None)
    # slope of the Moran scatterplot is I
    assert np.isclose(np.polyfit(m.z, m.lag, 1)[0], m.I)


def test_moran_does_not_touch_global_random_state():
    g = grid()
    g["v"] = g["i"].astype(float)
    w = spatial.weights(g, id_col="uid")
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    spatial.moran(g, "v", w, seed=5)
    assert np.random.random() == expected


def test_row_order_of_frame_does_not_matter():
    g = grid()
    g["v"] = np.sin(g["i"]) + g["j"]
    w = spatial.weights(g, id_col="uid")
    shuffled = g.sample(frac=1.0, random_state=3)
    assert np.isclose(spatial.moran(g, "v", w, seed=1).I, spatial.moran(shuffled, "v", w, seed=1).I)


def test_missing_values_raise_with_names():
    g = grid()
    g["v"] = g["i"].astype(float)
    g.loc[4, "v"] = np.nan
    w = spatial.weights(g, id_col="uid")
    with pytest.raises(ValueError, match="Cell 0-4"):
        spatial.moran(g, "v", w, seed=1)


def test_fdr_adjust_matches_benjamini_hochberg():
    from statsmodels.stats.multitest import multipletests

    p = np.array([0.01, 0.04, 0.03, 0.005, 0.2])
    # BH by hand: sorted 0.005, 0.01, 0.03, 0.04, 0.2 -> *5/rank: .025, .025, .05, .05, .2
    q = spatial.fdr_adjust(p)
    assert np.allclose(q, [0.025, 0.05, 0.05, 0.025, 0.2])
    rng = np.random.default_rng(1)
    p = np.r_[rng.uniform(0, 0.01, 20), rng.uniform(0, 1, 200)]
    assert np.allclose(spatial.fdr_adjust(p), multipletests(p, method="fdr_bh")[1])


def test_local_moran_clusters_fdr_and_maps():
    g = grid(8, 8)
    rng = np.random.default_rng(0)
    g["v"] = np.where((g["i"] < 3) & (g["j"] < 3), 10.0, 0.0) + rng.normal(0, 1, len(g))
    w = spatial.weights(g, "queen", id_col="uid")
    lm = spatial.local_moran(g, "v", w, seed=7)
    raw = spatial.local_moran(g, "v", w, seed=7, correction=None)
    assert lm.correction == "fdr" and lm.permutations >= 999
    assert set(lm.frame["cluster"]) <= {"High-High", "Low-Low", "High-Low", "Low-High", "Not significant"}
    assert lm.frame["significant"].sum() <= raw.frame["significant"].sum()
    hh = lm.frame.loc[lm.frame["cluster"] == "High-High", "name"]
    assert "Cell 1-1" in set(hh)
    assert (lm.frame["p_adj"] >= lm.frame["p_sim"]).all()
    again = spatial.local_moran(g, "v", w, seed=7)
    assert np.array_equal(again.frame["p_sim"], lm.frame["p_sim"])
    assert isinstance(lm.frame, gpd.GeoDataFrame)
    m = spatial.moran(g, "v", w, seed=7)
    style.use_project_style()
    fig, (a0, a1) = plt.subplots(1, 2)
    assert maps.lisa_map(lm, ax=a0) is a0
    texts = [t.get_text() for t in a0.get_legend().get_texts()]
    assert texts[0].startswith("High-High (") and texts[-1].startswith("Not significant (")
    assert "FDR 5%" in a0.get_legend().get_title().get_text()
    assert maps.moran_scatterplot(m, local=lm, ax=a1) is a1
    plt.close(fig)


def test_islands_are_never_clusters():
    g = with_island(grid(4, 4))
    g["v"] = g["i"].astype(float)
    with pytest.warns(SpatialWeightsWarning):
        w = spatial.weights(g, "queen", id_col="uid")
    lm = spatial.local_moran(g, "v", w, seed=1, correction=None)
    assert lm.frame.set_index("id").loc["ISL", "cluster"] == "Not significant"


# ---------------------------------------------------------------- rates (SIDS, real data)
@pytest.fixture(scope="module")
def sids():
    from helpers.studies.cases.sids import load_sids

    return load_sids()


def test_eb_rate_moran_matches_esda(sids):
    w = spatial.weights(sids, "queen", id_col="FIPS")
    assert w.islands == [] and w.n == 100
    m = spatial.moran_rate(sids, "SID74", "BIR74", w, seed=11)
    ref = esda.Moran_Rate(sids["SID74"].to_numpy(float), sids["BIR74"].to_numpy(float), w.w, permutations=0)
    assert np.isclose(m.I, ref.I) and m.method == "eb_rate"
    assert np.allclose(m.z, (m.z - 0))  # finite
    z = spatial.eb_rates(sids["SID74"], sids["BIR74"])
    assert np.allclose(z, np.asarray(esda.smoothing.assuncao_rate(sids["SID74"].to_numpy(float),
                                                                   sids["BIR74"].to_numpy(float))).ravel())
    assert 0.1 < m.I < 0.4 and m.p_sim < 0.05  # SIDS rates cluster (Cressie 1993)
    lm = spatial.local_moran_rate(sids, "SID74", "BIR74", w, seed=11)
    assert lm.method == "eb_rate" and len(lm.frame) == 100
    with pytest.raises(ValueError, match="positive"):
        spatial.moran_rate(sids.assign(BIR74=0), "SID74", "BIR74", w, seed=1)


def test_moran_p_values_assume_the_nulls_their_docstring_names(sids):
    """p_norm, p_rand and p_sim recomputed from Cliff & Ord's moments and the permutations.

    p_norm: normal approximation with the variance under normality; p_rand: the same with
    the variance under randomisation (kurtosis of the values); both two-sided. p_sim: the
    folded one-sided permutation pseudo p-value."""
    from scipy import stats

    w = spatial.weights(sids, "queen", id_col="FIPS")
    g = sids.assign(rate=sids["SID74"] / sids["BIR74"])
    m = spatial.moran(g, "rate", w, seed=5)
    y = g.set_index("FIPS").loc[w.ids, "rate"].to_numpy(float)
    W = w.w.full()[0]
    n = len(y)
    z = y - y.mean()
    s0 = W.sum()
    s1 = 0.5 * ((W + W.T) ** 2).sum()
    s2 = ((W.sum(axis=1) + W.sum(axis=0)) ** 2).sum()
    I = n / s0 * (z @ W @ z) / (z @ z)
    EI = -1 / (n - 1)
    v_norm = (n**2 * s1 - n * s2 + 3 * s0**2) / ((n**2 - 1) * s0**2) - EI**2
    k = n * (z**4).sum() / (z**2).sum() ** 2
    v_rand = ((n * ((n**2 - 3 * n + 3) * s1 - n * s2 + 3 * s0**2) - k * ((n**2 - n) * s1 - 2 * n * s2 + 6 * s0**2))
              / ((n - 1) * (n - 2) * (n - 3) * s0**2) - EI**2)
    assert m.I == pytest.approx(I, rel=1e-12)
    assert m.p_norm == pytest.approx(2 * stats.norm.sf(abs(I - EI) / np.sqrt(v_norm)), rel=1e-10)
    assert m.p_rand == pytest.approx(2 * stats.norm.sf(abs(I - EI) / np.sqrt(v_rand)), rel=1e-10)
    assert m.p_rand != pytest.approx(m.p_norm, rel=1e-3)
    above = int((m.esda.sim >= m.I).sum())
    assert m.p_sim == pytest.approx((min(above, m.permutations - above) + 1) / (m.permutations + 1))


def test_sids_case_produces_the_maps(tmp_path):
    from helpers.studies.cases import sids as case_mod

    case = case_mod.run(seed=3)
    assert np.isclose(case.state_rate, case.frame["SID74"].sum() / case.frame["BIR74"].sum() * 1000)
    # EB smoothing pulls the extremes towards the state rate
    assert case.frame["eb_rate"].std() < case.frame["crude_rate"].std()
    figs = case_mod.figures(case)
    assert set(figs) == {"rates", "diverging", "funnel", "lisa"}
    rates_fig = figs["rates"]
    assert len(rates_fig.legends) == 1  # crude and EB share one legend
    for name, fig in figs.items():
        out = style.save_figure(fig, tmp_path / f"{name}.png")
        assert out.stat().st_size > 10_000
        plt.close(fig)
