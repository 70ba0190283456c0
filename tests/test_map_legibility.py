"""Maps a reader can read: gap-free class breaks, non-overlapping labels, insets of dense areas,
"No data" wherever it occurs, and alt text. Pixel-free: artists, legend texts and window extents."""
from __future__ import annotations

import re

import geopandas as gpd
import mapclassify
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import shapely  # noqa: E402
from matplotlib import colors as mcolors  # noqa: E402

from helpers.viz import classes as vclasses  # noqa: E402
from helpers.viz import inset as vinset  # noqa: E402
from helpers.viz import labels as vlabels  # noqa: E402
from helpers.viz import maps, style  # noqa: E402

CRS = "EPSG:4548"
X0, Y0 = 500_000.0, 3_400_000.0


@pytest.fixture(autouse=True)
def _project_style():
    style.use_project_style()
    yield
    plt.close("all")


# ---------------------------------------------------------------- fixtures
def grid(nx=5, ny=4, size=1000.0, x0=X0, y0=Y0, prefix="C") -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for i in range(nx):
        for j in range(ny):
            geoms.append(shapely.box(x0 + i * size, y0 + j * size, x0 + (i + 1) * size, y0 + (j + 1) * size))
            rows.append({"community_id": f"{prefix}{i:02d}{j:02d}", "district_id": "D1" if i < nx // 2 else "D2",
                         "name_en": f"Unit {i}-{j}", "value": float(i * ny + j)})
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=CRS)


def dense_city(cell=2000.0, n=10, core=(4, 4, 6, 6), sub=5) -> gpd.GeoDataFrame:
    """A 20 km square city of 2 km cells whose 4 km core is cut into 400 m cells (100 tiny units)."""
    rows, geoms = [], []
    ci0, cj0, ci1, cj1 = core
    for i in range(n):
        for j in range(n):
            if ci0 <= i < ci1 and cj0 <= j < cj1:
                s = cell / sub
                for a in range(sub):
                    for b in range(sub):
                        x, y = X0 + i * cell + a * s, Y0 + j * cell + b * s
                        geoms.append(shapely.box(x, y, x + s, y + s))
                        rows.append({"community_id": f"K{i:02d}{j:02d}{a}{b}", "core": True})
            else:
                geoms.append(shapely.box(X0 + i * cell, Y0 + j * cell, X0 + (i + 1) * cell, Y0 + (j + 1) * cell))
                rows.append({"community_id": f"C{i:02d}{j:02d}", "core": False})
    g = gpd.GeoDataFrame(rows, geometry=geoms, crs=CRS)
    c = g.geometry.centroid
    r = np.hypot(c.x - (X0 + n * cell / 2), c.y - (Y0 + n * cell / 2))
    g["value"] = np.round(100 * np.exp(-r / 15_000), 3)
    return g


def legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def by_gid(ax, gid):
    return [c for c in ax.collections if c.get_gid() == gid]


def inset_of(ax):
    found = [a for a in ax.child_axes if a.get_gid() == "map-inset"]
    return found[0] if found else None


def renderer_of(fig):
    fig.canvas.draw()
    return fig.canvas.get_renderer()


# ---------------------------------------------------------------- class breaks
_NUM = re.compile(r"-?[\d,]+(?:\.\d+)?")


def _label_range(label: str) -> tuple[float, float]:
    nums = [float(x.replace(",", "")) for x in _NUM.findall(label)]
    return (nums[0], nums[-1])


def _check_gap_free(cls: vclasses.Classes, values) -> None:
    """Every value lies in its own class's label and in no other; labels tile the line.

    Closed labels ("10.0 – 12.4", data on the display grid): a value's printed number lies in one label.
    Contiguous labels ("10 to < 12", data finer than the grid): the value itself lies in one label's
    half-open range (the last one closed), and each label starts where the one before ends."""
    ranges = [_label_range(lab) for lab in cls.labels]
    if cls.contiguous:
        assert all(" to < " in lab for lab in cls.labels[:-1]), cls.labels
        for (lo, hi), (lo2, _) in zip(ranges[:-1], ranges[1:]):
            assert lo < hi and lo2 == hi, (cls.labels, "gap or overlap between classes")
        idx = cls.assign(values)
        sc = cls.scale
        for v, i in zip(values, idx):
            x = v * sc
            holders = [j for j, (lo, hi) in enumerate(ranges)
                       if lo - 1e-9 <= x and (x < hi - 1e-9 or (j == len(ranges) - 1 and x <= hi + 1e-9))]
            assert holders == [i], (v, cls.labels, i)
        return
    step = 10.0 ** -cls.decimals
    for (lo, hi), (lo2, _) in zip(ranges[:-1], ranges[1:]):
        assert lo <= hi
        assert lo2 == pytest.approx(hi + step, abs=step / 100), (cls.labels, "gap or overlap between classes")
    idx = cls.assign(values)
    for v, i in zip(values, idx):
        shown = float(_NUM.findall(cls.fmt.format(v))[0].replace(",", ""))
        holders = [j for j, (lo, hi) in enumerate(ranges) if lo - step / 100 <= shown <= hi + step / 100]
        assert holders == [i], (v, cls.fmt.format(v), cls.labels, i)


