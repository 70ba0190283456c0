"""Class breaks for choropleths, rounded to the precision the legend shows.

:func:`classify` computes class breaks with mapclassify and then puts them on
the *display grid*: the numbers the legend's format can print (``"{:.1f}"``
prints 12.4 and 12.5 and nothing between). A class is a closed range of
displayed numbers, ``"10.0 – 12.4"``, and the next one starts one step later,
``"12.5 – 15.0"``; a value is classed by the number it would be printed as,
so every value the data can take at the precision shown falls in exactly one
class, the one whose label contains its printed value, and the last class
always contains the maximum. mapclassify's own convention (a class holds the
values above its lower break up to and including its upper break) is kept:
a value printed exactly as a break belongs to the class below it.

When no format is given, the number of decimals is chosen from the values'
magnitude and raised until distinct breaks stay distinct when rounded.

Data finer than the legend. When the values carry more decimals than the
legend prints (values with one decimal, ``fmt="{:.0f}"``; or continuous
values), closed labels would leave gaps a reader sees: 43.5 lies in neither
``"0 – 43"`` nor ``"44 – 57"``. The classes are then *contiguous*: each class
runs from its lower break up to, not including, the next one, and the labels
say so, ``"0 to < 44"``, ``"44 to < 57"``, ..., ``"80 to 92"`` (the last class
includes its upper end, the maximum rounded up); every value falls in exactly
one class whatever its precision, and a value equal to a break belongs to the
class above it. Which form is used is decided from the data
(:func:`data_decimals`), not by the caller.

References: Slocum, T. A. et al. (2009). *Thematic Cartography and
Geovisualization*, 3rd ed., ch. 5 (class limits that leave no gaps); Brewer, C.
A. & Pickle, L. (2002). Evaluation of methods for classifying epidemiological
data on choropleth maps in series. *Annals of the AAG* 92(4), 662-681.
"""
from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import mapclassify
import numpy as np
from matplotlib import colormaps
from matplotlib import colors as mcolors
from matplotlib.patches import Patch

from helpers.viz import style

__all__ = ["Classes", "classify", "data_decimals", "display_grid", "grid_values"]

# Readable names of mapclassify's schemes, for the legend.
SCHEME_NAMES = {
    "quantiles": "Quantiles",
    "equalinterval": "Equal intervals",
    "fisherjenks": "Fisher-Jenks",
    "fisherjenkssampled": "Fisher-Jenks (sampled)",
    "naturalbreaks": "Natural breaks",
    "jenkscaspall": "Jenks-Caspall",
    "headtailbreaks": "Head/tail breaks",
    "maximumbreaks": "Maximum breaks",
    "boxplot": "Box plot",
    "percentiles": "Percentiles",
    "stdmean": "Std. mean",
    "prettybreaks": "Pretty breaks",
    "userdefined": "User-defined breaks",
}

#: Most decimals an automatic format uses.
MAX_AUTO_DECIMALS = 6

_FIELD = re.compile(r"\{[^{}:]*(?::([^{}]*))?\}")
_SPEC = re.compile(r"^(?:.?[<>=^])?[+\- ]?z?#?0?\d*[,_]?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$")


def _scheme_key(scheme: str) -> str:
    return scheme.replace("_", "").replace("-", "").replace(" ", "").lower()


def display_grid(fmt: str) -> tuple[int, float] | None:
    """The grid of numbers a format prints: ``(decimals, scale)``, or None.

    Fixed-point formats (``"{:.1f}"``, ``"{:,.2f}"``, ``"{:.0%}"``) print
    multiples of ``10**-decimals`` of ``value * scale`` (scale 100 for ``%``).
    Formats without a fixed grid (``"{:.3g}"``, ``"{}"``) give None.

    Parameters
    ----------
    fmt : a :meth:`str.format` template with one replacement field.

    Returns
    -------
    ``(decimals, scale)`` or None.
    """
    m = _FIELD.search(fmt)
    if m is None:
        return None
    spec = _SPEC.match(m.group(1) or "")
    if spec is None:
        return None
    prec, kind = spec.group(1), spec.group(2)
    if kind in ("f", "F"):
        return (int(prec) if prec is not None else 6, 1.0)
    if kind == "%":
        return (int(prec) if prec is not None else 6, 100.0)
    return None


