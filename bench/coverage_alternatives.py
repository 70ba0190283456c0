"""Coverage of alternative variance estimators beside the published one, for the survey claims whose
published intervals fall outside 93-97% (README, "How often the published intervals cover the planted
truth"): awareness and participation, fitted as published (clustered by community), with model-based
SEs, and clustered by sub-district, on the same regenerated SYNTHETIC cities.

Usage::

    python bench/coverage_alternatives.py --seeds-from 1000 --replicates 200 --out alt.csv
    python bench/coverage_alternatives.py --summarise alt.csv

Each variant is the registry's specification (:mod:`helpers.studies.claims`) with one field changed,
so nothing is re-specified by hand.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402

from helpers.data import synth  # noqa: E402
from helpers.studies import claims  # noqa: E402

CLAIMS = ("awareness", "participation")
VARIANTS = {"published (cluster by community)": {},
            "model-based": {"variance": "model"},
            "cluster by sub-district": {"cluster": "subdistrict_id"}}


def one(seed: int) -> pd.DataFrame:
    """Every variant's estimates beside the truth for one regenerated city."""
    tables, truth = synth.tables_in_memory(seed)
    parts = []
    for name in CLAIMS:
        c = claims.CLAIMS[name]
        for variant, change in VARIANTS.items():
            alt = dataclasses.replace(c, spec=dataclasses.replace(c.spec, **change)) if change else c
            b = claims.beside_truth(alt.estimates(alt.fit(tables)), truth)
            parts.append(b.assign(seed=seed, claim=name, variant=variant))
    return pd.concat(parts, ignore_index=True)


def summarise(res: pd.DataFrame) -> pd.DataFrame:
    g = res.groupby(["claim", "key", "variant"], sort=False).agg(
        n=("covered", "size"), coverage=("covered", "mean"), mean_se=("se", "mean"), sd_est=("estimate", "std"))
    g["se_over_sd"] = g["mean_se"] / g["sd_est"]
    return g.reset_index()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog="The printed data are SYNTHETIC: regenerated cities with planted effects.")
    p.add_argument("--seeds-from", type=int, default=1000, help="first seed (default 1000)")
    p.add_argument("--replicates", type=int, default=200, help="cities (default 200)")
    p.add_argument("--out", default=None, help="append every city's rows to this CSV as they come")
    p.add_argument("--summarise", nargs="+", metavar="CSV", default=None, help="only print the table of saved rows")
    ns = p.parse_args(argv)
    if ns.summarise:
        res = pd.concat([pd.read_csv(f) for f in ns.summarise], ignore_index=True)
    else:
        parts = []
        for k, seed in enumerate(range(ns.seeds_from, ns.seeds_from + ns.replicates)):
            r = one(seed)
            parts.append(r)
            if ns.out:
                r.to_csv(ns.out, mode="a", header=not os.path.exists(ns.out), index=False)
            print(f"\r{k + 1}/{ns.replicates} cities", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        res = pd.concat(parts, ignore_index=True)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(f"SYNTHETIC data; {res['seed'].nunique()} cities")
        print(summarise(res).to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
