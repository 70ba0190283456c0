"""Throwaway notebooks and data folders for the build tests (no tests here; imported by test_build*.py,
test_browser.py and test_report_safety.py)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
from _fixtures import write_valid_folder
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


def make_data(data_dir: Path, districts=(("D01", "Alpha"), ("D02", XSS)), synthetic: bool = True,
              name: str | None = None) -> Path:
    """A tiny valid data folder (tests/_fixtures.py: 2 districts, every table) with these district names,
    a metadata.json (synthetic or not, a dataset name if given) and one extra file, values.csv."""
    write_valid_folder(data_dir)
    gj = json.loads((data_dir / "districts.geojson").read_text(encoding="utf-8"))
    names = dict(districts)
    for f in gj["features"]:
        p = f["properties"]
        p["name_en"] = p["name_zh"] = names.get(p["district_id"], p["name_en"])
    (data_dir / "districts.geojson").write_text(json.dumps(gj, ensure_ascii=False), encoding="utf-8")
    meta = {"synthetic": synthetic, "study_period": [2018, 2019]}
    if synthetic:
        meta.update(seed=1, generator_version="test")
    if name:
        meta["name"] = name
    (data_dir / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
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

# -- notebooks that write the data behind a table (``$HELPERS_REPORT_ASSETS``) --------------------------------

def assets_nb(report: str, csv_text: str | None, link: str = "table-1.csv") -> list:
    """A report that writes ``csv_text`` as table-1.csv into the assets folder (if given) and links ``link``."""
    write = ("import os\nfolder = os.environ['HELPERS_REPORT_ASSETS']\n"
             f"open(os.path.join(folder, 'table-1.csv'), 'w').write({csv_text!r})\n" if csv_text is not None
             else "import os\n")
    return [("md", f"# Data for download ({report})\n\nA table and the file behind it."),
            write + "from IPython.display import Markdown, display\n"
            f"display(Markdown('Table 1. [Download the data ({link})]({report}/{link})'))"]


GOOD_CSV = "district_id,n,share\nD01,40,0.52\nD02,35,0.48\n"
SMALL_N_CSV = "district_id,n,share\nD01,3,0.9\nD02,35,0.48\n"


# -- processes ----------------------------------------------------------------------------------------------

def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state letter) of a process from /proc, None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    rest = stat[stat.rindex(b")") + 2:].split()
    return int(rest[1]), rest[0].decode()


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, grandchildren, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st:
                children.setdefault(st[0], []).append(int(entry))
    out, stack = [], [pid]
    while stack:
        for c in children.get(stack.pop(), []):
            out.append(c)
            stack.append(c)
    return out


def still_running(pids: list[int]) -> list[int]:
    """The processes of ``pids`` that still run (zombies waiting to be reaped count as ended)."""
    out = []
    for p in pids:
        st = _stat(p)
        if st is not None and st[1] not in ("Z", "X"):
            out.append(p)
    return out


def cmdline(pid: int) -> str:
    try:
        return open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
