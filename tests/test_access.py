"""Service access: residents within the service circle, overlaps counted once, nearest distance."""
from __future__ import annotations

import math

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import shapely  # noqa: E402

from helpers.stats import access
from helpers.viz import maps
from helpers.viz import style  # noqa: E402

X0, Y0 = 500_000.0, 3_400_000.0
CRS = "EPSG:4548"


def communities(nx: int = 4, ny: int = 2, size: float = 1000.0) -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for i in range(nx):
        for j in range(ny):
            geoms.append(shapely.box(X0 + i * size, Y0 + j * size, X0 + (i + 1) * size, Y0 + (j + 1) * size))
            rows.append({"community_id": f"C{i}{j}", "district_id": "D1" if i < nx // 2 else "D2",
                         "population": 1000 * (i + 1)})
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=CRS)


def points(spec) -> gpd.GeoDataFrame:
    """spec: list of (x_offset, y_offset, level, year_opened)."""
    rows = [{"point_id": f"P{k}", "level": lev, "year_opened": yr} for k, (_, _, lev, yr) in enumerate(spec)]
    geoms = [shapely.Point(X0 + x, Y0 + y) for x, y, _, _ in spec]
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=CRS)


CIRCLE_SHARE = math.pi * 400**2 / 1000**2  # a 400 m circle inside a 1 km square


def share(res, cid, year):
    c = res.community
    return float(c.loc[(c.community_id == cid) & (c.year == year), "share_covered"].iloc[0])


def test_circle_inside_a_community():
    com = communities()
    pts = points([(500, 500, "community_station", 2018)])
    res = access.service_coverage(com, pts, years=[2018], distance=400)
    assert share(res, "C00", 2018) == pytest.approx(CIRCLE_SHARE, rel=2e-3)
    assert share(res, "C01", 2018) == 0.0
    row = res.community.query("community_id == 'C00'").iloc[0]
    assert row["pop_covered"] == pytest.approx(1000 * CIRCLE_SHARE, rel=2e-3)
    assert list(res.community.columns[:6]) == ["community_id", "district_id", "year", "population",
                                               "pop_covered", "share_covered"]


def test_overlapping_circles_counted_once():
    com = communities()
    one = access.service_coverage(com, points([(500, 500, "community_station", 2018)]), years=[2018],
                                  distance=400)
    two = access.service_coverage(com, points([(500, 500, "community_station", 2018),
                                               (520, 500, "community_station", 2018)]), years=[2018],
                                  distance=400)
    # the second circle adds only the sliver it does not share with the first
    lens = 2 * 400**2 * math.acos(20 / 800) - 10 * math.sqrt(4 * 400**2 - 20**2)
    extra = (math.pi * 400**2 - lens) / 1e6
    assert share(two, "C00", 2018) == pytest.approx(share(one, "C00", 2018) + extra, rel=2e-3)
    assert share(two, "C00", 2018) < 2 * share(one, "C00", 2018)


def test_circle_across_communities_and_district_weights():
    com = communities()
    pts = points([(1000, 1000, "community_station", 2018)])  # the corner shared by C00, C01, C10, C11
    res = access.service_coverage(com, pts, years=[2018], distance=400)
    for cid in ("C00", "C01", "C10", "C11"):
        assert share(res, cid, 2018) == pytest.approx(CIRCLE_SHARE / 4, rel=2e-3)
    d = res.district.set_index("district_id")
    # D1 = C0*, C1* (pop 1000, 1000, 2000, 2000); all four quarter-covered
    assert d.loc["D1", "share_covered"] == pytest.approx(CIRCLE_SHARE / 4, rel=2e-3)
    assert d.loc["D1", "population"] == 6000
    assert d.loc["D2", "share_covered"] == 0.0
    assert res.city_share(2018) == pytest.approx(
        res.community["pop_covered"].sum() / res.community["population"].sum())


def test_years_levels_and_closures():
    com = communities()
    pts = points([(500, 500, "community_station", 2020), (1500, 500, "district_centre", 2018)])
    res = access.service_coverage(com, pts, years=[2019, 2020], distance=400)
    assert share(res, "C00", 2019) == 0.0 and share(res, "C00", 2020) == pytest.approx(CIRCLE_SHARE, rel=2e-3)
    only = access.service_coverage(com, pts, years=[2020], distance=400, levels=["district_centre"])
    assert share(only, "C00", 2020) == 0.0 and share(only, "C10", 2020) == pytest.approx(CIRCLE_SHARE, rel=2e-3)
    assert only.levels == ("district_centre",)
    with pytest.raises(ValueError, match="unknown service-point level"):
        access.service_coverage(com, pts, years=[2020], levels=["district_center"])
    closed = pts.assign(year_closed=[2020, np.nan])
    assert len(access.open_points(closed, 2020)) == 1
    assert len(access.open_points(closed, 2019)) == 1
    assert len(access.open_points(pts, 2017)) == 0


