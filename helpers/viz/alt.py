"""Alt text for map figures: one sentence per map, stored on the axes and the figure.

The contract with the report layer:

- every map function of :mod:`helpers.viz.maps` stores a one-sentence
  description of the map it drew in ``ax._helpers_alt`` (a str), naming what
  is mapped, the units and how many, the classes or categories (with counts),
  how many units have no data or are suppressed, and whether an inset
  enlarges part of the map;
- it also sets ``fig._helpers_alt`` (a str) to the descriptions of all maps
  in the figure, in the order of ``fig.axes``, joined by spaces; a figure of
  small multiples gets one sentence for all its panels;
- :func:`describe` returns that text for a Figure or an Axes (None when
  nothing was drawn by the map helpers), so the report layer can write
  ``<img alt="...">`` from ``describe(fig)`` or ``getattr(fig, "_helpers_alt", None)``.
"""
from __future__ import annotations

import pandas as pd

__all__ = ["ALT_ATTR", "describe", "set_alt", "units_noun", "count_phrase", "clean_heading"]

#: Attribute of a matplotlib Axes and Figure that holds the alt text.
ALT_ATTR = "_helpers_alt"

# finest level first: a frame of communities also carries sub-district and district ids
_LEVELS = (("community_id", "community", "communities"), ("subdistrict_id", "sub-district", "sub-districts"),
           ("district_id", "district", "districts"))


def units_noun(frame=None, units_name=None, id_col: str | None = None) -> tuple[str, str]:
    """(singular, plural) name of the mapped units, from ``units_name`` or the frame's id columns.

    ``units_name`` is either a (singular, plural) pair or the plural alone
    ("counties"), whose singular then drops a final "s" ("ies" -> "y").
    Without it, the finest of ``community_id``, ``subdistrict_id``,
    ``district_id`` among the frame's columns (or ``id_col``) names the units;
    else "unit(s)".
    """
    if units_name:
        if isinstance(units_name, (tuple, list)):
            return str(units_name[0]), str(units_name[1])
        p = str(units_name)
        s = p[:-3] + "y" if p.endswith("ies") else (p[:-1] if p.endswith("s") else p)
        return s, p
    cols = set(frame.columns) if frame is not None else set()
    if id_col is not None:
        cols = {id_col}
    for col, s, p in _LEVELS:
        if col in cols:
            return s, p
    return "unit", "units"


def count_phrase(n: int, noun: tuple[str, str]) -> str:
    """``"1 community"``, ``"1,320 communities"``."""
    return f"{n:,} {noun[0] if n == 1 else noun[1]}"


def clean_heading(text: str | None) -> str:
    """A legend heading as running text: line breaks become spaces, no trailing full stop, colon or semicolon."""
    if not text:
        return ""
    return " ".join(str(text).split()).rstrip(".:;")


def missing_phrase(n_nodata: int, n_supp: int, noun: tuple[str, str], supp_label: str | None = None) -> str:
    """``"3 communities have no data and 2 are suppressed (n < 10)"``, or ``"all have data"``."""
    parts = []
    if n_nodata:
        parts.append(f"{count_phrase(n_nodata, noun)} {'has' if n_nodata == 1 else 'have'} no data")
    if n_supp:
        lab = f" ({supp_label.split('(', 1)[1]}" if supp_label and "(" in supp_label else ""
        verb = "is" if n_supp == 1 else "are"
        parts.append(f"{n_supp:,} {verb} suppressed{lab}" if parts
                     else f"{count_phrase(n_supp, noun)} {verb} suppressed{lab}")
    if not parts:
        return "all have data"
    return " and ".join(parts)


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    text = text[0].upper() + text[1:] if text else text
    return text if text.endswith(".") else text + "."


def set_alt(ax, text: str, *, figure_text: str | None = None) -> str:
    """Store ``text`` as the alt text of ``ax`` and refresh the figure's (see the module docstring).

    Parameters
    ----------
    ax : the map's Axes.
    text : one sentence (capitalised and closed with a full stop here).
    figure_text : text for the whole figure instead of joining its axes
        (used by small multiples).

    Returns
    -------
    The sentence stored.
    """
    s = _sentence(text) if text else ""
    setattr(ax, ALT_ATTR, s)
    fig = ax.figure
    if figure_text is not None:
        setattr(fig, ALT_ATTR, _sentence(figure_text))
    else:
        parts = [getattr(a, ALT_ATTR) for a in fig.axes if getattr(a, ALT_ATTR, None)]
        setattr(fig, ALT_ATTR, " ".join(parts))
    return s


def describe(target) -> str | None:
    """Alt text of a map figure or map axes drawn by :mod:`helpers.viz.maps`.

    Parameters
    ----------
    target : a matplotlib Figure or Axes.

    Returns
    -------
    The description (one sentence per map), or None when the target holds no
    map drawn by the helpers.
    """
    if hasattr(target, "savefig"):  # a Figure
        text = getattr(target, ALT_ATTR, None)
        if text:
            return text
        parts = [getattr(a, ALT_ATTR) for a in target.axes if getattr(a, ALT_ATTR, None)]
        return " ".join(parts) or None
    return getattr(target, ALT_ATTR, None) or None


def counts_text(counts: pd.Series, order) -> str:
    """``"58 High-High, 115 Low-Low and 1,130 Not significant"`` in the order of ``order`` (zeros left out)."""
    items = [f"{int(counts.get(k, 0)):,} {k}" for k in order if int(counts.get(k, 0))]
    if not items:
        return "none"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
