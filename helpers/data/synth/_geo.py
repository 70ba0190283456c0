"""Geography of the synthetic city: nested community, sub-district and district polygons.

Communities are Voronoi cells of seed points (denser near the centre) clipped to
a wavy city outline, with vertices snapped to whole metres. Sub-districts and
districts are unions of whole communities, so the three levels nest exactly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

#: Centre of the city in EPSG:4548 (easting, northing), metres.
CENTRE = (500_000.0, 3_450_000.0)
#: Mean radius of the city outline, metres.
RADIUS = 36_000.0
N_COMMUNITIES = 1320
N_SUBDISTRICTS = 100
#: zone -> (number of districts, inner and outer effective radius in metres)
ZONES = {"core": (3, 0.0, 7_500.0), "inner_suburb": (4, 7_500.0, 18_500.0),
         "outer_county": (5, 18_500.0, np.inf)}


@dataclass
class Geography:
    cells: np.ndarray          # community polygons (shapely), whole-metre vertices
    seeds: np.ndarray          # (n, 2) seed points
    district: np.ndarray       # district index per community (0..11)
    subdistrict: np.ndarray    # sub-district index per community (0..)
    sub_district_of: np.ndarray  # district index per sub-district
    district_zone: list[str]
    sub_polys: np.ndarray
    dist_polys: np.ndarray
    seat: np.ndarray           # (12, 2) district seat coordinates
    sub_seat: np.ndarray       # (n_sub, 2) sub-district seat coordinates
    adjacency: list[tuple[int, int]]


def _outline(rng: np.random.Generator) -> shapely.Polygon:
    theta = np.linspace(0, 2 * np.pi, 360, endpoint=False)
    ph = rng.uniform(0, 2 * np.pi, 3)
    r = RADIUS * (1 + 0.10 * np.sin(2 * theta + ph[0]) + 0.06 * np.sin(3 * theta + ph[1])
                  + 0.03 * np.sin(5 * theta + ph[2]))
    xy = np.round(np.c_[CENTRE[0] + r * np.cos(theta), CENTRE[1] + r * np.sin(theta)])
    return shapely.Polygon(xy)


def _density(r: np.ndarray) -> np.ndarray:
    """Relative density of communities at distance r (metres) from the centre."""
    return np.exp(-r / 4_500.0) + 0.022


def _seeds(rng: np.random.Generator, outline: shapely.Polygon, n: int) -> np.ndarray:
    # normalise the density so that it integrates to n over the outline
    minx, miny, maxx, maxy = outline.bounds
    mc = rng.uniform((minx, miny), (maxx, maxy), size=(20_000, 2))
    inside = shapely.contains_xy(outline, mc[:, 0], mc[:, 1])
    r_mc = np.hypot(mc[inside, 0] - CENTRE[0], mc[inside, 1] - CENTRE[1])
    integral = _density(r_mc).mean() * outline.area
    dmax = _density(np.array([0.0]))[0]
    accepted = np.empty((0, 2))
    while len(accepted) < n:
        cand = rng.uniform((minx, miny), (maxx, maxy), size=(4000, 2))
        r = np.hypot(cand[:, 0] - CENTRE[0], cand[:, 1] - CENTRE[1])
        keep = shapely.contains_xy(outline, cand[:, 0], cand[:, 1]) & (rng.uniform(size=len(cand)) < _density(r) / dmax)
        for (x, y), rr in zip(cand[keep], r[keep]):
            spacing = 1.0 / np.sqrt(n * _density(np.array([rr]))[0] / integral)
            if len(accepted):
                d = np.hypot(accepted[:, 0] - x, accepted[:, 1] - y).min()
                if d < 0.55 * spacing:
                    continue
            # keep seeds away from the outline so no cell is a sliver
            if shapely.distance(outline.exterior, shapely.Point(x, y)) < 0.25 * spacing:
                continue
            accepted = np.vstack([accepted, (x, y)])
            if len(accepted) == n:
                break
    return accepted


def _adjacency(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tree = shapely.STRtree(cells)
    i, j = tree.query(cells, predicate="intersects")
    m = i < j
    i, j = i[m], j[m]
    shared = shapely.length(shapely.intersection(shapely.boundary(cells[i]), shapely.boundary(cells[j])))
    m = shared > 0.5
    return i[m], j[m], shared[m]


def _repair(labels: np.ndarray, ai, aj, alen, allowed=None, max_iter: int = 50) -> np.ndarray:
    """Reassign cells so that every label's cells form one edge-connected piece."""
    labels = labels.copy()
    n = len(labels)
    for _ in range(max_iter):
        changed = False
        same = labels[ai] == labels[aj]
        g = coo_matrix((np.ones(same.sum()), (ai[same], aj[same])), shape=(n, n))
        _, comp = connected_components(g, directed=False)
        for lab in np.unique(labels):
            idx = np.flatnonzero(labels == lab)
            comps, counts = np.unique(comp[idx], return_counts=True)
            if len(comps) <= 1:
                continue
            main = comps[np.argmax(counts)]
            for c in idx[comp[idx] != main]:
                nb = np.r_[aj[ai == c], ai[aj == c]]
                ln = np.r_[alen[ai == c], alen[aj == c]]
                ok = labels[nb] != lab
                if allowed is not None:
                    ok &= allowed[nb]
                if not ok.any():
                    continue
                score: dict[int, float] = {}
                for b, l in zip(labels[nb][ok], ln[ok]):
                    score[int(b)] = score.get(int(b), 0.0) + float(l)
                labels[c] = max(sorted(score), key=lambda k: score[k])
                changed = True
        if not changed:
            return labels
    raise RuntimeError("could not make the groups contiguous")


