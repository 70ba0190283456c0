"""Computations of 05_spatial: the three outcome families on the map, and their spatial autocorrelation.

The notebook writes every sentence, verdict word and table header; this module computes the numbers
it reads (and that the tests check).

* :data:`LISA_ALPHA`, :data:`LISA_CORRECTION`, :data:`MIN_UNITS` - the hot-spot rule (local Moran
  clusters at a false discovery rate of 5%) and the fewest units a spatial analysis is run on.
* :func:`community_rates` - one row per community (polygon) with the counts of the two
  administrative rates of a year, organisational coverage (covered / active eligible organisations)
  and in-service member registration (registered / in-service members resident), and their
  empirical-Bayes (beta-binomial) smoothed values; :func:`subdistrict_rates` sums them to
  sub-districts. Either rate is left out when its table is absent.
* :func:`within_district` - a rate's departure from its district's pooled rate (clustering net of
  differences between whole districts); :func:`build_weights` - queen weights with islands linked;
  :func:`weights_table` and :func:`islands_table` - what the weights are and which units were linked.
* :func:`subdistrict_satisfaction` - design-based sub-district means of a survey item, pooling the
  yearly samples, with Fay-Herriot shrinkage and disclosure suppression.
* :func:`moran_table` / :func:`moran_side` - global Moran's I results side by side (I, its
  expectation, the central 95% of the permutation distribution, pseudo p) and the side on which I
  departs from spatial randomness (+1, 0, -1).
* :func:`lisa_table`, :func:`clusters_by_district`, :func:`neighbour_values`, :func:`cluster_members`
  - the local clusters counted, by district, and listed with each unit's own value and its
  neighbours'.
* :func:`true_registration`, :func:`registration_truth`, :func:`cluster_truth` - the planted truth of
  the synthetic city (true registration probabilities) lined up with the estimates and clusters.
"""
from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from helpers.publish.disclosure import MIN_RESPONDENTS

__all__ = ["LISA_ALPHA", "LISA_CORRECTION", "MIN_UNITS", "RATES", "CLUSTERS", "community_rates", "subdistrict_rates",
           "within_district", "build_weights", "place_name", "weights_table", "islands_table", "subdistrict_satisfaction",
           "moran_table", "moran_side", "lisa_table", "clusters_by_district", "neighbour_values", "cluster_members",
           "true_registration", "TruthCheck", "registration_truth", "cluster_truth"]

#: Significance level of a local cluster (hot spot, cold spot, outlier), after :data:`LISA_CORRECTION`.
LISA_ALPHA = 0.05
#: Correction of the local p-values for testing every unit: Benjamini-Hochberg false discovery rate.
LISA_CORRECTION = "fdr"
#: Fewest units (with a value) on which Moran's I and the local clusters are computed; with fewer, a
#: permutation test has next to no power and a map of clusters says nothing.
MIN_UNITS = 10
#: The administrative rates: name -> (numerator, denominator, table the counts come from).
RATES = {"registration": ("registered", "in_service_resident", "members"),
         "coverage": ("covered", "active", "organisations")}


def _add_rates(out: pd.DataFrame, names) -> None:
    """Rates and beta-binomial EB rates of ``names`` (keys of :data:`RATES`) added to ``out`` in place."""
    from helpers.stats.smallarea import eb_beta_binomial

    for name in names:
        num, den, _ = RATES[name]
        ok = (out[den] > 0).to_numpy()
        rate = np.full(len(out), np.nan)
        rate[ok] = out.loc[ok, num].to_numpy(float) / out.loc[ok, den].to_numpy(float)
        out[f"{name}_rate"] = rate
        smooth = np.full(len(out), np.nan)
        if ok.any():
            smooth[ok] = eb_beta_binomial(pd.DataFrame(out.loc[ok, [num, den]]), num, den)["eb_rate"].to_numpy()
        out[f"{name}_eb"] = smooth


