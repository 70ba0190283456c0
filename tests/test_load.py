"""Loading through the contract: dtypes, caching with copies, raise vs quarantine accounting."""
from __future__ import annotations

import shutil

import geopandas as gpd
import pandas as pd
import pytest

try:
    import _fixtures as F
except ImportError:  # tests/ as a package
    from tests import _fixtures as F

from helpers.data import load, schema
from helpers.data.load import DataContractError, load_all, load_survey, load_table
from helpers.cli import validate as validate_main


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return F.valid_folder(tmp_path_factory.mktemp("valid"))


@pytest.fixture()
def folder(base, tmp_path):
    d = tmp_path / "data"
    shutil.copytree(base, d)
    return d


def test_load_all_dtypes_follow_the_contract(base):
    tables = load_all(base)
    assert list(tables) == list(schema.TABLES)
    for name, df in tables.items():
        t = schema.TABLES[name]
        assert [c for c in df.columns if c != "geometry"] == t.column_names
        assert isinstance(df, gpd.GeoDataFrame) == (t.geometry is not None)
        if t.geometry:
            assert df.crs is not None and df.crs.is_projected
        for c in t.columns:
            dt = str(df[c.name].dtype)
            if c.dtype in ("int", "year", "bool"):
                assert dt == ("Int64" if c.nullable else "int64"), (name, c.name, dt)
            elif c.dtype == "float":
                assert dt == "float64", (name, c.name, dt)
            else:
                assert dt == "str", (name, c.name, dt)
            if c.dtype == "bool":
                assert set(df[c.name].dropna().unique()) <= {0, 1}
        rep = df.attrs["load_report"]
        assert rep["rows_read"] == rep["accepted"] == len(df) and rep["rejected"] == 0


def test_survey_respondents_only(base):
    everyone = load_survey(respondents_only=False, data_dir=base)
    resp = load_survey(data_dir=base)
    assert len(resp) == int((everyone["responded"] == 1).sum()) < len(everyone)
    assert resp["weight"].notna().all()


def test_cache_returns_independent_copies(base):
    a = load_table("members", base)
    a.loc[0, "registered"] = -99
    a["new"] = 1
    b = load_table("members", base)
    assert b.loc[0, "registered"] != -99 and "new" not in b.columns
    b.attrs["load_report"]["accepted"] = -1
    assert load_table("members", base).attrs["load_report"]["accepted"] >= 0


def test_cache_sees_file_changes(folder):
    before = load_table("assessment", folder)
    header, rows = F.read_csv(folder / "assessment.csv")
    F.write_csv(folder / "assessment.csv", header, rows[:-1])
    after = load_table("assessment", folder)
    assert len(after) == len(before) - 1


def test_raise_lists_problem_lines(folder):
    F.edit_cell(folder / "members.csv", 3, "volunteer_hours", "lots")
    with pytest.raises(DataContractError) as e:
        load_table("members", folder)
    msg = str(e.value)
    assert "members.csv: error: row 3" in msg and "rule 'type number'" in msg
    assert "on_error='quarantine'" in msg
    # other tables still load
    assert len(load_table("assessment", folder)) > 0


def test_file_level_problems_raise_even_in_quarantine(folder, tmp_path):
    (folder / "platform.csv").write_bytes(b"")
    with pytest.raises(DataContractError, match="platform.csv: error: rule 'empty file'"):
        load_table("platform", folder, on_error="quarantine", quarantine_dir=tmp_path / "q")


