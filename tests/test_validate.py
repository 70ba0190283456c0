"""A catalogue of malformed data folders: each variant breaks one thing in a copy of a valid folder
(the default data when present, else the tiny fixture folder) and asserts the exact problem line."""
from __future__ import annotations

import codecs
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

try:
    import _fixtures as F
except ImportError:  # tests/ as a package
    from tests import _fixtures as F

from helpers import paths
from helpers.data import schema
from helpers.cli import validate as validate_main
from helpers.data.validate import validate_dir


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return F.valid_folder(tmp_path_factory.mktemp("valid"))


@pytest.fixture()
def folder(base, tmp_path) -> Path:
    d = tmp_path / "data"
    shutil.copytree(base, d)
    return d


# -- helpers to find rows in whichever valid folder we have ------------------------------------------
def first_row(path: Path, pred) -> tuple[int, dict]:
    header, rows = F.read_csv(path)
    for i, r in enumerate(rows, start=1):
        rec = dict(zip(header, r))
        if pred(rec):
            return i, rec
    raise AssertionError(f"no row of {path.name} matches")


def respondent(path: Path, k: int = 1) -> tuple[int, dict]:
    header, rows = F.read_csv(path)
    seen = 0
    for i, r in enumerate(rows, start=1):
        rec = dict(zip(header, r))
        if rec["responded"] == "1" and rec["sat_overall"] != "":
            seen += 1
            if seen == k:
                return i, rec
    raise AssertionError("no respondent")


def set_cell(path: Path, row: int, column: str, value) -> dict:
    header, rows = F.read_csv(path)
    rows[row - 1][header.index(column)] = str(value)
    F.write_csv(path, header, rows)
    return dict(zip(header, rows[row - 1]))


def key_of(table: str, rec: dict) -> str:
    return "/".join(rec[k] for k in schema.TABLES[table].key)


def geo_edit(path: Path, fn) -> None:
    obj = F.read_geojson(path)
    fn(obj)
    F.write_geojson(path, obj)


@dataclass
class Expect:
    file: str
    rule: str
    column: str | None = None
    row: int | None = None
    key: str | None = None
    count: int | None = None
    text: tuple[str, ...] = ()
    severity: str = "error"


# -- the variants: each returns what the report must contain ------------------------------------
def v_missing_column(d):
    header, rows = F.read_csv(d / "survey.csv")
    i = header.index("sat_overall")
    F.write_csv(d / "survey.csv", header[:i] + header[i + 1:], [r[:i] + r[i + 1:] for r in rows])
    return Expect("survey.csv", "missing column", "sat_overall", text=("required column 'sat_overall'",))


def v_extra_column(d):
    header, rows = F.read_csv(d / "communities.csv")
    F.write_csv(d / "communities.csv", header + ["notes"], [r + ["x"] for r in rows])
    return Expect("communities.csv", "extra column", "notes", text=("not part of the contract",))


def v_misspelt_column(d):
    header, rows = F.read_csv(d / "communities.csv")
    header[header.index("population")] = "Population"
    F.write_csv(d / "communities.csv", header, rows)
    return Expect("communities.csv", "missing column", "population", text=("rename it to 'population'",))


def v_duplicate_header(d):
    header, rows = F.read_csv(d / "assessment.csv")
    F.write_csv(d / "assessment.csv", header + ["score"], [r + [r[-1]] for r in rows])
    return Expect("assessment.csv", "duplicate column name", "score", text=("names 'score' twice",))


def v_text_in_numeric(d):
    rec = set_cell(d / "members.csv", 5, "volunteer_hours", "lots")
    return Expect("members.csv", "type number", "volunteer_hours", 5, key_of("members", rec),
                  text=("value 'lots'", "not a number"))


def v_non_integer(d):
    rec = set_cell(d / "communities.csv", 3, "population", "1234.5")
    return Expect("communities.csv", "type int", "population", 3, rec["community_id"],
                  text=("value 1234.5", "not a whole number"))


def v_likert_6(d):
    row, rec = respondent(d / "survey.csv")
    set_cell(d / "survey.csv", row, "sat_overall", 6)
    return Expect("survey.csv", "range 1-5", "sat_overall", row, rec["resp_id"], text=("value 6",))


def v_share_above_1(d):
    rec = set_cell(d / "communities.csv", 2, "migrant_share", 1.2)
    return Expect("communities.csv", "range 0-1", "migrant_share", 2, rec["community_id"],
                  text=("value 1.2", "not percentages"))


