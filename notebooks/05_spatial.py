# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Spatial patterns: do coverage, participation and satisfaction cluster in space?
#
# **Question.** Do neighbouring communities and sub-districts resemble each other in how far
# party-building work reaches eligible organisations (coverage), how many in-service party members
# register where they live (participation) and how residents rate the service (satisfaction), more
# than a random arrangement of the same values would give? And where are the hot spots and cold
# spots?
#
# **Hypothesis tested** (not one of the field's seven numbered claims, but what a map of them
# invites): community registration rates are positively spatially autocorrelated:
# neighbouring communities register alike, and they still do once the differences between whole
# districts are taken out. This describes a pattern; it says where to look, not why neighbours
# resemble each other. The report also heeds the field's claim 7 (small communities produce noisy
# rates): rates are smoothed before they are mapped and standardised before they are tested.

# %% tags=["parameters"]
data_dir = None  # the data folder (None: the shipped default data in data/)
year = None  # year of the administrative rates (None: the latest year in the data)
seed = 20240501  # seed of every permutation test
permutations = 999  # permutations per test (at least 999)

# %%
# %load_ext autoreload
# %autoreload 2
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

from helpers.data import concepts, load
from helpers.data.truth import is_synthetic
from helpers.publish import findings, fmt, references, report
from helpers.publish import notebook as nb
from helpers.stats import spatial
from helpers.studies import measures, verdicts
from helpers.studies import spatial as ss
from helpers.viz import maps, style

meta = nb.setup(data_dir)
nb.data_statement(meta, data_dir)

# %% [markdown]
# ## Data
#
# Administrative counts by community for one year: in-service party members and those registered
# where they live (the member table), eligible organisations and whether each has a party
# organisation (the organisation table). The resident survey's yearly samples are pooled, because a
# community is sampled in a few years at most, with a small group of respondents. The boundaries of
# communities, sub-districts and districts say who neighbours whom.

# %%
tables = load.load_all(data_dir, tables=["districts", "subdistricts", "community_boundaries", "communities",
                                         "members", "organisations", "survey"])
synthetic = is_synthetic(data_dir)
period = load.study_period(tables)
year = period.last if year is None else int(year)
if year not in period:
    raise ValueError(f"year {year} lies outside the data's study period {period}: choose a year in it, or None")
has_members = "members" in tables and bool((tables["members"]["year"] == year).any())
has_survey = "survey" in tables and bool((tables["survey"]["responded"] == 1).any())
districts, subdistricts = tables["districts"], tables["subdistricts"]
district_name = dict(zip(districts["district_id"], ss.place_name(districts)))  # "Dongcheng District 东城区"
com = ss.community_rates(tables["community_boundaries"], tables["members"] if has_members else None,
                         tables.get("organisations"), year)
has_orgs = "organisations" in tables and com["active"].sum() > 0
sub = ss.subdistrict_rates(com, subdistricts)

# %%
if has_survey:
    resp = concepts.resident_respondents(tables["survey"], tables["communities"])
    sat = ss.subdistrict_satisfaction(resp, subdistricts)
    city_sat = concepts.resident_survey_design(resp, lonely_psu="adjust").mean("sat_score").iloc[0]
    survey_years = sorted(int(y) for y in resp["year"].unique())
    survey_span = (f"{survey_years[0]}–{survey_years[-1]}" if len(survey_years) > 1 else str(survey_years[0]))

# %%
display(report.md("The boundaries hold **{d}** district{ds}, **{s}** sub-district{ss} and **{c}** communit{cs}. The "
                  "administrative rates are those of **{y}** (the data cover {p}).", d=fmt.count(len(districts)),
                  ds="s" * (len(districts) != 1), s=fmt.count(len(subdistricts)), ss="s" * (len(subdistricts) != 1),
                  c=fmt.count(len(com)), cs="ies" if len(com) != 1 else "y", y=year,
                  p=f"{period.first}–{period.last}" if period.last > period.first else str(period.first)))
if has_members:
    city_reg = com["registered"].sum() / com["in_service_resident"].sum()
    display(report.md("**{m}** in-service members live in the city's communities, and **{r}** of them are registered "
                      "where they live.", m=fmt.count(com["in_service_resident"].sum()), r=fmt.percent(city_reg)))
else:
    display(report.md("*The data have no member counts for {y}: the analyses of registration, and the claim, are "
                      "skipped.*", y=year))

# %%
if has_orgs:
    city_cov = com["covered"].sum() / com["active"].sum()
    shown = report.md("**{a}** eligible organisations are active in **{co}** communities (the other {nco} have none; "
                      "{o} per community where there are any), and **{cv}** of them are covered.",
                      a=fmt.count(com["active"].sum()), co=fmt.count((com["active"] > 0).sum()),
                      nco=fmt.count((com["active"] == 0).sum()),
                      o=fmt.number(com.loc[com["active"] > 0, "active"].mean(), 1),
                      cv=fmt.percent(city_cov))
else:
    shown = report.md("*The data have no eligible organisation active in {y}: the analyses of coverage are "
                      "skipped.*", y=year)
shown