@pytest.mark.parametrize("fmt", ["{:.1f}", "{:,.2f}", "{:.0f}", None])
@pytest.mark.parametrize("scheme", ["quantiles", "equal_interval", "fisher_jenks"])
def test_breaks_leave_no_gap_at_the_precision_shown(fmt, scheme):
    rng = np.random.default_rng(7)
    v = rng.gamma(3.0, 4.0, 150)
    cls = maps.classify(v, scheme, 5, fmt=fmt)
    b = mapclassify.classify(v, scheme, k=5).bins
    d = cls.decimals
    # values at the raw breaks and half a display step either side of them
    probes = np.concatenate([v, b, b - 0.5 * 10.0 ** -d, b + 0.5 * 10.0 ** -d, b - 1e-9, b + 1e-9,
                             [v.min(), v.max()]])
    probes = probes[(probes >= v.min()) & (probes <= v.max())]
    _check_gap_free(cls, probes)
    # the last class holds the maximum, the first the minimum
    assert cls.assign([v.max()])[0] == cls.k - 1
    assert cls.assign([v.min()])[0] == 0


def test_breaks_across_zero_and_diverging_classes_leave_no_gap():
    v = np.random.default_rng(3).normal(0.0, 5.0, 300)
    for center in (None, 0.0):
        cls = maps.classify(v, "quantiles", 6, center=center, fmt="{:.1f}")
        probes = np.r_[v, cls.bins, cls.bins + 0.05, cls.bins - 0.05, -0.04, 0.04]
        _check_gap_free(cls, probes[(probes >= v.min()) & (probes <= v.max())])


def test_example_from_the_issue_10_to_12_4_then_12_5():
    v = np.array([10.0, 11.0, 12.4, 12.5, 13.0, 15.0])  # one decimal, as the legend prints
    cls = maps.classify(v, bins=[12.4, 15.0], fmt="{:.1f}")
    assert not cls.contiguous
    assert cls.labels == ("10.0 – 12.4", "12.5 – 15.0")
    assert list(cls.assign(v)) == [0, 0, 0, 1, 1, 1]
    _check_gap_free(cls, v)


def test_data_finer_than_the_legend_get_contiguous_classes():
    # two decimals under a one-decimal legend: 12.45 would fall between "12.4" and "12.5"
    v = np.array([10.0, 11.0, 12.4, 12.44, 12.45, 12.46, 12.5, 13.0, 15.0])
    cls = maps.classify(v, bins=[12.4, 15.0], fmt="{:.1f}")
    assert cls.contiguous
    assert cls.labels == ("10.0 to < 12.4", "12.4 to 15.0")
    assert list(cls.assign(v)) == [0, 0, 1, 1, 1, 1, 1, 1, 1]  # a value at a break goes to the class above
    _check_gap_free(cls, v)


@pytest.mark.parametrize("scheme", ["quantiles", "fisher_jenks", "equal_interval"])
def test_one_decimal_data_under_an_integer_legend_leave_no_gap(scheme):
    """The referee's case (01 Figure 3: "0 – 43 | 44 – 57" while the data carry one decimal, so 43.5 was in
    no class): every value as the data write it lies in exactly one printed class."""
    rng = np.random.default_rng(11)
    v = np.round(rng.uniform(0, 92, 400), 1)
    v = np.r_[v, 43.5, 43.4, 44.0, 56.9]
    assert vclasses.data_decimals(v) == 1
    cls = maps.classify(v, scheme, 5, fmt="{:.0f}")
    assert cls.contiguous
    _check_gap_free(cls, v)
    # no number with the data's precision lies between two consecutive labels
    ranges = [_label_range(lab) for lab in cls.labels]
    grid = np.round(np.arange(ranges[0][0], ranges[-1][1] + 0.05, 0.1), 1)
    inside = [sum(lo <= x < hi or (j == len(ranges) - 1 and x == hi) for j, (lo, hi) in enumerate(ranges))
              for x in grid]
    assert set(inside) == {1}
    # integer data under the same legend keep closed labels ("0 – 43", "44 – 57"): no number lies between
    cls0 = maps.classify(np.round(v), scheme, 5, fmt="{:.0f}")
    assert not cls0.contiguous and all(" – " in lab or lab.isdigit() for lab in cls0.labels)


