"""Case on the default data: the maps and spatial statistics for the (synthetic) city.

Draws, from the shipped data folder:

1. ``access`` — served and unserved areas (1 km straight line from an open
   service point) in the last study year, districts drawn over communities;
2. ``access_years`` — small multiples of the share of residents covered by
   community, first, middle and last study year, with one set of breaks;
3. ``registration`` — the share of in-service party members registered in
   their residence community (last year): choropleth with "No data" where a
   community has no in-service members, and the LISA cluster map of the
   EB-standardised rates (FDR 5 %); ``registration_moran`` its Moran scatterplot;
4. ``awareness`` — residents aware of the service centre by sub-district
   (survey, all years pooled, unweighted; estimates resting on fewer than
   :data:`helpers.publish.disclosure.MIN_RESPONDENTS` respondents suppressed),
   on a diverging scale centred on the city value, with the companion map of
   the sub-districts whose 95 % interval excludes the city value;
5. ``districts_zh`` — districts labelled with their Chinese names.

Every figure is stamped "Synthetic data". Run
``python -m helpers.studies.cases.city --out DIR`` to write them as PNG.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from helpers.stats import access, spatial
from helpers.viz import maps, style
from helpers.publish.disclosure import suppress


def wilson_interval(x, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for x successes out of n (NaN where n = 0)."""
    x = np.asarray(x, dtype="float64")
    n = np.asarray(n, dtype="float64")
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
        den = 1 + z**2 / n
        mid = (p + z**2 / (2 * n)) / den
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / den
    return mid - half, mid + half


@dataclass
class CityCase:
    districts: gpd.GeoDataFrame
    subdistricts: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    access: access.AccessResult
    registration: gpd.GeoDataFrame
    weights: spatial.SpatialWeights
    moran: spatial.MoranResult
    local: spatial.LocalMoranResult
    awareness: gpd.GeoDataFrame
    city_awareness: float
    year: int
    awareness_years: tuple[int, int]  # first and last survey year pooled in ``awareness``


