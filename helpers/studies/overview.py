"""Computations of 00_data_overview: what a data folder holds, its places and the survey's sample.

* :func:`table_sizes` - every table of the data contract: present or not, rows, columns, years.
* :func:`district_summary` - each district's zone, sub-districts, communities, residents and area.
* :func:`gazetteer` - each sub-district with its names, kind and number of communities.
* :func:`survey_sample_sizes` - sampled residents, respondents and PSUs by district and year.
* :func:`bilingual` - place names in Chinese and pinyin, for map labels.
* :func:`core_window` and :func:`city_and_core` - a map of the whole city beside a second panel on
  the dense urban core, where units are too small to read at the city's scale.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.data import schema

__all__ = ["names_left_out", "table_sizes", "district_summary", "gazetteer", "survey_sample_sizes", "ZONE_LABELS", "KIND_LABELS",
           "label_zones", "label_kinds", "bilingual", "core_window", "city_and_core"]


def table_sizes(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per table of the data contract, present or not, in the contract's order.

    Parameters
    ----------
    tables : dict of table name -> frame, as returned by :func:`helpers.data.load.load_all` (absent
        optional tables are not in it).

    Returns
    -------
    DataFrame with columns ``table, file, required, present, rows, columns, first_year, last_year,
    description``: ``rows`` and ``columns`` (without the geometry) are missing for an absent table,
    ``first_year``/``last_year`` the span of the ``year`` column of a yearly table (missing for a
    table without one or without rows).
    """
    rows = []
    for name, spec in schema.TABLES.items():
        df = tables.get(name)
        first = last = np.nan
        if df is not None and "year" in df.columns and len(df):
            first, last = int(df["year"].min()), int(df["year"].max())
        rows.append({"table": name, "file": spec.file, "required": bool(spec.required), "present": df is not None,
                     "rows": np.nan if df is None else len(df),
                     "columns": np.nan if df is None else len([c for c in df.columns if c != "geometry"]),
                     "first_year": first, "last_year": last, "description": spec.description})
    out = pd.DataFrame(rows)
    for c in ("rows", "columns", "first_year", "last_year"):
        out[c] = out[c].astype("Int64")
    return out


def district_summary(districts, subdistricts, community_boundaries, communities: pd.DataFrame,
                     total: bool = False) -> pd.DataFrame:
    """One row per district: its names, zone, number of sub-districts (and of each kind), communities,
    residents and land area.

    Returns
    -------
    DataFrame ``district_id, name_zh, name_en, zone, subdistricts, streets, towns, townships,
    communities, population, area_km2``, in the order of ``districts``; with ``total=True`` a last row
    of sums (``district_id``, names and zone missing). ``area_km2`` is missing when the boundaries
    are not in a projected CRS (areas in degrees mean nothing).
    """
    d = pd.DataFrame(districts[["district_id", "name_zh", "name_en", "zone"]]).reset_index(drop=True)
    s = pd.DataFrame(subdistricts[["subdistrict_id", "district_id", "kind"]])
    kinds = s.pivot_table(index="district_id", columns="kind", values="subdistrict_id", aggfunc="count",
                          fill_value=0)
    kinds = kinds.reindex(columns=["street", "town", "township"], fill_value=0)
    kinds.columns = ["streets", "towns", "townships"]
    kinds["subdistricts"] = kinds.sum(axis=1)
    comm = pd.DataFrame(community_boundaries[["community_id", "district_id"]]).merge(
        pd.DataFrame(communities[["community_id", "population"]]), on="community_id", how="left")
    per = comm.groupby("district_id").agg(communities=("community_id", "size"), population=("population", "sum"))
    out = d.merge(kinds.reset_index(), on="district_id", how="left").merge(per.reset_index(), on="district_id",
                                                                          how="left")
    for c in ("subdistricts", "streets", "towns", "townships", "communities", "population"):
        out[c] = out[c].fillna(0).astype("int64")
    crs = getattr(districts, "crs", None)
    out["area_km2"] = (np.asarray(districts.geometry.area, float) / 1e6 if crs is not None and crs.is_projected
                       else np.nan)
    out = out[["district_id", "name_zh", "name_en", "zone", "subdistricts", "streets", "towns", "townships",
               "communities", "population", "area_km2"]]
    if total:
        sums = out.drop(columns=["district_id", "name_zh", "name_en", "zone"]).sum(min_count=1)
        out = pd.concat([out, sums.to_frame().T], ignore_index=True)
        for c in ("subdistricts", "streets", "towns", "townships", "communities", "population"):
            out[c] = out[c].astype("int64")
        out["area_km2"] = out["area_km2"].astype("float64")
    return out