def test_data_decimals():
    assert vclasses.data_decimals([43.5, 12.0, np.nan]) == 1
    assert vclasses.data_decimals([3, 7]) == 0
    assert vclasses.data_decimals([0.25, 0.5], scale=100) == 0
    assert vclasses.data_decimals([1 / 3]) is None


def test_percent_breaks_with_user_bins_tile_the_percent_grid():
    v = np.linspace(0, 1, 101)  # whole percentages, as the legend prints
    cls = maps.classify(v, bins=[0.25, 0.5, 0.75, 0.9, 0.99, 1.0], fmt="{:.0%}")
    assert cls.labels == ("0% – 25%", "26% – 50%", "51% – 75%", "76% – 90%", "91% – 99%", "100%")
    assert cls.decimals == 0 and cls.scale == 100.0
    _check_gap_free(cls, np.r_[v, 0.254, 0.255, 0.2549, 0.995, 0.9949])
    # a value printed as a break belongs to the class below it (mapclassify's convention)
    assert cls.assign([0.25, 0.2549, 0.2551])[:2].tolist() == [0, 0]
    assert cls.assign([0.2551])[0] == 1


def test_breaks_that_print_alike_are_merged():
    v = np.r_[np.full(50, 1.001), np.full(50, 1.004), np.linspace(2, 3, 50)]
    cls = maps.classify(v, "quantiles", 5, fmt="{:.1f}")
    assert len(set(cls.labels)) == cls.k
    _check_gap_free(cls, v)


def test_auto_format_keeps_close_breaks_apart():
    v = np.linspace(0.50010, 0.50090, 81)
    cls = maps.classify(v, "quantiles", 4)
    assert cls.k == 4
    assert len(set(cls.labels)) == 4
    _check_gap_free(cls, v)


def test_centre_is_rounded_to_the_grid_and_splits_the_classes():
    v = np.linspace(0, 10, 101)
    cls = maps.classify(v, "quantiles", 4, center=3.33, fmt="{:.1f}")
    assert cls.center == pytest.approx(3.3)
    assert "centred on 3.3" in cls.title
    i = int(np.flatnonzero(np.isclose(cls.bins, 3.3))[0])
    assert cls.assign([3.33])[0] == i  # printed 3.3: the class up to the centre
    assert cls.assign([3.36])[0] == i + 1  # printed 3.4: above it
    _check_gap_free(cls, np.r_[v, 3.33, 3.349, 3.35, 3.36])


def test_legend_of_a_choropleth_shows_the_rounded_classes():
    g = grid()
    g["value"] = g["value"] / 19 * 12.345
    ax = maps.choropleth(g, "value", k=4, fmt="{:.1f}", inset=False)
    cls = maps.classify(g["value"], "quantiles", 4, fmt="{:.1f}")
    assert legend_texts(ax)[:4] == list(cls.labels)
    assert [mcolors.to_hex(c) for c in by_gid(ax, "choropleth-classes")[0].get_facecolors()] == \
        list(cls.color_of(g["value"]))


def test_formats_without_a_fixed_grid_keep_the_raw_breaks():
    cls = maps.classify(np.arange(100.0), "quantiles", 4, fmt="{:.3g}")
    assert cls.decimals is None
    assert vclasses.display_grid("{:.3g}") is None
    assert vclasses.display_grid("{:,.2f} pts") == (2, 1.0)
    assert vclasses.display_grid("{:.1%}") == (1, 100.0)


# ---------------------------------------------------------------- labels
def crowded() -> gpd.GeoDataFrame:
    g = grid(8, 6, size=400.0)
    g["name_en"] = [f"Long community name {i}" for i in range(len(g))]
    return g


def test_unit_labels_never_overlap_and_crowded_ones_move_or_drop():
    g = crowded()
    fig, ax = plt.subplots(figsize=(5, 4))
    # the long names fit in no cell: they go to the margin as callouts, or are left out
    maps.choropleth(g, "value", ax=ax, labels="en", label_layer="units", inset=False, label_margin=0.35)
    r = renderer_of(fig)
    shown = vlabels.visible_labels(ax)
    assert 3 <= len(shown) < len(g)  # some are placed, the crowd is thinned
    assert vlabels.overlapping_pairs(shown, r) == []
    res = [a for a in ax.artists if isinstance(a, vlabels.LabelResolver)][0]
    assert {t.placement for t in res.labels} == {"callout", "dropped"}
    assert vlabels.region_conflicts(res, r) == []
    assert res.n_dropped == len(g) - len(shown)
    # moved labels have a leader line to their unit
    assert len(res.leaders) == res.n_shifted
    # labels stay clear of the scale bar and the north arrow
    furniture = [t for t in ax.texts if not isinstance(t, vlabels.MapLabel) and t.get_text()]
    assert furniture  # the scale bar's numbers and the north arrow's N
    boxes = [t.get_window_extent(r) for t in shown]
    for f in furniture:
        fb = f.get_window_extent(r)
        assert not any(b.overlaps(fb) for b in boxes), f.get_text()
    # and inside the map's axes
    for b in boxes:
        assert ax.bbox.x0 <= b.x0 and b.x1 <= ax.bbox.x1 and ax.bbox.y0 <= b.y0 and b.y1 <= ax.bbox.y1


