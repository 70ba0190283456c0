"""The project's one place for colours, fonts and map style.

Every figure in the notebooks and reports takes its palette, fonts and
rcParams from here, so that a colour means the same thing everywhere and a
rebuilt figure is byte-for-byte the same file.

- :func:`use_project_style` sets matplotlib's rcParams: a sans-serif font list
  with CJK fallbacks (Chinese names render when a CJK font is installed; see
  ``tools/sysdeps.sh``), light axes, and deterministic output (fixed SVG hash
  salt, no timestamps in saved files).
- :func:`save_figure` saves with fixed metadata so that files do not change
  between builds.
- :data:`SYNTHETIC` and :func:`stamp_synthetic` label every figure drawn from
  the synthetic city.
- Palettes: :data:`SEQUENTIAL_CMAP`, :data:`DIVERGING_CMAP`,
  :data:`LISA_COLORS`, :data:`NO_DATA_STYLE`, :data:`SUPPRESSED_STYLE`, ...
- :func:`cjk_font` / :func:`resolve_label_column` decide whether Chinese
  labels can be drawn and fall back to English names (with one warning)
  when they cannot.
"""
from __future__ import annotations

import logging
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

import matplotlib as mpl

# --------------------------------------------------------------------------
# Palettes
# --------------------------------------------------------------------------
#: Sequential colour map for choropleths of one-signed quantities (rates, shares).
SEQUENTIAL_CMAP = "YlGnBu"
#: Diverging colour map for values centred on a reference (below = brown, above = teal).
DIVERGING_CMAP = "BrBG"
#: Sequential map for uncertainty (interval widths): neutral purples, not to be
#: confused with the estimate's own palette.
UNCERTAINTY_CMAP = "Purples"
#: Qualitative colours for categories (colour-blind safe, Okabe & Ito 2008).
QUALITATIVE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
#: Accent colour for a reference line or the city value.
REFERENCE_COLOR = "#444444"

#: LISA cluster colours (GeoDa's convention, Anselin 2005).
LISA_COLORS: dict[str, str] = {
    "High-High": "#d7191c",
    "Low-Low": "#2c7bb6",
    "Low-High": "#abd9e9",
    "High-Low": "#fdae61",
    "Not significant": "#e6e6e6",
}

#: Units with no value: white with grey hatching, labelled "No data".
NO_DATA_STYLE: dict[str, Any] = {"facecolor": "#ffffff", "edgecolor": "#9a9a9a", "hatch": "////",
                                 "label": "No data"}
#: Units whose estimate is suppressed (too few respondents): grey with dots.
SUPPRESSED_STYLE: dict[str, Any] = {"facecolor": "#c8c8c8", "edgecolor": "#6e6e6e", "hatch": "...."}

#: Outline of the units being mapped (thin, white, so colours stay readable).
UNIT_EDGE: dict[str, Any] = {"edgecolor": "#ffffff", "linewidth": 0.25}
#: Outline of the level above drawn over the map (districts over communities).
UPPER_EDGE: dict[str, Any] = {"edgecolor": "#222222", "linewidth": 0.9}

#: Served / unserved areas on access maps.
SERVED_COLOR = "#1b9e77"
UNSERVED_COLOR = "#f2efe9"
POINT_COLOR = "#d95f02"

#: Text stamped on every figure made from the synthetic city.
SYNTHETIC = "Synthetic data"

#: Preferred Latin font first, then CJK fallbacks (matplotlib >= 3.6 falls back
#: glyph by glyph along this list).
FONT_FAMILY: tuple[str, ...] = (
    "DejaVu Sans",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Source Han Sans SC",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Arial Unicode MS",
)
#: The CJK entries of :data:`FONT_FAMILY`.
CJK_FONTS: tuple[str, ...] = FONT_FAMILY[1:]

#: Fixed metadata so saved files do not change between builds.
_FIXED_METADATA: dict[str, dict[str, Any]] = {
    "png": {"Software": None},
    "svg": {"Creator": None, "Date": None},
    "pdf": {"Creator": None, "Producer": None, "CreationDate": None, "ModDate": None},
}

PROJECT_RC: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": list(FONT_FAMILY),
    "font.size": 9.0,
    "axes.titlesize": 10.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9.0,
    "axes.edgecolor": "#555555",
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "axes.unicode_minus": False,  # a CJK font may lack U+2212
    "legend.fontsize": 8.0,
    "legend.title_fontsize": 8.5,
    "legend.frameon": False,
    "xtick.labelsize": 8.0,
    "ytick.labelsize": 8.0,
    "figure.dpi": 100,
    "figure.facecolor": "white",
    "figure.constrained_layout.use": True,  # makes room for legends outside the map
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "savefig.facecolor": "white",
    "hatch.linewidth": 0.6,
    "svg.hashsalt": "helpers-district-research",
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
    "image.cmap": "viridis",
}


