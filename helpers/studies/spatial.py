"""Glue for 05_spatial: the three outcome families on the map, and their spatial autocorrelation.

* :func:`community_rates` - one row per community (polygon) with the counts of the two
  administrative rates of a year: organisational coverage (covered / active eligible
  organisations) and in-service member registration (registered / in-service members
  resident), plus their empirical-Bayes (beta-binomial) smoothed values;
  :func:`subdistrict_rates` sums them to sub-districts.
* :func:`within_district` - a rate's departure from its district's pooled rate (clustering net of
  district effects); :func:`build_weights` - queen weights with islands linked, quietly (the
  notebook reports them with :func:`weights_table` and :func:`islands_table`).
* :func:`subdistrict_satisfaction` - design-based sub-district means of a survey item,
  pooling the yearly samples, with Fay-Herriot shrinkage and disclosure suppression.
* :func:`moran_table` / :func:`moran_verdict` - global Moran's I results side by side
  (I, its expectation, the central 95 % of the permutation distribution, pseudo p) and the
  verdict on the claim "positive spatial autocorrelation"; :func:`claim_sentence` states it.
* :func:`true_registration` / :func:`cluster_truth` - the planted truth of the synthetic
  city (true registration probabilities) lined up with the estimates and LISA clusters.
"""
from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from helpers.publish.disclosure import MIN_RESPONDENTS

__all__ = ["community_rates", "subdistrict_rates", "within_district", "build_weights",
           "registration_truth", "truth_report", "TruthCheck", "subdistrict_satisfaction", "moran_table",
           "moran_verdict", "claim_sentence",
           "true_registration", "cluster_truth", "lisa_table", "clusters_by_district", "cluster_members",
           "weights_table", "islands_table"]


def community_rates(boundaries: gpd.GeoDataFrame, members: pd.DataFrame, organisations: pd.DataFrame,
                    year: int) -> gpd.GeoDataFrame:
    """Community polygons with the year's coverage and registration counts and rates.

    Parameters
    ----------
    boundaries : community boundaries (``community_id, subdistrict_id, district_id, name_en,
        name_zh, geometry``).
    members : the members table (community x year counts).
    organisations : the organisations table; active and covered as
        :func:`helpers.data.concepts.organisation_years` defines them.
    year : the study year.

    Returns
    -------
    GeoDataFrame, one row per community: the boundary columns, ``registered,
    in_service_resident, covered, active`` (counts), ``registration_rate`` and
    ``coverage_rate`` (shares 0-1, NaN when the denominator is 0) and
    ``registration_eb``, ``coverage_eb`` (beta-binomial empirical-Bayes posterior means,
    one prior for the city; :func:`helpers.stats.smallarea.eb_beta_binomial`; NaN when the
    denominator is 0).
    """
    from helpers.data import concepts
    from helpers.stats.smallarea import eb_beta_binomial

    b = boundaries[["community_id", "subdistrict_id", "district_id", "name_en", "name_zh", "geometry"]]
    m = members.loc[members["year"] == year, ["community_id", "registered", "in_service_resident"]]
    lookup = concepts.community_lookup({"community_boundaries": b})
    cov = concepts.coverage_panel(concepts.organisation_years(organisations, lookup, [year]), lookup,
                                  "community_id")[["community_id", "active", "covered"]]
    out = b.merge(m, on="community_id", how="left", validate="one_to_one")
    out = out.merge(cov, on="community_id", how="left", validate="one_to_one")
    for c in ("registered", "in_service_resident", "active", "covered"):
        out[c] = pd.to_numeric(out[c]).fillna(0).astype("int64")
    for name, num, den in (("registration", "registered", "in_service_resident"),
                           ("coverage", "covered", "active")):
        ok = out[den] > 0
        rate = np.full(len(out), np.nan)
        rate[ok.to_numpy()] = out.loc[ok, num].to_numpy(float) / out.loc[ok, den].to_numpy(float)
        out[f"{name}_rate"] = rate
        eb = eb_beta_binomial(pd.DataFrame(out.loc[ok, [num, den]]), num, den)
        smooth = np.full(len(out), np.nan)
        smooth[ok.to_numpy()] = eb["eb_rate"].to_numpy()
        out[f"{name}_eb"] = smooth
    return gpd.GeoDataFrame(out, geometry="geometry", crs=boundaries.crs)