def grid_values(values, decimals: int, scale: float = 1.0) -> np.ndarray:
    """Each value as the integer it is printed as on the display grid.

    ``grid_values([12.44, 12.46], 1)`` is ``[124, 125]``: the value printed with
    ``decimals`` decimals (after multiplying by ``scale``, as the ``%`` format
    does), times ``10**decimals``. Python's own formatting does the rounding, so
    the integer always matches what the legend would print. NaN stays NaN
    (the result is float).

    Returns
    -------
    numpy float array of integers (NaN for missing values).
    """
    v = np.asarray(values, dtype="float64").ravel()
    out = np.full(v.shape, np.nan)
    for i, x in enumerate(v):
        if math.isfinite(x):
            out[i] = float(format(x * scale, f".{decimals}f").replace(".", "")) if decimals > 0 \
                else float(format(x * scale, ".0f"))
    return out


def data_decimals(values, scale: float = 1.0, max_decimals: int = MAX_AUTO_DECIMALS) -> int | None:
    """The precision of the data: the fewest decimals that write every value (times ``scale``) exactly.

    ``data_decimals([43.5, 12.0])`` is 1, ``data_decimals([3, 7])`` is 0, ``data_decimals([0.25], 100)``
    is 0 (25%); values that need more than ``max_decimals`` decimals (continuous values, such as
    rates computed from counts) give None. NaN are ignored; no finite value gives 0.

    Returns
    -------
    int or None.
    """
    v = np.asarray(values, dtype="float64").ravel()
    v = v[np.isfinite(v)] * scale
    if v.size == 0:
        return 0
    tol = 1e-9 * np.maximum(1.0, np.abs(v))
    for d in range(max_decimals + 1):
        if np.all(np.abs(np.round(v, d) - v) <= tol):
            return d
    return None


def _from_grid(g: float, decimals: int, scale: float) -> float:
    return float(g) / (10 ** decimals) / scale


def _auto_decimals(values: np.ndarray) -> int:
    finite = np.abs(values[np.isfinite(values)])
    top = finite.max() if finite.size else 1.0
    span = np.ptp(values[np.isfinite(values)]) if finite.size else 1.0
    ref = max(min(top, span if span > 0 else top), 1e-12)
    return int(np.clip(2 - math.floor(math.log10(ref)), 0, 4))


def auto_fmt(values) -> str:
    """A fixed-point format for values of this magnitude (``"{:,.2f}"`` ...)."""
    return "{:,.%df}" % _auto_decimals(np.asarray(values, dtype="float64"))


@dataclass(frozen=True)
class Classes:
    """A classification of values into coloured classes (the legend of a choropleth).

    Attributes
    ----------
    scheme : readable name of the scheme (e.g. ``"Quantiles"``).
    bins : upper bounds of the classes (ascending; the last is at least the
        maximum), rounded to the display grid when :attr:`decimals` is set.
    lower : lower bound of the first class (the minimum, rounded likewise).
    colors : hex colour of each class.
    labels : legend label of each class (``"10.0 – 12.4"``, or ``"10 to < 12"`` when
        :attr:`contiguous`); consecutive labels leave no value out and share none.
    center : reference value the colours diverge from, or None.
    fmt : format of the numbers in the labels.
    decimals, scale : the display grid of ``fmt`` (:func:`display_grid`):
        values are classed by the number they are printed as. None when
        ``fmt`` has no fixed grid (values are then classed by the raw breaks).
    contiguous : the data are finer than the display grid: class ``i`` holds the values
        from ``bins[i-1]`` (``lower`` for the first) up to, not including, ``bins[i]``; the
        last class includes ``bins[-1]``. See the module docstring.
    """

    scheme: str
    bins: np.ndarray
    lower: float
    colors: tuple[str, ...]
    labels: tuple[str, ...]
    center: float | None = None
    fmt: str = "{:,.2f}"
    decimals: int | None = None
    scale: float = 1.0
    contiguous: bool = False

    @property
    def k(self) -> int:
        """Number of classes."""
        return len(self.bins)

    @property
    def title(self) -> str:
        """Scheme and number of classes, e.g. ``"Quantiles, 5 classes"``."""
        t = f"{self.scheme}, {self.k} classes"
        if self.center is not None:
            t += f"\ncentred on {self.fmt.format(self.center)}"
        return t

    def assign(self, values) -> np.ndarray:
        """Class index (0..k-1) of each value; -1 for missing values.

        With a display grid, a value goes to the class whose label contains
        the number it is printed as; values below the first class or above the
        last go to the first or last class.
        """
        v = np.asarray(values, dtype="float64")
        if self.contiguous:
            x = np.where(np.isfinite(v), v, 0.0) * self.scale * 10.0 ** self.decimals
            g = grid_values(self.bins[:-1], self.decimals, self.scale)
            idx = np.searchsorted(g, x + 1e-9 * np.maximum(1.0, np.abs(x)), side="right")
        elif self.decimals is not None:
            g = grid_values(v, self.decimals, self.scale).reshape(v.shape)
            b = grid_values(self.bins, self.decimals, self.scale)
            idx = np.searchsorted(b, np.where(np.isfinite(g), g, 0.0), side="left")
        else:
            idx = np.searchsorted(self.bins, np.where(np.isfinite(v), v, 0.0), side="left")
        idx = np.clip(idx, 0, self.k - 1)
        return np.where(np.isfinite(v), idx, -1)

    def color_of(self, values) -> np.ndarray:
        """Hex colour of each value (``""`` for missing values)."""
        idx = self.assign(values)
        cols = np.array(self.colors + ("",), dtype=object)
        return cols[idx]  # -1 picks the trailing ""

    def handles(self) -> list[Patch]:
        """Legend patches, one per class (lowest first)."""
        return [Patch(facecolor=c, edgecolor="#777777", linewidth=0.4, label=lab)
                for c, lab in zip(self.colors, self.labels)]

    def range_text(self) -> str:
        """``"from 10.0 to 15.0"``: the range the classes cover, as printed."""
        return f"from {self.fmt.format(self.lower)} to {self.fmt.format(self.bins[-1])}"


