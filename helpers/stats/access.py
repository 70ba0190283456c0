"""Service access: the 15-minute circle and the distance to the nearest service point.

:func:`service_coverage` measures, for each community and district and year,
the share of residents within a straight-line distance (default 1,000 m, the
"1 km / 15-minute service circle", 15分钟服务圈) of an open service point of
the chosen levels:

- a point is open in year ``t`` if ``year_opened <= t`` (and, when the data
  have a ``year_closed`` column, ``year_closed`` is empty or ``> t``);
- circles of radius ``distance`` around the open points are unioned, so land
  within reach of several points is counted once;
- residents are spread evenly over each community's area (population x
  covered share of the area), or, when household points are given, the
  covered share is the (weighted) share of household points inside the union;
- districts aggregate communities by population.

:func:`nearest_service_distance` gives each community's straight-line
distance (metres) to the nearest open point, from its centroid or averaged
over its area (the population-weighted mean under even spread), for the
models of other notebooks.

Straight-line distance understates walking distance (the synthetic city uses a
detour factor of 1.25 and 80 m per minute: 1,000 m is about 15.6 minutes'
walk). The geometry must be in a projected CRS in metres (the project's
EPSG:4548).

Reference: Ministry of Natural Resources of the PRC (2021). *Guidelines for
community life circle planning* (社区生活圈规划技术指南, TD/T 1062-2021);
Talen, E. & Anselin, L. (1998). Assessing spatial equity. *Environment and
Planning A* 30(4), 595-613.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from helpers.data.period import years_of
from helpers.data.schema import SERVICE_POINTS

__all__ = ["AccessResult", "service_coverage", "nearest_service_distance", "open_points", "DEFAULT_DISTANCE_M"]

#: Default straight-line radius of the service circle, metres.
DEFAULT_DISTANCE_M: float = 1000.0
#: Segments per quarter circle of the buffers (area error < 0.1 %).
_QUAD_SEGS = 16


def _check_projected(gdf: gpd.GeoDataFrame, what: str) -> None:
    if gdf.crs is None:
        raise ValueError(f"{what} has no CRS; distances need a projected CRS in metres (e.g. EPSG:4548)")
    if gdf.crs.is_geographic:
        raise ValueError(f"{what} is in a geographic CRS ({gdf.crs.to_string()}); project it to metres first")


def _check_levels(points: pd.DataFrame, levels) -> list[str]:
    levels = [levels] if isinstance(levels, str) else list(levels)
    known = set(SERVICE_POINTS.column("level").categories or ()) | set(points["level"].dropna().unique())
    unknown = set(levels) - known
    if unknown:
        raise ValueError(f"unknown service-point level(s): {sorted(unknown)}; known: {sorted(known)}")
    return levels


def open_points(points: gpd.GeoDataFrame, year: int, levels: Iterable[str] | None = None) -> gpd.GeoDataFrame:
    """Service points open in ``year`` (``year_opened <= year``, not closed), of the given levels.

    Parameters
    ----------
    points : service points (schema ``service_points``: ``level``, ``year_opened``,
        optionally ``year_closed``).
    year : calendar year.
    levels : levels to keep (``district_centre``, ``subdistrict_centre``,
        ``community_station``); all when None.

    Returns
    -------
    GeoDataFrame (a copy).
    """
    keep = pd.to_numeric(points["year_opened"], errors="coerce") <= year
    if "year_closed" in points.columns:
        closed = pd.to_numeric(points["year_closed"], errors="coerce")
        keep &= closed.isna() | (closed > year)
    if levels is not None:
        levels = _check_levels(points, levels)
        keep &= points["level"].isin(levels)
    return points[keep.fillna(False).to_numpy()].copy()


@dataclass
class AccessResult:
    """Coverage of residents by the service circle.

    Attributes
    ----------
    community : DataFrame, one row per community and year: ``community_id``,
        ``district_id`` (when given), ``year``, ``population``,
        ``pop_covered``, ``share_covered`` (0-1), ``area_m2``,
        ``area_covered_m2``.
    district : DataFrame, one row per district and year: ``district_id``,
        ``year``, ``population``, ``pop_covered``, ``share_covered``
        (population-weighted); empty without a district column.
    served : GeoDataFrame, one row per year: the served area (union of the
        circles, clipped to the communities' outline).
    units : the community polygons used (a copy).
    points : the service points of the chosen levels (a copy).
    distance : radius in metres; levels : levels used (None = all).
    method : ``"area"`` (even spread over the area) or ``"households"``.
    """

    community: pd.DataFrame
    district: pd.DataFrame
    served: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    points: gpd.GeoDataFrame
    distance: float
    levels: tuple[str, ...] | None
    method: str

    def open_points(self, year: int) -> gpd.GeoDataFrame:
        """Points of the chosen levels open in ``year``."""
        return open_points(self.points, year, self.levels)

    def city_share(self, year: int) -> float:
        """Share of the city's residents covered in ``year``."""
        c = self.community[self.community["year"] == year]
        pop = c["population"].sum()
        return float(c["pop_covered"].sum() / pop) if pop > 0 else float("nan")

    def __repr__(self) -> str:
        yrs = sorted(self.community["year"].unique())
        shares = ", ".join(f"{y}: {self.city_share(y):.1%}" for y in yrs)
        return (f"AccessResult(distance={self.distance:g} m, levels={self.levels}, method={self.method}, "
                f"{len(self.units)} communities; city share covered {shares})")


def _served_union(pts: gpd.GeoDataFrame, distance: float):
    if len(pts) == 0:
        return shapely.Polygon()
    circles = shapely.buffer(pts.geometry.to_numpy(), distance, quad_segs=_QUAD_SEGS)
    return shapely.union_all(circles)


def service_coverage(
    communities: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
    *,
    years: Sequence[int] | None = None,
    distance: float = DEFAULT_DISTANCE_M,
    levels: Iterable[str] | None = None,
    population: str = "population",
    id_col: str = "community_id",
    district_col: str | None = "district_id",
    households: gpd.GeoDataFrame | None = None,
    household_weight: str | None = None,
) -> AccessResult:
    """Share of residents within ``distance`` of an open service point, by community, district and year.

    Parameters
    ----------
    communities : community polygons with ``id_col``, ``population``
        (persons) and optionally ``district_col`` (merge ``communities.csv``
        into ``communities.geojson``). Projected CRS in metres.
    points : service points (``level``, ``year_opened``; same CRS).
    years : years to measure (default every year of the study period that ``points``, as loaded by
        :mod:`helpers.data.load`, carries; see :func:`helpers.data.period.years_of`).
    distance : straight-line radius in metres (default 1,000).
    levels : service-point levels that count (default all).
    population : population column.
    id_col, district_col : id columns (``district_col=None`` skips districts).
    households : optional household points with ``id_col``; when given, a
        community's covered share is the share of its household points
        (weighted by ``household_weight`` if given) inside the served area.
        Communities without household points fall back to the area share.
    household_weight : weight column of ``households`` (e.g. persons).

    Returns
    -------
    :class:`AccessResult`
    """
    _check_projected(communities, "communities")
    _check_projected(points, "points")
    for c in (id_col, population):
        if c not in communities.columns:
            raise KeyError(f"communities lack column {c!r} (merge communities.csv for population)")
    if district_col is not None and district_col not in communities.columns:
        district_col = None
    if points.crs != communities.crs:
        points = points.to_crs(communities.crs)
    levels_t = None if levels is None else tuple(_check_levels(points, levels))
    years = years_of(points, "points") if years is None else list(years)
    units = communities.copy()
    pts = points if levels_t is None else points[points["level"].isin(levels_t)]
    pts = pts.copy()

    geoms = units.geometry.to_numpy()
    shapely.prepare(geoms)
    area = shapely.area(geoms)
    pop = pd.to_numeric(units[population], errors="coerce").to_numpy(dtype="float64")
    outline = shapely.union_all(geoms)

    hh_geom = hh_w = hh_idx = None
    if households is not None:
        _check_projected(households, "households")
        hh = households.to_crs(communities.crs) if households.crs != communities.crs else households
        pos = {cid: i for i, cid in enumerate(units[id_col])}
        hh_idx = hh[id_col].map(pos).to_numpy()
        ok = ~pd.isna(hh_idx)
        hh_geom = hh.geometry.to_numpy()[ok]
        hh_idx = hh_idx[ok].astype(int)
        hh_w = (pd.to_numeric(hh[household_weight], errors="coerce").fillna(0).to_numpy()[ok]
                if household_weight else np.ones(ok.sum()))

    rows, served_rows = [], []
    for y in years:
        op = open_points(pts, y)
        circles = shapely.buffer(op.geometry.to_numpy(), distance, quad_segs=_QUAD_SEGS)
        covered_area = np.zeros(len(units))
        if len(circles):
            union = shapely.union_all(circles)  # overlapping circles count once
            shapely.prepare(union)
            inside = shapely.contains(union, geoms)
            covered_area[inside] = area[inside]
            part = ~inside & shapely.intersects(union, geoms)
            if part.any():
                covered_area[part] = shapely.area(shapely.intersection(geoms[part], union))
            served = shapely.intersection(union, outline)
        else:
            served = shapely.Polygon()
        share = np.divide(covered_area, area, out=np.zeros_like(area), where=area > 0)
        share = np.clip(share, 0.0, 1.0)
        method = "area"
        if hh_geom is not None and len(hh_geom):
            inside = shapely.intersects(served, hh_geom) if len(circles) else np.zeros(len(hh_geom), bool)
            tot = np.bincount(hh_idx, weights=hh_w, minlength=len(units))
            cov = np.bincount(hh_idx, weights=hh_w * inside, minlength=len(units))
            has = tot > 0
            share = np.where(has, np.divide(cov, tot, out=np.zeros_like(tot), where=has), share)
            method = "households"
        frame = pd.DataFrame({id_col: units[id_col].to_numpy()})
        if district_col:
            frame[district_col] = units[district_col].to_numpy()
        frame["year"] = y
        frame["population"] = pop
        frame["pop_covered"] = pop * share
        frame["share_covered"] = share
        frame["area_m2"] = area
        frame["area_covered_m2"] = covered_area
        rows.append(frame)
        served_rows.append({"year": y, "n_points": len(op), "geometry": served})

    community = pd.concat(rows, ignore_index=True)
    if district_col:
        d = community.groupby([district_col, "year"], as_index=False)[["population", "pop_covered"]].sum()
        d["share_covered"] = np.where(d["population"] > 0, d["pop_covered"] / d["population"].where(
            d["population"] > 0, 1), np.nan)
        district = d
    else:
        district = pd.DataFrame(columns=["district_id", "year", "population", "pop_covered", "share_covered"])
    served_gdf = gpd.GeoDataFrame(served_rows, geometry="geometry", crs=communities.crs)
    return AccessResult(community=community, district=district, served=served_gdf, units=units, points=pts,
                        distance=float(distance), levels=levels_t,
                        method="households" if households is not None else "area")


def _grid_in_polygon(poly, n: int) -> np.ndarray:
    """About ``n`` points on a regular grid inside ``poly`` (its representative point if none)."""
    minx, miny, maxx, maxy = poly.bounds
    area = poly.area
    if area <= 0:
        p = poly.representative_point()
        return np.array([[p.x, p.y]])
    step = np.sqrt(area / n)
    xs = np.arange(minx + step / 2, maxx, step)
    ys = np.arange(miny + step / 2, maxy, step)
    gx, gy = np.meshgrid(xs, ys)
    cand = shapely.points(gx.ravel(), gy.ravel())
    inside = shapely.contains_xy(poly, gx.ravel(), gy.ravel())
    if not inside.any():
        p = poly.representative_point()
        return np.array([[p.x, p.y]])
    return shapely.get_coordinates(cand[inside])


def nearest_service_distance(
    communities: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
    *,
    years: Sequence[int] | None = None,
    levels: Iterable[str] | None = None,
    id_col: str = "community_id",
    method: str = "centroid",
    n_sample: int = 50,
) -> pd.DataFrame:
    """Straight-line distance (metres) from each community to the nearest open service point.

    Parameters
    ----------
    communities : community polygons with ``id_col`` (projected CRS in metres).
    points : service points (``level``, ``year_opened``).
    years : years (default the study period ``points`` carries, as in :func:`service_coverage`); a point
        counts from its ``year_opened``.
    levels : levels that count (default all).
    method : ``"centroid"`` (from the polygon's centroid; its representative
        point when the centroid falls outside) or ``"area_mean"`` (mean over
        a regular grid of about ``n_sample`` points inside the polygon: the
        population-weighted mean distance when residents are spread evenly).
    n_sample : grid points per community for ``"area_mean"``.

    Returns
    -------
    DataFrame: ``community_id``, ``year``, ``distance_m`` (NaN when no point
    is open), ``n_open`` (open points of those levels in the city).
    """
    _check_projected(communities, "communities")
    _check_projected(points, "points")
    if method not in ("centroid", "area_mean"):
        raise ValueError("method must be 'centroid' or 'area_mean'")
    if points.crs != communities.crs:
        points = points.to_crs(communities.crs)
    years = years_of(points, "points") if years is None else list(years)
    geoms = communities.geometry.to_numpy()
    ids = communities[id_col].to_numpy()
    if method == "centroid":
        cen = shapely.centroid(geoms)
        outside = ~shapely.contains(geoms, cen)
        if outside.any():
            cen[outside] = shapely.point_on_surface(geoms[outside])
        sample = shapely.get_coordinates(cen)
        owner = np.arange(len(geoms))
    else:
        parts = [_grid_in_polygon(g, n_sample) for g in geoms]
        owner = np.repeat(np.arange(len(geoms)), [len(p) for p in parts])
        sample = np.vstack(parts)
    sample_pts = shapely.points(sample)
    out = []
    for y in years:
        op = open_points(points, y, levels)
        if len(op) == 0:
            d = np.full(len(geoms), np.nan)
        else:
            tree = shapely.STRtree(op.geometry.to_numpy())
            idx, dist = tree.query_nearest(sample_pts, return_distance=True, all_matches=False)
            per_sample = np.empty(len(sample_pts))
            per_sample[idx[0]] = dist
            sums = np.bincount(owner, weights=per_sample, minlength=len(geoms))
            cnt = np.bincount(owner, minlength=len(geoms))
            d = sums / cnt
        out.append(pd.DataFrame({id_col: ids, "year": y, "distance_m": d, "n_open": len(op)}))
    return pd.concat(out, ignore_index=True)