# %%
if has_survey:
    shown = report.md("{pooled} (**{r}** respondents): **{s}** of the {ns} sub-districts have at least {m} "
                      "respondents spread over more than one sampled community-year, enough for a design-based mean "
                      "with a standard error.", r=fmt.count(len(resp)),
                      pooled=(f"The resident survey's samples of {survey_span} ({len(survey_years)} survey years) are "
                              "pooled" if len(survey_years) > 1 else f"The resident survey of {survey_span} is used"),
                      s=fmt.count(sat["eblup"].notna().sum()), ns=fmt.count(len(sat)), m=report.min_respondents())
else:
    shown = report.md("*The data have no resident survey: the analysis of satisfaction is skipped.*")
shown

# %% [markdown]
# ## Method
#
# **Neighbours.** Two units are neighbours when their boundaries touch at an edge or a corner
# (queen contiguity); weights are row-standardised, so a unit's *spatial lag* is the mean of its
# neighbours. Each analysis keeps only the units with a value, which can leave a unit without any
# neighbour (an *island*) or a group cut off from the rest; each is linked to its nearest unit, so
# that no unit silently drops out, and all are named below.
#
# **Global Moran's I** measures how strongly each unit's value goes with its neighbours' mean.
# Under spatial randomness (the same values arranged at random over the map) its expectation is
# −1/(n − 1), about zero; its significance is judged against the values of I in random
# rearrangements (permutations, seeded). Rates are analysed after the empirical-Bayes (EB)
# standardisation of Assunção and Reis (1999): each rate's departure from the city rate divided by
# the standard deviation expected from its denominator, so that a small community's noise does not
# pass for a pattern. The maps of rates show a different, readable smoothing: each community's rate
# pulled towards the city-wide rate (the mean of a beta distribution fitted to all communities'
# counts) by an empirical-Bayes (beta-binomial) estimate, the more so the fewer its members or
# organisations. "Smoothed" means this alone throughout the report: no rate is smoothed towards its
# neighbours; neighbours enter only through the spatial statistics.
#
# **Local Moran statistics** (local indicators of spatial association, LISA) test each unit
# against its neighbours by conditional permutation.
# *High* and *Low* compare a unit's value, and its neighbours' mean, with the average of all units
# analysed.
#
# **Within districts.** Districts differ as wholes, and contiguity picks that up as clustering too.
# To see clustering that district differences cannot explain, registration is also analysed as each
# community's departure from its own district's rate.

# %%
report.md("**The hot-spot rule.** A unit is a *hot spot* (High-High) when it and its neighbours are high, a *cold "
          "spot* (Low-Low) when both are low, and an *outlier* (High-Low or Low-High) when they differ, and only when "
          "its local Moran statistic is significant after the Benjamini–Hochberg correction for testing every unit: "
          "a false discovery rate (FDR) of {a} (an adjusted p-value of at most {p}), so that on average no more than one "
          "in twenty of the units called hot or cold spots are so by chance. Every count, map and list of hot and cold spots below follows this rule.",
          a=fmt.percent(ss.LISA_ALPHA, 0), p=fmt.number(ss.LISA_ALPHA, 2))

# %%
units = {}
if has_members:
    r = com[com["in_service_resident"] > 0]
    units["registration"] = r.assign(registration_within=ss.within_district(r, "registered", "in_service_resident"))
    one_district = r["district_id"].nunique() < 2
if has_orgs:
    units["coverage_communities"] = com[com["active"] > 0]
    units["coverage_subdistricts"] = sub[sub["active"] > 0]
if has_survey:
    units["satisfaction"] = sat[sat["eblup"].notna()]
unit_label = {"registration": "Communities with in-service members",
              "coverage_communities": "Communities with eligible organisations",
              "coverage_subdistricts": "Sub-districts with eligible organisations",
              "satisfaction": "Sub-districts with a satisfaction estimate"}
w = {k: ss.build_weights(u, "community_id" if "community_id" in u.columns else "subdistrict_id")
     for k, u in units.items() if len(u) >= ss.MIN_UNITS}
too_few = [unit_label[k].lower() for k, u in units.items() if len(u) < ss.MIN_UNITS]

# %%
wt = ss.weights_table({unit_label[k]: sw for k, sw in w.items()})
if wt.empty:
    shown = report.md("*No analysis has enough units with a value: there is nothing to map.*")
else:
    shown = report.table(pd.DataFrame({
        "Units analysed": wt["weights"], "Units": wt["units"].map(fmt.count),
        "Mean neighbours": [fmt.number(x, 1) for x in wt["mean_neighbours"]], "Islands": wt["islands"].map(fmt.count),
        "Detached groups": wt["detached_groups"].map(fmt.count), "Links added": wt["links_added"].map(fmt.count)}),
        caption="The neighbours of each analysis (queen contiguity): units, mean number of neighbours after the links "
                "added, islands (units touching no other unit analysed) and detached groups (cut off from the rest "
                "once the islands are linked), each linked to its nearest unit: one link per island and one per "
                "group. A unit is counted once among the islands; the group an island joins is counted once among "
                "the groups.", data=wt)
shown

# %%
links = ss.islands_table({unit_label[k]: sw for k, sw in w.items()}, districts)
twice = links[links.duplicated(["weights", "unit_id"], keep=False)].drop_duplicates(["weights", "unit_id"])
why = {"island": "island: no neighbour", "detached group": "its group's nearest unit to the rest"}
if links.empty:
    shown = report.md("" if wt.empty else "No unit of any analysis is an island or cut off from the rest: no link "
                      "had to be added.")
