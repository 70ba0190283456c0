"""Maps: choropleths, small multiples, uncertainty, LISA and access maps.

Everything here draws on a matplotlib Axes (``ax=``) and returns it, takes its
colours and fonts from :mod:`helpers.viz.style`, and never modifies the frames it
is given. The map conventions a geographer expects are built in:

- the classification scheme and the number of classes are named in the
  legend (mapclassify; Jenks 1977, Slocum et al. 2009, ch. 5);
- units without a value are hatched and labelled "No data"; units whose
  estimate was suppressed for too few respondents
  (:mod:`helpers.publish.disclosure`) are drawn grey with dots and labelled so;
- diverging colours can be centred on a reference value (the city value):
  the reference becomes a class break, so every class lies wholly above or
  wholly below it;
- the boundaries of the level above (districts) can be drawn over the units
  (communities); a scale bar and a north arrow are added;
- small multiples share one set of class breaks and one legend.

Reference: Brewer, C. A. (2005). *Designing Better Maps*. ESRI Press;
Slocum, T. A. et al. (2009). *Thematic Cartography and Geovisualization*, 3rd ed.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import mapclassify
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib import colors as mcolors
from matplotlib import patheffects
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from helpers.viz import style
from helpers.publish.disclosure import MIN_RESPONDENTS, suppression_label

__all__ = [
    "Classes",
    "classify",
    "choropleth",
    "small_multiples",
    "category_map",
    "uncertainty_map",
    "lisa_map",
    "moran_scatterplot",
    "access_map",
    "add_scale_bar",
    "add_north_arrow",
]

# Readable names of mapclassify's schemes, for the legend.
_SCHEME_NAMES = {
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


def _scheme_key(scheme: str) -> str:
    return scheme.replace("_", "").replace("-", "").replace(" ", "").lower()


def _auto_fmt(values: np.ndarray) -> str:
    finite = np.abs(values[np.isfinite(values)])
    top = finite.max() if finite.size else 1.0
    span = np.ptp(values[np.isfinite(values)]) if finite.size else 1.0
    ref = max(min(top, span if span > 0 else top), 1e-12)
    dec = int(np.clip(2 - math.floor(math.log10(ref)), 0, 4))
    return "{:,.%df}" % dec


# --------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Classes:
    """A classification of values into coloured classes (the legend of a choropleth).

    Attributes
    ----------
    scheme : readable name of the scheme (e.g. ``"Quantiles"``).
    bins : upper bounds of the classes (ascending; the last is the maximum).
    lower : lower bound of the first class (the minimum).
    colors : hex colour of each class.
    labels : legend label of each class (``"0.10 – 0.25"``).
    center : reference value the colours diverge from, or None.
    """

    scheme: str
    bins: np.ndarray
    lower: float
    colors: tuple[str, ...]
    labels: tuple[str, ...]
    center: float | None = None
    fmt: str = "{:,.2f}"

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
        """Class index (0..k-1) of each value; -1 for missing values."""
        v = np.asarray(values, dtype="float64")
        idx = np.searchsorted(self.bins, v, side="left")
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
    """Classify values with mapclassify and pick the colours of the classes.

    Parameters
    ----------
    values : array-like of numbers; NaN are ignored.
    scheme : a mapclassify scheme name (``"quantiles"``, ``"fisher_jenks"``,
        ``"equal_interval"``, ``"natural_breaks"``, ``"box_plot"``, ...).
        Ignored when ``bins`` is given (user-defined breaks).
    k : number of classes asked for (a scheme may return fewer when values tie).
    bins : explicit upper bounds of the classes (``UserDefined``).
    cmap : matplotlib colour map name; default :data:`helpers.viz.style.SEQUENTIAL_CMAP`,
        or :data:`helpers.viz.style.DIVERGING_CMAP` when ``center`` is given.
    center : reference value (e.g. the city value) to centre diverging colours
        on. It becomes a class break (the nearest break moves onto it when
        within a quarter class width, else it is added); classes below it take
        one hue, classes above the other, darker with distance.
    fmt : format of the class bounds in the legend (e.g. ``"{:.0%}"``);
        chosen from the magnitude of the values when None.
    **classification_kwds : passed to :func:`mapclassify.classify`.

    Returns
    -------
    :class:`Classes`
    """
    y = np.asarray(values, dtype="float64")
    y = y[np.isfinite(y)]
    if y.size == 0:
        raise ValueError("no finite values to classify")
    if bins is not None:
        mc = mapclassify.UserDefined(y, bins=list(bins))
        name = _SCHEME_NAMES["userdefined"]
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "not enough unique values": k is reported
            mc = mapclassify.classify(y, scheme, k=k, **classification_kwds)
        name = _SCHEME_NAMES.get(_scheme_key(scheme), scheme.replace("_", " ").capitalize())
    ub = np.unique(np.asarray(mc.bins, dtype="float64"))
    lower = float(min(y.min(), ub[0]))
    if center is not None:
        center = float(center)
        if lower < center < ub[-1] and not np.any(np.isclose(ub, center)):
            # move a break lying within a quarter class-width of the centre onto it (no sliver
            # class); otherwise add the centre as a new break
            edges = np.concatenate([[lower], ub])
            widths = np.diff(edges)
            j = int(np.argmin(np.abs(ub[:-1] - center))) if len(ub) > 1 else -1
            if j >= 0 and abs(ub[j] - center) < 0.25 * min(widths[j], widths[j + 1]):
                ub = ub.copy()
                ub[j] = center
            else:
                ub = np.sort(np.append(ub, center))
    fmt = fmt or _auto_fmt(np.append(ub, lower))
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
    lows = np.concatenate([[lower], ub[:-1]])
    labels = tuple(fmt.format(b) if fmt.format(a) == fmt.format(b) else f"{fmt.format(a)} – {fmt.format(b)}"
                   for a, b in zip(lows, ub))
    return Classes(scheme=name, bins=ub, lower=lower, colors=colors, labels=labels, center=center, fmt=fmt)


# --------------------------------------------------------------------------
# Map furniture
# --------------------------------------------------------------------------
def _nice_length(target: float) -> float:
    if target <= 0:
        return 0.0
    exp = 10 ** math.floor(math.log10(target))
    for m in (5, 2, 1):
        if m * exp <= target:
            return m * exp
    return exp


def _metres_per_unit(ax, crs) -> float | None:
    if crs is None:
        return None
    crs = gpd.GeoSeries([], crs=crs).crs
    if crs.is_geographic:
        lat = np.mean(ax.get_ylim())
        return 111_320.0 * math.cos(math.radians(lat))
    try:
        return float(crs.axis_info[0].unit_conversion_factor)
    except (IndexError, AttributeError):
        return 1.0


def add_scale_bar(ax, crs, *, fraction: float = 0.22, loc: tuple[float, float] = (0.04, 0.04),
                  color: str = "#222222"):
    """Draw a two-segment scale bar (labelled 0 and L, with its unit) in the lower left.

    Parameters
    ----------
    ax : Axes with the map already drawn (limits set).
    crs : the map's CRS. Projected CRSs use their axis unit; for a geographic
        CRS the length is approximate (metres per degree of longitude at the
        map's mid-latitude). None: no bar is drawn.
    fraction : longest bar length as a fraction of the map width.
    loc : lower-left corner of the bar in axes fraction.

    Returns
    -------
    ax
    """
    mpu = _metres_per_unit(ax, crs)
    if mpu is None:
        return ax
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width_m = (x1 - x0) * mpu
    length_m = _nice_length(width_m * fraction)
    if length_m <= 0:
        return ax
    unit, div = ("km", 1000.0) if length_m >= 1000 else ("m", 1.0)
    L = length_m / mpu
    bx = x0 + loc[0] * (x1 - x0)
    by = y0 + loc[1] * (y1 - y0)
    h = 0.012 * (y1 - y0)
    for i, fc in enumerate((color, "white")):
        ax.add_patch(Rectangle((bx + i * L / 2, by), L / 2, h, facecolor=fc, edgecolor=color,
                               linewidth=0.6, zorder=10, gid="scale-bar"))

    def _lab(v):
        v = v / div
        return f"{v:g}"

    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    for xv, v in ((bx, 0.0), (bx + L, length_m)):
        ax.text(xv, by + 1.8 * h, _lab(v), ha="center", va="bottom", fontsize=7, color=color,
                zorder=10, path_effects=halo)
    ax.text(bx + L + 0.012 * (x1 - x0), by + h / 2, unit, ha="left", va="center", fontsize=7,
            color=color, zorder=10, path_effects=halo)
    return ax


def add_north_arrow(ax, *, xy: tuple[float, float] = (0.95, 0.95), size: float = 0.08,
                    color: str = "#222222"):
    """Draw a north arrow with an "N" in the upper right (axes fraction).

    Grid north of the projected CRS; in the project's Gauss-Kruger zone it is
    within a degree of true north over the city.
    """
    x, y = xy
    ax.annotate("", xy=(x, y), xytext=(x, y - size), xycoords="axes fraction",
                arrowprops=dict(arrowstyle="-|>,head_length=0.6,head_width=0.3", color=color, lw=1.4),
                zorder=10)
    ax.text(x, y - size - 0.01, "N", transform=ax.transAxes, ha="center", va="top", fontsize=9,
            fontweight="bold", color=color, zorder=10, gid="north-arrow")
    return ax


def _get_ax(ax, figsize=(6.4, 5.6)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _as_mask(gdf: pd.DataFrame, spec) -> np.ndarray:
    if spec is None:
        return np.zeros(len(gdf), dtype=bool)
    if isinstance(spec, str):
        if spec not in gdf.columns:
            raise KeyError(f"suppressed column {spec!r} not in frame")
        s = gdf[spec]
    else:
        s = pd.Series(np.asarray(spec), index=gdf.index) if not isinstance(spec, pd.Series) else spec
        if len(s) != len(gdf):
            raise ValueError("suppressed mask has the wrong length")
    return s.fillna(False).astype(bool).to_numpy()


def _label_units(ax, frame: gpd.GeoDataFrame, lang: str, fontsize: float = 7.0) -> None:
    col = style.resolve_label_column(frame, lang)
    pts = frame.geometry.representative_point()
    halo = [patheffects.withStroke(linewidth=2.2, foreground="white")]
    for p, name in zip(pts, frame[col]):
        if p is None or p.is_empty or pd.isna(name):
            continue
        ax.text(p.x, p.y, str(name), ha="center", va="center", fontsize=fontsize, color="#111111",
                zorder=9, path_effects=halo, gid="unit-label")


def _finish_map(ax, crs, *, scale_bar: bool, north_arrow: bool, title: str | None) -> None:
    ax.set_axis_off()
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    if scale_bar:
        add_scale_bar(ax, crs)
    if north_arrow:
        add_north_arrow(ax)


def _special_handles(has_nodata: bool, has_suppressed: bool, k_min: int) -> list[Patch]:
    h = []
    if has_nodata:
        s = style.NO_DATA_STYLE
        h.append(Patch(facecolor=s["facecolor"], edgecolor=s["edgecolor"], hatch=s["hatch"],
                       linewidth=0.4, label="No data"))
    if has_suppressed:
        s = style.SUPPRESSED_STYLE
        h.append(Patch(facecolor=s["facecolor"], edgecolor=s["edgecolor"], hatch=s["hatch"],
                       linewidth=0.4, label=suppression_label(k_min)))
    return h


def _draw_units(ax, gdf, facecolors, edge=None) -> None:
    edge = edge or style.UNIT_EDGE
    if len(gdf):
        gdf.plot(ax=ax, color=list(facecolors), edgecolor=edge["edgecolor"], linewidth=edge["linewidth"],
                 zorder=1, gid="choropleth-classes")


def _draw_special(ax, gdf, nodata: np.ndarray, supp: np.ndarray) -> None:
    if nodata.any():
        s = style.NO_DATA_STYLE
        gdf[nodata].plot(ax=ax, facecolor=s["facecolor"], edgecolor=s["edgecolor"], hatch=s["hatch"],
                         linewidth=0.3, zorder=2, gid="choropleth-nodata")
    if supp.any():
        s = style.SUPPRESSED_STYLE
        gdf[supp].plot(ax=ax, facecolor=s["facecolor"], edgecolor=s["edgecolor"], hatch=s["hatch"],
                       linewidth=0.3, zorder=2, gid="choropleth-suppressed")


def _draw_overlay(ax, overlay, crs) -> None:
    if overlay is None:
        return
    if crs is not None and overlay.crs is not None and overlay.crs != crs:
        overlay = overlay.to_crs(crs)
    overlay.plot(ax=ax, facecolor="none", edgecolor=style.UPPER_EDGE["edgecolor"],
                 linewidth=style.UPPER_EDGE["linewidth"], zorder=5, gid="upper-boundaries")


# --------------------------------------------------------------------------
# Choropleth
# --------------------------------------------------------------------------
def choropleth(
    gdf: gpd.GeoDataFrame,
    column: str,
    *,
    ax=None,
    scheme: str = "quantiles",
    k: int = 5,
    bins: Sequence[float] | None = None,
    classes: Classes | None = None,
    cmap: str | None = None,
    center: float | None = None,
    suppressed=None,
    min_respondents: int = MIN_RESPONDENTS,
    overlay: gpd.GeoDataFrame | None = None,
    labels: str | None = None,
    label_layer: str | None = None,
    legend: bool = True,
    legend_title: str | None = None,
    legend_loc: str = "outside",
    fmt: str | None = None,
    title: str | None = None,
    scale_bar: bool = True,
    north_arrow: bool = True,
    synthetic: bool = False,
    **classification_kwds,
):
    """Classed choropleth map of one column.

    Parameters
    ----------
    gdf : GeoDataFrame of polygons (projected CRS in metres for a true scale bar).
    column : numeric column to map; NaN units are drawn hatched as "No data".
    ax : matplotlib Axes to draw on (a new figure when None).
    scheme, k : mapclassify scheme and number of classes (named in the legend).
    bins : explicit class upper bounds (user-defined breaks).
    classes : a ready :class:`Classes` (e.g. shared by small multiples); overrides
        scheme/k/bins/cmap/center.
    cmap : colour map name (default from :mod:`helpers.viz.style`).
    center : reference value (e.g. the city value) to centre diverging colours on.
    suppressed : column name or boolean mask of units whose estimate was
        suppressed for too few respondents (:func:`helpers.publish.disclosure.suppress`);
        drawn grey with dots, legend "Suppressed (n < k)". They are not classed.
    min_respondents : the k shown in that legend label.
    overlay : GeoDataFrame of the level above (e.g. districts over
        communities); its boundaries are drawn on top.
    labels : None (no labels), ``"en"`` (English/pinyin names) or ``"zh"``
        (Chinese names; falls back to English with a warning when no CJK font).
    label_layer : ``"overlay"`` or ``"units"``: which layer to label
        (default the overlay when given).
    legend, legend_title, legend_loc : legend on/off, its heading (default the
        column name), ``"outside"`` (right of the map) or a matplotlib location.
    fmt : format of class bounds (e.g. ``"{:.0%}"``).
    title : axes title.
    scale_bar, north_arrow : draw them.
    synthetic : stamp "Synthetic data" on the figure.
    **classification_kwds : passed to :func:`mapclassify.classify`.

    Returns
    -------
    ax
    """
    if column not in gdf.columns:
        raise KeyError(f"column {column!r} not in frame")
    ax = _get_ax(ax)
    vals = pd.to_numeric(gdf[column], errors="coerce").to_numpy(dtype="float64")
    supp = _as_mask(gdf, suppressed)
    nodata = ~np.isfinite(vals) & ~supp
    ok = np.isfinite(vals) & ~supp
    if classes is None and ok.any():
        classes = classify(vals[ok], scheme, k, bins=bins, cmap=cmap, center=center, fmt=fmt,
                           **classification_kwds)
    if classes is not None and ok.any():
        _draw_units(ax, gdf[ok], classes.color_of(vals[ok]))
    _draw_special(ax, gdf, nodata, supp)
    _draw_overlay(ax, overlay, gdf.crs)
    if labels:
        layer = label_layer or ("overlay" if overlay is not None else "units")
        _label_units(ax, overlay if layer == "overlay" else gdf, labels)
    _finish_map(ax, gdf.crs, scale_bar=scale_bar, north_arrow=north_arrow, title=title)
    if legend:
        handles = (classes.handles() if classes is not None else []) + _special_handles(
            nodata.any(), supp.any(), min_respondents)
        heading = legend_title or column
        if classes is not None:
            heading = f"{heading}\n{classes.title}"
        _legend(ax, handles, heading, legend_loc)
    if synthetic:
        style.stamp_synthetic(ax)
    return ax


def _legend(ax, handles, title, loc):
    if loc == "outside":
        leg = ax.legend(handles=handles, title=title, loc="upper left", bbox_to_anchor=(1.0, 1.0),
                        alignment="left", handlelength=1.6, handleheight=1.1)
    else:
        leg = ax.legend(handles=handles, title=title, loc=loc, alignment="left", handlelength=1.6,
                        handleheight=1.1, frameon=True, framealpha=0.9, edgecolor="none")
    leg.set_gid("map-legend")
    return leg


# --------------------------------------------------------------------------
# Small multiples
# --------------------------------------------------------------------------
def small_multiples(
    gdf: gpd.GeoDataFrame,
    column: str | None = None,
    *,
    by: str | None = None,
    columns: Sequence[str] | None = None,
    panel_titles: Sequence[str] | None = None,
    ncols: int | None = None,
    axes=None,
    panel_size: float = 3.6,
    scheme: str = "quantiles",
    k: int = 5,
    bins: Sequence[float] | None = None,
    classes: Classes | None = None,
    cmap: str | None = None,
    center: float | None = None,
    suppressed=None,
    min_respondents: int = MIN_RESPONDENTS,
    overlay: gpd.GeoDataFrame | None = None,
    legend_title: str | None = None,
    fmt: str | None = None,
    suptitle: str | None = None,
    scale_bar: bool = True,
    north_arrow: bool = True,
    synthetic: bool = False,
    **classification_kwds,
):
    """Panels of choropleths that share one set of class breaks and one legend.

    Either long format (``column`` plus ``by``, e.g. one row per unit and year
    with ``by="year"``) or wide format (``columns``, one panel per measure on a
    common scale). The breaks are computed once from the pooled values of all
    panels, so a colour means the same value range in every panel.

    Parameters
    ----------
    gdf : GeoDataFrame.
    column, by : value column and panel column (long format).
    columns : value columns, one panel each (wide format).
    panel_titles : titles of the panels (default the ``by`` values or column names).
    ncols : panels per row (default up to 3).
    axes : existing array of Axes (at least as many as panels).
    panel_size : width of a panel in inches (the height follows the map's aspect).
    scheme, k, bins, classes, cmap, center, fmt, **classification_kwds :
        classification, as in :func:`choropleth` (computed on pooled values).
    suppressed : column name (per row) of suppressed units.
    overlay : boundaries of the level above, drawn in every panel.
    legend_title : heading of the shared legend.
    suptitle : figure title.
    scale_bar, north_arrow : drawn in the first panel only.
    synthetic : stamp "Synthetic data" on the figure.

    Returns
    -------
    numpy array of the Axes used (the figure is ``axes.flat[0].figure``).
    """
    if (columns is None) == (by is None):
        raise ValueError("give either columns=[...] (wide) or column= and by= (long)")
    panels: list[tuple[str, gpd.GeoDataFrame, str]] = []
    if by is not None:
        if column is None:
            raise ValueError("column is required with by=")
        for key, sub in gdf.groupby(by, sort=True):
            panels.append((str(key), sub, column))
        heading = legend_title or column
    else:
        for c in columns:
            panels.append((c, gdf, c))
        heading = legend_title or ""
    if panel_titles is not None:
        panels = [(t, sub, c) for t, (_, sub, c) in zip(panel_titles, panels)]
    n = len(panels)
    pooled_parts, any_nodata, any_supp = [], False, False
    for _, sub, c in panels:
        v = pd.to_numeric(sub[c], errors="coerce").to_numpy(dtype="float64")
        s = _as_mask(sub, suppressed)
        pooled_parts.append(v[np.isfinite(v) & ~s])
        any_nodata |= bool((~np.isfinite(v) & ~s).any())
        any_supp |= bool(s.any())
    if classes is None:
        classes = classify(np.concatenate(pooled_parts), scheme, k, bins=bins, cmap=cmap, center=center,
                           fmt=fmt, **classification_kwds)
    if axes is None:
        ncols = ncols or min(n, 3)
        nrows = math.ceil(n / ncols)
        x0, y0, x1, y1 = gdf.total_bounds
        aspect = float(np.clip((y1 - y0) / (x1 - x0), 0.35, 1.6)) if x1 > x0 else 1.0
        fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                                 figsize=(panel_size * ncols + 2.4, panel_size * aspect * nrows + 0.5))
    axes = np.asarray(axes)
    flat = axes.ravel()
    if len(flat) < n:
        raise ValueError(f"{n} panels need at least {n} axes")
    for i, (t, sub, c) in enumerate(panels):
        choropleth(sub, c, ax=flat[i], classes=classes, suppressed=suppressed if isinstance(suppressed, str)
                   else None, overlay=overlay, legend=False, title=t, scale_bar=scale_bar and i == 0,
                   north_arrow=north_arrow and i == 0)
    for a in flat[n:]:
        a.set_axis_off()
    fig = flat[0].figure
    handles = classes.handles() + _special_handles(any_nodata, any_supp, min_respondents)
    title = f"{heading}\n{classes.title}" if heading else classes.title
    leg = fig.legend(handles=handles, title=title, loc="outside right center", alignment="left", handlelength=1.6, handleheight=1.1, frameon=False)
    leg.set_gid("shared-legend")
    if suptitle:
        fig.suptitle(suptitle, x=0.02, ha="left", fontweight="bold")
    if synthetic:
        style.stamp_synthetic(fig)
    return axes


# --------------------------------------------------------------------------
# Categorical maps: LISA clusters, uncertainty, access
# --------------------------------------------------------------------------
def category_map(
    gdf: gpd.GeoDataFrame,
    column: str,
    colors: dict[str, str],
    *,
    ax=None,
    counts: bool = True,
    overlay: gpd.GeoDataFrame | None = None,
    labels: str | None = None,
    legend_title: str | None = None,
    legend_loc: str = "outside",
    title: str | None = None,
    scale_bar: bool = True,
    north_arrow: bool = True,
    synthetic: bool = False,
):
    """Map of a categorical column with fixed colours (legend in the order of ``colors``).

    Units whose category is missing are drawn hatched as "No data".

    Returns
    -------
    ax
    """
    ax = _get_ax(ax)
    cat = gdf[column]
    unknown = set(cat.dropna().unique()) - set(colors)
    if unknown:
        raise ValueError(f"categories without a colour: {sorted(map(str, unknown))}")
    nodata = cat.isna().to_numpy()
    ok = ~nodata
    if ok.any():
        _draw_units(ax, gdf[ok], cat[ok].map(colors).to_numpy())
    _draw_special(ax, gdf, nodata, np.zeros(len(gdf), bool))
    _draw_overlay(ax, overlay, gdf.crs)
    if labels:
        _label_units(ax, overlay if overlay is not None else gdf, labels)
    _finish_map(ax, gdf.crs, scale_bar=scale_bar, north_arrow=north_arrow, title=title)
    vc = cat.value_counts()
    handles = [Patch(facecolor=c, edgecolor="#777777", linewidth=0.4,
                     label=f"{lab} ({int(vc.get(lab, 0))})" if counts else lab)
               for lab, c in colors.items()]
    handles += _special_handles(nodata.any(), False, MIN_RESPONDENTS)
    _legend(ax, handles, legend_title or column, legend_loc)
    if synthetic:
        style.stamp_synthetic(ax)
    return ax


def uncertainty_map(
    gdf: gpd.GeoDataFrame,
    lower: str,
    upper: str,
    *,
    kind: str = "excludes",
    reference: float | None = None,
    reference_label: str = "city value",
    level: float = 0.95,
    ax=None,
    suppressed=None,
    overlay: gpd.GeoDataFrame | None = None,
    scheme: str = "quantiles",
    k: int = 5,
    fmt: str | None = None,
    title: str | None = None,
    synthetic: bool = False,
    **kwargs,
):
    """Companion map showing the uncertainty of mapped estimates.

    Parameters
    ----------
    gdf : GeoDataFrame with interval bounds.
    lower, upper : columns with the bounds of each unit's interval.
    kind : ``"width"`` — choropleth of the interval width (upper - lower);
        ``"excludes"`` — whether each interval lies wholly above the
        ``reference``, wholly below it, or contains it.
    reference : the city value (required for ``"excludes"``).
    level : confidence level, for the legend text.
    suppressed : column/mask of suppressed units (drawn as such for ``"width"``,
        as "No data" for ``"excludes"`` since their bounds are blank).

    Returns
    -------
    ax
    """
    lo = pd.to_numeric(gdf[lower], errors="coerce")
    hi = pd.to_numeric(gdf[upper], errors="coerce")
    pct = f"{level:.0%}"
    if kind == "width":
        frame = gdf[[gdf.geometry.name]].copy()
        frame["_width"] = (hi - lo).to_numpy()
        if isinstance(suppressed, str):
            frame[suppressed] = gdf[suppressed].to_numpy()
        return choropleth(frame, "_width", ax=ax, scheme=scheme, k=k, cmap=style.UNCERTAINTY_CMAP,
                          suppressed=suppressed, overlay=overlay, fmt=fmt,
                          legend_title=f"Width of {pct} interval", title=title, synthetic=synthetic, **kwargs)
    if kind != "excludes":
        raise ValueError("kind must be 'width' or 'excludes'")
    if reference is None:
        raise ValueError("kind='excludes' needs the reference (city) value")
    ref = float(reference)
    above = f"Above {reference_label}"
    below = f"Below {reference_label}"
    inc = f"Interval includes {reference_label}"
    cat = pd.Series(pd.NA, index=gdf.index, dtype="object")
    both = lo.notna() & hi.notna()
    cat[both & (lo > ref)] = above
    cat[both & (hi < ref)] = below
    cat[both & (lo <= ref) & (hi >= ref)] = inc
    frame = gdf[[gdf.geometry.name]].copy()
    frame["_cat"] = cat.to_numpy()
    cm = colormaps[style.DIVERGING_CMAP]
    colors = {above: mcolors.to_hex(cm(0.85)), inc: "#f4f4f4", below: mcolors.to_hex(cm(0.15))}
    fmt = fmt or _auto_fmt(np.array([ref]))
    return category_map(frame, "_cat", colors, ax=ax, overlay=overlay, title=title, synthetic=synthetic,
                        legend_title=f"{pct} interval vs {reference_label} ({fmt.format(ref)})", **kwargs)


def lisa_map(local, *, ax=None, overlay: gpd.GeoDataFrame | None = None, labels: str | None = None,
             title: str | None = None, synthetic: bool = False, **kwargs):
    """LISA cluster map: High-High, Low-Low, High-Low, Low-High, Not significant.

    Parameters
    ----------
    local : a :class:`helpers.stats.spatial.LocalMoranResult` (its ``frame`` has the
        geometry and the ``cluster`` column after the FDR correction).
    overlay : boundaries of the level above.

    Returns
    -------
    ax
    """
    frame = local.frame
    corr = {"fdr": f"FDR {local.alpha:.0%}", "bonferroni": f"Bonferroni {local.alpha:.0%}",
            None: f"p < {local.alpha:g}, uncorrected"}[local.correction]
    heading = f"LISA cluster\n{corr}, {local.permutations} permutations"
    return category_map(frame, "cluster", dict(style.LISA_COLORS), ax=ax, overlay=overlay, labels=labels,
                        legend_title=heading, title=title, synthetic=synthetic, **kwargs)


def moran_scatterplot(result, *, local=None, ax=None, title: str | None = None, xlabel: str | None = None,
                      annotate: bool = True):
    """Moran scatterplot: standardised value against its spatial lag.

    The slope of the fitted line is Moran's I (row-standardised weights).

    Parameters
    ----------
    result : a :class:`helpers.stats.spatial.MoranResult`.
    local : optional :class:`helpers.stats.spatial.LocalMoranResult` on the same
        data; points are then coloured by LISA cluster.
    xlabel : name of the variable (default the result's variable).

    Returns
    -------
    ax
    """
    ax = _get_ax(ax, figsize=(4.8, 4.6))
    z = np.asarray(result.z, dtype="float64")
    lag = np.asarray(result.lag, dtype="float64")
    if local is not None:
        cols = local.frame["cluster"].map(style.LISA_COLORS).to_numpy()
    else:
        cols = np.full(len(z), "#4a6fa5", dtype=object)
    ax.axhline(0, color="#999999", lw=0.6, zorder=0)
    ax.axvline(0, color="#999999", lw=0.6, zorder=0)
    ax.scatter(z, lag, c=list(cols), s=16, edgecolor="#555555", linewidth=0.3, zorder=2)
    xs = np.array([z.min(), z.max()])
    ax.plot(xs, result.I * xs, color="#b2182b", lw=1.3, zorder=3,
            label=f"slope = Moran's I = {result.I:.3f}")
    xl = np.abs(z).max() * 1.08
    yl = max(np.abs(lag).max(), 0.5) * 1.15
    ax.set_xlim(-xl, xl)
    ax.set_ylim(-yl, yl)
    ax.set_xlabel(f"{xlabel or result.variable} (standardised)")
    ax.set_ylabel("Spatial lag")
    if annotate:
        for txt, (x, y) in (("High-High", (0.97, 0.97)), ("Low-Low", (0.03, 0.03)),
                            ("Low-High", (0.03, 0.97)), ("High-Low", (0.97, 0.03))):
            ax.text(x, y, txt, transform=ax.transAxes, ha="right" if x > 0.5 else "left",
                    va="top" if y > 0.5 else "bottom", fontsize=7, color="#666666")
    handles = [Line2D([], [], color="#b2182b", lw=1.3,
                      label=f"Moran's I = {result.I:.3f}, p = {result.p_sim:.3f} ({result.permutations} perm.)")]
    if local is not None:
        handles += [Line2D([], [], marker="o", ls="", color=c, markeredgecolor="#555555", markeredgewidth=0.3,
                           label=lab) for lab, c in style.LISA_COLORS.items()]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.14), frameon=False, fontsize=7)
    ax.set_title(title or "Moran scatterplot")
    return ax


def access_map(
    access,
    year: int,
    *,
    ax=None,
    points: gpd.GeoDataFrame | None = None,
    overlay: gpd.GeoDataFrame | None = None,
    labels: str | None = None,
    title: str | None = None,
    synthetic: bool = False,
    scale_bar: bool = True,
    north_arrow: bool = True,
):
    """Served and unserved areas: land within the straight-line distance of an open service point.

    Parameters
    ----------
    access : an :class:`helpers.stats.access.AccessResult` (holds the communities,
        the served area per year, the distance and the levels).
    year : which year to draw.
    points : service points to draw (default: those open in ``year`` of the
        chosen levels, from the result).
    overlay : boundaries of the level above (districts).

    Returns
    -------
    ax
    """
    ax = _get_ax(ax)
    units = access.units
    crs = units.crs
    units.plot(ax=ax, facecolor=style.UNSERVED_COLOR, edgecolor="#c9c3b8", linewidth=0.2, zorder=1)
    served = access.served[access.served["year"] == year]
    if len(served):
        served.plot(ax=ax, facecolor=style.SERVED_COLOR, alpha=0.55, edgecolor="none", zorder=2,
                    gid="served-area")
    pts = points if points is not None else access.open_points(year)
    if len(pts):
        pts.plot(ax=ax, color=style.POINT_COLOR, markersize=5, edgecolor="white", linewidth=0.3, zorder=6)
    _draw_overlay(ax, overlay, crs)
    if labels and overlay is not None:
        _label_units(ax, overlay, labels)
    _finish_map(ax, crs, scale_bar=scale_bar, north_arrow=north_arrow, title=title)
    dist = f"{access.distance:,.0f} m"
    share = access.city_share(year)
    handles = [
        Patch(facecolor=style.SERVED_COLOR, alpha=0.55, label=f"Within {dist} (straight line)"),
        Patch(facecolor=style.UNSERVED_COLOR, edgecolor="#c9c3b8", label=f"Beyond {dist}"),
        Line2D([], [], marker="o", ls="", color=style.POINT_COLOR, markeredgecolor="white", markersize=5,
               label=f"Open service point ({len(pts)})"),
    ]
    _legend(ax, handles, f"Service access {year}\n{share:.1%} of residents covered", "outside")
    if synthetic:
        style.stamp_synthetic(ax)
    return ax
