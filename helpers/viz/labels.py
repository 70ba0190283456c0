"""Map labels that never overlap: placed when the figure is drawn, shifted with a leader line or dropped.

:func:`place_labels` adds one text per unit at its anchor (a representative
point) and one invisible *resolver* artist that runs just before the labels
each time the figure is drawn. Working in display units with the final layout
and renderer, it places the labels greedily in priority order: each label
takes the first position in a fixed list of candidates (its anchor first, then
shifts up, down, left, right and diagonally, nearest first) whose box, padded
by two points, overlaps no label already placed, no other text or map furniture
(scale bar, north arrow, an inset) of the axes, and lies inside the axes. A label
shifted off its anchor gets a thin leader line to it; a label with no free
candidate is dropped (not drawn) and counted. Output is deterministic: the
same figure gives the same bytes on every run.

Why not a library: adjustText (1.x) iterates repelling forces under a
default one-second time limit, so its result depends on the machine's speed
and is not guaranteed free of overlaps when it stops; textalloc places labels
greedily like this module but forces a full draw of the figure at the time of
the call and fixes positions for that layout. Both work at call time, while
the project's figures are laid out afterwards (constrained layout moves and
shrinks axes when legends, insets and more panels are added, and
``savefig(bbox_inches="tight")`` re-lays the figure), so labels that were
apart at call time can overlap in the saved file. Placing at draw time is the
only way to guarantee the saved figure, and the greedy candidate search is
the standard cartographic approach (Imhof 1975; Christensen, Marks & Shieber
1995, who found greedy placement close to optimal for point labels).

**Area labels** (``regions=``, one polygon per label; what :mod:`helpers.viz.maps`
passes for the units it names): a label that names a polygon must never sit on
another polygon, or a reader attributes it to the wrong one. Each label is then
placed in two passes, in priority order:

1. *inside its own polygon*: the nearest position to its anchor (on a grid of a
   quarter of the label's height) whose padded box lies wholly inside the
   polygon, first on one line, then broken into two lines at the space nearest
   its middle; no leader is needed;
2. *a callout outside every polygon*: the labels that fit nowhere inside go to
   the nearest free position whose padded box touches no polygon of the map
   (the margin around the city), with a leader line from the box to a dot at
   the anchor, which lies inside the label's own polygon; a position whose
   leader would cross another leader or another label is not taken
   (boundary labelling with leaders, as in Bekos, Kaufmann, Symvonis & Wolff
   2007).

A label that finds neither is dropped and counted. Give the map room around
the units (``label_margin`` of :func:`helpers.viz.maps.choropleth`) so that
callouts have somewhere to go.

References: Imhof, E. (1975). Positioning names on maps. *The American
Cartographer* 2(2), 128-144. Christensen, J., Marks, J. & Shieber, S. (1995).
An empirical study of algorithms for point-feature label placement. *ACM
Transactions on Graphics* 14(3), 203-232. Bekos, M. A., Kaufmann, M., Symvonis, A. &
Wolff, A. (2007). Boundary labeling: models and efficient algorithms for
rectangular maps. *Computational Geometry* 36(3), 215-236.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from matplotlib import patheffects
from matplotlib.artist import Artist
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.transforms import Affine2D, IdentityTransform

__all__ = ["MapLabel", "LabelResolver", "place_labels", "visible_labels", "overlapping_pairs",
           "region_conflicts"]

#: Gid of the leader lines drawn from an anchor to its shifted label.
LEADER_GID = "label-leader"


class MapLabel(Text):
    """A text anchored at a map position whose offset and visibility the resolver sets at draw time.

    Attributes
    ----------
    anchor : (x, y) in data coordinates.
    priority : larger is placed first.
    shift : the :class:`~matplotlib.transforms.Affine2D` offset (display pixels).
    dropped : True when no free position was found at the last draw.
    region : the polygon the label names (data coordinates), or None (a point label).
    full_text : the label's text on one line (the resolver may break it into two lines).
    placement : ``"anchor"``, ``"shifted"``, ``"inside"``, ``"callout"`` or ``"dropped"`` (last draw).
    """

    def __init__(self, x, y, text, *, priority: float = 0.0, region=None, **kwargs):
        super().__init__(x, y, text, **kwargs)
        self.anchor = (float(x), float(y))
        self.priority = float(priority)
        self.shift = Affine2D()
        self.dropped = False
        self.region = region
        self.full_text = str(text)
        self.placement = "anchor"

    def get_visible(self):
        return super().get_visible() and not self.dropped


def _candidates(w: float, h: float, max_steps: int) -> list[tuple[float, float]]:
    """Offsets (display units) to try, nearest first; ties in a fixed direction order."""
    dirs = [(0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1)]
    out = [(0.0, 0.0)]
    for s in range(1, max_steps + 1):
        for ux, uy in dirs:
            # vertical steps of 0.55 label heights; horizontal steps of a quarter width
            out.append((ux * s * max(0.25 * w, 0.55 * h), uy * s * 0.55 * h))
    order = sorted(range(len(out)), key=lambda i: (round(float(np.hypot(*out[i])), 6), i))
    return [out[i] for i in order]


def _two_lines(text: str) -> str | None:
    """``text`` broken at the space nearest its middle (None when it has no space)."""
    spaces = [i for i, c in enumerate(text) if c == " "]
    if not spaces:
        return None
    i = min(spaces, key=lambda j: (abs(2 * j - len(text)), j))
    return text[:i] + "\n" + text[i + 1:]


def _grid(lo: float, hi: float, step: float) -> np.ndarray:
    """Offsets from ``lo`` to ``hi`` in ``step`` s (at least ``lo`` itself when ``hi < lo``)."""
    if hi < lo:
        return np.array([])
    return lo + step * np.arange(int(np.floor((hi - lo) / step)) + 1)


def _hits(boxes: np.ndarray, placed: np.ndarray, pad: float) -> np.ndarray:
    """Which of ``boxes`` (n, 4) overlap any of ``placed`` (m, 4) once padded by ``pad`` (strict overlap)."""
    if not len(placed) or not len(boxes):
        return np.zeros(len(boxes), bool)
    return ((boxes[:, None, 0] - pad < placed[None, :, 2]) & (placed[None, :, 0] < boxes[:, None, 2] + pad)
            & (boxes[:, None, 1] - pad < placed[None, :, 3]) & (placed[None, :, 1] < boxes[:, None, 3] + pad)
            ).any(axis=1)


class LabelResolver(Artist):
    """Invisible artist that places its :class:`MapLabel` s when the axes are drawn (see the module docstring).

    Attributes
    ----------
    labels : the labels, in priority order.
    n_dropped, n_shifted : counts from the last draw (a callout counts as shifted).
    """

    def __init__(self, labels: list[MapLabel], *, max_steps: int = 6, pad_pt: float = 2.0,
                 leader_color: str = "#555555"):
        super().__init__()
        self.labels = sorted(labels, key=lambda t: -t.priority)  # stable: ties keep the given order
        self.max_steps = max_steps
        self.pad_pt = pad_pt
        self.leader_color = leader_color
        self.n_dropped = 0
        self.n_shifted = 0
        self._leaders: list[Line2D] = []
        self.set_gid("label-resolver")

    def _obstacles(self, renderer) -> list:
        ax = self.axes
        mine = set(map(id, self.labels))
        out = []
        for t in ax.texts:
            if id(t) in mine or isinstance(t, MapLabel) or not Text.get_visible(t):
                continue
            if not t.get_text() and not getattr(t, "arrow_patch", None):
                continue
            out.append(t.get_window_extent(renderer))
        for p in ax.patches:
            if p.get_gid() in ("scale-bar",) and p.get_visible():
                out.append(p.get_window_extent(renderer))
        for child in ax.child_axes:  # an inset and its title
            if child.get_visible():
                out.append(child.get_window_extent(renderer))
                if child.title.get_text():
                    out.append(child.title.get_window_extent(renderer))
        return out

    def _leader(self, ax_xy, b) -> Line2D:
        """A leader from the anchor (a dot) to the nearest point of box ``b`` (display coordinates)."""
        nx = min(max(ax_xy[0], b[0]), b[2])
        ny = min(max(ax_xy[1], b[1]), b[3])
        line = Line2D([ax_xy[0], nx], [ax_xy[1], ny], transform=IdentityTransform(), color=self.leader_color,
                      linewidth=0.6, solid_capstyle="round", marker="o", markersize=2.2, markevery=[0])
        line.set_figure(self.axes.figure)
        line.set_gid(LEADER_GID)
        return line

    def resolve(self, renderer) -> None:
        """Place the labels for the current layout (called by :meth:`draw`)."""
        if any(lab.region is not None for lab in self.labels):
            self._resolve_regions(renderer)
            return
        ax = self.axes
        pad = self.pad_pt * renderer.points_to_pixels(1.0)
        frame = ax.bbox
        placed = np.array([[b.x0, b.y0, b.x1, b.y1] for b in self._obstacles(renderer)]).reshape(-1, 4)
        self._leaders = []
        self.n_dropped = self.n_shifted = 0
        for lab in self.labels:
            lab.shift.clear()
            lab.dropped = False
            lab.placement = "anchor"
            if not Text.get_visible(lab) or not lab.get_text():
                continue
            base = lab.get_window_extent(renderer)
            ax_xy = ax.transData.transform(lab.anchor)
            offsets = np.array(_candidates(base.width, base.height, self.max_steps))
            boxes = np.column_stack([base.x0 + offsets[:, 0], base.y0 + offsets[:, 1],
                                     base.x1 + offsets[:, 0], base.y1 + offsets[:, 1]])
            ok = ((boxes[:, 0] >= frame.x0) & (boxes[:, 2] <= frame.x1)
                  & (boxes[:, 1] >= frame.y0) & (boxes[:, 3] <= frame.y1))
            ok &= ~_hits(boxes, placed, pad)
            free = np.flatnonzero(ok)
            if not len(free):
                lab.dropped = True
                lab.placement = "dropped"
                self.n_dropped += 1
                continue
            j = int(free[0])
            dx, dy = offsets[j]
            b = boxes[j]
            lab.shift.translate(dx, dy)
            placed = np.vstack([placed, b])
            if not (b[0] <= ax_xy[0] <= b[2] and b[1] <= ax_xy[1] <= b[3]):
                # the label no longer covers its anchor: draw a leader to the nearest point of its box
                self.n_shifted += 1
                lab.placement = "shifted"
                self._leaders.append(self._leader(ax_xy, b))

    def _resolve_regions(self, renderer) -> None:
        """Area labels: inside their own polygon, else a callout outside every polygon (module docstring)."""
        ax = self.axes
        pad = self.pad_pt * renderer.points_to_pixels(1.0)
        frame = ax.bbox
        to_display = ax.transData.transform
        placed = np.array([[b.x0, b.y0, b.x1, b.y1] for b in self._obstacles(renderer)]).reshape(-1, 4)
        self._leaders = []
        self.n_dropped = self.n_shifted = 0
        mine = [lab for lab in self.labels if Text.get_visible(lab) and lab.full_text]
        regions = {}
        for lab in self.labels:
            lab.shift.clear()
            lab.dropped = False
            lab.placement = "anchor"
            lab.set_text(lab.full_text)
            if lab.region is not None and id(lab.region) not in regions:
                r = shapely.transform(lab.region, to_display)
                shapely.prepare(r)
                regions[id(lab.region)] = r
        land = shapely.union_all(list(regions.values())) if regions else shapely.Polygon()
        shapely.prepare(land)

        def boxes_at(base, dxs, dys):
            gx, gy = np.meshgrid(dxs, dys)
            dx, dy = gx.ravel(), gy.ravel()
            b = np.column_stack([base.x0 + dx, base.y0 + dy, base.x1 + dx, base.y1 + dy])
            inframe = (b[:, 0] >= frame.x0) & (b[:, 2] <= frame.x1) & (b[:, 1] >= frame.y0) & (b[:, 3] <= frame.y1)
            return dx[inframe], dy[inframe], b[inframe]

        def padded(b):
            return shapely.box(b[:, 0] - pad, b[:, 1] - pad, b[:, 2] + pad, b[:, 3] + pad)

        # pass 1: inside the label's own polygon, one line first, then two
        left = []
        for lab in mine:
            region = regions.get(id(lab.region)) if lab.region is not None else None
            done = False
            for text in ([lab.full_text, _two_lines(lab.full_text)] if region is not None else []):
                if text is None:
                    continue
                lab.set_text(text)
                base = lab.get_window_extent(renderer)
                cx, cy = (base.x0 + base.x1) / 2, (base.y0 + base.y1) / 2
                step = max(0.25 * base.height, 1.0)
                rx0, ry0, rx1, ry1 = region.bounds
                dx, dy, b = boxes_at(base, _grid(rx0 + pad - base.x0, rx1 - pad - base.x1, step),
                                     _grid(ry0 + pad - base.y0, ry1 - pad - base.y1, step))
                if not len(b):
                    continue
                ok = ~_hits(b, placed, pad)
                ok[ok] = shapely.contains(region, padded(b[ok]))
                free = np.flatnonzero(ok)
                if not len(free):
                    continue
                j = int(free[np.lexsort((dx[free], dy[free], np.hypot(dx[free] + (base.x0 + base.x1) / 2 - cx,
                                                                        dy[free] + (base.y0 + base.y1) / 2 - cy)))[0]])
                lab.shift.translate(dx[j], dy[j])
                placed = np.vstack([placed, b[j]])
                lab.placement = "inside"
                done = True
                break
            if not done:
                lab.set_text(lab.full_text)
                left.append(lab)

        # pass 2: a callout outside every polygon, with a leader that crosses no other leader or label
        segs = []
        for lab in left:
            base = lab.get_window_extent(renderer)
            ax_xy = to_display(lab.anchor)
            step_y, step_x = max(0.5 * base.height, 1.0), max(0.5 * base.height, 1.0)
            dx, dy, b = boxes_at(base, _grid(frame.x0 - base.x0, frame.x1 - base.x1, step_x),
                                 _grid(frame.y0 - base.y0, frame.y1 - base.y1, step_y))
            ok = ~_hits(b, placed, pad)
            ok[ok] = ~shapely.intersects(land, padded(b[ok]))
            free = np.flatnonzero(ok)
            nx = np.clip(ax_xy[0], b[free, 0], b[free, 2])
            ny = np.clip(ax_xy[1], b[free, 1], b[free, 3])
            length = np.hypot(nx - ax_xy[0], ny - ax_xy[1])
            chosen = None
            for i in np.lexsort((dx[free], dy[free], length)):
                j = int(free[i])
                seg = shapely.LineString([tuple(ax_xy), (float(nx[i]), float(ny[i]))])
                if segs and (shapely.intersects(seg, shapely.MultiLineString(segs))
                             or shapely.intersects(shapely.box(*b[j]), shapely.MultiLineString(segs))):
                    continue
                others = placed if len(placed) else np.zeros((0, 4))
                if len(others) and shapely.intersects(seg, shapely.box(others[:, 0] - pad, others[:, 1] - pad,
                                                                       others[:, 2] + pad, others[:, 3] + pad)).any():
                    continue
                chosen = j
                segs.append(seg)
                break
            if chosen is None:
                lab.dropped = True
                lab.placement = "dropped"
                self.n_dropped += 1
                continue
            lab.shift.translate(dx[chosen], dy[chosen])
            placed = np.vstack([placed, b[chosen]])
            lab.placement = "callout"
            self.n_shifted += 1
            self._leaders.append(self._leader(ax_xy, b[chosen]))

    def draw(self, renderer):
        if not self.get_visible():
            return
        self.resolve(renderer)
        for line in self._leaders:
            line.draw(renderer)
        self.stale = False

    @property
    def leaders(self) -> list[Line2D]:
        """Leader lines drawn at the last draw (display coordinates)."""
        return list(self._leaders)


def place_labels(ax, xs: Sequence[float], ys: Sequence[float], texts: Sequence[str], *,
                 priority: Sequence[float] | None = None, fontsize: float = 7.0, color: str = "#111111",
                 gid: str = "unit-label", zorder: float = 9.0, halo: bool = True,
                 max_steps: int = 6, regions: Sequence | None = None) -> LabelResolver:
    """Label points of a map so that no two labels overlap (see the module docstring).

    Parameters
    ----------
    ax : the map's Axes.
    xs, ys : anchors in data coordinates (e.g. representative points of units).
    texts : the labels; empty or missing ones are skipped.
    priority : larger is placed first (default: the given order).
    fontsize, color, halo : text style (a white halo keeps labels readable on colour).
    gid : gid of the text artists (``"unit-label"``).
    zorder : of the labels; the resolver runs just below it.
    max_steps : how far a point label may move: steps of about half a label
        height (vertically) or a quarter of its width (sideways).
    regions : the polygons the labels name (shapely, data coordinates, one per
        text; the anchor should lie inside its polygon): area labels, placed
        inside their own polygon or as a callout outside every polygon, never
        on another polygon (module docstring). None: point labels.

    Returns
    -------
    The :class:`LabelResolver` (its ``labels`` are the text artists, also in ``ax.texts``).
    """
    pe = [patheffects.withStroke(linewidth=2.2, foreground="white")] if halo else None
    pr = list(priority) if priority is not None else [-float(i) for i in range(len(texts))]
    rg = list(regions) if regions is not None else [None] * len(texts)
    if len(rg) != len(texts):
        raise ValueError(f"place_labels: {len(rg)} regions for {len(texts)} texts; give one polygon per text")
    labels = []
    for x, y, s, p, r in zip(xs, ys, texts, pr, rg):
        if s is None or (isinstance(s, float) and np.isnan(s)) or str(s) == "" or not np.isfinite([x, y]).all():
            continue
        lab = MapLabel(x, y, str(s), priority=p, region=r, ha="center", va="center", multialignment="center",
                       fontsize=fontsize, color=color, zorder=zorder, path_effects=pe, gid=gid)
        lab.set_transform(ax.transData + lab.shift)
        lab.set_clip_on(False)
        ax.add_artist(lab)
        labels.append(lab)
    res = LabelResolver(labels, max_steps=max_steps)
    res.set_zorder(zorder - 0.01)
    ax.add_artist(res)
    return res


def visible_labels(ax, gid: str = "unit-label") -> list[Text]:
    """Labels with ``gid`` drawn at the last draw (dropped ones left out)."""
    return [t for t in ax.texts if t.get_gid() == gid and t.get_visible()]


def overlapping_pairs(texts: Sequence[Text], renderer) -> list[tuple[str, str]]:
    """Pairs of texts whose window extents overlap (for tests and checks)."""
    boxes = [t.get_window_extent(renderer) for t in texts]
    out = []
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            a, b = boxes[i], boxes[j]
            if a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1:
                out.append((texts[i].get_text(), texts[j].get_text()))
    return out


def region_conflicts(resolver: LabelResolver, renderer) -> list[tuple[str, str]]:
    """Area labels a reader could attribute to the wrong polygon (for tests and checks).

    Checks every drawn label of ``resolver`` that names a region, in display
    coordinates of the last draw: its box must lie inside its own polygon, or
    touch no polygon at all and have a leader that ends inside its own
    polygon. Returns ``(label, problem)`` pairs; empty when every label is
    unambiguous.
    """
    ax = resolver.axes
    to_display = ax.transData.transform
    labs = [lab for lab in resolver.labels if lab.region is not None]
    regions = [shapely.transform(lab.region, to_display) for lab in labs]
    land = shapely.union_all(regions) if regions else shapely.Polygon()
    leaders = resolver.leaders
    out = []
    for lab, own in zip(labs, regions):
        if not lab.get_visible():
            continue
        name = lab.full_text
        e = lab.get_window_extent(renderer)
        box = shapely.box(e.x0, e.y0, e.x1, e.y1)
        if own.contains(box):
            continue
        if land.intersects(box):
            out.append((name, "its box lies partly on another polygon or across its own boundary"))
            continue
        ends = [ln for ln in leaders if box.buffer(1.0).intersects(shapely.Point(ln.get_xydata()[-1]))]
        if not any(own.contains(shapely.Point(ln.get_xydata()[0])) for ln in ends):
            out.append((name, "a callout without a leader ending inside its own polygon"))
    return out