def test_labels_are_placed_again_when_the_layout_changes():
    g = crowded()
    fig, ax = plt.subplots(figsize=(8, 6))
    maps.choropleth(g, "value", ax=ax, labels="en", label_layer="units", inset=False)
    r = renderer_of(fig)
    n_big = len(vlabels.visible_labels(ax))
    assert vlabels.overlapping_pairs(vlabels.visible_labels(ax), r) == []
    fig.set_size_inches(4, 3)  # the map shrinks: labels placed before would now collide
    r = renderer_of(fig)
    small = vlabels.visible_labels(ax)
    assert vlabels.overlapping_pairs(small, r) == []
    assert len(small) < n_big


def quadrants(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Four districts over a city, named long enough to crowd."""
    c = g.geometry.centroid
    x, y = c.x.median(), c.y.median()
    q = np.where(c.x < x, "West", "East")
    q = np.char.add(np.where(c.y < y, "South-", "North-"), q)
    d = g.assign(district_id=q).dissolve("district_id").reset_index()[["district_id", "geometry"]]
    d["name_en"] = d["district_id"] + " District of the city"
    return d


def test_labels_and_inset_are_deterministic(tmp_path):
    g = dense_city()
    outs = []
    for i in range(2):
        fig, ax = plt.subplots(figsize=(5, 4))
        maps.choropleth(g, "value", ax=ax, overlay=quadrants(g), labels="en")
        assert inset_of(ax) is not None
        outs.append([style.save_figure(fig, tmp_path / f"l{i}.{ext}").read_bytes() for ext in ("png", "svg")])
        plt.close(fig)
    assert outs[0][0] == outs[1][0]
    assert outs[0][1] == outs[1][1]


def test_labels_keep_clear_of_the_inset():
    g = dense_city()
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    maps.choropleth(g, "value", ax=ax, overlay=quadrants(g), labels="en")
    iax = inset_of(ax)
    r = renderer_of(fig)
    ib = iax.get_window_extent(r)
    shown = vlabels.visible_labels(ax)
    assert shown
    assert not any(t.get_window_extent(r).overlaps(ib) for t in shown)
    # labels inside the inset do not overlap either
    assert vlabels.overlapping_pairs(vlabels.visible_labels(iax), r) == []


def neighbourhood() -> gpd.GeoDataFrame:
    """A 4 by 3 km block of two large units with a 600 m unit between them, named too long to fit in it."""
    geoms = [shapely.box(X0, Y0, X0 + 1700, Y0 + 3000), shapely.box(X0 + 1700, Y0 + 1200, X0 + 2300, Y0 + 1800),
             shapely.box(X0 + 2300, Y0, X0 + 4000, Y0 + 3000),
             shapely.box(X0 + 1700, Y0, X0 + 2300, Y0 + 1200), shapely.box(X0 + 1700, Y0 + 1800, X0 + 2300, Y0 + 3000)]
    return gpd.GeoDataFrame({"name_en": ["West", "A very long central name", "East", "South", "North"],
                             "value": [1.0, 2.0, 3.0, 4.0, 5.0]}, geometry=geoms, crs=CRS)


def test_area_labels_sit_in_their_own_unit_or_in_the_margin_with_a_leader():
    g = neighbourhood()
    fig, ax = plt.subplots(figsize=(6, 4))
    maps.choropleth(g, "value", ax=ax, labels="en", inset=False, label_margin=0.25, k=3)
    r = renderer_of(fig)
    res = [a for a in ax.artists if isinstance(a, vlabels.LabelResolver)][0]
    place = {t.full_text: t.placement for t in res.labels}
    assert place["West"] == place["East"] == "inside"
    assert place["A very long central name"] == "callout"  # fits in no cell: in the margin
    assert res.n_dropped == 0
    assert vlabels.region_conflicts(res, r) == []
    assert vlabels.overlapping_pairs(vlabels.visible_labels(ax), r) == []
    # the callout's leader starts on a dot inside its own unit and ends at its label
    (lead,) = res.leaders
    start, end = lead.get_xydata()
    own = shapely.transform(g.geometry[1], ax.transData.transform)
    assert own.contains(shapely.Point(start))
    box = [t for t in res.labels if t.full_text.startswith("A very")][0].get_window_extent(r)
    assert box.x0 - 1 <= end[0] <= box.x1 + 1 and box.y0 - 1 <= end[1] <= box.y1 + 1
    # every label inside is wholly inside its own unit
    for t in res.labels:
        if t.placement == "inside":
            e = t.get_window_extent(r)
            assert shapely.transform(t.region, ax.transData.transform).contains(shapely.box(e.x0, e.y0, e.x1, e.y1))


def test_region_conflicts_catches_a_name_centred_over_its_neighbours():
    """Point labels at the anchors (the old placement): the long name spills onto the units around it."""
    g = neighbourhood()
    fig, ax = plt.subplots(figsize=(6, 4))
    g.plot(ax=ax)
    pts = g.representative_point()
    res = vlabels.place_labels(ax, pts.x, pts.y, list(g["name_en"]))
    r = renderer_of(fig)
    for t, geom in zip(res.labels, g.geometry):  # same order: priority by the given order
        t.region = geom
    bad = dict(vlabels.region_conflicts(res, r))
    assert "A very long central name" in bad


def test_place_labels_skips_missing_names_and_keeps_priority_order():
    fig, ax = plt.subplots(figsize=(3, 3))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    res = vlabels.place_labels(ax, [5, 5, 5, 1], [5, 5, 5, 1], ["big", None, "small", "far"],
                               priority=[3, 2, 1, 0])
    assert [t.get_text() for t in res.labels] == ["big", "small", "far"]
    r = renderer_of(fig)
    big = res.labels[0]
    assert big.get_visible() and big.shift.get_matrix()[0, 2] == 0 and big.shift.get_matrix()[1, 2] == 0
    assert vlabels.overlapping_pairs(vlabels.visible_labels(ax), r) == []


# ---------------------------------------------------------------- insets
def test_dense_centre_gets_an_inset_with_the_same_classes():
    g = dense_city()
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    maps.choropleth(g, "value", ax=ax, k=5, fmt="{:.1f}")
    iax = inset_of(ax)
    assert iax is not None
    x0, x1 = iax.get_xlim()
    y0, y1 = iax.get_ylim()
    core = g[g["core"]].total_bounds
    # the inset holds the dense core and not much more
    assert x0 <= core[0] + 1 and y0 <= core[1] + 1 and x1 >= core[2] - 1 and y1 >= core[3] - 1
    assert (x1 - x0) < 2 * (core[2] - core[0])
    # a frame on the main map shows where it is
    frame = [p for p in ax.patches if p.get_gid() == "inset-frame"]
    assert len(frame) == 1
    fx, fy = frame[0].get_xy()
    assert (fx, fy) == pytest.approx((x0, y0)) and frame[0].get_width() == pytest.approx(x1 - x0)
    # the inset's units have the main map's class colours
    cls = maps.classify(g["value"], "quantiles", 5, fmt="{:.1f}")
    drawn = g[vinset.units_in(g, (x0, y0, x1, y1))]
    inset_cols = [mcolors.to_hex(c) for c in by_gid(iax, "choropleth-classes")[0].get_facecolors()]
    assert inset_cols == list(cls.color_of(drawn["value"]))
    # drawn beside the map (right of every unit), inside the figure, clear of the legend
    r = renderer_of(fig)
    ib, mb, lb = iax.get_window_extent(r), ax.get_window_extent(r), ax.get_legend().get_window_extent(r)
    units_right = ax.transData.transform((g.total_bounds[2], g.total_bounds[3]))[0]
    assert ib.x0 > units_right
    assert not ib.overlaps(lb)
    assert mb.x0 <= ib.x0 and ib.x1 <= mb.x1 + 1 and fig.bbox.x0 <= ib.x0 and ib.x1 <= fig.bbox.x1
    # the inset enlarges at least twice, and its title says by how much
    main_scale = mb.width / np.diff(ax.get_xlim())[0]
    in_scale = ib.width / (x1 - x0)
    assert in_scale / main_scale >= 2
    assert iax.get_title(loc="left") == f"Enlarged area (×{in_scale / main_scale:.1f})"


def test_inset_off_bounds_and_ids():
    g = dense_city()
    ax = maps.choropleth(g, "value", inset=False)
    assert inset_of(ax) is None
    b = (X0 + 10_000.0, Y0 + 10_000.0, X0 + 20_000.0, Y0 + 18_000.0)
    ax = maps.choropleth(g, "value", ax=plt.subplots()[1], inset=b)
    iax = inset_of(ax)
    assert iax.get_xlim() == pytest.approx(b[::2]) and iax.get_ylim() == pytest.approx(b[1::2])
    ids = ["C0000", "C0101"]
    ax = maps.choropleth(g, "value", ax=plt.subplots()[1], inset=ids)
    x0, x1 = inset_of(ax).get_xlim()
    assert x0 < X0 and x1 > X0 + 4000  # the two cells' box, padded
    with pytest.raises(ValueError, match="not all found"):
        maps.choropleth(g, "value", ax=plt.subplots()[1], inset=["nope"])
    with pytest.raises(ValueError, match="max > min"):
        maps.choropleth(g, "value", ax=plt.subplots()[1], inset=(1.0, 1.0, 0.0, 2.0))
    with pytest.raises(ValueError, match="inset must be"):
        maps.choropleth(g, "value", ax=plt.subplots()[1], inset="yes")


def test_no_inset_when_units_are_large_enough():
    ax = maps.choropleth(grid(), "value")
    assert inset_of(ax) is None
    # a city of equal cells: many small cells at a tiny size but no denser cluster to enlarge
    g = grid(30, 30, size=1000.0)
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    maps.choropleth(g, "value", ax=ax)
    assert inset_of(ax) is None


def test_sids_counties_need_no_inset():
    from helpers.studies.cases import sids

    g = sids.load_sids()
    g["rate"] = g["SID74"] / g["BIR74"] * 1000
    for size in ((6.4, 5.6), (9.5, 3.6)):
        fig, ax = plt.subplots(figsize=size)
        maps.choropleth(g, "rate", ax=ax)
        assert inset_of(ax) is None, size
        plt.close(fig)


@pytest.mark.parametrize("path", ["sids2.shp", "columbus.shp", "G_utm.shp", "stl_hom.shp"])
def test_libpysal_polygon_sets_need_no_inset_at_the_default_size(path):
    from libpysal import examples

    g = gpd.read_file(examples.get_path(path))
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    g.plot(ax=ax)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    assert vinset.plan_inset(g, "auto", vinset.axes_size_mm(ax), main_bounds=(x0, y0, x1, y1)) is None


def test_inset_on_other_cities_from_libpysal():
    """Mexico's 32 states at a wide, short size: the states around the capital get the inset."""
    from libpysal import examples

    g = gpd.read_file(examples.get_path("mexicojoin.shp"))
    g = g.set_crs("EPSG:4326", allow_override=True).to_crs("EPSG:6372")
    fig, ax = plt.subplots(figsize=(9.5, 3.6))
    maps.choropleth(g, "PCGDP2000", ax=ax, units_name="states")
    iax = inset_of(ax)
    assert iax is not None
    x0, x1 = iax.get_xlim()
    y0, y1 = iax.get_ylim()
    inside = set(g.loc[g.representative_point().within(shapely.box(x0, y0, x1, y1)), "NAME"])
    assert "Distrito Federal" in inside and "Tlaxcala" in inside
    assert "Sonora" not in inside
    assert "inset" in maps.describe(ax)


@pytest.mark.slow
def test_default_city_gets_an_inset_for_communities_not_districts():
    from helpers import paths
    from helpers.data import load

    if not (paths.DATA_DIR / "communities.geojson").exists():
        pytest.skip("default data not generated")
    com = load.load_communities(None, with_geometry=True)
    dis = load.load_districts(None)
    com["v"] = np.arange(len(com), dtype=float)
    dis["v"] = np.arange(len(dis), dtype=float)
    fig, ax = plt.subplots(figsize=(8, 6.5))
    maps.choropleth(com, "v", ax=ax, overlay=dis, labels="en")
    iax = inset_of(ax)
    assert iax is not None
    core = dis[dis["zone"] == "core"].total_bounds
    x0, x1 = iax.get_xlim()
    y0, y1 = iax.get_ylim()
    cx, cy = (core[0] + core[2]) / 2, (core[1] + core[3]) / 2
    assert x0 < cx < x1 and y0 < cy < y1
    r = renderer_of(fig)
    for a in (ax, iax):
        assert vlabels.overlapping_pairs(vlabels.visible_labels(a), r) == []
    fig2, ax2 = plt.subplots(figsize=(8, 6.5))
    maps.choropleth(dis, "v", ax=ax2)
    assert inset_of(ax2) is None


def test_small_multiples_share_one_inset_extent():
    g = dense_city()
    frames = []
    for k, year in enumerate((2020, 2024)):
        f = g.copy()
        f["year"] = year
        f["value"] = g["value"] + 5 * k
        frames.append(f)
    data = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=CRS)
    axes = maps.small_multiples(data, "value", by="year", k=4)
    insets = [inset_of(a) for a in axes.flat]
    assert all(i is not None for i in insets)
    assert insets[0].get_xlim() == insets[1].get_xlim()
    assert "inset" in maps.describe(axes.flat[0].figure)


