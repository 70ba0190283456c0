"""Insets that enlarge where a map's units are too small to see.

A city's core packs many tiny communities into a few square kilometres; on a
page they shrink to specks whose colour no reader can judge. :func:`plan_inset`
decides, from the units' size *on paper*, whether a map needs an inset and
which extent it should enlarge:

1. the paper scale is the axes' size in millimetres over the map's extent
   (the larger of the two ratios, as ``set_aspect("equal")`` draws it);
2. a unit is *small* when its area on paper is below ``min_area_mm2``
   (default :data:`MIN_AREA_MM2`, about 3 mm by 3 mm);
3. an inset is needed when at least ``min_share`` of the units (default 5 %)
   and at least :data:`MIN_SMALL_UNITS` of them are small;
4. its extent is the densest cluster of small units: each small unit's
   density is the number of small units in a square window around it, whose
   side would give the smallest tenth of the small units a legible size at
   the inset's paper size (a magnification held between 2 and 4); the
   cluster is the set of small units at least half as dense as the densest
   one that lie within a quarter window of it, directly or through each
   other (a density-based cluster as in DBSCAN, Ester et al. 1996); the
   extent is their bounding box, padded by 4 %;
5. an inset that would enlarge less than 1.5 times is not drawn.

:func:`add_inset` draws it beside the map, in room made by widening the
map's axes to the right, enlarged, with a frame on the main map showing
where it is, and lets the caller draw the same layers with the same classes
into it.

References: Ester, M., Kriegel, H.-P., Sander, J. & Xu, X. (1996). A
density-based algorithm for discovering clusters in large spatial databases
with noise. *Proc. KDD-96*, 226-231. Slocum, T. A. et
al. (2009). *Thematic Cartography and Geovisualization*, 3rd ed., ch. 11
(insets for congested areas).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from matplotlib import patheffects
from matplotlib.patches import Rectangle

__all__ = ["InsetPlan", "plan_inset", "add_inset", "paper_scale", "MIN_AREA_MM2", "MIN_SHARE"]

#: A unit smaller than this on paper (mm²) is too small to read its colour.
MIN_AREA_MM2 = 10.0
#: Share of small units from which a map gets an inset.
MIN_SHARE = 0.05
#: Fewest small units that make an inset worth drawing.
MIN_SMALL_UNITS = 3
#: Inset height as a share of the main map's height (when the legend leaves room).
INSET_HEIGHT = 0.62
#: Least magnification worth an inset.
MIN_MAGNIFICATION = 1.5
#: Most magnification an automatic inset aims at (more would show too small an area).
MAX_MAGNIFICATION = 4.0
#: Widest inset, as a share of the main map's width.
MAX_WIDTH = 0.8
#: Gap between the map and its inset, as a share of the map's width.
GAP = 0.04

_MM_PER_INCH = 25.4


@dataclass(frozen=True)
class InsetPlan:
    """Where an inset goes and why.

    Attributes
    ----------
    bounds : (minx, miny, maxx, maxy) in the map's CRS.
    reason : ``"auto"``, ``"bounds"`` or ``"units"``.
    n_small : units smaller than the threshold on the main map (auto only).
    n_units : units on the map.
    n_inside : units whose representative point lies in the inset.
    magnification : planned enlargement of the inset over the main map.
    """

    bounds: tuple[float, float, float, float]
    reason: str
    n_small: int
    n_units: int
    n_inside: int
    magnification: float


def axes_size_mm(ax) -> tuple[float, float]:
    """Width and height of the axes on paper (mm), from its current position."""
    fig = ax.figure
    pos = ax.get_position()
    w, h = fig.get_size_inches()
    return pos.width * w * _MM_PER_INCH, pos.height * h * _MM_PER_INCH


def paper_scale(bounds, size_mm: tuple[float, float]) -> float:
    """Millimetres on paper per map unit when ``bounds`` fill an axes of ``size_mm`` at equal aspect."""
    x0, y0, x1, y1 = bounds
    dx, dy = max(x1 - x0, 1e-12), max(y1 - y0, 1e-12)
    return min(size_mm[0] / dx, size_mm[1] / dy)


def _bounds_of(geoms) -> tuple[float, float, float, float]:
    b = shapely.total_bounds(np.asarray(geoms))
    return tuple(float(v) for v in b)


def _pad(b, frac: float = 0.04):
    x0, y0, x1, y1 = b
    px, py = (x1 - x0) * frac, (y1 - y0) * frac
    return (x0 - px, y0 - py, x1 + px, y1 + py)


def inset_box(inset_bounds, main_bounds, height_share: float | None = None) -> tuple[float, float]:
    """Width and height the inset takes beside the map, in the main map's units (see :func:`add_inset`)."""
    height_share = INSET_HEIGHT if height_share is None else height_share
    x0, y0, x1, y1 = inset_bounds
    mx0, my0, mx1, my1 = main_bounds
    ew, eh = max(x1 - x0, 1e-12), max(y1 - y0, 1e-12)
    h = height_share * (my1 - my0)
    w = h * ew / eh
    if w > MAX_WIDTH * (mx1 - mx0):
        w = MAX_WIDTH * (mx1 - mx0)
        h = w * eh / ew
    return w, h


