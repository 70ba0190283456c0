"""What the build checks before it executes anything: the data folder, the output folder, parameters,
and which studies the data allow. Fast: no kernel starts in this module."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from helpers import paths
from helpers.data import schema
from helpers.publish import build
from helpers.publish.build import inputs
from helpers.studies import REQUIRES
from test_build_nbkit import PASSING, PROFILE, PROFILE_PARAMS, make_data, write_nb

MARKER_NB = [("md", "# Marker\n\nWrites a file when executed."),
             "open(__import__('os').environ['MARKER'], 'w').write('ran')"]


@pytest.fixture()
def setup(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MARKER", str(tmp_path / "executed"))
    monkeypatch.delenv("HELPERS_DATA_DIR", raising=False)
    make_data(tmp_path / "city")
    write_nb(tmp_path / "nbs" / "10_marker.ipynb", MARKER_NB, "year = 2019\nlabel = 'north'")
    return tmp_path


def run(capsys, *args) -> tuple[int, str, str]:
    rc = build.main(["--notebooks", "nbs", "--cache-dir", "cache", "--progress", "none", *args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_nonexistent_data_dir_is_named_as_typed(setup, capsys):
    rc, out, err = run(capsys, "--data-dir", "no/such/city", "--out", "site")
    assert rc == 2
    assert err.splitlines() == ["build: error: data folder no/such/city does not exist; give the folder that holds "
                                "the CSV and GeoJSON files"]
    assert not (setup / "site").exists() and not (setup / "executed").exists()


def test_data_dir_from_the_environment_is_named_with_its_source(setup, capsys, monkeypatch):
    monkeypatch.setenv("HELPERS_DATA_DIR", "elsewhere")
    rc, _, err = run(capsys, "--out", "site")
    assert rc == 2 and err.strip() == ("build: error: data folder elsewhere (from $HELPERS_DATA_DIR) does not "
                                       "exist; give the folder that holds the CSV and GeoJSON files")


def test_data_dir_that_is_a_file(setup, capsys):
    rc, _, err = run(capsys, "--data-dir", "city/values.csv", "--out", "site")
    assert rc == 2 and len(err.splitlines()) == 1 and "city/values.csv is a file" in err


def test_data_breaking_the_contract_stops_before_executing(setup, capsys):
    (setup / "city" / "communities.csv").unlink()
    rc, _, err = run(capsys, "--data-dir", "city", "--out", "site")
    assert rc == 1
    # the validator's own lines, naming the folder as typed
    assert "Checked city against the data contract" in err and "communities.csv: error: rule 'missing file'" in err
    assert "the data folder city breaks the data contract" in err and "python -m helpers validate city" in err
    assert not (setup / "executed").exists() and not (setup / "site" / "index.html").exists()


@pytest.mark.parametrize("out, says", [("a_file", "is a file; give a folder"),
                                       ("a_file/site", "cannot create the folder"),
                                       ("nbs", "would put the site over the notebooks folder"),
                                       ("city/site", "would put the site inside the data folder")])
def test_unusable_out_gets_one_line(setup, capsys, out, says):
    (setup / "a_file").write_text("x")
    rc, _, err = run(capsys, "--data-dir", "city", "--out", out)
    assert rc == 2
    assert len(err.splitlines()) == 1 and err.startswith(f"build: error: --out {out}") and says in err, err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_out_gets_one_line(setup, capsys):
    ro = setup / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        rc, _, err = run(capsys, "--data-dir", "city", "--out", "ro")
    finally:
        ro.chmod(0o755)
    assert rc == 2 and len(err.splitlines()) == 1 and "--out ro: cannot write into the folder" in err


@pytest.mark.parametrize("param, says", [
    ("month=3", "--param month: no notebook's parameters cell defines 'month' (parameters defined: label, year)"),
    ("year", "--param year: write NAME=VALUE"),
    ("year=[2018]", "the value must be a number or a string, not list"),
    ("district_id=D01", "use --only 'district_profile-D01'"),
])
def test_bad_parameters_get_one_line(setup, capsys, param, says):
    rc, _, err = run(capsys, "--data-dir", "city", "--out", "site", "--param", param)
    assert rc == 2 and len(err.splitlines()) == 1 and says in err, err
    assert not (setup / "executed").exists()


def test_parse_params():
    assert inputs.parse_params(["year=2023", "share=0.5", "label=north", "q='2023'", "flag=True"]) == {
        "year": 2023, "share": 0.5, "label": "north", "q": "2023", "flag": True}
    assert inputs.same_value(2023, 2023) and not inputs.same_value(2023, 2023.0) and not inputs.same_value(1, True)


def test_studies_whose_tables_are_absent_are_listed_as_skipped(setup, capsys):
    study = next(s for s, tables in REQUIRES.items() if "survey" in tables and s != "district_profile")
    (setup / "city" / "survey.csv").unlink()
    # and an optional table the profile cannot do without
    profile_needs = next(t for t in REQUIRES["district_profile"] if t in schema.OPTIONAL_TABLES)
    (setup / "city" / schema.TABLES[profile_needs].file).unlink(missing_ok=True)
    write_nb(setup / "nbs" / f"{study}.ipynb", PASSING)
    write_nb(setup / "nbs" / "district_profile.ipynb", PROFILE, PROFILE_PARAMS)
    rc, out, _ = run(capsys, "--data-dir", "city", "--out", "site", "--list", "--param", "year=2018")
    assert rc == 0
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert "skipped" in lines[study] and "needs survey.csv, which the data folder does not have" in lines[study]
    assert "skipped" in lines["district_profile"]  # the profile is one study: one row, not one per district
    assert "to build" in lines["10_marker"] and '{"year": 2018}' in lines["10_marker"]
    assert not (setup / "site").exists()  # --list creates no site


def test_where_sites_and_caches_go(tmp_path, monkeypatch):
    monkeypatch.delenv("HELPERS_DATA_DIR", raising=False)
    default = inputs.data_folder(None)
    assert default.is_default and default.display == "data"
    assert inputs.out_folder(None, default) == (paths.SITE_DIR.resolve(), "reports/site")
    city = make_data(tmp_path / "my city")
    other = inputs.data_folder(str(city))
    assert not other.is_default
    out, shown = inputs.out_folder(None, other)
    assert out == (paths.SITES_DIR / "my_city").resolve() and shown == "reports/sites/my_city"
    assert inputs.cache_folder(None, paths.SITE_DIR.resolve()) == paths.BUILD_CACHE_DIR / "reports-site"
    outside = inputs.cache_folder(None, (tmp_path / "x" / "site").resolve())
    assert outside.parent == paths.BUILD_CACHE_DIR and outside.name.startswith("site-")
    assert inputs.out_folder("elsewhere", other)[1] == "elsewhere"


def test_data_folder_display(tmp_path, monkeypatch):
    inside = paths.ROOT / "data"
    assert inputs.display_path(str(inside), inside) == "data"
    home = Path.home()
    assert inputs.display_path(str(home / "city"), home / "city") == "~/city"
    assert inputs.display_path("../city", tmp_path / "city") == "../city"
    assert inputs.display_path("/srv/city", Path("/srv/city")) == "/srv/city"


def test_dataset_name_and_real_data_mode(tmp_path):
    d = make_data(tmp_path / "folder", synthetic=False)
    meta = inputs.metadata(inputs.data_folder(str(d)))
    assert meta == {"name": "folder", "synthetic": False, "generator": "", "display": str(d)}
    make_data(d, synthetic=True, name="Test City")
    meta = inputs.metadata(inputs.data_folder(str(d)))
    assert meta["name"] == "Test City" and meta["synthetic"] and meta["generator"] == "generator test, seed 1"
    doc = json.loads((d / "metadata.json").read_text())
    doc.pop("name")
    doc.update(title="Title city", synthetic="yes")  # only the JSON value true means synthetic
    (d / "metadata.json").write_text(json.dumps(doc))
    meta = inputs.metadata(inputs.data_folder(str(d)))
    assert meta["name"] == "Title city" and not meta["synthetic"]