def test_quarantine_accounting(folder, tmp_path):
    header, rows = F.read_csv(folder / "survey.csv")
    i_sat, i_resp = header.index("sat_overall"), header.index("responded")
    hit = [k for k, r in enumerate(rows) if r[i_resp] == "1" and r[i_sat] != ""][:3]
    for k in hit:
        rows[k][i_sat] = "7"
    rows[hit[0]][header.index("weight")] = "-1"  # two reasons on one row
    F.write_csv(folder / "survey.csv", header, rows)
    q = tmp_path / "q"
    df = load_table("survey", folder, on_error="quarantine", quarantine_dir=q)
    rep = df.attrs["load_report"]
    assert rep["rows_read"] == len(rows)
    assert rep["accepted"] + rep["rejected"] == rep["rows_read"]
    assert rep["rejected"] == 3 and len(df) == rep["accepted"]
    assert rep["summary"].startswith(f"survey.csv: {len(rows)} rows read = {len(rows) - 3} accepted + 3 rejected")
    rej = pd.read_csv(q / "survey.rejected.csv", dtype=str, keep_default_na=False)
    assert list(rej["_row"].astype(int)) == [k + 1 for k in hit]
    assert rej["_reason"].str.contains("sat_overall: range 1-5: value 7").all()
    assert "weight: > 0: value -1" in rej["_reason"].iloc[0]
    assert set(rej["resp_id"]) & set(df["resp_id"]) == set()
    # nothing lost: accepted ids + rejected ids = every id read
    assert sorted(list(df["resp_id"]) + list(rej["resp_id"])) == sorted(r[0] for r in rows)


def test_quarantine_cascades_to_rows_that_refer_to_rejected_rows(folder, tmp_path):
    rec = F.read_csv(folder / "communities.csv")
    cid = rec[1][0][0]
    F.edit_cell(folder / "communities.csv", 1, "share_60plus", "1.5")
    q = tmp_path / "q"
    members = load_table("members", folder, on_error="quarantine", quarantine_dir=q)
    assert cid not in set(members["community_id"])
    rej = pd.read_csv(q / "members.rejected.csv", dtype=str)
    assert (rej["community_id"] == cid).all() and len(rej) > 0
    assert rej["_reason"].str.contains("rejected in communities.csv, row 1", regex=False).all()
    rep = members.attrs["load_report"]
    assert rep["accepted"] + rep["rejected"] == rep["rows_read"]


def test_quarantine_geometry_rows_keep_wkt(folder, tmp_path):
    obj = F.read_geojson(folder / "service_points.geojson")
    obj["features"][0]["properties"]["level"] = "kiosk"
    F.write_geojson(folder / "service_points.geojson", obj)
    pts = load_table("service_points", folder, on_error="quarantine", quarantine_dir=tmp_path / "q")
    rej = pd.read_csv(tmp_path / "q" / "service_points.rejected.csv", dtype=str)
    assert len(rej) == 1 and rej["geometry"].iloc[0].startswith("POINT")
    assert rej["_row"].iloc[0] == "1" and "level: categories" in rej["_reason"].iloc[0]
    assert isinstance(pts, gpd.GeoDataFrame) and len(pts) == len(obj["features"]) - 1


def test_cli_quarantine_whole_folder(folder, tmp_path, capsys):
    F.edit_cell(folder / "joint_building.csv", 2, "joint_events", "-4")
    q = tmp_path / "q"
    code = validate_main([str(folder), "--quarantine", str(q)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "joint_building.csv: error: row 2" in out
    assert "joint_building.csv:" in out and "1 rejected (quarantine:" in out
    assert sorted(p.name for p in q.iterdir()) == sorted(f"{n}.rejected.csv" for n in schema.TABLES)


def test_cli_quarantine_fails_on_file_level_problem(folder, tmp_path, capsys):
    (folder / "assessment.csv").write_bytes(b"")
    assert validate_main([str(folder), "--quarantine", str(tmp_path / "q")]) == 1
    assert "assessment.csv: not loaded" in capsys.readouterr().out


def test_bad_arguments(base):
    with pytest.raises(KeyError, match="unknown table"):
        load_table("nope", base)
    with pytest.raises(ValueError, match="on_error"):
        load_table("members", base, on_error="ignore")


def test_default_data_dir_is_used(monkeypatch, base):
    monkeypatch.setattr(load.paths, "DATA_DIR", base)
    assert len(load.load_platform()) == len(load_table("platform", base))


def test_loader_notes_the_files_it_reads(base):
    from helpers.publish import provenance

    load.clear_cache()
    load_table("members", base)
    reads = provenance.data_reads()
    assert str((base / "members.csv").resolve()) in reads
    assert str((base / "communities.csv").resolve()) in reads  # checked for references