else:
    shown = report.table(pd.DataFrame({
        "Units analysed": links["weights"], "Unit": links["unit"], "Its district": links["unit_district"],
        "Linked to": links["linked_to"], "District of the unit linked to": links["linked_district"],
        "Why": links["kind"].map(why)}),
        caption="Units linked to their nearest unit: islands, and the nearest unit of each detached group, each "
                "with its district (places of the same name lie in different districts). Leaving out units "
                "without a value (communities without eligible organisations, say) leaves holes in the map that "
                "cut others off. Links are added until every unit is connected: an island is first linked to its "
                "nearest unit, and when that unit lies in a detached group, the group, island included, is then "
                "linked to the rest from its member nearest to it, which can be the island itself"
                + ("" if twice.empty else
                   " (so " + ", ".join(f"{u} in {d}" if d else u for u, d in zip(twice["unit"], twice["unit_district"]))
                   + (" appears" if len(twice) == 1 else " appear") + " twice, once for each link)") + ".",
        data=links)
display(shown)
if too_few:
    display(report.md("Fewer than {m} units have a value among the {t}: those analyses are skipped.",
                      m=ss.MIN_UNITS, t=" and the ".join(too_few)))

# %%
perm = {"seed": seed, "permutations": permutations}
local_rule = {**perm, "alpha": ss.LISA_ALPHA, "correction": ss.LISA_CORRECTION}
glob, lisa = {}, {}
if "registration" in w:
    u, wr = units["registration"], w["registration"]
    glob["registration"] = spatial.moran_rate(u, "registered", "in_service_resident", wr, **perm)
    glob["registration_raw"] = spatial.moran(u, "registration_rate", wr, **perm)
    if not one_district:
        glob["registration_within"] = spatial.moran(u, "registration_within", wr, **perm)
    lisa["registration"] = spatial.local_moran_rate(u, "registered", "in_service_resident", wr, **local_rule)

# %%
for k in ("coverage_communities", "coverage_subdistricts"):
    if k in w:
        glob[k] = spatial.moran_rate(units[k], "covered", "active", w[k], **perm)
        lisa[k] = spatial.local_moran_rate(units[k], "covered", "active", w[k], **local_rule)
if "satisfaction" in w:
    glob["satisfaction"] = spatial.moran(units["satisfaction"], "eblup", w["satisfaction"], **perm)
    lisa["satisfaction"] = spatial.local_moran(units["satisfaction"], "eblup", w["satisfaction"], **local_rule)
moran = ss.moran_table(glob).set_index("measure")
pattern = {1: "clustered", 0: "not distinguishable from a random arrangement", -1: "dispersed"}
cluster_name = {"High-High": "hot spot (High-High)", "Low-Low": "cold spot (Low-Low)", "High-Low": "outlier (High-Low)",
                "Low-High": "outlier (Low-High)", "Not significant": "not significant"}
counts = {k: lm.frame["cluster"].value_counts() for k, lm in lisa.items()}

# %% [markdown]
# ## Results
#
# ### Participation: member registration

# %%
if "registration" in lisa:
    fig, axs = plt.subplots(1, 2, figsize=(15, 5.8))
    maps.choropleth(com, "registration_eb", ax=axs[0], overlay=districts, scheme="quantiles", k=5, fmt="{:.0%}",
                    legend_title=f"{measures.label('registration')}\n(smoothed towards the city)", title="Rates smoothed towards the city rate")
    maps.lisa_map(lisa["registration"], ax=axs[1], overlay=districts, units=com, title="Hot and cold spots",
                  synthetic=synthetic)
    c = counts["registration"]
    reg_data = pd.DataFrame(com.drop(columns="geometry"))[
        ["community_id", "name_en", "district_id", "registered", "in_service_resident", "registration_rate",
         "registration_eb"]].merge(lisa["registration"].frame[["id", "value", "cluster", "p_adj"]].rename(
             columns={"id": "community_id", "value": "eb_standardised_rate"}), on="community_id", how="left")
    shown = report.figure(
        fig, caption=f"{measures.label('registration')} by community, {year}. Left: each community's rate, smoothed "
                     "towards the city rate by empirical Bayes. Right: hot spots, cold spots and outliers under the "
                     "hot-spot rule (local Moran statistic of the empirical-Bayes standardised rates); communities "
                     "without in-service members have no rate (No data). Lines: district boundaries.",
        alt=f"Two maps of the city's communities: the left shaded by the share of in-service members registered where "
            f"they live, the right coloured by cluster, with {fmt.count(c.get('High-High', 0))} hot spots, "
            f"{fmt.count(c.get('Low-Low', 0))} cold spots and "
            f"{fmt.count(c.get('High-Low', 0) + c.get('Low-High', 0))} outliers.", data=reg_data)
else:
    shown = report.md("*No member counts, or too few communities with in-service members: registration is not "
                      "mapped.*")
shown

