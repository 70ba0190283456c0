"""Provenance: what a report was made from (data files, code, environment).

Two audiences:

- **The loader** (:mod:`helpers.data.load`) calls :func:`note_data_read` with the
  path of every data file it opens. Inside a notebook run by the build, each
  call is also appended to the file named by ``$HELPERS_DATA_LOG`` so that the
  build learns which files the report depends on (its cache key and the
  provenance footer list their SHA-256). If nothing is noted, the build falls
  back to every file in the data folder.
- **The build** (:mod:`helpers.publish.build`) uses the hashing, git and version
  functions below. Everything here is standard library only and cheap to
  import, because it runs on the no-change rebuild path.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

#: Environment variable naming the file that collects data reads (set by the build).
ENV_DATA_LOG = "HELPERS_DATA_LOG"
#: Environment variable naming the folder into which a report writes the data behind its
#: tables and figures (CSV files), published beside the page as ``<report>/<file>.csv``.
#: Set by the build for each run to an empty folder; unset in an interactive session.
ENV_REPORT_ASSETS = "HELPERS_REPORT_ASSETS"

#: Packages whose versions are printed in every report's provenance footer.
KEY_PACKAGES: tuple[str, ...] = (
    "numpy", "pandas", "scipy", "statsmodels", "geopandas", "shapely", "pyproj",
    "libpysal", "esda", "matplotlib", "ipykernel", "nbclient", "nbconvert",
)

_READS: dict[str, None] = {}  # insertion-ordered set of resolved paths


def note_data_read(path: str | os.PathLike) -> None:
    """Record that the running notebook read the data file ``path``.

    Call it once per file opened (repeated calls are harmless). Cheap: no
    hashing happens here; the build hashes the files afterwards.
    """
    p = str(Path(path).resolve())
    if p in _READS:
        return
    _READS[p] = None
    log = os.environ.get(ENV_DATA_LOG)
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(p + "\n")


def data_reads() -> list[str]:
    """Resolved paths noted by :func:`note_data_read` in this process, in order."""
    return list(_READS)


def read_data_log(path: str | os.PathLike) -> list[str]:
    """The distinct paths in a ``$HELPERS_DATA_LOG`` file (empty if it does not exist)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    return list(dict.fromkeys(x for x in lines if x.strip()))


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's content."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def data_files(data_dir: str | os.PathLike) -> list[Path]:
    """Every data file in ``data_dir`` (recursively; hidden files and folders skipped), sorted."""
    root = Path(data_dir)
    if not root.is_dir():
        return []
    out = []
    for p in root.rglob("*"):
        rel = p.relative_to(root)
        if any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            continue
        if p.is_file():
            out.append(p)
    return sorted(out, key=lambda p: p.relative_to(root).as_posix())


def tree_hash(root: str | os.PathLike, patterns: tuple[str, ...] = ("*.py",),
              extra_dirs: tuple[str, ...] = ()) -> str:
    """One SHA-256 over the relative paths and contents of files under ``root``.

    ``patterns`` are globbed recursively; every file under each of
    ``extra_dirs`` (relative to ``root``) is included too. ``__pycache__`` is skipped.
    """
    root = Path(root)
    files: set[Path] = set()
    for pat in patterns:
        files.update(root.rglob(pat))
    for d in extra_dirs:
        if (root / d).is_dir():
            files.update(p for p in (root / d).rglob("*") if p.is_file())
    h = hashlib.sha256()
    for p in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
        rel = p.relative_to(root).as_posix()
        if "__pycache__" in rel.split("/") or not p.is_file():
            continue
        h.update(rel.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def files_hash(files, root: str | os.PathLike) -> str:
    """One SHA-256 over the given files' paths (relative to ``root`` when inside it) and contents."""
    root = Path(root)
    h = hashlib.sha256()
    items = []
    for f in files:
        p = Path(f)
        try:
            rel = p.relative_to(root).as_posix()
        except ValueError:
            rel = p.name
        items.append((rel, p))
    for rel, p in sorted(items):
        try:
            data = p.read_bytes()
        except OSError:
            data = b"<missing>"
        h.update(rel.encode() + b"\0" + data + b"\0")
    return h.hexdigest()


def git_info(root: str | os.PathLike) -> dict:
    """``{"commit": <sha or "unknown">, "dirty": bool | None, "date": "YYYY-MM-DD", "date_kind": ...}``
    of the checkout at ``root``.

    ``dirty`` is True when tracked files differ from the commit or untracked,
    non-ignored files exist (``git status --porcelain``). ``date`` is the day (UTC) a report built
    now is dated: the commit's day for a clean checkout (``date_kind`` ``"committed"``), so that two
    builds of the same commit, data and lock give the same bytes (the reproducible-builds
    convention of dating a build by its source), and today for uncommitted changes or outside git
    (``date_kind`` ``"built"``).
    """
    import datetime as _dt

    today = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d")

    def run(*args: str) -> str | None:
        try:
            r = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return None
        return r.stdout if r.returncode == 0 else None

    commit = run("rev-parse", "HEAD")
    if commit is None:
        return {"commit": "unknown", "dirty": None, "date": today, "date_kind": "built"}
    status = run("status", "--porcelain")
    dirty = bool(status and status.strip())
    stamp = run("show", "-s", "--format=%ct", "HEAD")
    if dirty or not (stamp or "").strip().isdigit():
        return {"commit": commit.strip(), "dirty": dirty, "date": today, "date_kind": "built"}
    day = _dt.datetime.fromtimestamp(int(stamp.strip()), _dt.timezone.utc).strftime("%Y-%m-%d")
    return {"commit": commit.strip(), "dirty": dirty, "date": day, "date_kind": "committed"}


def package_versions(names: tuple[str, ...] = KEY_PACKAGES) -> dict[str, str]:
    """Installed versions of ``names`` (``"not installed"`` when absent)."""
    from importlib import metadata

    out = {}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            out[n] = "not installed"
    return out


def python_version() -> str:
    v = sys.version_info
    return f"{v.major}.{v.minor}.{v.micro}"
