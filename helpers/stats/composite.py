"""Composite index of the three pillars (coverage, participation, satisfaction).

The index is declared in a YAML file (default: ``helpers/stats/index_default.yaml``):
indicators per pillar with their direction, the normalisation, weights by
name and the aggregation. Construction follows the OECD/JRC *Handbook on
Constructing Composite Indicators* (2008): normalise each indicator,
aggregate indicators into pillar scores with their weights, then pillars
into the index with theirs (the same aggregation at both levels).

Normalisations (after reversing "lower is better" indicators):

* ``minmax``: ``100 (x - min) / (max - min)`` (0-100);
* ``zscore``: ``50 + 10 (x - mean) / sd`` (sd with ddof 1);
* ``rank``:   ``100 (rank - 1) / (n - 1)`` (average ranks for ties).

Aggregations: ``arithmetic`` (weighted mean, compensatory) or ``geometric``
(weighted geometric mean of ``value + geometric_shift``, minus the shift;
partly non-compensatory; the shift keeps min-max zeros finite and is part of
the spec, not a silent fix). Any value where ``value + shift <= 0`` raises.

Nothing falls back silently: unknown keys or options, weights naming no
pillar or indicator, indicators missing from the data, missing values or a
constant indicator raise ``ValueError`` naming the problem.

Uncertainty and sensitivity (Saisana, Saltelli & Tarantola 2005): Monte
Carlo draws of the normalisation and aggregation (uniformly from the
alternatives in ``uncertainty``) and of every weight (multiplied by
``Uniform(1 - weight_noise, 1 + weight_noise)``) give each unit's score and
rank interval; one-at-a-time analyses (each alternative normalisation or
aggregation, each weight perturbed alone, each indicator dropped) report
which choice moves the ranks most (mean absolute rank shift).

References
----------
OECD/JRC (2008). Handbook on Constructing Composite Indicators: Methodology and User Guide.
Saisana M, Saltelli A, Tarantola S (2005). Uncertainty and sensitivity analysis techniques
as tools for the quality assessment of composite indicators. JRSS A 168:307-323.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["CompositeIndex", "IndexResult", "IndexUncertainty", "DEFAULT_SPEC"]

DEFAULT_SPEC: Path = Path(__file__).with_name("index_default.yaml")

NORMALISATIONS = ("minmax", "zscore", "rank")
AGGREGATIONS = ("arithmetic", "geometric")
DIRECTIONS = ("higher", "lower")
TOP_KEYS = ("unit", "normalisation", "aggregation", "geometric_shift", "pillars", "weights", "uncertainty",
            "name", "description")
UNCERTAINTY_KEYS = ("normalisations", "aggregations", "weight_noise")


def _check_option(key: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{key}: unknown option {value!r}; allowed: {', '.join(map(str, allowed))}")


def _normalise(x: np.ndarray, method: str, name: str) -> np.ndarray:
    if method == "minmax":
        lo, hi = x.min(), x.max()
        if hi == lo:
            raise ValueError(f"indicator {name!r} is constant; it cannot be min-max normalised")
        return 100.0 * (x - lo) / (hi - lo)
    if method == "zscore":
        sd = x.std(ddof=1)
        if sd == 0:
            raise ValueError(f"indicator {name!r} is constant; it cannot be z-scored")
        return 50.0 + 10.0 * (x - x.mean()) / sd
    if method == "rank":
        return 100.0 * (stats.rankdata(x) - 1) / (len(x) - 1)
    raise ValueError(f"normalisation: unknown option {method!r}; allowed: {', '.join(NORMALISATIONS)}")


def _aggregate(values: np.ndarray, weights: np.ndarray, method: str, shift: float, what: str) -> np.ndarray:
    """values: units x components; weights sum to 1."""
    if method == "arithmetic":
        return values @ weights
    if method == "geometric":
        v = values + shift
        if np.any(v <= 0):
            raise ValueError(f"geometric aggregation of {what}: a value + geometric_shift ({shift}) is <= 0; "
                             "choose a larger geometric_shift or another normalisation")
        return np.exp(np.log(v) @ weights) - shift
    raise ValueError(f"aggregation: unknown option {method!r}; allowed: {', '.join(AGGREGATIONS)}")


def _rank_desc(x: np.ndarray) -> np.ndarray:
    return stats.rankdata(-x, method="min").astype(float)


@dataclass(frozen=True)
class CompositeIndex:
    """A composite index spec. Build with :meth:`from_yaml` or :meth:`from_dict`."""

    unit: str
    pillars: dict  # pillar -> {indicator: direction}
    weights: dict  # name -> weight (pillars and indicators); missing -> 1
    normalisation: str = "minmax"
    aggregation: str = "arithmetic"
    geometric_shift: float = 1.0
    alt_normalisations: tuple = NORMALISATIONS
    alt_aggregations: tuple = AGGREGATIONS
    weight_noise: float = 0.25
    name: str = "index"

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_yaml(cls, path=DEFAULT_SPEC) -> "CompositeIndex":
        """Read and validate a YAML spec (default: ``helpers/stats/index_default.yaml``)."""
        import yaml

        with open(path, encoding="utf-8") as fh:
            spec = yaml.safe_load(fh)
        return cls.from_dict(spec)

    @classmethod
    def from_dict(cls, spec: dict) -> "CompositeIndex":
        """Validate a spec dict (same keys as the YAML file)."""
        if not isinstance(spec, dict):
            raise ValueError("index spec must be a mapping")
        for k in spec:
            _check_option("index spec key", k, TOP_KEYS)
        for k in ("unit", "pillars"):
            if k not in spec:
                raise ValueError(f"index spec: missing required key {k!r}")
        norm = spec.get("normalisation", "minmax")
        _check_option("normalisation", norm, NORMALISATIONS)
        agg = spec.get("aggregation", "arithmetic")
        _check_option("aggregation", agg, AGGREGATIONS)
        pillars = spec["pillars"]
        if not isinstance(pillars, dict) or not pillars:
            raise ValueError("pillars: must map each pillar to {indicator: direction}")
        seen: set[str] = set()
        clean: dict = {}
        for p, inds in pillars.items():
            if not isinstance(inds, dict) or not inds:
                raise ValueError(f"pillars.{p}: must map indicators to a direction (higher or lower)")
            for ind, direction in inds.items():
                _check_option(f"pillars.{p}.{ind} direction", direction, DIRECTIONS)
                if ind in seen or ind in pillars:
                    raise ValueError(f"indicator {ind!r} appears twice or shares a pillar's name")
                seen.add(ind)
            clean[p] = dict(inds)
        weights = dict(spec.get("weights") or {})
        names = set(clean) | seen
        for w, v in weights.items():
            if w not in names:
                raise ValueError(f"weights: {w!r} names no pillar or indicator; allowed: {', '.join(sorted(names))}")
            if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
                raise ValueError(f"weights.{w}: must be a non-negative number, got {v!r}")
        shift = spec.get("geometric_shift", 1.0)
        if not isinstance(shift, (int, float)) or shift < 0:
            raise ValueError(f"geometric_shift: must be a non-negative number, got {shift!r}")
        unc = dict(spec.get("uncertainty") or {})
        for k in unc:
            _check_option("uncertainty key", k, UNCERTAINTY_KEYS)
        alt_n = tuple(unc.get("normalisations", NORMALISATIONS))
        for n in alt_n:
            _check_option("uncertainty.normalisations", n, NORMALISATIONS)
        alt_a = tuple(unc.get("aggregations", AGGREGATIONS))
        for a in alt_a:
            _check_option("uncertainty.aggregations", a, AGGREGATIONS)
        noise = unc.get("weight_noise", 0.25)
        if not isinstance(noise, (int, float)) or not 0 <= noise < 1:
            raise ValueError(f"uncertainty.weight_noise: must be in [0, 1), got {noise!r}")
        return cls(unit=str(spec["unit"]), pillars=clean, weights=weights, normalisation=norm, aggregation=agg,
                   geometric_shift=float(shift), alt_normalisations=alt_n, alt_aggregations=alt_a,
                   weight_noise=float(noise), name=str(spec.get("name", "index")))

    # ------------------------------------------------------------------ helpers
    @property
    def indicators(self) -> list[str]:
        return [i for inds in self.pillars.values() for i in inds]

    def _matrix(self, data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        if self.unit not in data.columns:
            raise ValueError(f"data has no unit column {self.unit!r}")
        missing = [i for i in self.indicators if i not in data.columns]
        if missing:
            raise ValueError(f"indicators missing from the data: {missing}")
        if data[self.unit].duplicated().any():
            raise ValueError(f"unit column {self.unit!r} has duplicates; one row per unit expected")
        X = data[self.indicators].astype("float64").to_numpy()
        if np.isnan(X).any():
            bad = [i for i in self.indicators if data[i].isna().any()]
            raise ValueError(f"indicators with missing values (impute them explicitly first): {bad}")
        if len(data) < 3:
            raise ValueError("need at least three units")
        return data[self.unit].to_numpy(), X

    def _scores(self, X: np.ndarray, norm: str, agg: str, w: dict, drop: str | None = None) -> dict:
        out = {}
        j = 0
        pillar_vals, pillar_w = [], []
        for p, inds in self.pillars.items():
            vals, ws = [], []
            for ind, direction in inds.items():
                x = X[:, j] if direction == "higher" else -X[:, j]
                j += 1
                if ind == drop:
                    continue
                vals.append(_normalise(x, norm, ind))
                ws.append(w.get(ind, 1.0))
            if not vals:
                continue
            ws = np.asarray(ws, float)
            if ws.sum() <= 0:
                raise ValueError(f"weights of pillar {p!r} sum to zero")
            score = _aggregate(np.column_stack(vals), ws / ws.sum(), agg, self.geometric_shift, f"pillar {p!r}")
            out[p] = score
            pillar_vals.append(score)
            pillar_w.append(w.get(p, 1.0))
        pw = np.asarray(pillar_w, float)
        if pw.sum() <= 0:
            raise ValueError("pillar weights sum to zero")
        out["index"] = _aggregate(np.column_stack(pillar_vals), pw / pw.sum(), agg, self.geometric_shift, "pillars")
        return out

    # ------------------------------------------------------------------ public
    def compute(self, data: pd.DataFrame) -> "IndexResult":
        """Pillar scores, the index and the rank (1 = best) for each unit."""
        units, X = self._matrix(data)
        s = self._scores(X, self.normalisation, self.aggregation, self.weights)
        frame = pd.DataFrame({self.unit: units, **{k: v for k, v in s.items()}})
        frame["rank"] = _rank_desc(frame["index"].to_numpy())
        frame = frame.sort_values("rank", kind="stable").reset_index(drop=True)
        return IndexResult(self, frame, data.copy())

    def uncertainty(self, data: pd.DataFrame, n_sim: int = 1000, seed=None, level: float = 0.9) -> "IndexUncertainty":
        """Monte Carlo uncertainty and one-at-a-time sensitivity; see the module docstring."""
        return self.compute(data).uncertainty(n_sim=n_sim, seed=seed, level=level)

    def with_options(self, **kw) -> "CompositeIndex":
        """A copy with some options changed, validated again (e.g. ``normalisation="rank"``)."""
        spec = {"unit": self.unit, "pillars": self.pillars, "weights": self.weights,
                "normalisation": self.normalisation, "aggregation": self.aggregation,
                "geometric_shift": self.geometric_shift,
                "uncertainty": {"normalisations": list(self.alt_normalisations),
                                "aggregations": list(self.alt_aggregations), "weight_noise": self.weight_noise}}
        spec.update(kw)
        return CompositeIndex.from_dict(spec)


@dataclass
class IndexResult:
    """``scores``: one row per unit with each pillar score, ``index`` and ``rank``."""

    spec: CompositeIndex
    scores: pd.DataFrame
    data: pd.DataFrame = field(repr=False)

    def long(self) -> pd.DataFrame:
        """Tidy: one row per unit and measure (pillars and index)."""
        u = self.spec.unit
        return self.scores.drop(columns="rank").melt(id_vars=u, var_name="measure", value_name="score")

    def uncertainty(self, n_sim: int = 1000, seed=None, level: float = 0.9) -> "IndexUncertainty":
        spec = self.spec
        units, X = spec._matrix(self.data)
        rng = np.random.default_rng(seed)
        base = spec._scores(X, spec.normalisation, spec.aggregation, spec.weights)["index"]
        base_rank = _rank_desc(base)
        names = list(spec.pillars) + spec.indicators
        wbase = {n: float(spec.weights.get(n, 1.0)) for n in names}
        noise = spec.weight_noise

        def perturbed(which=None):
            return {n: (wbase[n] * rng.uniform(1 - noise, 1 + noise) if which in (None, n) else wbase[n])
                    for n in names}

        scores = np.empty((n_sim, len(units)))
        ranks = np.empty_like(scores)
        for k in range(n_sim):
            norm = spec.alt_normalisations[rng.integers(len(spec.alt_normalisations))]
            agg = spec.alt_aggregations[rng.integers(len(spec.alt_aggregations))]
            s = spec._scores(X, norm, agg, perturbed())["index"]
            scores[k], ranks[k] = s, _rank_desc(s)
        a = (1 - level) / 2
        summary = pd.DataFrame({
            spec.unit: units, "score": base, "score_median": np.median(scores, 0),
            "score_low": np.quantile(scores, a, 0), "score_high": np.quantile(scores, 1 - a, 0),
            "rank": base_rank, "rank_median": np.median(ranks, 0),
            "rank_low": np.floor(np.quantile(ranks, a, 0)), "rank_high": np.ceil(np.quantile(ranks, 1 - a, 0)),
        }).sort_values("rank", kind="stable").reset_index(drop=True)

        rows = []

        def record(factor, level_, rk):
            shift = np.abs(np.atleast_2d(rk) - base_rank)
            rows.append({"factor": factor, "choice": level_, "mean_abs_rank_shift": float(shift.mean()),
                         "max_abs_rank_shift": float(shift.max()),
                         "share_units_moved": float((shift.mean(0) > 0).mean())})

        for norm in spec.alt_normalisations:
            if norm != spec.normalisation:
                record("normalisation", norm, _rank_desc(spec._scores(X, norm, spec.aggregation, wbase)["index"]))
        for agg in spec.alt_aggregations:
            if agg != spec.aggregation:
                record("aggregation", agg, _rank_desc(spec._scores(X, spec.normalisation, agg, wbase)["index"]))
        n_oat = max(20, n_sim // 10)
        if noise > 0:
            for n in names:
                rk = [_rank_desc(spec._scores(X, spec.normalisation, spec.aggregation, perturbed(n))["index"])
                      for _ in range(n_oat)]
                record("weight", n, np.asarray(rk))
        for ind in spec.indicators:
            try:
                s = spec._scores(X, spec.normalisation, spec.aggregation, wbase, drop=ind)["index"]
            except ValueError:
                continue
            record("drop indicator", ind, _rank_desc(s))
        sens = pd.DataFrame(rows).sort_values("mean_abs_rank_shift", ascending=False, kind="stable")
        return IndexUncertainty(summary, sens.reset_index(drop=True), scores, ranks, level, spec.unit)


@dataclass
class IndexUncertainty:
    """``summary``: per unit the base score and rank with Monte Carlo intervals
    (``level``); ``sensitivity``: one row per choice with the mean and max
    absolute rank shift it causes, sorted (most influential first);
    ``draws_score`` / ``draws_rank``: simulations x units arrays."""

    summary: pd.DataFrame
    sensitivity: pd.DataFrame
    draws_score: np.ndarray = field(repr=False)
    draws_rank: np.ndarray = field(repr=False)
    level: float = 0.9
    unit: str = "unit"

    def plot(self, ax=None, **kw):
        """Rank intervals (see :func:`helpers.stats.compare.plot_rank_intervals`)."""
        from helpers.stats.compare import plot_rank_intervals

        return plot_rank_intervals(self.summary.rename(columns={self.unit: "unit"}), ax=ax, **kw)

