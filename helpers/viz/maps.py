"""Maps: choropleths, small multiples, uncertainty, LISA and access maps.

Everything here draws on a matplotlib Axes (``ax=``) and returns it, takes its
colours and fonts from :mod:`helpers.viz.style`, and never modifies the frames it
is given. The map conventions a geographer expects are built in:

- the classification scheme and the number of classes are named in the
  legend (mapclassify; Jenks 1977, Slocum et al. 2009, ch. 5), and the class
  breaks are rounded to the precision the legend prints, so that classes
  such as "10.0 – 12.4, 12.5 – 15.0" leave no printable value out
  (:mod:`helpers.viz.classes`);
- units without a value are hatched and labelled "No data"; units whose
  estimate was suppressed for too few respondents
  (:mod:`helpers.publish.disclosure`) are drawn grey with dots and labelled so;
  every legend has each entry exactly when some unit drawn has it;
- where units are too small to see at the figure's size (a city's dense
  core), an inset enlarges their densest cluster with the same classes, framed
  on the main map (``inset="auto"``; :mod:`helpers.viz.inset`);
- unit labels never overlap: they are placed when the figure is drawn, moved
  with a leader line or left out (:mod:`helpers.viz.labels`);
- every map stores a one-sentence description for alt text in
  ``ax._helpers_alt`` and the figure's in ``fig._helpers_alt``
  (:func:`describe`, :mod:`helpers.viz.alt`);
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
from collections.abc import Sequence

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import shapely
from matplotlib import colormaps
from matplotlib import colors as mcolors
from matplotlib import patheffects
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from helpers.publish.disclosure import MIN_RESPONDENTS, suppression_label
from helpers.viz import style
from helpers.viz.alt import (ALT_ATTR, clean_heading, count_phrase, counts_text, describe,  # noqa: F401
                             missing_phrase, set_alt, units_noun)
from helpers.viz.classes import SCHEME_NAMES, Classes, auto_fmt, classify
from helpers.viz.inset import GAP, INSET_HEIGHT, add_inset, axes_size_mm, inset_box, plan_inset, units_in
from helpers.viz.labels import place_labels

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
    "describe",
]

# kept for callers of the old private helpers
_SCHEME_NAMES = SCHEME_NAMES
_auto_fmt = auto_fmt


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


def _label_units(ax, frame: gpd.GeoDataFrame, lang: str, fontsize: float = 7.0, *, where=None,
                 bounds=None, crs=None) -> None:
    """Name units inside their own polygons, else by a callout with a leader, without overlaps
    (:func:`helpers.viz.labels.place_labels` with ``regions``).

    Larger units are placed first; ``where`` (a boolean mask) picks the units to
    name; ``bounds`` keeps only anchors inside an extent (an inset's).
    """
    if crs is not None and frame.crs is not None and frame.crs != crs:
        frame = frame.to_crs(crs)
    col = style.resolve_label_column(frame, lang)
    keep = np.ones(len(frame), bool) if where is None else np.asarray(where, dtype=bool)
    geoms = frame.geometry
    ok = keep & geoms.notna().to_numpy() & ~geoms.is_empty.to_numpy()
    f = frame[ok]
    if not len(f):
        return
    pts = f.geometry.representative_point()
    xs, ys = pts.x.to_numpy(), pts.y.to_numpy()
    names = f[col].to_numpy()
    area = shapely.area(f.geometry.to_numpy())  # for priority only: no CRS warning for lon/lat frames
    if bounds is not None:
        x0, y0, x1, y1 = bounds
        inside = (xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1)
        xs, ys, names, area = xs[inside], ys[inside], names[inside], area[inside]
    regions = f.geometry.to_numpy()
    if bounds is not None:
        regions = regions[inside]
    texts = [None if pd.isna(n) else str(n) for n in names]
    # area labels: inside their own unit, or a callout with a leader, never on another unit
    place_labels(ax, xs, ys, texts, priority=area, fontsize=fontsize, regions=regions)


def _label_room(ax, gdf: gpd.GeoDataFrame, label_margin: float) -> None:
    """Widen the map's limits by ``label_margin`` of the units' extent on each side (room for callouts)."""
    if label_margin < 0:
        raise ValueError(f"label_margin must be 0 or more (a share of the map's extent); got {label_margin}")
    if not label_margin or not len(gdf):
        return
    x0, y0, x1, y1 = gdf.total_bounds
    mx, my = label_margin * (x1 - x0), label_margin * (y1 - y0)
    ax.set_xlim(x0 - mx, x1 + mx)
    ax.set_ylim(y0 - my, y1 + my)


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


def _draw_overlay(ax, overlay, crs, bounds=None) -> None:
    if overlay is None:
        return
    if crs is not None and overlay.crs is not None and overlay.crs != crs:
        overlay = overlay.to_crs(crs)
    if bounds is not None:
        overlay = overlay[units_in(overlay, bounds)]
    if len(overlay):
        overlay.plot(ax=ax, facecolor="none", edgecolor=style.UPPER_EDGE["edgecolor"],
                     linewidth=style.UPPER_EDGE["linewidth"], zorder=5, gid="upper-boundaries")


def _maybe_inset(ax, units: gpd.GeoDataFrame, inset, layers, *, crs, labels=None, label_frame=None,
                 label_where=None, size: float = INSET_HEIGHT):
    """Plan and draw the inset of a map; ``layers(inset_ax, bounds)`` draws the map's layers into it.

    Returns the :class:`helpers.viz.inset.InsetPlan` (None when no inset).
    """
    if inset is None or inset is False:
        return None
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    plan = plan_inset(units, inset, axes_size_mm(ax), main_bounds=(x0, y0, x1, y1), height_share=size)
    if plan is None:
        return None

    def draw(iax, bounds):
        layers(iax, bounds)
        if labels and label_frame is not None:
            _label_units(iax, label_frame, labels, where=label_where, bounds=bounds, crs=crs)

    iax = add_inset(ax, plan, draw, height_share=size)
    add_scale_bar(iax, crs, fraction=0.35)
    ax._helpers_inset_plan = plan
    return plan


def _inset_phrase(plan, noun=("unit", "units")) -> str:
    if plan is None:
        return ""
    where = "the densest area of small units" if plan.reason == "auto" else "part of the map"
    return f"; an inset enlarges {where} ({count_phrase(plan.n_inside, noun)}, ×{plan.magnification:.1f})"


def _scheme_phrase(classes: Classes) -> str:
    """``"quantiles"``, ``"Fisher-Jenks"``: the scheme's name inside a sentence."""
    name = classes.scheme
    return name if name.split("-")[0] in ("Fisher", "Jenks") else name[:1].lower() + name[1:]


def _map_of(heading: str | None, column: str, title: str | None) -> str:
    """``"map of <what> for "``; a bare column name is left out when a title says what the map is."""
    if heading:
        return f"map of {_lower_first(clean_heading(heading))} for "
    if title:
        return "map of "
    return f"map of {str(column).replace('_', ' ').strip()} for "


def _lower_first(text: str) -> str:
    """A legend heading inside a sentence: "Share of residents" -> "share of residents"; "EB rate" stays."""
    first = text.split(" ", 1)[0]
    if len(first) > 1 and first[0].isupper() and first[1:].replace("-", "").islower():
        return text[0].lower() + text[1:]
    return text


def _titled(title: str | None, text: str) -> str:
    if not title:
        return text
    t = clean_heading(title)
    if t.endswith("?") or t.endswith("!"):  # a question as title: the description is the next sentence
        return f"{t} {text[:1].upper()}{text[1:]}"
    return f"{t}: {text}"


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
    inset="auto",
    inset_size: float = INSET_HEIGHT,
    units_name: str | tuple[str, str] | None = None,
    label_margin: float = 0.0,
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
        Labels never overlap: crowded ones move with a leader line or are
        left out (:mod:`helpers.viz.labels`).
    label_layer : ``"overlay"`` or ``"units"``: which layer to label
        (default the overlay when given).
    legend, legend_title, legend_loc : legend on/off, its heading (default the
        column name), ``"outside"`` (right of the map) or a matplotlib location.
    fmt : format of class bounds (e.g. ``"{:.0%}"``); the breaks are rounded to
        its precision so that the classes leave no printable value out
        (:mod:`helpers.viz.classes`).
    title : axes title.
    scale_bar, north_arrow : draw them.
    synthetic : stamp "Synthetic data" on the figure.
    inset : ``"auto"`` (default: an enlarged inset of the densest cluster of
        units too small to see at the figure's size, when there is one; see
        :mod:`helpers.viz.inset`), False (none), bounds ``(minx, miny, maxx,
        maxy)`` as a tuple, or a list of unit ids (index or ``*_id`` column)
        whose bounding box to enlarge. Drawn right of the map (below an outside
        legend) with the same classes, and framed on the map.
    inset_size : the inset's height as a share of the map's height (less when
        the legend leaves less room below it).
    units_name : name of the units for the alt text: the plural ("counties")
        or a (singular, plural) pair; default from the frame's id columns
        ("communities", "sub-districts", "districts"), else "units".
    label_margin : room left around the units, as a share of their width and
        height on each side: where labels of units too small to hold their
        name go, as callouts with leader lines (default 0: none).
    **classification_kwds : passed to :func:`mapclassify.classify`.

    Returns
    -------
    ax (its alt text is in ``ax._helpers_alt``; see :func:`describe`).
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
    colours = classes.color_of(vals) if classes is not None else np.full(len(gdf), "", dtype=object)

    def layers(target, bounds=None):
        sel = np.ones(len(gdf), bool) if bounds is None else units_in(gdf, bounds)
        if classes is not None and (ok & sel).any():
            _draw_units(target, gdf[ok & sel], colours[ok & sel])
        _draw_special(target, gdf[sel], nodata[sel], supp[sel])
        _draw_overlay(target, overlay, gdf.crs, bounds)

    layers(ax)
    _label_room(ax, gdf, label_margin)
    label_frame, label_where = None, None
    if labels:
        layer = label_layer or ("overlay" if overlay is not None else "units")
        label_frame = overlay if layer == "overlay" else gdf
        _label_units(ax, label_frame, labels, crs=gdf.crs)
    _finish_map(ax, gdf.crs, scale_bar=scale_bar, north_arrow=north_arrow, title=title)
    heading = legend_title or column
    if legend:
        handles = (classes.handles() if classes is not None else []) + _special_handles(
            nodata.any(), supp.any(), min_respondents)
        _legend(ax, handles, f"{heading}\n{classes.title}" if classes is not None else heading, legend_loc)
    plan = _maybe_inset(ax, gdf, inset, layers, crs=gdf.crs, labels=labels, label_frame=label_frame,
                        label_where=label_where, size=inset_size)
    noun = units_noun(gdf, units_name)
    if classes is not None:
        cls = f"in {classes.k} classes ({_scheme_phrase(classes)}) {classes.range_text()}"
        if classes.center is not None:
            cls += f", centred on {classes.fmt.format(classes.center)}"
    else:
        cls = "with no values to class"
    set_alt(ax, _titled(title, f"{_map_of(legend_title, column, title)}{count_phrase(len(gdf), noun)} {cls}; "
                               f"{missing_phrase(int(nodata.sum()), int(supp.sum()), noun, suppression_label(min_respondents))}"
                               f"{_inset_phrase(plan, noun)}"))
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
def _fill_missing_units(panels, gdf, suppressed):
    """Long format: draw units absent from a panel as "No data" (they would be holes in the map)."""
    geom = gdf.geometry
    valid = geom.notna().to_numpy() & ~geom.is_empty.to_numpy()
    if not valid.any():
        return panels
    keys = pd.Series(geom[valid].to_wkb(), index=gdf.index[valid])
    base = gdf.loc[keys[~keys.duplicated()].index]
    base_keys = keys[~keys.duplicated()]
    out = []
    for t, sub, c in panels:
        sk = set(sub.geometry.dropna().to_wkb())
        missing = ~base_keys.isin(sk).to_numpy()
        if missing.any():
            add = base.loc[missing, [gdf.geometry.name]].copy()
            add[c] = np.nan
            if isinstance(suppressed, str):
                add[suppressed] = False
            sub = gpd.GeoDataFrame(pd.concat([sub, add], ignore_index=True), geometry=gdf.geometry.name,
                                   crs=gdf.crs)
        out.append((t, sub, c))
    return out


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
    inset="auto",
    inset_size: float = 0.5,
    units_name: str | tuple[str, str] | None = None,
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
    column, by : value column and panel column (long format). A unit present
        in some panels but not in another is drawn there as "No data".
    columns : value columns, one panel each (wide format).
    panel_titles : titles of the panels (default the ``by`` values or column names).
    ncols : panels per row (default up to 3).
    axes : existing array of Axes (at least as many as panels).
    panel_size : width of a panel in inches (the height follows the map's aspect).
    scheme, k, bins, classes, cmap, center, fmt, **classification_kwds :
        classification, as in :func:`choropleth` (computed on pooled values).
    suppressed : column name (per row) or boolean mask of suppressed units.
    overlay : boundaries of the level above, drawn in every panel.
    legend_title : heading of the shared legend.
    suptitle : figure title.
    scale_bar, north_arrow : drawn in the first panel only.
    synthetic : stamp "Synthetic data" on the figure.
    inset : as in :func:`choropleth`; decided once for the panel size, so every
        panel enlarges the same extent (the figure is widened for it).
    inset_size : the inset's height as a share of a panel's height.
    units_name : name of the units for the alt text, as in :func:`choropleth`.

    Returns
    -------
    numpy array of the Axes used (the figure is ``axes.flat[0].figure``; its
    alt text, one sentence for all panels, is in ``fig._helpers_alt``).
    """
    if (columns is None) == (by is None):
        raise ValueError("give either columns=[...] (wide) or column= and by= (long)")
    if suppressed is not None and not isinstance(suppressed, str):  # a mask: carry it into the panels as a column
        gdf = gdf.assign(_suppressed=_as_mask(gdf, suppressed))
        suppressed = "_suppressed"
    panels: list[tuple[str, gpd.GeoDataFrame, str]] = []
    if by is not None:
        if column is None:
            raise ValueError("column is required with by=")
        for key, sub in gdf.groupby(by, sort=True):
            panels.append((str(key), sub, column))
        panels = _fill_missing_units(panels, gdf, suppressed)
        heading = legend_title or column
    else:
        for c in columns:
            panels.append((c, gdf, c))
        heading = legend_title or ""
    if panel_titles is not None:
        panels = [(t, sub, c) for t, (_, sub, c) in zip(panel_titles, panels)]
    n = len(panels)
    pooled_parts, n_nodata, n_supp = [], 0, 0
    for _, sub, c in panels:
        v = pd.to_numeric(sub[c], errors="coerce").to_numpy(dtype="float64")
        s = _as_mask(sub, suppressed if isinstance(suppressed, str) else None)
        pooled_parts.append(v[np.isfinite(v) & ~s])
        n_nodata += int((~np.isfinite(v) & ~s).sum())
        n_supp += int(s.sum())
    if classes is None:
        classes = classify(np.concatenate(pooled_parts), scheme, k, bins=bins, cmap=cmap, center=center,
                           fmt=fmt, **classification_kwds)
    x0, y0, x1, y1 = gdf.total_bounds
    aspect = float(np.clip((y1 - y0) / (x1 - x0), 0.35, 1.6)) if x1 > x0 else 1.0
    plan = None
    if inset is not None and inset is not False and n:
        first = panels[0][1]
        pw = panel_size if axes is None else None
        if pw is None:
            size = axes_size_mm(np.asarray(axes).ravel()[0])
        else:
            size = (0.85 * pw * 25.4, 0.85 * pw * aspect * 25.4)
        plan = plan_inset(first, inset, size, height_share=inset_size)
    if axes is None:
        ncols = ncols or min(n, 3)
        nrows = math.ceil(n / ncols)
        extra = 0.0
        if plan is not None:  # the inset widens each panel's map by a gap and its own width
            w, _ = inset_box(plan.bounds, tuple(first.total_bounds), inset_size)
            extra = panel_size * (GAP + w / max(x1 - x0, 1e-12))
        fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                                 figsize=((panel_size + extra) * ncols + 2.4, panel_size * aspect * nrows + 0.5))
    axes = np.asarray(axes)
    flat = axes.ravel()
    if len(flat) < n:
        raise ValueError(f"{n} panels need at least {n} axes")
    for i, (t, sub, c) in enumerate(panels):
        choropleth(sub, c, ax=flat[i], classes=classes, suppressed=suppressed if isinstance(suppressed, str)
                   else None, overlay=overlay, legend=False, title=t, scale_bar=scale_bar and i == 0,
                   north_arrow=north_arrow and i == 0, inset=plan.bounds if plan is not None else False,
                   inset_size=inset_size,
                   min_respondents=min_respondents)
    for a in flat[n:]:
        a.set_axis_off()
    fig = flat[0].figure
    handles = classes.handles() + _special_handles(n_nodata > 0, n_supp > 0, min_respondents)
    title = f"{heading}\n{classes.title}" if heading else classes.title
    leg = fig.legend(handles=handles, title=title, loc="outside right center", alignment="left", handlelength=1.6, handleheight=1.1, frameon=False)
    leg.set_gid("shared-legend")
    if suptitle:
        fig.suptitle(suptitle, x=0.02, ha="left", fontweight="bold")
    noun = units_noun(gdf, units_name)
    plan = getattr(flat[0], "_helpers_inset_plan", None) if n else None
    n_units = len(panels[0][1]) if n else 0
    what = _lower_first(clean_heading(heading)) or ", ".join(clean_heading(t) for t, _, _ in panels)
    titles = ", ".join(t for t, _, _ in panels)
    miss = missing_phrase(n_nodata, n_supp, ("mapped value", "mapped values"), suppression_label(min_respondents))
    if n_nodata or n_supp:
        miss = f"of the {sum(len(p[1]) for p in panels):,} mapped values, {miss}"
    else:
        miss = "no value is missing"
    text = (f"{n} maps of {what} ({titles}) for {count_phrase(n_units, noun)} each, on one set of {classes.k} "
            f"classes ({_scheme_phrase(classes)}) {classes.range_text()}; {miss}{_inset_phrase(plan, noun)}")
    text = _titled(suptitle, text)
    for i, a in enumerate(flat[:n]):
        setattr(a, ALT_ATTR, "")
    set_alt(flat[0], text, figure_text=text)
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
    suppressed=None,
    min_respondents: int = MIN_RESPONDENTS,
    label_where=None,
    inset="auto",
    inset_size: float = INSET_HEIGHT,
    units_name: str | tuple[str, str] | None = None,
    what: str | None = None,
    label_margin: float = 0.0,
):
    """Map of a categorical column with fixed colours (legend in the order of ``colors``).

    Units whose category is missing are drawn hatched as "No data" and units
    flagged ``suppressed`` grey with dots; each such entry is in the legend
    exactly when some unit has it.

    Parameters
    ----------
    gdf : GeoDataFrame of polygons.
    column : the category column (values must be keys of ``colors``).
    colors : category -> colour, in legend order.
    counts : show the number of units of each category in the legend.
    overlay, labels, legend_title, legend_loc, title, scale_bar, north_arrow,
    synthetic : as in :func:`choropleth`.
    suppressed, min_respondents : suppressed units, as in :func:`choropleth`.
    label_where : boolean column name or mask of the units to name when
        ``labels`` names the units themselves (no overlay); default all.
    inset, inset_size : as in :func:`choropleth`.
    units_name : name of the units for the alt text, as in :func:`choropleth`.
    what : what the categories are, for the alt text (default the legend title).
    label_margin : room around the units for the names of units too small to
        hold them, as in :func:`choropleth`.

    Returns
    -------
    ax
    """
    ax = _get_ax(ax)
    cat = gdf[column]
    unknown = set(cat.dropna().unique()) - set(colors)
    if unknown:
        raise ValueError(f"categories without a colour: {sorted(map(str, unknown))}")
    supp = _as_mask(gdf, suppressed)
    nodata = cat.isna().to_numpy() & ~supp
    ok = cat.notna().to_numpy() & ~supp
    fills = cat.map(colors).to_numpy()

    def layers(target, bounds=None):
        sel = np.ones(len(gdf), bool) if bounds is None else units_in(gdf, bounds)
        if (ok & sel).any():
            _draw_units(target, gdf[ok & sel], fills[ok & sel])
        _draw_special(target, gdf[sel], nodata[sel], supp[sel])
        _draw_overlay(target, overlay, gdf.crs, bounds)

    layers(ax)
    _label_room(ax, gdf, label_margin)
    label_frame = where = None
    if labels:
        label_frame = overlay if overlay is not None else gdf
        if overlay is None and label_where is not None:
            where = gdf[label_where].fillna(False).astype(bool).to_numpy() if isinstance(label_where, str) \
                else np.asarray(label_where, dtype=bool)
        _label_units(ax, label_frame, labels, where=where, crs=gdf.crs)
    _finish_map(ax, gdf.crs, scale_bar=scale_bar, north_arrow=north_arrow, title=title)
    vc = cat[ok].value_counts()
    handles = [Patch(facecolor=c, edgecolor="#777777", linewidth=0.4,
                     label=f"{lab} ({int(vc.get(lab, 0)):,})" if counts else lab)
               for lab, c in colors.items()]
    handles += _special_handles(nodata.any(), supp.any(), min_respondents)
    _legend(ax, handles, legend_title or column, legend_loc)
    plan = _maybe_inset(ax, gdf, inset, layers, crs=gdf.crs, labels=labels, label_frame=label_frame,
                        label_where=where, size=inset_size)
    noun = units_noun(gdf, units_name)
    set_alt(ax, _titled(title, f"{_map_of(what or legend_title, column, title)}"
                               f"{count_phrase(len(gdf), noun)}: {counts_text(vc, list(colors))}; "
                               f"{missing_phrase(int(nodata.sum()), int(supp.sum()), noun, suppression_label(min_respondents))}"
                               f"{_inset_phrase(plan, noun)}"))
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
    min_respondents: int = MIN_RESPONDENTS,
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
    suppressed : column/mask of suppressed units, drawn and listed in the
        legend as suppressed in both kinds; other units without bounds are "No data".
    min_respondents : the k of the "Suppressed (n < k)" legend entry.
    **kwargs : passed to :func:`choropleth` (``"width"``) or
        :func:`category_map` (``"excludes"``): ``inset``, ``labels``, ...

    Returns
    -------
    ax
    """
    lo = pd.to_numeric(gdf[lower], errors="coerce")
    hi = pd.to_numeric(gdf[upper], errors="coerce")
    pct = f"{level:.0%}"
    supp = _as_mask(gdf, suppressed)
    if kind == "width":
        frame = gdf[[c for c in gdf.columns if c.endswith("_id")] + [gdf.geometry.name]].copy()
        frame["_width"] = (hi - lo).to_numpy()
        frame["_suppressed"] = supp
        return choropleth(frame, "_width", ax=ax, scheme=scheme, k=k, cmap=style.UNCERTAINTY_CMAP,
                          suppressed="_suppressed", overlay=overlay, fmt=fmt, min_respondents=min_respondents,
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
    both = lo.notna() & hi.notna() & ~supp
    cat[both & (lo > ref)] = above
    cat[both & (hi < ref)] = below
    cat[both & (lo <= ref) & (hi >= ref)] = inc
    frame = gdf[[c for c in gdf.columns if c.endswith("_id")] + [gdf.geometry.name]].copy()
    frame["_cat"] = cat.to_numpy()
    frame["_suppressed"] = supp
    cm = colormaps[style.DIVERGING_CMAP]
    colors = {above: mcolors.to_hex(cm(0.85)), inc: "#f4f4f4", below: mcolors.to_hex(cm(0.15))}
    fmt = fmt or _auto_fmt(np.array([ref]))
    kwargs.setdefault("what", f"whether each {pct} interval lies above or below the {reference_label} "
                              f"({fmt.format(ref)}) or includes it")
    return category_map(frame, "_cat", colors, ax=ax, overlay=overlay, title=title, synthetic=synthetic,
                        suppressed="_suppressed", min_respondents=min_respondents,
                        legend_title=f"{pct} interval vs {reference_label} ({fmt.format(ref)})", **kwargs)


def lisa_map(local, *, ax=None, overlay: gpd.GeoDataFrame | None = None, labels: str | None = None,
             title: str | None = None, synthetic: bool = False, units: gpd.GeoDataFrame | None = None,
             label_clusters_only: bool = True, **kwargs):
    """LISA cluster map: High-High, Low-Low, High-Low, Low-High, Not significant.

    Parameters
    ----------
    local : a :class:`helpers.stats.spatial.LocalMoranResult` (its ``frame`` has the
        geometry and the ``cluster`` column after the FDR correction).
    overlay : boundaries of the level above.
    labels : ``"en"``/``"zh"`` to name units: the overlay's when given, else
        the analysed units themselves (only those in a significant cluster, the
        hot and cold spots and outliers, when ``label_clusters_only``); labels
        never overlap.
    units : all units of the map (a GeoDataFrame with the weights' id column);
        those left out of the analysis (e.g. without a denominator) are drawn
        as "No data" instead of leaving holes. Default: only the analysed units.
    label_clusters_only : see ``labels``.
    **kwargs : passed to :func:`category_map` (``inset``, ``units_name``, ...).

    Returns
    -------
    ax
    """
    frame = local.frame
    id_col = getattr(local.weights, "id_col", None)
    if units is not None:
        if id_col is None or id_col not in units.columns:
            raise KeyError(f"units has no column {id_col!r} (the weights' id column) to match the LISA results to")
        res = pd.DataFrame(frame.drop(columns=frame.geometry.name, errors="ignore"))
        keep = [c for c in units.columns if c in (id_col, "name_en", "name_zh")] + [units.geometry.name]
        frame = units[keep].merge(res.rename(columns={"id": id_col}), on=id_col, how="left")
        frame = gpd.GeoDataFrame(frame, geometry=units.geometry.name, crs=units.crs)
        if "name" in frame.columns and "name_en" not in frame.columns:
            frame["name_en"] = frame["name"]
    elif "name_en" not in frame.columns and "name" in frame.columns:
        frame = frame.assign(name_en=frame["name"])
    corr = {"fdr": f"FDR {local.alpha:.0%}", "bonferroni": f"Bonferroni {local.alpha:.0%}",
            None: f"p < {local.alpha:g}, uncorrected"}[local.correction]
    heading = f"LISA cluster\n{corr}, {local.permutations:,} permutations"
    if labels and overlay is None and label_clusters_only:
        kwargs.setdefault("label_where", frame["cluster"].notna().to_numpy()
                          & (frame["cluster"] != "Not significant").to_numpy())
    if id_col is not None and "units_name" not in kwargs and units_noun(None, None, id_col)[1] != "units":
        kwargs["units_name"] = units_noun(None, None, id_col)[1]
    kwargs.setdefault("what", f"local clusters (LISA; {corr}, {local.permutations:,} permutations)")
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
    ax.set_xlabel(f"{xlabel or result.variable} (z-score)")
    ax.set_ylabel("Spatial lag")
    if annotate:
        for txt, (x, y) in (("High-High", (0.97, 0.97)), ("Low-Low", (0.03, 0.03)),
                            ("Low-High", (0.03, 0.97)), ("High-Low", (0.97, 0.03))):
            ax.text(x, y, txt, transform=ax.transAxes, ha="right" if x > 0.5 else "left",
                    va="top" if y > 0.5 else "bottom", fontsize=7, color="#666666")
    from helpers.publish import fmt

    i_text = fmt.number(result.I, 3)
    p_text = fmt.pvalue(result.p_sim)
    p_text = p_text if p_text.startswith("<") else f"= {p_text}"  # "p < 0.001" or "p = 0.012"
    handles = [Line2D([], [], color="#b2182b", lw=1.3,
                      label=f"Moran's I = {i_text}, p {p_text} ({result.permutations:,} perm.)")]
    if local is not None:
        handles += [Line2D([], [], marker="o", ls="", color=c, markeredgecolor="#555555", markeredgewidth=0.3,
                           label=lab) for lab, c in style.LISA_COLORS.items()]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.14), frameon=False, fontsize=7)
    ax.set_title(title or "Moran scatterplot")
    n = len(z)
    extra = ""
    if local is not None:
        extra = f"; points coloured by LISA cluster ({counts_text(local.counts, list(style.LISA_COLORS))})"
    set_alt(ax, _titled(title, f"Moran scatterplot of {xlabel or 'the variable'} as z-scores against their spatial "
                               f"lag for {n:,} units, with a fitted line of slope Moran's I = {i_text} "
                               f"(pseudo p {p_text}, {result.permutations:,} permutations){extra}"))
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
    inset="auto",
    inset_size: float = INSET_HEIGHT,
    units_name: str | tuple[str, str] | None = None,
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
    labels : ``"en"``/``"zh"``: name the overlay's units (without overlaps).
    inset, inset_size : as in :func:`choropleth` (judged on the communities' size on paper).
    units_name : name of the units for the alt text, as in :func:`choropleth`.

    The map has no per-unit values, so no unit can lack data: its legend has
    no "No data" entry.

    Returns
    -------
    ax
    """
    ax = _get_ax(ax)
    units = access.units
    crs = units.crs
    served = access.served[access.served["year"] == year]
    pts = points if points is not None else access.open_points(year)
    if pts.crs is not None and crs is not None and pts.crs != crs:
        pts = pts.to_crs(crs)

    def layers(target, bounds=None):
        u = units if bounds is None else units[units_in(units, bounds)]
        u.plot(ax=target, facecolor=style.UNSERVED_COLOR, edgecolor="#c9c3b8", linewidth=0.2, zorder=1)
        if len(served):
            served.plot(ax=target, facecolor=style.SERVED_COLOR, alpha=0.55, edgecolor="none", zorder=2,
                        gid="served-area")
        p = pts if bounds is None else pts[units_in(pts, bounds)]
        if len(p):
            p.plot(ax=target, color=style.POINT_COLOR, markersize=5 if bounds is None else 8, edgecolor="white",
                   linewidth=0.3, zorder=6)
        _draw_overlay(target, overlay, crs, bounds)

    layers(ax)
    if labels and overlay is not None:
        _label_units(ax, overlay, labels, crs=crs)
    _finish_map(ax, crs, scale_bar=scale_bar, north_arrow=north_arrow, title=title)
    dist = f"{access.distance:,.0f} m"
    share = access.city_share(year)
    share_txt = f"{share:.1%} of residents covered" if np.isfinite(share) else "share of residents covered unknown"
    handles = [
        Patch(facecolor=style.SERVED_COLOR, alpha=0.55, label=f"Within {dist} (straight line)"),
        Patch(facecolor=style.UNSERVED_COLOR, edgecolor="#c9c3b8", label=f"Beyond {dist}"),
        Line2D([], [], marker="o", ls="", color=style.POINT_COLOR, markeredgecolor="white", markersize=5,
               label=f"Open service point ({len(pts):,})"),
    ]
    _legend(ax, handles, f"Service access {year}\n{share_txt}", "outside")
    plan = _maybe_inset(ax, units, inset, layers, crs=crs, labels=labels if overlay is not None else None,
                        label_frame=overlay, size=inset_size)
    noun = units_noun(units, units_name)
    n_pts = "the 1 service point" if len(pts) == 1 else f"the {len(pts):,} service points"
    set_alt(ax, _titled(title, f"map of the land within {dist} (straight line) of {n_pts} "
                               f"open in {year}, over {count_phrase(len(units), noun)}; {share_txt}"
                               f"{_inset_phrase(plan, noun)}"))
    if synthetic:
        style.stamp_synthetic(ax)
    return ax
