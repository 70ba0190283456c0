"""Shared test set-up: headless plotting, and the data folder the tests read."""
from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class BuiltSite:
    """The report site built once per test session from the real notebooks and the default data."""

    out: Path
    returncode: int
    log: str

    @property
    def findings_dir(self) -> Path:
        return self.out / "findings"


def _shared(tmp_path_factory, name: str, make) -> dict:
    """Run ``make(folder) -> dict`` (JSON-able) once per test run, under a file lock in the run's shared
    temporary root, and return its result: under pytest-xdist every worker asks, the first one runs it
    and the others reuse what it recorded. ``folder`` is ``<root>/<name>`` (created empty)."""
    import fcntl
    import json

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the root shared by all workers of this run
    done = shared / f"{name}.json"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not done.exists():
                folder = shared / name
                folder.mkdir(exist_ok=True)
                done.write_text(json.dumps(make(folder)))
            return json.loads(done.read_text())
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> BuiltSite:
    """Run ``python -m helpers build --force`` on the default data into a temporary site folder (its cache
    beside it, not in .build-cache/), once per test run (shared by every xdist worker, see :func:`_shared`)."""

    def make(folder: Path) -> dict:
        proc = subprocess.run(
            [sys.executable, "-m", "helpers", "build", "--force", "--out", str(folder / "site"),
             "--cache-dir", str(folder / "cache"), "--progress", "lines"],
            cwd=ROOT, capture_output=True, text=True, timeout=1800,
        )
        return {"out": str(folder / "site"), "returncode": proc.returncode, "log": proc.stdout + proc.stderr}

    res = _shared(tmp_path_factory, "built-site", make)
    return BuiltSite(out=Path(res["out"]), returncode=res["returncode"], log=res["log"])


#: The shape changes combined in the one derived data folder built as a whole site (tests/_derived.py):
#: five districts, three years, a district of a single sub-district, no assessment table, real-data mode.
DERIVED_ARGS = ["--districts", "5", "--years", "2021", "2023", "--shift", "2", "--one-subdistrict", "D03",
                "--drop", "assessment", "--real"]  # 2021-2023 relabelled 2023-2025: a period past the shipped one


def _untracked_state() -> dict:
    """What a build of another data folder must leave alone: the bytes and mtimes of the committed ledger
    (reports/findings/) and of the default site (reports/site/), the names in reports/sites/, and
    ``git status --porcelain``."""
    import hashlib

    files = {}
    for top in ("reports/findings", "reports/site"):
        for p in sorted((ROOT / top).rglob("*")):
            if p.is_file():
                files[p.relative_to(ROOT).as_posix()] = [hashlib.sha256(p.read_bytes()).hexdigest(),
                                                         p.stat().st_mtime_ns]
    sites = sorted(p.name for p in (ROOT / "reports" / "sites").iterdir()) if (ROOT / "reports" / "sites").is_dir() \
        else []
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout
    return {"files": files, "sites": sites, "git_status": status}


@dataclass
class DerivedSite(BuiltSite):
    """The site of a derived data folder (:data:`DERIVED_ARGS`), with the repository's state around its build."""

    data: Path = None
    before: dict = None
    after: dict = None


@pytest.fixture(scope="session")
def derived_site(tmp_path_factory) -> DerivedSite:
    """One data folder derived from the shipped one with several shape changes at once (:data:`DERIVED_ARGS`),
    built by the real build with the real notebooks into a temporary site, once per test run."""

    def make(folder: Path) -> dict:
        data = folder / "city"
        proc = subprocess.run([sys.executable, str(ROOT / "tests" / "_derived.py"), str(data), *DERIVED_ARGS],
                              cwd=ROOT, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            return {"out": str(folder / "site"), "data": str(data), "returncode": -1, "before": {}, "after": {},
                    "log": "tests/_derived.py failed:\n" + proc.stdout + proc.stderr}
        before = _untracked_state()
        env = {k: v for k, v in os.environ.items() if k != "HELPERS_DATA_DIR"}
        proc = subprocess.run(
            [sys.executable, "-m", "helpers", "build", "--data-dir", str(data), "--out", str(folder / "site"),
             "--cache-dir", str(folder / "cache"), "--progress", "lines"],
            cwd=ROOT, capture_output=True, text=True, timeout=1800, env=env,
        )
        return {"out": str(folder / "site"), "data": str(data), "returncode": proc.returncode,
                "log": proc.stdout + proc.stderr, "before": before, "after": _untracked_state()}

    res = _shared(tmp_path_factory, "derived-site", make)
    return DerivedSite(out=Path(res["out"]), returncode=res["returncode"], log=res["log"], data=Path(res["data"]),
                       before=res["before"], after=res["after"])
