"""A fresh clone's build writes no tracked file, says so in its provenance, and two clones build the same bytes.

The "clones" are snapshots of the working tree (tracked and new files, as `git ls-files` lists them)
committed into a new repository, so the test checks the code as it is now; the second is a `git clone`
of the first at another depth of folders. The notebooks are throwaway ones (outside the clones), run
on each clone's default data.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from helpers import paths
from test_build_nbkit import write_nb

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("build-clone")]

FRESH_NB = [
    ("md", "# Districts\n\nThe districts of the default data."),
    "import matplotlib\nmatplotlib.use('module://matplotlib_inline.backend_inline')\n"
    "import matplotlib.pyplot as plt\nfrom helpers.data.load import load_table\nfrom helpers.publish import findings\n"
    "d = load_table('districts')\nfindings.record('districts', len(d), unit='districts')\n"
    "d[['district_id']].head(3)",
    "fig, ax = plt.subplots(figsize=(3, 2)); ax.plot([1, 3, 2]); plt.show()",
]
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
           "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}


def git(cwd, *args) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, check=True,
                          env={**os.environ, **GIT_ENV}).stdout


def snapshot(dest):
    files = git(paths.ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for rel in filter(None, files):
        src = paths.ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "snapshot")
    return dest


def build(clone, nbs, progress="none"):
    env = {k: v for k, v in os.environ.items() if k not in ("HELPERS_DATA_DIR", "PYTHONPATH")}
    return subprocess.run([sys.executable, "-m", "helpers", "build", "--notebooks", str(nbs), "--progress", progress],
                          cwd=clone, env=env, capture_output=True, text=True, timeout=600)


def files(site):
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def test_fresh_clones_build_clean_and_identical(tmp_path):
    nbs = tmp_path / "nbs"
    write_nb(nbs / "10_districts.ipynb", FRESH_NB)
    a = snapshot(tmp_path / "a" / "repo")
    b = tmp_path / "b" / "deeper" / "checkout"
    b.parent.mkdir(parents=True)
    subprocess.run(["git", "clone", "-q", str(a), str(b)], check=True)
    out = subprocess.run([sys.executable, "-c", "import helpers; print(helpers.__file__)"], cwd=a,
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(a / "helpers" / "__init__.py")  # the clone's own code runs
    sites = []
    for clone in (a, b):
        r = build(clone, nbs)
        assert r.returncode == 0, r.stdout + r.stderr
        assert git(clone, "status", "--porcelain") == ""  # no tracked file written, nothing untracked left
        site = clone / "reports" / "site"
        page = (site / "10_districts.html").read_text()
        assert "<th>Code</th><td>git commit <code>" in page and "(clean), committed on " in page
        assert "uncommitted" not in page and "not yet committed" not in page
        assert "Synthetic data." in page and "folder <code>data</code>" in page
        index = (site / "index.html").read_text()
        assert "uncommitted" not in index and "not yet committed" not in index and "the folder <code>data</code>" in index
        assert (site / "findings" / "10_districts.json").exists()
        assert not list(site.rglob(".*"))  # the site alone
        sites.append(files(site))
        assert build(clone, nbs, "lines").stdout.startswith("build: nothing to do")
        assert git(clone, "status", "--porcelain") == ""
    assert sites[0].keys() == sites[1].keys()
    assert [n for n in sites[0] if sites[0][n] != sites[1][n]] == []
