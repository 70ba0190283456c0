"""Estimates with their full design covariance, and contrasts of them (R's ``svyby(covmat=TRUE)``
and ``svycontrast``).

Two estimates from one survey share its PSUs, so their difference needs their covariance:
a district's mean and the city's mean (the district is part of the city), or two districts
when the domains cut across PSUs (e.g. sexes, age bands). :func:`domain_estimates` (also
reached as ``design.mean(..., covmat=True)``) returns the estimates by domain, optionally with
the whole-population estimate, as an :class:`Estimates` carrying the covariance matrix of all
of them; :func:`svycontrast` takes linear or nonlinear functions of any estimates that carry a
covariance (an :class:`Estimates`, a fitted :class:`~helpers.stats.survey.regression.SurveyGLM`).

::

    est = design.mean("sat_overall", by="district_id", covmat=True, overall=True)
    est.difference_from("(all)")           # each district minus the city, correct SEs
    est.pairwise()                          # district A minus district B, every pair
    svycontrast(est, {"D01 vs D02": {"D01": 1, "D02": -1}})
    svycontrast(est, "log(`D01` / `(all)`)")  # nonlinear: delta method

How it is computed
------------------
The influence values of every estimate (one column per domain x variable, zero outside its
domain; for the whole population, one more column) are summed per PSU and their covariance
is taken over the whole design (:meth:`SurveyDesign._vcov`), as R's
``svyby.survey.design2(..., covmat=TRUE)`` does with ``svyrecvar`` of the stacked influence
functions (Lumley 2010, sec. 2.3; Binder 1983). Every stratum of the design takes part (in R's
covariance too), so with ``lonely_psu="average"`` or ``"fail"`` the diagonal can differ from the
domain SEs of the frame, exactly as it does in R.

A linear contrast ``c' theta`` has variance ``c' V c``; a nonlinear one ``f(theta)`` the
delta-method ``g' V g`` with ``g`` the gradient of f (R's ``svycontrast`` with ``quote()``
expressions, whose gradient R takes symbolically with ``deriv``). Here the gradient of an
expression or callable is taken by complex-step differentiation, ``Im f(theta + i h e_j) / h``,
which is exact to rounding for the analytic functions allowed in expressions (Squire and
Trapp 1998); a callable that does not accept complex input, or whose complex-step gradient
disagrees with central differences (a non-analytic operation such as ``abs``), falls back to
Richardson-extrapolated central differences.

References
----------
Binder, D. A. (1983) *International Statistical Review* 51, 279-292.
Lumley, T. (2010) *Complex Surveys: A Guide to Analysis Using R*, sec. 2.3 and 3.4. Wiley.
Squire, W. and Trapp, G. (1998) Using complex variables to estimate derivatives of real
functions. *SIAM Review* 40, 110-112.
"""
from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from helpers.stats.survey.inference import wald_table

__all__ = ["Estimates", "svycontrast", "domain_estimates", "OVERALL"]

#: Name of the whole-population estimate in :func:`domain_estimates` with ``overall=True``.
OVERALL = "(all)"


