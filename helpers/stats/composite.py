"""Composite indices: indicators grouped in pillars, normalised, weighted and aggregated.

An index is declared in a YAML file or a dict (:meth:`CompositeIndex.from_yaml`,
:meth:`CompositeIndex.from_dict`): indicators per pillar with their direction, the
normalisation, weights by name and the aggregation. Construction follows the OECD/JRC
*Handbook on Constructing Composite Indicators* (2008): normalise each indicator, aggregate
indicators into pillar scores with their weights, then pillars into the index with theirs (the
same aggregation at both levels). This module names no indicator of its own: a study declares
its index in its own file.

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

Uncertainty and sensitivity (Saisana, Saltelli & Tarantola 2005) come from one Monte Carlo,
:meth:`IndexResult.uncertainty`, which varies what the caller asks for:

* the **method** (``method=True``): each replicate draws a normalisation and an aggregation
  uniformly from the alternatives in ``uncertainty`` and multiplies every weight by
  ``Uniform(1 - weight_noise, 1 + weight_noise)``;
* the **indicators** (``se=``): each replicate draws every indicator of every unit from a normal
  distribution around its value with its standard error (independently; clipped to the
  indicator's ``bounds`` when given);
* or both at once.

Each replicate's index and ranks give every unit a score interval and a rank interval.
One-at-a-time analyses of the method (each alternative normalisation or aggregation, each
weight perturbed alone, each indicator dropped) report which choice moves the ranks most
(mean absolute rank shift).

References
----------
OECD/JRC (2008). Handbook on Constructing Composite Indicators: Methodology and User Guide.
Saisana M, Saltelli A, Tarantola S (2005). Uncertainty and sensitivity analysis techniques
as tools for the quality assessment of composite indicators. JRSS A 168:307-323.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["CompositeIndex", "IndexResult", "IndexUncertainty", "NORMALISATIONS", "AGGREGATIONS"]

NORMALISATIONS = ("minmax", "zscore", "rank")
AGGREGATIONS = ("arithmetic", "geometric")
DIRECTIONS = ("higher", "lower")
TOP_KEYS = ("unit", "normalisation", "aggregation", "geometric_shift", "pillars", "weights", "uncertainty",
            "name", "description")
UNCERTAINTY_KEYS = ("normalisations", "aggregations", "weight_noise")


def _check_option(key: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{key}: unknown option {value!r}; allowed: {', '.join(map(str, allowed))}")


def _ranks_average(X: np.ndarray) -> np.ndarray:
    """Ascending ranks of each column, ties given their average rank (as ``scipy.stats.rankdata``):
    ``(#{x_j < x_i} + #{x_j <= x_i} + 1) / 2``, by binary search in the sorted column."""
    out = np.empty(X.shape, float)
    for j in range(X.shape[1]):
        s = np.sort(X[:, j])
        out[:, j] = (np.searchsorted(s, X[:, j], "left") + np.searchsorted(s, X[:, j], "right") + 1) / 2.0
    return out


def _normalise(X: np.ndarray, method: str, names, constant: str = "raise") -> np.ndarray:
    """Normalise each column of ``X`` (units x indicators, named ``names``) across units.

    A column equal for every unit raises (``constant="raise"``), or (``"midpoint"``) gets the
    value 50 for every unit, as rank normalisation gives it: it separates no unit."""
    if method == "minmax":
        lo, hi = X.min(0), X.max(0)
        flat = hi == lo
        if np.any(flat) and constant == "raise":
            raise ValueError(f"indicator {names[int(np.argmax(flat))]!r} is constant; it cannot be min-max "
                             "normalised")
        return np.where(flat, 50.0, 100.0 * (X - lo) / np.where(flat, 1.0, hi - lo))
    if method == "zscore":
        sd = X.std(0, ddof=1)
        flat = sd == 0
        if np.any(flat) and constant == "raise":
            raise ValueError(f"indicator {names[int(np.argmax(flat))]!r} is constant; it cannot be z-scored")
        return np.where(flat, 50.0, 50.0 + 10.0 * (X - X.mean(0)) / np.where(flat, 1.0, sd))
    if method == "rank":
        return 100.0 * (_ranks_average(X) - 1) / (len(X) - 1)
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
    """Ranks, 1 = the largest value, ties sharing the smallest rank (``rankdata(-x, "min")``):
    ``1 + #{x_j > x_i}``."""
    return 1.0 + np.searchsorted(np.sort(-x), -x, "left")


@dataclass(frozen=True)
class CompositeIndex:
    """A composite index specification. Build with :meth:`from_yaml` or :meth:`from_dict`; compute it
    on data with :meth:`compute`."""

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
    def from_yaml(cls, path) -> "CompositeIndex":
        """Read and validate a YAML spec (the keys of :meth:`from_dict`) from the file ``path``."""
        import yaml

        with open(path, encoding="utf-8") as fh:
            spec = yaml.safe_load(fh)
        return cls.from_dict(spec)

    @classmethod
    def from_dict(cls, spec: dict) -> "CompositeIndex":
        """Validate a spec given as a dict (the keys of a YAML spec file).

        Keys: ``unit`` (the unit column; required); ``pillars`` (required): pillar ->
        ``{indicator column: direction}``, direction ``"higher"`` (more is better) or ``"lower"``;
        ``weights``: name (pillar or indicator) -> non-negative weight, relative within a pillar and
        across pillars (names not listed weigh 1); ``normalisation`` (``minmax``, ``zscore``,
        ``rank``; default ``minmax``); ``aggregation`` (``arithmetic``, ``geometric``; default
        ``arithmetic``); ``geometric_shift`` (default 1); ``uncertainty``: the alternatives the
        Monte Carlo draws from (``normalisations``, ``aggregations``, ``weight_noise`` in [0, 1),
        default 0.25); ``name``, ``description`` (free text). Unknown keys or options raise
        ``ValueError`` naming them.

        Returns
        -------
        CompositeIndex
        """
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

    def _scores(self, X: np.ndarray, norm: str, agg: str, w: dict, drop: str | None = None,
                constant: str = "raise") -> dict:
        """Pillar scores and the index from the indicator matrix ``X`` (units x :attr:`indicators`);
        ``constant`` as in :func:`_normalise`."""
        inds = self.indicators
        keep = [j for j, i in enumerate(inds) if i != drop]
        sign = np.array([1.0 if d == "higher" else -1.0 for p in self.pillars.values() for d in p.values()])
        Z = np.full(X.shape, np.nan)
        Z[:, keep] = _normalise(X[:, keep] * sign[keep], norm, [inds[j] for j in keep], constant)
        out = {}
        j = 0
        pillar_vals, pillar_w = [], []
        for p, members in self.pillars.items():
            cols = [k for k in range(j, j + len(members)) if inds[k] != drop]
            j += len(members)
            if not cols:
                continue
            ws = np.asarray([w.get(inds[k], 1.0) for k in cols], float)
            if ws.sum() <= 0:
                raise ValueError(f"weights of pillar {p!r} sum to zero")
            score = _aggregate(Z[:, cols], ws / ws.sum(), agg, self.geometric_shift, f"pillar {p!r}")
            out[p] = score
            pillar_vals.append(score)
            pillar_w.append(w.get(p, 1.0))
        pw = np.asarray(pillar_w, float)
        if pw.sum() <= 0:
            raise ValueError("pillar weights sum to zero")
        out["index"] = _aggregate(np.column_stack(pillar_vals), pw / pw.sum(), agg, self.geometric_shift, "pillars")
        return out

    def _se_matrix(self, se: pd.DataFrame, units: np.ndarray) -> np.ndarray:
        """Standard errors aligned with ``units`` and :attr:`indicators` (checked: present, finite, >= 0)."""
        if self.unit not in se.columns:
            raise ValueError(f"se has no unit column {self.unit!r}")
        if se[self.unit].duplicated().any():
            raise ValueError(f"se: unit column {self.unit!r} has duplicates; one row per unit expected")
        missing = [i for i in self.indicators if i not in se.columns]
        if missing:
            raise ValueError(f"se has no column for indicators {missing}; give 0 for an indicator measured "
                             "without error")
        s = se.set_index(self.unit)
        absent = [u for u in units if u not in s.index]
        if absent:
            raise ValueError(f"se has no row for units {absent[:5]}")
        S = s.loc[units, self.indicators].astype("float64").to_numpy()
        bad = ~np.isfinite(S) | (S < 0)
        if bad.any():
            j = np.argwhere(bad)[0]
            raise ValueError(f"se of indicator {self.indicators[j[1]]!r} for {self.unit} {units[j[0]]!r} is "
                             f"{float(S[tuple(j)])!r}; standard errors must be finite and >= 0")
        return S

    def _bounds(self, bounds: dict | None) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper limits per indicator (``-inf``/``inf`` where none is given)."""
        lo = np.full(len(self.indicators), -np.inf)
        hi = np.full(len(self.indicators), np.inf)
        for name, (a, b) in (bounds or {}).items():
            if name not in self.indicators:
                raise ValueError(f"bounds: {name!r} is not an indicator of the index; "
                                 f"indicators: {', '.join(self.indicators)}")
            j = self.indicators.index(name)
            lo[j] = -np.inf if a is None else float(a)
            hi[j] = np.inf if b is None else float(b)
            if lo[j] > hi[j]:
                raise ValueError(f"bounds.{name}: the lower limit {a!r} is above the upper limit {b!r}")
        return lo, hi

    # ------------------------------------------------------------------ public
    def compute(self, data: pd.DataFrame) -> "IndexResult":
        """Pillar scores, the index and the rank (1 = best) for each unit.

        Parameters
        ----------
        data : DataFrame
            One row per unit: the unit column and one column per indicator (no missing values).

        Returns
        -------
        IndexResult
            ``scores``: one row per unit, sorted by rank, with each pillar score, ``index`` and
            ``rank`` (1 = the highest index; ties share the smallest rank).
        """
        units, X = self._matrix(data)
        s = self._scores(X, self.normalisation, self.aggregation, self.weights)
        frame = pd.DataFrame({self.unit: units, **{k: v for k, v in s.items()}})
        frame["rank"] = _rank_desc(frame["index"].to_numpy())
        frame = frame.sort_values("rank", kind="stable").reset_index(drop=True)
        return IndexResult(self, frame, data.copy())

    def uncertainty(self, data: pd.DataFrame, n_sim: int = 1000, seed=None, level: float = 0.9, *,
                    method: bool = True, se: pd.DataFrame | None = None,
                    bounds: dict | None = None) -> "IndexUncertainty":
        """``self.compute(data).uncertainty(...)``: see :meth:`IndexResult.uncertainty`."""
        return self.compute(data).uncertainty(n_sim=n_sim, seed=seed, level=level, method=method, se=se,
                                              bounds=bounds)

    def with_options(self, **kw) -> "CompositeIndex":
        """A copy with some options changed, validated again (e.g. ``normalisation="rank"``)."""
        spec = {"unit": self.unit, "pillars": self.pillars, "weights": self.weights,
                "normalisation": self.normalisation, "aggregation": self.aggregation,
                "geometric_shift": self.geometric_shift, "name": self.name,
                "uncertainty": {"normalisations": list(self.alt_normalisations),
                                "aggregations": list(self.alt_aggregations), "weight_noise": self.weight_noise}}
        spec.update(kw)
        return CompositeIndex.from_dict(spec)

    def without(self, indicators) -> "CompositeIndex":
        """A copy without the named indicators (and their weights); the other weights are kept, so
        within a pillar the remaining indicators share its weight in their old proportions.

        Raises ``ValueError`` for a name that is not an indicator, or when a pillar would be left
        with no indicator (an index without one of its pillars is another index: say so and
        declare it)."""
        drop = list(dict.fromkeys(indicators))
        unknown = [i for i in drop if i not in self.indicators]
        if unknown:
            raise ValueError(f"without: {unknown} are not indicators of the index; "
                             f"indicators: {', '.join(self.indicators)}")
        pillars = {p: {i: d for i, d in inds.items() if i not in drop} for p, inds in self.pillars.items()}
        empty = [p for p, inds in pillars.items() if not inds]
        if empty:
            raise ValueError(f"without {drop}: pillar(s) {empty} would have no indicator left")
        weights = {k: v for k, v in self.weights.items() if k not in drop}
        return self.with_options(pillars=pillars, weights=weights)


@dataclass
class IndexResult:
    """The index computed on data: ``scores`` (one row per unit with each pillar score, ``index``
    and ``rank``, sorted by rank), the ``spec`` and the ``data`` it was computed from."""

    spec: CompositeIndex
    scores: pd.DataFrame
    data: pd.DataFrame = field(repr=False)

    def long(self) -> pd.DataFrame:
        """Tidy: one row per unit and measure (pillars and index): ``<unit>, measure, score``."""
        u = self.spec.unit
        return self.scores.drop(columns="rank").melt(id_vars=u, var_name="measure", value_name="score")

    def uncertainty(self, n_sim: int = 1000, seed=None, level: float = 0.9, *, method: bool = True,
                    se: pd.DataFrame | None = None, bounds: dict | None = None) -> "IndexUncertainty":
        """Monte Carlo intervals of every unit's score and rank, and the one-at-a-time sensitivity.

        Each of ``n_sim`` replicates recomputes the index after varying

        * the indicators, when ``se`` is given: each indicator of each unit is drawn from
          ``Normal(value, se)`` independently, then clipped to its ``bounds``; in a replicate
          where an indicator comes out the same for every unit (possible when draws pile up at a
          bound, e.g. several districts at 100%), it separates no unit and every unit gets the
          midpoint 50 on it, as rank normalisation would give;
        * the method, when ``method`` is true: a normalisation and an aggregation drawn uniformly
          from the spec's alternatives, and every weight (pillars and indicators) multiplied by
          ``Uniform(1 - weight_noise, 1 + weight_noise)``; otherwise the spec's own method.

        In each replicate the indicator draws come first, then the method's (normalisation,
        aggregation, then the weights in the order pillars, indicators), so a given ``seed`` gives
        the same replicates whatever else changes.

        Parameters
        ----------
        n_sim : int
            Replicates.
        seed : int, Generator or None
            Seed of :func:`numpy.random.default_rng`.
        level : float
            Level of the equal-tailed intervals.
        method : bool
            Vary the method (normalisation, aggregation, weights).
        se : DataFrame, optional
            One row per unit: the unit column and the standard error of every indicator (0 for an
            indicator measured without error). Without it the indicators are held fixed.
        bounds : dict, optional
            ``indicator -> (low, high)`` (either may be None): the range an indicator can take
            (e.g. ``(0, 100)`` for a percentage); draws beyond it are set to the limit.

        Returns
        -------
        IndexUncertainty
            ``summary``: one row per unit in the order of the base rank with ``score`` and ``rank``
            (the spec's own method on the data), ``score_median``, ``score_low``,
            ``score_high``, ``rank_median``, ``rank_low``, ``rank_high`` (quantiles of the
            replicates; rank limits floored and ceiled to whole ranks). With ``method``, the
            scores of different normalisations are on different scales, so only the rank
            intervals are comparable. ``sensitivity``: with ``method``, one row per
            one-at-a-time choice (``factor, choice, mean_abs_rank_shift, max_abs_rank_shift,
            share_units_moved``), most influential first; empty otherwise. ``draws_score`` and
            ``draws_rank``: replicates x units.

        Raises
        ------
        ValueError
            When nothing varies (``method`` false and no ``se``), or ``se``/``bounds`` do not fit
            the spec (see :meth:`CompositeIndex._se_matrix`).
        """
        spec = self.spec
        units, X = spec._matrix(self.data)
        if not method and se is None:
            raise ValueError("uncertainty: nothing varies; pass method=True, se= (the indicators' standard "
                             "errors), or both")
        S = None if se is None else spec._se_matrix(se, units)
        lo, hi = spec._bounds(bounds)
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
            Xk = X if S is None else np.clip(X + S * rng.standard_normal(X.shape), lo, hi)
            if method:
                norm = spec.alt_normalisations[rng.integers(len(spec.alt_normalisations))]
                agg = spec.alt_aggregations[rng.integers(len(spec.alt_aggregations))]
                w = perturbed()
            else:
                norm, agg, w = spec.normalisation, spec.aggregation, wbase
            s = spec._scores(Xk, norm, agg, w, constant="midpoint" if S is not None else "raise")["index"]
            scores[k], ranks[k] = s, _rank_desc(s)
        a = (1 - level) / 2
        summary = pd.DataFrame({
            spec.unit: units, "score": base, "score_median": np.median(scores, 0),
            "score_low": np.quantile(scores, a, 0), "score_high": np.quantile(scores, 1 - a, 0),
            "rank": base_rank, "rank_median": np.median(ranks, 0),
            "rank_low": np.floor(np.quantile(ranks, a, 0)), "rank_high": np.ceil(np.quantile(ranks, 1 - a, 0)),
        }).sort_values("rank", kind="stable").reset_index(drop=True)
        sens = self._sensitivity(X, wbase, perturbed, n_oat=max(20, n_sim // 10)) if method else pd.DataFrame(
            columns=SENSITIVITY_COLUMNS)
        varied = tuple(v for v, on in (("method", method), ("indicators", S is not None)) if on)
        return IndexUncertainty(summary, sens, scores, ranks, level, spec.unit, n_sim=n_sim, varied=varied)

    def _sensitivity(self, X: np.ndarray, wbase: dict, perturbed, n_oat: int) -> pd.DataFrame:
        """One choice at a time against the spec's own method, at the data's values."""
        spec = self.spec
        base_rank = _rank_desc(spec._scores(X, spec.normalisation, spec.aggregation, wbase)["index"])
        rows = []

        def record(factor, choice, rk):
            shift = np.abs(np.atleast_2d(rk) - base_rank)
            rows.append({"factor": factor, "choice": choice, "mean_abs_rank_shift": float(shift.mean()),
                         "max_abs_rank_shift": float(shift.max()),
                         "share_units_moved": float((shift.mean(0) > 0).mean())})

        for norm in spec.alt_normalisations:
            if norm != spec.normalisation:
                record("normalisation", norm, _rank_desc(spec._scores(X, norm, spec.aggregation, wbase)["index"]))
        for agg in spec.alt_aggregations:
            if agg != spec.aggregation:
                record("aggregation", agg, _rank_desc(spec._scores(X, spec.normalisation, agg, wbase)["index"]))
        if spec.weight_noise > 0:
            for n in wbase:
                rk = [_rank_desc(spec._scores(X, spec.normalisation, spec.aggregation, perturbed(n))["index"])
                      for _ in range(n_oat)]
                record("weight", n, np.asarray(rk))
        for ind in spec.indicators:
            try:
                s = spec._scores(X, spec.normalisation, spec.aggregation, wbase, drop=ind)["index"]
            except ValueError:
                continue
            record("drop indicator", ind, _rank_desc(s))
        sens = pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS)
        return sens.sort_values("mean_abs_rank_shift", ascending=False, kind="stable").reset_index(drop=True)


#: Columns of :attr:`IndexUncertainty.sensitivity`.
SENSITIVITY_COLUMNS = ["factor", "choice", "mean_abs_rank_shift", "max_abs_rank_shift", "share_units_moved"]


@dataclass
class IndexUncertainty:
    """The Monte Carlo of :meth:`IndexResult.uncertainty`.

    Attributes
    ----------
    summary : DataFrame
        Per unit the base score and rank with Monte Carlo intervals at ``level`` (``score_low``,
        ``score_high``, ``rank_low``, ``rank_high``) and medians, in the order of the base rank.
    sensitivity : DataFrame
        With the method varied: one row per one-at-a-time choice with the mean and largest
        absolute rank shift it causes and the share of units it moves, most influential first.
    draws_score, draws_rank : ndarray
        Replicates x units.
    level : float
        Level of the intervals.
    unit : str
        The unit column.
    n_sim : int
        Replicates.
    varied : tuple of str
        What varied: ``"method"``, ``"indicators"`` or both.
    """

    summary: pd.DataFrame
    sensitivity: pd.DataFrame
    draws_score: np.ndarray = field(repr=False)
    draws_rank: np.ndarray = field(repr=False)
    level: float = 0.9
    unit: str = "unit"
    n_sim: int = 0
    varied: tuple = ()

    def plot(self, ax=None, **kw):
        """Rank intervals (see :func:`helpers.stats.compare.plot_rank_intervals`); returns ``ax``."""
        from helpers.stats.compare import plot_rank_intervals

        return plot_rank_intervals(self.summary.rename(columns={self.unit: "unit"}), ax=ax, **kw)
