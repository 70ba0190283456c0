"""Every built report and the index, opened in headless Chromium (Debian's, driven by Playwright).

Fails on any console error or page error, any request other than the page
itself and ``data:`` URLs (so nothing from another host, and no sibling
files either), and any image that does not decode. Saves full-page
screenshots of the index and one report (a district profile when there is
one) in ``.build-cache/screenshots/`` (git-ignored, outside every published
site; override with ``$HELPERS_SCREENSHOT_DIR``).

Which site: ``$HELPERS_BROWSER_SITE`` (an already built folder) if set; else
the real notebooks on the default data, built once per test session into a
temporary folder by the ``built_site`` fixture of ``tests/conftest.py`` (the same
build the notebook tests check).
When ``$CI`` is set and Chromium is missing the test fails instead of skipping.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from helpers import paths

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.xdist_group("site")]

CHROMIUM = os.environ.get("HELPERS_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _need_chromium():
    if Path(CHROMIUM).exists() and shutil.which(CHROMIUM):
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError as e:
            if os.environ.get("CI"):
                pytest.fail(f"playwright (Python package) is missing in CI: {e}")
            pytest.skip("playwright is not installed")
        return
    msg = f"Debian's chromium not found at {CHROMIUM} (make sysdeps installs it)"
    if os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture(scope="module")
def site_dir(request) -> Path:
    """The real report site, built once per session by conftest's ``built_site`` (or $HELPERS_BROWSER_SITE)."""
    _need_chromium()
    given = os.environ.get("HELPERS_BROWSER_SITE")
    if given:
        return Path(given)
    site = request.getfixturevalue("built_site")
    assert site.returncode == 0, f"the build failed:\n{site.log[-4000:]}"
    return site.out


def test_reports_open_cleanly_in_chromium(site_dir):
    from playwright.sync_api import sync_playwright

    pages = sorted(site_dir.glob("*.html"))
    assert any(p.name == "index.html" for p in pages) and len(pages) >= 2
    shots = Path(os.environ.get("HELPERS_SCREENSHOT_DIR", paths.BUILD_CACHE_DIR / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    reports = [p for p in pages if p.name != "index.html"]
    profile = next((p for p in reports if p.name.startswith("district_profile")), reports[0])
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=True)
            for path in pages:
                url = path.resolve().as_uri()
                page = context.new_page()
                page.on("console", lambda m, n=path.name: m.type == "error" and problems.append(
                    f"{n}: console error: {m.text}"))
                page.on("pageerror", lambda e, n=path.name: problems.append(f"{n}: page error: {e}"))
                page.on("request", lambda req, n=path.name, u=url: (
                    req.url != u and not req.url.startswith("data:")
                    and problems.append(f"{n}: request to {req.url}")))
                page.on("requestfailed", lambda req, n=path.name: problems.append(
                    f"{n}: request failed: {req.url}"))
                page.goto(url, wait_until="load")
                page.wait_for_load_state("networkidle")
                broken = page.evaluate(
                    "() => Array.from(document.images)"
                    ".filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src.slice(0, 60))")
                problems += [f"{path.name}: image does not decode: {b}" for b in broken]
                assert page.title(), f"{path.name} has no title"
                if path.name == "index.html":
                    page.screenshot(path=str(shots / "index.png"), full_page=True)
                elif path == profile:
                    page.screenshot(path=str(shots / f"{path.stem}.png"), full_page=True)
                    # data-derived text shows as text, never runs
                    assert page.evaluate("() => document.querySelectorAll('script').length") == 0
                page.close()
        finally:
            browser.close()
    assert not problems, "\n".join(problems)
    assert (shots / "index.png").stat().st_size > 1000
    assert (shots / f"{profile.stem}.png").stat().st_size > 1000