@dataclass
class Estimates:
    """Design-based estimates with their full covariance matrix (R: ``svystat``/``svyby`` with ``covmat``).

    Attributes
    ----------
    frame : DataFrame
        The estimator's tidy rows (``by`` columns, ``variable, estimate, se, ci_low, ci_high,
        df, deff, n``) plus ``name``, the estimate's name in contrasts: the domain label
        (``by`` values joined by ``"."`` as R's ``interaction``), followed by ``":variable"``
        when several variables are estimated; the whole population is ``"(all)"`` (its ``by``
        columns are missing).
    estimate : Series
        The estimates indexed by ``name`` (R: ``coef``).
    vcov : DataFrame
        Their covariance matrix, indexed by ``name`` both ways (R: ``vcov``).
    df : float
        Degrees of freedom for intervals of contrasts: the design's (PSUs minus strata,
        R's ``degf(design)``).
    by : list of str
        The domain columns.
    """

    frame: pd.DataFrame
    estimate: pd.Series
    vcov: pd.DataFrame
    df: float
    by: list = field(default_factory=list)

    @property
    def se(self) -> pd.Series:
        """Standard errors from the diagonal of :attr:`vcov`."""
        return pd.Series(np.sqrt(np.diag(self.vcov.to_numpy())), index=self.estimate.index)

    def contrast(self, contrasts, *, level: float = 0.95, df: float | None = None) -> pd.DataFrame:
        """Linear or nonlinear contrasts of the estimates: :func:`svycontrast` on this object."""
        return svycontrast(self, contrasts, level=level, df=df)

    def _by_variable(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for name, var in zip(self.frame["name"], self.frame["variable"]):
            out.setdefault(var, []).append(name)
        return out

    def _label(self, name: str) -> str:
        return name.rsplit(":", 1)[0] if self.frame["variable"].nunique() > 1 else name

    def difference_from(self, reference: str = OVERALL, *, level: float = 0.95,
                        df: float | None = None) -> pd.DataFrame:
        """Each estimate minus a reference estimate of the same variable (e.g. district minus city).

        Parameters
        ----------
        reference : the domain label of the reference (``"(all)"``: the whole population,
            present when the estimates were made with ``overall=True``; or a domain label
            such as ``"D01"``).
        level : confidence level (0-1).
        df : degrees of freedom of the t quantile (default :attr:`df`; ``numpy.inf`` gives
            R's normal ``confint``).

        Returns
        -------
        DataFrame, one row per other estimate: the ``by`` columns and ``variable`` of the
        estimate, ``term`` (``"name - reference"``), ``estimate, se, ci_low, ci_high, p,
        df``.
        """
        spec, keep = {}, []
        for var, names in self._by_variable().items():
            ref = [nm for nm in names if self._label(nm) == str(reference)]
            if not ref:
                raise KeyError(f"no estimate {reference!r} for variable {var!r}; domains are "
                               f"{[self._label(nm) for nm in names]} (overall=True adds {OVERALL!r})")
            for nm in names:
                if nm != ref[0]:
                    spec[f"{nm} - {ref[0]}"] = {nm: 1.0, ref[0]: -1.0}
                    keep.append(nm)
        res = svycontrast(self, spec, level=level, df=df)
        lab = self.frame.set_index("name").loc[keep, [*self.by, "variable"]].reset_index(drop=True)
        return pd.concat([lab, res.reset_index(drop=True)], axis=1)

    def pairwise(self, *, level: float = 0.95, df: float | None = None) -> pd.DataFrame:
        """Every pairwise difference ``a - b`` of the domain estimates of each variable.

        Parameters
        ----------
        level, df : as :meth:`difference_from`.

        Returns
        -------
        DataFrame: ``variable, a, b`` (the two names), ``term`` (``"a - b"``), ``estimate, se,
        ci_low, ci_high, p, df``, one row per pair (in the order of the estimates).
        """
        spec, rows = {}, []
        for var, names in self._by_variable().items():
            for i, a in enumerate(names):
                for b in names[i + 1:]:
                    spec[f"{a} - {b}"] = {a: 1.0, b: -1.0}
                    rows.append((var, a, b))
        res = svycontrast(self, spec, level=level, df=df)
        lab = pd.DataFrame(rows, columns=["variable", "a", "b"])
        return pd.concat([lab, res.reset_index(drop=True)], axis=1)


# ---------------------------------------------------------------------- estimates by domain
def _labels(domains: pd.DataFrame) -> list[str]:
    return [".".join(str(v) for v in row) for row in domains.itertuples(index=False)]


def domain_estimates(design, kind: str, variables=None, by=None, *, denominator: str | None = None,
                     overall: bool = False, level: float = 0.95, ci_df="design") -> Estimates:
    """Means, totals or ratios by domain with their full covariance matrix (R: ``svyby(..., covmat=TRUE)``).

    Parameters
    ----------
    design : SurveyDesign (either engine).
    kind : ``"mean"``, ``"total"`` or ``"ratio"``.
    variables : column name(s) (for a ratio: the numerator column).
    by : domain column(s); None: the whole population only.
    denominator : the denominator column of a ratio.
    overall : also estimate the whole population (named ``"(all)"``), with its covariance
        with every domain, for "domain minus population" contrasts.
    level, ci_df : as :meth:`SurveyDesign.mean` (the frame's intervals).

    Returns
    -------
    Estimates: ``frame`` (as the estimator's, plus ``name``), ``estimate``, ``vcov``, ``df``.

    Notes
    -----
    R counterpart: ``svyby(~y, ~by, design, svymean, covmat=TRUE)`` (and ``svytotal``,
    ``svyratio``); the covariance with the whole population has no one-call R counterpart
    (it is ``svyrecvar`` of the stacked influence functions, ``svymean(..., influence=TRUE)``).
    """
    from helpers.stats.survey.design import _Cells, _as_list

    by = _as_list(by)
    if kind not in ("mean", "total", "ratio"):
        raise ValueError("kind must be 'mean', 'total' or 'ratio'")

    def block(b):
        if kind == "ratio":
            if denominator is None:
                raise ValueError("a ratio needs denominator=")
            cells, part = design._ratio(str(variables), denominator, b, level, ci_df)
            return cells, [part]
        return design._mean_total(design._prep_items(variables), b, kind, level, ci_df)

    blocks = [block(by)]
    if overall and by:
        blocks.append(block([]))
    multi = len(blocks[0][1]) > 1
    frames, names = [], []
    psu, ssu, Zs = [], [], []
    ncol = sum(len(parts) * len(cells.domains) for cells, parts in blocks)
    j0 = 0
    for bi, (cells, parts) in enumerate(blocks):
        f = design._frame(cells, parts)
        D = len(cells.domains)
        if not by:  # the whole population only: named by the variables, as R's svymean
            nm = [p["variable"] for p in parts]
        else:
            labs = _labels(cells.domains) if bi == 0 else [OVERALL] * D
            nm = [f"{lab}:{p['variable']}" if multi else lab for p in parts for lab in labs]
        f["name"] = nm
        frames.append(f)
        names += nm
        C = len(cells.dom)
        Z = np.zeros((C, ncol))
        for v, p in enumerate(parts):
            Z[np.arange(C), j0 + v * D + cells.dom] = p["_z"]
        j0 += len(parts) * D
        Zs.append(Z)
        psu.append(cells.psu)
        ssu.append(cells.ssu)
    allc = _Cells(dom=np.zeros(sum(len(p) for p in psu), dtype=np.int64), psu=np.concatenate(psu),
                  ssu=None if ssu[0] is None else np.concatenate(ssu), nrow=np.ones(sum(len(p) for p in psu)),
                  sums={}, domains=pd.DataFrame(index=[0]))
    V = design._vcov(allc, np.vstack(Zs), None, distinct=False)[0]
    V = (V + V.T) / 2
    frame = pd.concat(frames, ignore_index=True)
    est = pd.Series(frame["estimate"].to_numpy(float), index=names)
    if getattr(design, "_duck", None) is None:
        ddf = design._degf()
    else:
        ddf = float(design._nh.sum() - (design._nh > 0).sum())
    return Estimates(frame=frame, estimate=est, vcov=pd.DataFrame(V, index=names, columns=names), df=ddf, by=by)


# ---------------------------------------------------------------------- contrasts
_FUNCS = {name: getattr(np, name) for name in
          ("log", "exp", "sqrt", "log10", "log2", "log1p", "expm1", "sin", "cos", "tan", "arcsin",
           "arccos", "arctan", "sinh", "cosh", "tanh")}
_FUNCS.update(logit=lambda p: np.log(p / (1 - p)), expit=lambda x: 1 / (1 + np.exp(-x)),
              qlogis=lambda p: np.log(p / (1 - p)), plogis=lambda x: 1 / (1 + np.exp(-x)))
_ALLOWED = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Call, ast.Name, ast.Load, ast.Constant,
            ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd)