def gazetteer(subdistricts, community_boundaries) -> pd.DataFrame:
    """One row per sub-district: ``district_id, subdistrict_id, name_zh, name_en, kind, communities``,
    sorted by district and sub-district."""
    s = pd.DataFrame(subdistricts[["district_id", "subdistrict_id", "name_zh", "name_en", "kind"]])
    n = pd.DataFrame(community_boundaries[["community_id", "subdistrict_id"]]).groupby("subdistrict_id").size()
    out = s.assign(communities=s["subdistrict_id"].map(n).fillna(0).astype("int64"))
    return out.sort_values(["district_id", "subdistrict_id"], kind="stable").reset_index(drop=True)


def survey_sample_sizes(survey: pd.DataFrame, districts: pd.DataFrame | None = None,
                        by: tuple[str, str] = ("district_id", "year")) -> pd.DataFrame:
    """Respondents, sampled residents, response rate and PSUs by district and year.

    Parameters
    ----------
    survey : the survey table *including* nonrespondents (``load_table("survey")``).
    districts : optional districts table, to add ``name_en`` and ``name_zh``.
    by : grouping columns.

    Returns
    -------
    Tidy DataFrame: the ``by`` columns, (``name_en, name_zh``,) ``sampled, respondents, response_rate,
    psus`` (communities sampled).
    """
    by = list(by)
    g = survey.groupby(by, observed=True)
    out = pd.DataFrame({
        "sampled": g.size(),
        "respondents": g["responded"].sum(),
        "psus": g["community_id"].nunique(),
    }).reset_index()
    out["response_rate"] = out["respondents"] / out["sampled"]
    if districts is not None and "district_id" in by:
        names = pd.DataFrame(districts)[["district_id", "name_en", "name_zh"]]
        out = out.merge(names, on="district_id", how="left")
        out = out[[*by, "name_en", "name_zh", "sampled", "respondents", "response_rate", "psus"]]
    return out


#: Readable names of the districts' zones, in legend order.
ZONE_LABELS: dict[str, str] = {"core": "Urban core", "inner_suburb": "Inner suburb", "outer_county": "Outer county"}
#: Readable names of the kinds of sub-district, in legend order.
KIND_LABELS: dict[str, str] = {"street": "Sub-district (街道)", "town": "Town (镇)", "township": "Township (乡)"}


