"""``python -m helpers build``: execute the notebooks on one data folder and publish them as a site.

What it does, in order:

1. **Checks what it was given.** The data folder (``--data-dir``, else
   ``$HELPERS_DATA_DIR``, else ``data/``) is validated against the data contract
   (:func:`helpers.data.validate.validate_dir`; cached while the data are
   unchanged); when it breaks the contract the build prints the validator's
   lines and stops (exit 1) before executing anything. The output folder must
   be a folder it can write; ``--param`` names must be defined by some
   notebook's ``parameters`` cell.
2. **Plans.** Every ``notebooks/*.ipynb`` (and jupytext ``*.py`` without an
   ``.ipynb``) is a report; a notebook whose ``parameters`` cell sets
   ``district_id`` runs once per district. A study whose tables the data folder
   lacks (:data:`helpers.studies.REQUIRES`, :func:`helpers.data.load.available_tables`)
   is skipped and shown so on the index. Each report's cache key is the SHA-256
   of its inputs: the notebook, the ``helpers`` modules it imported last time,
   the build code and templates, ``requirements.lock``, its parameters and the
   data files it read last time; a report whose key matches the manifest is not
   rebuilt (``--force`` rebuilds all).
3. **Runs** the rest on ``--jobs`` worker processes (one kernel per report;
   the runs of a per-district notebook share a warm kernel per worker), renders
   each to one self-contained HTML file, checks it (scripts, other hosts,
   machine paths, disclosure control; the same for the CSV files it wrote into
   ``$HELPERS_REPORT_ASSETS``) and publishes page, data files and findings by
   rename. The manifest is saved after every report, so an interrupted build
   keeps what finished.
4. **Writes the index** (``<site>/index.html``).

The site (``--out``; default ``reports/site/`` for the default data and
``reports/sites/<name of the data folder>/`` for any other) holds the site
alone::

    index.html                 every report, its state, the headline findings
    <report>.html              one self-contained page per report
    <report>/<file>.csv        the data behind its tables and figures (when it wrote any)
    findings/<report>.json     its recorded findings
    errors/<report>.txt        the full traceback of a report that failed

The manifest, kernels' scratch files and the lock live outside it, in
``.build-cache/<site>/`` (``--cache-dir``). The build writes no tracked file: the
committed findings ledger ``reports/findings/`` changes only through
``python -m helpers findings --update``.

Ctrl-C or SIGTERM stops the build within seconds (workers and kernels end;
finished reports stay published and cached); workers and kernels also die with
the build if it is killed (:mod:`helpers.publish.build.lifeline`).

Exit status: 0 every applicable report is up to date; 1 a report failed or the
data break the contract; 2 usage error; 130 interrupted (128 + the signal).
"""
from __future__ import annotations

import argparse
import fnmatch
import getpass
import json
import os
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

