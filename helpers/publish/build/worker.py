"""Build one report in a worker process: execute, render, check, publish atomically.

Runs in a process of the build's pool; heavy imports (nbformat, nbclient,
nbconvert) happen here, once per worker, never on the no-change path.
"""
from __future__ import annotations

import json
import os
import shutil
import time
import traceback
from pathlib import Path

from helpers.publish import findings as findings_mod
from helpers.publish import provenance
from helpers.publish.build import render

_QUEUE = None


def init_worker(queue) -> None:
    """Pool initializer: remember the queue on which 'running' events are sent; close warm kernels at exit."""
    global _QUEUE
    _QUEUE = queue
    from multiprocessing import util

    util.Finalize(None, close_warm_kernels, exitpriority=10)


def _emit(name: str, state: str) -> None:
    if _QUEUE is not None:
        try:
            _QUEUE.put((name, state, time.time()))
        except Exception:  # noqa: BLE001 - progress is best effort
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

def _error_of(nb, exc: BaseException, name: str, timeout: float) -> dict:
    """Where and why a run failed: ``{"cell": n, "source": first line, "message": ...}``.

    ``n`` counts the notebook's own code cells from 1 (the injected parameters cell is not counted).
    """
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    where = {"cell": None, "source": ""}
    message = None
    code_index = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if not set(cell.get("metadata", {}).get("tags", [])) & {"injected-parameters", "injected-setup",
                                                                 "injected-provenance"}:
            code_index += 1
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            first_line = cell.source.strip().splitlines()[0][:80] if cell.source.strip() else ""
            where = {"cell": code_index, "source": first_line}
            message = f"{errors[0].get('ename', 'Error')}: {errors[0].get('evalue', '')}"
            break
    if isinstance(exc, (CellTimeoutError, TimeoutError)):
        message = (f"timed out: the report took longer than its limit of {timeout:.0f} s "
                   "(raise it with --timeout, or make the notebook faster)")
    elif isinstance(exc, DeadKernelError):
        message = f"the kernel died (out of memory?): {exc}"
    elif message is None:
        lines = str(exc).strip().splitlines()
        message = f"{type(exc).__name__}: {lines[-1] if lines else ''}"
    return {**where, "message": message}


#: Warm kernels of this worker, by notebook path (parameterised notebooks only; see :func:`execute`).
_WARM: dict[str, object] = {}


def _shutdown(km) -> None:
    try:
        from nbclient.util import run_sync

        run_sync(km.shutdown_kernel)(now=True)
    except Exception:  # noqa: BLE001 - best effort
        pass


def close_warm_kernels() -> None:
    """Shut down this worker's warm kernels (runs when the worker process exits)."""
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


# ---------------------------------------------------------------------------
# one report
# ---------------------------------------------------------------------------

def _fmt(x) -> str:
    return "" if x is None else f"{x:.4g}"


def format_findings(items: list[dict]) -> list[dict]:
    out = []
    for f in items:
        g = dict(f)
        g["value_fmt"] = _fmt(f.get("value"))
        ci = f.get("ci")
        g["ci_fmt"] = "" if not ci else f"{_fmt(ci[0])} to {_fmt(ci[1])} ({f.get('level', 0.95):.0%})"
        g["truth_fmt"] = _fmt(f.get("truth"))
        out.append(g)
    return out


def display_path(p: str, task: dict) -> str:
    """A path as shown in a report: relative to the data folder or the repository, never absolute."""
    path = Path(p)
    for base, prefix in ((task["data_dir"], "data/"), (task["root"], "")):
        try:
            return prefix + path.relative_to(base).as_posix()
        except ValueError:
            pass
    return f"(outside the repository)/{path.name}"


def _atomic_write(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def build_report(task: dict) -> dict:
    """Execute and render one report. Never raises: failures come back as ``status = "failed"``."""
    name = task["name"]
    t0 = time.monotonic()
    _emit(name, "running")
    staging = Path(task["staging_dir"])
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    result = {"name": name, "status": "failed", "error": None, "warnings": [], "data_read": [],
              "findings": [], "duration": 0.0}
    nb = None
    try:
        data_log = staging / "data_reads.log"
        os.environ.update(task["env"])
        os.environ[findings_mod.ENV_REPORT] = name
        os.environ[findings_mod.ENV_DIR] = str(staging / "findings")
        os.environ[provenance.ENV_DATA_LOG] = str(data_log)
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
            run_env = {**task["env"], findings_mod.ENV_REPORT: name, findings_mod.ENV_DIR: str(staging / "findings"),
                       provenance.ENV_DATA_LOG: str(data_log)}
            execute(nb, Path(task["cwd"]), task["timeout"], staging / "kernel.log",
                    reuse=task["notebook"] if task.get("reuse_kernel") else None, run_env=run_env)
            result["execute_seconds"] = round(time.monotonic() - t_exec, 2)
        except Exception as exc:  # noqa: BLE001 - any failure of the notebook
            result["error"] = _error_of(nb, exc, name, task["timeout"])
            return result

        # which helpers modules did it use? (the cache key and the footer hash them)
        try:
            used = json.loads(modules_log.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            used = []
        used = sorted({str(Path(u).resolve()) for u in used if u.endswith(".py")})
        result["helpers_used"] = used
        helpers_used_hash = provenance.files_hash(used, Path(task["root"])) if used else task["helpers_hash"]

        # which data files did it read?
        # A report that read no data file through helpers.data.load (e.g. 90_validation, which uses
        # real data shipped with R and libpysal) lists none and carries no synthetic banner; its
        # cache key still covers every data file (result["data_read"] stays empty).
        reads = provenance.read_data_log(data_log)
        fallback = False
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
            name=name, notebook=task["notebook_display"], parameters=task["params"], git=task["git"],
            lock_hash=task["lock_hash"], helpers_hash=helpers_used_hash, helpers_count=len(used), python=task["python"],
            versions=task["versions"], k=task["k"], data_files=data_files, data_fallback=fallback,
            findings=format_findings(items))
        banner_ctx = dict(task["banner"], synthetic=task["banner"].get("synthetic", False) and bool(reads))
        banner = env.get_template("banner.html.j2").render(**banner_ctx)
        page = render.render_html(nb, title=task["title"], banner_html=banner, footer_html=footer)
        problems = render.check_html(page, task["forbidden"])
        if problems:
            raise render.SafetyError("safety check of the rendered page failed:\n  " + "\n  ".join(problems))

        # publish: findings first, then the page; each by rename, so never half-written
        final_findings = Path(task["findings_dir"]) / f"{name}.json"
        if items:
            _atomic_write(final_findings, findings_mod.dumps(items, name))
        elif final_findings.exists():
            final_findings.unlink()
        _atomic_write(Path(task["out_html"]), page)
        result["status"] = "done"
        result["html_sha256"] = provenance.sha256_bytes(page.encode("utf-8"))
    except render.SafetyError as exc:
        result["error"] = {"cell": None, "source": "", "message": str(exc)}
    except Exception as exc:  # noqa: BLE001
        tb = traceback.format_exc(limit=3).strip().splitlines()
        result["error"] = {"cell": None, "source": "", "message": f"{type(exc).__name__}: {exc}",
                           "detail": "\n".join(tb[-6:])}
    finally:
        result["duration"] = time.monotonic() - t0
        if not task.get("keep_staging"):
            shutil.rmtree(staging, ignore_errors=True)
    return result