def community_rates(boundaries: gpd.GeoDataFrame, members: pd.DataFrame | None,
                    organisations: pd.DataFrame | None, year: int) -> gpd.GeoDataFrame:
    """Community polygons with the year's registration and coverage counts and rates.

    Parameters
    ----------
    boundaries : community boundaries (``community_id, subdistrict_id, district_id, name_en,
        name_zh, geometry``).
    members : the members table (community x year counts), or None when the data have none.
    organisations : the organisations table, or None; active and covered as
        :func:`helpers.data.concepts.organisation_years` defines them.
    year : the study year.

    Returns
    -------
    GeoDataFrame, one row per community: the boundary columns and, for each rate whose table was
    given, its counts (``registered, in_service_resident``; ``covered, active``; 0 where the table
    has no row), the rate (``registration_rate``, ``coverage_rate``: shares 0-1, NaN when the
    denominator is 0) and the beta-binomial empirical-Bayes posterior mean (``registration_eb``,
    ``coverage_eb``; one prior for the city, :func:`helpers.stats.smallarea.eb_beta_binomial`; NaN
    when the denominator is 0).
    """
    from helpers.data import concepts

    b = boundaries[["community_id", "subdistrict_id", "district_id", "name_en", "name_zh", "geometry"]]
    out = pd.DataFrame(b)
    names = []
    if members is not None:
        m = members.loc[members["year"] == year, ["community_id", "registered", "in_service_resident"]]
        out = out.merge(m, on="community_id", how="left", validate="one_to_one")
        names.append("registration")
    if organisations is not None:
        lookup = concepts.community_lookup({"community_boundaries": b})
        cov = concepts.coverage_panel(concepts.organisation_years(organisations, lookup, [year]), lookup,
                                      "community_id")[["community_id", "active", "covered"]]
        out = out.merge(cov, on="community_id", how="left", validate="one_to_one")
        names.append("coverage")
    for name in names:
        for c in RATES[name][:2]:
            out[c] = pd.to_numeric(out[c]).fillna(0).astype("int64")
    _add_rates(out, names)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=boundaries.crs)


