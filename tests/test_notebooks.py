"""The notebook collection: paired with py:percent scripts, clean in git, executed by a real kernel."""
from __future__ import annotations

import json
import re
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]


def test_there_are_notebooks():
    assert "00_data_overview" in IDS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_paired_script_is_in_sync(path: Path):
    script = path.with_suffix(".py")
    assert script.is_file(), f"{path.name} has no paired py:percent script {script.name}"
    a = jupytext.read(path)
    b = jupytext.read(script)
    cells_a = [(c.cell_type, c.source.strip()) for c in a.cells]
    cells_b = [(c.cell_type, c.source.strip()) for c in b.cells]
    assert cells_a == cells_b, (f"{path.name} and {script.name} differ; run "
                                f"`jupytext --sync notebooks/{path.name}`")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_without_outputs(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
             and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_has_parameters_cell_first(path: Path):
    nb = jupytext.read(path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and "parameters" in code[0].metadata.get("tags", []), \
        f"{path.name}: the first code cell must be tagged 'parameters'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_logic_defined_in_notebooks(path: Path):
    """All logic lives in helpers: no functions or classes are defined in notebooks."""
    nb = jupytext.read(path)
    bad = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "code"
           and re.search(r"^\s*(def|class|async def)\s|\blambda\b", c.source, flags=re.M)]
    assert not bad, f"{path.name} defines functions; move them to helpers: {bad}"


@pytest.mark.slow
@pytest.mark.xdist_group("site")
def test_every_notebook_executes_and_renders(built_site):
    """Every notebook runs headless on the default data and becomes an HTML report."""
    assert built_site.returncode == 0, built_site.log[-4000:]
    for stem in IDS:
        html = list(built_site.out.glob(f"{stem}*.html"))
        assert html, f"no report for {stem}; build log:\n{built_site.log[-2000:]}"
        text = html[0].read_text(encoding="utf-8")
        body = text[text.index("<body"):]
        # the first screen: up to the first section (a notebook states its data in its set-up cell, under its
        # title and question - docs/reports.md; the build adds the banner above the title to any other)
        first_section = body.find("<h2")
        top = body[: first_section if first_section > 0 else 5000]
        if "read no file of the data folder" in text:
            # e.g. 90_validation: real data only, so no synthetic banner
            assert "Synthetic data" not in top, f"{stem} read no synthetic data but carries the banner"
        else:
            assert "Synthetic data" in top, f"{stem}: no synthetic-data banner before the report's first section"
            assert body.count('class="report-banner"') == 1, f"{stem}: more than one synthetic-data banner"
        assert "Traceback" not in text, f"{stem}: a traceback was rendered into the report"
