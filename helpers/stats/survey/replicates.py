"""Replicate-weight designs that match R's ``survey`` (``svrepdesign``, ``as.svrepdesign``).

Two ways in:

* :func:`as_replicate_design` turns a :class:`~helpers.stats.survey.design.SurveyDesign`
  into replicate weights as R's ``as.svrepdesign`` does: ``"JK1"`` (unstratified
  jackknife), ``"JKn"`` (stratified jackknife, R's default for a stratified design),
  ``"BRR"`` and ``"Fay"`` (balanced repeated replication on R's choice of Hadamard matrix,
  :func:`~helpers.stats.survey.hadamard.hadamard`), ``"bootstrap"`` (Canty and Davison's
  bootstrap of PSUs, with the finite-population correction as R applies it) and
  ``"subbootstrap"`` (Rao and Wu's n-1 bootstrap). The deterministic types give exactly
  R's replicate weights, in R's column order.
* :class:`ReplicateDesign` takes a data set that arrives with replicate-weight columns, as
  ``svrepdesign(repweights=, type=, scale=, rscales=, mse=)`` does.

Estimators (``mean``, ``total``, ``ratio``, ``proportion``, ``quantile``; all with ``by=``
domains, R's ``svyby``) return the same tidy frame as the Taylor design:
the ``by`` columns, ``variable, estimate, se, ci_low, ci_high, df, deff, n``.

For estimators that are not built in (a design-based regression, say),
:meth:`ReplicateDesign.replicate` re-evaluates any weighted statistic with the full-sample
weights and with each replicate's analysis weights and returns the estimate, the
replicates and their covariance (:class:`ReplicateResult`); :func:`replicate_vcov` is the
variance formula alone.

Conventions (R ``survey`` 4.x)
------------------------------
* Variance (R's ``svrVar``): ``scale * sum_r rscales_r (theta_r - centre)^2`` where the
  centre is the mean of the replicates (over those with ``rscales > 0``), or the
  full-sample estimate when ``mse=True``. Replicates whose estimate is undefined (a
  domain emptied by a replicate) are dropped with a warning, as R does.
* ``scale``/``rscales`` by type, as ``svrepdesign``: BRR ``1/R``; Fay ``1/(R (1-rho)^2)``;
  bootstrap ``bootstrap_average/(R-1)``; JK1 and JKn as given (R guesses, with a warning,
  when they are missing); ACS/successive-difference ``4/R``; ``fpc=`` multiplies
  ``rscales`` (JK types).
* Domains are R's ``svyby``: the rows of the domain (each replicate's weights
  restricted to them). Missing item values are dropped per variable (``na.rm=TRUE``).
* ``df`` is R's ``degf()`` of the domain: the rank of its analysis weights (``qr(...,
  tol=1e-5)$rank``) minus one. Intervals use the t quantile on it with
  ``ci_df="design"`` (default) or the normal quantile with ``ci_df=numpy.inf``, which is
  what R's ``confint`` does for replicate designs.
* ``deff`` is R's ``deff=TRUE``: the replicate variance over that of simple random
  sampling without replacement of the domain's n from N = sum of its weights.
* ``proportion(method="logit")`` is ``svyciprop(method="logit")`` on a replicate design:
  the interval of logit(p) uses the replicate variance of the replicates' logits (R fits
  the intercept-only ``svyglm`` per replicate), with the t quantile on the design df.

References
----------
Lumley, T. (2010) *Complex Surveys: A Guide to Analysis Using R*, chapter 2.3. Wiley.
Rust, K. F. and Rao, J. N. K. (1996) Variance estimation for complex surveys using
replication techniques. *Statistical Methods in Medical Research* 5, 283-310.
Wolter, K. (2007) *Introduction to Variance Estimation*, 2nd ed., chapters 3-5. Springer.
Canty, A. J. and Davison, A. C. (1999) Resampling-based variance estimation for labour
force surveys. *The Statistician* 48, 379-391.
Rao, J. N. K. and Wu, C. F. J. (1988) Resampling inference with complex survey data.
*JASA* 83, 231-241.
Judkins, D. R. (1990) Fay's method for variance estimation. *J. Official Statistics* 6, 223-239.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import linalg, sparse

from helpers.stats.survey.design import (SurveyDesign, _as_list, _codes, _expit, _first_rows, _pick, _quantile,
                                         _run_starts)
from helpers.stats.survey.hadamard import hadamard, is_hadamard

__all__ = ["ReplicateDesign", "ReplicateResult", "as_replicate_design", "replicate_vcov", "REPLICATE_TYPES"]

#: Replicate types accepted by :class:`ReplicateDesign` (R's ``svrepdesign(type=)``).
REPLICATE_TYPES: tuple[str, ...] = ("BRR", "Fay", "JK1", "JKn", "bootstrap", "subbootstrap", "ACS",
                                    "successive-difference", "JK2", "other")
#: Types :func:`as_replicate_design` builds (R's ``as.svrepdesign(type=)``).
CONVERSION_TYPES: tuple[str, ...] = ("auto", "JK1", "JKn", "BRR", "Fay", "bootstrap", "subbootstrap")


# ---------------------------------------------------------------------------------- variance
def replicate_vcov(replicates: np.ndarray, scale: float, rscales: np.ndarray, *, mse: bool = False,
                   coef: np.ndarray | None = None, warn: bool = True) -> np.ndarray:
    """Replicate variance (R's ``svrVar``) of one or more statistics.

    Parameters
    ----------
    replicates : array (R,) or (R, k)
        The statistic(s) computed with each replicate's weights.
    scale : float
        Overall multiplier (R's ``scale``).
    rscales : array (R,)
        Per-replicate multipliers (R's ``rscales``).
    mse : bool
        Centre on ``coef`` (the full-sample estimate) instead of the replicates' mean.
    coef : array (k,), optional
        Full-sample estimate; required when ``mse=True``.
    warn : bool
        Warn when replicates with a missing (NaN) value are dropped, as R does.

    Returns
    -------
    numpy.ndarray
        Variance (scalar array) for a vector of replicates, covariance matrix (k, k) for a
        matrix. Replicates (rows) with any NaN are dropped first (R's ``na.omit``).

    Notes
    -----
    R counterpart: ``survey:::svrVar(thetas, scale, rscales, mse=, coef=)``.
    """
    th = np.asarray(replicates, dtype=float)
    vec = th.ndim == 1
    th2 = th[:, None] if vec else th
    rs = np.broadcast_to(np.asarray(rscales, dtype=float), (th2.shape[0],))
    bad = np.isnan(th2).any(axis=1)
    if bad.any():
        if bad.all():
            raise ValueError("every replicate gave a missing estimate")
        if warn:
            warnings.warn(f"{int(bad.sum())} replicates gave NA results and were discarded.", stacklevel=3)
        th2, rs = th2[~bad], rs[~bad]
    if mse:
        if coef is None:
            raise ValueError("mse=True needs the full-sample estimate (coef)")
        centre = np.atleast_1d(np.asarray(coef, dtype=float)).reshape(1, -1)
    else:
        centre = th2[rs > 0].mean(axis=0, keepdims=True)
    dev = (th2 - centre) * np.sqrt(rs)[:, None]
    v = dev.T @ dev * scale
    return v[0, 0] if vec else v


def _vcov_columns(reps: np.ndarray, scale: float, rscales: np.ndarray, mse: bool, coef: np.ndarray) -> np.ndarray:
    """Variance of each column of ``reps`` (R, k) separately, dropping its own NaN replicates."""
    reps = np.asarray(reps, dtype=float)
    rs = np.asarray(rscales, dtype=float)
    nan = np.isnan(reps)
    if not nan.any():
        centre = coef[None, :] if mse else reps[rs > 0].mean(axis=0, keepdims=True)
        return scale * (rs[:, None] * (reps - centre) ** 2).sum(axis=0)
    out = np.empty(reps.shape[1])
    dropped = 0
    for j in range(reps.shape[1]):
        ok = ~nan[:, j]
        if not ok.any():
            out[j] = np.nan
            continue
        dropped = max(dropped, int((~ok).sum()))
        th, r = reps[ok, j], rs[ok]
        c = coef[j] if mse else th[r > 0].mean()
        out[j] = scale * (r * (th - c) ** 2).sum()
    if dropped:
        warnings.warn(f"up to {dropped} replicates gave NA results and were discarded (R's svrVar drops them).",
                      stacklevel=4)
    return out


@dataclass
class ReplicateResult:
    """A statistic with its replicates and replicate covariance.

    Attributes
    ----------
    estimate : numpy.ndarray (k,)
        The statistic with the full-sample weights.
    replicates : numpy.ndarray (R, k)
        The statistic with each replicate's analysis weights.
    vcov : numpy.ndarray (k, k)
        Replicate covariance (:func:`replicate_vcov`).
    scale, rscales, mse :
        The design's variance constants, for combining these replicates with others.
    """

    estimate: np.ndarray
    replicates: np.ndarray
    vcov: np.ndarray
    scale: float
    rscales: np.ndarray
    mse: bool

    @property
    def se(self) -> np.ndarray:
        """Standard errors: square roots of the diagonal of ``vcov``."""
        return np.sqrt(np.diag(self.vcov))


# ---------------------------------------------------------------------------------- the design
def _unit_factors(W: np.ndarray, w: np.ndarray, tol: float = 1e-9) -> tuple[np.ndarray, np.ndarray] | None:
    """``(unit of each row, replicate factors per unit)`` when every row's replicate analysis
    weights are its full-sample weight times factors shared with other rows, None otherwise.

    Replicate weights made per PSU (bootstrap, jackknife, BRR, Fay: R's ``as.svrepdesign``
    and most agencies' files) have this form: ``W[i, r] = w[i] F[u(i), r]``. Rows are grouped
    by one random projection of ``W[i] / w[i]`` and the grouping is checked with a second,
    independent one (both from one pass over W): rows whose factor rows differ by more than
    ``tol`` of their size agree on both projections with probability zero. Replicate
    weights of any other form (e.g. calibrated separately per replicate) are kept as they
    are. In this form an estimate's replicate totals are sums per unit times F, without a
    pass over the n x R weights.
    """
    n, R = W.shape
    if n < 8 or not (w > 0).all():
        return None
    Z = np.random.default_rng(12345).standard_normal((R, 2))
    P = (W @ Z) / w[:, None]
    key = np.round(P[:, 0], 9) + 0.0  # rounding: equal factor rows give one key (a split is harmless)
    gid, _ = pd.factorize(key)
    G = int(gid.max()) + 1
    if G > n // 4:
        return None
    first = _first_rows(gid, G)
    if not (np.abs(P - P[first[gid]]) <= tol * float(np.abs(P).max())).all():
        return None
    F = W[first] / w[first][:, None]
    return gid.astype(np.int64), np.ascontiguousarray(F)


class ReplicateDesign:
    """A survey design carried by replicate weights (R's ``svrep.design``).

    Parameters
    ----------
    df : pandas.DataFrame
        Microdata, one row per respondent.
    weight : str
        Column of full-sample (sampling) weights, R's ``weights=``.
    repweights : str or list of str
        Replicate-weight columns: a list of names, or a regular expression matched
        against the column names (R's ``repweights="repw[0-9]+"``), kept in data order.
    type : str
        One of :data:`REPLICATE_TYPES` (R's ``type=``); decides the default ``scale`` and
        ``rscales``.
    scale : float, optional
        Overall variance multiplier; the type's default when None (see the module notes).
    rscales : float or sequence of float, optional
        Per-replicate multipliers (one per replicate column); default ones (required for
        JKn with combined weights, as in R).
    rho : float, optional
        Fay's coefficient; required for ``type="Fay"``.
    mse : bool
        Centre the variance on the full-sample estimate instead of the replicates' mean
        (R's ``mse=``, default ``getOption("survey.replicates.mse")`` = FALSE).
    combined_weights : bool
        True (R's default) when the replicate columns already include the sampling
        weights; False when they are adjustment factors to multiply by them.
    bootstrap_average : int, optional
        For bootstrap weights that average several resamples (R's ``bootstrap.average``).
    fpc : sequence of float, optional
        Per-replicate finite-population corrections for JK types, with ``fpctype``
        ``"fraction"`` (sampling fractions) or ``"correction"`` (1 - fraction).
    fpctype : {"fraction", "correction"}, optional
    n_replicates : int, optional
        The number of replicate columns the data should have; a different count is an
        error (guards against a pattern that matches too many or too few columns).

    Attributes
    ----------
    data : pandas.DataFrame
        The microdata (not copied).
    weight : str
    type : str
    scale : float
    rscales : numpy.ndarray (R,)
    rho : float or None
    mse : bool
    repweight_columns : list of str
        Names of the replicate columns (generated names ``repw1..`` for converted designs).

    Notes
    -----
    R counterpart: ``svrepdesign(variables=, repweights=, weights=, data=, type=, scale=,
    rscales=, rho=, mse=, combined.weights=)``. See the module docstring for the
    conventions. References: Lumley (2010), chapter 2.3; Rust and Rao (1996); Wolter (2007).
    """

    def __init__(self, df: pd.DataFrame, weight: str, repweights: str | Sequence[str], type: str, *,
                 scale: float | None = None, rscales: float | Sequence[float] | None = None,
                 rho: float | None = None, mse: bool = False, combined_weights: bool = True,
                 bootstrap_average: int | None = None, fpc: Sequence[float] | None = None,
                 fpctype: str | None = None, n_replicates: int | None = None):
        if type not in REPLICATE_TYPES:
            raise ValueError(f"type must be one of {REPLICATE_TYPES}, got {type!r}")
        if weight not in df.columns:
            raise KeyError(f"weight column {weight!r} not in the data")
        if isinstance(repweights, str):
            cols = [c for c in df.columns if re.search(repweights, str(c)) and c != weight]
            if not cols:
                raise ValueError(f"no column matches the replicate-weight pattern {repweights!r}")
        else:
            cols = list(repweights)
            missing = [c for c in cols if c not in df.columns]
            if missing:
                raise KeyError(f"replicate-weight columns not in the data: {missing}")
        R = len(cols)
        span = _span(cols)
        if n_replicates is not None and R != n_replicates:
            raise ValueError(f"expected {n_replicates} replicate-weight columns, found {R} ({span}); "
                             "fix the pattern or the column list")
        if R < 2:
            raise ValueError(f"need at least 2 replicate-weight columns, found {R} ({span})")
        w = df[weight].to_numpy(dtype=float, na_value=np.nan)
        if np.isnan(w).any():
            raise ValueError(f"weight column {weight!r} has {int(np.isnan(w).sum())} missing values; "
                             "drop those rows (e.g. nonrespondents) first")
        W = df[cols].to_numpy(dtype=float, na_value=np.nan)
        nan = np.isnan(W)
        if nan.any():
            per = nan.sum(axis=0)
            bad = ", ".join(f"{cols[j]} ({per[j]} rows)" for j in np.flatnonzero(per)[:6])
            more = " ..." if (per > 0).sum() > 6 else ""
            raise ValueError(f"replicate-weight columns have missing values: {bad}{more}; "
                             "replicate weights must be complete (0 for a unit dropped from a replicate)")
        if (W < 0).any():
            j = int(np.flatnonzero((W < 0).any(axis=0))[0])
            raise ValueError(f"replicate-weight column {cols[j]!r} has negative values")
        scale, rscales = _type_constants(type, W, w, R, scale, rscales, rho, bootstrap_average,
                                         combined_weights, cols)
        if fpc is not None:
            if type in ("BRR", "Fay", "JK2", "ACS", "successive-difference"):
                raise ValueError(f"fpc= is not available for type {type!r}")
            if type == "bootstrap":
                raise ValueError("a separate fpc is not needed for bootstrap weights")
            if fpctype not in ("fraction", "correction"):
                raise ValueError("give fpctype='fraction' or 'correction' with fpc=")
            fpc = np.asarray(fpc, dtype=float)
            if len(fpc) != R:
                raise ValueError(f"fpc has {len(fpc)} values for {R} replicate-weight columns ({span})")
            if (fpc > 1).any() or (fpc < 0).any():
                raise ValueError("fpc values must lie in [0, 1]")
            rscales = rscales * (fpc if fpctype == "correction" else 1 - fpc)
        if not combined_weights:
            W = W * w[:, None]
        found = _unit_factors(W, w)
        if found is not None:  # kept as factors per unit: estimates sum per unit, not over n x R
            self._init(df, weight, w, type, scale, rscales, rho, mse, cols, unit=found[0], factors=found[1])
        else:
            self._init(df, weight, w, type, scale, rscales, rho, mse, cols, full=W)

    # ------------------------------------------------------------------ construction
    def _init(self, df, weight, w, type, scale, rscales, rho, mse, cols, full=None, unit=None, factors=None,
              origin=None):
        self.data = df
        self.weight = weight
        self._w = np.asarray(w, dtype=float)
        self.type = type
        self.scale = float(scale)
        self.rscales = np.asarray(rscales, dtype=float)
        self.rho = rho
        self.mse = bool(mse)
        self.repweight_columns = list(cols)
        self._W = full            # (n, R) analysis weights, or None
        self._unit = unit         # (n,) unit code of each row (compressed form)
        self._F = factors         # (U, R) replicate factors per unit (compressed form)
        self._origin = origin     # the SurveyDesign converted, if any
        self._cache: dict = {}
        self.history: list[dict] = []  # calibration steps applied (helpers.stats.survey.calibration)
        R = self.n_replicates
        if len(self.rscales) != R:
            raise ValueError(f"rscales has {len(self.rscales)} values for {R} replicates; "
                             f"give one per replicate-weight column ({_span(self.repweight_columns)})")

    @classmethod
    def _from_factors(cls, design: SurveyDesign, unit: np.ndarray, factors: np.ndarray, type: str, scale: float,
                      rscales: np.ndarray, rho: float | None, mse: bool) -> "ReplicateDesign":
        self = cls.__new__(cls)
        cols = [f"repw{i + 1}" for i in range(factors.shape[1])]
        self._init(design.data, design.weight, design._w, type, scale, rscales, rho, mse, cols,
                   unit=unit, factors=np.ascontiguousarray(factors, dtype=float), origin=design)
        return self

    @property
    def n_replicates(self) -> int:
        """Number of replicates R."""
        return self._F.shape[1] if self._F is not None else self._W.shape[1]

    def __len__(self) -> int:
        return len(self._w)

    def __repr__(self) -> str:
        return (f"ReplicateDesign(type={self.type!r}, replicates={self.n_replicates}, n={len(self)}, "
                f"scale={self.scale:.6g}, mse={self.mse})")

    # ------------------------------------------------------------------ weights
    def analysis_weights(self, r: int | None = None) -> np.ndarray:
        """Replicate analysis weights (R's ``weights(design, "analysis")``).

        Parameters
        ----------
        r : int, optional
            Replicate index (0-based). None: every replicate, as an (n, R) matrix (large:
            n x R doubles).

        Returns
        -------
        numpy.ndarray
            (n,) for one replicate, (n, R) for all.
        """
        if r is None:
            if self._W is not None:
                return self._W.copy()
            return self._w[:, None] * self._F[self._unit]
        if self._W is not None:
            return self._W[:, r].copy()
        return self._w * self._F[self._unit, r]

    def replicate_weights(self, prefix: str = "repw") -> pd.DataFrame:
        """The replicate analysis weights as a frame (columns ``repw1..repwR``), e.g. to export.

        Returns
        -------
        pandas.DataFrame
            n rows, one column per replicate, index of :attr:`data`.
        """
        W = self.analysis_weights()
        return pd.DataFrame(W, columns=[f"{prefix}{i + 1}" for i in range(W.shape[1])], index=self.data.index)

    @property
    def weights(self) -> np.ndarray:
        """Full-sample (sampling) weights, R's ``weights(design, "sampling")``."""
        return self._w.copy()

    # ------------------------------------------------------------------ generic replication
    def replicate(self, statistic: Callable[[np.ndarray], np.ndarray | float], *, mse: bool | None = None
                  ) -> ReplicateResult:
        """Evaluate a weighted statistic with the full-sample weights and with every replicate.

        This is the hook for estimators without a built-in replicate version (for example a
        design-based regression: pass a function that fits the model with the given row
        weights and returns its coefficients). Rows outside a domain should get weight 0
        inside ``statistic`` (R's subset of a replicate design).

        Parameters
        ----------
        statistic : callable
            ``statistic(weights) -> array (k,)`` where ``weights`` is an (n,) array of row
            weights aligned with :attr:`data`.
        mse : bool, optional
            Override the design's ``mse``.

        Returns
        -------
        ReplicateResult
            ``estimate`` (k,), ``replicates`` (R, k), ``vcov`` (k, k) from R's ``svrVar``
            formula (replicates with any NaN dropped, with a warning).

        Notes
        -----
        R counterpart: what ``withReplicates(design, theta)`` and the replicate methods of
        ``svyglm``/``svyolr`` do: ``svrVar(thetas, scale, rscales, mse, coef)``.
        """
        est = np.atleast_1d(np.asarray(statistic(self._w), dtype=float))
        reps = np.empty((self.n_replicates, len(est)))
        for r in range(self.n_replicates):
            reps[r] = np.atleast_1d(np.asarray(statistic(self.analysis_weights(r)), dtype=float))
        m = self.mse if mse is None else mse
        v = np.atleast_2d(replicate_vcov(reps, self.scale, self.rscales, mse=m, coef=est))
        return ReplicateResult(est, reps, v, self.scale, self.rscales.copy(), m)

    def totals(self, values: np.ndarray | pd.DataFrame) -> ReplicateResult:
        """Weighted totals of row values with their replicate covariance, vectorised.

        Parameters
        ----------
        values : array (n,) or (n, k) or DataFrame
            Row values (no missing values).

        Returns
        -------
        ReplicateResult of the k totals.
        """
        V = np.asarray(values, dtype=float)
        V = V[:, None] if V.ndim == 1 else V
        if np.isnan(V).any():
            raise ValueError("values have missing entries; set them to 0 for rows to leave out")
        full, reps = self._group_sums(V, np.zeros(len(V), dtype=np.int64), 1)
        est, rep = full[0], reps[0].T
        v = np.atleast_2d(replicate_vcov(rep, self.scale, self.rscales, mse=self.mse, coef=est))
        return ReplicateResult(est, rep, v, self.scale, self.rscales.copy(), self.mse)

    # ------------------------------------------------------------------ phase 1: sums per domain
    def _domains(self, by: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
        key = ("dom",) + tuple(by)
        if key not in self._cache:
            if by:
                missing = [c for c in by if c not in self.data.columns]
                if missing:
                    raise KeyError(f"columns not in the data: {missing}")
                codes, lab = _codes([self.data[c] for c in by])
                lab.columns = by
            else:
                codes, lab = np.zeros(len(self.data), dtype=np.int64), pd.DataFrame(index=[0])
            self._cache[key] = (codes, lab)
        return self._cache[key]

    def _group_sums(self, V: np.ndarray, dom: np.ndarray, D: int, key: tuple | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Sums of w*V (full sample) and of A_r*V (each replicate) per domain.

        ``V``: (n, k) row values (0 where a row should not count); ``dom``: domain code per
        row (-1: in no domain); ``key``: a cache key for the row order by domain (the
        ``by`` columns). Returns ``full`` (D, k) and ``reps`` (D, k, R).
        """
        n, k = V.shape
        R = self.n_replicates
        ok = dom >= 0
        if not ok.all():
            idx = np.flatnonzero(ok)
            V, dom, rows = V[idx], dom[idx], idx
        else:
            rows = None
        w = self._w if rows is None else self._w[rows]
        if self._F is not None:
            # sums of w*V per (domain, unit) cell present, then per domain its cells' sums times
            # their units' factors: k x cells x R operations, not a pass over n x R weights
            wV = V * w[:, None]
            ckey = ("cells",) + key if key is not None and rows is None else None
            if ckey is None or ckey not in self._cache:
                unit = self._unit if rows is None else self._unit[rows]
                U = self._F.shape[0]
                cell = dom * U + unit
                starts = _run_starts(cell)
                at, inv = cell[starts], None
                if len(np.unique(at)) != len(at):  # a cell's rows in several runs: number the cells
                    starts = None
                    at, inv = np.unique(cell, return_inverse=True)
                cdom, cunit = at // U, at % U
                order = np.argsort(cdom, kind="stable")
                cells = (starts, inv, len(at), cdom, cunit, order, np.searchsorted(cdom[order], np.arange(D + 1)))
                if ckey is not None:  # the cells of these domains, cached on the design
                    self._cache[ckey] = cells
            else:
                cells = self._cache[ckey]
            starts, inv, C, cdom, cunit, order, bounds = cells
            if starts is not None:  # each cell's rows in one run (data ordered by unit)
                S = np.add.reduceat(wV, starts, axis=0) if len(wV) else np.zeros((0, k))
            else:
                S = np.column_stack([np.bincount(inv, weights=wV[:, j], minlength=C) for j in range(k)])
            full = np.column_stack([np.bincount(cdom, weights=S[:, j], minlength=D) for j in range(k)]) \
                if k else np.zeros((D, 0))
            reps = np.zeros((D, k, R))
            for d in range(D):
                o = order[bounds[d]:bounds[d + 1]]
                if len(o):
                    reps[d] = S[o].T @ self._F[cunit[o]]
        else:
            # rows grouped by domain; each domain's replicate totals are one small matrix product
            # (V_d' W_d) over its rows: no pass over the n x R weights per domain or statistic
            order = self._cache.get(key) if key is not None else None
            if order is None:
                order = None if (dom[1:] >= dom[:-1]).all() else np.argsort(dom, kind="stable")
                if key is not None:
                    self._cache[key] = order if order is not None else "sorted"
            if isinstance(order, str):
                order = None
            sdom = dom if order is None else dom[order]
            bounds = np.searchsorted(sdom, np.arange(D + 1))
            reps = np.zeros((D, k, R))
            full = np.zeros((D, k))
            grow = rows
            for d in range(D):
                a, b = bounds[d], bounds[d + 1]
                if a == b:
                    continue
                loc = slice(a, b) if order is None else order[a:b]
                Wd = self._W[loc] if grow is None else self._W[grow[loc]]
                Vd = V[loc]
                reps[d] = Vd.T @ Wd
                full[d] = Vd.T @ w[loc]
            return full, reps
        return full, reps.reshape(D, k, R)

    # ------------------------------------------------------------------ degrees of freedom
    def degf(self, by: str | Sequence[str] | None = None) -> pd.DataFrame | float:
        """Design degrees of freedom: rank of the analysis weights minus one (R's ``degf``).

        Parameters
        ----------
        by : column(s), optional
            Per domain (R: ``degf(design[domain, ])``).

        Returns
        -------
        float for the whole design; with ``by`` a frame of the ``by`` columns and ``df``.
        """
        by = _as_list(by)
        dom, lab = self._domains(by)
        d = self._domain_df(by, dom, len(lab))
        if not by:
            return float(d[0])
        out = lab.copy()
        out["df"] = d
        return out

    def _row_groups(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows whose analysis weights are proportional (e.g. the rows of one PSU), grouped:
        ``(group code per row, the group's normalised row (G, R))``. A matrix's rank is that
        of its distinct rows, each scaled by the root sum of squares of its rows' scales."""
        if "rowgroups" not in self._cache:
            if self._F is not None:
                F = self._F
                gid = self._unit
                base = F
            else:
                W = self._W
                rng = np.random.default_rng(12345)
                P2 = W @ np.column_stack([rng.standard_normal(W.shape[1]), np.ones(W.shape[1])])  # one pass
                fp, s = P2[:, 0], P2[:, 1]
                with np.errstate(divide="ignore", invalid="ignore"):
                    key = np.where(s > 0, fp / s, 0.0)
                key = np.round(key, 9) + 0.0
                gid, _ = pd.factorize(key)
                gid = gid.astype(np.int64)
                first = _first_rows(gid, int(gid.max()) + 1)
                with np.errstate(divide="ignore", invalid="ignore"):
                    base = W[first] / np.where(s[first] > 0, s[first], 1.0)[:, None]
            self._cache["rowgroups"] = (gid, base)
            if self._F is None:
                self._cache["rowscale2"] = s ** 2
        return self._cache["rowgroups"]

    def _domain_df(self, by: list[str], dom: np.ndarray, D: int) -> np.ndarray:
        key = ("df",) + tuple(by)
        if key not in self._cache:
            self._cache[key] = self._codes_df(dom, D)
        return self._cache[key]

    def _codes_df(self, dom: np.ndarray, D: int) -> np.ndarray:
        """degf of each domain (rows with code d): rank of its analysis weights minus one."""
        gid, base = self._row_groups()
        scale2 = self._w ** 2 if self._F is not None else self._cache["rowscale2"]
        G = base.shape[0]
        ok = (dom >= 0) & (scale2 > 0)
        tot = np.bincount(dom[ok] * G + gid[ok], weights=scale2[ok], minlength=D * G).reshape(D, G)
        out = np.empty(D)
        for d in range(D):
            g = np.flatnonzero(tot[d] > 0)
            out[d] = _qr_rank(base[g] * np.sqrt(tot[d, g])[:, None]) - 1
        return out

    # hooks used by helpers.stats.survey.quantiles
    def _mask_df(self, mask: np.ndarray) -> float:
        return float(self._codes_df(np.where(mask, 0, -1), 1)[0])

    def _subset_nrow(self, mask: np.ndarray) -> int:
        return int(mask.sum())

    def _vector_mean_se(self, y: np.ndarray) -> tuple[float, float]:
        """Mean and replicate SE of ``y`` over its non-missing rows (R: svymean on that subset)."""
        m = ~np.isnan(y)
        V = np.column_stack([m.astype(float), np.where(m, y, 0.0)])
        full, reps = self._group_sums(V, np.zeros(len(y), dtype=np.int64), 1)
        est = full[0, 1] / full[0, 0]
        th = reps[0, 1] / reps[0, 0]
        v = _vcov_columns(th[:, None], self.scale, self.rscales, self.mse, np.array([est]))
        return float(est), float(np.sqrt(v[0]))

    # ------------------------------------------------------------------ estimators
    def _items(self, variables) -> dict[str, np.ndarray]:
        names = _as_list(variables)
        if not names:
            raise ValueError("give at least one variable")
        return {v: self._values(v) for v in names}

    def _values(self, col: str) -> np.ndarray:
        if col not in self.data.columns:
            raise KeyError(f"columns not in the data: {[col]}")
        s = self.data[col]
        if s.dtype == bool:
            s = s.astype(float)
        try:
            return s.to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError) as e:
            raise TypeError(f"column {col!r} is not numeric; use proportion() for categories") from e

    def _counts(self, by: list[str], dom: np.ndarray, D: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows, and rows with a non-zero weight, per domain (cached per ``by``)."""
        key = ("counts",) + tuple(by)
        if key not in self._cache:
            ok = dom >= 0
            d = dom if ok.all() else dom[ok]
            rows = np.bincount(d, minlength=D).astype(float)
            wnz = self._w != 0
            nz = rows if wnz.all() else np.bincount(d, weights=(wnz if ok.all() else wnz[ok]).astype(float),
                                                     minlength=D)
            self._cache[key] = (rows, nz)
        return self._cache[key]

    def _mean_total(self, items: dict[str, np.ndarray], by, kind: str, level: float, ci_df
                    ) -> tuple[pd.DataFrame, list[dict], dict]:
        by = _as_list(by)
        dom, lab = self._domains(by)
        D = len(lab)
        cols, names = [], []
        ones_idx = None
        for name, y in items.items():
            m = ~np.isnan(y)
            if m.all():
                if ones_idx is None:
                    ones_idx = len(cols)
                    cols.append(np.ones(len(y)))
                cols.append(y)
                names.append((name, ones_idx, len(cols) - 1, y, None))
            else:
                y0 = np.where(m, y, 0.0)
                cols += [m.astype(float), y0]
                names.append((name, len(cols) - 2, len(cols) - 1, y0, m))
        V = np.column_stack(cols)
        full, reps = self._group_sums(V, dom, D, key=("order",) + tuple(by))
        ddf = self._domain_df(by, dom, D)
        rows, nz = self._counts(by, dom, D)
        okd = dom >= 0
        di = dom if okd.all() else dom[okd]
        wnz = self._w != 0
        w_ok = self._w if okd.all() else self._w[okd]
        parts = []
        extra = {}
        for name, iw, iy, y0, m in names:
            if m is None:
                n, nobs = nz, rows
            else:
                mm = m if okd.all() else m[okd]
                nobs = np.bincount(di, weights=mm.astype(float), minlength=D)
                n = nobs if wnz.all() else np.bincount(di, weights=(mm & (wnz if okd.all() else wnz[okd])
                                                                     ).astype(float), minlength=D)
            yk = y0 if okd.all() else y0[okd]
            YY = np.bincount(di, weights=w_ok * yk * yk, minlength=D)   # full sample only: for deff
            W, Y = full[:, iw], full[:, iy]
            Wr, Yr = reps[:, iw, :], reps[:, iy, :]
            with np.errstate(divide="ignore", invalid="ignore"):
                mean = Y / W
                if kind == "mean":
                    est, th = mean, Yr / Wr
                else:
                    est, th = Y, Yr
                var = _vcov_columns(th.T, self.scale, self.rscales, self.mse, est)
                s2 = nobs / (nobs - 1) * (YY - Y * mean) / W
                vsrs = s2 * (W - nobs) / (W * nobs)
                if kind == "total":
                    vsrs = vsrs * W ** 2
                deff = np.where((W < nobs) | (nobs < 2), np.nan, var / vsrs)
            se = np.sqrt(var)
            q = _quantile(level, ddf, ci_df)
            parts.append(dict(variable=name, estimate=est, se=se, ci_low=est - q * se, ci_high=est + q * se,
                              df=ddf, deff=deff, n=n))
            extra[name] = dict(mean_reps=(Yr / Wr) if kind == "mean" else None)
        return lab, parts, extra

    def mean(self, variables: str | Sequence[str], by: str | Sequence[str] | None = None, *,
             level: float = 0.95, ci_df: str | float = "design", df: str | float | None = None) -> pd.DataFrame:
        """Means with replicate standard errors (R: ``svyby(~y, ~by, repdesign, svymean, na.rm=TRUE, deff=TRUE)``).

        Parameters
        ----------
        variables : column name(s) of numeric items.
        by : domain column(s); None for the whole population.
        level : confidence level (0-1).
        ci_df : ``"design"`` (t quantile on the domain's degf, default) or a number of degrees
            of freedom; ``numpy.inf`` gives R's ``confint()`` default for replicate designs.
        df : alias of ``ci_df``.

        Returns
        -------
        pandas.DataFrame
            ``by`` columns, ``variable, estimate, se, ci_low, ci_high, df, deff, n`` (n:
            respondents with the item present and a non-zero weight in the domain).
        """
        lab, parts, _ = self._mean_total(self._items(variables), by, "mean", level, _pick(ci_df, df))
        return _frame(lab, parts)

    def total(self, variables: str | Sequence[str], by: str | Sequence[str] | None = None, *,
              level: float = 0.95, ci_df: str | float = "design", df: str | float | None = None) -> pd.DataFrame:
        """Population totals with replicate standard errors (R: ``svytotal`` in ``svyby``).

        Parameters
        ----------
        variables, by, level, ci_df, df : as :meth:`mean`.

        Returns
        -------
        pandas.DataFrame
            ``by`` columns, ``variable, estimate, se, ci_low, ci_high, df, deff, n``; the
            estimate is the weighted total.
        """
        lab, parts, _ = self._mean_total(self._items(variables), by, "total", level, _pick(ci_df, df))
        return _frame(lab, parts)

    def ratio(self, numerator: str, denominator: str, by: str | Sequence[str] | None = None, *,
              level: float = 0.95, ci_df: str | float = "design", df: str | float | None = None) -> pd.DataFrame:
        """Ratio of two totals with replicate standard errors (R: ``svyratio`` on a replicate design).

        Rows where either column is missing are dropped. Each replicate's ratio is the ratio
        of its totals; ``deff`` is R's (that of the total of ``num - R den``).

        Parameters
        ----------
        numerator, denominator : numeric columns.
        by, level, ci_df, df : as :meth:`mean`.

        Returns
        -------
        pandas.DataFrame as :meth:`mean`; ``variable`` is ``"numerator/denominator"``.
        """
        by = _as_list(by)
        ci_df = _pick(ci_df, df)
        y, x = self._values(numerator), self._values(denominator)
        m = ~(np.isnan(y) | np.isnan(x))
        y0, x0 = np.where(m, y, 0.0), np.where(m, x, 0.0)
        dom, lab = self._domains(by)
        D = len(lab)
        full, reps = self._group_sums(np.column_stack([m.astype(float), y0, x0]), dom, D, key=("order",) + tuple(by))
        okd = dom >= 0
        w = self._w

        def tot(v):
            return np.bincount(dom[okd], weights=v[okd], minlength=D)

        n = tot((m & (w != 0)).astype(float))
        nobs = tot(m.astype(float))
        W, Y, X = full[:, 0], full[:, 1], full[:, 2]
        Yr, Xr = reps[:, 1, :], reps[:, 2, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            r = Y / X
            var = _vcov_columns((Yr / Xr).T, self.scale, self.rscales, self.mse, r)
            # deff: deff(svytotal(num - r * den)) on the replicate design
            zr = Yr - r[:, None] * Xr
            vz = _vcov_columns(zr.T, self.scale, self.rscales, self.mse, Y - r * X)
            swz = Y - r * X
            swzz = tot(w * y0 * y0) - 2 * r * tot(w * x0 * y0) + r ** 2 * tot(w * x0 * x0)
            zbar = swz / W
            s2 = nobs / (nobs - 1) * (swzz - 2 * zbar * swz + zbar ** 2 * W) / W
            vsrs = s2 * W ** 2 * (W - nobs) / (W * nobs)
            deff = np.where((W < nobs) | (nobs < 2), np.nan, vz / vsrs)
        se = np.sqrt(var)
        ddf = self._domain_df(by, dom, D)
        q = _quantile(level, ddf, ci_df)
        part = dict(variable=f"{numerator}/{denominator}", estimate=r, se=se, ci_low=r - q * se,
                    ci_high=r + q * se, df=ddf, deff=deff, n=n)
        return _frame(lab, [part])

    def proportion(self, variable: str, level=None, by: str | Sequence[str] | None = None, *,
                   method: str = "logit", conf_level: float = 0.95, ci_df: str | float = "design",
                   levels: Sequence | None = None, df: str | float | None = None) -> pd.DataFrame:
        """Share of the population in a category, with its interval (R: ``svyciprop`` on a replicate design).

        Parameters
        ----------
        variable : column (any type; compared with ``==``).
        level : one category or a list counted together; None: every category (or ``levels``).
        by : domain column(s).
        method : ``"logit"`` (R's default: the interval of logit p from the replicates'
            logits, t quantile on the domain's degf, back-transformed) or ``"mean"`` (Wald).
        conf_level : confidence level (0-1).
        ci_df : ``"design"`` or a number (``numpy.inf``: normal).
        levels : with ``level=None``, the categories to report.
        df : alias of ``ci_df``.

        Returns
        -------
        pandas.DataFrame
            ``by`` columns, ``variable, level, estimate, se, ci_low, ci_high, df, deff, n``;
            ``se`` and ``deff`` are those of the mean of the indicator (R's ``svymean``).
        """
        if method not in ("logit", "mean"):
            raise ValueError("method must be 'logit' or 'mean'")
        ci_df = _pick(ci_df, df)
        if variable not in self.data.columns:
            raise KeyError(f"columns not in the data: {[variable]}")
        s = self.data[variable]
        if level is None and levels is None:
            levels = sorted(pd.unique(s.dropna()))
        if level is None and levels is not None and all(
                isinstance(v, (float, np.floating)) and float(v).is_integer() for v in levels):
            levels = [int(v) for v in levels]
        groups = [level] if level is not None else list(levels)
        items, labels = {}, []
        for i, g in enumerate(groups):
            gl = list(g) if isinstance(g, (list, tuple, set)) else [g]
            labels.append(g if not isinstance(g, (list, tuple, set)) else "|".join(str(v) for v in gl))
            ind = s.isin(gl).to_numpy(dtype=float)
            ind[s.isna().to_numpy()] = np.nan
            items[f"__l{i}"] = ind
        lab, parts, extra = self._mean_total(items, by, "mean", conf_level, ci_df)
        for (key, p), lv in zip(zip(items, parts), labels):
            p["variable"] = variable
            p["level"] = lv
            if method == "logit":
                est = p["estimate"]
                q = _quantile(conf_level, p["df"], ci_df)
                with np.errstate(divide="ignore", invalid="ignore"):
                    eta = np.log(est / (1 - est))
                    reps = extra[key]["mean_reps"]
                    eta_r = np.log(reps / (1 - reps))
                    v_eta = _vcov_columns(eta_r.T, self.scale, self.rscales, self.mse, eta)
                    se_eta = np.sqrt(v_eta)
                    p["ci_low"] = _expit(eta - q * se_eta)
                    p["ci_high"] = _expit(eta + q * se_eta)
        out = _frame(lab, parts)
        cols = list(out.columns)
        cols.remove("level")
        cols.insert(cols.index("variable") + 1, "level")
        return out[cols]

    def quantile(self, variables: str | Sequence[str], quantiles: float | Sequence[float] = 0.5,
                 by: str | Sequence[str] | None = None, **kwargs) -> pd.DataFrame:
        """Quantiles with confidence intervals (R: ``svyquantile`` on a replicate design).

        Parameters
        ----------
        variables, quantiles, by : as :func:`helpers.stats.survey.quantiles.quantile`.
        **kwargs : ``qrule``, ``interval_type`` (``"mean"``, ``"beta"``, ``"xlogit"``,
            ``"asin"`` or ``"quantile"``: the replicate variance of the quantile), ``level``,
            ``ci_df``.

        Returns
        -------
        pandas.DataFrame
            ``by`` columns, ``variable, prob, estimate, se, ci_low, ci_high, df, n``.
        """
        from helpers.stats.survey.quantiles import quantile
        return quantile(self, variables, quantiles, by=by, **kwargs)

    # ------------------------------------------------------------------ helpers for other modules
    def _domain_rows(self, by: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
        return self._domains(by)


def _frame(lab: pd.DataFrame, parts: list[dict]) -> pd.DataFrame:
    D = len(lab)
    k = len(parts)
    cols: dict[str, object] = {}
    for c in lab.columns:
        cols[c] = np.tile(lab[c].to_numpy(), k)
    for c in ("variable", "level"):
        if c in parts[0]:
            cols[c] = np.repeat(np.array([p[c] for p in parts], dtype=object), D)
    for c in ("estimate", "se", "ci_low", "ci_high", "df", "deff", "n"):
        cols[c] = np.concatenate([np.broadcast_to(np.asarray(p[c], dtype=float), (D,)) for p in parts])
    out = pd.DataFrame(cols)
    out["n"] = out["n"].astype(np.int64)
    return out


def _span(cols: list[str]) -> str:
    if not cols:
        return "none"
    return f"{cols[0]}..{cols[-1]}" if len(cols) > 2 else ", ".join(map(str, cols))


def _qr_rank(M: np.ndarray, tol: float = 1e-5) -> int:
    """Rank as R's ``qr(M, tol=1e-5)$rank`` decides it: Householder QR with LINPACK
    dqrdc2's limited pivoting, reimplemented with NumPy.

    Columns are reduced in order; a column whose remaining norm has fallen below ``tol``
    times its original norm is moved to the end and no longer used; the rank is the
    number of columns not moved, at most the number of rows. (Written here because the
    decision, not just the numerical rank, must be R's: a rank-deficient domain of a
    replicate design gets R's degrees of freedom.)

    A tall matrix (many more rows than columns, e.g. one row per PSU) is first reduced
    to the triangular factor R of its QR decomposition (LAPACK): every norm and projection
    that decides dqrdc2's pivoting is invariant under the orthogonal factor, so the same
    columns are moved, on p x p instead of n x p values."""
    X = np.array(M, dtype=float, order="F")
    n, p = X.shape
    if n == 0 or p == 0:
        return 0
    if n > 2 * p:
        # Clearly full rank: if every column's norm left after projecting out the columns
        # before it (|R_ll|, here from the Cholesky factor of X'X) is far above tol times
        # its norm, dqrdc2 moves no column and the rank is p. Otherwise decide as dqrdc2.
        G = X.T @ X
        norms = np.sqrt(np.diag(G))
        if (norms > 0).all():
            try:
                L = np.linalg.cholesky(G)
            except np.linalg.LinAlgError:
                pass
            else:
                if (np.diag(L) >= 1e3 * tol * norms).all():
                    return p
        return min(_qr_rank(np.linalg.qr(X, mode="r"), tol), n)
    qraux = np.linalg.norm(X, axis=0)
    orig = np.where(qraux == 0, 1.0, qraux)
    kk = p                                   # columns not moved to the end
    for l in range(min(n, p)):
        while not (l >= kk or qraux[l] >= orig[l] * tol):
            X[:, l:] = np.roll(X[:, l:], -1, axis=1)
            qraux[l:] = np.roll(qraux[l:], -1)
            orig[l:] = np.roll(orig[l:], -1)
            kk -= 1
        if l == n - 1:
            continue
        v = X[l:, l]
        nrm = np.linalg.norm(v)
        if nrm == 0:
            continue
        if v[0] != 0:
            nrm = np.copysign(nrm, v[0])
        v /= nrm
        v[0] += 1.0
        if l + 1 < p:
            rest = X[l:, l + 1:]
            t = -(v @ rest) / v[0]
            rest += np.outer(v, t)
            nz = qraux[l + 1:] != 0
            with np.errstate(divide="ignore", invalid="ignore"):
                tt = np.maximum(1.0 - (np.abs(rest[0]) / qraux[l + 1:]) ** 2, 0.0)
            upd = nz & (tt >= 1e-6)
            qraux[l + 1:] = np.where(upd, qraux[l + 1:] * np.sqrt(tt), qraux[l + 1:])
            again = nz & ~upd
            if again.any():
                idx = np.flatnonzero(again)
                qraux[l + 1 + idx] = np.linalg.norm(rest[1:, idx], axis=0)
    return min(kk, n)


def _type_constants(type, W, w, R, scale, rscales, rho, bootstrap_average, combined, cols):
    """scale and rscales for a design arriving with replicate columns, as R's svrepdesign."""
    if type == "Fay" and rho is None:
        raise ValueError("type='Fay' needs rho (Fay's coefficient, e.g. 0.5)")
    if rscales is not None:
        rs = np.atleast_1d(np.asarray(rscales, dtype=float))
        if len(rs) not in (1, R):
            raise ValueError(f"rscales has {len(rs)} values, should be {R} (one per replicate-weight column "
                             f"{_span(cols)}) or 1")
        rscales = np.broadcast_to(rs, (R,)).copy()
    if type == "BRR":
        if scale is not None:
            warnings.warn("type='BRR' does not use scale= (it is 1/R)", stacklevel=3)
        scale = 1.0 / R
    elif type == "Fay":
        scale = 1.0 / (R * (1 - rho) ** 2)
    elif type == "bootstrap":
        ba = 1 if bootstrap_average is None else bootstrap_average
        if scale is None:
            scale = ba / (R - 1)
    elif type == "JK1" and scale is None:
        if not combined:
            warnings.warn("scale (n-1)/n not provided: guessing from weights", stacklevel=3)
            scale = 1.0 / W[:, 0].max()
        else:
            warnings.warn("scale (n-1)/n not provided: guessing n = number of replicates", stacklevel=3)
            scale = (R - 1) / R
    elif type == "JKn" and rscales is None:
        if not combined:
            warnings.warn("rscales (n-1)/n not provided: guessing from weights", stacklevel=3)
            rscales = 1.0 / W.max(axis=0)
        else:
            raise ValueError("type='JKn' with combined weights needs rscales ((n_h - 1)/n_h of each "
                             "replicate's stratum)")
    elif type in ("ACS", "successive-difference"):
        rscales = np.ones(R)
        scale = 4.0 / R
    elif type == "JK2":
        rscales = np.ones(R)
        scale = 1.0
    elif type == "other" and (rscales is None or scale is None):
        warnings.warn("scale or rscales not specified, set to 1", stacklevel=3)
    if rscales is None:
        rscales = np.ones(R)
    if scale is None:
        scale = 1.0
    return float(scale), np.asarray(rscales, dtype=float)


# ---------------------------------------------------------------------------------- conversion
def _first_order(codes: np.ndarray) -> np.ndarray:
    """Distinct codes in order of first appearance."""
    u, first = np.unique(codes, return_index=True)
    return u[np.argsort(first, kind="stable")]


def _label(v) -> str:
    """A value as R's as.character() writes it (integers without a decimal point)."""
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def as_replicate_design(design: SurveyDesign, type: str = "auto", *, replicates: int = 50, fay_rho: float = 0.0,
                        mse: bool = False, seed: int | np.random.Generator | None = None, small: str = "fail",
                        large: str = "split", hadamard_matrix: np.ndarray | None = None) -> ReplicateDesign:
    """Convert a Taylor design to replicate weights (R's ``as.svrepdesign``).

    Parameters
    ----------
    design : SurveyDesign
        An in-memory design (pandas engine). For a two-stage design only the first stage
        is used (as R does; its second-stage fpc is dropped with a warning).
    type : {"auto", "JK1", "JKn", "BRR", "Fay", "bootstrap", "subbootstrap"}
        ``"auto"``: JK1 without strata, JKn with strata (R's default).
    replicates : int
        Number of bootstrap replicates (``bootstrap``/``subbootstrap``).
    fay_rho : float
        Fay's coefficient for ``type="Fay"`` (0 < rho < 1; 0 is BRR).
    mse : bool
        Centre variances on the full-sample estimate (R's ``mse=``).
    seed : int or numpy.random.Generator, optional
        Randomness of the bootstrap types (ignored by the deterministic ones).
    small, large : str
        BRR/Fay handling of strata with one PSU (``"fail"``, ``"split"``, ``"merge"``) and
        with more than two (``"split"`` into pairs in order of appearance, ``"merge"`` into
        two halves, ``"fail"``), as R's ``brrweights``.
    hadamard_matrix : array, optional
        A Hadamard matrix to use instead of R's choice (any two-valued coding; the value
        of its top-left entry stands for "first PSU of the pair out").

    Returns
    -------
    ReplicateDesign
        With the design's data and full-sample weights; replicate weights stored compactly
        as factors per PSU. ``degf`` is R's (rank of the analysis weights minus one).

    Notes
    -----
    R counterpart: ``as.svrepdesign(design, type=, fay.rho=, replicates=, mse=)`` with R's
    ``survey.lonely.psu`` taken from ``design.lonely_psu`` (JKn). JK1, JKn, BRR and Fay give
    R's replicate weights exactly, in R's order: JKn strata and PSUs in order of first
    appearance in the data; BRR pairs in sorted stratum order (C collation of the labels),
    PSUs in order of appearance. The bootstrap draws with NumPy, so its replicates are
    R's in distribution, not draw for draw (compare via exported weights).
    Strata that are censuses (fpc: all PSUs sampled) get no JKn replicates (R's
    ``survey.drop.replicates=TRUE``).

    References
    ----------
    Lumley (2010), chapter 2.3; Rust and Rao (1996); Wolter (2007), chapters 3-5; Canty and
    Davison (1999); Rao and Wu (1988); Judkins (1990).
    """
    if type not in CONVERSION_TYPES:
        raise ValueError(f"type must be one of {CONVERSION_TYPES}, got {type!r}")
    if not isinstance(design, SurveyDesign) or getattr(design, "_duck", None) is not None:
        raise TypeError("as_replicate_design needs an in-memory SurveyDesign (engine='pandas')")
    has_strata = bool(design.strata)
    if type == "auto":
        type = "JKn" if has_strata else "JK1"
    if type == "JK1" and has_strata:
        raise ValueError("JK1 is for unstratified designs; use type='JKn' for a stratified design")
    if type in ("JKn", "BRR", "Fay") and not has_strata:
        raise ValueError(f"type={type!r} needs strata; use 'JK1' or 'bootstrap' for an unstratified design")
    if type == "Fay" and not 0 < fay_rho < 1:
        raise ValueError("type='Fay' needs 0 < fay_rho < 1")
    if type == "BRR" and fay_rho != 0:
        type = "Fay"
    psu = design._psu                       # row -> PSU code
    P = int(psu.max()) + 1
    pstrat = design._psu_stratum            # PSU -> stratum code
    nh = design._nh                         # sampled PSUs per stratum
    Nh = design._Nh                         # population PSUs per stratum (or None)
    if len(design.psu) == 2 and Nh is not None and type in ("JK1", "JKn", "bootstrap"):
        warnings.warn("Finite population corrections after first stage have been dropped", stacklevel=2)
    if Nh is not None and type in ("BRR", "Fay"):
        warnings.warn("Finite population correction dropped in conversion", stacklevel=2)
        Nh = None
    first_row = np.full(P, len(psu), dtype=np.int64)
    np.minimum.at(first_row, psu, np.arange(len(psu)))
    psu_order = np.argsort(first_row, kind="stable")        # PSUs in order of first appearance
    strat_order = _first_order(pstrat[psu_order])            # strata in order of first appearance
    rho = None
    if type == "JK1":
        F, scale, rscales = _jk1(P, psu_order, Nh)
    elif type == "JKn":
        F, scale, rscales = _jkn(psu_order, pstrat, strat_order, nh, Nh, design)
    elif type in ("BRR", "Fay"):
        rho = fay_rho if type == "Fay" else None
        labels = [_stratum_label(design, h) for h in range(len(nh))]
        F = _brr(P, pstrat, first_row, labels, small, large, fay_rho, hadamard_matrix)
        scale, rscales = 1.0 / (F.shape[1] * (1 - fay_rho) ** 2), np.ones(F.shape[1])
    else:
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        F, scale, rscales = _bootstrap(psu_order, pstrat, strat_order, nh, Nh, replicates, rng,
                                       sub=(type == "subbootstrap"))
    return ReplicateDesign._from_factors(design, psu, F, type, scale, rscales, rho, mse)


def _stratum_label(design: SurveyDesign, h: int) -> str:
    row = design._strata_labels.iloc[h]
    return ".".join(_label(v) for v in row.to_numpy())


def _jk1(P, psu_order, Nh):
    n = P
    if n < 2:
        raise ValueError("JK1 needs at least 2 PSUs")
    f = 1.0
    if Nh is not None:
        N = float(Nh[0])
        f = (N - n) / N
    F = np.full((P, n), n / (n - 1))
    F[psu_order, np.arange(n)] = 0.0
    if f == 0:
        raise ValueError("every PSU of the population was sampled (fpc): the jackknife variance is 0")
    return F, f * (n - 1) / n, np.ones(n)


def _jkn(psu_order, pstrat, strat_order, nh, Nh, design):
    P = len(pstrat)
    H = len(nh)
    cols, rscales = [], []
    lonely = design.lonely_psu
    nstrat = H
    for h in strat_order:
        members = psu_order[pstrat[psu_order] == h]
        n = len(members)
        f = 1.0 if Nh is None else (Nh[h] - n) / Nh[h]
        if f == 0:
            continue  # a census stratum: no replicates (R's survey.drop.replicates)
        if n == 1:
            if lonely == "fail":
                raise ValueError(f"stratum {_stratum_label(design, h)!r} has only one PSU: set lonely_psu on the "
                                 "design ('adjust', 'remove', 'certainty', 'average'), as R's "
                                 "options(survey.lonely.psu=)")
            if lonely == "adjust":
                col = np.where(pstrat == h, 0.0, nstrat / (nstrat - 1))
                cols.append(col)
                rscales.append((nstrat - 1) / nstrat)
            continue
        for j in members:
            col = np.ones(P)
            col[members] = n / (n - 1)
            col[j] = 0.0
            cols.append(col)
            rscales.append(f * (n - 1) / n)
    if not cols:
        raise ValueError("all strata were exhaustively sampled: the design has no sampling variance")
    scale = 1.0
    if len(cols) < P and lonely == "average":
        scale = P / len(cols)
    return np.column_stack(cols), scale, np.asarray(rscales)


def _brr(P, pstrat, first_row, labels, small, large, rho, hadamard_matrix):
    for opt, name, allowed in ((small, "small", ("fail", "split", "merge")),
                               (large, "large", ("split", "merge", "fail"))):
        if opt not in allowed:
            raise ValueError(f"{name} must be one of {allowed}")
    lab = np.array([labels[h] for h in pstrat], dtype=object)       # stratum label per PSU
    names, size = np.unique(lab.astype(str), return_counts=True)      # sorted labels (C collation)
    names = [str(v) for v in names]
    ssize = dict(zip(names, (int(v) for v in size)))
    oo = sorted(range(P), key=lambda p: (lab[p], first_row[p]))       # R: order(sunq, match)
    oo = np.array(oo, dtype=np.int64)
    wts = np.zeros((P, 2))
    pair = np.zeros(P, dtype=np.int64)
    upto = 0
    small_s = [s for s in names if ssize[s] == 1]
    large_s = [s for s in names if ssize[s] > 2]
    good_s = [s for s in names if ssize[s] == 2]
    if small_s:
        if small == "fail":
            raise ValueError(f"strata with fewer than 2 PSUs: {small_s[:5]}; BRR needs 2 per stratum "
                             "(small='split' or 'merge')")
        if small == "split":
            in_small = np.isin(lab.astype(str), small_s)
            by_first = np.flatnonzero(in_small)[np.argsort(first_row[in_small], kind="stable")]
            wts[by_first] = 0.5
            pair[by_first] = np.arange(1, len(small_s) + 1)
            upto = len(small_s)
        else:
            k = len(small_s)
            if k < 2:
                raise ValueError("can't merge a single small stratum (BRR small='merge')")
            sel = oo[np.isin(lab[oo].astype(str), small_s)]
            c1 = np.resize([0, 1], k)
            wts[sel, 0], wts[sel, 1] = c1, 1 - c1
            m = k // 2
            pair[sel] = (np.r_[np.arange(1, m + 1), np.arange(1, m + 1)] if k % 2 == 0
                         else np.r_[1, np.arange(1, m + 1), np.arange(1, m + 1)])
            upto = m
    if large_s:
        if large == "fail":
            raise ValueError(f"strata with more than 2 PSUs: {large_s[:5]}; (large='split' or 'merge')")
        if large == "split":
            odd = [s for s in large_s if ssize[s] % 2 == 1]
            if odd:
                raise ValueError(f"can't split strata with an odd number of PSUs into pairs: {odd[:5]} "
                                 "(use large='merge')")
            for s in large_s:
                sel = oo[lab[oo].astype(str) == s]
                c1 = np.resize([0, 1], len(sel))
                wts[sel, 0], wts[sel, 1] = c1, 1 - c1
                pair[sel] = upto + np.repeat(np.arange(1, len(sel) // 2 + 1), 2)
                upto += len(sel) // 2
        else:
            sel = oo[np.isin(lab[oo].astype(str), large_s)]
            c1 = np.concatenate([np.r_[np.zeros(ssize[s] // 2), np.ones(ssize[s] - ssize[s] // 2)]
                                 for s in large_s])
            wts[sel, 0], wts[sel, 1] = c1, 1 - c1
            pair[sel] = upto + np.concatenate([np.full(ssize[s], i + 1) for i, s in enumerate(large_s)])
            upto += len(large_s)
    if good_s:
        sel = oo[np.isin(lab[oo].astype(str), good_s)]
        c1 = np.resize([0, 1], len(sel))
        wts[sel, 0], wts[sel, 1] = c1, 1 - c1
        pair[sel] = upto + np.repeat(np.arange(1, len(good_s) + 1), 2)
        upto += len(good_s)
    if hadamard_matrix is None:
        Hm = hadamard(upto)
    else:
        hm = np.asarray(hadamard_matrix)
        if hm.ndim != 2 or hm.shape[0] < upto + 1:
            raise ValueError(f"hadamard_matrix must be a matrix with at least {upto + 1} rows (pairs + 1)")
        vals = pd.unique(hm.T.ravel())
        if len(vals) != 2:
            raise ValueError("hadamard_matrix must have exactly two distinct values")
        Hm = np.where(hm == vals[0], 0, 1).astype(np.int8)
        if not is_hadamard(Hm, full_orthogonal_balance=False):
            raise ValueError("hadamard_matrix is not a Hadamard matrix")
    h = Hm[pair, :]                     # (P, R): 0 -> first column of weights is "a"
    wa = np.where(h == 0, wts[:, [0]], wts[:, [1]])
    wb = np.where(h == 0, wts[:, [1]], wts[:, [0]])
    return wa * (2 - rho) + wb * rho


def _bootstrap(psu_order, pstrat, strat_order, nh, Nh, R, rng, sub=False):
    P = len(pstrat)
    F = np.zeros((P, R))
    for h in strat_order:
        members = psu_order[pstrat[psu_order] == h]
        n = len(members)
        perm = members[rng.permutation(n)]
        if sub:
            if n < 2:
                raise ValueError("the n-1 bootstrap needs at least 2 PSUs per stratum")
            counts = rng.multinomial(n - 1, np.full(n, 1.0 / n), size=R) * n / (n - 1)
        elif Nh is None:
            counts = rng.multinomial(n, np.full(n, 1.0 / n), size=R)
        else:
            N = int(round(Nh[h]))
            copies = np.full(n, N // n) + (np.arange(n) < N % n)
            counts = rng.multivariate_hypergeometric(copies, n, size=R)
        F[perm] = counts.T
    if sub:
        scale = 1.0 / (R - 1)
    else:
        nbar = 1.0 / np.mean(1.0 / nh[nh > 0])
        scale = nbar / ((nbar - 1) * (R - 1))
    return F, scale, np.ones(R)