def label_zones(districts: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """A copy of ``districts`` with readable zone names, and the zone colours for a legend.

    Returns
    -------
    (frame, colours): ``colours`` maps each readable zone name present to its colour, in legend order.
    """
    from helpers.viz import style

    present = set(districts["zone"])
    colours = {lab: c for (z, lab), c in zip(ZONE_LABELS.items(), style.QUALITATIVE[:3]) if z in present}
    return districts.assign(zone=districts["zone"].map(ZONE_LABELS)), colours


def label_kinds(subdistricts: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """A copy of ``subdistricts`` with readable kinds (``kind``), and the kind colours for a legend.

    Returns
    -------
    (frame, colours): ``colours`` maps each readable kind present to a light colour, in legend order.
    """
    present = set(subdistricts["kind"])
    colours = {lab: c for (k, lab), c in zip(KIND_LABELS.items(), ("#cfe3f1", "#f6e2b3", "#d4ecd9")) if k in present}
    return subdistricts.assign(kind=subdistricts["kind"].map(KIND_LABELS)), colours


_GENERIC = (" Subdistrict", " Sub-district", " District", " County", " Township", " Town", " Community", " Village")


def bilingual(frame: pd.DataFrame, en: str = "name_en", zh: str = "name_zh", sep: str = "\n") -> pd.Series:
    """Both names of each place: the Chinese name, ``sep``, then the pinyin name without its generic
    word (``"东城区\\nDongcheng"`` from 东城区 / Dongcheng District). A name without a Chinese form, or any
    name when no CJK font is installed (:func:`helpers.viz.style.cjk_font`), keeps the pinyin alone."""
    from helpers.viz import style

    def short(name) -> str:
        s = str(name)
        for g in _GENERIC:
            if s.endswith(g) and len(s) > len(g):
                return s[: -len(g)]
        return s

    has_zh = zh in frame.columns and style.cjk_font() is not None
    zh_ = frame[zh].fillna("").astype(str) if has_zh else pd.Series("", index=frame.index)
    en_ = frame[en].map(short)
    return pd.Series([f"{a}{sep}{b}" if a else b for a, b in zip(zh_, en_)], index=frame.index, dtype=object)


def core_window(districts, units=None, zone: str = "core", pad: float = 0.03, overlap: float = 0.25,
                max_share: float = 0.5):
    """The panel on the dense urban core: the bounds ``(xmin, ymin, xmax, ymax)`` of the districts of
    ``zone``, grown to hold whole every unit of ``units`` (e.g. sub-districts) of which at least
    ``overlap`` of the area lies inside them, and widened by ``pad`` of their size on each side.

    Returns
    -------
    ``(window, labelled)``: the panel's bounds, and the bounds within which a unit's label is written
    on the panel rather than on the city map (the panel less a margin of 5%, so that no
    label is cut at its edge); None when no district is of that zone or the panel would cover more
    than ``max_share`` of the city's extent (it would then show nothing new).
    """
    sel = districts[districts["zone"] == zone]
    if sel.empty:
        return None
    x0, y0, x1, y1 = (float(v) for v in sel.total_bounds)
    if units is not None and len(units):
        from shapely.geometry import box

        area = np.asarray(units.geometry.area, float)
        share = np.asarray(units.geometry.intersection(box(x0, y0, x1, y1)).area, float) / np.maximum(area, 1e-12)
        inside = share >= overlap
        if inside.any():
            ux0, uy0, ux1, uy1 = (float(v) for v in units[inside].total_bounds)
            x0, y0, x1, y1 = min(x0, ux0), min(y0, uy0), max(x1, ux1), max(y1, uy1)
    dx, dy = (x1 - x0) * pad, (y1 - y0) * pad
    win = (x0 - dx, y0 - dy, x1 + dx, y1 + dy)
    X0, Y0, X1, Y1 = (float(v) for v in districts.total_bounds)
    city = max((X1 - X0) * (Y1 - Y0), 1e-9)
    if (win[2] - win[0]) * (win[3] - win[1]) > max_share * city:
        return None
    mx, my = 0.05 * (win[2] - win[0]), 0.05 * (win[3] - win[1])
    return win, (win[0] + mx, win[1] + my, win[2] - mx, win[3] - my)


def city_and_core(frame, column: str, colors: dict[str, str], *, overlay, window, labels=None, core_labels=None,
                  inner_lines=None, legend_title: str, titles=("The city", "The urban core (dashed box)"),
                  synthetic: bool = False, figsize=(13.0, 6.2), label_margin: float = 0.08):
    """A categorical map of the whole city beside a second panel on ``window`` (see :func:`core_window`),
    both drawn with :func:`helpers.viz.maps.category_map`, with one legend.

    Parameters
    ----------
    frame, column, colors : the units, their category column and the category colours.
    overlay : boundaries of the level above, drawn thick.
    window : :func:`core_window`: the second panel's bounds (outlined on the first) and the core's
        bounds (units whose representative point lies in it are labelled on the second panel only),
        or None for the city panel alone.
    labels, core_labels : frames whose ``name_en`` column holds the label of each unit on the city
        and on the core panel (e.g. :func:`bilingual` names), or None.
    inner_lines : boundaries of a level below (e.g. sub-districts on a district map), drawn thin.
    legend_title : heading of the legend.
    label_margin : room around the city on its panel, as a share of its extent, for the callouts of
        units too small to hold their names (:func:`helpers.viz.maps.category_map`).

    Returns
    -------
    The matplotlib figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from helpers.viz import maps, style

    panels = 1 if window is None else 2
    window, core = (None, None) if window is None else window
    fig, axes = plt.subplots(1, panels, figsize=figsize if panels == 2 else (figsize[0] * 0.55, figsize[1]),
                             layout="constrained")
    axes = np.atleast_1d(axes)

    def in_core(units):  # units whose point lies in the core: named on the core panel only
        return np.array([p is not None and not p.is_empty and _inside(p, core)
                         for p in units.geometry.representative_point()], dtype=bool)

    split = labels is not None and core is not None and core_labels is not None
    for i, ax in enumerate(axes):
        last = i == panels - 1
        if i == 0:
            units, over, inner, named = frame, overlay, inner_lines, labels
        else:  # the core panel: its units cut at the window, with room around it for the callouts of small units
            from shapely.geometry import box

            cut = box(*window)
            units, over = _clip(frame, cut), _clip(overlay, cut)
            inner, named = _clip(inner_lines, cut), _clip(core_labels if core_labels is not None else labels, cut)
        maps.category_map(units, column, colors, ax=ax, overlay=over, legend_title=legend_title,
                          title=titles[i] if panels == 2 else None, scale_bar=False, north_arrow=i == 0,
                          label_margin=label_margin if i == 0 else 2 * label_margin)
        if not last:
            city_legend = [t.get_text() for t in ax.get_legend().get_texts()]
            ax.get_legend().remove()
        elif i == 1:  # the legend counts the city's units, not those cut at the window
            texts = ax.get_legend().get_texts()
            if len(texts) == len(city_legend):
                for t, text in zip(texts, city_legend):
                    t.set_text(text)
        if inner is not None:
            inner.boundary.plot(ax=ax, color="white", linewidth=0.5, zorder=3)
        if i == 1:
            x0, y0, x1, y1 = window
            ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, lw=1.0, ls="--",
                                   edgecolor=style.REFERENCE_COLOR, zorder=8))
        maps.add_scale_bar(ax, frame.crs, loc=(0.04, 0.04) if i == 0 else (0.74, 0.03))
        if i == 0:  # units whose point lies in the core are named on the core panel when it has its own labels
            _labels(ax, named, fontsize=6.0, unnamed=in_core(labels) if split and named is not None else None)
        elif named is not None:
            _labels(ax, named, fontsize=6.0,
                    unnamed=~in_core(core_labels)[named["_row"].to_numpy()] if split else None)
    if panels == 2:
        x0, y0, x1, y1 = window
        axes[0].add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, lw=1.0, ls="--",
                                    edgecolor=style.REFERENCE_COLOR, zorder=8))
    if synthetic:
        style.stamp_synthetic(fig)
    return fig


def _inside(p, b) -> bool:
    return b[0] <= p.x <= b[2] and b[1] <= p.y <= b[3]


def names_left_out(fig, dpi: float = 110) -> tuple[int, int]:
    """How many unit names a map of :func:`city_and_core` leaves out because they fit neither inside
    their unit nor in a free place with a leader, when drawn as a report saves it (PNG at ``dpi``,
    tight bounding box: labels are placed at draw time).

    Returns
    -------
    (int, int)
        The names left out and the names the map tries to write.
    """
    import io

    from helpers.viz.labels import MapLabel

    fig.savefig(io.BytesIO(), format="png", dpi=dpi, bbox_inches="tight")
    labels = [t for ax in fig.axes for t in ax.texts if isinstance(t, MapLabel) and t.get_gid() == "unit-label"]
    return sum(bool(t.dropped) for t in labels), len(labels)


def _clip(frame, cut):
    """The units of ``frame`` that meet the polygon ``cut``, cut at it, with their row number in
    ``frame`` (``_row``); None stays None."""
    if frame is None:
        return None
    out = frame.assign(_row=np.arange(len(frame)))
    out = out[out.geometry.intersects(cut)].copy()
    out["geometry"] = out.geometry.intersection(cut)
    return out[~out.geometry.is_empty]


def _labels(ax, frame, fontsize: float = 6.5, unnamed=None):
    """Name each unit of ``frame`` (its ``name_en``) inside its own polygon, else by a callout with a
    leader into it, else not at all (:func:`helpers.viz.labels.place_labels` with ``regions``: no two
    labels overlap and none lies on a unit). Units flagged in the boolean array ``unnamed`` (one per
    row of ``frame``: named on another panel) are not named here but still count as land: no callout
    is placed on them (their labels are hidden, with the gid ``"unit-unnamed"``).

    Returns
    -------
    The :class:`helpers.viz.labels.LabelResolver` (its ``n_dropped`` counts the names left out at the
    last draw), or None when there is nothing to name.
    """
    if frame is None or not len(frame):
        return None
    from helpers.viz.labels import place_labels

    skip = np.zeros(len(frame), bool) if unnamed is None else np.asarray(unnamed, dtype=bool)
    geoms = frame.geometry
    ok = geoms.notna().to_numpy() & ~geoms.is_empty.to_numpy()
    f, skip = frame[ok], skip[ok]
    named = ~skip & f["name_en"].notna().to_numpy()
    if not named.any():
        return None
    pts = f.geometry.representative_point()
    regions = list(f.geometry.to_numpy())
    res = place_labels(ax, pts.x.to_numpy(), pts.y.to_numpy(),
                       [str(t) if pd.notna(t) else "?" for t in f["name_en"]],
                       priority=np.where(named, np.asarray(f.geometry.area, float), -np.inf), fontsize=fontsize,
                       regions=regions)
    hidden = {id(r) for r, k in zip(regions, named) if not k}
    for lab in res.labels:
        if id(lab.region) in hidden:
            lab.set_visible(False)
            lab.set_gid("unit-unnamed")
    return res