def v_negative_count(d):
    rec = set_cell(d / "joint_building.csv", 4, "joint_events", -3)
    return Expect("joint_building.csv", ">= 0", "joint_events", 4, key_of("joint_building", rec),
                  text=("value -3", "cannot be negative"))


def v_weight_zero(d):
    row, rec = respondent(d / "survey.csv", 2)
    set_cell(d / "survey.csv", row, "weight", 0)
    return Expect("survey.csv", "> 0", "weight", row, rec["resp_id"], text=("value 0", "the value must be > 0"))


def v_registered_above_in_service(d):
    row, rec = first_row(d / "members.csv", lambda r: int(r["in_service_resident"]) > 0)
    new = int(rec["in_service_resident"]) + 5
    set_cell(d / "members.csv", row, "registered", new)
    return Expect("members.csv", "registered <= in_service_resident", "registered", row, key_of("members", rec),
                  text=(f"registered {new}, in_service_resident {rec['in_service_resident']}",))


def v_organised_above_mobile(d):
    row, rec = first_row(d / "members.csv", lambda r: True)
    new = int(rec["mobile_in"]) + 1
    set_cell(d / "members.csv", row, "mobile_organised", new)
    return Expect("members.csv", "mobile_organised <= mobile_in", "mobile_organised", row, key_of("members", rec),
                  text=(f"mobile_organised {new}, mobile_in {rec['mobile_in']}",))


def v_signed_above_units(d):
    rec = set_cell(d / "joint_building.csv", 3, "signed_agreements",
                   int(F.cell(d / "joint_building.csv", 3, "resident_units")) + 2)
    return Expect("joint_building.csv", "signed_agreements <= resident_units", "signed_agreements", 3,
                  key_of("joint_building", rec), text=("agreements are signed by resident units",))


def v_duplicate_key(d):
    header, rows = F.read_csv(d / "members.csv")
    rows[1][0], rows[1][1] = rows[0][0], rows[0][1]
    rows[1][header.index("volunteer_hours")] = "1.5"  # not an exact copy
    F.write_csv(d / "members.csv", header, rows)
    return Expect("members.csv", "unique key", "community_id/year", 1, f"{rows[0][0]}/{rows[0][1]}", count=2,
                  text=("keep one row per key", "same key as row 1"))


def v_duplicate_row(d):
    header, rows = F.read_csv(d / "assessment.csv")
    F.write_csv(d / "assessment.csv", header, rows + [rows[0]])
    return Expect("assessment.csv", "duplicate row", None, len(rows) + 1, f"{rows[0][0]}/{rows[0][1]}",
                  text=("copy of row 1",))


def v_unknown_community(d):
    rec = set_cell(d / "organisations.csv", 2, "community_id", "C_NOPE")
    return Expect("organisations.csv", "references communities.community_id", "community_id", 2, rec["org_id"],
                  text=("value 'C_NOPE'", "add the missing row to communities.csv"))


def v_unknown_district(d):
    rec = set_cell(d / "survey.csv", 1, "district_id", "D99")
    return Expect("survey.csv", "references districts.district_id", "district_id", 1, rec["resp_id"],
                  text=("value 'D99'",))


def v_unknown_subdistrict(d):
    rec = set_cell(d / "platform.csv", 2, "subdistrict_id", "S_NOPE")
    return Expect("platform.csv", "references subdistricts.subdistrict_id", "subdistrict_id", 2, rec["subdistrict_id"])


def v_district_disagrees_with_subdistrict(d):
    obj = F.read_geojson(d / "communities.geojson")
    f = obj["features"][0]["properties"]
    other = next(x["properties"]["district_id"] for x in F.read_geojson(d / "districts.geojson")["features"]
                 if x["properties"]["district_id"] != f["district_id"])
    geo_edit(d / "communities.geojson", lambda o: o["features"][0]["properties"].update(district_id=other))
    return Expect("communities.geojson", "consistent with subdistricts.geojson", "district_id", 1, f["community_id"],
                  text=(f"district_id '{other}'",))


def v_survey_subdistrict_disagrees(d):
    row, rec = respondent(d / "survey.csv")
    subs = [x["properties"]["subdistrict_id"] for x in F.read_geojson(d / "subdistricts.geojson")["features"]]
    other = next(s for s in subs if s != rec["subdistrict_id"])
    set_cell(d / "survey.csv", row, "subdistrict_id", other)
    return Expect("survey.csv", "consistent with communities.geojson", "subdistrict_id", row, rec["resp_id"])