def _magnification(inset_bounds, main_bounds, height_share: float) -> float:
    """Enlargement of the inset over the main map: its width on paper over its extent's."""
    w, _ = inset_box(inset_bounds, main_bounds, height_share)
    return w / max(inset_bounds[2] - inset_bounds[0], 1e-12)


def _ids_to_mask(gdf: gpd.GeoDataFrame, ids) -> np.ndarray:
    ids = list(ids)
    if not ids:
        raise ValueError("inset: the list of unit ids is empty; give ids, bounds (a tuple of 4 numbers) or 'auto'")
    if pd.Index(gdf.index).isin(ids).sum() == len(set(ids)):
        return np.asarray(gdf.index.isin(ids))
    for c in [c for c in gdf.columns if str(c).endswith("_id") or c == "id"]:
        m = gdf[c].isin(ids).to_numpy()
        if set(gdf.loc[m, c]) == set(ids):
            return m
    raise ValueError(f"inset: unit ids {ids[:3]}{'...' if len(ids) > 3 else ''} not all found in the index or an "
                     f"id column (*_id) of the map's frame; give ids present there or bounds (minx, miny, maxx, maxy)")


def _densest_cluster(geoms: np.ndarray, pts: np.ndarray, side: float) -> np.ndarray:
    """Indices of the densest cluster of small units (see the module docstring, step 4).

    ``geoms``/``pts``: the small units and their representative points; ``side``:
    the window over which density is counted.
    """
    tree = shapely.STRtree(shapely.points(pts))
    h = side / 2
    windows = shapely.box(pts[:, 0] - h, pts[:, 1] - h, pts[:, 0] + h, pts[:, 1] + h)
    pairs = tree.query(windows)
    counts = np.bincount(pairs[0], minlength=len(pts))
    best = int(np.lexsort((pts[:, 1], pts[:, 0], -counts))[0])  # densest; ties: west, then south
    dense = np.flatnonzero(counts >= 0.5 * counts[best])
    gtree = shapely.STRtree(geoms[dense])
    a, b = gtree.query(geoms[dense], predicate="dwithin", distance=0.25 * side)
    graph = sparse.coo_matrix((np.ones(len(a)), (a, b)), shape=(len(dense), len(dense)))
    _, comp = csgraph.connected_components(graph, directed=False)
    start = int(np.flatnonzero(dense == best)[0])
    return dense[comp == comp[start]]


def plan_inset(
    gdf: gpd.GeoDataFrame,
    inset,
    size_mm: tuple[float, float],
    *,
    main_bounds=None,
    min_area_mm2: float = MIN_AREA_MM2,
    min_share: float = MIN_SHARE,
    height_share: float = INSET_HEIGHT,
) -> InsetPlan | None:
    """Decide whether and where a map gets an inset (see the module docstring).

    Parameters
    ----------
    gdf : the units of the map (polygons in a projected CRS).
    inset : ``"auto"``, False/None (no inset), bounds ``(minx, miny, maxx, maxy)``
        as a tuple of four numbers, or a list of unit ids (looked up in the
        index, else in the frame's ``*_id`` columns); the inset then shows
        their bounding box.
    size_mm : the main map's size on paper (width, height) in mm.
    main_bounds : extent of the main map (default the units' bounds).
    min_area_mm2, min_share : the thresholds of "auto".
    height_share : planned inset height over the map's height.

    Returns
    -------
    :class:`InsetPlan`, or None when no inset is drawn.
    """
    if inset is None or inset is False:
        return None
    geoms = gdf.geometry.to_numpy()
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not ok.any():
        return None
    main_bounds = tuple(main_bounds) if main_bounds is not None else _bounds_of(geoms[ok])
    reps = shapely.get_coordinates(shapely.point_on_surface(np.where(ok, geoms, shapely.Point(np.nan, np.nan))))
    n_units = int(ok.sum())

    def _plan(b, reason, n_small):
        x0, y0, x1, y1 = b
        inside = ok & (reps[:, 0] >= x0) & (reps[:, 0] <= x1) & (reps[:, 1] >= y0) & (reps[:, 1] <= y1)
        return InsetPlan(bounds=tuple(float(v) for v in b), reason=reason, n_small=n_small, n_units=n_units,
                         n_inside=int(inside.sum()),
                         magnification=float(_magnification(b, main_bounds, height_share)))

    if isinstance(inset, str):
        if inset != "auto":
            raise ValueError(f"inset must be 'auto', False, bounds (minx, miny, maxx, maxy) or a list of unit ids; "
                             f"got {inset!r}")
    elif isinstance(inset, tuple) and len(inset) == 4 and all(isinstance(v, (int, float, np.number)) for v in inset):
        x0, y0, x1, y1 = (float(v) for v in inset)
        if not (x1 > x0 and y1 > y0):
            raise ValueError(f"inset bounds must be (minx, miny, maxx, maxy) with max > min; got {inset}")
        return _plan((x0, y0, x1, y1), "bounds", 0)
    else:
        m = _ids_to_mask(gdf, inset) & ok
        return _plan(_pad(_bounds_of(geoms[m])), "units", 0)

    s = paper_scale(main_bounds, size_mm)
    area_mm2 = shapely.area(np.where(ok, geoms, shapely.Polygon())) * s * s
    small = ok & (area_mm2 < min_area_mm2)
    n_small = int(small.sum())
    if n_small < max(MIN_SMALL_UNITS, min_share * n_units):
        return None
    tiny = float(np.quantile(area_mm2[small], 0.1))
    mag = float(np.clip(np.sqrt(min_area_mm2 / max(tiny, 1e-9)), 2.0, MAX_MAGNIFICATION))
    side = (main_bounds[3] - main_bounds[1]) * height_share / mag
    members = _densest_cluster(geoms[small], reps[small], side)
    if len(members) < MIN_SMALL_UNITS:
        return None
    idx = np.flatnonzero(small)[members]
    plan = _plan(_pad(_bounds_of(geoms[idx])), "auto", n_small)
    if plan.magnification < MIN_MAGNIFICATION:
        return None
    return plan