# %%
if "registration" in glob:
    m, row, c = glob["registration"], moran.loc["registration"], counts["registration"]
    shown = report.md(
        "Moran's I of the standardised community rates is **{i}**, against {lo} to {hi} for 95% of random "
        "rearrangements of the same rates (pseudo p {p}{floor}): registration is **{pat}**. The hot-spot rule finds "
        "**{hh}**, **{ll}** and {out} among the communities.",
        i=fmt.number(m.I, fmt.digits_for(estimate=m.I)), lo=fmt.number(row["null_low"], 3), hi=fmt.number(row["null_high"], 3),
        p=fmt.pvalue(m.p_sim), pat=pattern[row["side"]],
        floor=(f", the smallest that {fmt.count(m.permutations)} permutations can give"
               if m.p_sim <= 1 / (m.permutations + 1) else ""),
        hh=f"{fmt.count(c.get('High-High', 0))} hot spot{'' if c.get('High-High', 0) == 1 else 's'}",
        ll=f"{fmt.count(c.get('Low-Low', 0))} cold spot{'' if c.get('Low-Low', 0) == 1 else 's'}",
        out=f"{fmt.count(c.get('High-Low', 0) + c.get('Low-High', 0))} outlier"
            f"{'' if c.get('High-Low', 0) + c.get('Low-High', 0) == 1 else 's'}")
else:
    shown = report.md("")
shown

# %%
if "registration" in lisa:
    byd = ss.clusters_by_district(lisa["registration"], units["registration"], districts)
    shown = report.table(pd.DataFrame({"District": byd["district_id"].map(district_name),
                                       "Communities analysed": byd["units"].map(fmt.count),
                                       "Hot spots": byd["hot_spots"].map(fmt.count),
                                       "Cold spots": byd["cold_spots"].map(fmt.count),
                                       "Outliers": byd["outliers"].map(fmt.count)}),
                         caption=f"Hot spots, cold spots and outliers of {measures.label('registration').lower()} by "
                                 f"district, {year}, under the hot-spot rule.", data=byd)
else:
    shown = report.md("")
shown

# %%
if "registration" in lisa:
    m = glob["registration"]
    ax = maps.moran_scatterplot(m, local=lisa["registration"], title=f"{measures.label('registration')}, {year}")
    ax.set_xlabel("Standardised rate (standard deviations from the mean)")
    ax.set_ylabel("Mean of the neighbours' standardised rates")
    if synthetic:
        style.stamp_synthetic(ax)
    shown = report.figure(
        ax, caption=f"Moran scatterplot of {measures.label('registration').lower()}, {year}: each community's "
                    "empirical-Bayes standardised rate, in standard deviations from the mean of all communities, "
                    "against the mean of its neighbours'. The slope of the line is Moran's I; colours as in Figure 1.",
        alt=f"A scatter of {fmt.count(m.n)} communities rising from lower left to upper right along a line of slope "
            f"{fmt.number(m.I, 2)}, hot spots in the upper right and cold spots in the lower left.",
        data=pd.DataFrame({"community_id": m.weights.ids, "standardised_rate": m.z, "neighbours_mean": m.lag,
                           "cluster": lisa["registration"].frame["cluster"].to_numpy()}))
else:
    shown = report.md("")
shown

# %%
if "registration_within" in glob:
    m, row = glob["registration_within"], moran.loc["registration_within"]
    shown = report.md(
        "Net of the differences between whole districts (each community's rate minus its district's), Moran's I "
        "is **{i}** (95% of random rearrangements: {lo} to {hi}; pseudo p {p}), against **{a}** for the rates "
        "themselves: {reading}.", i=fmt.number(m.I, fmt.digits_for(estimate=m.I)), lo=fmt.number(row["null_low"], 3),
        hi=fmt.number(row["null_high"], 3), p=fmt.pvalue(m.p_sim), a=fmt.number(glob["registration"].I, fmt.digits_for(estimate=glob["registration"].I)),
        reading={1: "part of the clustering lies inside districts, not only between them",
                 0: "inside districts no clustering beyond chance is found, so the pattern is one of districts "
                    "differing as wholes",
                 -1: "inside districts neighbouring communities differ more than chance would give"}[row["side"]])
elif "registration" in glob:
    shown = report.md("The data hold a single district, so the rates are not analysed again within districts.")
else:
    shown = report.md("")
shown

# %% [markdown]
# ### Coverage of eligible organisations
#
# A community has only a handful of eligible organisations, and many have none, so one
# organisation more or less moves a community's coverage a long way. The map shows community
# rates smoothed towards the city rate; hot and cold spots are sought among communities and among sub-districts, where
# the organisations of many communities are pooled.

# %%
if "coverage_subdistricts" in lisa:
    fig, axs = plt.subplots(1, 2, figsize=(15, 5.8))
    maps.choropleth(com, "coverage_eb", ax=axs[0], overlay=districts, scheme="quantiles", k=5, fmt="{:.0%}",
                    legend_title=f"{measures.label('org_coverage')}\n(smoothed towards the city)", title="Communities: rates smoothed towards the city rate")
    core = ss.core_bounds(com, axs[1])  # the area the community map enlarges, None when it needs no inset
    maps.lisa_map(lisa["coverage_subdistricts"], ax=axs[1], overlay=districts, units=sub, inset=core or "auto",
                  title="Sub-districts: hot and cold spots", synthetic=synthetic)
    c = counts["coverage_subdistricts"]
    shown = report.figure(
        fig, caption=f"{measures.label('org_coverage')}, {year}. Left: each community's share of active eligible "
                     "organisations that are covered, smoothed towards the city rate by empirical Bayes (No data: no "
                     "eligible organisation). Right: hot spots, cold spots and outliers among sub-districts under the "
                     "hot-spot rule (No data: no eligible organisation)." + (" Each map enlarges the dense urban core beside it."
                                                              if core else ""),
        alt=f"Two maps: the city's communities shaded by organisational coverage, and its sub-districts coloured by "
            f"cluster, with {fmt.count(c.get('High-High', 0))} hot spots and {fmt.count(c.get('Low-Low', 0))} cold "
            "spots.", data=pd.DataFrame(com.drop(columns="geometry"))[
                ["community_id", "name_en", "subdistrict_id", "covered", "active", "coverage_rate", "coverage_eb"]])