def subdistrict_rates(communities: gpd.GeoDataFrame, subdistricts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The counts of :func:`community_rates` summed to sub-districts, with rates and EB-smoothed rates.

    Returns
    -------
    GeoDataFrame of the sub-districts (``subdistrict_id, district_id, name_en, name_zh``, geometry)
    with, for each rate present in ``communities``, the summed counts, the rate (summed numerator over
    summed denominator) and the beta-binomial EB rate over sub-districts (as in :func:`community_rates`).
    """
    names = [n for n, (num, den, _) in RATES.items() if num in communities.columns]
    cols = [c for n in names for c in RATES[n][:2]]
    sums = pd.DataFrame(communities[["subdistrict_id", *cols]]).groupby("subdistrict_id")[cols].sum().reset_index()
    out = pd.DataFrame(subdistricts[["subdistrict_id", "district_id", "name_en", "name_zh", "geometry"]]).merge(
        sums, on="subdistrict_id", how="left", validate="one_to_one")
    for c in cols:
        out[c] = pd.to_numeric(out[c]).fillna(0).astype("int64")
    _add_rates(out, names)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=subdistricts.crs)


def within_district(gdf: pd.DataFrame, numerator: str, denominator: str, by: str = "district_id") -> pd.Series:
    """Each unit's rate minus its district's pooled rate (``sum numerator / sum denominator``).

    Moran's I of these departures measures clustering *inside* districts, net of the differences
    between whole districts, which contiguity would otherwise also pick up. Units with a zero
    denominator get NaN; a district with a single unit gives that unit 0.
    """
    num = pd.to_numeric(gdf[numerator]).astype(float)
    den = pd.to_numeric(gdf[denominator]).astype(float)
    pooled = num.groupby(gdf[by]).transform("sum") / den.groupby(gdf[by]).transform("sum")
    return (num / den.where(den > 0)) - pooled


def build_weights(gdf: gpd.GeoDataFrame, id_col: str):
    """Queen weights with islands linked to their nearest unit and detached groups connected.

    :func:`helpers.stats.spatial.weights` with ``islands="knn", components="connect"``; its warnings
    (which name every island) are silenced here because the notebook reports them in a table
    (:func:`weights_table`, :func:`islands_table`). A single unit has no neighbour to link to: the
    caller checks :data:`MIN_UNITS` first.

    The weights are built on the ids and then given the units' names (``name_en`` where the frame
    has it), because names repeat (two villages of one name in two districts): besides the
    :class:`~helpers.stats.spatial.SpatialWeights` attributes, the result carries ``link_ids``, the
    ``(id, id)`` pairs of ``added_links``, from which :func:`islands_table` names each unit with its
    district.
    """
    import dataclasses
    import warnings

    from helpers.stats import spatial

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", spatial.SpatialWeightsWarning)
        sw = spatial.weights(gdf, "queen", id_col=id_col, name_col=id_col, islands="knn", components="connect")
    name_col = "name_en" if "name_en" in gdf.columns else id_col
    name_of = dict(zip(gdf[id_col], gdf[name_col].astype(str)))

    def name(i):
        return name_of.get(i, str(i))

    out = dataclasses.replace(sw, name_col=name_col, names=[name(i) for i in sw.ids],
                              islands=[name(i) for i in sw.islands],
                              components=[[name(i) for i in c] for c in sw.components],
                              dropped=[name(i) for i in sw.dropped],
                              added_links=[(name(a), name(b)) for a, b in sw.added_links])
    out.link_ids = list(sw.added_links)
    return out


def core_bounds(units: gpd.GeoDataFrame, ax) -> tuple[float, float, float, float] | None:
    """The extent of the dense urban core, as the automatic inset of a map of ``units`` in ``ax`` would enlarge it.

    Sub-districts are too few and too large for :func:`helpers.viz.inset.plan_inset` to find them
    illegible on a half-width panel, yet the core ones are hard to read; their maps take the extent
    found on the communities (the finest units), so every map of the report enlarges the same area.

    Parameters
    ----------
    units : the finest units (communities), polygons in a projected CRS.
    ax : the axes of the map (its size on paper decides which units are too small to read).

    Returns
    -------
    ``(minx, miny, maxx, maxy)`` to pass as ``inset=``, or None when the units need no inset.
    """
    from helpers.viz import inset

    plan = inset.plan_inset(units, "auto", inset.axes_size_mm(ax))
    return None if plan is None else plan.bounds


def place_name(frame: pd.DataFrame, en: str = "name_en", zh: str = "name_zh") -> pd.Series:
    """Each place's pinyin and Chinese name, as the index and the district profiles write them
    (``"Dongcheng District 东城区"``); the pinyin alone where the Chinese name is missing."""
    f = pd.DataFrame(frame)
    zh_names = f[zh] if zh in f.columns else pd.Series(None, index=f.index, dtype=object)
    return pd.Series([f"{e} {z}" if isinstance(z, str) and z.strip() and z != e else str(e)
                      for e, z in zip(f[en], zh_names)], index=f.index, dtype=object)


def weights_table(weights: dict) -> pd.DataFrame:
    """Spatial weights side by side, in numbers.

    Parameters
    ----------
    weights : ``{label: SpatialWeights}`` (e.g. from :func:`build_weights`).

    Returns
    -------
    DataFrame, one row per weights: ``weights`` (the label), ``units``, ``mean_neighbours`` (after
    the links added), ``islands`` (units that shared no boundary with another unit of the analysis),
    ``detached_groups`` (connected groups apart from the largest, islands aside) and ``links_added``
    (links to the nearest unit that joined islands and groups to the rest).
    """
    rows = [{"weights": label, "units": sw.n, "mean_neighbours": float(sw.w.mean_neighbors),
             "islands": len(sw.islands), "detached_groups": len(sw.components), "links_added": len(sw.added_links)}
            for label, sw in weights.items()]
    return pd.DataFrame(rows, columns=["weights", "units", "mean_neighbours", "islands", "detached_groups",
                                       "links_added"])


def islands_table(weights: dict, districts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every unit that the weights linked to a nearest unit: islands and the nearest member of each
    detached group, each named with its district (names repeat across districts).

    Parameters
    ----------
    weights : ``{label: SpatialWeights}`` from :func:`build_weights`.
    districts : optional districts table (``district_id, name_en``, ``name_zh``): the district of each
        unit is then written as :func:`place_name` writes it; without it, or for a unit whose frame has no
        ``district_id``, the district is left empty.

    Returns
    -------
    DataFrame ``weights, unit_id, unit, unit_district, linked_id, linked_to, linked_district, kind``
    (``unit`` and ``linked_to``: the units' names, ``name_zh`` added where the frame has it; ``kind``:
    ``"island"`` or ``"detached group"``); empty when no weights needed a link.
    """
    cols = ["weights", "unit_id", "unit", "unit_district", "linked_id", "linked_to", "linked_district", "kind"]
    dname = ({} if districts is None else
             dict(zip(pd.DataFrame(districts)["district_id"], place_name(districts))))
    rows = []
    for label, sw in weights.items():
        n_isl = len(sw.islands) if sw.islands_action == "knn" else 0
        frame = pd.DataFrame(sw.frame.drop(columns="geometry", errors="ignore")) if sw.frame is not None else None
        named = frame.set_index(sw.id_col) if frame is not None and "name_en" in frame.columns else None
        names = place_name(named) if named is not None else None
        dist = named["district_id"] if named is not None and "district_id" in named.columns else None
        links = getattr(sw, "link_ids", None) or sw.added_links
        for k, (a, b) in enumerate(links):
            rows.append({"weights": label, "unit_id": a, "linked_id": b,
                         "unit": names[a] if names is not None else str(a),
                         "linked_to": names[b] if names is not None else str(b),
                         "unit_district": dname.get(dist[a], "") if dist is not None else "",
                         "linked_district": dname.get(dist[b], "") if dist is not None else "",
                         "kind": "island" if k < n_isl else "detached group"})
    return pd.DataFrame(rows, columns=cols)