# ---------------------------------------------------------------- "No data" in every legend
def _has(texts, word):
    return any(t.startswith(word) for t in texts)


def test_no_data_entry_exactly_when_a_unit_lacks_a_value():
    g = grid()
    assert not _has(legend_texts(maps.choropleth(g, "value")), "No data")
    g2 = g.copy()
    g2.loc[3, "value"] = np.nan
    assert _has(legend_texts(maps.choropleth(g2, "value", ax=plt.subplots()[1])), "No data")
    # category maps
    g["c"] = np.where(g["value"] > 5, "hi", "lo")
    cols = {"lo": "#cccccc", "hi": "#333333"}
    assert not _has(legend_texts(maps.category_map(g, "c", cols, ax=plt.subplots()[1])), "No data")
    g3 = g.copy()
    g3.loc[0, "c"] = None
    assert _has(legend_texts(maps.category_map(g3, "c", cols, ax=plt.subplots()[1])), "No data")
    # suppressed units in a category map
    sup = np.zeros(len(g), bool)
    sup[2] = True
    t = legend_texts(maps.category_map(g, "c", cols, ax=plt.subplots()[1], suppressed=sup))
    assert _has(t, "Suppressed (n < 10)") and not _has(t, "No data")


def test_uncertainty_maps_list_missing_and_suppressed_units():
    g = grid()
    g["lo"], g["hi"] = g["value"] - 3, g["value"] + 3
    t = legend_texts(maps.uncertainty_map(g, "lo", "hi", kind="excludes", reference=10.0))
    assert not _has(t, "No data") and not _has(t, "Suppressed")
    g.loc[0, ["lo", "hi"]] = np.nan
    g["suppressed"] = False
    g.loc[1, "suppressed"] = True
    g.loc[1, ["lo", "hi"]] = np.nan
    for kind in ("excludes", "width"):
        ax = maps.uncertainty_map(g, "lo", "hi", kind=kind, reference=10.0, suppressed="suppressed",
                                  ax=plt.subplots()[1])
        t = legend_texts(ax)
        assert _has(t, "No data") and _has(t, "Suppressed (n < 10)"), (kind, t)
        assert "1 unit" not in maps.describe(ax)  # units named from the id column
        assert "1 community has no data" in maps.describe(ax)