def subdistrict_rates(communities: gpd.GeoDataFrame, subdistricts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The counts of :func:`community_rates` summed to sub-districts, with rates and EB-smoothed rates.

    Returns
    -------
    GeoDataFrame of the sub-districts (``subdistrict_id, district_id, name_en, name_zh``,
    geometry) with ``registered, in_service_resident, covered, active``, the rates
    ``registration_rate, coverage_rate`` (summed numerator over summed denominator) and
    ``registration_eb, coverage_eb`` (beta-binomial EB over sub-districts).
    """
    from helpers.stats.smallarea import eb_beta_binomial

    cols = ["registered", "in_service_resident", "covered", "active"]
    sums = pd.DataFrame(communities[["subdistrict_id", *cols]]).groupby("subdistrict_id")[cols].sum().reset_index()
    out = subdistricts[["subdistrict_id", "district_id", "name_en", "name_zh", "geometry"]].merge(
        sums, on="subdistrict_id", how="left", validate="one_to_one")
    for c in cols:
        out[c] = pd.to_numeric(out[c]).fillna(0).astype("int64")
    for name, num, den in (("registration", "registered", "in_service_resident"),
                           ("coverage", "covered", "active")):
        ok = (out[den] > 0).to_numpy()
        rate = np.full(len(out), np.nan)
        rate[ok] = out.loc[ok, num].to_numpy(float) / out.loc[ok, den].to_numpy(float)
        out[f"{name}_rate"] = rate
        smooth = np.full(len(out), np.nan)
        smooth[ok] = eb_beta_binomial(pd.DataFrame(out.loc[ok, [num, den]]), num, den)["eb_rate"].to_numpy()
        out[f"{name}_eb"] = smooth
    return gpd.GeoDataFrame(out, geometry="geometry", crs=subdistricts.crs)


def within_district(gdf: pd.DataFrame, numerator: str, denominator: str, by: str = "district_id") -> pd.Series:
    """Each unit's rate minus its district's pooled rate (``sum numerator / sum denominator``).

    Moran's I of these departures measures clustering *inside* districts, net of the
    differences between whole districts (district effects), which contiguity would otherwise
    also pick up. Units with a zero denominator get NaN.
    """
    num = pd.to_numeric(gdf[numerator]).astype(float)
    den = pd.to_numeric(gdf[denominator]).astype(float)
    pooled = num.groupby(gdf[by]).transform("sum") / den.groupby(gdf[by]).transform("sum")
    return (num / den.where(den > 0)) - pooled


def build_weights(gdf: gpd.GeoDataFrame, id_col: str):
    """Queen weights with islands linked to their nearest unit and detached groups connected.

    :func:`helpers.stats.spatial.weights` with ``islands="knn", components="connect"``; its
    warnings (which name every island) are silenced here because the notebook reports
    them in prose through :func:`weights_note`.
    """
    import warnings

    from helpers.stats import spatial

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", spatial.SpatialWeightsWarning)
        return spatial.weights(gdf, "queen", id_col=id_col, islands="knn", components="connect")




def subdistrict_satisfaction(survey: pd.DataFrame, subdistricts: gpd.GeoDataFrame, variable: str = "sat_score",
                             k: int = MIN_RESPONDENTS) -> gpd.GeoDataFrame:
    """Sub-district means of a survey item, all yearly samples pooled, direct and shrunken.

    The yearly samples are pooled as one stratified cluster sample with strata district x
    year and PSUs the sampled communities (each year's weights represent the city's
    population, so every year counts about equally). Sub-districts are domains of that
    design (:class:`helpers.stats.survey.SurveyDesign`). The direct means of sub-districts with at
    least ``k`` respondents are then shrunk towards the city mean by a Fay-Herriot model
    without covariates (:func:`helpers.stats.smallarea.fay_herriot`, REML): noisy sub-districts
    move most.

    Returns
    -------
    GeoDataFrame of all sub-districts: ``subdistrict_id, district_id, name_en, name_zh,
    n`` (respondents with the item), ``estimate, se, ci_low, ci_high`` (direct, design-based;
    normal 95 % intervals, since a sub-district met by one sampled community per year has no
    design degrees of freedom of its own),
    ``eblup, eblup_low, eblup_high`` (Fay-Herriot), ``gamma`` (weight on the direct
    estimate), ``suppressed`` (1 <= n < k: values blanked), ``single_psu`` (all respondents in
    one sampled community-year: the design gives no standard error, so values are blanked
    and drawn as "No data") and the geometry. Sub-districts without respondents have
    ``n = 0`` and NaN values (drawn as "No data").
    """
    from helpers.data.concepts import resident_survey_design
    from helpers.stats.smallarea import fay_herriot

    d = resident_survey_design(survey, dropna_weight=True)
    est = d.mean(variable, by="subdistrict_id", ci_df=np.inf)
    est = est[["subdistrict_id", "n", "estimate", "se", "ci_low", "ci_high"]]
    ok = est[(est["n"] >= k) & (est["se"] > 0)]
    fh = fay_herriot(ok, "estimate", "se", unit="subdistrict_id").table
    fh = fh.rename(columns={"ci_low": "eblup_low", "ci_high": "eblup_high"})
    est = est.merge(fh[["subdistrict_id", "eblup", "eblup_low", "eblup_high", "gamma"]], on="subdistrict_id",
                    how="left")
    out = subdistricts[["subdistrict_id", "district_id", "name_en", "name_zh", "geometry"]].merge(
        est, on="subdistrict_id", how="left", validate="one_to_one")
    out["n"] = pd.to_numeric(out["n"]).fillna(0).astype("int64")
    out["suppressed"] = (out["n"] > 0) & (out["n"] < k)
    out["single_psu"] = (out["n"] >= k) & ~(out["se"] > 0)
    vals = ["estimate", "se", "ci_low", "ci_high", "eblup", "eblup_low", "eblup_high", "gamma"]
    out.loc[out["suppressed"] | out["single_psu"], vals] = np.nan
    return gpd.GeoDataFrame(out, geometry="geometry", crs=subdistricts.crs)


def moran_table(results: dict) -> pd.DataFrame:
    """Global Moran's I results side by side, one row per labelled :class:`~helpers.stats.spatial.MoranResult`.

    Columns: ``measure, method`` ("raw" or "EB rate"), ``units`` (n), ``I``, ``E[I]``
    (-1/(n-1)), ``null_low, null_high`` (2.5 % and 97.5 % points of the permutation
    distribution of I under spatial randomness), ``z_sim``, ``p_sim`` (one-sided pseudo
    p-value, (extreme + 1)/(permutations + 1)), ``permutations`` and ``verdict``
    (:func:`moran_verdict`).
    """
    rows = []
    for label, m in results.items():
        sim = np.asarray(m.esda.sim, dtype=float)
        rows.append({"measure": label, "method": "EB rate" if m.method == "eb_rate" else "raw", "units": m.n,
                     "I": m.I, "E[I]": m.EI, "null_low": float(np.quantile(sim, 0.025)),
                     "null_high": float(np.quantile(sim, 0.975)), "z_sim": m.z_sim, "p_sim": m.p_sim,
                     "permutations": m.permutations, "verdict": moran_verdict(m)})
    return pd.DataFrame(rows)


def claim_sentence(row: pd.Series, claim: str, supported: str = "", otherwise: str = ""):
    """Markdown stating a claim of positive autocorrelation with its evidence and verdict.

    ``row`` is a row of :func:`moran_table`; ``supported`` / ``otherwise`` is an optional
    clause of interpretation added after the verdict.
    """
    from helpers.publish import report

    tail = supported if row["verdict"] == "supported" else otherwise
    return report.md("**{claim}** Moran's I = **{i:.3f}** against **{lo:.3f}** to **{hi:.3f}** expected under spatial "
                     "randomness (central 95% of **{p}** permutations), pseudo p = **{ps:.3f}**. Verdict: "
                     "**{v}**{tail}.", claim=claim.replace("'", "\u2019"), i=row["I"], lo=row["null_low"],
                     hi=row["null_high"],
                     p=int(row["permutations"]), ps=row["p_sim"], v=row["verdict"],
                     tail=(": " + tail) if tail else "")


def moran_verdict(m, alpha: float = 0.05) -> str:
    """Verdict on "positive spatial autocorrelation" from a permutation test.

    ``"supported"`` when I exceeds its expectation and the pseudo p-value is at most
    ``alpha``; ``"contradicted"`` when I is significantly below it; else ``"inconclusive"``.
    (esda's ``p_sim`` is one-sided in the direction of the observed I.)
    """
    if m.p_sim <= alpha:
        return "supported" if m.I > m.EI else "contradicted"
    return "inconclusive"


def true_registration(data_dir=None, year: int | None = None) -> pd.DataFrame | None:
    """The planted registration probabilities (``community_id, p_registered``) of ``year``; ``None``
    for real data (:func:`helpers.data.truth.truth_registration`)."""
    from helpers.data.truth import truth_registration

    t = truth_registration(data_dir)
    if t is None:
        return None
    if year is not None:
        t = t[t["year"] == year]
    return t[["community_id", "p_registered"]].reset_index(drop=True)


@dataclass
class TruthCheck:
    """The planted registration truth lined up with the spatial estimates (see :func:`registration_truth`)."""

    moran_true: object  # MoranResult of the planted probabilities on the same weights
    moran_true_within: object  # the same for the planted probabilities minus their district's mean
    clusters: pd.DataFrame  # cluster_truth()
    year: int


def registration_truth(data_dir, year: int, units: pd.DataFrame, w, local, city_rate: float, *, seed: int,
                       permutations: int = 999) -> TruthCheck | None:
    """Moran's I of the planted registration probabilities and their means by LISA cluster.

    ``units`` and ``w`` are the frame and weights of the observed analysis, ``local`` its
    LISA result. Returns ``None`` for real data (no planted truth).
    """
    from helpers.stats import spatial

    truth = true_registration(data_dir, year)
    if truth is None:
        return None
    t = pd.DataFrame(units[["community_id", "district_id", "in_service_resident"]]).merge(
        truth, on="community_id", how="left", validate="one_to_one")
    m = spatial.moran(t, "p_registered", w, seed=seed, permutations=permutations)
    # district mean of the planted probabilities, weighted by members as the observed district rate is
    t["_e"] = t["p_registered"] * t["in_service_resident"]
    t["p_within"] = t["p_registered"] - (t.groupby("district_id")["_e"].transform("sum")
                                         / t.groupby("district_id")["in_service_resident"].transform("sum"))
    mw = spatial.moran(t, "p_within", w, seed=seed, permutations=permutations)
    return TruthCheck(moran_true=m, moran_true_within=mw, clusters=cluster_truth(local, truth, city_rate),
                      year=year)


def truth_report(check: TruthCheck | None, observed_eb, observed_raw, observed_within=None) -> None:
    """Show the truth check: the table of clusters and one paragraph, or say there is no truth."""
    from IPython.display import display

    from helpers.publish import report

    if check is None:
        display(report.md("*No planted truth: these are not the synthetic data, so this check does not apply.*"))
        return
    display(report.table(check.clusters))
    c = check.clusters.set_index("cluster")["share_true_above_city"]
    t = check.moran_true.I
    raw_side = "below" if observed_raw.I < t else "above"
    why = (", as the binomial noise in observed rates predicts (noise dilutes a pattern)" if raw_side == "below"
           else ", although binomial noise in observed rates should dilute the pattern")
    display(report.md(
        "Moran's I of the planted probabilities, on the same weights, is **{t:.3f}**. The raw observed rates give "
        "**{r:.3f}**, {rs} it{why}. The EB-standardised rates give **{e:.3f}** ({es} it); they divide each rate's "
        "departure from the city rate by its expected noise, so they are not on the probabilities' scale, but "
        "they tell the same story. Of the hot-spot communities, **{hh}** truly register above the city rate; "
        "of the cold-spot communities, **{ll}** do.",
        t=t, r=observed_raw.I, rs=raw_side, why=why, e=observed_eb.I,
        es="below" if observed_eb.I < t else "above",
        hh=f"{c['High-High']:.0%}" if "High-High" in c else "none (no hot spots)",
        ll=f"{c['Low-Low']:.0%}" if "Low-Low" in c else "none (no cold spots)"))
    if observed_within is not None:
        tw = check.moran_true_within.I
        display(report.md(
            "Inside districts, the planted probabilities' departures from their district mean have Moran's I = "
            "**{tw:.3f}** (pseudo p = **{pw:.3f}**): the planted latent field, net of district effects. The "
            "observed departures give **{ow:.3f}** (pseudo p = **{po:.3f}**), {side} it.",
            tw=tw, pw=check.moran_true_within.p_sim, ow=observed_within.I, po=observed_within.p_sim,
            side="below" if observed_within.I < tw else "above"))


def cluster_truth(local, truth: pd.DataFrame, city_rate: float) -> pd.DataFrame:
    """Planted registration probability by LISA cluster: does a hot spot mark truly high units?

    Parameters
    ----------
    local : :class:`helpers.stats.spatial.LocalMoranResult` on communities (ids = community_id).
    truth : :func:`true_registration` of the same year.
    city_rate : the observed city registration rate, the reference line.

    Returns
    -------
    DataFrame, one row per cluster present: ``cluster, communities, mean_true_p``,
    ``share_true_above_city`` (share of the cluster's communities whose planted
    probability exceeds ``city_rate``).
    """
    f = pd.DataFrame({"community_id": local.frame["id"].to_numpy(), "cluster": local.frame["cluster"].to_numpy()})
    f = f.merge(truth, on="community_id", how="left", validate="one_to_one")
    order = ["High-High", "High-Low", "Low-High", "Low-Low", "Not significant"]
    g = f.groupby("cluster").agg(communities=("community_id", "size"), mean_true_p=("p_registered", "mean"),
                                 share_true_above_city=("p_registered", lambda s: float((s > city_rate).mean())))
    g = g.reindex([c for c in order if c in g.index]).reset_index()
    return g


def clusters_by_district(local, units: pd.DataFrame, districts: pd.DataFrame,
                         id_col: str = "community_id") -> pd.DataFrame:
    """Hot spots (High-High) and cold spots (Low-Low) of a LISA result counted by district.

    Parameters
    ----------
    local : :class:`helpers.stats.spatial.LocalMoranResult` (its ``id`` are values of ``id_col``).
    units : frame with ``id_col`` and ``district_id``.
    districts : the districts table (``district_id, name_en``).

    Returns
    -------
    DataFrame, one row per district: ``district_id, name_en, units`` (in the analysis),
    ``hot_spots, cold_spots, outliers`` (High-Low or Low-High).
    """
    f = pd.DataFrame({id_col: local.frame["id"].to_numpy(), "cluster": local.frame["cluster"].to_numpy()})
    f = f.merge(pd.DataFrame(units[[id_col, "district_id"]]), on=id_col, how="left", validate="one_to_one")
    g = f.groupby("district_id").agg(units=(id_col, "size"),
                                     hot_spots=("cluster", lambda s: int((s == "High-High").sum())),
                                     cold_spots=("cluster", lambda s: int((s == "Low-Low").sum())),
                                     outliers=("cluster", lambda s: int(s.isin(["High-Low", "Low-High"]).sum())))
    names = pd.DataFrame(districts[["district_id", "name_en"]])
    return names.merge(g.reset_index(), on="district_id", how="left").fillna(0).astype(
        {"units": "int64", "hot_spots": "int64", "cold_spots": "int64", "outliers": "int64"})


def cluster_members(local, clusters=("High-High", "Low-Low")) -> pd.DataFrame:
    """The units of the given LISA clusters by name: ``cluster, id, name, value, p_adj``
    (``value`` as analysed, e.g. the EB-standardised rate, shown as ``analysed_value``), hot spots first."""
    f = pd.DataFrame(local.frame[["id", "name", "cluster", "value", "p_adj"]])
    f = f[f["cluster"].isin(clusters)]
    f["_o"] = f["cluster"].map({c: i for i, c in enumerate(clusters)})
    return f.sort_values(["_o", "value"], ascending=[True, False])[["cluster", "id", "name", "value", "p_adj"]] \
        .reset_index(drop=True).rename(columns={"value": "analysed_value"})


def lisa_table(locals_: dict) -> pd.DataFrame:
    """Units per LISA cluster for several labelled :class:`~helpers.stats.spatial.LocalMoranResult` (wide)."""
    order = ["High-High", "Low-Low", "High-Low", "Low-High", "Not significant"]
    rows = []
    for label, lm in locals_.items():
        c = lm.frame["cluster"].value_counts()
        rows.append({"measure": label, "units": len(lm.frame), **{k: int(c.get(k, 0)) for k in order}})
    return pd.DataFrame(rows)


def islands_table(weights: dict) -> pd.DataFrame:
    """Every island of every weights, by name, with the unit it was linked to (if any).

    Returns ``weights, island, linked_to`` (empty when no weights has islands).
    """
    rows = []
    for label, sw in weights.items():
        links = dict(sw.added_links[:len(sw.islands)]) if sw.islands_action == "knn" else {}
        for name in sw.islands:
            rows.append({"weights": label, "island": name, "linked_to": links.get(name, "")})
    return pd.DataFrame(rows, columns=["weights", "island", "linked_to"])


def weights_table(weights: dict, max_names: int = 3) -> pd.DataFrame:
    """Spatial weights side by side, islands and detached groups reported by name.

    Parameters
    ----------
    weights : ``{label: SpatialWeights}`` (e.g. from :func:`build_weights`).
    max_names : island names listed before "... and N more".

    Returns
    -------
    DataFrame, one row per weights: ``weights, units, mean_neighbours, islands`` (count of
    units sharing no boundary with another unit of the analysis), ``island_names``,
    ``detached_groups`` (connected parts outside the largest, islands aside) and ``fix``
    (what was done about them).
    """
    rows = []
    for label, sw in weights.items():
        names = list(sw.islands)
        shown = ", ".join(names[:max_names]) + (f" ... and {len(names) - max_names} more"
                                               if len(names) > max_names else "")
        fixes = []
        if sw.islands:
            fixes.append({"knn": "islands linked to nearest unit", "drop": "islands dropped",
                          "warn": "islands kept without neighbours"}.get(sw.islands_action, sw.islands_action))
        if sw.components:
            fixes.append("groups linked to nearest unit outside" if sw.components_action == "connect"
                         else "groups left detached")
        rows.append({"weights": label, "units": sw.n, "mean_neighbours": round(float(sw.w.mean_neighbors), 2),
                     "islands": len(names), "island_names": shown or "none",
                     "detached_groups": len(sw.components), "fix": "; ".join(fixes) or "none needed"})
    return pd.DataFrame(rows)
