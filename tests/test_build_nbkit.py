"""Throwaway notebooks and data folders for the build tests (no tests here; imported by test_build*.py,
test_browser.py and test_report_safety.py)."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

XSS = "<script>alert(1)</script>"


def write_nb(path: Path, cells: list, params: str | None = None) -> Path:
    """Write a notebook; ``params`` becomes a cell tagged 'parameters' after the first cell."""
    out = []
    for c in cells:
        if isinstance(c, tuple) and c[0] == "md":
            out.append(new_markdown_cell(c[1]))
        else:
            out.append(new_code_cell(c))
    if params is not None:
        out.insert(1, new_code_cell(params, metadata={"tags": ["parameters"]}))
    nb = new_notebook(cells=out)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for i, c in enumerate(nb.cells):  # fixed ids: the files themselves are deterministic
        c["id"] = f"t{i}"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def make_data(data_dir: Path, districts=(("D01", "Alpha"), ("D02", XSS))) -> Path:
    """A tiny data folder: metadata.json (synthetic), districts.geojson, one CSV."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "metadata.json").write_text(json.dumps({"synthetic": True, "seed": 1, "generator_version": "test"}))
    feats, y0 = [], 3500000.0
    for i, (did, name) in enumerate(districts):
        x = 500000.0 + 10000.0 * i
        feats.append({"type": "Feature", "properties": {"district_id": did, "name_en": name, "name_zh": name,
                                                          "zone": "core"},
                      "geometry": {"type": "Polygon",
                                   "coordinates": [[[x, y0], [x + 1e4, y0], [x + 1e4, y0 + 1e4], [x, y0 + 1e4], [x, y0]]]}})
    (data_dir / "districts.geojson").write_text(json.dumps({
        "type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4548"}},
        "features": feats}))
    (data_dir / "values.csv").write_text("district_id,value\nD01,1.5\nD02,2.5\n")
    return data_dir


PASSING = [
    ("md", "# Passing report\n\nA short study that passes, with a figure and a finding."),
    "import os, pandas as pd\nfrom helpers.publish import findings, provenance\n"
    "data_dir = os.environ['HELPERS_DATA_DIR']\n"
    "provenance.note_data_read(os.path.join(data_dir, 'values.csv'))\n"
    "df = pd.read_csv(os.path.join(data_dir, 'values.csv'))",
    "df",
    "import numpy as np, matplotlib\nmatplotlib.use('module://matplotlib_inline.backend_inline')\n"
    "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(3, 2))\n"
    "ax.plot(np.random.default_rng(1).normal(size=20)); plt.show()",
    "import warnings; warnings.warn('this goes to stderr'); print('cwd is', os.getcwd())",
    "findings.record('mean_value', float(df.value.mean()), ci=(1.0, 3.0), unit='points', truth=2.0, note='mean')\n"
    "findings.display()",
]

FAILING = [
    ("md", "# Failing report\n\nThis one raises."),
    "x = 1",
    "raise ValueError('planned failure for the test')",
]

PROFILE = [
    ("md", "# District profile\n\nOne district at a time."),
    "import json, os\nfrom IPython.display import display\nfrom helpers.publish import findings, report\n"
    "gj = json.load(open(os.path.join(os.environ['HELPERS_DATA_DIR'], 'districts.geojson')))\n"
    "name = {f['properties']['district_id']: f['properties']['name_en'] for f in gj['features']}[district_id]",
    "display(report.md('## {name}\\n\\nProfile of **{name}** ({d}).', name=name, d=district_id))",
    "findings.record('district_number', float(district_id[1:]), unit='id')",
]
PROFILE_PARAMS = "district_id = 'D01'"

XSS_NB = [
    ("md", "# Escaping"),
    "import pandas as pd, matplotlib\nmatplotlib.use('module://matplotlib_inline.backend_inline')\n"
    "import matplotlib.pyplot as plt\nfrom helpers.publish import report\n"
    f"name = {XSS!r}",
    "pd.DataFrame({'district': [name], 'n': [50], 'share': [0.5]})",
    "report.md('District **{name}** has a share of {s:.0%}.', name=name, s=0.5)",
    "fig, ax = plt.subplots(figsize=(2, 2)); ax.set_title(name); plt.show()",
    "print(name)",
]

SMALL_N = [
    ("md", "# Small n"),
    "import pandas as pd\nfrom helpers.publish import report\n"
    "df = pd.DataFrame({'district_id': ['D01', 'D02'], 'n': [5, 40], 'estimate': [0.8123, 0.5432]})",
    "report.table(df)",
]