def test_small_multiples_draw_absent_units_as_no_data():
    g = grid()
    a, b = g.copy(), g.copy()
    a["year"], b["year"] = 2020, 2024
    b = b.iloc[2:]  # two units have no row in 2024
    data = gpd.GeoDataFrame(pd.concat([a, b], ignore_index=True), geometry="geometry", crs=CRS)
    axes = maps.small_multiples(data, "value", by="year")
    fig = axes.flat[0].figure
    assert "No data" in [t.get_text() for t in fig.legends[0].get_texts()]
    nod = by_gid(axes.flat[1], "choropleth-nodata")
    assert len(nod) == 1 and len(nod[0].get_paths()) == 2
    assert not by_gid(axes.flat[0], "choropleth-nodata")
    # complete panels: no entry
    axes = maps.small_multiples(gpd.GeoDataFrame(pd.concat([a, a.assign(year=2024)], ignore_index=True),
                                                 geometry="geometry", crs=CRS), "value", by="year")
    assert "No data" not in [t.get_text() for t in axes.flat[0].figure.legends[0].get_texts()]


def test_small_multiples_take_a_suppression_mask():
    g = grid()
    g["a"], g["b"] = g["value"], g["value"] + 1
    mask = np.zeros(len(g), bool)
    mask[4] = True
    axes = maps.small_multiples(g, columns=["a", "b"], suppressed=mask)
    texts = [t.get_text() for t in axes.flat[0].figure.legends[0].get_texts()]
    assert "Suppressed (n < 10)" in texts and "No data" not in texts
    assert all(len(by_gid(a, "choropleth-suppressed")[0].get_paths()) == 1 for a in axes.flat[:2])


