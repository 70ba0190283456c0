"""Benchmark: the report build against the naive way, on the same notebooks.

Times, as wall-clock seconds of separate processes:

* ours, full:      ``python -m helpers build --force`` into a temporary folder
                   (parallel workers, one kernel per report, rendering included);
* ours, no change: the same command again without ``--force`` (everything cached);
* naive:           ``jupyter nbconvert --to html --execute`` of each notebook in
                   turn (for a parameterised notebook, ``papermill -p district_id X``
                   then ``jupyter nbconvert --to html``, once per district).

and prints them side by side with the ratios. Target: the full build in at
most 0.6 of the naive time on 2 cores; the no-change rebuild under 2 s.

Notebooks: the project's ``notebooks/`` when it has any, else ``--synthetic N``
throwaway notebooks (pandas + a matplotlib figure + a finding each).

Usage: python bench/bench_build.py [--notebooks DIR] [--synthetic N] [--jobs N] [--keep DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def synthetic_notebooks(folder: Path, n: int) -> Path:
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        nb = new_notebook(cells=[
            new_markdown_cell(f"# Synthetic study {i}\n\nA benchmark notebook."),
            new_code_cell("import numpy as np, pandas as pd\nimport matplotlib.pyplot as plt\n"
                          "from helpers.publish import findings"),
            new_code_cell(f"rng = np.random.default_rng({i})\n"
                          "df = pd.DataFrame(rng.normal(size=(200_000, 4)), columns=list('abcd'))\n"
                          "df['g'] = rng.integers(0, 12, len(df))\nsummary = df.groupby('g').agg(['mean', 'std'])\n"
                          "summary.round(3)"),
            new_code_cell("fig, ax = plt.subplots(figsize=(5, 3))\nax.hist(df.a, bins=50)\nplt.show()"),
            new_code_cell("findings.record('mean_a', float(df.a.mean()), ci=(-1.0, 1.0))\nfindings.display()"),
        ])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, str(folder / f"{i:02d}_synthetic.ipynb"))
    return folder


def timed(cmd: list[str], **kw) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    return time.perf_counter() - t0, r


def plan_reports(notebooks: Path, out: Path, env: dict) -> list[tuple[str, Path, dict]]:
    """(report name, notebook, parameters) as the build plans them (``build --list``)."""
    r = subprocess.run([PY, "-m", "helpers", "build", "--list", "--notebooks", str(notebooks), "--out", str(out),
                        "--cache-dir", str(out.parent / "cache")],
                       capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    out_list = []
    for line in r.stdout.splitlines():
        parts = line.split(None, 3)
        if len(parts) < 4:
            continue
        name, rest = parts[0], line[len(parts[0]):].strip()
        # "<state>  <notebook file>  <json params>  (reason)"; state is "up to date" or "to build"
        nbfile = rest[:rest.index("{")].split()[-1]
        nb = notebooks / nbfile
        params, _ = json.JSONDecoder().raw_decode(rest[rest.index("{"):])
        out_list.append((name, nb, params if name != nb.stem else {}))
    return out_list


def naive(reports, work: Path, env: dict) -> float:
    """Each report in turn with the stock tools; returns wall seconds (conversion of .py notebooks excluded)."""
    work.mkdir(parents=True, exist_ok=True)
    prepared = []
    for name, nb, params in reports:
        src = nb
        if nb.suffix == ".py":  # stock nbconvert reads .ipynb only: convert first (not timed)
            src = work / f"{nb.stem}.ipynb"
            if not src.exists():
                subprocess.run([PY, "-m", "jupytext", "--to", "ipynb", "-o", str(src), str(nb)], check=True,
                               capture_output=True)
        prepared.append((name, src, params, nb.parent))
    total = 0.0
    for name, src, params, cwd in prepared:
        if params:
            executed = work / f"{name}.ipynb"
            args = [x for k, v in params.items() for x in ("-p", k, str(v))]
            t1, r = timed([PY, "-m", "papermill", str(src), str(executed), *args, "--cwd", str(cwd),
                           "-k", "python3", "--no-progress-bar", "--execution-timeout", "600"], env=env,
                          timeout=1200)
            t2, r2 = timed([PY, "-m", "jupyter", "nbconvert", "--to", "html", str(executed), "--output-dir",
                            str(work)], env=env)
            t = t1 + t2
            total += t
            ok = r.returncode == 0 and r2.returncode == 0
        else:
            copy = src if src.parent == work else work / src.name
            if copy != src:
                shutil.copy(src, copy)
            t, r = timed([PY, "-m", "jupyter", "nbconvert", "--to", "html", "--execute", str(copy),
                          "--output-dir", str(work), "--ExecutePreprocessor.timeout=600",
                          "--ExecutePreprocessor.kernel_name=python3"], env=env, cwd=cwd, timeout=1200)
            total += t
            ok = r.returncode == 0
        print(f"  naive {name:<32} {t:7.1f}s {'ok' if ok else 'FAILED'}", flush=True)
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--notebooks", type=Path, default=None, help="folder of notebooks (default: notebooks/)")
    ap.add_argument("--synthetic", type=int, default=0, metavar="N",
                    help="use N throwaway notebooks instead (default when notebooks/ is empty: 6)")
    ap.add_argument("--jobs", type=int, default=0, help="build workers (default: cores)")
    ap.add_argument("--keep", type=Path, default=None, help="keep the outputs in this folder")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-build-")) if args.keep is None else args.keep
    tmp.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("MPLBACKEND", None)
    nbdir = args.notebooks or ROOT / "notebooks"
    has_real = nbdir.is_dir() and (any(nbdir.glob("*.ipynb")) or any(nbdir.glob("*.py")))
    if args.synthetic or not has_real:
        nbdir = synthetic_notebooks(tmp / "notebooks", args.synthetic or 6)
    out = tmp / "ours"
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    build = [PY, "-m", "helpers", "build", "--notebooks", str(nbdir), "--out", str(out),
             "--cache-dir", str(tmp / "cache"), "--progress", "none", *jobs]
    print(f"bench_build: notebooks in {nbdir}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} "
          "(other work on the machine slows both sides unevenly: compare figures taken at a similar load)")

    t_full, r = timed([*build, "--force"], env=env, cwd=ROOT)
    if r.returncode != 0:
        print(r.stdout, r.stderr, file=sys.stderr)
        print("bench_build: the build failed; figures below include the failure", file=sys.stderr)
    t_nochange, r2 = timed(build, env=env, cwd=ROOT)
    reports = plan_reports(nbdir, out, env)
    print(f"  ours  full build ({len(reports)} reports)  {t_full:7.1f}s; no-change rebuild {t_nochange:.2f}s",
          flush=True)
    load_ours = os.getloadavg()[0]
    t_naive = naive(reports, tmp / "naive", env)
    load_naive = os.getloadavg()[0]

    rows = [("full build", t_full, t_naive), ("no-change rebuild", t_nochange, t_naive)]
    print()
    print(f"{'step':<20}{'ours (s)':>10}{'naive (s)':>11}{'ours/naive':>12}")
    for label, a, b in rows:
        print(f"{label:<20}{a:>10.2f}{b:>11.2f}{a / b:>12.3f}")
    print(f"(load average after ours: {load_ours:.1f}; after naive: {load_naive:.1f})")
    ratio = t_full / t_naive
    print(f"\ntarget: full build <= 0.6 x naive -> {ratio:.2f} ({'met' if ratio <= 0.6 else 'NOT met'}); "
          f"no-change rebuild < 2 s -> {t_nochange:.2f} s ({'met' if t_nochange < 2 else 'NOT met'})")
    if args.keep is None:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
