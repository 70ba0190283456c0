"""A city of another shape, built as a whole site by the real build and the real notebooks (issue 11).

One data folder combines several shape changes at once (conftest's ``DERIVED_ARGS``, made by
``tests/_derived.py``): five districts, three years relabelled 2023-2025 (a period that ends after the
shipped one), a district with a single sub-district, no ``assessment.csv`` (an optional table), and
real-data mode (no synthetic flag, no planted truth). Its site is built once per test run (conftest's ``derived_site``) into a temporary folder. Checked: the build
succeeds; no study needs the absent table, so every report is built, and Satisfaction skips only its
claim-6 section with a sentence that says so (studies skipped for an absent table: tests/test_build_site.py
and tests/test_build_units.py); no page speaks of synthetic data or planted truth; the site passes the lint; the committed
ledger, the default site and every tracked file are left alone.
"""
from __future__ import annotations

import json
import re

import pytest

from helpers import paths
from helpers.data.load import available_tables
from helpers.publish import lint
from helpers.studies import REQUIRES, missing_tables

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("site")]

ABSENT = "assessment"
#: What a page of real data must not say (the pages' own text, footer included).
SYNTHETIC_WORDS = re.compile(r"synthetic|planted|ground[ _-]?truth|generator|generated city", re.I)


def states(log: str) -> dict[str, str]:
    """report -> its last state in the build's ``--progress lines`` log (``[   80.9s] done    01_coverage   79.1s``)."""
    out = {}
    for line in log.splitlines():
        m = re.match(r"^\[[^]]*\]\s+(\w+)\s+(\S+)", line)
        if m:
            out[m.group(2)] = m.group(1)
    return out


@pytest.fixture(scope="module")
def site(derived_site):
    """The derived site (the checks below also run when a report failed: each says what it finds)."""
    assert derived_site.before, derived_site.log[-6000:]  # the folder was made and the build ran
    return derived_site


def test_the_build_succeeds(site):
    failed = re.findall(r"^FAILED .*$", site.log, flags=re.M)
    assert site.returncode == 0 and not failed, "\n".join(failed) or site.log[-6000:]


def test_the_derived_folder_has_the_intended_shape(site):
    """The folder is what the other tests assume: five districts, 2023-2025, no assessment, real data."""
    import geopandas as gpd

    have = available_tables(site.data)
    assert ABSENT not in have and "survey" in have and "members" in have
    districts = gpd.read_file(site.data / "districts.geojson")
    assert len(districts) == 5
    subs = gpd.read_file(site.data / "subdistricts.geojson")
    assert (subs["district_id"] == "D03").sum() == 1
    meta = json.loads((site.data / "metadata.json").read_text(encoding="utf-8"))
    assert meta["synthetic"] is False and meta["study_period"] == [2023, 2025]
    assert not (site.data / "ground_truth.json").exists()


def test_every_applicable_report_is_built_and_the_others_are_skipped_with_the_reason(site):
    import geopandas as gpd

    from helpers.publish.build import plan

    have = available_tables(site.data)
    districts = sorted(gpd.read_file(site.data / "districts.geojson")["district_id"])
    stems = sorted(nb.stem for nb in plan.discover(paths.NOTEBOOKS_DIR))
    assert len(stems) >= 9, stems
    skipped = {s for s in stems if missing_tables(s, have)}
    assert skipped == {s for s, t in REQUIRES.items() if ABSENT in t} == set(), skipped  # assessment: claim 6 only
    expected = {}
    for s in stems:
        if s in skipped:
            expected[s] = "skipped"
        elif s == "district_profile":
            expected.update({f"{s}-{d}": "done" for d in districts})
        else:
            expected[s] = "done"
    assert states(site.log) == expected, site.log[-6000:]
    index = (site.out / "index.html").read_text(encoding="utf-8")
    reason = f"skipped: needs {ABSENT}.csv, which the data folder does not have"
    for s in skipped:
        row = index[index.index(f"{s}"):][:3000]
        assert reason in row, f"{s}: the index does not say why it was skipped"
        assert not (site.out / f"{s}.html").exists()
    assert index.count(reason) == len(skipped)
    built = {p.stem for p in site.out.glob("*.html")} - {"index"}
    assert built == {n for n, st in expected.items() if st == "done"}
    assert not (site.out / "errors").exists()


def test_satisfaction_skips_only_its_claim_6_section(site):
    page = (site.out / "03_satisfaction.html").read_text(encoding="utf-8")
    assert "The data have no assessment scores, so this section and claim 6 are skipped." in page
    assert "Claim 6 needs the assessment scores, which the data do not have, so it is not tested." in page
    for kept in ("Each district minus the city", "raked to the census margins", "Fay–Herriot model"):
        assert kept in page, kept


def test_no_page_speaks_of_synthetic_data_or_planted_truth(site):
    found = {}
    for page in sorted(site.out.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        hits = sorted({m.group(0) for m in SYNTHETIC_WORDS.finditer(text)})
        if hits:
            found[page.name] = [text[max(0, m.start() - 80):m.end() + 80].replace("\n", " ")
                                for m in SYNTHETIC_WORDS.finditer(text)][:3]
    assert found == {}, json.dumps(found, indent=1, ensure_ascii=False)


def test_the_derived_site_passes_the_lint(site):
    problems = lint.lint_site(site.out)
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems)


def test_the_ledger_the_default_site_and_tracked_files_are_untouched(site):
    before, after = site.before, site.after
    changed = sorted(k for k in before["files"].keys() | after["files"].keys()
                     if before["files"].get(k) != after["files"].get(k))
    assert changed == [], f"the build of another data folder changed: {changed}"
    assert before["files"], "nothing to compare: reports/findings/ is empty"
    assert after["sites"] == before["sites"], "the build wrote a site into reports/sites/ despite --out"
    assert after["git_status"] == before["git_status"], (before["git_status"], after["git_status"])


def test_each_unit_has_one_verdict_across_the_derived_site(site):
    """The site-wide verdict check (tests/test_verdicts_site.py) on this city too: its funnels have five
    districts, and one district is a single sub-district."""
    from test_verdicts_site import disagreements, stated_verdicts

    table = stated_verdicts(site.out)
    assert len(table), "no report of the derived site stated a verdict"
    bad = disagreements(table)
    assert bad == [], f"{len(bad)} units with more than one verdict:\n" + "\n".join(bad)