from helpers import paths
from helpers.publish import provenance
from helpers.publish.build import inputs, plan
from helpers.publish.build.inputs import UsageError

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
        description="Check the data folder, then execute every notebook in notebooks/ (the district profile "
                    "once per district) in parallel and publish each as one self-contained HTML page, with "
                    "the data behind its tables and figures and its findings, in a site of that data folder: "
                    "reports/site/ for the default data, reports/sites/NAME/ for a data folder named NAME. "
                    "Only reports whose inputs changed (notebook, helpers modules, data files read, "
                    "requirements.lock, parameters) are rebuilt.",
        epilog="Exit status: 0 every applicable report is up to date; 1 a report failed (its error is on the "
               "index page, its traceback in SITE/errors/) or the data folder breaks the data contract; 2 usage "
               "error; 128 + the signal when interrupted (130 for Ctrl-C). Examples: 'python -m helpers build'; "
               "'python -m helpers build --data-dir ~/my_city --param year=2023'; "
               "'python -m helpers build --only \"district_profile-*\"'; 'python -m helpers build --list'.",
    )
    p.add_argument("--data-dir", default=None, metavar="DIR",
                   help="data folder (default $HELPERS_DATA_DIR, else data/)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="the site's folder (default reports/site/ for the default data, reports/sites/NAME/ for "
                        "a data folder named NAME)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="set a parameter of every notebook whose parameters cell defines NAME (repeatable); "
                        "VALUE is read as a Python literal (2023, 0.5, 'text'; other text is a string), e.g. "
                        "--param year=2023")
    p.add_argument("--force", action="store_true", help="rebuild every report even if its inputs did not change")
    p.add_argument("--jobs", "-j", type=int, default=0, metavar="N",
                   help="reports built at once (default: the number of CPU cores)")
    p.add_argument("--only", action="append", default=[], metavar="GLOB",
                   help="build only reports whose name matches GLOB (repeatable), e.g. '01_*' or "
                        "'district_profile-D03'; the index still lists every report")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"wall-clock limit per report (default {DEFAULT_TIMEOUT})")
    p.add_argument("--fresh-kernels", action="store_true",
                   help="start a new kernel for every report; by default the runs of a parameterised notebook "
                        "(one per district) share a warm kernel per worker, reset between runs (%%reset -f, "
                        "seeds, registries), so imports and data loading are paid once per worker")
    p.add_argument("--list", action="store_true", dest="list_only",
                   help="list the reports and whether each is up to date (and why not), build nothing")
    p.add_argument("--progress", choices=("auto", "live", "lines", "none"), default="auto",
                   help="live table on a terminal, one line per change in logs (default auto)")
    p.add_argument("--notebooks", default=str(paths.NOTEBOOKS_DIR), metavar="DIR",
                   help="folder of notebooks (default notebooks/)")
    p.add_argument("--cache-dir", default=None, metavar="DIR",
                   help="where the build keeps its manifest, lock and scratch files (default "
                        ".build-cache/SITE/; never inside the site)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _main(args)
    except UsageError as e:
        print(f"build: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("build: interrupted; nothing was being built", file=sys.stderr)
        return 130


# ---------------------------------------------------------------------------
# helpers of main
# ---------------------------------------------------------------------------

def _disclosure_k() -> int:
    """k from helpers/publish/disclosure.py, read without importing it (it imports pandas)."""
    text = (paths.ROOT / "helpers" / "publish" / "disclosure.py").read_text(encoding="utf-8")
    m = re.search(r"^MIN_RESPONDENTS\s*(?::\s*int\s*)?=\s*(\d+)", text, re.M)
    if not m:
        raise RuntimeError("helpers/publish/disclosure.py no longer sets MIN_RESPONDENTS = <int>")
    return int(m.group(1))


def _forbidden_strings(data: inputs.DataFolder, out_dir: Path, notebooks_dir: Path) -> dict[str, str]:
    """Strings no published file may contain: machine paths and the user name."""
    out = {str(paths.ROOT): "the repository's absolute path", str(Path.home()): "the home folder",
           str(out_dir): "the output folder's absolute path",
           str(notebooks_dir): "the notebooks folder's absolute path",
           "/home/": "a home folder path", "/Users/": "a home folder path"}
    if not os.path.isabs(data.display):  # a folder given by its absolute path is shown as given
        out[str(data.path)] = "the data folder's absolute path"
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001
        user = ""
    if user and len(user) >= 3 and user not in {"root", "user", "runner", "admin", "jovyan", "ubuntu", "debian"}:
        out[user] = "the user name"
    return {k: v for k, v in out.items() if k and k != "/"}


def _path_replacements(data: inputs.DataFolder, notebooks_dir: Path) -> dict[str, str]:
    """Absolute paths in notebook outputs and tracebacks, and what replaces each."""
    root = paths.ROOT.resolve()
    reps = {str(root): ".", str(Path.home()): "~"}
    if root not in data.path.parents:
        reps[str(data.path)] = data.display
    if root not in notebooks_dir.parents:
        reps[str(notebooks_dir)] = "notebooks"
    prefix = Path(sys.prefix).resolve()
    if root not in prefix.parents:
        reps[str(prefix)] = "<python environment>"
    reps[str(Path(tempfile.gettempdir()).resolve())] = "$TMPDIR"
    return reps


def _sanitize(text: str, reps: dict[str, str]) -> str:
    from helpers.publish.build.render import _sub_paths, path_replacements

    return _sub_paths(text, path_replacements(reps))


def _lock(cache_dir: Path):
    """An exclusive, non-blocking lock on the site (None if another build holds it)."""
    import fcntl

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


def _remove_outputs(out_dir: Path, name: str) -> None:
    """Remove what the build published for report ``name`` (page, data files, findings, error file)."""
    for f in (out_dir / f"{name}.html", out_dir / "findings" / f"{name}.json", out_dir / "errors" / f"{name}.txt"):
        if f.is_file():
            f.unlink()
    if (out_dir / name).is_dir():
        from helpers.publish.build.worker import publish_dir

        publish_dir(None, out_dir / name)


def _remove_leftovers(out_dir: Path) -> None:
    """Temporary files of a build that was killed while publishing (``.NAME.PID.tmp``)."""
    import shutil

    for d in (out_dir, out_dir / "findings", out_dir / "errors"):
        if not d.is_dir():
            continue
        for p in d.iterdir():
            if p.name.startswith(".") and p.name.endswith(".tmp"):
                if p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------

def _main(args) -> int:
    t_start = time.monotonic()
    notebooks_dir = Path(args.notebooks).expanduser().resolve()
    if not notebooks_dir.is_dir():
        raise UsageError(f"notebooks folder {args.notebooks} does not exist")
    data = inputs.data_folder(args.data_dir)
    user_params = inputs.parse_params(args.param)
    out_dir, out_shown = inputs.out_folder(args.out, data)
    inputs.check_out(out_dir, out_shown, data, notebooks_dir, create=not args.list_only)
    cache_dir = inputs.cache_folder(args.cache_dir, out_dir)
    if cache_dir == out_dir or out_dir in cache_dir.parents:
        raise UsageError(f"--cache-dir {args.cache_dir} is inside the site {out_shown}; keep it outside")
    inputs.prepare_cache(cache_dir)
    lock = _lock(cache_dir)
    if lock is None:
        raise UsageError(f"another build is writing {out_shown}; try again when it has finished")
    try:
        return Build(args, t_start, notebooks_dir, data, user_params, out_dir, out_shown, cache_dir).run()
    finally:
        lock.close()  # closing the file releases the lock


class Build:
    """One run of the build (see the module docstring)."""

    def __init__(self, args, t_start, notebooks_dir, data, user_params, out_dir, out_shown, cache_dir):
        self.args, self.t_start = args, t_start
        self.notebooks_dir, self.data, self.user_params = notebooks_dir, data, user_params
        self.out_dir, self.out_shown, self.cache_dir = out_dir, out_shown, cache_dir
        self.root = paths.ROOT
        self.manifest_path = cache_dir / "manifest.json"
        self.manifest = plan.load_manifest(self.manifest_path)
        self.hasher = plan.Hasher()
        self.quiet = args.progress == "none"
        self.skipped: dict[str, str] = {}  # set by _plan

    # -- inputs --------------------------------------------------------------
    def _hashes(self) -> None:
        root, helpers_dir = self.root, self.root / "helpers"
        publish_dir = helpers_dir / "publish"
        self.helpers_hash = provenance.tree_hash(helpers_dir, ("*.py",), extra_dirs=("publish/templates",))
        core_files = [*publish_dir.joinpath("build").rglob("*.py"), *publish_dir.joinpath("templates").rglob("*"),
                      *helpers_dir.rglob("*.yaml"), *helpers_dir.rglob("*.yml"),
                      *(helpers_dir / n for n in ("__init__.py", "paths.py")),
                      *(publish_dir / n for n in ("__init__.py", "findings.py", "fmt.py", "provenance.py",
                                                   "report.py"))]
        self.core_hash = provenance.files_hash(
            [p for p in core_files if p.is_file() and "__pycache__" not in p.parts], root)
        self.lock_hash = self.hasher.file(root / "requirements.lock")
        self.k = _disclosure_k()

    def _check_data(self) -> dict | None:
        files = provenance.data_files(self.data.path)
        self.all_data = [str(p) for p in files]
        hashes = {p.relative_to(self.data.path).as_posix(): self.hasher.file(p) for p in files}
        check = inputs.check_data(self.data, hashes, self.manifest)
        if not check["ok"]:
            plan.save_manifest(self.manifest_path, self.manifest)
            print(check["report"], file=sys.stderr)
            print(f"build: error: the data folder {self.data.given} breaks the data contract (problems above); "
                  f"nothing was built. Check it with: python -m helpers validate {self.data.given}", file=sys.stderr)
            return None
        return check

    def _key_parts(self, r: dict, used: list[str] | None, reads: list[str]) -> dict:
        """Everything a report depends on, as hashes: the notebook's inputs, its parameters, the build code
        and templates, the helpers modules it imported last time (all of helpers/ if unknown),
        requirements.lock, the data files it read last time (all data files if unknown), the settings (with
        the reports skipped on this data, when there are any: links to them point at the index instead)."""
        settings = {"k": self.k, "data": self.meta, "format": plan.BUILD_FORMAT}
        if self.skipped:
            settings["skipped"] = sorted(self.skipped)
        return {"name": r["name"], "notebook": r["nb"].input_hash, "params": r["params"], "core": self.core_hash,
                "helpers": ({u: self.hasher.file(self.root / u) for u in used} if used
                            else {"helpers/**": self.helpers_hash}),
                "lock": self.lock_hash, "data": {x: self.hasher.file(x) for x in reads},
                "settings": settings}

    # -- plan ----------------------------------------------------------------
    def _plan(self, available: set[str]) -> list[dict]:
        from helpers.data.schema import TABLES
        from helpers.studies import REQUIRES

        notebooks = plan.discover(self.notebooks_dir)
        for nb in notebooks:
            if nb.stem in inputs.RESERVED_NAMES:
                raise UsageError(f"notebook {nb.path.name}: '{nb.stem}' is the name of a part of the site; "
                                 "rename the notebook")
        for name in self.user_params:
            if name == plan.DISTRICT_PARAM:
                raise UsageError(f"--param {name}: the build runs the district profile once per district; "
                                 f"to build one district use --only 'district_profile-D01'")
            if not any(name in nb.defaults for nb in notebooks):
                defined = sorted({k for nb in notebooks for k in nb.defaults} - {plan.DISTRICT_PARAM})
                raise UsageError(f"--param {name}: no notebook's parameters cell defines {name!r} "
                                 f"(parameters defined: {', '.join(defined) or 'none'})")
        reports: list[dict] = []
        self.setup_errors: dict[str, dict] = {}
        for nb in notebooks:
            title, summary = nb.title_and_summary()
            params = {k: v for k, v in self.user_params.items()
                      if k in nb.defaults and not inputs.same_value(v, nb.defaults[k])}
            missing = [t for t in REQUIRES.get(nb.stem, ()) if t not in available]
            skip = (f"needs {', '.join(TABLES[t].file if t in TABLES else t for t in missing)}, which the data "
                    "folder does not have") if missing else None
            base = {"nb": nb, "title": title, "summary": summary, "skip_reason": skip, "display_params": params}
            if not nb.per_district or skip:
                reports.append({**base, "name": nb.stem, "params": params, "footer_params": params,
                                "group": nb.stem if nb.per_district else None, "group_title": title})
                continue
            try:
                districts = inputs.districts(self.data, self.hasher, self.manifest)
            except Exception as exc:  # noqa: BLE001
                self.setup_errors[nb.stem] = {"cell": None, "line": None, "source": "",
                                              "message": f"cannot list the districts: {type(exc).__name__}: {exc}"}
                reports.append({**base, "name": nb.stem, "params": params, "footer_params": params,
                                "group": nb.stem, "group_title": title})
                continue
            for d in districts:
                run = {**params, plan.DISTRICT_PARAM: d["district_id"]}
                reports.append({**base, "name": f"{nb.stem}-{plan.slug(d['district_id'])}", "params": run,
                                "footer_params": run, "title": f"{title}: {d['name']}", "group": nb.stem,
                                "group_title": title})
        prev = self.manifest["reports"]
        #: report -> why it is skipped on this data (its pages' links point at the index: render.relink_skipped)
        self.skipped = {r["name"]: r["skip_reason"] for r in reports if r["skip_reason"]}
        for r in reports:
            r["href"] = f"{r['name']}.html"
            r["out_html"] = self.out_dir / r["href"]
            p = prev.get(r["name"], {})
            r["parts"] = self._key_parts(r, p.get("helpers_used"), p.get("data_read") or self.all_data)
            r["key"] = plan.cache_key(r["parts"])
            assets_ok = all((self.out_dir / r["name"] / a).is_file() for a in p.get("assets", []))
            r["cached"] = (not self.args.force and not r["skip_reason"] and r["name"] not in self.setup_errors
                           and p.get("status") == "done" and p.get("key") == r["key"] and r["out_html"].exists()
                           and assets_ok)
            if r["skip_reason"]:
                r["why"] = f"skipped: {r['skip_reason']}"
            elif r["name"] in self.setup_errors:
                r["why"] = "cannot list the districts"
            elif p.get("status") == "failed":
                r["why"] = "failed last time"
            elif p.get("key") == r["key"] and not (r["out_html"].exists() and assets_ok):
                r["why"] = "its page or data files are missing"
            else:
                r["why"] = "" if r["cached"] else plan.why_rebuild(p.get("key_parts"), r["parts"])
            r["selected"] = not self.args.only or any(fnmatch.fnmatchcase(r["name"], g) for g in self.args.only)
        return reports

    # -- run -----------------------------------------------------------------
    def run(self) -> int:
        check = self._check_data()
        if check is None:
            return 1
        self.meta = inputs.metadata(self.data)
        self._hashes()
        # a site belongs to one data folder: another folder's pages never stay in it
        site_data = self.manifest.get("data_dir")
        if site_data and site_data != str(self.data.path):
            if not self.args.list_only:
                print(f"build: {self.out_shown} held a site of another data folder; starting a new site",
                      file=sys.stderr)
                for name in list(self.manifest["reports"]):
                    _remove_outputs(self.out_dir, name)
            self.manifest["reports"] = {}
            self.manifest.pop("index_state", None)
        reports = self._plan(set(check["available"]))

        if self.args.list_only:
            w = max([len(r["name"]) for r in reports] + [6])
            for r in reports:
                state = "skipped" if r["skip_reason"] else "up to date" if r["cached"] else "to build"
                why = f"  ({r['why']})" if r["why"] and not r["skip_reason"] else ""
                reason = f"  ({r['skip_reason']})" if r["skip_reason"] else ""
                print(f"{r['name']:<{w}}  {state:<10}  {r['nb'].path.name}  {json.dumps(r['params'])}{why}{reason}")
            return 0

        self.manifest["data_dir"] = str(self.data.path)
        self.manifest["build"] = {"data_dir": str(self.data.path), "data_given": self.data.given,
                                  "notebooks": str(self.notebooks_dir), "params": self.user_params}
        _remove_leftovers(self.out_dir)
        prev = self.manifest["reports"]
        # reports that no longer exist, or are skipped on this data: remove what was published for them
        names = {r["name"] for r in reports}
        for gone in [n for n in prev if n not in names]:
            _remove_outputs(self.out_dir, gone)
            del prev[gone]
        for r in reports:
            if r["skip_reason"]:
                _remove_outputs(self.out_dir, r["name"])
                prev[r["name"]] = {"status": "skipped", "reason": r["skip_reason"]}
            elif r["name"] in self.setup_errors:
                prev[r["name"]] = {**prev.get(r["name"], {}), "status": "failed",
                                   "error": self.setup_errors[r["name"]]}

        todo = [r for r in reports if r["selected"] and not r["cached"] and not r["skip_reason"]
                and r["name"] not in self.setup_errors]
        self.git = self.manifest.get("git") or {"commit": "unknown", "dirty": None}
        results: dict[str, dict] = {}
        stopped = None
        if todo:
            self.git = provenance.git_info(self.root)
            self.manifest["git"] = self.git
            for w in check.get("warnings", [])[:20]:
                print(f"build: data check: {w}", file=sys.stderr)
            stopped = self._run(todo, reports, results)
        elif reports and not self.quiet:
            n_cached = sum(1 for r in reports if r["cached"] and r["selected"])
            n_skip = sum(1 for r in reports if r["skip_reason"])
            print(f"build: nothing to do; {n_cached} report(s) up to date"
                  + (f", {n_skip} skipped" if n_skip else "") + " (use --force to rebuild)")

        index_problems = self._write_index(reports)
        plan.save_manifest(self.manifest_path, self.manifest)
        return self._summary(reports, results, index_problems, stopped)

    def _task(self, r: dict, env: dict, versions: dict, reps: dict, forbidden: dict) -> dict:
        nbp = r["nb"].path
        try:
            nb_display = nbp.relative_to(self.root).as_posix()
        except ValueError:
            nb_display = f"notebooks/{nbp.name}"
        from helpers.publish.build.worker import KERNEL_NAME
        from helpers.publish.report import N_COLUMNS

        return {
            "name": r["name"], "notebook": str(nbp), "notebook_display": nb_display, "params": r["params"],
            "display_params": r["footer_params"], "cwd": str(nbp.parent), "timeout": self.args.timeout, "env": env,
            "staging_dir": str(self.cache_dir / "staging" / r["name"]), "site_dir": str(self.out_dir),
            "title": r["title"], "root": str(self.root), "data_dir": str(self.data.path), "data": self.meta,
            "git": self.git, "lock_hash": self.lock_hash, "helpers_hash": self.helpers_hash,
            "python": provenance.python_version(), "versions": versions, "k": self.k, "kernel": KERNEL_NAME,
            "reuse_kernel": plan.DISTRICT_PARAM in r["params"] and not self.args.fresh_kernels,
            "n_columns": list(N_COLUMNS), "path_replacements": reps, "forbidden": forbidden,
            "skipped": self.skipped, "default_data": self.data.is_default,
            "build_params": {k: v for k, v in r["params"].items() if k != plan.DISTRICT_PARAM},
        }

    def _environment(self) -> dict:
        """The environment of every kernel (and the kernel specification and IPython profile it reads)."""
        from helpers.publish.build.worker import KERNEL_NAME, kernel_spec

        ipython_dir = self.cache_dir / "ipython"
        cfg = ipython_dir / "profile_default" / "ipython_kernel_config.py"
        cfg.parent.mkdir(parents=True, exist_ok=True)
        if not cfg.exists() or cfg.read_text() != KERNEL_CONFIG:
            cfg.write_text(KERNEL_CONFIG)
        jupyter_dir = self.cache_dir / "jupyter"
        spec = jupyter_dir / "kernels" / KERNEL_NAME / "kernel.json"
        spec.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(kernel_spec(sys.executable), indent=1)
        if not spec.exists() or spec.read_text() != text:
            spec.write_text(text)
        pythonpath = os.pathsep.join([str(self.root)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                                                         if p])
        return {"PYTHONPATH": pythonpath,
                # one BLAS/OpenMP thread per kernel: the pool already uses the cores (no oversubscription), and
                # single-threaded reductions give the same last bits on every run
                "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "NUMEXPR_NUM_THREADS": "1", "PYTHONHASHSEED": "0", "IPYTHONDIR": str(ipython_dir),
                "HELPERS_DATA_DIR": str(self.data.path), "PYDEVD_DISABLE_FILE_VALIDATION": "1",
                "SOURCE_DATE_EPOCH": "0", "TZ": "UTC",
                # figures display inline even when the caller set MPLBACKEND (e.g. Agg in the tests)
                "MPLBACKEND": "module://matplotlib_inline.backend_inline",
                # the build's kernel specification (a kernel that dies with its worker), not one a user
                # registered in ~/.local/share/jupyter
                "JUPYTER_PATH": os.pathsep.join([str(jupyter_dir), str(Path(sys.prefix) / "share" / "jupyter")])}

    def _run(self, todo: list[dict], reports: list[dict], results: dict) -> int | None:
        """Build ``todo``; returns the signal that stopped the build, or None when it ran to the end."""
        from helpers.publish.build import pool, worker
        from helpers.publish.build.progress import Progress

        env = self._environment()
        versions = provenance.package_versions()
        reps = _path_replacements(self.data, self.notebooks_dir)
        forbidden = _forbidden_strings(self.data, self.out_dir, self.notebooks_dir)
        prev = self.manifest["reports"]
        # longest first (last known duration) so the pool finishes together
        todo = sorted(todo, key=lambda r: -float(prev.get(r["name"], {}).get("duration", 1e9)))
        tasks = [self._task(r, env, versions, reps, forbidden) for r in todo]
        by_name = {r["name"]: r for r in reports}
        shown = [r["name"] for r in reports if r["selected"] or r["skip_reason"]]
        progress = Progress(shown, mode=self.args.progress if not self.quiet else "none")
        for r in reports:
            if r["skip_reason"]:
                progress.set(r["name"], "skipped", duration=0.0)
            elif r["selected"] and r["cached"]:
                progress.set(r["name"], "cached", duration=0.0)

        def on_result(res: dict) -> None:
            if res.get("interrupted"):
                return  # stopped by Ctrl-C: not a failure of the report
            results[res["name"]] = res
            self._record(by_name[res["name"]], res)
            plan.save_manifest(self.manifest_path, self.manifest)
            progress.set(res["name"], "done" if res["status"] == "done" else "failed", duration=res["duration"])

        stop = pool.Stop()
        old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        (self.cache_dir / "staging").mkdir(parents=True, exist_ok=True)
        jobs = self.args.jobs or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                  else os.cpu_count() or 1)
        try:
            pool.run(tasks, jobs or 1, target=worker.serve, target_args=(os.getpid(),),
                     on_running=lambda n: progress.set(n, "running"), on_result=on_result,
                     on_tick=progress.tick, stop=stop)
        finally:
            for s, h in old.items():
                signal.signal(s, h)
            progress.close()
            import shutil

            shutil.rmtree(self.cache_dir / "staging", ignore_errors=True)
            _remove_leftovers(self.out_dir)
        return stop.signal if stop.requested else None

    def _record(self, r: dict, res: dict) -> None:
        """Write one report's result into the manifest (called as each report finishes)."""
        name = r["name"]
        entry = dict(self.manifest["reports"].get(name, {}))
        if res["status"] == "done":
            used = []
            for u in res.get("helpers_used", []):
                try:
                    used.append(Path(u).relative_to(self.root).as_posix())
                except ValueError:
                    pass
            # the key from what the run read and imported: the one the next build computes
            r["parts"] = parts = self._key_parts(r, used, res["data_read"] or self.all_data)
            r["key"] = plan.cache_key(parts)
            entry.update(status="done", error=None, data_read=res["data_read"], findings=len(res["findings"]),
                         assets=res.get("assets", []), helpers_used=used, key_parts=parts,
                         key=r["key"], execute_seconds=res.get("execute_seconds"),
                         duration=round(res["duration"], 2), commit=self.git)
        else:
            reps = _path_replacements(self.data, self.notebooks_dir)
            err = {k: v for k, v in (res.get("error") or {}).items() if k != "traceback"}
            for f in ("message", "source"):
                if err.get(f):
                    err[f] = _sanitize(err[f], reps)
            entry.update(status="failed", error=err, duration=round(res["duration"], 2))
        self.manifest["reports"][name] = entry

    # -- index ---------------------------------------------------------------
    def _write_index(self, reports: list[dict]) -> list[str]:
        """Render and check the index; skipped when none of its inputs changed."""
        from helpers.publish import findings as findings_mod

        entries = self.manifest["reports"]
        rows, findings_by_report = [], {}
        for r in reports:
            e = entries.get(r["name"], {})
            exists = r["out_html"].exists()
            f = self.out_dir / "findings" / f"{r['name']}.json"
            err = self.out_dir / "errors" / f"{r['name']}.txt"
            rows.append({"name": r["name"], "href": r["href"], "title": r["title"], "summary": r["summary"],
                         "parameters": r["display_params"], "group": r["group"], "group_title": r.get("group_title"),
                         "status": e.get("status"), "error": e.get("error"), "exists": exists,
                         "current": e.get("key") == r["key"], "skip_reason": r["skip_reason"],
                         # a built report that read no file of the data folder (it uses data published elsewhere)
                         "reads_data": bool(e.get("data_read")) if e.get("status") == "done" else None,
                         "error_href": f"errors/{r['name']}.txt" if e.get("status") == "failed" and err.exists()
                         else None,
                         "findings_href": f"findings/{r['name']}.json" if f.exists() else None})
            if f.exists():
                try:
                    findings_by_report[r["name"]] = findings_mod.load(f)
                except (OSError, ValueError):
                    pass
        params = {k: v for k, v in self.user_params.items()
                  if any(k in r["nb"].defaults and not inputs.same_value(v, r["nb"].defaults[k]) for r in reports)}
        target = self.out_dir / "index.html"
        state = provenance.sha256_bytes(json.dumps(
            [rows, findings_by_report, self.git, self.lock_hash, self.meta, params, self.k, self.core_hash],
            sort_keys=True, default=str).encode())
        if target.exists() and self.manifest.get("index_state") == state:
            return []
        from helpers.publish.build import render, site

        page = site.render_index(entries=rows, git=self.git, lock_hash=self.lock_hash, k=self.k, data=self.meta,
                                 params=params, findings_by_report=findings_by_report)
        problems = render.check_html(page, _forbidden_strings(self.data, self.out_dir, self.notebooks_dir),
                                     allowed=(self.data.display,))
        if problems:
            self.manifest.pop("index_state", None)
            return problems
        self.manifest["index_state"] = state
        if not target.exists() or target.read_text(encoding="utf-8") != page:
            tmp = target.with_name(f".index.html.{os.getpid()}.tmp")
            tmp.write_text(page, encoding="utf-8")
            os.replace(tmp, target)
        return []

    # -- summary -------------------------------------------------------------
    def _summary(self, reports, results, index_problems, stopped) -> int:
        entries = self.manifest["reports"]
        failed = [n for n, res in results.items() if res["status"] != "done"]
        failed += [r["name"] for r in reports if r["name"] in self.setup_errors and r["selected"]]
        built = [n for n, res in results.items() if res["status"] == "done"]
        from helpers.publish.build.plan import describe_error

        for n in failed:
            err = entries[n].get("error") or {}
            print(f"FAILED {n}: {describe_error(err)}", file=sys.stderr)
            if (self.out_dir / "errors" / f"{n}.txt").exists():
                print(f"  full traceback: {_rel(self.out_dir / 'errors' / f'{n}.txt')}", file=sys.stderr)
        for res in results.values():
            for w in res.get("warnings", []):
                print(f"warning: {res['name']}: {w}", file=sys.stderr)
        for prob in index_problems:
            print(f"FAILED index.html: {prob}", file=sys.stderr)
        index = _rel(self.out_dir / "index.html")
        if stopped is not None:
            left = sum(1 for r in reports if r["selected"] and not r["cached"] and not r["skip_reason"]
                       and r["name"] not in results)
            print(f"build: interrupted; {len(built)} report(s) built and published, {left} not built (run the "
                  f"build again to finish them) -> {index}", file=sys.stderr)
            return 128 + int(stopped)
        skipped = [r["name"] for r in reports if r["skip_reason"]]
        if not self.quiet and (results or failed):
            n_cached = sum(1 for r in reports if r["cached"] and r["selected"])
            print(f"build: {len(built)} built, {n_cached} cached, {len(failed)} failed"
                  + (f", {len(skipped)} skipped" if skipped else "")
                  + f" in {time.monotonic() - self.t_start:.1f}s -> {index}")
        return 1 if failed or index_problems else 0
