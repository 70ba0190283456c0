"""Validate the published estimators: bias and 95% interval coverage over many synthetic cities.

For each replicate the synthetic city is regenerated in memory
(:func:`helpers.data.synth.tables_in_memory`, seed ``seeds_from + r``) and every selected claim of
the registry :data:`helpers.studies.claims.CLAIMS` - the very specifications the reports publish -
is fitted; each estimate and its 95% interval are compared with that replicate's planted truth.
The table printed at the end has one row per ground-truth key: replicates, mean estimate, mean
truth, bias, RMSE, mean SE beside the SD of the errors, and the empirical coverage of the 95%
interval with its Monte Carlo SE. The target is coverage between 93% and 97%; rows outside are
marked, with the measured reason where one is known (:data:`KNOWN_REASONS`).

Usage::

    python bench/validate_coverage.py                        # fast claims 200 replicates, slow ones 100
    python bench/validate_coverage.py --claims registration awareness --replicates 50
    python bench/validate_coverage.py --jobs 2 --out results.csv
    python bench/validate_coverage.py --summarise results.csv other.csv

``--claims`` takes claim names or the groups ``fast``, ``slow`` and ``all`` (default ``all``).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from helpers.studies import claims  # noqa: E402

DEFAULT_SEEDS_FROM = 1000
DEFAULT_REPLICATES = {"fast": 200, "slow": 100}

#: Why a row may fall outside the 93-97% target, from the measured runs (see each note); printed
#: under the table for rows outside the target. With 200 replicates the Monte Carlo SE of a 95%
#: coverage is 1.5 points (2.2 with 100), so a calibrated interval lands outside 93-97% now and
#: then; the notes say when more than chance is at work.
KNOWN_REASONS: dict[str, str] = {
    "platform_logit_hazard": "chance: 92.5% over seeds 1000-1199 but 93.5% over 398 seeds (1000-1397); mean SE "
                             "within 6% of the SD of the estimates (measured 2026-11-28)",
    "aware_15to30_logit": "conservative: 97.4% over 226 seeds; the SE is about 11% above the SD of the estimates "
                          "whether clustered by community (published), model-based (11% above, 96.8% over 189 "
                          "seeds) or clustered by sub-district (9% above, 96.3%), so it is not the clustering; a "
                          "wider interval errs on the safe side",
    "participate_share60_lpm": "92.9% over 226 seeds; the SE is 7% below the SD of the estimates with clustering by "
                               "community (published) or by sub-district (91.5% over 189 seeds), so neither level "
                               "of clustering repairs it; the linear probability model approximates the generator's "
                               "logistic participation, and the share aged 60+ varies between communities only",
    "eight_haves_funding_logit": "92.7% over 398 seeds; the model-based SE is 8% below the SD. Profile-likelihood "
                                 "intervals gave the same coverage over 38 seeds, so it is not a Wald problem; the "
                                 "fitted model is the generator's own. Attributed to the few high-leverage "
                                 "communities of the log-normal funding; cluster-robust SEs covered less (91.5%)",
    "sat_district_sd": "conservative: 98% over 100 seeds (Monte Carlo SE 1.4 points); the SE of a between-district "
                       "SD estimated from 12 districts is 9% above the spread of the estimates",
}


def resolve(names: list[str]) -> list[str]:
    """Claim names from names and the groups fast/slow/all (claims with a ground-truth key only)."""
    keyed = claims.truth_keys()
    out: list[str] = []
    for n in names:
        if n == "all":
            out += list(keyed)
        elif n in ("fast", "slow"):
            out += [k for k in keyed if claims.CLAIMS[k].speed == n]
        elif n in keyed:
            out.append(n)
        else:
            raise SystemExit(f"unknown claim {n!r}; allowed: all, fast, slow, {', '.join(keyed)}")
    return list(dict.fromkeys(out))


def replicate(seed: int, names: list[str]) -> pd.DataFrame:
    """One synthetic city: the rows of :func:`helpers.studies.claims.estimate` with ``seed``."""
    from helpers.data import synth

    tables, truth = synth.tables_in_memory(seed)
    return claims.estimate(tables, names, seed=seed, truth=truth).assign(seed=seed)


def run(seeds: list[int], names: list[str], jobs: int = 1, progress: bool = True,
        out: str | Path | None = None) -> pd.DataFrame:
    """Every replicate's rows (``claim, key, term, estimate, se, ci_low, ci_high, truth, covered, seed``).

    With ``out`` each replicate's rows are appended to that CSV as soon as they are computed, so an
    interrupted run keeps what it finished. ``jobs`` > 1 runs replicates in that many processes."""
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(seeds), file=sys.stderr, desc="replicates")
    rows = []

    def keep(est: pd.DataFrame) -> None:
        rows.append(est)
        if out is not None:
            est.to_csv(out, mode="a", header=not Path(out).exists() or Path(out).stat().st_size == 0, index=False)
        if bar is not None:
            bar.update(1)

    if jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs) as pool:
            for est in pool.map(replicate, seeds, [names] * len(seeds)):
                keep(est)
    else:
        for s in seeds:
            keep(replicate(s, names))
    if bar is not None:
        bar.close()
    return pd.concat(rows, ignore_index=True)


def summarise(res: pd.DataFrame, lo: float = 0.93, hi: float = 0.97) -> pd.DataFrame:
    """Bias and coverage per ground-truth key."""
    res = res.assign(error=res["estimate"] - res["truth"])
    g = res.groupby(["claim", "key"], sort=False)
    t = pd.DataFrame({
        "n": g.size(),
        "truth": g["truth"].mean(),
        "mean_est": g["estimate"].mean(),
        "bias": g["error"].mean(),
        "rmse": g["error"].apply(lambda e: float(np.sqrt(np.mean(e**2)))),
        "mean_se": g["se"].mean(),
        "sd_err": g["error"].std(ddof=1),
        "coverage": g["covered"].mean(),
    })
    t["mc_se"] = np.sqrt(t["coverage"] * (1 - t["coverage"]) / t["n"])
    t["in_target"] = np.where((t["coverage"] >= lo) & (t["coverage"] <= hi), "yes", "NO")
    return t.reset_index()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="The printed data are SYNTHETIC: regenerated cities with planted effects.")
    p.add_argument("--claims", nargs="+", default=["all"], help="claim names or the groups fast/slow/all (default all)")
    p.add_argument("--replicates", type=int, default=None,
                   help=f"cities per claim (default {DEFAULT_REPLICATES['fast']} for fast claims, "
                        f"{DEFAULT_REPLICATES['slow']} for slow ones)")
    p.add_argument("--seeds-from", type=int, default=DEFAULT_SEEDS_FROM,
                   help=f"first seed; replicate r uses seeds_from + r (default {DEFAULT_SEEDS_FROM})")
    p.add_argument("--jobs", type=int, default=1, help="processes (default 1)")
    p.add_argument("--out", default=None, help="also write every replicate's rows to this CSV (replaced)")
    p.add_argument("--summarise", nargs="+", default=None, metavar="CSV",
                   help="only print the table of saved per-replicate rows (e.g. of runs made in parallel)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    ns = p.parse_args(argv)
    t0 = time.perf_counter()
    if ns.summarise:
        res = pd.concat([pd.read_csv(f) for f in ns.summarise], ignore_index=True).drop_duplicates(["seed", "key"])
        header = f"SYNTHETIC data; {res['seed'].nunique()} replicates from {len(ns.summarise)} file(s)"
    else:
        names = resolve(ns.claims)
        if ns.out and Path(ns.out).exists():
            Path(ns.out).unlink()
        parts = []
        for speed in ("fast", "slow"):
            group = [n for n in names if claims.CLAIMS[n].speed == speed]
            if group:
                n_rep = ns.replicates or DEFAULT_REPLICATES[speed]
                seeds = list(range(ns.seeds_from, ns.seeds_from + n_rep))
                parts.append(run(seeds, group, ns.jobs, progress=not ns.quiet, out=ns.out))
        res = pd.concat(parts, ignore_index=True)
        header = (f"SYNTHETIC data; seeds from {ns.seeds_from}; claims: {', '.join(names)}; "
                  f"{time.perf_counter() - t0:.0f} s")
    tab = summarise(res)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_rows", 200):
        print(header)
        print(tab.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    bad = tab[tab["in_target"] == "NO"]
    if len(bad):
        print(f"\nrows outside the 93-97% target: {', '.join(bad['key'])}")
        for k in bad["key"]:
            print(f"  {k}: {KNOWN_REASONS.get(k, 'no known reason: investigate (or run more replicates)')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
