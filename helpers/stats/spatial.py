"""Spatial weights and spatial autocorrelation (libpysal, esda).

- :func:`weights` builds queen, rook or k-nearest-neighbour weights from
  polygons and reports islands (units without neighbours) and disconnected
  components *by name*. What to do with them is the caller's explicit choice:
  ``islands="warn"`` (keep, warn: the default), ``"error"``, ``"drop"`` or
  ``"knn"`` (link each island to its nearest unit, symmetrically);
  ``components="warn" | "error" | "connect"`` likewise.
- :func:`moran` / :func:`local_moran`: global Moran's I and local Moran (LISA)
  by permutation with a caller-given seed and at least 999 permutations; the
  local clusters are corrected for multiple testing by the false discovery
  rate (Benjamini & Hochberg 1995) by default.
- :func:`moran_rate` / :func:`local_moran_rate`: the same for rates
  ``events / population`` with the empirical-Bayes standardisation of
  Assunção & Reis (1999), as esda's ``Moran_Rate`` / ``Moran_Local_Rate``:
  small-population units no longer dominate by their noise.

Results are small objects (esda-like: named statistics plus the inputs).
Maps of the results: :func:`helpers.viz.maps.lisa_map`,
:func:`helpers.viz.maps.moran_scatterplot`.

References: Anselin, L. (1995). Local indicators of spatial association —
LISA. *Geographical Analysis* 27(2), 93-115. Assunção, R. M. & Reis, E. A.
(1999). A new proposal to adjust Moran's I for population density.
*Statistics in Medicine* 18, 2147-2162. Benjamini, Y. & Hochberg, Y. (1995).
Controlling the false discovery rate. *JRSS B* 57(1), 289-300. Cliff, A. D.
& Ord, J. K. (1981). *Spatial Processes: Models and Applications*. Pion.
"""
from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass, field
from typing import Any

import esda
import geopandas as gpd
import numpy as np
import pandas as pd
from libpysal import weights as lpw
from scipy.sparse.csgraph import connected_components

__all__ = [
    "SpatialWeights",
    "weights",
    "MoranResult",
    "LocalMoranResult",
    "moran",
    "moran_rate",
    "local_moran",
    "local_moran_rate",
    "fdr_adjust",
    "eb_rates",
    "MIN_PERMUTATIONS",
]

#: Fewest permutations accepted for pseudo p-values.
MIN_PERMUTATIONS = 999

#: Cluster labels by esda quadrant code (1 HH, 2 LH, 3 LL, 4 HL).
QUADRANTS = {1: "High-High", 2: "Low-High", 3: "Low-Low", 4: "High-Low"}
NOT_SIGNIFICANT = "Not significant"


class SpatialWeightsWarning(UserWarning):
    """Islands or disconnected components in spatial weights."""


# --------------------------------------------------------------------------
# Weights
# --------------------------------------------------------------------------
@dataclass
class SpatialWeights:
    """Spatial weights with their provenance and their problems, by name.

    Attributes
    ----------
    w : :class:`libpysal.weights.W` (row-standardised unless asked otherwise);
        its ``id_order`` are the values of ``id_col``.
    kind : ``"queen"``, ``"rook"`` or ``"knn"``; ``k`` for knn.
    id_col, name_col : columns of the frame used for ids and names.
    ids : unit ids in the order of ``w`` (after any dropping).
    names : unit names in that order.
    islands : names of units that had no neighbour (before any fix).
    components : names of the units in each connected component other than
        the largest (before any fix); empty when connected.
    islands_action, components_action : what was done.
    dropped : names of units dropped (``islands="drop"``).
    added_links : (name, name) pairs of links added by the fixes.
    frame : the input frame restricted and ordered to ``ids`` (a copy).
    """

    w: Any
    kind: str
    k: int | None
    id_col: str | None
    name_col: str | None
    ids: list
    names: list
    islands: list[str]
    components: list[list[str]]
    islands_action: str
    components_action: str
    dropped: list[str] = field(default_factory=list)
    added_links: list[tuple[str, str]] = field(default_factory=list)
    frame: gpd.GeoDataFrame | None = None

    @property
    def n(self) -> int:
        return int(self.w.n)

    @property
    def n_components(self) -> int:
        """Connected components of the weights as they stand (after any fix)."""
        return int(_components(self.w)[0])

    def summary(self) -> str:
        s = f"{self.kind} weights on {self.n} units, mean {self.w.mean_neighbors:.1f} neighbours"
        if self.islands:
            s += f"; islands ({self.islands_action}): {', '.join(self.islands)}"
        if self.components:
            s += f"; {len(self.components) + 1} components ({self.components_action})"
        return s

    def __repr__(self) -> str:  # keep the frame out of the repr
        return f"SpatialWeights({self.summary()})"