def v_non_nesting_polygon(d):
    def shift(o):
        ring = o["features"][0]["geometry"]["coordinates"]
        if o["features"][0]["geometry"]["type"] == "MultiPolygon":
            ring = ring[0]
        for part in ring:
            for pt in part:
                pt[0] += 50_000.0
    key = F.read_geojson(d / "communities.geojson")["features"][0]["properties"]["community_id"]
    geo_edit(d / "communities.geojson", shift)
    return Expect("communities.geojson", "nests in subdistricts.geojson", "geometry", 1, key,
                  text=("m² outside subdistrict_id",))


def v_invalid_polygon(d):
    def bowtie(o):
        g = o["features"][1]["geometry"]
        import shapely.geometry as sg

        x0, y0, x1, y1 = sg.shape(g).bounds
        o["features"][1]["geometry"] = {"type": "Polygon", "coordinates": [
            [[x0, y0], [x1, y1], [x1, y0], [x0, y1], [x0, y0]]]}
    key = F.read_geojson(d / "districts.geojson")["features"][1]["properties"]["district_id"]
    geo_edit(d / "districts.geojson", bowtie)
    return Expect("districts.geojson", "valid geometry", "geometry", 2, key, text=("Self-intersection",))


def v_empty_geometry(d):
    key = F.read_geojson(d / "subdistricts.geojson")["features"][2]["properties"]["subdistrict_id"]
    geo_edit(d / "subdistricts.geojson", lambda o: o["features"][2].update(geometry=None))
    return Expect("subdistricts.geojson", "not empty", "geometry", 3, key)


def v_wrong_geometry_type(d):
    key = F.read_geojson(d / "service_points.geojson")["features"][0]["properties"]["point_id"]

    def poly(o):
        x, y = o["features"][0]["geometry"]["coordinates"][:2]
        o["features"][0]["geometry"] = {"type": "Polygon", "coordinates": [
            [[x, y], [x + 1, y], [x + 1, y + 1], [x, y]]]}
    geo_edit(d / "service_points.geojson", poly)
    return Expect("service_points.geojson", "geometry type Point", "geometry", 1, key, text=("a Polygon",))


def v_point_outside_community(d):
    key = F.read_geojson(d / "service_points.geojson")["features"][0]["properties"]["point_id"]

    def move(o):
        o["features"][0]["geometry"]["coordinates"][0] += 80_000.0
    geo_edit(d / "service_points.geojson", move)
    return Expect("service_points.geojson", "inside community (communities.geojson)", "geometry", 1, key,
                  text=("m outside community",))


def v_missing_crs(d):
    geo_edit(d / "subdistricts.geojson", lambda o: o.pop("crs"))
    return Expect("subdistricts.geojson", "CRS", text=("no CRS is declared", "metres"))


def v_geographic_crs(d):
    geo_edit(d / "districts.geojson", lambda o: o["crs"]["properties"].update(name="EPSG:4326"))
    return Expect("districts.geojson", "CRS", text=("geographic (degrees)", "EPSG:4548"))


def v_crs_mismatch(d):
    geo_edit(d / "service_points.geojson", lambda o: o["crs"]["properties"].update(name="EPSG:32650"))
    return Expect("service_points.geojson", "CRS", text=("differs from districts.geojson",))


def v_degrees_in_projected_crs(d):
    def to_deg(o):
        for f in o["features"]:
            f["geometry"]["coordinates"] = [116.4, 39.9]
    geo_edit(d / "service_points.geojson", to_deg)
    return Expect("service_points.geojson", "CRS", text=("look like longitude/latitude",))


def v_year_outside_period(d):
    rec = set_cell(d / "assessment.csv", 3, "year", 2030)
    return Expect("assessment.csv", "study period 2018-2024", "year", 3, key_of("assessment", rec),
                  text=("value 2030",))


def v_empty_file(d):
    (d / "platform.csv").write_bytes(b"")
    return Expect("platform.csv", "empty file", text=("0 bytes",))


def v_header_only(d):  # a required table (an optional one may be empty: test_data_folders.py)
    header, _ = F.read_csv(d / "communities.csv")
    F.write_csv(d / "communities.csv", header, [])
    return Expect("communities.csv", "no rows", text=("header but no data rows",))