def subdistrict_satisfaction(survey: pd.DataFrame, subdistricts: gpd.GeoDataFrame, variable: str = "sat_score",
                             k: int = MIN_RESPONDENTS) -> gpd.GeoDataFrame:
    """Sub-district means of a survey item, all yearly samples pooled, direct and shrunken.

    The yearly samples are pooled as one stratified cluster sample with strata district x year and
    PSUs the sampled communities (:data:`helpers.data.concepts.SURVEY_DESIGN`; each year's weights
    represent the city's population, so every year counts about equally). Sub-districts are domains
    of that design. The direct means of sub-districts with at least ``k`` respondents and a
    design-based standard error are then shrunk towards the city mean by a Fay-Herriot model without
    covariates (:func:`helpers.stats.smallarea.fay_herriot`, REML): noisy sub-districts move most.
    With fewer than three such sub-districts there is no model to fit and no shrunken value. A
    stratum (district and year) with a single sampled community - a small district, or a thin year -
    contributes its deviation from the overall mean (R's ``options(survey.lonely.psu = "adjust")``)
    instead of stopping the analysis.

    Parameters
    ----------
    survey : respondents (e.g. :func:`helpers.data.concepts.resident_respondents`).
    subdistricts : the sub-district polygons.
    variable : the survey item.
    k : the disclosure threshold.

    Returns
    -------
    GeoDataFrame of all sub-districts: ``subdistrict_id, district_id, name_en, name_zh, n``
    (respondents with the item), ``estimate, se, ci_low, ci_high`` (direct, design-based; normal 95%
    intervals, since a sub-district met by one sampled community per year has no design degrees of
    freedom of its own), ``eblup, eblup_low, eblup_high`` (Fay-Herriot), ``gamma`` (weight on the
    direct estimate), ``suppressed`` (1 <= n < k: values blanked), ``single_psu`` (all respondents in
    one sampled community-year: the design gives no standard error, so values are blanked and drawn
    as "No data") and the geometry. Sub-districts without respondents have ``n = 0`` and NaN values.
    """
    from helpers.data.concepts import resident_survey_design
    from helpers.stats.smallarea import fay_herriot

    d = resident_survey_design(survey, dropna_weight=True, lonely_psu="adjust")
    est = d.mean(variable, by="subdistrict_id", ci_df=np.inf)
    est = est[["subdistrict_id", "n", "estimate", "se", "ci_low", "ci_high"]]
    ok = est[(est["n"] >= k) & (est["se"] > 0)]
    fh_cols = ["subdistrict_id", "eblup", "eblup_low", "eblup_high", "gamma"]
    if len(ok) >= 3:
        fh = fay_herriot(ok, "estimate", "se", unit="subdistrict_id").table
        fh = fh.rename(columns={"ci_low": "eblup_low", "ci_high": "eblup_high"})[fh_cols]
    else:
        fh = pd.DataFrame({c: pd.Series(dtype=object if c == "subdistrict_id" else float) for c in fh_cols})
    est = est.merge(fh, on="subdistrict_id", how="left")
    out = pd.DataFrame(subdistricts[["subdistrict_id", "district_id", "name_en", "name_zh", "geometry"]]).merge(
        est, on="subdistrict_id", how="left", validate="one_to_one")
    out["n"] = pd.to_numeric(out["n"]).fillna(0).astype("int64")
    out["suppressed"] = (out["n"] > 0) & (out["n"] < k)
    out["single_psu"] = (out["n"] >= k) & ~(out["se"] > 0)
    vals = ["estimate", "se", "ci_low", "ci_high", "eblup", "eblup_low", "eblup_high", "gamma"]
    out[vals] = out[vals].astype(float)
    out.loc[out["suppressed"] | out["single_psu"], vals] = np.nan
    return gpd.GeoDataFrame(out, geometry="geometry", crs=subdistricts.crs)