def test_household_points_weighting():
    com = communities()
    pts = points([(100, 100, "community_station", 2018)])
    hh = gpd.GeoDataFrame({"community_id": ["C00"] * 4, "persons": [1, 1, 1, 5]},
                          geometry=[shapely.Point(X0 + 150, Y0 + 150), shapely.Point(X0 + 200, Y0 + 100),
                                    shapely.Point(X0 + 900, Y0 + 900), shapely.Point(X0 + 950, Y0 + 950)],
                          crs=CRS)
    res = access.service_coverage(com, pts, years=[2018], distance=400, households=hh,
                                  household_weight="persons")
    assert res.method == "households"
    assert share(res, "C00", 2018) == pytest.approx(2 / 8)
    # communities without household points fall back to the area share
    assert share(res, "C01", 2018) == pytest.approx(
        share(access.service_coverage(com, pts, years=[2018], distance=400), "C01", 2018))


def test_inputs_untouched_and_crs_checks():
    com = communities()
    pts = points([(500, 500, "community_station", 2018)])
    before_c, before_p = com.copy(), pts.copy()
    access.service_coverage(com, pts, years=[2018])
    access.nearest_service_distance(com, pts, years=[2018])
    pd.testing.assert_frame_equal(pd.DataFrame(com.drop(columns="geometry")),
                                  pd.DataFrame(before_c.drop(columns="geometry")))
    assert pts.geometry.equals(before_p.geometry)
    with pytest.raises(ValueError, match="geographic"):
        access.service_coverage(com.to_crs("EPSG:4326"), pts, years=[2018])
    with pytest.raises(KeyError, match="population"):
        access.service_coverage(com.drop(columns="population"), pts, years=[2018])


def test_nearest_distance_centroid_and_area_mean():
    com = communities()
    pts = points([(500, 500, "community_station", 2018), (3500, 1500, "community_station", 2021)])
    d = access.nearest_service_distance(com, pts, years=[2018, 2021])
    d18 = d[d.year == 2018].set_index("community_id")["distance_m"]
    assert d18["C00"] == pytest.approx(0.0)
    assert d18["C10"] == pytest.approx(1000.0)
    assert d18["C31"] == pytest.approx(math.hypot(3000, 1000))
    d21 = d[d.year == 2021].set_index("community_id")["distance_m"]
    assert d21["C31"] == pytest.approx(0.0)
    # mean distance from a square's points to its centre is 0.3826 * side
    m = access.nearest_service_distance(com, pts, years=[2018], method="area_mean", n_sample=400)
    assert m.set_index("community_id").loc["C00", "distance_m"] == pytest.approx(382.6, rel=0.02)
    none_open = access.nearest_service_distance(com, pts, years=[2017])
    assert none_open["distance_m"].isna().all() and (none_open["n_open"] == 0).all()


def test_access_map(tmp_path):
    style.use_project_style()
    com = communities()
    pts = points([(500, 500, "community_station", 2018), (2500, 1500, "district_centre", 2018)])
    res = access.service_coverage(com, pts, years=[2018], distance=400)
    d = com.dissolve("district_id").reset_index()
    fig, ax = plt.subplots()
    assert maps.access_map(res, 2018, ax=ax, overlay=d) is ax
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[0] == "Within 400 m (straight line)" and texts[1] == "Beyond 400 m"
    assert "Open service point (2)" in texts
    assert any(c.get_gid() == "served-area" for c in ax.collections)
    out = style.save_figure(fig, tmp_path / "access.png")
    assert out.stat().st_size > 5_000
    plt.close(fig)


def test_default_data_one_year():
    from helpers import paths

    if not (paths.DATA_DIR / "service_points.geojson").exists():
        pytest.skip("default data not generated")
    from helpers.data import load

    com = load.load_communities(with_geometry=True)
    pts = load.load_service_points()
    res = access.service_coverage(com, pts, years=[2024])
    c = res.community
    assert len(c) == len(com) and c["share_covered"].between(0, 1).all()
    d = res.district.set_index("district_id")
    recomputed = c.groupby("district_id")["pop_covered"].sum() / c.groupby("district_id")["population"].sum()
    assert np.allclose(d.loc[recomputed.index, "share_covered"], recomputed)
    assert 0.3 < res.city_share(2024) <= 1.0
    dist = access.nearest_service_distance(com, pts, years=[2024])
    assert (dist["distance_m"] >= 0).all()
