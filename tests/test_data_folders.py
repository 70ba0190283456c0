"""Data folders of other shapes, derived from the shipped data: other years, a shifted study period,
absent and empty optional tables, metadata with and without a study period, and the command line's
small courtesies. Each test asserts the exact problem lines (file, column, row, rule)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

try:
    import _fixtures as F
except ImportError:  # tests/ as a package
    from tests import _fixtures as F

from helpers import paths
from helpers.cli import validate as validate_main
from helpers.data import load, schema
from helpers.data import period as periods
from helpers.data.period import StudyPeriod, years_of
from helpers.data.validate import validate_dir

pytestmark = pytest.mark.skipif(not F.default_data_complete(), reason="default data not generated yet")

YEARLY = [n for n, t in schema.TABLES.items() if t.yearly]
YEARLY_FILES = ", ".join(schema.TABLES[n].file for n in YEARLY)
FIX_PERIOD = ('write two whole years, first and last, e.g. "study_period": [2018, 2024], or remove the key '
              'to take the period from the years in the tables')


# -- deriving folders ------------------------------------------------------------------------------
def _csv(d: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(d / schema.TABLES[name].file, dtype=str, keep_default_na=False)


def _write(d: Path, name: str, df: pd.DataFrame) -> None:
    df.to_csv(d / schema.TABLES[name].file, index=False, lineterminator="\n")


def _years(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.replace("", None))


def truncate(d: Path, first: int, last: int) -> None:
    """Keep the years first..last, as if the data had been collected then: yearly rows outside go;
    organisations, service points and platforms appearing later go or lose what came later."""
    for name in YEARLY:
        df = _csv(d, name)
        _write(d, name, df[_years(df["year"]).between(first, last)])
    o = _csv(d, "organisations")
    o = o[_years(o["year_founded"]) <= last].copy()
    o.loc[_years(o["year_closed"]) > last, "year_closed"] = ""
    late = _years(o["party_org_year"]) > last
    o.loc[late, "party_org_year"] = ""
    o.loc[late, "party_org_mode"] = "none"
    _write(d, "organisations", o)
    p = _csv(d, "platform")
    p.loc[_years(p["platform_year"]) > last, "platform_year"] = ""
    _write(d, "platform", p)
    sp = F.read_geojson(d / "service_points.geojson")
    sp["features"] = [f for f in sp["features"] if f["properties"]["year_opened"] <= last]
    F.write_geojson(d / "service_points.geojson", sp)


def shift(d: Path, by: int) -> None:
    """Relabel every year column: the same city ``by`` years later."""
    cols = {"members": ["year"], "joint_building": ["year"], "assessment": ["year"], "survey": ["year"],
            "organisations": ["year_founded", "year_closed", "party_org_year"], "platform": ["platform_year"]}
    for name, cs in cols.items():
        df = _csv(d, name)
        for c in cs:
            v = _years(df[c])
            df[c] = [("" if pd.isna(x) else str(int(x) + by)) for x in v]
        _write(d, name, df)
    sp = F.read_geojson(d / "service_points.geojson")
    for f in sp["features"]:
        f["properties"]["year_opened"] += by
    F.write_geojson(d / "service_points.geojson", sp)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return F.valid_folder(tmp_path_factory.mktemp("valid"))


@pytest.fixture()
def folder(base, tmp_path) -> Path:
    d = tmp_path / "data"
    shutil.copytree(base, d)
    return d


@pytest.fixture(scope="module")
def years_2021_2023(base, tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("y2123") / "data"
    shutil.copytree(base, d)
    truncate(d, 2021, 2023)
    F.write_metadata(d, {"synthetic": False})  # no study_period: taken from the tables
    return d


@pytest.fixture(scope="module")
def shifted(years_2021_2023, tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("y2325") / "data"
    shutil.copytree(years_2021_2023, d)
    shift(d, 2)
    F.write_metadata(d, {"study_period": [2023, 2025]})
    return d


def _only(report, severity):
    return [p.line() for p in report.problems if p.severity == severity]


# -- the study period comes from the data ---------------------------------------------------------------
def test_years_2021_2023_pass_with_the_period_taken_from_the_tables(years_2021_2023):
    report = validate_dir(years_2021_2023)
    assert report.ok and not report.problems, report.format(max_lines=0)
    assert report.period == StudyPeriod(2021, 2023, f"the years in {YEARLY_FILES}")
    assert f"({len(schema.TABLES)} tables; study period 2021-2023, from the years in {YEARLY_FILES}): PASSED" in report.format()
    assert load.study_period(years_2021_2023) == report.period
    assert load.study_years(years_2021_2023) == [2021, 2022, 2023]
    members = load.load_table("members", years_2021_2023)
    assert sorted(members["year"].unique()) == [2021, 2022, 2023]
    assert members.attrs["study_period"] == report.period and load.study_years(members) == [2021, 2022, 2023]


def test_year_after_the_derived_period_names_file_column_row_and_rule(years_2021_2023, tmp_path):
    d = tmp_path / "data"
    shutil.copytree(years_2021_2023, d)
    org = F.edit_cell(d / "organisations.csv", 2, "year_founded", 2024)
    report = validate_dir(d, tables=["organisations"])
    assert _only(report, "error") == [
        f"organisations.csv: error: row 2 (org_id {org}), column 'year_founded', rule 'range 1949-2023': value 2024: "
        "the value is outside the allowed range 1949-2023 (year); correct it (the study period 2021-2023 ends in "
        f"2023, the span of the years in {YEARLY_FILES})"]


def test_shifted_period_2023_2025_is_declared_and_followed(shifted):
    from helpers.data import concepts

    report = validate_dir(shifted)
    assert report.ok and not report.problems, report.format(max_lines=0)
    assert report.period == StudyPeriod(2023, 2025, "metadata.json") and report.period.declared
    tables = load.load_all(shifted)
    assert load.study_years(tables) == load.study_years(shifted) == [2023, 2024, 2025]
    assert sorted(tables["survey"]["year"].unique()) == [2023, 2024, 2025]
    # helpers with a years=None default follow the frames' period
    lookup = concepts.community_lookup(tables)
    oy = concepts.organisation_years(tables["organisations"], lookup, load.study_years(tables))
    panel = concepts.coverage_panel(oy, lookup)
    assert sorted(panel["year"].unique()) == [2023, 2024, 2025]


def test_year_outside_the_declared_period_is_an_error(shifted, tmp_path):
    d = tmp_path / "data"
    shutil.copytree(shifted, d)
    header, rows = F.read_csv(d / "members.csv")
    k = next(i for i, r in enumerate(rows, start=1) if r[1] == "2023")
    F.edit_cell(d / "members.csv", k, "year", 2022)
    cid = rows[k - 1][0]
    report = validate_dir(d, tables=["members"])
    assert _only(report, "error") == [
        f"members.csv: error: row {k} (community_id/year {cid}/2022), column 'year', rule 'study period 2023-2025': "
        "value 2022: the year is outside the study period 2023-2025 declared in metadata.json; correct it, drop "
        'rows outside the study period, or change "study_period" in metadata.json']


def test_declared_period_later_than_the_data_groups_the_rows(folder):
    F.write_metadata(folder, {"study_period": [2019, 2024]})
    header, rows = F.read_csv(folder / "members.csv")
    hit = [(i, r[0]) for i, r in enumerate(rows, start=1) if r[1] == "2018"]
    report = validate_dir(folder, tables=["members"])
    (r1, c1), (r2, c2), (r3, c3) = hit[:3]
    assert _only(report, "error") == [
        f"members.csv: error: column 'year', rule 'study period 2019-2024': {len(hit)} rows, e.g. rows {r1}, {r2}, "
        f"{r3}, ... (community_id/year {c1}/2018, {c2}/2018, {c3}/2018, ...) with value 2018: the year is outside "
        'the study period 2019-2024 declared in metadata.json; correct it, drop rows outside the study period, or '
        'change "study_period" in metadata.json']


def test_yearly_table_missing_a_year_of_the_period_is_a_warning(folder):
    F.write_metadata(folder, {"study_period": [2018, 2025]})
    report = validate_dir(folder)
    assert report.ok and not _only(report, "notice")
    assert _only(report, "warning") == [
        f"{schema.TABLES[n].file}: warning: column 'year', rule 'covers study period': no rows in 1 of the 8 years "
        "of the study period 2018-2025 (declared in metadata.json): 2025; add them if the data exist (the studies "
        "use the years present)" for n in YEARLY]


def test_survey_in_alternate_years_is_a_warning_not_an_error(folder):
    sv = _csv(folder, "survey")
    _write(folder, "survey", sv[_years(sv["year"]).isin([2018, 2020, 2022, 2024])])
    report = validate_dir(folder)
    assert report.ok
    assert _only(report, "warning") == [
        "survey.csv: warning: column 'year', rule 'covers study period': no rows in 3 of the 7 years of the study "
        "period 2018-2024 (declared in metadata.json): 2019, 2021, 2023; add them if the data exist (the studies "
        "use the years present)"]


@pytest.mark.parametrize("value, why", [
    ([2024, 2018], "study_period [2024, 2018] ends before it starts"),
    ("2018-2024", 'study_period is "2018-2024", not [first year, last year]'),
    ([2018], "study_period is [2018], not [first year, last year]"),
    ([2018.0, 2024], "study_period is [2018.0, 2024], not [first year, last year]"),
    ([1900, 2024], "study_period [1900, 2024] is outside the plausible years 1949-2100"),
])
def test_malformed_study_period_is_an_error(folder, value, why):
    F.write_metadata(folder, {"study_period": value})
    report = validate_dir(folder, tables=["districts"])
    line = f"metadata.json: error: rule 'study period': {why}; {FIX_PERIOD}"
    assert _only(report, "error") == [line]
    with pytest.raises(load.DataContractError) as e:
        load.load_table("districts", folder)
    assert line in str(e.value)


@pytest.mark.parametrize("meta", [None, {"synthetic": False, "description": "our city"}])
def test_without_a_declared_period_it_is_the_span_of_the_yearly_tables(folder, meta):
    F.write_metadata(folder, meta)
    report = validate_dir(folder)
    assert report.ok and not report.problems, report.format(max_lines=0)
    assert report.period == StudyPeriod(2018, 2024, f"the years in {YEARLY_FILES}")


def test_unreadable_metadata_is_a_warning(folder):
    (folder / "metadata.json").write_text("{study_period: [2018, 2024]}", encoding="utf-8")
    report = validate_dir(folder, tables=["districts"])
    assert report.ok and [p.rule for p in report.warnings] == ["parse JSON"]
    assert report.warnings[0].line().startswith("metadata.json: warning: rule 'parse JSON': cannot read it (")
    assert report.period.source == f"the years in {YEARLY_FILES}"


def test_frames_without_a_period_ask_for_years():
    orgs = pd.DataFrame({"org_id": []})
    with pytest.raises(ValueError, match=r"organisations carries no study period .*pass years=\.\.\."):
        years_of(orgs, "organisations")
    tables = periods.stamp({"organisations": orgs}, StudyPeriod(2023, 2025, "test"))  # as the loader does
    assert years_of(tables["organisations"]) == load.study_years(tables) == [2023, 2024, 2025]
    with pytest.raises(load.DataContractError, match="the frames carry no study period"):
        load.study_period({"x": pd.DataFrame()})


# -- core and optional tables --------------------------------------------------------------------------
ABSENT = ("service_points", "assessment", "survey")
SKIPPED = {  # helpers.studies.REQUIRES: the studies that cannot run without the table
    "service_points": "",
    "assessment": "",  # claim 6 of 03_satisfaction alone uses it (its section says so when it is absent)
    "survey": "03_satisfaction, 06_index",
}


@pytest.fixture(scope="module")
def without_optional(base, tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("absent") / "data"
    shutil.copytree(base, d)
    for name in ABSENT:
        (d / schema.TABLES[name].file).unlink()
    return d


def test_absent_optional_tables_are_notices(without_optional):
    report = validate_dir(without_optional)
    assert report.ok and not report.errors and not report.warnings, report.format(max_lines=0)
    assert report.lines() == [f"{schema.TABLES[n].file}: notice: rule 'optional table': absent (optional) - "
                              "studies that need it are skipped" for n in ABSENT]
    assert report.absent_optional == list(ABSENT)
    assert report.format().startswith(f"Checked {without_optional} against the data contract ({len(schema.TABLES)} tables, 3 optional "
                                      "ones absent; study period 2018-2024, declared in metadata.json): PASSED, "
                                      "0 errors, 0 warnings, 3 notices.\n")


def test_cli_names_the_studies_that_will_be_skipped(without_optional, capsys):
    assert validate_main([str(without_optional)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-3:] == [f"{schema.TABLES[n].file} is absent: "
                        + (f"these studies will be skipped: {SKIPPED[n]}" if SKIPPED[n] else
                           "no study is skipped (the sections that use it say so in their reports)")
                        for n in ABSENT]
    assert validate_main([str(without_optional), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["absent_optional"] == list(ABSENT)
    assert {k: ", ".join(v) for k, v in doc["skipped_studies"].items()} == SKIPPED


def test_loading_a_folder_without_optional_tables(without_optional, tmp_path):
    tables = load.load_all(without_optional)
    assert list(tables) == [n for n in schema.TABLES if n not in ABSENT]
    assert load.available_tables(without_optional) == list(tables)
    with pytest.raises(load.AbsentTableError) as e:
        load.load_survey(data_dir=without_optional)
    assert str(e.value) == (
        f"survey.csv is absent from {without_optional}: survey is an optional table ({schema.SURVEY.description}) "
        "and this folder does not have it; add the file, or skip what needs it "
        "(helpers.data.load.available_tables lists the tables a folder has)")
    summary = load.quarantine_folder(without_optional, tmp_path / "q")
    assert summary.ok and summary.absent == list(ABSENT)
    assert "survey.csv: absent (optional), nothing to load" in summary.format()


def test_empty_optional_files_are_valid_with_zero_rows(folder):
    header, _ = F.read_csv(folder / "assessment.csv")
    F.write_csv(folder / "assessment.csv", header, [])
    sp = F.read_geojson(folder / "service_points.geojson")
    sp["features"] = []
    F.write_geojson(folder / "service_points.geojson", sp)
    report = validate_dir(folder)
    assert report.ok and not report.problems, report.format(max_lines=0)
    assert report.tables["assessment"].rows_read == 0 and report.absent_optional == []
    a = load.load_table("assessment", folder)
    assert len(a) == 0 and list(a.columns) == schema.ASSESSMENT.column_names
    assert [str(t) for t in a.dtypes] == ["str", "int64", "float64"]
    pts = load.load_table("service_points", folder)
    assert len(pts) == 0 and pts.crs is not None and pts.crs.to_epsg() == 4548
    assert [c for c in pts.columns if c != "geometry"] == schema.SERVICE_POINTS.column_names


def test_required_table_missing_is_still_an_error(folder):
    (folder / "communities.csv").unlink()
    report = validate_dir(folder, tables=["communities"])
    assert _only(report, "error") == [
        f"communities.csv: error: rule 'missing file': the file communities.csv ({schema.COMMUNITIES.description}) "
        "is missing; add it (columns: " + ", ".join(schema.COMMUNITIES.column_names) + ")"]


# -- hints and the command line ---------------------------------------------------------------------------
def test_workbook_hint_names_the_workbook_found(folder):
    (folder / "members.csv").unlink()
    (folder / "members.xlsx").write_bytes(b"PK\x03\x04")
    (folder / "communities.csv").unlink()
    (folder / "城市数据.xlsx").write_bytes(b"PK\x03\x04")
    (folder / "communities.geojson").unlink()  # communities.csv is gone too: no other file to name
    report = validate_dir(folder, tables=["members", "communities", "community_boundaries"])
    lines = report.lines()
    assert ("members.csv: warning: rule 'optional table': absent (optional) - studies that need it are skipped "
            "(found the workbook 'members.xlsx': convert it with python -m helpers import)") in lines
    assert (f"communities.csv: error: rule 'missing file': the file communities.csv "
            f"({schema.COMMUNITIES.description}) is missing (found the workbooks 'members.xlsx', '城市数据.xlsx': if "
            "the table is in one of them, convert it with python -m helpers import); add it (columns: "
            + ", ".join(schema.COMMUNITIES.column_names) + ")") in lines


def test_missing_geojson_is_not_blamed_on_the_csv_of_the_same_name(folder):
    (folder / "communities.geojson").unlink()
    report = validate_dir(folder, tables=["community_boundaries"])
    assert _only(report, "error") == [
        f"communities.geojson: error: rule 'missing file': the file communities.geojson "
        f"({schema.COMMUNITY_BOUNDARIES.description}) is missing; add it (columns: "
        + ", ".join(schema.COMMUNITY_BOUNDARIES.column_names) + ")"]


def _cli(*args, cwd=None, **kw):
    return subprocess.run([sys.executable, "-m", "helpers", "validate", *args], capture_output=True, text=True,
                          cwd=cwd or paths.ROOT, timeout=120, **kw)


def test_cli_wants_a_folder_not_a_file(base):
    proc = _cli(str(base / "members.csv"))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (f"python -m helpers validate: error: {base / 'members.csv'} is a file; give the data "
                           f"folder that holds the tables (e.g. {base})\n")


def test_cli_names_a_missing_folder_as_typed(tmp_path):
    proc = _cli("no/such/folder", cwd=tmp_path, env={"PYTHONPATH": str(paths.ROOT)})
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == "python -m helpers validate: error: no/such/folder: no such folder\n"


def test_cli_stops_quietly_when_the_reader_leaves(base):
    """`validate DIR | head`: the reader has gone before the report is printed; no traceback, no
    'internal error', no 'Exception ignored'."""
    proc = subprocess.Popen([sys.executable, "-m", "helpers", "validate", str(base)], cwd=paths.ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # before the child writes: its first write meets a broken pipe
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 0
    assert err == ""
