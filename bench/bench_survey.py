"""Benchmark: survey-weighted means of two items by district on 1,000,000 respondents.

Generates a stratified cluster sample (12 strata = districts, about 50,000 PSUs of
about 20 respondents, population PSU counts for the fpc), then times

* ours: ``helpers.stats.survey.SurveyDesign(...).mean(["y1", "y2"], by="district")``
  (in memory, pandas/NumPy engine), also with the design construction included,
  and the DuckDB-over-Parquet path;
* R: ``svyby(~y1+y2, ~district, design, svymean, deff=TRUE)`` from the survey
  package on a built design (svydesign() timed separately; reading the CSV not timed);
* svy (Python): ``Sample.estimation.mean(["y1", "y2"], by="district", deff="wor")``.

and prints the seconds side by side with the ratios, our peak memory, and the
largest relative difference between our estimates/SEs and R's and svy's.

Usage: python bench/bench_survey.py [--n 1000000] [--psus 50000] [--strata 12] [--no-r] [--no-svy]
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from helpers.stats.survey import SurveyDesign  # noqa: E402

R_CODE = r"""
suppressMessages(library(survey))
a <- commandArgs(TRUE)
d <- read.csv(a[1], colClasses = c("integer", "integer", "numeric", "numeric", "numeric", "numeric"))
t0 <- system.time(des <- svydesign(ids = ~psu, strata = ~district, weights = ~w, fpc = ~fpc, data = d,
                                   nest = TRUE))[["elapsed"]]