def _components(w) -> tuple[int, np.ndarray]:
    sp = w.sparse
    return connected_components(sp, directed=True, connection="weak")


def _symmetric_link(neigh: dict, a, b) -> None:
    if b not in neigh[a]:
        neigh[a].append(b)
    if a not in neigh[b]:
        neigh[b].append(a)


def weights(
    gdf: gpd.GeoDataFrame,
    kind: str = "queen",
    *,
    k: int = 6,
    id_col: str | None = None,
    name_col: str | None = None,
    islands: str = "warn",
    components: str = "warn",
    transform: str = "r",
) -> SpatialWeights:
    """Spatial weights from polygons, reporting islands and disconnected parts by name.

    Parameters
    ----------
    gdf : GeoDataFrame of polygons (any CRS; knn uses centroids, so use a
        projected CRS for true distances).
    kind : ``"queen"`` (shared edge or vertex), ``"rook"`` (shared edge) or
        ``"knn"`` (``k`` nearest centroids, made symmetric).
    k : neighbours for knn.
    id_col : column with unit ids (default the index).
    name_col : column with readable names for messages (default ``name_en``
        if present, else the ids).
    islands : what to do with units without neighbours: ``"warn"`` (keep them,
        warn with their names: Moran statistics then treat them as having a
        zero lag), ``"error"`` (raise), ``"drop"`` (remove them from the
        weights, warn) or ``"knn"`` (link each to its nearest unit by boundary
        distance, both ways, warn).
    components : what to do when the graph falls into several connected
        parts: ``"warn"``, ``"error"`` or ``"connect"`` (link each smaller
        part to the nearest unit outside it, both ways, and repeat until the
        weights are connected; warn).
    transform : libpysal transformation (``"r"`` row-standardised, ``"b"`` binary).

    Returns
    -------
    :class:`SpatialWeights`
    """
    for arg, allowed in (("islands", ("warn", "error", "drop", "knn")),
                         ("components", ("warn", "error", "connect"))):
        val = locals()[arg]
        if val not in allowed:
            raise ValueError(f"{arg} must be one of {allowed}, got {val!r}")
    frame = gdf.reset_index(drop=True)
    if id_col is None:
        id_col = "_index"
        frame[id_col] = gdf.index.to_numpy()
    elif id_col not in frame.columns:
        raise KeyError(f"id column {id_col!r} not in frame")
    if frame[id_col].duplicated().any():
        raise ValueError(f"ids in {id_col!r} are not unique")
    if name_col is None:
        name_col = "name_en" if "name_en" in frame.columns else id_col
    ids = frame[id_col].tolist()
    name_of = dict(zip(ids, frame[name_col].astype(str)))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libpysal's own island warning: we report by name below
        if kind == "queen":
            w = lpw.Queen.from_dataframe(frame, ids=ids, use_index=False)
        elif kind == "rook":
            w = lpw.Rook.from_dataframe(frame, ids=ids, use_index=False)
        elif kind == "knn":
            if k >= len(frame):
                raise ValueError(f"k={k} needs more than {k} units")
            cents = frame.geometry.centroid
            w0 = lpw.KNN.from_array(np.column_stack([cents.x, cents.y]), k=k, ids=ids)
            nb = {i: set(w0.neighbors[i]) for i in ids}
            for i in ids:  # symmetric: j is i's neighbour if either is among the other's k nearest
                for j in w0.neighbors[i]:
                    nb[j].add(i)
            pos = {i: t for t, i in enumerate(ids)}
            w = lpw.W({i: sorted(nb[i], key=pos.__getitem__) for i in ids}, id_order=ids, silence_warnings=True)
        else:
            raise ValueError(f"kind must be 'queen', 'rook' or 'knn', got {kind!r}")

    neigh = {i: list(w.neighbors.get(i, [])) for i in ids}
    island_ids = [i for i in ids if not neigh[i]]
    island_names = [name_of[i] for i in island_ids]
    added: list[tuple[str, str]] = []
    dropped: list[str] = []
    keep_ids = list(ids)

    if island_ids:
        msg = f"{len(island_ids)} unit(s) without neighbours ({kind} contiguity): {', '.join(island_names)}"
        if islands == "error":
            raise ValueError(msg + ". Choose islands='drop' or 'knn', or keep them with 'warn'.")
        if islands == "drop":
            keep_ids = [i for i in ids if i not in set(island_ids)]
            dropped = island_names
            warnings.warn(msg + "; dropped from the weights.", SpatialWeightsWarning, stacklevel=2)
        elif islands == "knn":
            geoms = frame.set_index(id_col).geometry
            others = frame[~frame[id_col].isin(island_ids)] if len(island_ids) < len(ids) else frame
            for i in island_ids:
                cand = others[others[id_col] != i]
                d = cand.geometry.distance(geoms[i]).to_numpy()
                j = cand[id_col].iloc[int(np.argmin(d))]
                _symmetric_link(neigh, i, j)
                added.append((name_of[i], name_of[j]))
            warnings.warn(msg + "; each linked to its nearest unit: "
                          + ", ".join(f"{a} - {b}" for a, b in added), SpatialWeightsWarning, stacklevel=2)
        else:
            warnings.warn(msg + "; kept with no neighbours (zero spatial lag). "
                          "Pass islands='drop' or 'knn' to change this.", SpatialWeightsWarning, stacklevel=2)

    frame = frame[frame[id_col].isin(keep_ids)].copy()
    neigh = {i: [j for j in neigh[i] if j in set(keep_ids)] for i in keep_ids}
    w = lpw.W(neigh, id_order=keep_ids, silence_warnings=True)

    comp_names: list[list[str]] = []
    ncomp, labels = _components(w)
    # components other than the largest, ignoring islands kept on purpose (already reported)
    if ncomp > 1:
        sizes = np.bincount(labels)
        main = int(np.argmax(sizes))
        for c in range(ncomp):
            if c == main:
                continue
            members = [keep_ids[t] for t in np.flatnonzero(labels == c)]
            if len(members) == 1 and not neigh[members[0]]:
                continue  # an island, handled above
            comp_names.append([name_of[m] for m in members])
    if comp_names:
        desc = "; ".join(f"[{', '.join(c)}]" for c in comp_names)
        msg = (f"the {kind} weights fall into {len(comp_names) + 1} connected parts; "
               f"units outside the largest: {desc}")
        if components == "error":
            raise ValueError(msg + ". Choose components='connect' or 'warn'.")
        if components == "connect":
            # Link each part other than the largest to the nearest unit outside it, and repeat until one part
            # remains: two small parts may each be nearest to the other, so one round does not always reach
            # the largest part. Every round merges each remaining part with another, so it ends. Islands kept
            # without neighbours on purpose (islands="warn") are neither linked nor linked to.
            geoms = frame.set_index(id_col).geometry
            lone = {i for i in keep_ids if not neigh[i]}
            n_before = len(added)
            while True:
                ncomp, labels = _components(lpw.W(neigh, id_order=keep_ids, silence_warnings=True))
                main = int(np.argmax(np.bincount(labels)))
                comp_of = dict(zip(keep_ids, labels))
                parts = [c for c in range(ncomp) if c != main
                         and not (sum(comp_of[i] == c for i in keep_ids) == 1
                                  and next(i for i in keep_ids if comp_of[i] == c) in lone)]
                if not parts:
                    break
                for c in parts:
                    members = [i for i in keep_ids if comp_of[i] == c]
                    mem_geom = geoms.loc[members]
                    rest = geoms.drop(index=members + sorted(lone - set(members), key=str))
                    best = (np.inf, None, None)
                    for i, gi in mem_geom.items():
                        d = rest.distance(gi)
                        j = d.idxmin()
                        if d[j] < best[0]:
                            best = (float(d[j]), i, j)
                    _, i, j = best
                    if j not in neigh[i]:
                        _symmetric_link(neigh, i, j)
                        added.append((name_of[i], name_of[j]))
            w = lpw.W(neigh, id_order=keep_ids, silence_warnings=True)
            warnings.warn(msg + "; each smaller part linked to its nearest unit: "
                          + ", ".join(f"{a} - {b}" for a, b in added[n_before:]),
                          SpatialWeightsWarning, stacklevel=2)
        else:
            warnings.warn(msg + ". Pass components='connect' to link them.", SpatialWeightsWarning,
                          stacklevel=2)

    if transform:
        w.transform = transform
    return SpatialWeights(
        w=w, kind=kind, k=k if kind == "knn" else None, id_col=id_col, name_col=name_col, ids=keep_ids,
        names=[name_of[i] for i in keep_ids], islands=island_names, components=comp_names,
        islands_action=islands if island_ids else "none",
        components_action=components if comp_names else "none", dropped=dropped, added_links=added,
        frame=frame.reset_index(drop=True),
    )