def add_inset(ax, plan: InsetPlan, draw: Callable, *, height_share: float = INSET_HEIGHT,
              frame_color: str = "#222222"):
    """Draw the inset of ``plan`` beside the map in ``ax``: a frame on the map, the enlarged layers in the inset.

    The map's axes are widened to the right (its x-limits extended by a gap
    and the inset's width) and the inset sits in that room, bottom-aligned
    with the map, ``height_share`` of its height tall (narrower when that
    would make it wider than :data:`MAX_WIDTH` of the map). Placed in the
    map's own coordinates, it keeps its place and size relative to the map
    whatever the figure's layout does later, and it never covers the map
    nor an outside legend. Its title gives the enlargement.

    Parameters
    ----------
    ax : the main map's Axes (its limits are final).
    plan : from :func:`plan_inset`.
    draw : ``draw(inset_ax, bounds)`` draws the map's layers into the inset
        (the same classes and styles as the main map).
    height_share : inset height over the map's height.

    Returns
    -------
    The inset Axes (gid ``"map-inset"``; its frame on the main map has gid ``"inset-frame"``).
    """
    x0, y0, x1, y1 = plan.bounds
    mx0, mx1 = ax.get_xlim()
    my0, my1 = ax.get_ylim()
    w, h = inset_box(plan.bounds, (mx0, my0, mx1, my1), height_share)
    gap = GAP * (mx1 - mx0)
    ax.set_xlim(mx0, mx1 + gap + w)
    ax.set_ylim(my0, my1)  # fixed: layers drawn later must not move the inset, which sits in data coordinates
    iax = ax.inset_axes([mx1 + gap, my0, w, h], transform=ax.transData)
    iax.set_gid("map-inset")
    draw(iax, plan.bounds)
    iax.set_xlabel("")
    iax.set_ylabel("")
    iax.set_xlim(x0, x1)
    iax.set_ylim(y0, y1)
    iax.set_aspect("equal", adjustable="box")
    iax.set_xticks([])
    iax.set_yticks([])
    for sp in iax.spines.values():
        sp.set_visible(True)
        sp.set_edgecolor(frame_color)
        sp.set_linewidth(0.9)
    halo = [patheffects.withStroke(linewidth=2.4, foreground="white")]
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor="none", edgecolor=frame_color, linewidth=1.0,
                           zorder=8, gid="inset-frame", path_effects=halo))
    # the frame's label on the map and the inset's title tie the two together
    mag = w / (x1 - x0)
    iax.set_title(f"Enlarged area (×{mag:.1f})", fontsize=7.5, fontweight="normal", loc="left", pad=2)
    ax.text(x0, y1, "Enlarged", ha="left", va="bottom", fontsize=6.5, color=frame_color, zorder=8,
            gid="inset-frame-label", path_effects=[patheffects.withStroke(linewidth=2.2, foreground="white")])
    ax._helpers_inset = iax
    return iax


def units_in(gdf: gpd.GeoDataFrame, bounds: Sequence[float]) -> np.ndarray:
    """Mask of units whose bounding box meets ``bounds`` (to draw only what the inset shows)."""
    x0, y0, x1, y1 = bounds
    b = gdf.geometry.bounds
    return ((b["minx"] <= x1) & (b["maxx"] >= x0) & (b["miny"] <= y1) & (b["maxy"] >= y0)).to_numpy()