else:
    shown = report.md("*No eligible organisations, or too few units with them: coverage is not mapped.*")
shown

# %%
if "coverage_subdistricts" in glob:
    mc, ms = glob.get("coverage_communities"), glob["coverage_subdistricts"]
    cc, cs = counts.get("coverage_communities", pd.Series(dtype=int)), counts["coverage_subdistricts"]
    shown = report.md(
        "Across **{n2}** sub-districts Moran's I of the standardised coverage rates is **{i2}** (pseudo p {p2}): "
        "coverage is **{pat2}**{com_part}. Hot or cold spots under the hot-spot rule: **{k1}** of the communities "
        "and **{k2}** of the sub-districts{tail}.",
        n2=fmt.count(ms.n), i2=fmt.number(ms.I, fmt.digits_for(estimate=ms.I)), p2=fmt.pvalue(ms.p_sim),
        pat2=pattern[moran.loc["coverage_subdistricts", "side"]],
        com_part=("" if mc is None else f"; across {fmt.count(mc.n)} communities I is {fmt.number(mc.I, fmt.digits_for(estimate=mc.I))} (pseudo p "
                  f"{fmt.pvalue(mc.p_sim)}): {pattern[moran.loc['coverage_communities', 'side']]}"),
        k1=fmt.count(cc.get("High-High", 0) + cc.get("Low-Low", 0)),
        k2=fmt.count(cs.get("High-High", 0) + cs.get("Low-Low", 0)),
        tail="; the sub-districts are listed below" if cs.get("High-High", 0) + cs.get("Low-Low", 0) else "")
else:
    shown = report.md("")
shown

# %%
if "coverage_subdistricts" in lisa:
    u = units["coverage_subdistricts"]
    nv = ss.neighbour_values(w["coverage_subdistricts"], u, numerator="covered", denominator="active")
    cm = ss.cluster_members(lisa["coverage_subdistricts"], nv)
    cm = cm.merge(pd.DataFrame(u[["subdistrict_id", "district_id", "covered", "active"]]).rename(
        columns={"subdistrict_id": "id"}), on="id", how="left")
    shown = report.table(pd.DataFrame({
        "Cluster": cm["cluster"].map(cluster_name), "Sub-district": cm["name"],
        "District": cm["district_id"].map(district_name), measures.label("org_coverage"): [
            f"{fmt.percent(o)} ({fmt.count(a)} of {fmt.count(b)})"
            for o, a, b in zip(cm["own"], cm["covered"], cm["active"])],
        "Neighbours' coverage": [fmt.percent(x) for x in cm["neighbours"]],
        "Adjusted p": [fmt.pvalue(x) for x in cm["p_adj"]]}),
        caption=f"Sub-districts that are hot or cold spots of {measures.label('org_coverage').lower()}, {year}: the "
                "observed share of organisations covered, the pooled share of the bordering sub-districts', and the "
                "local p-value after the false-discovery-rate correction. A cold spot is low against the average "
                "sub-district with low neighbours; it can lie close to the city rate when its neighbours lie well "
                f"below it (city: {fmt.percent(city_cov)}).", data=cm) if len(cm) else report.md(
        "No sub-district is a hot or cold spot of coverage under the hot-spot rule.")
else:
    shown = report.md("")
shown

# %% [markdown]
# ### Residents' satisfaction
#
# The satisfaction thermometer (0–100), all survey years pooled, by sub-district: design-based means
# shrunk by a Fay–Herriot model towards the mean of all sub-districts (the model's common mean, not
# the neighbours' mean), so that sub-districts with few respondents move most. The map is centred on the city's design-based mean. "No data" marks sub-districts never
# sampled and those whose respondents all come from one sampled community in one year (no
# design-based standard error); sub-districts with fewer respondents than the disclosure threshold
# are suppressed.

# %%
if "satisfaction" in lisa:
    fig, axs = plt.subplots(1, 2, figsize=(15, 5.8))
    core = ss.core_bounds(com, axs[0])  # the area the community maps enlarge, None when they need no inset
    maps.choropleth(sat, "eblup", ax=axs[0], center=city_sat["estimate"], suppressed="suppressed", overlay=districts,
                    scheme="quantiles", k=4, fmt="{:.1f}", legend_title=f"{measures.label('sat_score')}\nFay–Herriot",
                    title="Sub-district means", inset=core or "auto")
    maps.lisa_map(lisa["satisfaction"], ax=axs[1], overlay=districts, units=sat, inset=core or "auto",
                  title="Hot and cold spots", synthetic=synthetic)
    c = counts["satisfaction"]
    shown = report.figure(
        fig, caption=f"{measures.label('sat_score')} by sub-district, survey years {survey_span} pooled. Left: "
                     "Fay–Herriot estimates on a diverging scale centred on the city mean "
                     f"({fmt.number(city_sat['estimate'], 1)}). Right: hot spots, cold spots and outliers under the "
                     "hot-spot rule (local Moran statistic of the Fay–Herriot estimates); sub-districts without an "
                     "estimate are marked No data." + (" Each map enlarges the dense urban core beside it." if core else ""),
        alt=f"Two maps of the city's sub-districts: the left shaded by the mean satisfaction thermometer, the right "
            f"coloured by cluster, with {fmt.count(c.get('High-High', 0))} hot spots and "
            f"{fmt.count(c.get('Low-Low', 0))} cold spots.",
        data=pd.DataFrame(sat.drop(columns="geometry")))