def _kmeans(rng: np.random.Generator, pts: np.ndarray, k: int, iters: int = 8) -> np.ndarray:
    centres = pts[rng.choice(len(pts), size=k, replace=False)]
    for _ in range(iters):
        lab = cKDTree(centres).query(pts)[1]
        for j in range(k):
            if (lab == j).any():
                centres[j] = pts[lab == j].mean(axis=0)
    return cKDTree(centres).query(pts)[1]


def build(rng: np.random.Generator, n_communities: int = N_COMMUNITIES,
          n_subdistricts: int = N_SUBDISTRICTS) -> Geography:
    outline = _outline(rng)
    seeds = _seeds(rng, outline, n_communities)
    vor = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=outline.buffer(10_000), ordered=True)
    cells = shapely.get_parts(vor)
    cells = shapely.intersection(cells, outline)
    cells = shapely.set_precision(cells, 1.0)
    if not all(shapely.get_type_id(cells) == 3):
        raise RuntimeError("a community cell is not a single polygon")
    ai, aj, alen = _adjacency(cells)

    # districts: zone by a wavy radius, then angular sectors
    dx, dy = seeds[:, 0] - CENTRE[0], seeds[:, 1] - CENTRE[1]
    theta = np.arctan2(dy, dx)
    ph = rng.uniform(0, 2 * np.pi, 2)
    reff = np.hypot(dx, dy) * (1 + 0.08 * np.sin(3 * theta + ph[0]) + 0.05 * np.sin(2 * theta + ph[1]))
    district = np.full(len(seeds), -1)
    zones: list[str] = []
    base = 0
    for zone, (k, r0, r1) in ZONES.items():
        in_zone = (reff >= r0) & (reff < r1)
        offset = rng.uniform(0, 2 * np.pi)
        sector = np.floor(((theta - offset) % (2 * np.pi)) / (2 * np.pi / k)).astype(int)
        district[in_zone] = base + sector[in_zone]
        zones += [zone] * k
        base += k
    district = _repair(district, ai, aj, alen)

    # sub-districts: k-means of the seeds inside each district
    counts = np.bincount(district, minlength=len(zones))
    k_d = np.maximum(3, np.round(n_subdistricts * counts / counts.sum()).astype(int))
    sub = np.full(len(seeds), -1)
    sub_of: list[int] = []
    for d in range(len(zones)):
        idx = np.flatnonzero(district == d)
        lab = _kmeans(rng, seeds[idx], k_d[d])
        # relabel by size-independent order: angle around the district centroid
        c = seeds[idx].mean(axis=0)
        cents = np.array([seeds[idx][lab == j].mean(axis=0) for j in range(k_d[d])])
        order = np.argsort(np.arctan2(cents[:, 1] - c[1], cents[:, 0] - c[0]) + 0.0, kind="stable")
        rank = np.empty(k_d[d], int)
        rank[order] = np.arange(k_d[d])
        sub[idx] = len(sub_of) + rank[lab]
        sub_of += [d] * k_d[d]
    sub_of_arr = np.array(sub_of)
    # contiguity within each district (reassign only to sub-districts of the same district)
    for d in range(len(zones)):
        allowed = district == d
        m = allowed[ai] & allowed[aj]
        sub[allowed] = _repair(sub, ai[m], aj[m], alen[m])[allowed]

    sub_ids, sub = np.unique(sub, return_inverse=True)  # drop any emptied sub-district
    sub_of_arr = sub_of_arr[sub_ids]
    sub_polys = np.array([shapely.coverage_union_all(cells[sub == s]) for s in range(len(sub_ids))])
    dist_polys = np.array([shapely.coverage_union_all(sub_polys[sub_of_arr == d]) for d in range(len(zones))])
    for p in np.r_[sub_polys, dist_polys]:
        if p.geom_type != "Polygon" or not p.is_valid:
            raise RuntimeError("a union is not a single valid polygon")

    # seats: the seed nearest each district's / sub-district's centroid of seeds
    def seat(mask):
        pts = seeds[mask]
        return pts[np.argmin(((pts - pts.mean(axis=0)) ** 2).sum(axis=1))]

    seats = np.array([seat(district == d) for d in range(len(zones))])
    sub_seats = np.array([seat(sub == s) for s in range(len(sub_ids))])
    return Geography(cells=cells, seeds=seeds, district=district, subdistrict=sub,
                     sub_district_of=sub_of_arr, district_zone=zones, sub_polys=sub_polys,
                     dist_polys=dist_polys, seat=seats, sub_seat=sub_seats,
                     adjacency=list(zip(ai.tolist(), aj.tolist())))