def run(data_dir=None, *, seed: int = 20240501, permutations: int = 999) -> CityCase:
    """Compute the case from the data folder (default the shipped data)."""
    from helpers.data import load

    period = load.study_period(data_dir)
    year = period.last
    districts = load.load_districts(data_dir)
    subdistricts = load.load_subdistricts(data_dir)
    com = load.load_communities(data_dir, with_geometry=True)
    points = load.load_service_points(data_dir)
    acc = access.service_coverage(com, points, years=sorted({period.first, (period.first + year) // 2, year}))

    members = load.load_members(data_dir)
    m = members[members["year"] == year][["community_id", "registered", "in_service_resident"]]
    reg = com[["community_id", "district_id", "name_en", "name_zh", "geometry"]].merge(m, on="community_id",
                                                                                       how="left")
    reg["share_registered"] = np.where(reg["in_service_resident"] > 0,
                                       reg["registered"] / reg["in_service_resident"].where(
                                           reg["in_service_resident"] > 0), np.nan)
    ok = reg[reg["in_service_resident"] > 0]
    w = spatial.weights(ok, "queen", id_col="community_id", islands="knn", components="connect")
    mor = spatial.moran_rate(ok, "registered", "in_service_resident", w, seed=seed, permutations=permutations)
    loc = spatial.local_moran_rate(ok, "registered", "in_service_resident", w, seed=seed,
                                   permutations=permutations)

    sv = load.load_survey(data_dir)
    sv = sv[sv["aware_center"].notna()]
    agg = sv.groupby("subdistrict_id").agg(n=("aware_center", "size"), aware=("aware_center", "sum")).reset_index()
    aw = subdistricts.merge(agg, on="subdistrict_id", how="left")
    aw["n"] = aw["n"].fillna(0).astype(int)
    aw["share_aware"] = np.where(aw["n"] > 0, aw["aware"] / aw["n"].where(aw["n"] > 0), np.nan)
    aw["lower"], aw["upper"] = wilson_interval(aw["aware"], aw["n"])
    aw = suppress(aw, n_col="n", value_cols=("share_aware", "lower", "upper"))
    aw.loc[aw["n"] == 0, "suppressed"] = False  # never sampled: "No data", not suppressed
    city = float(sv["aware_center"].mean())
    return CityCase(districts=districts, subdistricts=subdistricts, communities=com, access=acc, registration=reg,
                    weights=w, moran=mor, local=loc, awareness=gpd.GeoDataFrame(aw, geometry="geometry",
                                                                                crs=subdistricts.crs),
                    city_awareness=city, year=year,
                    awareness_years=(int(sv["year"].min()), int(sv["year"].max())))


def figures(case: CityCase) -> dict[str, plt.Figure]:
    """Draw the figures (see the module docstring)."""
    style.use_project_style()
    figs: dict[str, plt.Figure] = {}
    y = case.year

    fig, ax = plt.subplots(figsize=(8, 6.5))
    maps.access_map(case.access, y, ax=ax, overlay=case.districts, labels="en",
                    title=f"Residents within 1 km of an open service point, {y}", synthetic=True)
    figs["access"] = fig

    com = case.communities[["community_id", "geometry"]].merge(case.access.community, on="community_id")
    axes = maps.small_multiples(com, "share_covered", by="year", overlay=case.districts, scheme="user_defined",
                                bins=[0.25, 0.5, 0.75, 0.9, 0.99, 1.0], fmt="{:.0%}",
                                legend_title="Share of residents within 1 km\nof an open service point",
                                suptitle="Coverage by the 1 km service circle, by community", synthetic=True)
    figs["access_years"] = axes.flat[0].figure

    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(15, 5.6))
    maps.choropleth(case.registration, "share_registered", ax=ax0, overlay=case.districts, scheme="quantiles", k=5,
                    fmt="{:.0%}", legend_title="Registered in residence\ncommunity",
                    title=f"In-service members registered, {y}")
    maps.lisa_map(case.local, ax=ax1, overlay=case.districts, title="LISA clusters (EB-standardised rates)")
    style.stamp_synthetic(fig)
    figs["registration"] = fig

    fig, ax = plt.subplots(figsize=(5.2, 6.2))
    maps.moran_scatterplot(case.moran, local=case.local, ax=ax, xlabel="Registration rate, EB",
                           title=f"Moran scatterplot: registration, {y}")
    style.stamp_synthetic(fig)
    figs["registration_moran"] = fig

    fig, axs = plt.subplots(1, 2, figsize=(15, 5.6))
    maps.choropleth(case.awareness, "share_aware", ax=axs[0], suppressed="suppressed", center=case.city_awareness,
                    overlay=case.districts, scheme="quantiles", k=4, fmt="{:.0%}",
                    legend_title="Aware of the service centre",
                    title=f"Awareness by sub-district, {case.awareness_years[0]}-{case.awareness_years[1]} (unweighted)")
    maps.uncertainty_map(case.awareness, "lower", "upper", kind="excludes", reference=case.city_awareness,
                         ax=axs[1], overlay=case.districts, fmt="{:.0%}",
                         title="Does the 95% interval exclude the city value?")
    style.stamp_synthetic(fig)
    figs["awareness"] = fig

    fig, ax = plt.subplots(figsize=(7, 6))
    zones = {"core": "Urban core", "inner_suburb": "Inner suburb", "outer_county": "Outer county"}
    d = case.districts.assign(zone_label=case.districts["zone"].map(zones))
    maps.category_map(d, "zone_label", {"Urban core": style.QUALITATIVE[0], "Inner suburb": style.QUALITATIVE[4],
                                        "Outer county": style.QUALITATIVE[1]}, ax=ax, labels="zh", counts=True,
                      legend_title="Zone", title="Districts (区/县)", synthetic=True)
    figs["districts_zh"] = fig
    return figs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m helpers.studies.cases.city", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True, help="folder for the PNG figures")
    p.add_argument("--data", type=Path, default=None, help="data folder (default the shipped data)")
    p.add_argument("--seed", type=int, default=20240501)
    a = p.parse_args(argv)
    case = run(a.data, seed=a.seed)
    a.out.mkdir(parents=True, exist_ok=True)
    for name, fig in figures(case).items():
        style.save_figure(fig, a.out / f"city_{name}.png")
        plt.close(fig)
    print(case.access)
    print(case.moran)
    print(case.local)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