def moran_side(m, alpha: float = 0.05) -> int:
    """On which side of spatial randomness a global Moran's I lies: ``+1`` when I exceeds its
    expectation and the pseudo p-value is at most ``alpha`` (positive autocorrelation, clustering),
    ``-1`` when I is below it at that level (negative autocorrelation, dispersion), else ``0``.
    (esda's ``p_sim`` is one-sided in the direction of the observed I.)"""
    if m.p_sim <= alpha:
        return 1 if m.I > m.EI else -1
    return 0


def moran_table(results: dict) -> pd.DataFrame:
    """Global Moran's I results side by side, one row per labelled :class:`~helpers.stats.spatial.MoranResult`.

    Returns
    -------
    DataFrame: ``measure`` (the label), ``method`` (``"eb_rate"``: EB-standardised rates, or
    ``"raw"``: the values as given), ``units`` (n), ``I``, ``EI`` (-1/(n-1)), ``null_low,
    null_high`` (2.5% and 97.5% points of the permutation distribution of I under spatial
    randomness), ``z_sim``, ``p_sim`` (one-sided pseudo p-value, (extreme + 1)/(permutations + 1)),
    ``permutations`` and ``side`` (:func:`moran_side`).
    """
    rows = []
    for label, m in results.items():
        sim = np.asarray(m.esda.sim, dtype=float)
        rows.append({"measure": label, "method": m.method, "units": m.n, "I": m.I, "EI": m.EI,
                     "null_low": float(np.quantile(sim, 0.025)), "null_high": float(np.quantile(sim, 0.975)),
                     "z_sim": m.z_sim, "p_sim": m.p_sim, "permutations": m.permutations, "side": moran_side(m)})
    return pd.DataFrame(rows, columns=["measure", "method", "units", "I", "EI", "null_low", "null_high", "z_sim",
                                       "p_sim", "permutations", "side"])


