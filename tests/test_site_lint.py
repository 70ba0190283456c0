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
