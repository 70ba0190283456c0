"""One site of a real-data folder, built end to end from throwaway notebooks: parameters, the data behind
tables published beside the page, studies skipped for want of a table, no synthetic wording."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from helpers import paths
from helpers.publish.build import render
from helpers.studies import REQUIRES
from test_build_nbkit import GOOD_CSV, PASSING, PROFILE, PROFILE_PARAMS, assets_nb, make_data, write_nb

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("build-site")]

PARAMS_NB = [("md", "# Parameters\n\nShows the parameters it ran with."),
             "from helpers.publish import report, findings\n"
             "display(report.md('Year {y}, label {l}.', y=year, l=label))\n"
             "findings.record('year', year, unit='year')"]
#: PASSING without a planted value (real data have no truth)
PLAIN_NB = [c.replace(", truth=2.0", "") if isinstance(c, str) else c for c in PASSING]
STUDY = next(s for s, tables in REQUIRES.items() if "survey" in tables and s != "district_profile")
#: the profile is skipped too if it needs the survey (else it is built for each of the two districts)
PROFILE_SKIPPED = "survey" in REQUIRES["district_profile"]
PROFILES = set() if PROFILE_SKIPPED else {"district_profile-D01", "district_profile-D02"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("realsite")
    make_data(root / "city", synthetic=False, name="Test City")
    (root / "city" / "survey.csv").unlink()
    nbs = root / "nbs"
    write_nb(nbs / "10_params.ipynb", PARAMS_NB, "year = 2019\nlabel = 'north'")
    write_nb(nbs / "11_plain.ipynb", [*PLAIN_NB, ("md", f"See [the skipped study]({STUDY}.html#claims).")])
    write_nb(nbs / "20_assets.ipynb", assets_nb("20_assets", GOOD_CSV))
    write_nb(nbs / f"{STUDY}.ipynb", PASSING)
    write_nb(nbs / "district_profile.ipynb", PROFILE, PROFILE_PARAMS)
    # relative paths, as a user types them: the data folder is named as given
    r = subprocess.run([sys.executable, "-m", "helpers", "build", "--data-dir", "city", "--out", "site",
                        "--notebooks", "nbs", "--cache-dir", "cache", "--progress", "lines",
                        "--param", "year=2018", "--param", "label=north"],
                       cwd=root, capture_output=True, text=True, timeout=600)
    return {"root": root, "out": root / "site", "r": r}


def test_skipped_studies_do_not_fail_the_build(site):
    r = site["r"]
    assert r.returncode == 0, r.stdout + r.stderr
    states = {line.split()[3]: line.split()[2] for line in r.stdout.splitlines() if line.startswith("[")}
    skipped = {STUDY: "skipped"} | ({"district_profile": "skipped"} if PROFILE_SKIPPED else {})
    assert states == {"10_params": "done", "11_plain": "done", "20_assets": "done", **skipped,
                      **{p: "done" for p in PROFILES}}
    assert f"{len(skipped)} skipped" in r.stdout
    index = (site["out"] / "index.html").read_text()
    assert index.count("skipped: needs survey.csv, which the data folder does not have") == len(skipped)
    assert not (site["out"] / f"{STUDY}.html").exists()


def test_parameters_reach_the_notebooks_that_define_them(site):
    page = (site["out"] / "10_params.html").read_text()
    assert "Year 2018, label north." in page
    footer = page[page.index('id="provenance"'):]
    assert "<code>year = 2018</code>" in footer and "label =" not in footer  # a default is not shown
    assert "the notebook's defaults" in (site["out"] / "11_plain.html").read_text()
    index = (site["out"] / "index.html").read_text()
    assert "Built with the parameters <code>year = 2018</code>." in index and "label = north" not in index
    assert json.loads((site["out"] / "findings" / "10_params.json").read_text())["findings"][0]["value"] == 2018


def test_real_data_read_as_real(site):
    pages = {p.name: p.read_text() for p in site["out"].glob("*.html")}
    assert set(pages) == {"index.html", "10_params.html", "11_plain.html", "20_assets.html",
                          *(f"{p}.html" for p in PROFILES)}
    for name, page in pages.items():
        assert "ynthetic" not in page and "lanted" not in page and "Truth" not in page, name
        assert render.check_html(page, {str(site["root"]): "tmp", str(paths.ROOT): "repo"}) == [], name
    assert "<strong>Data: Test City</strong>" in pages["index.html"]
    # the data named as a title, then its folder (not "on the data Test City (folder city)")
    assert "on the data “Test City” in the folder <code>city</code> with" in pages["11_plain.html"]


def test_data_behind_a_table_is_published_beside_the_page(site):
    out = site["out"]
    assert (out / "20_assets" / "table-1.csv").read_text() == GOOD_CSV
    page = (out / "20_assets.html").read_text()
    assert 'href="20_assets/table-1.csv"' in page  # the notebook's own link, and the footer's
    assert page[page.index('id="provenance"'):].count('href="20_assets/table-1.csv"') == 1
    # the site holds the site alone (what the site lint allows, nothing hidden)
    from helpers.publish import lint

    files = [p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()]
    assert files and all(lint.ALLOWED_FILES.match(f) and not f.startswith(".") for f in files), files
    assert {p.name for p in out.iterdir() if p.is_file()} == {"10_params.html", "11_plain.html", "20_assets.html",
                                                               "index.html", *(f"{p}.html" for p in PROFILES)}
    manifest = json.loads((site["root"] / "cache" / "manifest.json").read_text())
    assert manifest["reports"]["20_assets"]["assets"] == ["table-1.csv"]


def test_a_rebuilt_report_replaces_its_data_files(site):
    """A report that no longer writes a file drops it; a missing data file rebuilds the report."""
    root, out = site["root"], site["out"]
    (out / "20_assets" / "table-1.csv").unlink()
    r = subprocess.run([sys.executable, "-m", "helpers", "build", "--data-dir", "city", "--out", "site",
                        "--notebooks", "nbs", "--cache-dir", "cache", "--list", "--param", "year=2018"],
                       cwd=root, capture_output=True, text=True, timeout=120)
    line = next(x for x in r.stdout.splitlines() if x.startswith("20_assets"))
    assert "to build" in line and "its page or data files are missing" in line
    write_nb(root / "nbs" / "20_assets.ipynb", [("md", "# No data now"), "x = 1"])
    r = subprocess.run([sys.executable, "-m", "helpers", "build", "--data-dir", "city", "--out", "site",
                        "--notebooks", "nbs", "--cache-dir", "cache", "--progress", "none", "--only", "20_*",
                        "--param", "year=2018"], cwd=root, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert not (out / "20_assets").exists() and (out / "20_assets.html").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_links_to_a_skipped_study_lead_to_the_index_row_that_says_why(site):
    out = site["out"]
    page = (out / "11_plain.html").read_text()
    assert f'<a href="index.html#report-{STUDY}" title="Not built for this data: needs survey.csv' in page
    assert f'id="report-{STUDY}"' in (out / "index.html").read_text()
    from helpers.publish import lint

    assert [x for x in lint.lint_page(out / "11_plain.html", out) if "broken link" in x] == []