else:
    shown = report.md("*No resident survey, or too few sub-districts with a satisfaction estimate: satisfaction is not "
                      "mapped.*")
shown

# %%
if "satisfaction" in glob:
    m, row, c, su = glob["satisfaction"], moran.loc["satisfaction"], counts["satisfaction"], units["satisfaction"]
    shown = report.md(
        "Across **{n}** sub-districts, Moran's I of the Fay–Herriot means is **{i}** (pseudo p {p}): satisfaction is "
        "**{pat}**, and the hot-spot rule finds **{hh}** and **{ll}**. Shrinkage moved the sub-district "
        "means by at most {d} points; the direct estimate keeps a weight between {g0} and {g1}. A pooled mean mixes "
        "the years in which a sub-district was sampled, and its interval leaves out the model's own uncertainty "
        "about the common mean it shrinks towards.",
        n=fmt.count(m.n), i=fmt.number(m.I, fmt.digits_for(estimate=m.I)), p=fmt.pvalue(m.p_sim), pat=pattern[row["side"]],
        hh=f"{fmt.count(c.get('High-High', 0))} hot spot{'' if c.get('High-High', 0) == 1 else 's'}",
        ll=f"{fmt.count(c.get('Low-Low', 0))} cold spot{'' if c.get('Low-Low', 0) == 1 else 's'}",
        d=fmt.number((su["eblup"] - su["estimate"]).abs().max(), 1), g0=fmt.number(su["gamma"].min(), 2),
        g1=fmt.number(su["gamma"].max(), 2))
else:
    shown = report.md("")
shown

# %%
if "satisfaction" in lisa:
    su = units["satisfaction"]
    sm = ss.cluster_members(lisa["satisfaction"], ss.neighbour_values(w["satisfaction"], su, column="eblup"))
    sm = sm.merge(pd.DataFrame(su[["subdistrict_id", "district_id", "eblup_low", "eblup_high", "n"]]).rename(
        columns={"subdistrict_id": "id"}), on="id", how="left")
    sat_cells = [fmt.interval(e, lo, hi, digits=1) for e, lo, hi in zip(sm["own"], sm["eblup_low"], sm["eblup_high"])]
    shown = report.table(pd.DataFrame({
        "Cluster": sm["cluster"].map(cluster_name), "Sub-district": sm["name"],
        "District": sm["district_id"].map(district_name),
        f"{measures.label('sat_score')}, Fay–Herriot (95% CI)": sat_cells,
        "Neighbours' mean": [fmt.number(x, 1) for x in sm["neighbours"]], "Respondents": sm["n"].map(fmt.count),
        "Adjusted p": [fmt.pvalue(x) for x in sm["p_adj"]]}),
        caption=f"Sub-districts that are hot or cold spots of the {measures.label('sat_score').lower()}, survey years "
                f"{survey_span} pooled: the Fay–Herriot estimate with its 95% interval, the mean of the bordering "
                "sub-districts' estimates, respondents, and the local p-value after the false-discovery-rate "
                f"correction. A hot spot is high against the average sub-district with high neighbours (a cold spot "
                "low with low neighbours); its own estimate can lie close to the city mean "
                f"({fmt.number(city_sat['estimate'], 1)}).", data=sm,
        notes=(f"{fmt.DEGENERATE_NOTE[0]} The sub-district's design-based standard error is close to zero (its few "
               "sampled communities gave almost the same mean), so the model keeps its direct estimate and the "
               "interval has no width at this precision; its real uncertainty is larger."
               if any(fmt.DEGENERATE_NOTE[0] in c for c in sat_cells) else None)) if len(sm) else report.md(
        "No sub-district is a hot or cold spot of satisfaction under the hot-spot rule.")
else:
    shown = report.md("")
shown

# %% [markdown]
# ### All measures side by side
#
# Global Moran's I of each analysis beside the central 95% of its values in random rearrangements
# of the same values, then the number of units in each local cluster.

# %%
label = {"registration": f"{measures.label('registration')}, communities",
         "registration_raw": f"{measures.label('registration')}, communities, unstandardised rates",
         "registration_within": f"{measures.label('registration')}, communities, within districts",
         "coverage_communities": f"{measures.label('org_coverage')}, communities",
         "coverage_subdistricts": f"{measures.label('org_coverage')}, sub-districts",
         "satisfaction": f"{measures.label('sat_score')}, sub-districts"}
analysed = {"eb_rate": "EB-standardised rate", "raw": "value as given"}
analysed_as = {"registration_raw": "observed rate", "registration_within": "rate minus district rate",
               "satisfaction": "Fay–Herriot estimate"}