def _compile(expr: str, names: list[str]) -> Callable[[np.ndarray], complex]:
    """An expression over estimate names (backquotes for unusual names, R style) as f(theta)."""
    slots: dict[str, int] = {}
    index = {nm: i for i, nm in enumerate(names)}

    def quoted(m):
        nm = m.group(1)
        if nm not in index:
            raise KeyError(f"contrast {expr!r}: no estimate named {nm!r}; names are {names}")
        slots[f"__v{index[nm]}"] = index[nm]
        return f"__v{index[nm]}"

    src = re.sub(r"`([^`]+)`", quoted, expr).replace("^", "**")
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError as e:
        raise ValueError(f"cannot read the contrast expression {expr!r}: {e.msg}") from e
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ValueError(f"contrast {expr!r}: {type(node).__name__} is not allowed (use + - * / ** "
                             f"and {sorted(_FUNCS)})")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in _FUNCS):
            raise ValueError(f"contrast {expr!r}: only the functions {sorted(_FUNCS)} are allowed")
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
            raise ValueError(f"contrast {expr!r}: constant {node.value!r} is not a number")
        if isinstance(node, ast.Name) and node.id not in _FUNCS and not node.id.startswith("__v"):
            if node.id not in index:
                raise KeyError(f"contrast {expr!r}: no estimate named {node.id!r}; names are {names} "
                               "(quote unusual names with backquotes: `D01`)")
            slots[node.id] = index[node.id]
    code = compile(tree, "<contrast>", "eval")

    def f(theta):
        env = dict(_FUNCS)
        env.update({k: theta[i] for k, i in slots.items()})
        return eval(code, {"__builtins__": {}}, env)  # noqa: S307 - the AST was checked above

    return f