#: The local clusters in the order tables list them.
CLUSTERS = ("High-High", "Low-Low", "High-Low", "Low-High", "Not significant")


def lisa_table(locals_: dict) -> pd.DataFrame:
    """Units per local cluster for several labelled :class:`~helpers.stats.spatial.LocalMoranResult`:
    ``measure, units`` and one column per cluster of :data:`CLUSTERS` (counts)."""
    rows = []
    for label, lm in locals_.items():
        c = lm.frame["cluster"].value_counts()
        rows.append({"measure": label, "units": len(lm.frame), **{k: int(c.get(k, 0)) for k in CLUSTERS}})
    return pd.DataFrame(rows, columns=["measure", "units", *CLUSTERS])


def clusters_by_district(local, units: pd.DataFrame, districts: pd.DataFrame,
                         id_col: str = "community_id") -> pd.DataFrame:
    """Hot spots (High-High) and cold spots (Low-Low) of a local Moran result counted by district.

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


def neighbour_values(w, frame: pd.DataFrame, *, numerator: str | None = None, denominator: str | None = None,
                     column: str | None = None) -> pd.DataFrame:
    """Each unit's own value beside its neighbours', on the weights ``w`` (links added included).

    Give ``numerator`` and ``denominator`` for a rate: the own value is ``numerator / denominator``
    and the neighbours' the pooled rate of the neighbours (their summed numerators over their summed
    denominators). Give ``column`` for a value: the neighbours' value is their mean (the spatial lag
    of row-standardised weights).

    Returns
    -------
    DataFrame in the weights' order: ``id`` (values of the weights' id column), ``own``,
    ``neighbours`` (NaN for a unit without neighbours) and ``n_neighbours``.
    """
    if (column is None) == (numerator is None or denominator is None):
        raise ValueError("give either column, or numerator and denominator")
    cols = [column] if column is not None else [numerator, denominator]
    d = pd.DataFrame(frame).set_index(w.id_col).loc[w.ids, cols].astype(float)
    own, neigh, nn = [], [], []
    for i in w.ids:
        nb = list(w.w.neighbors.get(i, []))
        nn.append(len(nb))
        if column is not None:
            own.append(d.at[i, column])
            neigh.append(float(d.loc[nb, column].mean()) if nb else np.nan)
        else:
            own.append(d.at[i, numerator] / d.at[i, denominator] if d.at[i, denominator] > 0 else np.nan)
            den = float(d.loc[nb, denominator].sum()) if nb else 0.0
            neigh.append(float(d.loc[nb, numerator].sum()) / den if den > 0 else np.nan)
    return pd.DataFrame({"id": list(w.ids), "own": own, "neighbours": neigh, "n_neighbours": nn})


def cluster_members(local, values: pd.DataFrame, clusters=("High-High", "Low-Low")) -> pd.DataFrame:
    """The units of the given local clusters, with their own and neighbours' values.

    Parameters
    ----------
    local : :class:`helpers.stats.spatial.LocalMoranResult`.
    values : :func:`neighbour_values` on the same weights (``id, own, neighbours``).
    clusters : the clusters listed, in this order.

    Returns
    -------
    DataFrame, hot spots first and within a cluster by own value (highest first): ``cluster, id,
    name, own, neighbours`` (as in ``values``), ``analysed_value`` (the value the local statistic
    was computed on, e.g. the EB-standardised rate) and ``p_adj`` (the corrected local p-value).
    """
    f = pd.DataFrame(local.frame[["id", "name", "cluster", "value", "p_adj"]])
    f = f[f["cluster"].isin(clusters)].merge(values[["id", "own", "neighbours"]], on="id", how="left",
                                             validate="one_to_one")
    f["_o"] = f["cluster"].map({c: i for i, c in enumerate(clusters)})
    f = f.sort_values(["_o", "own"], ascending=[True, False])
    return f.rename(columns={"value": "analysed_value"})[
        ["cluster", "id", "name", "own", "neighbours", "analysed_value", "p_adj"]].reset_index(drop=True)


# ------------------------------------------------------------------ the planted truth (synthetic data)
def true_registration(data_dir=None, year: int | None = None) -> pd.DataFrame | None:
    """The planted registration probabilities (``community_id, p_registered``) of ``year``; ``None``
    without a planted truth (:func:`helpers.data.truth.truth_registration`)."""
    from helpers.data.truth import truth_registration

    t = truth_registration(data_dir)
    if t is None:
        return None
    if year is not None:
        t = t[t["year"] == year]
    return t[["community_id", "p_registered"]].reset_index(drop=True)


@dataclass
class TruthCheck:
    """The planted registration truth lined up with the spatial estimates (see :func:`registration_truth`).

    Attributes
    ----------
    moran_true : MoranResult of the planted probabilities on the observed analysis' weights.
    moran_true_within : the same for the planted probabilities minus their district's mean
        (weighted by in-service members, as the observed district rate is).
    clusters : :func:`cluster_truth` of the observed local clusters.
    year : the year checked.
    """

    moran_true: object
    moran_true_within: object
    clusters: pd.DataFrame
    year: int


def registration_truth(data_dir, year: int, units: pd.DataFrame, w, local, city_rate: float, *, seed: int,
                       permutations: int = 999) -> TruthCheck | None:
    """Moran's I of the planted registration probabilities and their means by local cluster.

    ``units`` and ``w`` are the frame and weights of the observed analysis, ``local`` its local
    Moran result. Returns ``None`` without a planted truth (real data, or a folder derived from the
    synthetic city) or when it has no probability for some unit analysed.
    """
    from helpers.stats import spatial

    truth = true_registration(data_dir, year)
    if truth is None:
        return None
    t = pd.DataFrame(units[["community_id", "district_id", "in_service_resident"]]).merge(
        truth, on="community_id", how="left", validate="one_to_one")
    if t["p_registered"].isna().any():
        return None
    m = spatial.moran(t, "p_registered", w, seed=seed, permutations=permutations)
    # district mean of the planted probabilities, weighted by members as the observed district rate is
    t["_e"] = t["p_registered"] * t["in_service_resident"]
    t["p_within"] = t["p_registered"] - (t.groupby("district_id")["_e"].transform("sum")
                                         / t.groupby("district_id")["in_service_resident"].transform("sum"))
    mw = spatial.moran(t, "p_within", w, seed=seed, permutations=permutations)
    return TruthCheck(moran_true=m, moran_true_within=mw, clusters=cluster_truth(local, truth, city_rate),
                      year=year)


def cluster_truth(local, truth: pd.DataFrame, city_rate: float) -> pd.DataFrame:
    """Planted registration probability by local cluster: does a hot spot mark truly high units?

    Parameters
    ----------
    local : :class:`helpers.stats.spatial.LocalMoranResult` on communities (ids = community_id).
    truth : :func:`true_registration` of the same year.
    city_rate : the observed city registration rate, the reference line.

    Returns
    -------
    DataFrame, one row per cluster present (in :data:`CLUSTERS` order): ``cluster, communities,
    mean_true_p``, ``share_true_above_city`` (share of the cluster's communities whose planted
    probability exceeds ``city_rate``).
    """
    f = pd.DataFrame({"community_id": local.frame["id"].to_numpy(), "cluster": local.frame["cluster"].to_numpy()})
    f = f.merge(truth, on="community_id", how="left", validate="one_to_one")
    order = ["High-High", "High-Low", "Low-High", "Low-Low", "Not significant"]
    g = f.groupby("cluster").agg(communities=("community_id", "size"), mean_true_p=("p_registered", "mean"),
                                 share_true_above_city=("p_registered", lambda s: float((s > city_rate).mean())))
    return g.reindex([c for c in order if c in g.index]).reset_index()