def _centre_breaks(ub: np.ndarray, lower: float, center: float) -> np.ndarray:
    """Make ``center`` a break: move the nearest break onto it when within a quarter class width, else add it."""
    if not (lower < center < ub[-1]) or np.any(np.isclose(ub, center, rtol=0, atol=1e-9 * max(1.0, abs(center)))):
        return ub
    edges = np.concatenate([[lower], ub])
    widths = np.diff(edges)
    j = int(np.argmin(np.abs(ub[:-1] - center))) if len(ub) > 1 else -1
    if j >= 0 and abs(ub[j] - center) < 0.25 * min(widths[j], widths[j + 1]):
        ub = ub.copy()
        ub[j] = center
        return np.unique(ub)
    return np.sort(np.append(ub, center))


def classify(
    values,
    scheme: str = "quantiles",
    k: int = 5,
    *,
    bins: Sequence[float] | None = None,
    cmap: str | None = None,
    center: float | None = None,
    fmt: str | None = None,
    **classification_kwds,
) -> Classes:
    """Classify values with mapclassify, round the breaks to the legend's precision, pick colours.

    Parameters
    ----------
    values : array-like of numbers; NaN are ignored.
    scheme : a mapclassify scheme name (``"quantiles"``, ``"fisher_jenks"``,
        ``"equal_interval"``, ``"natural_breaks"``, ``"box_plot"``, ...).
        Ignored when ``bins`` is given (user-defined breaks).
    k : number of classes asked for (a scheme may return fewer when values
        tie, and breaks that print alike are merged).
    bins : explicit upper bounds of the classes (``UserDefined``).
    cmap : matplotlib colour map name; default :data:`helpers.viz.style.SEQUENTIAL_CMAP`,
        or :data:`helpers.viz.style.DIVERGING_CMAP` when ``center`` is given.
    center : reference value (e.g. the city value) to centre diverging colours
        on. It becomes a class break (the nearest break moves onto it when
        within a quarter class width, else it is added); classes below it take
        one hue, classes above the other, darker with distance. A value printed
        as the centre belongs to the class below it.
    fmt : format of the class bounds in the legend (e.g. ``"{:.0%}"``). Its
        precision is the display grid the breaks are rounded to (see the module
        docstring). When None, a fixed-point format with enough decimals to keep
        the breaks apart.
    **classification_kwds : passed to :func:`mapclassify.classify`.

    Returns
    -------
    :class:`Classes`
    """
    y = np.asarray(values, dtype="float64").ravel()
    y = y[np.isfinite(y)]
    if y.size == 0:
        raise ValueError("no finite values to classify")
    if bins is not None:
        mc = mapclassify.UserDefined(y, bins=list(bins))
        name = SCHEME_NAMES["userdefined"]
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "not enough unique values": k is reported
            mc = mapclassify.classify(y, scheme, k=k, **classification_kwds)
        name = SCHEME_NAMES.get(_scheme_key(scheme), scheme.replace("_", " ").capitalize())
    ub = np.unique(np.asarray(mc.bins, dtype="float64"))
    ub[-1] = max(ub[-1], float(y.max()))  # the last class includes the maximum
    lower = float(min(y.min(), ub[0]))
    if center is not None:
        center = float(center)
        ub = _centre_breaks(ub, lower, center)
    if fmt is None:
        dec = _auto_decimals(np.append(ub, lower))
        raw_distinct = len(np.unique(np.round(ub, 12)))
        while dec < MAX_AUTO_DECIMALS and len(np.unique(grid_values(ub, dec))) < raw_distinct:
            dec += 1
        fmt = "{:,.%df}" % dec
    grid = display_grid(fmt)
    contiguous = False
    if grid is not None:
        prec = data_decimals(y, grid[1])
        contiguous = prec is None or prec > grid[0]
    if grid is None:
        decimals, scale = None, 1.0
        lows_txt = [fmt.format(a) for a in np.concatenate([[lower], ub[:-1]])]
        labels = tuple(fmt.format(b) if lo == fmt.format(b) else f"{lo} – {fmt.format(b)}"
                       for lo, b in zip(lows_txt, ub))
    elif contiguous:
        decimals, scale = grid
        unit = 10.0 ** decimals
        g_low = float(math.floor(y.min() * scale * unit + 1e-9))
        g_top = float(math.ceil(y.max() * scale * unit - 1e-9))
        g_in = np.unique(grid_values(ub[:-1], decimals, scale)) if len(ub) > 1 else np.array([])
        if center is not None:
            g_c = float(grid_values([center], decimals, scale)[0])
            center = _from_grid(g_c, decimals, scale)
            g_in = np.unique(np.append(g_in, g_c))
        g_in = g_in[(g_in > g_low) & (g_in < g_top)]
        g_ub = np.append(g_in, max(g_top, g_low))
        ub = np.array([_from_grid(g, decimals, scale) for g in g_ub])
        lower = _from_grid(g_low, decimals, scale)
        g_lows = np.concatenate([[g_low], g_ub[:-1]])
        show = [fmt.format(_from_grid(g, decimals, scale)) for g in np.concatenate([[g_low], g_ub])]
        labels = tuple(
            (f"{show[i]} to < {show[i + 1]}" if i < len(g_ub) - 1
             else (show[i] if g_lows[i] >= g_ub[i] else f"{show[i]} to {show[i + 1]}"))
            for i in range(len(g_ub)))
    else:
        decimals, scale = grid
        g_ub = np.unique(grid_values(ub, decimals, scale))
        g_low = float(grid_values([lower], decimals, scale)[0])
        g_ub = g_ub[g_ub >= g_low]
        if center is not None:
            g_c = float(grid_values([center], decimals, scale)[0])
            center = _from_grid(g_c, decimals, scale)
            if g_low < g_c < g_ub[-1] and g_c not in g_ub:  # rounding moved the centre off its break
                g_ub = np.sort(np.append(g_ub, g_c))
        ub = np.array([_from_grid(g, decimals, scale) for g in g_ub])
        lower = _from_grid(g_low, decimals, scale)
        g_lows = np.concatenate([[g_low], g_ub[:-1] + 1])
        labels = tuple(
            fmt.format(_from_grid(b, decimals, scale)) if a >= b
            else f"{fmt.format(_from_grid(a, decimals, scale))} – {fmt.format(_from_grid(b, decimals, scale))}"
            for a, b in zip(g_lows, g_ub))
    kk = len(ub)
    if center is None:
        cm = colormaps[cmap or style.SEQUENTIAL_CMAP]
        pos = np.linspace(0.1, 0.95, kk) if kk > 1 else np.array([0.6])
    else:
        cm = colormaps[cmap or style.DIVERGING_CMAP]
        below = int(np.sum(ub <= center + 1e-12 * max(1.0, abs(center))))
        above = kk - below
        m = max(below, above, 1)
        off = np.linspace(0.16, 0.5, m) if m > 1 else np.array([0.3])
        pos = np.concatenate([0.5 - off[:below][::-1], 0.5 + off[:above]])
    colors = tuple(mcolors.to_hex(cm(p)) for p in pos)
    return Classes(scheme=name, bins=ub, lower=lower, colors=colors, labels=labels, center=center, fmt=fmt,
                   decimals=decimals, scale=scale, contiguous=contiguous)