def _lisa(g):
    from helpers.stats import spatial

    w = spatial.weights(g, "queen", id_col="community_id")
    return spatial.local_moran(g, "value", w, seed=1, permutations=999)


def test_lisa_map_shows_units_left_out_of_the_analysis_as_no_data():
    g = grid(6, 5)
    g.loc[g["community_id"].isin(["C0000", "C0504"]), "value"] = np.nan
    analysed = g[g["value"].notna()].reset_index(drop=True)
    loc = _lisa(analysed)
    ax = maps.lisa_map(loc)
    assert not _has(legend_texts(ax), "No data")
    ax = maps.lisa_map(loc, units=g, ax=plt.subplots()[1])
    assert _has(legend_texts(ax), "No data")
    assert len(by_gid(ax, "choropleth-nodata")[0].get_paths()) == 2
    assert "2 communities have no data" in maps.describe(ax)
    with pytest.raises(KeyError, match="community_id"):
        maps.lisa_map(loc, units=g.drop(columns="community_id"), ax=plt.subplots()[1])


def test_lisa_labels_name_only_the_clusters():
    g = grid(8, 8, size=500.0)
    g["value"] = np.where((g.geometry.centroid.x < X0 + 1500) & (g.geometry.centroid.y < Y0 + 1500), 10.0, 0.0) \
        + np.arange(len(g)) * 0.01
    loc = _lisa(g)
    fig, ax = plt.subplots(figsize=(6, 5))
    maps.lisa_map(loc, ax=ax, labels="en")
    sig = set(loc.frame.loc[loc.frame["cluster"] != "Not significant", "name"])
    assert sig
    named = {t.get_text() for t in ax.texts if t.get_gid() == "unit-label"}
    assert named and named <= sig
    r = renderer_of(fig)
    assert vlabels.overlapping_pairs(vlabels.visible_labels(ax), r) == []


