"""Validate the planted-effect estimators: bias and 95 % interval coverage over many synthetic cities.

For each replicate the synthetic city is regenerated in memory with
:mod:`helpers.data.synth` (seed ``seeds_from + r``), every selected estimator of
:mod:`helpers.stats.models` (``PLANTED_ESTIMATORS``) is run, and its estimate and
95 % interval are compared with that replicate's ground truth. The table
printed at the end has one row per ground-truth key: replicates, mean
estimate, mean truth, bias, RMSE, mean SE versus the SD of the estimates,
and the empirical coverage of the 95 % interval with its Monte Carlo SE.
The target is coverage between 93 % and 97 %; rows outside are marked.

Usage::

    python bench/validate_coverage.py                       # 200 replicates, fast estimators
    python bench/validate_coverage.py --replicates 40 --estimators slow
    python bench/validate_coverage.py --replicates 20 --estimators awareness event_study --out results.csv

``--estimators`` takes estimator names or the groups ``fast``, ``slow`` and ``all``.
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

from helpers.stats import models  # noqa: E402

DEFAULT_SEEDS_FROM = 1000

#: Why a row may fall outside the 93-97 % target, from the 300-replicate (fast) and 90-replicate
#: (slow) runs of 2026-11-22; printed under the table for rows outside the target. With 200-300
#: replicates the Monte Carlo SE of a 95 % coverage is 1.3-1.5 points, so a calibrated interval
#: lands outside 93-97 % now and then; the notes say when more than chance is at work.
KNOWN_REASONS: dict[str, str] = {
    "registration_agreement_logit": (
        "91% over 200 seeds. The registration logit has a community effect 0.2*z_c (spatial field) that "
        "no fixed effect fully absorbs; a logit with an omitted effect estimates the attenuated, "
        "population-averaged coefficient (bias -0.004 = 0.4 SE with sub-district FE, -0.007 with "
        "district FE, both about 91%); the SE is also ~6% small because the remaining field is "
        "correlated across sub-district borders. A logistic GLMM would target the planted value."),
    "eight_haves_funding_logit": (
        "92.5% over 200 seeds with model-based SEs (91.7% clustered): unbiased, the SE is ~10% below the "
        "SD of the estimates (2 Monte Carlo SEs), plausibly the log-normal funding's high-leverage "
        "points; borderline."),
    "mediation_indirect": (
        "91.7% over 300 seeds: percentile cluster-bootstrap interval of a product a*b, slightly "
        "liberal (SE 5% below the SD, bias -0.01 = 0.15 SE); BCa or a larger n_boot would not "
        "remove the small-sample skew of the product."),
    "sat_aware": "91.1% over 90 seeds (Monte Carlo SE 3 points): consistent with chance.",
    "aware_15to30_logit": "97.0% over 300 seeds: at the upper edge by chance (SE 8% above the SD).",
    "sat_community_sd": (
        "93% over 90 seeds, biased low (2.86 vs 3): the planted v_c = 1.5 z_c + noise contains the "
        "spatial field, whose district means the district random intercept absorbs."),
}


def synth_tables(seed: int) -> tuple[dict, dict]:
    """Build every table of the synthetic city in memory for ``seed``, as the CSV files would read back.

    Mirrors :func:`helpers.data.synth.generate` without writing files: the same
    random streams, the same rounding (so estimates equal those from the
    written files), and the ground truth. Returns ``(tables, ground_truth)``.
    """
    from helpers.data.schema import TABLES
    from helpers.data import period as periods
    from helpers.data.synth import GENERATOR_VERSION, STUDY_PERIOD, _io, _rngs, _sorted, _spec, csv_tables
    from helpers.data.synth import _params as P
    from helpers.data.synth import _survey, _truth, _world

    rngs = _rngs(seed)
    w = _world.build(rngs)
    des = _survey.design(w, rngs["survey"], lambda n_h: P.PSU_PER_STRATUM)
    survey = _survey.respondents(w, rngs["survey"], des)
    esat = _survey.expected_satisfaction(w, rngs["truth_mc"])
    _truth.assessment(w, rngs["assessment"], esat)
    truth = _truth.ground_truth(w, seed, GENERATOR_VERSION)

    def roundtrip(df: pd.DataFrame, spec: dict) -> pd.DataFrame:
        out = {}
        for c in df.columns:
            kind, dec = spec[c]
            if kind == "str":
                out[c] = df[c].to_numpy()
            else:
                v = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
                out[c] = np.round(v) if kind == "int" else np.round(v, dec)
        return pd.DataFrame(out)

    tables = {name: roundtrip(_sorted(df, name), _spec(name, dec)) for name, (df, dec) in csv_tables(w, survey).items()}
    pts = w.points.sort_values("point_id", kind="stable").reset_index(drop=True)
    tables["service_points"] = roundtrip(pts[TABLES["service_points"].column_names], _spec("service_points"))
    tables["community_boundaries"] = w.boundaries[TABLES["community_boundaries"].column_names].copy()
    tables["truth_registration"] = w.truth_registration.copy()
    del _io
    periods.stamp(tables, periods.StudyPeriod(*STUDY_PERIOD, "the synthetic generator"))  # as load does
    return tables, truth


def resolve_estimators(names: list[str]) -> list[str]:
    out: list[str] = []
    for n in names:
        if n == "all":
            out += list(models.PLANTED_ESTIMATORS)
        elif n in ("fast", "slow"):
            out += [k for k, (_, speed) in models.PLANTED_ESTIMATORS.items() if speed == n]
        elif n in models.PLANTED_ESTIMATORS:
            out.append(n)
        else:
            raise SystemExit(f"unknown estimator {n!r}; allowed: all, fast, slow, "
                             f"{', '.join(models.PLANTED_ESTIMATORS)}")
    return list(dict.fromkeys(out))


def run(replicates: int, seeds_from: int, estimators: list[str], progress: bool = True,
        out: str | Path | None = None) -> pd.DataFrame:
    """One row per replicate and key: seed, key, estimate, se, ci_low, ci_high, truth, covered.

    With ``out``, each replicate's rows are appended to that CSV as soon as
    they are computed (so an interrupted run keeps its replicates).
    """
    rows = []
    bar = None
    if progress:
        try:
            from tqdm import tqdm
            bar = tqdm(total=replicates, file=sys.stderr, desc="replicates")
        except ImportError:  # pragma: no cover
            bar = None
    for r in range(replicates):
        seed = seeds_from + r
        tables, gt = synth_tables(seed)
        truth = models.truth_values(gt)
        est = models.estimate_planted_effects(tables, estimators, seed=seed)
        est["seed"] = seed
        est["truth"] = est["key"].map(truth)
        est["covered"] = (est["ci_low"] <= est["truth"]) & (est["truth"] <= est["ci_high"])
        rows.append(est)
        if out is not None:
            est.to_csv(out, mode="a", header=not Path(out).exists() or Path(out).stat().st_size == 0, index=False)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return pd.concat(rows, ignore_index=True)


def summarise(res: pd.DataFrame, lo: float = 0.93, hi: float = 0.97) -> pd.DataFrame:
    """Bias and coverage per key."""
    g = res.groupby(["group", "key"], sort=False)
    t = pd.DataFrame({
        "n": g.size(),
        "truth": g["truth"].mean(),
        "mean_est": g["estimate"].mean(),
        "bias": g.apply(lambda f: (f["estimate"] - f["truth"]).mean(), include_groups=False),
        "rmse": g.apply(lambda f: np.sqrt(((f["estimate"] - f["truth"]) ** 2).mean()), include_groups=False),
        "mean_se": g["se"].mean(),
        "sd_err": g.apply(lambda f: (f["estimate"] - f["truth"]).std(ddof=1), include_groups=False),
        "coverage": g["covered"].mean(),
    })
    t["mc_se"] = np.sqrt(t["coverage"] * (1 - t["coverage"]) / t["n"])
    t["in_target"] = np.where((t["coverage"] >= lo) & (t["coverage"] <= hi), "yes", "NO")
    return t.reset_index()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--replicates", type=int, default=200, help="synthetic cities to generate (default 200)")
    p.add_argument("--seeds-from", type=int, default=DEFAULT_SEEDS_FROM,
                   help=f"first seed; replicate r uses seeds_from + r (default {DEFAULT_SEEDS_FROM})")
    p.add_argument("--estimators", nargs="+", default=["fast"],
                   help="estimator names or groups fast/slow/all (default: fast)")
    p.add_argument("--out", default=None,
                   help="also write the per-replicate results to this CSV (appended replicate by replicate; "
                        "an existing file is replaced)")
    p.add_argument("--summarise", nargs="+", default=None, metavar="CSV",
                   help="only print the table of saved per-replicate results (e.g. of runs made in parallel "
                        "with different --seeds-from)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    ns = p.parse_args(argv)
    t0 = time.perf_counter()
    if ns.summarise:
        res = pd.concat([pd.read_csv(f) for f in ns.summarise], ignore_index=True)
        res = res.drop_duplicates(["seed", "key"])
        header = (f"SYNTHETIC data; {res['seed'].nunique()} replicates (seeds {res['seed'].min()}..{res['seed'].max()}) "
                  f"from {len(ns.summarise)} file(s); replicates per key vary when runs differ")
    else:
        est = resolve_estimators(ns.estimators)
        if ns.out and Path(ns.out).exists():
            Path(ns.out).unlink()
        res = run(ns.replicates, ns.seeds_from, est, progress=not ns.quiet, out=ns.out)
        header = (f"SYNTHETIC data; {ns.replicates} replicates (seeds {ns.seeds_from}.."
                  f"{ns.seeds_from + ns.replicates - 1}); estimators: {', '.join(est)}; {time.perf_counter() - t0:.0f}s")
    tab = summarise(res)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_rows", 200):
        print(header)
        print(tab.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    bad = tab[tab["in_target"] == "NO"]
    if len(bad):
        print(f"\nrows outside the 93-97% target: {', '.join(bad['key'])}")
        for k in bad["key"]:
            print(f"  {k}: {KNOWN_REASONS.get(k, 'no known reason: investigate (or more replicates)')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
