"""The site lint (helpers.publish.lint) on the whole site of the real notebooks and the default data.

The site is the one conftest's ``built_site`` builds once per test run (the same build the notebook and
browser tests read). Every problem is listed, one line each (``page: rule: what``), so a failure says
which page to fix and how.
"""
from __future__ import annotations

import pytest

from helpers.publish import lint

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("site")]


def test_the_default_site_passes_the_lint(built_site):
    assert built_site.returncode == 0, built_site.log[-4000:]
    problems = lint.lint_site(built_site.out)
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems)


def test_the_lint_reads_raw_values_not_english(tmp_path):
    page = tmp_path / "p.html"
    page.write_text("<html><body><h1>T</h1><p>None of the 7 respondents know it.</p><p>Value: None</p>"
                    "<p>nan</p></body></html>", encoding="utf-8")
    problems = lint.lint_page(page)
    assert "p.html: raw value: 'None'" in problems and "p.html: raw value: 'nan'" in problems
    page.write_text("<html><body><h1>T</h1><p>None of the 7 respondents know it.</p></body></html>", encoding="utf-8")
    assert not [p for p in lint.lint_page(page) if "raw value" in p]


def test_the_lint_wants_en_dashes_in_ranges_on_the_index_and_in_footers(tmp_path):
    footer = ('<footer class="report-footer"><table><tr><td>Satisfaction</td><td>3.03</td><td>points (1-5)</td></tr>'
              "<tr><td>built</td><td>2024-05-01, table-1.csv, 0.5–1.5</td></tr></table></footer>")
    page = tmp_path / "r.html"
    page.write_text(f"<html><body><h1>T</h1>{footer}</body></html>", encoding="utf-8")
    assert lint.lint_page(page) == ["r.html: range with a hyphen, not an en dash: '1-5'"]
    index = tmp_path / "index.html"
    index.write_text("<html><body><h1>T</h1><p>a walk of 15-30 minutes</p></body></html>", encoding="utf-8")
    assert lint.lint_page(index) == ["index.html: range with a hyphen, not an en dash: '15-30'"]
    page.write_text("<html><body><h1>T</h1><p>a walk of 15–30 minutes on 2024-05-01</p></body></html>",
                    encoding="utf-8")
    assert lint.lint_page(page) == []