# --------------------------------------------------------------------------
# Moran's I
# --------------------------------------------------------------------------
@contextlib.contextmanager
def _numpy_seed(seed: int):
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


@contextlib.contextmanager
def _quiet_esda():
    """Silence esda's notice about its future default for local p-values, and 0/0 for islands.

    The local pseudo p-values here are esda's current "directed" (folded)
    ones, as in GeoDa: the share of conditional permutations at least as
    extreme as the observed local statistic in its own direction.
    """
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.filterwarnings("ignore", message="The alternative hypothesis for conditional randomization",
                                category=DeprecationWarning)
        yield


def _check(seed, permutations):
    if seed is None:
        raise ValueError("give a seed: permutation p-values must be reproducible")
    if permutations < MIN_PERMUTATIONS:
        raise ValueError(f"use at least {MIN_PERMUTATIONS} permutations, got {permutations}")


def _aligned(sw: SpatialWeights, gdf: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """Rows of gdf in the order of the weights' ids (by id column or index)."""
    if sw.id_col == "_index" or sw.id_col not in gdf.columns:
        sub = gdf
    else:
        sub = gdf.set_index(sw.id_col)
    missing = [i for i in sw.ids if i not in sub.index]
    if missing:
        raise KeyError(f"{len(missing)} unit(s) of the weights are not in the frame, e.g. {missing[:5]}")
    out = sub.loc[sw.ids, cols]
    for c in cols:
        v = pd.to_numeric(out[c], errors="coerce")
        bad = v.isna() | ~np.isfinite(v.astype("float64"))
        if bad.any():
            names = [n for n, b in zip(sw.names, bad) if b]
            raise ValueError(
                f"column {c!r} is missing for {int(bad.sum())} unit(s): {', '.join(names[:20])}"
                + (" ..." if len(names) > 20 else "")
                + ". Drop them from the frame and rebuild the weights (weights(gdf[ok], ...)) so that "
                  "the islands this creates are reported.")
    return out


@dataclass
class MoranResult:
    """Global Moran's I by permutation.

    Attributes
    ----------
    I : Moran's I; EI : its expectation under no autocorrelation (-1/(n-1)).
    p_sim : permutation pseudo p-value (esda ``p_sim``). Null: spatial randomness,
        the observed values permuted at random over the units. With ``k`` the number
        of the ``permutations`` permuted I at or above the observed I, it is
        ``(min(k, permutations - k) + 1) / (permutations + 1)``: one-sided, in the
        direction of the observed I ("folded"), so at least ``1 / (permutations + 1)``.
    z_sim : z-value of I against the mean and sd of the permutation distribution.
    p_norm : analytical p-value under the *normality* assumption (esda ``p_norm``):
        the values are an independent draw from one normal distribution (Cliff & Ord
        1981), I is taken as normal with mean EI and esda's ``VI_norm``; two-sided,
        ``2 P(Z > |I - EI| / sqrt(VI_norm))``. It is not a randomisation p-value.
    p_rand : analytical p-value under the *randomisation* assumption (esda
        ``p_rand``): the null of ``p_sim`` (the observed values permuted over the
        units), with I taken as normal with mean EI and the permutation variance
        ``VI_rand``, which depends on the kurtosis of the values; two-sided.
    permutations, seed : as given.
    variable : the column (or "events/population (EB)").
    method : ``"raw"`` or ``"eb_rate"``.
    z : the standardised values used; lag : their spatial lag.
    weights : the :class:`SpatialWeights`; esda : the esda object.
    """

    I: float
    EI: float
    p_sim: float
    z_sim: float
    p_norm: float
    p_rand: float
    permutations: int
    seed: int
    n: int
    variable: str
    method: str
    z: np.ndarray
    lag: np.ndarray
    weights: SpatialWeights
    esda: Any

    def __repr__(self) -> str:
        return (f"MoranResult(I={self.I:.4f}, EI={self.EI:.4f}, p_sim={self.p_sim:.4f}, "
                f"permutations={self.permutations}, n={self.n}, variable={self.variable!r}, method={self.method!r})")


def _global_result(m, y, sw, permutations, seed, variable, method) -> MoranResult:
    y = np.asarray(y, dtype="float64")
    z = (y - y.mean()) / y.std()
    lag = lpw.lag_spatial(sw.w, z)
    return MoranResult(I=float(m.I), EI=float(m.EI), p_sim=float(m.p_sim), z_sim=float(m.z_sim),
                       p_norm=float(m.p_norm), p_rand=float(m.p_rand), permutations=permutations, seed=seed, n=int(sw.w.n),
                       variable=variable, method=method, z=z, lag=np.asarray(lag), weights=sw, esda=m)


def moran(gdf: pd.DataFrame, column: str, w: SpatialWeights, *, seed: int,
          permutations: int = 999) -> MoranResult:
    """Global Moran's I of a column, with a permutation test.

    Parameters
    ----------
    gdf : frame holding ``column`` and the weights' id column (any row order).
    column : numeric variable; missing values raise (rebuild the weights
        without those units so the islands that creates are reported).
    w : :class:`SpatialWeights` from :func:`weights`.
    seed : random seed for the permutations (required).
    permutations : at least 999.

    Returns
    -------
    :class:`MoranResult`
    """
    _check(seed, permutations)
    y = _aligned(w, gdf, [column])[column].to_numpy(dtype="float64")
    with _numpy_seed(seed):
        m = esda.Moran(y, w.w, transformation=w.w.transform, permutations=permutations)
    return _global_result(m, y, w, permutations, seed, column, "raw")


def eb_rates(events, population) -> np.ndarray:
    """Assunção-Reis empirical-Bayes standardised rates (the values Moran_Rate analyses).

    ``z_i = (r_i - b) / sqrt(a + b / P_i)`` with ``b`` the overall rate and
    ``a`` the method-of-moments between-unit variance (truncated at 0).
    """
    e = np.asarray(events, dtype="float64")
    p = np.asarray(population, dtype="float64")
    return np.asarray(esda.smoothing.assuncao_rate(e, p)).ravel()


def _rate_inputs(w, gdf, events: str, population: str):
    """The frame aligned with ``w`` and its event and population counts as float arrays (population > 0)."""
    d = _aligned(w, gdf, [events, population])
    e = d[events].to_numpy(dtype="float64")
    b = d[population].to_numpy(dtype="float64")
    if (b <= 0).any():
        raise ValueError(f"{population!r} must be positive for every unit")
    return d, e, b


def moran_rate(gdf: pd.DataFrame, events: str, population: str, w: SpatialWeights, *, seed: int,
               permutations: int = 999) -> MoranResult:
    """Global Moran's I of the rate ``events / population`` with EB standardisation.

    Uses esda's ``Moran_Rate`` (Assunção & Reis 1999), which analyses the
    empirical-Bayes standardised rates so that small-population units do not
    dominate by their noise.

    Parameters
    ----------
    events, population : count columns (e.g. cases, births). Population > 0.
    Other parameters as :func:`moran`.
    """
    _check(seed, permutations)
    _, e, b = _rate_inputs(w, gdf, events, population)
    with _numpy_seed(seed):
        m = esda.Moran_Rate(e, b, w.w, adjusted=True, transformation=w.w.transform,
                            permutations=permutations)
    return _global_result(m, eb_rates(e, b), w, permutations, seed, f"{events}/{population} (EB)", "eb_rate")


# --------------------------------------------------------------------------
# Local Moran
# --------------------------------------------------------------------------
def fdr_adjust(p) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) for a vector of p-values."""
    p = np.asarray(p, dtype="float64")
    n = p.size
    order = np.argsort(p)
    ranked = p[order] * n / np.arange(1, n + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(q, 1.0)
    return out


@dataclass
class LocalMoranResult:
    """Local Moran (LISA) with clusters after correction for multiple testing.

    Attributes
    ----------
    frame : GeoDataFrame in the weights' order: id, name, value, Is, p_sim
        (folded pseudo p-value from conditional permutations, as GeoDa:
        esda's "directed" alternative), p_adj (the corrected p-value), quadrant ("High-High", ...),
        significant, cluster (quadrant if significant, else "Not significant")
        and the geometry.
    alpha : significance level; correction : ``"fdr"``, ``"bonferroni"`` or None.
    permutations, seed : as given; method : ``"raw"`` or ``"eb_rate"``.
    weights : the :class:`SpatialWeights`; esda : the esda object.
    """

    frame: gpd.GeoDataFrame
    alpha: float
    correction: str | None
    permutations: int
    seed: int
    variable: str
    method: str
    weights: SpatialWeights
    esda: Any

    @property
    def counts(self) -> pd.Series:
        """Units per cluster."""
        return self.frame["cluster"].value_counts()

    def __repr__(self) -> str:
        c = ", ".join(f"{k}: {v}" for k, v in self.counts.items())
        return (f"LocalMoranResult({self.variable!r}, {self.method}, correction={self.correction}, "
                f"alpha={self.alpha}, permutations={self.permutations}; {c})")


def _local_result(lm, y, w, alpha, correction, permutations, seed, variable, method) -> LocalMoranResult:
    p = np.asarray(lm.p_sim, dtype="float64")
    if correction == "fdr":
        p_adj = fdr_adjust(p)
    elif correction == "bonferroni":
        p_adj = np.minimum(p * len(p), 1.0)
    elif correction is None:
        p_adj = p
    else:
        raise ValueError("correction must be 'fdr', 'bonferroni' or None")
    quad = pd.Series(np.asarray(lm.q), dtype="int64").map(QUADRANTS).to_numpy()
    sig = p_adj <= alpha
    # islands have no lag: never a cluster
    no_nb = np.array([w.w.cardinalities[i] == 0 for i in w.ids])
    sig &= ~no_nb
    base = w.frame if w.frame is not None else pd.DataFrame({w.id_col: w.ids})
    geom_name = base.geometry.name if isinstance(base, gpd.GeoDataFrame) else None
    out = pd.DataFrame({
        "id": w.ids, "name": w.names, "value": y, "Is": np.asarray(lm.Is, dtype="float64"),
        "p_sim": p, "p_adj": p_adj, "quadrant": quad, "significant": sig,
        "cluster": np.where(sig, quad, NOT_SIGNIFICANT),
    })
    if geom_name is not None:
        out = gpd.GeoDataFrame(out, geometry=base.geometry.to_numpy(), crs=base.crs)
    return LocalMoranResult(frame=out, alpha=alpha, correction=correction, permutations=permutations, seed=seed,
                            variable=variable, method=method, weights=w, esda=lm)


def local_moran(gdf: pd.DataFrame, column: str, w: SpatialWeights, *, seed: int, permutations: int = 999,
                alpha: float = 0.05, correction: str | None = "fdr") -> LocalMoranResult:
    """Local Moran's I (LISA) with conditional permutations and FDR-corrected clusters.

    Parameters
    ----------
    gdf, column, w, seed, permutations : as :func:`moran`.
    alpha : significance level of the cluster map.
    correction : ``"fdr"`` (Benjamini-Hochberg, default), ``"bonferroni"`` or
        None (uncorrected; many false clusters among hundreds of units).

    Returns
    -------
    :class:`LocalMoranResult`
    """
    _check(seed, permutations)
    y = _aligned(w, gdf, [column])[column].to_numpy(dtype="float64")
    with _quiet_esda():
        lm = esda.Moran_Local(y, w.w, transformation=w.w.transform, permutations=permutations, seed=seed,
                              n_jobs=1)
    return _local_result(lm, y, w, alpha, correction, permutations, seed, column, "raw")


def local_moran_rate(gdf: pd.DataFrame, events: str, population: str, w: SpatialWeights, *, seed: int,
                     permutations: int = 999, alpha: float = 0.05,
                     correction: str | None = "fdr") -> LocalMoranResult:
    """Local Moran of EB-standardised rates (esda ``Moran_Local_Rate``, Assunção & Reis 1999).

    Parameters as :func:`local_moran` and :func:`moran_rate`; the ``value``
    column of the result holds the EB-standardised rates.
    """
    _check(seed, permutations)
    d, e, b = _rate_inputs(w, gdf, events, population)
    with _quiet_esda():
        lm = esda.Moran_Local_Rate(e, b, w.w, adjusted=True, transformation=w.w.transform,
                                   permutations=permutations, seed=seed, n_jobs=1)
    return _local_result(lm, eb_rates(e, b), w, alpha, correction, permutations, seed,
                         f"{events}/{population} (EB)", "eb_rate")