def _complex_step(f, theta: np.ndarray) -> np.ndarray:
    h = 1e-20
    g = np.empty(len(theta))
    for j in range(len(theta)):
        t = theta.astype(complex)
        t[j] += 1j * h
        g[j] = np.imag(f(t)) / h
    return g


def _central(f, theta: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Richardson-extrapolated central differences (error O(h^4))."""
    g = np.empty(len(theta))
    for j in range(len(theta)):
        h = 1e-3 * scale[j]

        def d(hh):
            tp, tm = theta.copy(), theta.copy()
            tp[j] += hh
            tm[j] -= hh
            return (float(np.real(f(tp))) - float(np.real(f(tm)))) / (2 * hh)

        g[j] = (4 * d(h / 2) - d(h)) / 3
    return g


def _nonlinear(spec, names: list[str], theta: np.ndarray, V: np.ndarray, label: str):
    if isinstance(spec, str):
        f = _compile(spec, names)
        value = float(np.real(f(theta)))
        return value, _complex_step(f, theta)
    # a callable of a Series indexed by the names
    def fs(t):
        return spec(pd.Series(t, index=names))

    value = float(np.real(fs(theta)))
    scale = np.maximum(np.abs(theta), np.sqrt(np.abs(np.diag(V))))
    scale = np.where(scale > 0, scale, 1.0)
    cd = _central(fs, theta, scale)
    try:
        g = _complex_step(fs, theta)
    except Exception:  # does not take complex input
        return value, cd
    tol = 1e-5 * (np.abs(g) + np.abs(cd)).max() + 1e-12
    if np.abs(g - cd).max() > tol:
        warnings.warn(f"contrast {label!r}: the complex-step gradient disagrees with central differences "
                      "(a non-analytic operation such as abs?); using central differences", RuntimeWarning,
                      stacklevel=4)
        return value, cd
    return value, g


def _linear(spec, names: list[str], label: str) -> np.ndarray:
    if isinstance(spec, Mapping):
        c = np.zeros(len(names))
        index = {nm: i for i, nm in enumerate(names)}
        for k, v in spec.items():
            if str(k) not in index:
                raise KeyError(f"contrast {label!r}: no estimate named {k!r}; names are {names}")
            c[index[str(k)]] = float(v)
        return c
    c = np.asarray(spec, dtype=float)
    if c.shape != (len(names),):
        raise ValueError(f"contrast {label!r} has {c.size} weights; there are {len(names)} estimates {names}")
    return c


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def svycontrast(stat, contrasts, *, level: float = 0.95, df: float | None = None) -> pd.DataFrame:
    """Linear and nonlinear contrasts of estimates that carry a covariance matrix (R: ``svycontrast``).

    Parameters
    ----------
    stat : an :class:`Estimates` (``design.mean(..., covmat=True)``), a fitted
        :class:`~helpers.stats.survey.regression.SurveyGLMResult`, or any object with
        ``estimate`` (a Series indexed by name), ``vcov`` (a DataFrame) and ``df``.
    contrasts : one contrast, or a dict mapping a contrast's name to one contrast. A contrast is
        * a dict ``{name: weight}`` (R's named vector ``c(a=1, b=-1)``; other weights 0),
        * a sequence of weights, one per estimate, in the order of ``stat.estimate`` (a 2-d
          array: one contrast per row, named ``contrast1``, ``contrast2``...),
        * a string expression of the names (R's ``quote()``): ``"log(a / b)"``,
          ``"`D01` - `(all)`"`` (backquotes around names that are not identifiers), with
          ``+ - * / **`` (or ``^``) and ``log, exp, sqrt, log10, log2, log1p, expm1, logit,
          expit`` and trigonometric functions,
        * a callable ``f(theta)`` of a Series indexed by the names, returning a number.
    level : confidence level (0-1).
    df : degrees of freedom of the t quantile and p-values (default ``stat.df``: the design
        df; ``numpy.inf`` gives R's normal ``confint``).

    Returns
    -------
    DataFrame, one row per contrast: ``term`` (its name: the dict key, the expression, or
    ``"contrast"``), ``estimate, se, ci_low, ci_high, p, df`` (the columns of
    :meth:`helpers.stats.models.ModelResult.contrast`); ``.attrs["vcov"]`` holds the
    covariance matrix of the contrasts (R: ``vcov``).

    Notes
    -----
    Linear contrasts: ``c' theta`` with variance ``c' V c``. Nonlinear: delta method
    ``g' V g`` with the gradient by complex step (exact to rounding; see the module
    docstring). R counterpart: ``svycontrast(stat, list(name = c(...)))`` and
    ``svycontrast(stat, quote(expr))``. References: Lumley (2010) sec. 3.4; Binder (1983).
    """
    est = getattr(stat, "estimate", None)
    if est is None or not hasattr(stat, "vcov"):
        raise TypeError("stat must carry estimates and a covariance matrix (Estimates from covmat=True, "
                        "or a fitted SurveyGLM)")
    names = [str(n) for n in est.index]
    theta = est.to_numpy(dtype=float)
    V = np.asarray(stat.vcov, dtype=float)
    if isinstance(contrasts, Mapping) and contrasts and all(_is_number(v) for v in contrasts.values()):
        items = [("contrast", contrasts)]
    elif isinstance(contrasts, Mapping):
        items = [(str(k), v) for k, v in contrasts.items()]
    elif isinstance(contrasts, str):
        items = [(contrasts, contrasts)]
    elif isinstance(contrasts, np.ndarray) and contrasts.ndim == 2:  # one combination per row
        items = [(f"contrast{i + 1}", row) for i, row in enumerate(contrasts)]
    else:
        items = [("contrast", contrasts)]
    if not items:
        raise ValueError("no contrasts given")
    values, grads = [], []
    for label, spec in items:
        if isinstance(spec, str) or callable(spec):
            v, g = _nonlinear(spec, names, theta, V, label)
        else:
            g = _linear(spec, names, label)
            used = g != 0
            v = float(g[used] @ theta[used]) if used.any() else 0.0
        values.append(v)
        grads.append(g)
    G = np.vstack(grads)
    # an estimate with a missing variance makes only the contrasts that use it missing (as R's contrast)
    nan = np.isnan(V).any(axis=1)
    Vc = G @ np.where(np.isnan(V), 0.0, V) @ G.T
    bad = (G[:, nan] != 0).any(axis=1)
    Vc[bad, :] = np.nan
    Vc[:, bad] = np.nan
    out = wald_table(values, np.sqrt(np.diag(Vc)), getattr(stat, "df", np.inf) if df is None else df, level)
    out.insert(0, "term", [lab for lab, _ in items])
    out.attrs["vcov"] = pd.DataFrame(Vc, index=out["term"], columns=out["term"])
    return out
