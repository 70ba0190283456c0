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
