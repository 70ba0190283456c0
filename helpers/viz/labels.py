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

References: Imhof, E. (1975). Positioning names on maps. *The American
Cartographer* 2(2), 128-144. Christensen, J., Marks, J. & Shieber, S. (1995).
An empirical study of algorithms for point-feature label placement. *ACM
Transactions on Graphics* 14(3), 203-232.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib import patheffects
from matplotlib.artist import Artist
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.transforms import Affine2D, IdentityTransform

__all__ = ["MapLabel", "LabelResolver", "place_labels", "visible_labels", "overlapping_pairs"]

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
    """

    def __init__(self, x, y, text, *, priority: float = 0.0, **kwargs):
        super().__init__(x, y, text, **kwargs)
        self.anchor = (float(x), float(y))
        self.priority = float(priority)
        self.shift = Affine2D()
        self.dropped = False

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


class LabelResolver(Artist):
    """Invisible artist that places its :class:`MapLabel` s when the axes are drawn (see the module docstring).

    Attributes
    ----------
    labels : the labels, in priority order.
    n_dropped, n_shifted : counts from the last draw.
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

    def _obstacles(self, renderer) -> list[Bbox]:
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

    def resolve(self, renderer) -> None:
        """Place the labels for the current layout (called by :meth:`draw`)."""
        ax = self.axes
        pad = self.pad_pt * renderer.points_to_pixels(1.0)
        frame = ax.bbox
        placed = np.array([[b.x0, b.y0, b.x1, b.y1] for b in self._obstacles(renderer)]).reshape(-1, 4)
        self._leaders = []
        self.n_dropped = self.n_shifted = 0
        for lab in self.labels:
            lab.shift.clear()
            lab.dropped = False
            if not Text.get_visible(lab) or not lab.get_text():
                continue
            base = lab.get_window_extent(renderer)
            ax_xy = ax.transData.transform(lab.anchor)
            offsets = np.array(_candidates(base.width, base.height, self.max_steps))
            boxes = np.column_stack([base.x0 + offsets[:, 0], base.y0 + offsets[:, 1],
                                     base.x1 + offsets[:, 0], base.y1 + offsets[:, 1]])
            ok = ((boxes[:, 0] >= frame.x0) & (boxes[:, 2] <= frame.x1)
                  & (boxes[:, 1] >= frame.y0) & (boxes[:, 3] <= frame.y1))
            if len(placed):
                # padded candidate boxes against every box already placed (strict overlap)
                hit = ((boxes[:, None, 0] - pad < placed[None, :, 2]) & (placed[None, :, 0] < boxes[:, None, 2] + pad)
                       & (boxes[:, None, 1] - pad < placed[None, :, 3]) & (placed[None, :, 1] < boxes[:, None, 3] + pad))
                ok &= ~hit.any(axis=1)
            free = np.flatnonzero(ok)
            if not len(free):
                lab.dropped = True
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
                nx = min(max(ax_xy[0], b[0]), b[2])
                ny = min(max(ax_xy[1], b[1]), b[3])
                line = Line2D([ax_xy[0], nx], [ax_xy[1], ny], transform=IdentityTransform(),
                              color=self.leader_color, linewidth=0.5, solid_capstyle="round")
                line.set_figure(ax.figure)
                line.set_gid(LEADER_GID)
                self._leaders.append(line)

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
                 max_steps: int = 6) -> LabelResolver:
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
    max_steps : how far a label may move: steps of about half a label height
        (vertically) or a quarter of its width (sideways).

    Returns
    -------
    The :class:`LabelResolver` (its ``labels`` are the text artists, also in ``ax.texts``).
    """
    pe = [patheffects.withStroke(linewidth=2.2, foreground="white")] if halo else None
    pr = list(priority) if priority is not None else [-float(i) for i in range(len(texts))]
    labels = []
    for x, y, s, p in zip(xs, ys, texts, pr):
        if s is None or (isinstance(s, float) and np.isnan(s)) or str(s) == "" or not np.isfinite([x, y]).all():
            continue
        lab = MapLabel(x, y, str(s), priority=p, ha="center", va="center", fontsize=fontsize, color=color,
                       zorder=zorder, path_effects=pe, gid=gid)
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