# %%
mt = moran.reset_index()
mt["label"] = mt["measure"].map(label)
if mt.empty:
    shown = report.md("*No analysis could be run on these data.*")
else:
    shown = report.table(pd.DataFrame({
        "Measure": mt["label"], "Values analysed": [analysed_as.get(k, analysed[m]) for k, m in
                                                    zip(mt["measure"], mt["method"])],
        "Units": mt["units"].map(fmt.count), "Moran's I": [fmt.number(x, fmt.digits_for(estimate=x)) for x in mt["I"]],
        "95% under spatial randomness": [f"{fmt.number(a, 3)} to {fmt.number(b, 3)}" for a, b in
                                         zip(mt["null_low"], mt["null_high"])],
        "Pseudo p": [fmt.pvalue(x) for x in mt["p_sim"]], "Pattern": mt["side"].map(pattern)}),
        caption=f"Global Moran's I of each analysis, {year} (satisfaction: survey years pooled), beside the central "
                f"95% of its values in {fmt.count(permutations)} random rearrangements of the same values; its "
                "expectation under spatial randomness is about zero.", data=mt)
shown

# %%
lt = ss.lisa_table(lisa)
lt["label"] = lt["measure"].map(label)
shown = report.md("") if lt.empty else report.table(pd.DataFrame({
    "Measure": lt["label"], "Units": lt["units"].map(fmt.count), "Hot spots": lt["High-High"].map(fmt.count),
    "Cold spots": lt["Low-Low"].map(fmt.count), "High-Low outliers": lt["High-Low"].map(fmt.count),
    "Low-High outliers": lt["Low-High"].map(fmt.count), "Not significant": lt["Not significant"].map(fmt.count)}),
    caption="Units in each local cluster under the hot-spot rule.", data=lt)
shown

# %% [markdown]
# ## Claims tested
#
# The hypothesis is about a pattern, not an effect: the verdict says whether the data are
# consistent with it, with Moran's I judged against random rearrangements of the same rates (one-sided, at the
# 5% level).

# %%
words = dict(zip((1, 0, -1), verdicts.VERDICT_WORDS["association"]))
claim_rows = [(k, text) for k, text in (
    ("registration", "Community registration rates are positively spatially autocorrelated"),
    ("registration_within", "They remain so within districts (each rate minus its district's)")) if k in glob]
claim_data = pd.DataFrame([{"claim": text, "design": "cross-section, permutation test", **moran.loc[k].to_dict(),
                            "verdict": words[moran.loc[k, "side"]]} for k, text in claim_rows])
shown = report.table(pd.DataFrame({
    "Hypothesis": claim_data["claim"], "Design": "cross-section (pattern, not an effect)",
    "Moran's I (95% under spatial randomness)": [f"{fmt.number(i, fmt.digits_for(estimate=i))} ({fmt.number(a, 3)} to {fmt.number(b, 3)})"
                                                 for i, a, b in zip(claim_data["I"], claim_data["null_low"],
                                                                    claim_data["null_high"])],
    "Pseudo p": [fmt.pvalue(p) for p in claim_data["p_sim"]], "Verdict": claim_data["verdict"]}),
    caption=f"The hypothesis tested in this report, {year}, its design and verdict.", data=claim_data) if claim_rows else \
    report.md("*No member counts: the claim about registration is not tested.*")
shown

# %%
# Synthetic data only: the generator's true registration probabilities are known.
check = (ss.registration_truth(data_dir, year, units["registration"], w["registration"], lisa["registration"],
                               city_reg, **perm) if "registration" in lisa else None)
shown = []
if check is not None:
    t, raw, eb = check.moran_true, glob["registration_raw"], glob["registration"]
    shown.append(report.md(
        "## Validation against the planted truth\n\nThe generator wrote each community's true registration "
        "probability. If the hot and cold spots are real, the true probabilities are themselves clustered, and "
        "hot-spot communities truly register above the city rate and cold-spot communities below it. Binomial "
        "noise tends to dilute a pattern, so the observed rates' Moran's I is expected somewhat below the true "
        "probabilities' one; in a single draw it can also come out above it. The shipped city is one draw of the "
        "generator."))
    shown.append(report.md(
        "On the same neighbours, Moran's I of the true probabilities is **{t}**; the observed rates give **{r}**, "
        "{rs} it, and the standardised rates **{e}** (they divide each departure by its expected noise, so they are "
        "not on the probabilities' scale).{within}", t=fmt.number(t.I, fmt.digits_for(estimate=t.I)), r=fmt.number(raw.I, fmt.digits_for(estimate=raw.I)),
        rs="below" if raw.I < t.I else "above", e=fmt.number(eb.I, fmt.digits_for(estimate=eb.I)),
        within="" if "registration_within" not in glob else (
            f" Net of district differences, the true probabilities give {fmt.number(check.moran_true_within.I, fmt.digits_for(estimate=check.moran_true_within.I))} "
            f"and the observed rates {fmt.number(glob['registration_within'].I, fmt.digits_for(estimate=glob['registration_within'].I))}"
            + (", above the truth in this draw." if glob["registration_within"].I > check.moran_true_within.I
               else "."))))
    ct = check.clusters
    shown.append(report.table(pd.DataFrame({
        "Cluster": ct["cluster"].map(cluster_name), "Communities": ct["communities"].map(fmt.count),
        "Mean true probability": [fmt.percent(x) for x in ct["mean_true_p"]],
        "Truly above the city rate": [fmt.percent(x) for x in ct["share_true_above_city"]]}),
        caption=f"The true registration probabilities of the communities in each cluster, {year}, against the observed "
                f"city rate of {fmt.percent(city_reg)}.", data=ct))
    share = ct.set_index("cluster")["share_true_above_city"]
    said = [f"{fmt.percent(share[c])} of the {name} communities" for c, name in (("High-High", "hot-spot"),
                                                                              ("Low-Low", "cold-spot")) if c in share]
    shown += [report.md("Truly registering above the city rate: {t}.", t=" and ".join(said))] if said else []
