"""``python -m helpers build``: execute every notebook and build the HTML report site.

What it does, in order:

1. Discovers ``notebooks/*.ipynb`` (and jupytext ``*.py`` without an
   ``.ipynb``); a notebook whose ``parameters`` cell sets ``district_id`` runs
   once per district (ids from ``helpers.data.load.load_table("districts")``, else
   ``data/districts.geojson``).
2. Computes each report's cache key: SHA-256 of the notebook's inputs, all of
   ``helpers/`` (code and templates), ``requirements.lock``, the parameters and
   the data files the report read last time (every data file if unknown).
   A report whose key matches the manifest (``reports/.cache/manifest.json``)
   and whose HTML exists is not rebuilt (``--force`` rebuilds all).
3. Executes the rest in parallel (one kernel per report, a pool of
   ``--jobs`` worker processes), renders each to one self-contained HTML file,
   checks it (scripts, other hosts, machine paths, disclosure) and replaces the
   old file by rename only when everything passed.
4. Writes ``reports/index.html`` and the findings (``reports/findings/*.json``).

Exit status: 0 when every report is up to date, 1 when any failed, 2 on a usage error.
"""
from __future__ import annotations

import argparse
import fnmatch
import getpass
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from helpers import paths
from helpers.publish import provenance
from helpers.publish.build import plan

