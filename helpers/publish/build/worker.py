"""Build one report in a worker process: execute, render, check, publish atomically.

Runs in a process of the build's pool (:mod:`helpers.publish.build.pool`); heavy
imports (nbformat, nbclient, nbconvert) happen here, once per worker, never on
the no-change path. :func:`serve` is the worker's main function.

What a report may publish besides its page: the CSV files it writes into the
folder named by ``$HELPERS_REPORT_ASSETS`` (:data:`helpers.publish.provenance.ENV_REPORT_ASSETS`),
the data behind its tables and figures. The build sets that variable to an empty
staging folder for each run, checks every file there (file name, machine paths
and user names, links to other hosts, disclosure control, respondent-level rows)
and publishes them, with the page, into ``<site>/<report>/``; the page links
to them as ``<report>/<file>.csv``.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path

from helpers.publish import findings as findings_mod
from helpers.publish import provenance
from helpers.publish.build import render
from helpers.publish.build.plan import describe_error

_CONN = None
#: Signal handling state of this worker (see :func:`_on_term`).
_STATE = {"critical": False, "term": None}


# ---------------------------------------------------------------------------
# the worker process
# ---------------------------------------------------------------------------

def serve(conn, parent_pid: int) -> None:
    """A worker's main function: build the reports sent on ``conn`` until ``None`` arrives.

    The worker dies with the build (:func:`lifeline.die_with_parent`), ignores
    SIGINT (Ctrl-C reaches the whole terminal process group; the build decides),
    and on SIGTERM kills its kernels and exits at once, unless it is publishing
    a report, which it finishes and reports first.
    """
    from helpers.publish.build import lifeline

    global _CONN
    lifeline.die_with_parent(parent_pid)
    asyncio.set_event_loop_policy(_WorkerLoopPolicy())
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGHUP, _on_term)
    os.environ["HELPERS_BUILD_WORKER_PID"] = str(os.getpid())  # kernels die with this process
    _CONN = conn
    try:
        while True:
            try:
                task = conn.recv()
            except (EOFError, OSError):
                break
            if task is None:
                break
            result = build_report(task)
            try:
                conn.send(("result", result))
            except (OSError, ValueError):
                break
            finally:
                _leave_critical()
    finally:
        close_warm_kernels()
        # nothing else to tidy: skip the interpreter's slow teardown (modules, zmq contexts), which kept an
        # idle worker alive for seconds after the build had finished
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(0)


class _WorkerLoop(asyncio.SelectorEventLoop):
    """An event loop that leaves signals to the worker.

    nbclient installs SIGINT and SIGTERM handlers on the loop while a notebook runs, which
    shut the kernel down under the running cell (the report then fails with an empty
    ``AssertionError``), and restores Python's default SIGINT handler afterwards. In a
    worker the build decides what a signal does (:func:`_on_term`); nbclient accepts a loop
    that cannot take signal handlers (as outside the main thread).
    """

    def add_signal_handler(self, sig, callback, *args):
        raise RuntimeError("signals are handled by the build's worker, not the event loop")

    def remove_signal_handler(self, sig) -> bool:
        return False


class _WorkerLoopPolicy(asyncio.DefaultEventLoopPolicy):
    def new_event_loop(self):
        return _WorkerLoop()


def _on_term(signum, frame) -> None:
    """SIGTERM: end the kernels and exit now, or right after the report being published."""
    if _STATE["critical"]:
        _STATE["term"] = signum
        return
    _kill_children()
    os._exit(128 + signum)


def _enter_critical() -> None:
    _STATE["critical"] = True


def _leave_critical() -> None:
    _STATE["critical"] = False
    if _STATE["term"] is not None:
        _kill_children()
        os._exit(128 + _STATE["term"])


def _kill_children() -> None:
    """SIGKILL every child of this process and its process group (kernels lead their own session)."""
    me = os.getpid()
    try:
        entries = os.listdir("/proc")
    except OSError:
        entries = []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
            ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == me:
            pid = int(entry)
            for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
                try:
                    kill()
                except OSError:
                    pass


def _emit(name: str, state: str) -> None:
    if _CONN is not None:
        try:
            _CONN.send((state, name))
        except (OSError, ValueError):  # progress is best effort
            pass


# ---------------------------------------------------------------------------
# notebook reading and parameters
# ---------------------------------------------------------------------------

def read_notebook(path: Path):
    """An nbformat v4 notebook from ``.ipynb`` or a jupytext ``.py`` (percent format)."""
    import nbformat

    if path.suffix == ".ipynb":
        return nbformat.read(str(path), as_version=4)
    import jupytext

    return jupytext.read(str(path))


def pairing_warning(path: Path, nb) -> str | None:
    """A warning if ``x.ipynb`` and its paired ``x.py`` have different code."""
    twin = path.with_suffix(".py")
    if path.suffix != ".ipynb" or not twin.exists():
        return None
    try:
        import jupytext

        other = jupytext.read(str(twin))
    except Exception as e:  # noqa: BLE001
        return f"could not read the paired {twin.name}: {e}"
    a = [c.source.strip() for c in nb.cells if c.cell_type == "code"]
    b = [c.source.strip() for c in other.cells if c.cell_type == "code"]
    if a != b:
        return (f"{path.name} and {twin.name} have different code; built from {path.name}. "
                f"Run 'jupytext --sync {path.name}' to pair them again.")
    return None


def append_module_probe(nb, log: Path) -> None:
    """A last cell (removed before rendering) that lists the helpers modules the notebook imported."""
    import nbformat

    src = ("import sys as _hb_sys, json as _hb_json\n"
           "with open(%r, 'w') as _hb_f:\n"
           "    _hb_json.dump(sorted({getattr(m, '__file__', None) or '' for n, m in list(_hb_sys.modules.items())\n"
           "                          if n == 'helpers' or n.startswith('helpers.')} - {''}), _hb_f)\n" % str(log))
    nb.cells.append(nbformat.v4.new_code_cell(src, metadata={"tags": ["injected-provenance"]}))


def inject_parameters(nb, params: dict, name: str) -> None:
    """Papermill-style: a cell tagged ``injected-parameters`` after the ``parameters`` cell."""
    import nbformat

    if not params:
        return
    idx = next((i for i, c in enumerate(nb.cells)
                if c.cell_type == "code" and "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if idx is None:
        raise RuntimeError(f"{name}: the notebook takes parameters {sorted(params)} but has no cell tagged "
                           "'parameters' (add the tag to the cell that sets their defaults)")
    src = "# Parameters (injected by helpers.publish.build)\n" + "".join(f"{k} = {v!r}\n" for k, v in params.items())
    cell = nbformat.v4.new_code_cell(src, metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(idx + 1, cell)


# ---------------------------------------------------------------------------
# execution
# ---------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: Where IPython's traceback names the line of the cell that raised (IPython >= 8, and 7.x).
_CELL_LINE = re.compile(r"Cell In\s*\[\d*\],\s*line (\d+)|Input In \[\d*\],? in <cell line: (\d+)>")
_INJECTED = {"injected-parameters", "injected-setup", "injected-provenance"}


def _error_of(nb, exc: BaseException, timeout: float) -> dict:
    """Where and why a run failed.

    Returns ``{"cell": n, "line": l, "source": text, "message": "...", "traceback": "..."}``:
    ``n`` counts the notebook's own code cells from 1 (injected cells are not counted),
    ``l`` is the line of that cell that raised (from IPython's traceback) and ``source``
    its text; ``traceback`` is the full traceback as plain text.
    """
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    where = {"cell": None, "line": None, "source": ""}
    message, tb_text = None, ""
    code_index = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if not set(cell.get("metadata", {}).get("tags", [])) & _INJECTED:
            code_index += 1
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if not errors:
            continue
        err = errors[0]
        tb_text = _ANSI.sub("", "\n".join(err.get("traceback", []))).strip()
        lines = cell.source.splitlines()
        m = _CELL_LINE.search(tb_text)
        line = int(m.group(1) or m.group(2)) if m else None
        if line is not None and 1 <= line <= len(lines) and lines[line - 1].strip():
            text = lines[line - 1].strip()
        else:
            line = None
            text = next((x.strip() for x in lines if x.strip()), "")
        where = {"cell": code_index, "line": line, "source": text[:160]}
        message = f"{err.get('ename', 'Error')}: {err.get('evalue', '')}".strip()
        break
    if isinstance(exc, (CellTimeoutError, TimeoutError)):
        message = (f"timed out: the report took longer than its limit of {timeout:.0f} s "
                   "(raise it with --timeout, or make the notebook faster)")
    elif isinstance(exc, DeadKernelError):
        message = f"the kernel died (out of memory?): {exc}"
    elif message is None:
        lines = str(exc).strip().splitlines()
        message = f"{type(exc).__name__}: {lines[-1] if lines else ''}"
    if not tb_text:
        tb_text = "".join(traceback.format_exception(exc)).strip()
    return {**where, "message": message, "traceback": tb_text}


#: Warm kernels of this worker, by notebook path (parameterised notebooks only; see :func:`execute`).
_WARM: dict[str, object] = {}


def _shutdown(km) -> None:
    try:
        from nbclient.util import run_sync

        run_sync(km.shutdown_kernel)(now=True)
    except Exception:  # noqa: BLE001 - best effort
        pass


def close_warm_kernels() -> None:
    """Shut down this worker's warm kernels (when the worker exits)."""
    while _WARM:
        _, km = _WARM.popitem()
        _shutdown(km)


def setup_cell_source(env: dict, cwd: Path) -> str:
    """First cell of a run in a reused kernel: a clean namespace and this report's settings."""
    return (
        "get_ipython().run_line_magic('reset', '-f')\n"
        "import os as _hb_os, random as _hb_random, sys as _hb_sys\n"
        # extensions loaded by the previous run (e.g. autoreload) are forgotten with their event
        # callbacks, so that the notebook's %load_ext behaves as in a new kernel
        "_hb_ip = get_ipython()\n"
        "for _hb_ext in list(_hb_ip.extension_manager.loaded):\n"
        "    _hb_ip.extension_manager.loaded.discard(_hb_ext)\n"
        "    _hb_mod = _hb_ext.rsplit('.', 1)[-1]\n"
        "    for _hb_cbs in _hb_ip.events.callbacks.values():\n"
        "        _hb_cbs[:] = [c for c in _hb_cbs if getattr(c, '__module__', '').rsplit('.', 1)[-1] != _hb_mod]\n"
        f"_hb_os.environ.update({env!r})\n"
        f"_hb_os.chdir({str(cwd)!r})\n"
        "_hb_random.seed(0)\n"
        "if 'numpy' in _hb_sys.modules:\n"
        "    _hb_sys.modules['numpy'].random.seed(0)\n"
        "if 'helpers.publish.findings' in _hb_sys.modules:\n"
        "    _hb_sys.modules['helpers.publish.findings'].clear()\n"
        "if 'helpers.publish.provenance' in _hb_sys.modules:\n"
        "    _hb_sys.modules['helpers.publish.provenance']._READS.clear()\n"
        "if 'matplotlib.pyplot' in _hb_sys.modules:\n"
        "    _hb_sys.modules['matplotlib.pyplot'].close('all')\n"
        # per-report state of the publishing helpers: table and figure numbers, stated verdicts
        "for _hb_mod, _hb_fn in (('helpers.publish.report', 'reset_numbering'),\n"
        "                        ('helpers.studies.verdicts', 'clear_stated')):\n"
        "    if hasattr(_hb_sys.modules.get(_hb_mod), _hb_fn):\n"
        "        getattr(_hb_sys.modules[_hb_mod], _hb_fn)()\n"
        "del _hb_os, _hb_random, _hb_sys, _hb_ip\n"
    )


def execute(nb, cwd: Path, timeout: float, kernel_log: Path, kernel_name: str = "python3",
            reuse: str | None = None, run_env: dict | None = None):
    """Run ``nb`` in place; the kernel's own stdout/stderr (not the cells') go to ``kernel_log``.

    With ``reuse`` (a key, e.g. the notebook's path), the kernel is kept alive after a
    successful run and the next run with the same key starts with a setup cell
    (tagged ``injected-setup``: ``%reset -f``, this run's environment ``run_env``,
    seeds, findings and data-read registries cleared) instead of a new kernel, so
    the imports and the loader's cache are paid once per worker, not once per district.
    A run that fails shuts its kernel down.
    """
    import nbformat
    from nbclient import NotebookClient

    deadline = time.monotonic() + timeout
    km = None
    if reuse:
        nb.cells.insert(0, nbformat.v4.new_code_cell(setup_cell_source(run_env or {}, cwd),
                                                     metadata={"tags": ["injected-setup"]}))
        km = _WARM.get(reuse)
        if km is None:
            km = NotebookClient(nb, kernel_name=kernel_name).create_kernel_manager()
            _WARM[reuse] = km
    client = NotebookClient(
        nb, km=km, kernel_name=kernel_name, timeout=int(timeout), startup_timeout=120,
        resources={"metadata": {"path": str(cwd)}}, allow_errors=False, record_timing=False,
        shutdown_kernel="immediate",  # outputs and files are complete when the last cell returns
    )
    client.timeout_func = lambda cell: max(1, int(deadline - time.monotonic()))
    try:
        with open(kernel_log, "ab") as log:
            client.execute(stdout=log, stderr=log)
    except BaseException:
        if reuse:
            _WARM.pop(reuse, None)
            _shutdown(km)
        raise
    finally:
        if reuse and client.kc is not None:
            client.kc.stop_channels()
    return nb


KERNEL_NAME = "helpers-build"


def kernel_spec(python: str) -> dict:
    """The kernel specification the build runs reports with: ipykernel, dying with its worker."""
    launcher = Path(__file__).resolve().with_name("kernel_launcher.py")
    return {"argv": [python, str(launcher), "-f", "{connection_file}"],
            "display_name": "Python 3 (report build)", "language": "python",
            "metadata": {"debugger": False}}


# ---------------------------------------------------------------------------
# one report
# ---------------------------------------------------------------------------

def format_findings(items: list[dict]) -> list[dict]:
    """Findings (dicts from a findings file) as a reader sees them, in the site's one format.

    Each dict gains ``label`` (the finding's label, else its name), ``estimate`` (estimate and
    interval as :func:`helpers.publish.findings.table` writes them), ``unit_text`` and
    ``truth_text`` (the planted value, "" when none). Units and labels are written in the
    glossary's words (:func:`helpers.studies.measures.unit_text`, :func:`~helpers.studies.measures.label_text`):
    one name per kind of scale, en dashes in ranges, a model coefficient called what it is.
    """
    if not items:
        return []
    from helpers.publish import findings as findings_mod
    from helpers.studies import measures

    fields = findings_mod.Finding.__dataclass_fields__
    objs = [findings_mod.Finding(**{k: v for k, v in d.items() if k in fields}) for d in items]
    table = findings_mod.table(objs)
    out = []
    for d, (_, row) in zip(items, table.iterrows()):
        unit = measures.unit_text(d.get("unit", ""))
        if unit.startswith("%"):  # the table writes the sign on the number and the rest in the unit column
            unit = unit[1:].strip()
        truth = row.get("Planted value", "") or ""  # with the estimate's sign: "63.3%", not "63.3"
        out.append(dict(d, label=measures.label_text(row["Finding"], d.get("unit", "")),
                        estimate=row["Estimate (95% CI)"], unit_text=unit, truth_text=truth))
    return out


def reproduce_commands(task: dict) -> dict:
    """``build_cmd`` and ``verify_cmd``: the commands that rebuild this report and re-check its findings
    (``default_data``: whether they compare with the committed ledger), for the provenance footer."""
    data = [] if task.get("default_data", True) else ["--data-dir", _shell_word(task["data"]["display"])]
    params = [f"--param {_shell_word(f'{k}={v!r}' if isinstance(v, str) else f'{k}={v}')}"
              for k, v in (task.get("build_params") or {}).items()]
    build = " ".join([".venv/bin/python -m helpers build", *data, *params, "--only", _shell_word(task["name"]),
                      "--force"])
    verify = "make verify" if not data and not params else " ".join([".venv/bin/python -m helpers verify", *data,
                                                                        *params])
    return {"build_cmd": build, "verify_cmd": verify, "default_data": not data}


def _natural(name: str) -> list:
    """Sort key that puts ``table-2.csv`` before ``table-10.csv``."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _shell_word(text: str) -> str:
    import shlex

    text = str(text)
    if text.startswith("~/"):  # the home folder as the shell writes it
        return "~/" + shlex.quote(text[2:])
    if "'" in text and re.fullmatch(r"[\w.=:'/, +-]+", text):  # a quoted string parameter: "tag='a b'"
        return f'"{text}"'
    return shlex.quote(text)


def display_path(p: str, task: dict) -> str:
    """A data file as listed in a report's provenance: relative to the data folder (or the repository)."""
    path = Path(p)
    for base, prefix in ((task["data_dir"], ""), (task["root"], "./")):
        try:
            return prefix + path.relative_to(base).as_posix()
        except ValueError:
            pass
    return f"(outside the data folder)/{path.name}"


def _atomic_write(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return fn(at_fdcwd, os.fsencode(str(a)), at_fdcwd, os.fsencode(str(b)), rename_exchange) == 0


def publish_dir(staged: Path | None, target: Path) -> None:
    """Replace the folder ``target`` by a copy of ``staged`` (or remove it when ``staged`` is None).

    The copy is made beside ``target`` and swapped in by one atomic exchange where the
    system has one (otherwise two renames), so a reader never sees a half-copied folder.
    """
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    if staged is None:
        if target.exists():
            os.replace(target, tmp)
            shutil.rmtree(tmp, ignore_errors=True)
        return
    shutil.copytree(staged, tmp)
    if not target.exists():
        os.replace(tmp, target)
        return
    if not _exchange(tmp, target):
        old = target.with_name(f".{target.name}.{os.getpid()}.old.tmp")
        os.replace(target, old)
        os.replace(tmp, target)
        tmp = old
    shutil.rmtree(tmp, ignore_errors=True)


def error_file_text(task: dict, err: dict) -> str:
    """The text of ``<site>/errors/<report>.txt``: what failed, where, and the full traceback."""
    reps = render.path_replacements(task["path_replacements"])
    head = [f"Report {task['name']} ({task['notebook_display']}) failed.",
            describe_error(err), ""]
    text = "\n".join(head) + "\n" + (err.get("traceback") or err.get("detail") or "") + "\n"
    return render.redact(render._sub_paths(text, reps), task["forbidden"])


def build_report(task: dict) -> dict:
    """Execute and render one report. Never raises: failures come back as ``status = "failed"``."""
    name = task["name"]
    t0 = time.monotonic()
    _emit(name, "running")
    staging = Path(task["staging_dir"])
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    result = {"name": name, "status": "failed", "error": None, "warnings": [], "data_read": [],
              "findings": [], "assets": [], "duration": 0.0}
    site = Path(task["site_dir"])
    nb = None
    try:
        data_log = staging / "data_reads.log"
        assets_dir = staging / "assets"
        assets_dir.mkdir()
        run_vars = {findings_mod.ENV_REPORT: name, findings_mod.ENV_DIR: str(staging / "findings"),
                    provenance.ENV_DATA_LOG: str(data_log), provenance.ENV_REPORT_ASSETS: str(assets_dir)}
        os.environ.update(task["env"])
        os.environ.update(run_vars)
        os.environ.pop("JPY_SESSION_NAME", None)

        nb = read_notebook(Path(task["notebook"]))
        w = pairing_warning(Path(task["notebook"]), nb)
        if w:
            result["warnings"].append(w)
        inject_parameters(nb, task["params"], name)
        modules_log = staging / "helpers_modules.json"
        append_module_probe(nb, modules_log)
        try:
            t_exec = time.monotonic()
            execute(nb, Path(task["cwd"]), task["timeout"], staging / "kernel.log", kernel_name=task["kernel"],
                    reuse=task["notebook"] if task.get("reuse_kernel") else None, run_env={**task["env"], **run_vars})
            result["execute_seconds"] = round(time.monotonic() - t_exec, 2)
        except Exception as exc:  # noqa: BLE001 - any failure of the notebook
            result["error"] = _error_of(nb, exc, task["timeout"])
            return result

        # which helpers modules did it use? (the cache key and the footer hash them)
        try:
            used = json.loads(modules_log.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            used = []
        used = sorted({str(Path(u).resolve()) for u in used if u.endswith(".py")})
        result["helpers_used"] = used
        helpers_used_hash = provenance.files_hash(used, Path(task["root"])) if used else task["helpers_hash"]

        # which data files did it read? (a report that read none, e.g. one on data shipped with R, lists none
        # and carries no synthetic banner; its cache key then covers every data file)
        reads = provenance.read_data_log(data_log)
        result["data_read"] = reads
        data_files = []
        for p in reads:
            try:
                sha = provenance.sha256_file(p)
            except OSError:
                sha = "missing"
            data_files.append({"path": display_path(p, task), "sha256": sha})

        staged = staging / "findings" / f"{name}.json"
        items = findings_mod.load(staged) if staged.exists() else []
        result["findings"] = items

        # the data files behind tables and figures
        assets, problems = render.check_assets(assets_dir, task["k"], tuple(task["n_columns"]), task["forbidden"])
        if problems:
            raise render.SafetyError("the data files it wrote for download failed the checks:\n  "
                                     + "\n  ".join(problems))
        result["assets"] = assets

        # render
        reps = render.path_replacements(task["path_replacements"])
        render.clean_notebook(nb, reps)
        problems = render.check_outputs(nb, task["k"], tuple(task["n_columns"]))
        if problems:
            raise render.SafetyError("disclosure check failed:\n  " + "\n  ".join(problems))
        from jinja2 import Environment, FileSystemLoader, select_autoescape

        env = Environment(loader=FileSystemLoader(str(render.TEMPLATES_DIR)),
                          autoescape=select_autoescape(default=True, default_for_string=True),
                          keep_trailing_newline=True)
        footer = env.get_template("footer.html.j2").render(
            name=name, notebook=task["notebook_display"], parameters=task["display_params"], git=task["git"],
            lock_hash=task["lock_hash"], helpers_hash=helpers_used_hash, **reproduce_commands(task),
            python=task["python"], versions=task["versions"], k=task["k"], data=task["data"],
            data_files=data_files, findings=format_findings(items), synthetic=task["data"]["synthetic"],
            findings_href=f"findings/{name}.json" if items else "", assets=[f"{name}/{a}" for a in sorted(assets, key=_natural)])
        # one synthetic-data banner per page: a notebook that states its data itself
        # (helpers.publish.notebook.data_statement) keeps its own, the build adds one to any other
        banner = "" if _states_its_data(nb) else env.get_template("banner.html.j2").render(
            synthetic=task["data"]["synthetic"] and bool(reads), generator=task["data"]["generator"])
        page = render.render_html(nb, title=task["title"], banner_html=banner, footer_html=footer)
        page = render.relink_skipped(page, task.get("skipped") or {})
        problems = render.check_html(page, task["forbidden"])
        problems += render.check_asset_links(page, name, assets)
        if problems:
            raise render.SafetyError("safety check of the rendered page failed:\n  " + "\n  ".join(problems))

        # publish: findings, data files, then the page; each by rename, so never half-written. A SIGTERM
        # now waits until the result is sent (see serve), so what is published is also recorded.
        _enter_critical()
        final_findings = site / "findings" / f"{name}.json"
        if items:
            _atomic_write(final_findings, findings_mod.dumps(items, name))
        elif final_findings.exists():
            final_findings.unlink()
        publish_dir(assets_dir if assets else None, site / name)
        _atomic_write(site / f"{name}.html", page)
        err_file = site / "errors" / f"{name}.txt"
        if err_file.exists():
            err_file.unlink()
        result["status"] = "done"
    except render.SafetyError as exc:
        result["error"] = {"cell": None, "line": None, "source": "", "message": str(exc), "traceback": str(exc)}
    except Exception as exc:  # noqa: BLE001
        result["error"] = {"cell": None, "line": None, "source": "", "message": f"{type(exc).__name__}: {exc}",
                           "traceback": traceback.format_exc().strip()}
    finally:
        result["duration"] = time.monotonic() - t0
        if result["status"] != "done" and result["error"] is not None:
            _enter_critical()
            try:
                _atomic_write(site / "errors" / f"{name}.txt", error_file_text(task, result["error"]))
            except OSError as exc:
                result["warnings"].append(f"could not write its error file: {exc}")
        shutil.rmtree(staging, ignore_errors=True)
    return result


def _states_its_data(nb) -> bool:
    """Whether an executed notebook shows its own synthetic-data banner (an output with ``report-banner``)."""
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            html = out.get("data", {}).get("text/html", "")
            if "report-banner" in ("".join(html) if isinstance(html, list) else html):
                return True
    return False