def v_non_utf8_byte(d):
    data = (d / "communities.csv").read_bytes()
    lines = data.split(b"\n")
    offset = len(lines[0]) + 1 + len(lines[1]) + 1 + 3  # line 3, column 4
    (d / "communities.csv").write_bytes(data[:offset] + b"\xff" + data[offset + 1:])
    return Expect("communities.csv", "encoding UTF-8", text=(f"byte offset {offset}", "line 3, column 4"))


def v_gbk_file(d):
    text = (d / "districts.geojson").read_text(encoding="utf-8")
    obj = json.loads(text)
    (d / "districts.geojson").write_bytes(json.dumps(obj, ensure_ascii=False).encode("gb18030"))
    return Expect("districts.geojson", "encoding UTF-8", text=("GBK/GB18030", "re-save the file as UTF-8"))


def v_utf16_file(d):
    text = (d / "platform.csv").read_text(encoding="utf-8")
    (d / "platform.csv").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    return Expect("platform.csv", "encoding UTF-8", text=("UTF-16",))


def v_xlsx_renamed(d):
    (d / "members.csv").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    return Expect("members.csv", "not a text file", text=("xlsx",))


def v_bad_category(d):
    key = F.read_geojson(d / "subdistricts.geojson")["features"][2]["properties"]["subdistrict_id"]
    geo_edit(d / "subdistricts.geojson", lambda o: o["features"][2]["properties"].update(kind="Town"))
    return Expect("subdistricts.geojson", "categories", "kind", 3, key, text=("value 'Town'", "did you mean 'town'"))


def v_null_in_non_nullable(d):
    rec = set_cell(d / "organisations.csv", 4, "employees", "")
    return Expect("organisations.csv", "not null", "employees", 4, rec["org_id"], text=("may not be empty",))


def v_bool_as_word(d):
    rec = set_cell(d / "communities.csv", 5, "urban", "yes")
    return Expect("communities.csv", "type bool 0/1", "urban", 5, rec["community_id"], text=("write 1 for yes",))


def v_missing_file(d):  # a required table (an optional one may be absent: test_data_folders.py)
    (d / "communities.csv").unlink()
    return Expect("communities.csv", "missing file", text=("is missing",))