DEFAULT_TIMEOUT = 600
KERNEL_CONFIG = """\
# Written by helpers.publish.build: the kernel configuration every report runs with.
c = get_config()  # noqa: F821
c.HistoryManager.hist_file = ":memory:"
# PNG figures without a 'Software' version chunk: identical bytes across builds.
c.InlineBackend.print_figure_kwargs = {"bbox_inches": "tight", "metadata": {"Software": None}}
c.InteractiveShellApp.exec_lines = [
    "import random as _hb_random; _hb_random.seed(0); del _hb_random",
    "try:\\n    import numpy as _hb_np; _hb_np.random.seed(0); del _hb_np\\nexcept ImportError:\\n    pass",
]
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m helpers build",
        description="Execute every notebook in notebooks/ (and the district profile once per district) "
                    "in parallel and render each to one self-contained HTML file in reports/, with a "
                    "provenance footer, plus reports/index.html. Only reports whose inputs changed "
                    "(notebook, helpers/ source, data files read, requirements.lock, parameters) are "
                    "rebuilt.",
        epilog="Exit status: 0 all reports up to date; 1 some report failed (its last good HTML is kept, "
               "the error is on the index page); 2 usage error. Examples: 'python -m helpers build', "
               "'python -m helpers build --force --jobs 2', "
               "'python -m helpers build --only \"district_profile-*\"', 'python -m helpers build --list'.",
    )
    p.add_argument("--force", action="store_true", help="rebuild every report even if its inputs did not change")
    p.add_argument("--jobs", "-j", type=int, default=0, metavar="N",
                   help="reports built at once (default: the number of CPU cores)")
    p.add_argument("--only", action="append", default=[], metavar="GLOB",
                   help="build only reports whose name matches GLOB (repeatable), e.g. '10_*' or "
                        "'district_profile-D03'; the index still lists every report")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"wall-clock limit per report (default {DEFAULT_TIMEOUT})")
    p.add_argument("--fresh-kernels", action="store_true",
                   help="start a new kernel for every report; by default the runs of a parameterised notebook "
                        "(one per district) share a warm kernel per worker, reset between runs (%%reset -f, "
                        "seeds, registries), so imports and data loading are paid once per worker")
    p.add_argument("--list", action="store_true", dest="list_only",
                   help="list the reports and whether each is up to date, build nothing")
    p.add_argument("--progress", choices=("auto", "live", "lines", "none"), default="auto",
                   help="live table on a terminal, one line per change in logs (default auto)")
    p.add_argument("--notebooks", type=Path, default=paths.NOTEBOOKS_DIR, metavar="DIR",
                   help="folder of notebooks (default notebooks/)")
    p.add_argument("--out", type=Path, default=paths.REPORTS_DIR, metavar="DIR",
                   help="output folder for the HTML site (default reports/)")
    p.add_argument("--findings-dir", type=Path, default=None, metavar="DIR",
                   help="where findings JSON files are written (default OUT/findings)")
    p.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                   help="data folder (default $HELPERS_DATA_DIR or data/)")
    return p


# ---------------------------------------------------------------------------
# helpers of main
# ---------------------------------------------------------------------------

def _disclosure_k() -> int:
    """k from helpers/publish/disclosure.py, read without importing it (it imports pandas)."""
    import re

    try:
        text = (paths.ROOT / "helpers" / "publish" / "disclosure.py").read_text(encoding="utf-8")
        m = re.search(r"^MIN_RESPONDENTS\s*(?::\s*int\s*)?=\s*(\d+)", text, re.M)
        if m:
            return int(m.group(1))
    except OSError:
        pass
    return 10


def _synthetic(data_dir: Path) -> dict:
    """Banner context from data/metadata.json (or ground_truth.json)."""
    for name in ("metadata.json", "ground_truth.json"):
        try:
            doc = json.loads((data_dir / name).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(doc, dict) and "synthetic" in doc:
            gen = doc.get("generator_version") or doc.get("generator")
            seed = doc.get("seed")
            label = ", ".join(x for x in (f"generator {gen}" if gen else "", f"seed {seed}" if seed is not None else "") if x)
            return {"synthetic": bool(doc["synthetic"]), "generator": label}
    return {"synthetic": False, "generator": ""}


def load_districts(data_dir: Path) -> list[dict]:
    """``[{"district_id", "name"}]`` sorted by id, from helpers.data.load or the GeoJSON file."""
    df = None
    try:
        from helpers.data.load import load_table  # written by the data team; may not exist yet
    except ImportError:
        load_table = None
    if load_table is not None:
        try:
            df = load_table("districts", data_dir=data_dir)
        except TypeError:
            if Path(data_dir).resolve() == Path(paths.DATA_DIR).resolve():
                df = load_table("districts")
    if df is None:
        import geopandas

        df = geopandas.read_file(data_dir / "districts.geojson")
    out = []
    for _, row in df.iterrows():
        did = str(row["district_id"])
        names = [str(row[c]) for c in ("name_en", "name_zh") if c in row and row[c] == row[c] and row[c] is not None]
        names = list(dict.fromkeys(names))
        out.append({"district_id": did, "name": " ".join(names) if names else did})
    return sorted(out, key=lambda d: d["district_id"])


def _districts_cached(manifest: dict, data_dir: Path, hasher: plan.Hasher) -> list[dict]:
    from helpers.data.schema import TABLES

    f = data_dir / TABLES["districts"].file
    loader = [paths.ROOT / "helpers" / n for n in ("load.py", "schema.py", "validate.py", "paths.py")]
    key = f"{hasher.file(f)}:{provenance.files_hash([p for p in loader if p.exists()], paths.ROOT)}"
    cached = manifest.get("districts")
    if cached and cached.get("key") == key:
        return cached["items"]
    items = load_districts(data_dir)
    manifest["districts"] = {"key": key, "items": items}
    return items


def _forbidden_strings(root: Path, data_dir: Path, out_dir: Path, notebooks_dir: Path) -> dict[str, str]:
    home = str(Path.home())
    out = {str(root): "the repository's absolute path", home: "the home folder",
           str(data_dir.resolve()): "the data folder's absolute path",
           str(out_dir.resolve()): "the output folder's absolute path",
           str(notebooks_dir.resolve()): "the notebooks folder's absolute path",
           "/home/": "a home folder path", "/Users/": "a home folder path"}
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001
        user = ""
    if user and len(user) >= 3 and user not in {"root", "user", "runner", "admin", "jovyan", "ubuntu", "debian"}:
        out[user] = "the user name"
    return {k: v for k, v in out.items() if k and k != "/"}


def _path_replacements(root: Path, data_dir: Path, notebooks_dir: Path) -> dict[str, str]:
    reps = {str(root): ".", str(Path.home()): "~"}
    data_dir, notebooks_dir = data_dir.resolve(), notebooks_dir.resolve()
    if not str(data_dir).startswith(str(root) + os.sep):
        reps[str(data_dir)] = "data"
    if not str(notebooks_dir).startswith(str(root) + os.sep):
        reps[str(notebooks_dir)] = "notebooks"
    reps[str(Path(tempfile.gettempdir()).resolve())] = "$TMPDIR"
    return reps


def _sanitize_text(text: str, reps: dict[str, str]) -> str:
    from helpers.publish.build.render import _sub_paths, path_replacements

    return _sub_paths(text, path_replacements(reps))


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    t_start = time.monotonic()
    root = paths.ROOT
    notebooks_dir = args.notebooks.resolve()
    out_dir = args.out.resolve()
    findings_dir = (args.findings_dir or out_dir / "findings").resolve()
    data_dir = (args.data_dir or Path(os.environ.get("HELPERS_DATA_DIR", paths.DATA_DIR))).resolve()
    cache_dir = out_dir / ".cache"
    jobs = args.jobs or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()) or 1
    if not notebooks_dir.is_dir():
        print(f"build: notebooks folder {notebooks_dir} does not exist", file=sys.stderr)
        return 2

    lock = _lock(cache_dir)
    if lock is None:
        print(f"build: another build is writing {out_dir} (lock {cache_dir / 'build.lock'}); try again when it "
              "has finished", file=sys.stderr)
        return 2
    try:
        return _build(args, t_start, root, notebooks_dir, out_dir, findings_dir, data_dir, cache_dir, jobs)
    finally:
        lock.close()  # closing the file releases the lock


def _build(args, t_start, root, notebooks_dir, out_dir, findings_dir, data_dir, cache_dir, jobs) -> int:
    manifest_path = cache_dir / "manifest.json"
    manifest = plan.load_manifest(manifest_path)
    prev = manifest["reports"]
    hasher = plan.Hasher()
    helpers_dir = root / "helpers"
    publish_dir = helpers_dir / "publish"
    helpers_hash = provenance.tree_hash(helpers_dir, ("*.py",), extra_dirs=("publish/templates",))
    core_files = [*publish_dir.joinpath("build").rglob("*.py"), *publish_dir.joinpath("templates").rglob("*"),
                  *helpers_dir.rglob("*.yaml"), *helpers_dir.rglob("*.yml"),
                  *(helpers_dir / n for n in ("__init__.py", "paths.py")),
                  *(publish_dir / n for n in ("__init__.py", "findings.py", "provenance.py", "report.py"))]
    core_hash = provenance.files_hash([p for p in core_files if p.is_file() and "__pycache__" not in p.parts], root)

    def key_parts(r: dict, used: list[str] | None, reads: list[str]) -> dict:
        """Everything a report depends on, as hashes: the notebook's inputs, its parameters, the build code
        and templates, the helpers modules it imported last time (all of helpers/ if unknown),
        requirements.lock, the data files it read last time (all data files if unknown), the settings."""
        return {"name": r["name"], "notebook": r["nb"].input_hash, "params": r["params"], "core": core_hash,
                "helpers": ({u: hasher.file(root / u) for u in used} if used else {"helpers/**": helpers_hash}),
                "lock": lock_hash, "data": {x: hasher.file(x) for x in reads}, "settings": settings}
    lock_hash = hasher.file(root / "requirements.lock")
    k = _disclosure_k()
    banner = _synthetic(data_dir)
    all_data = [str(p) for p in provenance.data_files(data_dir)]
    settings = {"k": k, "synthetic": banner, "format": plan.BUILD_FORMAT}

    # -- plan ----------------------------------------------------------------
    notebooks = plan.discover(notebooks_dir)
    reports: list[dict] = []
    setup_errors: dict[str, dict] = {}
    for nb in notebooks:
        title, summary = nb.title_and_summary()
        if not nb.per_district:
            reports.append({"name": nb.stem, "nb": nb, "params": {}, "title": title, "summary": summary,
                            "display_params": dict(nb.defaults), "group": None})
            continue
        try:
            districts = _districts_cached(manifest, data_dir, hasher)
        except Exception as exc:  # noqa: BLE001
            setup_errors[nb.stem] = {"cell": None, "source": "",
                                     "message": f"cannot list the districts: {type(exc).__name__}: {exc}"}
            reports.append({"name": nb.stem, "nb": nb, "params": {}, "title": title, "summary": summary,
                            "display_params": {}, "group": nb.stem, "group_title": title})
            continue
        for d in districts:
            params = {plan.DISTRICT_PARAM: d["district_id"]}
            reports.append({"name": f"{nb.stem}-{plan.slug(d['district_id'])}", "nb": nb, "params": params,
                            "title": f"{title}: {d['name']}", "summary": summary, "display_params": params,
                            "group": nb.stem, "group_title": title})
    for r in reports:
        r["href"] = f"{r['name']}.html"
        r["out_html"] = out_dir / r["href"]
        p = prev.get(r["name"], {})
        r["parts"] = key_parts(r, p.get("helpers_used"), p.get("data_read") or all_data)
        r["key"] = plan.cache_key(r["parts"])
        r["cached"] = (not args.force and r["name"] not in setup_errors and p.get("status") == "done"
                       and p.get("key") == r["key"] and r["out_html"].exists())
        if r["name"] in setup_errors:
            r["why"] = "cannot list the districts"
        elif p.get("status") == "failed":
            r["why"] = "failed last time"
        elif p.get("key") == r["key"] and not r["out_html"].exists():
            r["why"] = "its HTML file is missing"
        else:
            r["why"] = "" if r["cached"] else plan.why_rebuild(p.get("key_parts"), r["parts"])
        r["selected"] = not args.only or any(fnmatch.fnmatchcase(r["name"], g) for g in args.only)

    if args.list_only:
        w = max([len(r["name"]) for r in reports] + [6])
        for r in reports:
            state = "up to date" if r["cached"] else "to build"
            why = f"  ({r['why']})" if r["why"] else ""
            print(f"{r['name']:<{w}}  {state:<10}  {r['nb'].path.name}  {json.dumps(r['display_params'])}{why}")
        return 0

    todo = [r for r in reports if r["selected"] and not r["cached"] and r["name"] not in setup_errors]
    git = manifest.get("git") or {"commit": "unknown", "dirty": None}
    results: dict[str, dict] = {}
    if todo:
        git = provenance.git_info(root)
        results = _run(todo, reports, args, jobs=jobs, root=root, notebooks_dir=notebooks_dir, out_dir=out_dir,
                       findings_dir=findings_dir, data_dir=data_dir, cache_dir=cache_dir, git=git,
                       helpers_hash=helpers_hash, lock_hash=lock_hash, k=k, banner=banner, prev=prev)
    elif reports and args.progress != "none":
        n_cached = sum(1 for r in reports if r["cached"] and r["selected"])
        print(f"build: nothing to do; {n_cached} report(s) up to date (use --force to rebuild)")

    # -- update the manifest -------------------------------------------------
    reps = _path_replacements(root, data_dir, notebooks_dir)
    new_reports = {}
    for r in reports:
        name = r["name"]
        entry = dict(prev.get(name, {}))
        if name in setup_errors:
            err = dict(setup_errors[name])
            err["message"] = _sanitize_text(err.get("message", ""), reps)
            entry.update(status="failed", error=err)
        elif name in results:
            res = results[name]
            if res["status"] == "done":
                used = []
                for u in res.get("helpers_used", []):
                    try:
                        used.append(Path(u).relative_to(root).as_posix())
                    except ValueError:
                        pass
                parts = key_parts(r, used, res["data_read"] or all_data)
                entry.update(status="done", error=None, data_read=res["data_read"], findings=res["findings"],
                             helpers_used=used, key_parts=parts, key=plan.cache_key(parts),
                             execute_seconds=res.get("execute_seconds"),
                             duration=round(res["duration"], 2), commit=git)
            else:
                err = dict(res["error"] or {})
                for f in ("message", "detail", "source"):
                    if err.get(f):
                        err[f] = _sanitize_text(err[f], reps)
                entry.update(status="failed", error=err, duration=round(res["duration"], 2))
        new_reports[name] = entry
    # reports that no longer exist: remove what this build wrote for them
    for gone in set(prev) - set(new_reports):
        for f in (out_dir / f"{gone}.html", findings_dir / f"{gone}.json"):
            if prev[gone].get("status") and f.exists() and f.parent in (out_dir, findings_dir):
                f.unlink()
    manifest["reports"] = new_reports
    manifest["git"] = git if todo else manifest.get("git", git)

    # -- index ---------------------------------------------------------------
    index_problems = _write_index(reports, new_reports, out_dir, findings_dir, git, lock_hash, banner, k,
                                  _forbidden_strings(root, data_dir, out_dir, notebooks_dir), manifest, core_hash)
    plan.save_manifest(manifest_path, manifest)

    # -- summary -------------------------------------------------------------
    failed = [r["name"] for r in reports if new_reports[r["name"]].get("status") == "failed"
              and (r["selected"] or r["name"] in setup_errors)]
    built = [n for n, res in results.items() if res["status"] == "done"]
    for n in failed:
        err = new_reports[n].get("error") or {}
        where = f"code cell {err['cell']}" + (f" ({err['source']})" if err.get("source") else "") if err.get("cell") else ""
        print(f"FAILED {n}: {where + ': ' if where else ''}{err.get('message', '')}", file=sys.stderr)
        if err.get("detail"):
            print("  " + err["detail"].replace("\n", "\n  "), file=sys.stderr)
    for res in results.values():
        for w in res.get("warnings", []):
            print(f"warning: {res['name']}: {w}", file=sys.stderr)
    for prob in index_problems:
        print(f"FAILED index.html: {prob}", file=sys.stderr)
    if args.progress != "none" and (todo or failed):
        n_cached = sum(1 for r in reports if r["cached"] and r["selected"])
        print(f"build: {len(built)} built, {n_cached} cached, {len(failed)} failed in "
              f"{time.monotonic() - t_start:.1f}s -> {_rel(out_dir / 'index.html')}")
    return 1 if failed or index_problems else 0


def _lock(cache_dir: Path):
    """An exclusive, non-blocking lock on the output folder (None if another build holds it)."""
    import fcntl

    cache_dir.mkdir(parents=True, exist_ok=True)
    fh = open(cache_dir / "build.lock", "w")  # noqa: SIM115 - closed by the caller
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        return None
    return fh


def _rel(p: Path) -> str:
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        return str(p)


def _write_index(reports, entries, out_dir, findings_dir, git, lock_hash, banner, k, forbidden,
                 manifest=None, core_hash="") -> list[str]:
    """Render and check reports/index.html; skipped when none of its inputs changed."""
    from helpers.publish import findings as findings_mod

    rows = []
    findings_by_report = {}
    for r in reports:
        e = entries[r["name"]]
        rows.append({"name": r["name"], "href": r["href"], "title": r["title"], "summary": r["summary"],
                     "parameters": r["display_params"], "group": r["group"], "group_title": r.get("group_title"),
                     "status": e.get("status"), "error": e.get("error")})
        f = findings_dir / f"{r['name']}.json"
        if f.exists():
            try:
                findings_by_report[r["name"]] = findings_mod.load(f)
            except (OSError, ValueError):
                pass
    target = out_dir / "index.html"
    state = provenance.sha256_bytes(json.dumps(
        [rows, findings_by_report, git, lock_hash, banner, k, core_hash,
         [(out_dir / r["href"]).exists() for r in rows]], sort_keys=True, default=str).encode())
    if manifest is not None:
        if target.exists() and manifest.get("index_state") == state:
            return []
        manifest["index_state"] = state
    from helpers.publish.build import render, site

    page = site.render_index(entries=rows, out_dir=out_dir, git=git, lock_hash=lock_hash,
                             synthetic=banner["synthetic"], k=k, findings_by_report=findings_by_report)
    problems = render.check_html(page, forbidden)
    if problems:
        if manifest is not None:
            manifest.pop("index_state", None)
        return problems
    if not target.exists() or target.read_text(encoding="utf-8") != page:
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".index.html.{os.getpid()}.tmp")
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, target)
    return []


def _run(todo, reports, args, *, jobs, root, notebooks_dir, out_dir, findings_dir, data_dir, cache_dir, git,
         helpers_hash, lock_hash, k, banner, prev) -> dict[str, dict]:
    """Build ``todo`` in a process pool with a progress display; return results by name."""
    import multiprocessing as mp
    import queue as queue_mod
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    from helpers.publish.build.progress import Progress
    from helpers.publish.report import N_COLUMNS

    ipython_dir = cache_dir / "ipython"
    cfg = ipython_dir / "profile_default" / "ipython_kernel_config.py"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    if not cfg.exists() or cfg.read_text() != KERNEL_CONFIG:
        cfg.write_text(KERNEL_CONFIG)
    pythonpath = os.pathsep.join([str(root)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    env = {"PYTHONPATH": pythonpath,
           # one BLAS/OpenMP thread per kernel: the pool already uses the cores (no oversubscription), and
           # single-threaded reductions give the same last bits on every run
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "NUMEXPR_NUM_THREADS": "1", "PYTHONHASHSEED": "0", "IPYTHONDIR": str(ipython_dir),
           "HELPERS_DATA_DIR": str(data_dir), "PYDEVD_DISABLE_FILE_VALIDATION": "1",
           "SOURCE_DATE_EPOCH": "0", "TZ": "UTC",
           # figures display inline even when the caller set MPLBACKEND (e.g. Agg in the tests)
           "MPLBACKEND": "module://matplotlib_inline.backend_inline",
           # the environment's own "python3" kernel, not one a user registered in ~/.local/share/jupyter
           "JUPYTER_PATH": os.pathsep.join([str(Path(sys.prefix) / "share" / "jupyter")]
                                           + [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p])}
    versions = provenance.package_versions()
    reps = _path_replacements(root, data_dir, notebooks_dir)
    forbidden = _forbidden_strings(root, data_dir, out_dir, notebooks_dir)
    # longest first (last known duration) so the pool finishes together
    todo = sorted(todo, key=lambda r: -float(prev.get(r["name"], {}).get("duration", 1e9)))
    tasks = []
    for r in todo:
        nbp = r["nb"].path
        try:
            nb_display = nbp.relative_to(root).as_posix()
        except ValueError:
            nb_display = f"notebooks/{nbp.name}"
        tasks.append({
            "name": r["name"], "notebook": str(nbp), "notebook_display": nb_display, "params": r["params"],
            "cwd": str(nbp.parent), "timeout": args.timeout, "env": env, "staging_dir": str(cache_dir / "staging" / r["name"]),
            "findings_dir": str(findings_dir), "out_html": str(r["out_html"]), "title": r["title"],
            "root": str(root), "data_dir": str(data_dir), "git": git, "lock_hash": lock_hash,
            "helpers_hash": helpers_hash, "python": provenance.python_version(), "versions": versions, "k": k,
            "reuse_kernel": bool(r["params"]) and not args.fresh_kernels,
            "n_columns": list(N_COLUMNS), "banner": banner, "path_replacements": reps, "forbidden": forbidden,
        })
    names = [r["name"] for r in reports if r["selected"]]
    progress = Progress(names, mode=args.progress if args.progress != "none" else "none")
    for r in reports:
        if r["selected"] and r["cached"]:
            progress.set(r["name"], "cached", duration=0.0)
    results: dict[str, dict] = {}
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    from helpers.publish.build import worker

    def drain():
        while True:
            try:
                name, state, _ = q.get_nowait()
            except (queue_mod.Empty, OSError, EOFError):
                return
            if name not in results:
                progress.set(name, state)

    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=ctx,
                             initializer=worker.init_worker, initargs=(q,)) as pool:
        futures = {pool.submit(worker.build_report, t): t["name"] for t in tasks}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            drain()
            for fut in done:
                name = futures[fut]
                try:
                    res = fut.result()
                except BrokenProcessPool as exc:
                    res = {"name": name, "status": "failed", "duration": 0.0, "warnings": [],
                           "error": {"cell": None, "source": "", "message": f"worker process died: {exc}"}}
                except Exception as exc:  # noqa: BLE001
                    res = {"name": name, "status": "failed", "duration": 0.0, "warnings": [],
                           "error": {"cell": None, "source": "", "message": f"{type(exc).__name__}: {exc}"}}
                results[name] = res
                progress.set(name, "done" if res["status"] == "done" else "failed", duration=res["duration"])
            progress.tick()
    progress.close()
    q.close()
    return results