display(*shown)

# %% [markdown]
# ## Caveats
#
# - Moran's I depends on the neighbours chosen. Queen contiguity gives a large rural village as
#   many neighbours as a small urban compound; distance bands or k nearest neighbours would be a
#   useful check.
# - Linking islands and detached groups to their nearest unit is a choice; dropping them would
#   change the statistics slightly (the tables of neighbours name every such unit).
# - Pseudo p-values cannot fall below 1/(permutations + 1); that smallest value means "more extreme
#   than every rearrangement", not an exact probability.
# - Much of the clustering can follow district boundaries: districts differ as wholes, which
#   contiguity picks up as spatial autocorrelation; for registration, the within-district analysis
#   separates the two.
#   Neither analysis says whether neighbouring communities influence each other or share a cause.

# %% [markdown]
# ## Measures

# %%
used = [k for k, has in (("registration", has_members), ("org_coverage", has_orgs), ("sat_score", has_survey)) if has]
shown = report.md("*No measure could be computed from these data.*") if not used else report.table(
    measures.glossary(used), caption="The measures of this report: definition, source and scale.")
shown

# %% [markdown]
# ## Methods and references
#
# Spatial autocorrelation: global Moran's I (Moran 1950) and local Moran statistics (Anselin 1995)
# by permutation, rates standardised by empirical Bayes (Assunção & Reis 1999); local p-values
# corrected by the false discovery rate (Benjamini & Hochberg 1995). Smoothed rates on the maps:
# empirical-Bayes beta-binomial, towards the city-wide rate (Rao & Molina 2015). Satisfaction: design-based means with
# Taylor-linearised variances (Binder 1983; Lumley 2010), shrunk by a Fay–Herriot model (Fay &
# Herriot 1979).

# %%
report.md(references.references(["moran1950", "anselin1995", "assuncao1999", "benjamini1995", "raomolina2015",
                                 "binder1983", "lumley2010", "fayherriot1979"]))

# %% [markdown]
# ## Headline findings

# %%
how = {k: f"queen contiguity, pseudo p {fmt.pvalue(m.p_sim)} ({permutations} permutations)" for k, m in glob.items()}
fdr = f"false discovery rate {fmt.percent(ss.LISA_ALPHA, 0)}"
if "registration" in glob:
    c = counts["registration"]
    # the planted probabilities are on the rates' scale: their Moran's I goes beside the observed rates' one,
    # not beside the EB-standardised rates' (each departure divided by its expected noise)
    findings.record("moran_registration_eb", glob["registration"].I, unit="Moran's I",
                    note=f"EB-standardised rates, communities {year}, {how['registration']}",
                    label=f"Clustering of member registration across communities, standardised rates (Moran's I), "
                          f"{year}")
    findings.record("moran_registration_observed", glob["registration_raw"].I, unit="Moran's I",
                    truth=check.moran_true.I if check else None,
                    note=f"observed rates, communities {year}, {how['registration_raw']}",
                    label=f"Clustering of member registration across communities, observed rates (Moran's I), {year}")
    if "registration_within" in glob:
        findings.record("moran_registration_within_districts", glob["registration_within"].I, unit="Moran's I",
                        truth=check.moran_true_within.I if check else None,
                        note=f"rate minus district rate, communities {year}, {how['registration_within']}",
                        label=f"Clustering of member registration within districts (Moran's I), {year}")
    findings.record("lisa_registration_hot_spots", int(c.get("High-High", 0)), unit="communities",
                    note=f"High-High, {fdr}", label=f"Hot spots of member registration, {year}")
    findings.record("lisa_registration_cold_spots", int(c.get("Low-Low", 0)), unit="communities",
                    note=f"Low-Low, {fdr}", label=f"Cold spots of member registration, {year}")

# %%
for k, name, level in (("coverage_communities", "moran_coverage_eb_communities", "communities"),
                       ("coverage_subdistricts", "moran_coverage_eb_subdistricts", "sub-districts")):
    if k in glob:
        findings.record(name, glob[k].I, unit="Moran's I", note=f"EB-standardised rates, {level} {year}, {how[k]}",
                        label=f"Clustering of organisational coverage across {level} (Moran's I), {year}")
if "satisfaction" in glob:
    findings.record("moran_satisfaction_subdistricts", glob["satisfaction"].I, unit="Moran's I",
                    note=f"Fay-Herriot sub-district means, survey years {survey_span}, {how['satisfaction']}",
                    label=f"Clustering of the satisfaction thermometer across sub-districts (Moran's I), {survey_span}")
findings.display()