def v_unparseable_geojson(d):
    data = (d / "service_points.geojson").read_text(encoding="utf-8")
    (d / "service_points.geojson").write_text(data[: len(data) // 2], encoding="utf-8")
    return Expect("service_points.geojson", "parse GeoJSON", text=("not valid JSON at line",))


def v_unbalanced_quote(d):
    data = (d / "platform.csv").read_text(encoding="utf-8")
    lines = data.split("\n")
    lines[2] = '"' + lines[2]
    (d / "platform.csv").write_text("\n".join(lines), encoding="utf-8")
    return Expect("platform.csv", "parse CSV", text=("unbalanced double quote",))


def v_semicolons(d):
    header, rows = F.read_csv(d / "platform.csv")
    (d / "platform.csv").write_text("\n".join(";".join(r) for r in [header] + rows) + "\n", encoding="utf-8")
    return Expect("platform.csv", "delimiter", text=("semicolons",))


def v_ragged_row(d):
    header, rows = F.read_csv(d / "communities.csv")
    rows[1] = rows[1] + ["surplus"]
    F.write_csv(d / "communities.csv", header, rows)
    return Expect("communities.csv", "field count", None, 2, rows[1][0], text=(f"{len(header) + 1} fields",))


def v_weight_missing_for_respondent(d):
    row, rec = respondent(d / "survey.csv", 3)
    set_cell(d / "survey.csv", row, "weight", "")
    return Expect("survey.csv", "weight present if responded in 1", "weight", row, rec["resp_id"],
                  text=("respondents have a design weight",))


def v_party_year_without_party_org(d):
    row, rec = first_row(d / "organisations.csv", lambda r: r["party_org_mode"] == "none")
    set_cell(d / "organisations.csv", row, "party_org_year", max(int(rec["year_founded"]), 2019))
    return Expect("organisations.csv", "party_org_year empty if party_org_mode in none", "party_org_year", row,
                  rec["org_id"])


def v_many_bad_rows_grouped(d):
    header, rows = F.read_csv(d / "survey.csv")
    i, r_i = header.index("sat_overall"), header.index("responded")
    hit = [k for k, r in enumerate(rows) if r[r_i] == "1" and r[i] != ""]
    n = min(37, len(hit))
    for k in hit[:n]:
        rows[k][i] = "9"
    F.write_csv(d / "survey.csv", header, rows)
    rid = [rows[k][0] for k in hit[:3]]
    return Expect("survey.csv", "range 1-5", "sat_overall", hit[0] + 1, rid[0], count=n,
                  text=(f"{n} rows, e.g. rows {hit[0] + 1}, {hit[1] + 1}, {hit[2] + 1}",
                        f"(resp_id {rid[0]}, {rid[1]}, {rid[2]}", "value 9"))


def v_bom_tolerated(d):
    data = (d / "communities.csv").read_bytes()
    (d / "communities.csv").write_bytes(codecs.BOM_UTF8 + data)
    return Expect("communities.csv", "UTF-8 BOM", severity="warning", text=("byte-order mark",))


def v_unknown_file(d):
    (d / "extra_table.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    return Expect("extra_table.csv", "unknown file", severity="warning", text=("not part of the data contract",))


def v_overlapping_polygons(d):
    obj = F.read_geojson(d / "communities.geojson")
    feats = obj["features"]
    # give the second community the first one's geometry (same parent or not: they overlap)
    k1, k2 = feats[0]["properties"]["community_id"], feats[1]["properties"]["community_id"]
    feats[1]["geometry"] = feats[0]["geometry"]
    F.write_geojson(d / "communities.geojson", obj)
    return Expect("communities.geojson", "no overlaps", "geometry", 1, k1, count=2, text=(f"overlaps {k2}",))



def v_party_org_after_closing(d):
    row, rec = first_row(d / "organisations.csv", lambda r: r["year_closed"] != "" and r["party_org_mode"] != "none")
    set_cell(d / "organisations.csv", row, "party_org_year", int(rec["year_closed"]) + 1)
    return Expect("organisations.csv", "party_org_year <= year_closed", "party_org_year", row, rec["org_id"],
                  text=("set up before the organisation closes",))


def v_nonrespondent_with_answers(d):
    row, rec = first_row(d / "survey.csv", lambda r: r["responded"] == "0")
    set_cell(d / "survey.csv", row, "sat_overall", 3)
    return Expect("survey.csv", "sat_overall empty if responded in 0", "sat_overall", row, rec["resp_id"],
                  text=("nonrespondents have no answers",))


def v_panel_gap_warned(d):
    header, rows = F.read_csv(d / "members.csv")
    F.write_csv(d / "members.csv", header, rows[1:])
    return Expect("members.csv", "completeness", "community_id/year", severity="warning",
                  text=(f"1 community-years missing", f"{rows[0][0]}/{rows[0][1]}"))


def v_design_value_varies_warned(d):
    row, rec = respondent(d / "survey.csv")
    set_cell(d / "survey.csv", row, "psu_prob", 0.0123)
    return Expect("survey.csv", "constant within community_id/year", "psu_prob", severity="warning",
                  text=(f"{rec['community_id']}/{rec['year']}",))


def v_spaces_around_id_warned(d):
    header, rows = F.read_csv(d / "platform.csv")
    rows[0][0] = " " + rows[0][0]
    F.write_csv(d / "platform.csv", header, rows)
    return Expect("platform.csv", "surrounding spaces", "subdistrict_id", 1, rows[0][0].strip(),
                  severity="warning", text=("leading/trailing spaces were removed",))

VARIANTS = {name[2:]: fn for name, fn in sorted(globals().items()) if name.startswith("v_")}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_malformed_variant(folder, variant):
    exp = VARIANTS[variant](folder)
    # check the broken table (and, lazily, the tables it refers to): faster than the whole folder
    table = next((n for n, t in schema.TABLES.items() if t.file == exp.file), None)
    whole = exp.rule in ("completeness",) or exp.rule.startswith("constant")
    report = validate_dir(folder, tables=[table] if table and not whole else None)
    found = [p for p in report.problems if p.file == exp.file and p.rule == exp.rule
             and (exp.column is None or p.column == exp.column)]
    assert found, f"expected {exp}; got:\n{report.format(max_lines=0)}"
    p = found[0]
    assert p.severity == exp.severity
    if exp.row is not None:
        assert p.row == exp.row, p.line()
    if exp.key is not None:
        assert p.key == exp.key, p.line()
    if exp.count is not None:
        assert p.count == exp.count, p.line()
    line = p.line()
    assert "\n" not in line and line.startswith(f"{exp.file}: {exp.severity}: ")
    assert f"rule '{exp.rule}'" in line
    if exp.column:
        assert f"column '{exp.column}'" in line
    if exp.row is not None and (exp.count or 1) == 1:
        assert f"row {exp.row}" in line and exp.key in line
    for t in exp.text:
        assert t in line, line
    # a warning alone never fails the folder; an error always does
    assert report.ok == (exp.severity == "warning" and not report.errors)
    assert "Traceback" not in report.format(max_lines=0)


def test_catalogue_is_large_enough():
    assert len(VARIANTS) >= 25


def test_tiny_fixture_folder_is_valid(tmp_path):
    report = validate_dir(F.write_valid_folder(tmp_path / "tiny"))
    assert report.ok and not report.problems, report.format()


@pytest.mark.skipif(not F.default_data_complete(), reason="default data not generated yet")
def test_default_data_is_valid():
    report = validate_dir(paths.DATA_DIR)
    assert report.ok and not report.warnings, report.format(max_lines=0)
    assert report.tables["survey"].rows_read > 1000


def test_missing_folder_reported():
    report = validate_dir("/nonexistent/folder/for/sure")
    assert not report.ok and report.errors[0].rule == "folder"


def test_report_groups_one_line_per_rule(folder):
    header, rows = F.read_csv(folder / "members.csv")
    for r in rows[:20]:
        r[header.index("volunteer_hours")] = "-1"
    F.write_csv(folder / "members.csv", header, rows)
    report = validate_dir(folder)
    lines = [ln for ln in report.lines() if "volunteer_hours" in ln]
    assert len(lines) == 1 and lines[0].startswith("members.csv: error: column 'volunteer_hours', rule '>= 0': 20 rows")
    assert report.counts["rows_with_errors"]["members.csv"] == 20
    assert report.format(max_lines=1).count("\n") <= 4


# -- command line ---------------------------------------------------------------------------------
def test_cli_valid_folder_exits_0(base, capsys):
    assert validate_main([str(base)]) == 0
    out = capsys.readouterr().out
    assert "PASSED" in out and "Traceback" not in out


def test_cli_usage_errors_exit_2(capsys, tmp_path):
    assert validate_main([]) == 2
    assert validate_main([str(tmp_path / "nope")]) == 2
    assert validate_main(["--max-lines", "x", str(tmp_path)]) == 2
    assert validate_main(["--help"]) == 0
    assert "--quarantine" in capsys.readouterr().out


def test_cli_broken_folder_exits_1_without_traceback(folder):
    set_cell(folder / "members.csv", 2, "volunteer_hours", "lots")
    (folder / "platform.csv").write_bytes(b"\xff\xfe\x00garbage")
    geo_edit(folder / "districts.geojson", lambda o: o.pop("crs"))
    proc = subprocess.run([sys.executable, "-m", "helpers", "validate", str(folder), "--max-lines", "5"],
                          capture_output=True, text=True, cwd=paths.ROOT, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "FAILED" in proc.stdout
    assert "members.csv: error: row 2" in proc.stdout
    assert "platform.csv: error:" in proc.stdout and "districts.geojson: error: rule 'CRS'" in proc.stdout


def test_cli_json(base, capsys):
    assert validate_main([str(base), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True



def test_random_corruption_never_crashes(tmp_path):
    """Whatever the bytes, the validator and the quarantine report problems and never raise."""
    import random

    from helpers.data.load import quarantine_folder

    rng = random.Random(20261122)
    base = F.write_valid_folder(tmp_path / "base")
    files = [t.file for t in schema.TABLES.values()]
    for it in range(12):
        d = tmp_path / f"c{it}"
        shutil.copytree(base, d)
        f = d / rng.choice(files)
        data = bytearray(f.read_bytes())
        for _ in range(rng.randint(1, 4)):
            if not data:
                break
            i = rng.randrange(len(data))
            op = rng.choice(("flip", "cut", "insert", "delete"))
            if op == "flip":
                data[i] = rng.choice(b',"\n\r 0123456789.-x{}[]:\xff\x00')
            elif op == "cut":
                data = data[:i]
            elif op == "insert":
                data[i:i] = rng.choice([b",", b'"', b"\n", b"null", b"-1", b"1e309", b"NaN", b"\xe4\xb8"])
            else:
                del data[i:i + rng.randint(1, 40)]
        f.write_bytes(bytes(data))
        report = validate_dir(d)
        assert not [p for p in report.problems if p.rule == "internal error"], report.format(max_lines=0)
        assert all("\n" not in ln for ln in report.lines())
        quarantine_folder(d, tmp_path / f"q{it}").format()