def use_project_style() -> None:
    """Set matplotlib's rcParams to the project style (idempotent).

    Fonts: DejaVu Sans for Latin text with CJK fallbacks (:data:`CJK_FONTS`).
    Output: a fixed SVG hash salt; use :func:`save_figure` for files without
    timestamps.
    """
    mpl.rcParams.update(PROJECT_RC)
    # Glyph-by-glyph fallback needs the families listed in font.family itself
    # (a generic "sans-serif" resolves to one font); list only installed ones.
    cjk = cjk_font()
    mpl.rcParams["font.family"] = ["DejaVu Sans"] + ([cjk] if cjk else []) + ["sans-serif"]
    # CJK fonts such as WenQuanYi have no bold face; matplotlib logs that for every bold title.
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)


def save_figure(fig, path: str | Path, **kwargs) -> Path:
    """Save ``fig`` with fixed metadata (no creation date, no software version).

    Parameters
    ----------
    fig : matplotlib Figure
    path : file path; the format is taken from its suffix (png, svg, pdf).
    **kwargs : passed to :meth:`matplotlib.figure.Figure.savefig`.

    Returns
    -------
    Path of the written file.
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    kwargs.setdefault("metadata", _FIXED_METADATA.get(fmt))
    with mpl.rc_context({"svg.hashsalt": PROJECT_RC["svg.hashsalt"]}):
        fig.savefig(path, **kwargs)
    return path


def stamp_synthetic(target, text: str = SYNTHETIC, *, fontsize: float = 7.5):
    """Stamp "Synthetic data" in the lower-right corner of a figure.

    Parameters
    ----------
    target : matplotlib Figure or Axes (its figure is stamped).
    text : the label (default :data:`SYNTHETIC`).

    Returns
    -------
    The :class:`matplotlib.text.Text` artist (its gid is ``"synthetic-label"``).
    """
    fig = getattr(target, "figure", None) if not hasattr(target, "savefig") else target
    if fig is None:
        raise TypeError("stamp_synthetic needs a Figure or an Axes")
    for t in fig.texts:
        if t.get_gid() == "synthetic-label":
            t.set_text(text)
            return t
    return fig.text(0.995, 0.005, text, ha="right", va="bottom", fontsize=fontsize, color="#8a1c1c",
                     style="italic", gid="synthetic-label", alpha=0.9)


# --------------------------------------------------------------------------
# Fonts and labels
# --------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _installed_font_names() -> frozenset[str]:
    from matplotlib import font_manager

    return frozenset(f.name for f in font_manager.fontManager.ttflist)


def cjk_font() -> str | None:
    """Name of the first installed CJK font of :data:`CJK_FONTS`, or None."""
    names = _installed_font_names()
    for name in CJK_FONTS:
        if name in names:
            return name
    return None


_warned_no_cjk = False


def resolve_label_column(frame, lang: str = "en", *, en_col: str = "name_en", zh_col: str = "name_zh") -> str:
    """Column to label units with: English/pinyin by default, Chinese on request.

    If Chinese is asked for and no CJK font is installed, warn once per
    session (rather than draw empty boxes) and return the English column.

    Parameters
    ----------
    frame : the (Geo)DataFrame to be labelled.
    lang : ``"en"`` (English or pinyin) or ``"zh"`` (Chinese characters).
    en_col, zh_col : the name columns (schema: ``name_en``, ``name_zh``).

    Returns
    -------
    The column name to use.
    """
    global _warned_no_cjk
    if lang not in ("en", "zh"):
        raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
    if lang == "zh":
        if zh_col not in frame.columns:
            raise KeyError(f"no Chinese name column {zh_col!r}")
        if cjk_font() is not None:
            return zh_col
        if not _warned_no_cjk:
            warnings.warn(
                "Chinese labels were asked for but no CJK font is installed "
                f"(looked for: {', '.join(CJK_FONTS)}); using English names instead. "
                "Install one with tools/sysdeps.sh (fonts-wqy-microhei) or fonts-noto-cjk.",
                UserWarning, stacklevel=2,
            )
            _warned_no_cjk = True
    if en_col not in frame.columns:
        raise KeyError(f"no English name column {en_col!r}")
    return en_col