def sample_points(rng: np.random.Generator, polys: np.ndarray, which: np.ndarray,
                  tri_cache: dict | None = None) -> np.ndarray:
    """One uniform random point inside ``polys[which[k]]`` for every k (vectorised)."""
    if tri_cache is None:
        tri_cache = {}
    if "tri" not in tri_cache:
        tris, owner = [], []
        for i, p in enumerate(polys):
            t = shapely.get_parts(shapely.constrained_delaunay_triangles(p))
            tris.append(shapely.get_coordinates(t).reshape(-1, 4, 2)[:, :3, :])
            owner.append(np.full(len(t), i))
        tri = np.concatenate(tris)
        owner = np.concatenate(owner)
        a = 0.5 * np.abs((tri[:, 1, 0] - tri[:, 0, 0]) * (tri[:, 2, 1] - tri[:, 0, 1])
                         - (tri[:, 2, 0] - tri[:, 0, 0]) * (tri[:, 1, 1] - tri[:, 0, 1]))
        start = np.searchsorted(owner, np.arange(len(polys)))
        cum = np.cumsum(a)
        tri_cache.update(tri=tri, owner=owner, cum=cum, start=start,
                         end=np.r_[start[1:], len(owner)])
    c = tri_cache
    lo = np.where(c["start"][which] > 0, c["cum"][c["start"][which] - 1], 0.0)
    hi = c["cum"][c["end"][which] - 1]
    u = rng.uniform(size=len(which))
    t = np.searchsorted(c["cum"], lo + u * (hi - lo), side="right")
    t = np.clip(t, c["start"][which], c["end"][which] - 1)
    r1, r2 = rng.uniform(size=(2, len(which)))
    flip = r1 + r2 > 1
    r1, r2 = np.where(flip, 1 - r1, r1), np.where(flip, 1 - r2, r2)
    p0, p1, p2 = c["tri"][t, 0], c["tri"][t, 1], c["tri"][t, 2]
    return p0 + r1[:, None] * (p1 - p0) + r2[:, None] * (p2 - p0)