t <- system.time(r <- svyby(~y1 + y2, ~district, des, svymean, deff = TRUE))[["elapsed"]]
out <- data.frame(district = r$district, y1 = r$y1, y2 = r$y2, se1 = r$se.y1, se2 = r$se.y2)
write.csv(out, a[2], row.names = FALSE)
cat(sprintf("%.6f %.6f\n", t, t0))
"""


def simulate(n: int, n_psu: int, n_strata: int, seed: int = 1) -> pd.DataFrame:
    """A synthetic stratified two-stage sample: strata, PSUs, weights, fpc, two items."""
    rng = np.random.default_rng(seed)
    psu_stratum = np.sort(rng.integers(0, n_strata, n_psu))
    sizes = rng.multinomial(n - n_psu, np.full(n_psu, 1 / n_psu)) + 1  # every PSU >= 1 respondent
    psu = np.repeat(np.arange(n_psu), sizes)
    stratum = psu_stratum[psu]
    n_h = np.bincount(psu_stratum, minlength=n_strata)
    N_h = (n_h * rng.uniform(2, 6, n_strata)).round()
    psu_effect = rng.normal(0, 0.5, n_psu)
    w = rng.uniform(50, 150, n_psu)[psu] * rng.uniform(0.8, 1.25, n)
    latent = 3 + 0.1 * stratum / n_strata + psu_effect[psu] + rng.normal(0, 1, n)
    y1 = np.clip(np.round(latent), 1, 5)
    y2 = (rng.random(n) < 1 / (1 + np.exp(-(latent - 3)))).astype(float)
    return pd.DataFrame({"district": stratum + 1, "psu": psu + 1, "w": w, "fpc": N_h[stratum], "y1": y1, "y2": y2})


def best_of(fn, repeat: int = 5) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--psus", type=int, default=50_000)
    ap.add_argument("--strata", type=int, default=12)
    ap.add_argument("--no-r", action="store_true")
    ap.add_argument("--no-svy", action="store_true")
    args = ap.parse_args()

    df = simulate(args.n, args.psus, args.strata)
    print(f"data: {len(df):,} respondents, {df.district.nunique()} strata, {df.psu.nunique():,} PSUs; "
          "job: means of 2 items by district (SE, deff)")

    design_args = dict(weight="w", strata="district", psu="psu", fpc="fpc")
    tracemalloc.start()
    t_build_est, ours = best_of(lambda: SurveyDesign(df, **design_args).mean(["y1", "y2"], by="district"))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    d = SurveyDesign(df, **design_args)
    d.mean(["y1", "y2"], by="district")  # warm the domain codes
    t_est, ours = best_of(lambda: d.mean(["y1", "y2"], by="district"))

    tmp = Path(tempfile.mkdtemp(prefix="bench_survey_"))
    try:
        pq = tmp / "bench.parquet"
        df.to_parquet(pq, index=False)
        t_duck, ours_duck = best_of(lambda: SurveyDesign.from_parquet(pq, **design_args).mean(
            ["y1", "y2"], by="district"), repeat=3)
        dd = np.nanmax(np.abs(ours_duck[["estimate", "se"]].to_numpy() - ours[["estimate", "se"]].to_numpy())
                       / np.abs(ours[["estimate", "se"]].to_numpy()))

        t_r = t_svy = t_r_design = None
        diff_r = diff_svy = None
        rs = shutil.which("Rscript")
        if not args.no_r and rs:
            csv = tmp / "bench.csv"
            df.to_csv(csv, index=False, float_format="%.17g")
            (tmp / "b.R").write_text(R_CODE)
            res = subprocess.run([rs, str(tmp / "b.R"), str(csv), str(tmp / "r.csv")], capture_output=True, text=True)
            if res.returncode == 0:
                t_r, t_r_design = (float(x) for x in res.stdout.strip().splitlines()[-1].split())
                r = pd.read_csv(tmp / "r.csv").set_index("district")
                m = ours.pivot(index="district", columns="variable", values=["estimate", "se"])
                mine = np.c_[m[("estimate", "y1")], m[("estimate", "y2")], m[("se", "y1")], m[("se", "y2")]]
                theirs = r[["y1", "y2", "se1", "se2"]].loc[m.index].to_numpy()
                diff_r = float(np.max(np.abs(mine - theirs) / np.abs(theirs)))
            else:
                print("R failed:", res.stderr[-500:])
        elif not args.no_r:
            print("Rscript not found: R timing skipped (make sysdeps installs it)")
        if not args.no_svy:
            try:
                import polars as pl
                import svy

                pdf = pl.from_pandas(df)
                sample = svy.Sample(pdf, svy.Design(stratum="district", psu="psu", wgt="w", pop_size="fpc"))
                t_svy, est = best_of(lambda: sample.estimation.mean(["y1", "y2"], by="district", deff="wor"),
                                     repeat=3)
                diffs = []
                for var, e in zip(["y1", "y2"], est):
                    sv = e.to_polars().to_pandas().sort_values("district")
                    o = ours[ours.variable == var].sort_values("district")
                    a = sv[["est", "se", "deff"]].to_numpy(float)
                    b = o[["estimate", "se", "deff"]].to_numpy(float)
                    diffs.append(np.max(np.abs(a - b) / np.abs(b)))
                diff_svy = float(max(diffs))
            except Exception as e:  # a peer's failure must not hide our figures
                print(f"svy failed: {type(e).__name__}: {e}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print()
    print(f"{'':38s}{'seconds':>10s}{'R / this':>10s}{'svy / this':>12s}")

    def row(label, t):
        rr = f"{t_r / t:10.1f}" if t_r else f"{'-':>10s}"
        ss = f"{t_svy / t:12.1f}" if t_svy else f"{'-':>12s}"
        print(f"{label:38s}{t:10.4f}{rr}{ss}")

    row("ours: estimate (design built)", t_est)
    row("ours: build design + estimate", t_build_est)
    row("ours: DuckDB over Parquet (+design)", t_duck)
    print(f"{'R survey svyby(svymean) (design built)':38s}{t_r if t_r else float('nan'):10.4f}")
    if t_r_design is not None:
        print(f"{'R survey svydesign() + svyby()':38s}{t_r + t_r_design:10.4f}")
    print(f"{'svy Sample.estimation.mean (built)':38s}{t_svy if t_svy else float('nan'):10.4f}")
    print()
    print(f"peak memory of our estimate (tracemalloc): {peak / 2**20:.0f} MiB; process max RSS "
          f"(data, R's CSV, svy and polars included): {rss:.0f} MiB")
    print(f"max relative difference: ours vs R (estimate, SE) {diff_r if diff_r is not None else 'n/a'}; "
          f"ours vs svy (estimate, SE, deff) {diff_svy if diff_svy is not None else 'n/a'}; pandas vs DuckDB engine {dd:.2g}")
    if t_r:
        like = t_r / t_est
        print(f"target R/ours >= 50, like for like (estimate on a built design): "
              f"{'met' if like >= 50 else 'NOT met'} ({like:.0f}x)")
        if t_r_design is not None:
            both = (t_r + t_r_design) / t_build_est
            print(f"  with the design construction on both sides: {both:.0f}x; "
                  f"R's svyby alone over our build+estimate: {t_r / t_build_est:.0f}x")
    if t_svy:
        print(f"faster than svy (both on a built design): {'yes' if t_svy > t_est else 'no'} "
              f"({t_svy / t_est:.1f}x; {t_svy / t_build_est:.1f}x counting our build)")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
          "(timings of every tool grow with it)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
