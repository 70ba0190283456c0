"""Case on real data: sudden infant death syndrome in North Carolina's 100 counties.

The SIDS data (Cressie & Read 1985; Cressie 1993, ch. 6) ship with libpysal,
so this case needs no network and runs on real, published data. It
exercises the map and spatial helpers end to end:

1. crude rates (SIDS deaths per 1,000 live births, 1974-78) and global
   empirical-Bayes smoothed rates (Marshall 1991), mapped side by side with
   shared breaks: the extreme crude rates of small counties shrink;
2. the smoothed rate on a diverging scale centred on the state rate;
3. a funnel plot of the counties (:func:`helpers.stats.compare.funnel_proportion`,
   exact binomial limits, Spiegelhalter 2005);
4. Moran's I for rates with the Assunção-Reis EB standardisation, the
   Moran scatterplot and the LISA cluster map (FDR 5 %).

Run ``python -m helpers.studies.cases.sids --out DIR`` to write the figures as PNG.

References: Cressie, N. & Read, T. R. C. (1985). Do sudden infant deaths come
in clusters? *Statistics and Decisions* Suppl. 2, 333-349. Marshall, R. J.
(1991). Mapping disease and mortality rates using empirical Bayes
estimators. *Applied Statistics* 40(2), 283-294.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
from esda.smoothing import Empirical_Bayes

from helpers.viz import maps, style
from helpers.stats import spatial

#: NAD83 / North Carolina (metres): the projected CRS for maps and distances.
NC_CRS = "EPSG:32119"
PER = 1000.0  # rates per 1,000 live births


def load_sids() -> gpd.GeoDataFrame:
    """The 100 North Carolina counties with births and SIDS deaths (libpysal's ``sids2``).

    Returns
    -------
    GeoDataFrame in :data:`NC_CRS` (the shapefile carries no CRS; its
    coordinates are NAD27 longitude/latitude) with ``name_en`` = county name.
    """
    from libpysal import examples

    g = gpd.read_file(examples.get_path("sids2.shp"))
    g = g.set_crs("EPSG:4267").to_crs(NC_CRS)
    g["name_en"] = g["NAME"].astype(str)
    return g


@dataclass
class SidsCase:
    """Results of the SIDS case (see the module docstring)."""

    frame: gpd.GeoDataFrame
    state_rate: float
    weights: spatial.SpatialWeights
    moran_rate: spatial.MoranResult
    moran_crude: spatial.MoranResult
    local: spatial.LocalMoranResult
    funnel: object
    period: str


def run(*, seed: int = 20240501, permutations: int = 999, period: str = "74") -> SidsCase:
    """Compute the case: crude and EB rates, funnel limits, Moran's I and LISA.

    Parameters
    ----------
    seed : seed of the permutation tests.
    permutations : permutations (at least 999).
    period : ``"74"`` (1974-78) or ``"79"`` (1979-84).
    """
    from helpers.stats.compare import funnel_proportion

    g = load_sids()
    e, b = f"SID{period}", f"BIR{period}"
    events = g[e].to_numpy(dtype="float64")
    births = g[b].to_numpy(dtype="float64")
    g["crude_rate"] = events / births * PER
    g["eb_rate"] = np.asarray(Empirical_Bayes(events, births).r).ravel() * PER
    state = float(events.sum() / births.sum() * PER)
    w = spatial.weights(g, "queen", id_col="FIPS")
    m_rate = spatial.moran_rate(g, e, b, w, seed=seed, permutations=permutations)
    m_crude = spatial.moran(g, "crude_rate", w, seed=seed, permutations=permutations)
    local = spatial.local_moran_rate(g, e, b, w, seed=seed, permutations=permutations)
    funnel = funnel_proportion(g, e, b, "NAME", scale=PER)
    return SidsCase(frame=g, state_rate=state, weights=w, moran_rate=m_rate, moran_crude=m_crude, local=local,
                    funnel=funnel, period=period)


def figures(case: SidsCase) -> dict[str, plt.Figure]:
    """Draw the case's figures: ``rates``, ``diverging``, ``funnel``, ``lisa``."""
    style.use_project_style()
    g = case.frame
    years = "1974–78" if case.period == "74" else "1979–84"
    figs: dict[str, plt.Figure] = {}

    axes = maps.small_multiples(
        g, columns=["crude_rate", "eb_rate"], ncols=1, panel_size=6.5, scheme="quantiles", k=5,
        panel_titles=["Crude rate", "Empirical-Bayes smoothed rate"],
        legend_title=f"SIDS deaths per 1,000 births, {years}",
        suptitle="North Carolina: crude and smoothed SIDS rates share one scale", units_name="counties")
    figs["rates"] = axes.flat[0].figure

    fig, ax = plt.subplots(figsize=(9.5, 3.6))
    maps.choropleth(g, "eb_rate", ax=ax, center=case.state_rate, scheme="fisher_jenks", k=6, units_name="counties",
                    legend_title="EB-smoothed SIDS rate\nper 1,000 births",
                    title=f"Above and below the state rate ({case.state_rate:.2f} per 1,000), {years}")
    figs["diverging"] = fig

    fig, ax = plt.subplots(figsize=(7, 4.6))
    case.funnel.plot(ax=ax, xlabel="Live births", ylabel="SIDS deaths per 1,000 births",
                     title=f"Funnel plot of county SIDS rates, {years}")
    figs["funnel"] = fig

    fig = plt.figure(figsize=(12, 4.6))
    gs = fig.add_gridspec(1, 2, width_ratios=[2.2, 1])
    ax0, ax1 = fig.add_subplot(gs[0]), fig.add_subplot(gs[1])
    maps.lisa_map(case.local, ax=ax0, title=f"Local clusters of EB-standardised SIDS rates, {years}",
                  units_name="counties")
    maps.moran_scatterplot(case.moran_rate, local=case.local, ax=ax1, xlabel="SIDS rate, EB",
                           title="Moran scatterplot (EB-standardised rates)")
    figs["lisa"] = fig
    return figs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m helpers.studies.cases.sids", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True, help="folder for the PNG figures")
    p.add_argument("--seed", type=int, default=20240501)
    a = p.parse_args(argv)
    case = run(seed=a.seed)
    a.out.mkdir(parents=True, exist_ok=True)
    for name, fig in figures(case).items():
        style.save_figure(fig, a.out / f"sids_{name}.png")
        plt.close(fig)
    print(f"Moran's I (EB rates) = {case.moran_rate.I:.3f}, p = {case.moran_rate.p_sim:.3f}; "
          f"LISA clusters: {dict(case.local.counts)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
