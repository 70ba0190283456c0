"""Image tests of the map helpers: legends, hatching, shared breaks, furniture, fonts."""
from __future__ import annotations

import warnings

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import shapely  # noqa: E402
from matplotlib import colors as mcolors  # noqa: E402

from helpers.viz import maps
from helpers.viz import style  # noqa: E402
from helpers.publish.disclosure import suppress  # noqa: E402


@pytest.fixture(autouse=True)
def _project_style():
    style.use_project_style()
    yield
    plt.close("all")


def grid(nx: int = 5, ny: int = 4, size: float = 1000.0) -> gpd.GeoDataFrame:
    """nx * ny square communities of ``size`` metres in EPSG:4548, two districts (west/east)."""
    rows, geoms = [], []
    for i in range(nx):
        for j in range(ny):
            geoms.append(shapely.box(500_000 + i * size, 3_400_000 + j * size,
                                     500_000 + (i + 1) * size, 3_400_000 + (j + 1) * size))
            rows.append({"community_id": f"C{i}{j}", "district_id": "D1" if i < nx // 2 else "D2",
                         "name_en": f"Unit {i}-{j}", "name_zh": f"社区{i}{j}", "value": float(i * ny + j)})
    return gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4548")


def districts(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    d = g.dissolve("district_id").reset_index()[["district_id", "geometry"]]
    d["name_en"] = ["West", "East"]
    d["name_zh"] = ["西区", "东区"]
    return d


def legend_texts(ax) -> list[str]:
    leg = ax.get_legend()
    return [t.get_text() for t in leg.get_texts()]


def by_gid(ax, gid):
    return [c for c in ax.collections if c.get_gid() == gid]


def hexes(coll) -> list[str]:
    return [mcolors.to_hex(c) for c in coll.get_facecolors()]


# ---------------------------------------------------------------- choropleth
def test_choropleth_names_scheme_and_classes_in_legend():
    g = grid()
    ax = maps.choropleth(g, "value", scheme="quantiles", k=4, legend_title="Value")
    title = ax.get_legend().get_title().get_text()
    assert "Value" in title and "Quantiles, 4 classes" in title
    assert len(legend_texts(ax)) == 4
    assert "No data" not in legend_texts(ax)  # no missing values, no entry


def test_missing_values_are_hatched_and_labelled_no_data(tmp_path):
    g = grid()
    g.loc[[2, 7], "value"] = np.nan
    ax = maps.choropleth(g, "value", k=5)
    texts = legend_texts(ax)
    assert texts[-1] == "No data"
    nod = by_gid(ax, "choropleth-nodata")
    assert len(nod) == 1 and nod[0].get_hatch() == style.NO_DATA_STYLE["hatch"]
    assert len(nod[0].get_paths()) == 2
    handle = ax.get_legend().legend_handles[texts.index("No data")]
    assert handle.get_hatch() == style.NO_DATA_STYLE["hatch"]
    # the classed units are the others
    assert len(by_gid(ax, "choropleth-classes")[0].get_paths()) == len(g) - 2
    out = style.save_figure(ax.figure, tmp_path / "nodata.png")
    assert out.stat().st_size > 5_000


def test_suppressed_units_drawn_distinctly_and_labelled():
    g = grid()
    g["n"] = 30
    g.loc[[0, 1, 2], "n"] = 4
    g.loc[5, "value"] = np.nan
    s = suppress(g, "n", "value")
    ax = maps.choropleth(s, "value", suppressed="suppressed")
    texts = legend_texts(ax)
    assert "Suppressed (n < 10)" in texts and "No data" in texts
    sup = by_gid(ax, "choropleth-suppressed")[0]
    assert len(sup.get_paths()) == 3
    assert set(hexes(sup)) == {mcolors.to_hex(style.SUPPRESSED_STYLE["facecolor"])}
    assert sup.get_hatch() == style.SUPPRESSED_STYLE["hatch"]
    # suppressed units are not counted as "No data"
    assert len(by_gid(ax, "choropleth-nodata")[0].get_paths()) == 1


def test_suppressed_as_boolean_mask():
    g = grid()
    mask = np.zeros(len(g), bool)
    mask[3] = True
    ax = maps.choropleth(g, "value", suppressed=mask, min_respondents=20)
    assert "Suppressed (n < 20)" in legend_texts(ax)


def test_unit_colours_follow_the_classes():
    g = grid()
    ax = maps.choropleth(g, "value", scheme="equal_interval", k=4)
    cls = maps.classify(g["value"], "equal_interval", 4)
    assert hexes(by_gid(ax, "choropleth-classes")[0]) == list(cls.color_of(g["value"]))
    assert [h.get_facecolor() for h in ax.get_legend().legend_handles] == [
        mcolors.to_rgba(c) for c in cls.colors]


def test_input_frame_not_modified():
    g = grid()
    g.loc[1, "value"] = np.nan
    before = g.copy()
    maps.choropleth(g, "value", overlay=districts(g), labels="en")
    pd.testing.assert_frame_equal(pd.DataFrame(g.drop(columns="geometry")),
                                  pd.DataFrame(before.drop(columns="geometry")))
    assert g.geometry.equals(before.geometry)


def test_diverging_classes_centre_on_reference():
    v = np.linspace(0, 10, 41)
    cls = maps.classify(v, "quantiles", 4, center=3.3)
    assert np.any(np.isclose(cls.bins, 3.3))
    below = cls.color_of([1.0])[0]
    above = cls.color_of([9.0])[0]
    cm = matplotlib.colormaps[style.DIVERGING_CMAP]
    # the two sides take different hues of the diverging map
    assert below != above
    assert mcolors.to_hex(cm(0.0)) != mcolors.to_hex(cm(1.0))
    assert "centred on" in cls.title
    # classes touching the centre from each side are the palest
    i = int(np.flatnonzero(np.isclose(cls.bins, 3.3))[0])
    assert np.argmax([sum(mcolors.to_rgb(c)) for c in cls.colors]) in (i, i + 1)


def test_centre_near_a_break_moves_it_instead_of_adding_a_sliver():
    v = np.arange(100.0)
    plain = maps.classify(v, "quantiles", 4)
    near = plain.bins[1] + 0.3
    cls = maps.classify(v, "quantiles", 4, center=near)
    assert cls.k == plain.k
    assert np.isclose(cls.bins[1], near)


def test_user_defined_breaks_and_format():
    g = grid()
    g["share"] = g["value"] / g["value"].max()
    ax = maps.choropleth(g, "share", bins=[0.25, 0.5, 0.75, 1.0], fmt="{:.0%}")
    assert "User-defined breaks, 4 classes" in ax.get_legend().get_title().get_text()
    # continuous shares under a whole-percent legend: contiguous classes, no share left between two labels
    assert legend_texts(ax)[:2] == ["0% to < 25%", "25% to < 50%"]


def test_furniture_overlay_and_returns_ax():
    g = grid()
    fig, ax = plt.subplots()
    out = maps.choropleth(g, "value", ax=ax, overlay=districts(g), labels="en", synthetic=True)
    assert out is ax
    assert by_gid(ax, "upper-boundaries")
    upper = by_gid(ax, "upper-boundaries")[0]
    assert upper.get_linewidth()[0] > by_gid(ax, "choropleth-classes")[0].get_linewidth()[0]
    assert any(p.get_gid() == "scale-bar" for p in ax.patches)
    assert any(t.get_gid() == "north-arrow" and t.get_text() == "N" for t in ax.texts)
    labels = [t.get_text() for t in ax.texts if t.get_gid() == "unit-label"]
    assert sorted(labels) == ["East", "West"]
    assert any(t.get_text() == style.SYNTHETIC for t in fig.texts)
    # overlay drawn above the units
    assert upper.get_zorder() > by_gid(ax, "choropleth-classes")[0].get_zorder()


def test_scale_bar_length_is_true_in_metres():
    g = grid(10, 2)  # 10 km wide
    ax = maps.choropleth(g, "value", north_arrow=False)
    bars = [p for p in ax.patches if p.get_gid() == "scale-bar"]
    total = sum(p.get_width() for p in bars)
    labels = [t.get_text() for t in ax.texts]
    assert "km" in labels
    km = float([t for t in labels if t not in ("0", "km", "N")][0])
    assert np.isclose(total, km * 1000)


def test_chinese_labels_when_a_cjk_font_exists(monkeypatch):
    monkeypatch.setattr(style, "cjk_font", lambda: "WenQuanYi Micro Hei")
    g = grid()
    ax = maps.choropleth(g, "value", overlay=districts(g), labels="zh")
    assert sorted(t.get_text() for t in ax.texts if t.get_gid() == "unit-label") == ["东区", "西区"]


def test_chinese_labels_fall_back_to_english_with_one_warning(monkeypatch):
    monkeypatch.setattr(style, "cjk_font", lambda: None)
    monkeypatch.setattr(style, "_warned_no_cjk", False)
    g = grid()
    with pytest.warns(UserWarning, match="no CJK font"):
        ax = maps.choropleth(g, "value", overlay=districts(g), labels="zh")
    assert sorted(t.get_text() for t in ax.texts if t.get_gid() == "unit-label") == ["East", "West"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        maps.choropleth(g, "value", overlay=districts(g), labels="zh")  # warned once only


def test_cjk_font_installed_for_reports():
    """The project's set-up (tools/sysdeps.sh) installs a CJK font; the style finds it."""
    if style.cjk_font() is None:
        pytest.skip("no CJK font on this machine (run make sysdeps)")
    style.use_project_style()
    assert style.cjk_font() in matplotlib.rcParams["font.family"]


# ---------------------------------------------------------------- small multiples
def long_panels() -> gpd.GeoDataFrame:
    g = grid()
    frames = []
    for k, year in enumerate((2018, 2021, 2024)):
        f = g.copy()
        f["year"] = year
        f["value"] = g["value"] + 10 * k  # later years are higher: per-panel breaks would hide it
        frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    out.loc[5, "value"] = np.nan
    return gpd.GeoDataFrame(out, geometry="geometry", crs=g.crs)


def test_small_multiples_share_breaks_and_one_legend(tmp_path):
    data = long_panels()
    axes = maps.small_multiples(data, "value", by="year", k=5, overlay=districts(grid()))
    fig = axes.flat[0].figure
    shared = maps.classify(data["value"], "quantiles", 5)
    for ax, (year, sub) in zip(axes.flat, data.groupby("year")):
        assert ax.get_title(loc="left") == str(year)
        assert ax.get_legend() is None
        ok = sub["value"].notna()
        assert hexes(by_gid(ax, "choropleth-classes")[0]) == list(shared.color_of(sub.loc[ok, "value"]))
    # the same value has the same colour in every panel
    c1 = hexes(by_gid(axes.flat[0], "choropleth-classes")[0])
    c3 = hexes(by_gid(axes.flat[2], "choropleth-classes")[0])
    assert c1[-1] != c3[-1]  # the shift across years is visible
    assert len(fig.legends) == 1
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts[:5] == list(shared.labels) and "No data" in texts
    assert "Quantiles, 5 classes" in fig.legends[0].get_title().get_text()
    # per-panel classification would have given different breaks
    assert not np.allclose(maps.classify(data.loc[data.year == 2018, "value"]).bins, shared.bins)
    out = style.save_figure(fig, tmp_path / "small.png")
    assert out.stat().st_size > 5_000


def test_small_multiples_wide_format_and_given_classes():
    g = grid()
    g["a"] = g["value"]
    g["b"] = g["value"] * 2
    cls = maps.classify(np.r_[g["a"], g["b"]], "fisher_jenks", 4)
    axes = maps.small_multiples(g, columns=["a", "b"], classes=cls, ncols=2)
    assert hexes(by_gid(axes.flat[1], "choropleth-classes")[0]) == list(cls.color_of(g["b"]))
    with pytest.raises(ValueError):
        maps.small_multiples(g, columns=["a"], by="year")


# ---------------------------------------------------------------- other maps
def test_uncertainty_maps():
    g = grid()
    g["lo"] = g["value"] - 3
    g["hi"] = g["value"] + 3
    g.loc[0, ["lo", "hi"]] = np.nan
    ax = maps.uncertainty_map(g, "lo", "hi", kind="excludes", reference=10.0)
    texts = legend_texts(ax)
    above = int(((g["lo"] > 10)).sum())
    below = int(((g["hi"] < 10)).sum())
    assert f"Above city value ({above})" in texts and f"Below city value ({below})" in texts
    assert "No data" in texts
    ax = maps.uncertainty_map(g, "lo", "hi", kind="width", ax=plt.subplots()[1])
    assert "Width of 95% interval" in ax.get_legend().get_title().get_text()
    with pytest.raises(ValueError):
        maps.uncertainty_map(g, "lo", "hi", kind="excludes")


def test_category_map_rejects_unknown_categories():
    g = grid()
    g["c"] = np.where(g["value"] > 5, "hi", "lo")
    ax = maps.category_map(g, "c", {"lo": "#cccccc", "hi": "#333333"})
    assert legend_texts(ax) == [f"lo ({(g.c == 'lo').sum()})", f"hi ({(g.c == 'hi').sum()})"]
    with pytest.raises(ValueError, match="without a colour"):
        maps.category_map(g, "c", {"lo": "#cccccc"})


# ---------------------------------------------------------------- style
def test_style_sets_deterministic_output(tmp_path):
    g = grid()
    paths = []
    for i in range(2):
        fig, ax = plt.subplots()
        maps.choropleth(g, "value", ax=ax)
        paths += [style.save_figure(fig, tmp_path / f"m{i}.{ext}") for ext in ("svg", "png", "pdf")]
        plt.close(fig)
    for a, b in zip(paths[:3], paths[3:]):
        assert a.read_bytes() == b.read_bytes(), a.suffix
    assert matplotlib.rcParams["svg.hashsalt"]
    assert b"<dc:date>" not in paths[0].read_bytes()


def test_stamp_synthetic_is_idempotent():
    fig, ax = plt.subplots()
    style.stamp_synthetic(ax)
    style.stamp_synthetic(fig)
    assert [t.get_text() for t in fig.texts] == ["Synthetic data"]


# ---------------------------------------------------------------- the default data
@pytest.mark.slow
def test_city_case_default_data_produces_the_maps(tmp_path):
    from helpers import paths

    if not (paths.DATA_DIR / "service_points.geojson").exists():
        pytest.skip("default data not generated")
    from helpers.studies.cases import city

    case = city.run()
    assert case.weights.n_components == 1
    figs = city.figures(case)
    assert {"access", "access_years", "registration", "registration_moran", "awareness",
            "districts_zh"} <= set(figs)
    for name, fig in figs.items():
        assert any(t.get_text() == style.SYNTHETIC for t in fig.texts), name
        assert style.save_figure(fig, tmp_path / f"{name}.png").stat().st_size > 10_000
    assert len(figs["access_years"].legends) == 1
    aw = [t.get_text() for t in figs["awareness"].axes[0].get_legend().get_texts()]
    # the legend names the special classes exactly when the data have such units
    a = case.awareness
    has_supp = bool(a["suppressed"].any())
    has_nodata = bool((a["share_aware"].isna() & ~a["suppressed"]).any())
    assert any(t.startswith("Suppressed") for t in aw) == has_supp, aw
    assert any(t.startswith("No data") for t in aw) == has_nodata, aw