def test_access_map_has_no_no_data_entry_and_describes_itself():
    from helpers.stats import access

    com = grid(4, 2)
    com["population"] = 1000
    pts = gpd.GeoDataFrame({"point_id": ["P0"], "level": ["community_station"], "year_opened": [2018]},
                           geometry=[shapely.Point(X0 + 500, Y0 + 500)], crs=CRS)
    res = access.service_coverage(com, pts, years=[2018], distance=400)
    ax = maps.access_map(res, 2018)
    assert not _has(legend_texts(ax), "No data")
    d = maps.describe(ax)
    assert "400 m" in d and "the 1 service point open" in d and "8 communities" in d


# ---------------------------------------------------------------- alt text
def test_alt_text_of_a_choropleth_names_measure_units_classes_and_missing():
    g = grid()
    g.loc[[1, 2], "value"] = np.nan
    fig, ax = plt.subplots()
    maps.choropleth(g, "value", ax=ax, k=4, fmt="{:.1f}", legend_title="Share\nregistered",
                    title="Registration, 2024")
    d = maps.describe(ax)
    assert d == ax._helpers_alt == fig._helpers_alt == maps.describe(fig)
    assert d.startswith("Registration, 2024: map of share registered for 20 communities in 4 classes (quantiles)")
    assert "2 communities have no data" in d
    assert d.endswith(".") and "\n" not in d and d.count(". ") == 0
    ax2 = maps.choropleth(grid(), "value", ax=plt.subplots()[1])
    assert "20 communities in 5 classes" in maps.describe(ax2) and "all have data" in maps.describe(ax2)


def test_alt_text_of_a_figure_joins_its_maps_in_order():
    g = grid()
    g["lo"], g["hi"] = g["value"] - 3, g["value"] + 3
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(10, 4))
    maps.choropleth(g, "value", ax=a0, title="Left")
    maps.uncertainty_map(g, "lo", "hi", reference=10.0, ax=a1, title="Right")
    d = maps.describe(fig)
    assert d.startswith("Left: map of") and "Right: map of whether each 95% interval" in d
    assert d.index("Left") < d.index("Right")
    assert fig._helpers_alt == d
    above = int((g["lo"] > 10).sum())
    assert f"{above} Above city value" in d


def test_alt_text_of_small_multiples_is_one_sentence_for_the_figure():
    g = grid()
    a, b = g.assign(year=2020), g.assign(year=2024, value=g["value"] + 3)
    data = gpd.GeoDataFrame(pd.concat([a, b], ignore_index=True), geometry="geometry", crs=CRS)
    axes = maps.small_multiples(data, "value", by="year", k=4, legend_title="Value", suptitle="Values by year")
    d = maps.describe(axes.flat[0].figure)
    assert d.startswith("Values by year: 2 maps of value (2020, 2024) for 20 communities each, on one set of 4")
    assert d.endswith(".") and "\n" not in d
    assert all(getattr(a, "_helpers_alt", "") == "" for a in axes.flat[1:])  # one sentence, not one per panel


def test_alt_text_reads_as_prose():
    g = grid()
    g["lo"], g["hi"] = g["value"] - 3, g["value"] + 3
    ax = maps.uncertainty_map(g, "lo", "hi", reference=10.0, title="Does the interval exclude the city value?")
    d = maps.describe(ax)
    assert d.startswith("Does the interval exclude the city value? Map of whether")
    ax = maps.choropleth(g, "value", ax=plt.subplots()[1], legend_title="EB-smoothed rate", title="T",
                         units_name=("county or city", "counties and cities"))
    d = maps.describe(ax)
    assert "map of EB-smoothed rate for 20 counties and cities" in d and "all have data" in d
    g.loc[0, "value"] = np.nan
    ax = maps.choropleth(g, "value", ax=plt.subplots()[1], title="T", units_name=("county or city", "counties and cities"))
    d = maps.describe(ax)
    assert d.startswith("T: map of 20 counties and cities") and "1 county or city has no data" in d


def test_describe_returns_none_for_other_axes():
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    assert maps.describe(ax) is None and maps.describe(fig) is None
