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
# # Spatial patterns: where coverage, participation and satisfaction cluster
#
# **Question.** Do neighbouring communities and sub-districts resemble each other in how far
# party-building work reaches organisations (coverage), how many in-service members register
# where they live (participation) and how residents judge the service (satisfaction), more than
# chance would give? And where are the hot spots and cold spots?
#
# **Claim tested.** Registration and coverage share a spatially smooth influence (in the synthetic
# city, a planted latent field that varies smoothly over a few kilometres), so community
# registration rates are positively spatially autocorrelated: global Moran's I above its
# expectation under spatial randomness.

# %% tags=["parameters"]
data_dir = None  # the data folder (None: the shipped default data in data/)
year = None  # year of the administrative rates (None: the last year in the data)
seed = 20240501  # seed of every permutation test
permutations = 999  # permutations per test (at least 999)
alpha = 0.05  # significance level of the LISA cluster maps, after the FDR correction

# %%
# %load_ext autoreload
# %autoreload 2
import matplotlib.pyplot as plt

from helpers.data import concepts, load
from helpers.data.truth import is_synthetic
from helpers.publish import findings, report
from helpers.publish import notebook as nb
from helpers.stats import spatial
from helpers.studies import spatial as ss
from helpers.viz import maps, style

meta = nb.setup(data_dir)
nb.data_statement(meta)

# %% [markdown]
# ## Data and measures
#
# One measure per outcome family, each at the finest level where it is not pure noise:
#
# - **Coverage**: eligible organisations (non-public enterprises and social organisations) active at
#   the end of the year with a party organisation of their own or a joint one, over all active
#   eligible organisations, by community and, summed, by sub-district.
# - **Participation**: in-service party members registered in their residence community, over
#   in-service members living there, by community.
# - **Satisfaction**: residents' overall satisfaction (0-100) from the resident survey. A community
#   is sampled in a few years at most, with a small group of respondents, so satisfaction is estimated by
#   sub-district: the yearly samples are pooled (strata district x year, clusters the sampled
#   communities), design-based means are computed for each sub-district, and a Fay-Herriot model
#   shrinks the noisier ones towards the city mean.

# %%
year = load.study_period(data_dir).last if year is None else year
synthetic = is_synthetic(data_dir)
districts = load.load_districts(data_dir)
subdistricts = load.load_subdistricts(data_dir)
com = ss.community_rates(load.load_community_boundaries(data_dir), load.load_members(data_dir),
                         load.load_organisations(data_dir), year)
sub = ss.subdistrict_rates(com, subdistricts)
sat = ss.subdistrict_satisfaction(load.load_survey(data_dir=data_dir), subdistricts)

# %%
city_reg = com["registered"].sum() / com["in_service_resident"].sum()
city_cov = com["covered"].sum() / com["active"].sum()
report.md("In **{y}** the city's **{c:,}** communities count **{m:,}** in-service members, of whom **{r:.1%}** "
          "are registered where they live; **{a:,}** eligible organisations are active in **{co:,}** communities "
          "(the other **{nco:,}** have none), and **{cv:.1%}** of them are covered. The pooled survey reaches "
          "**{s}** of **{ns}** sub-districts with at least **{k}** respondents in more than one sampled "
          "community-year; "
          "a community has **{o:.1f}** eligible organisations on average where it has any.",
          y=year, c=len(com), m=int(com["in_service_resident"].sum()), r=city_reg, a=int(com["active"].sum()),
          co=int((com["active"] > 0).sum()), nco=int((com["active"] == 0).sum()), cv=city_cov,
          s=int(sat["eblup"].notna().sum()), ns=len(sat), k=report.min_respondents(),
          o=com.loc[com["active"] > 0, "active"].mean())

# %% [markdown]
# ## Method
#
# **Neighbours.** Two units are neighbours when their boundaries touch at an edge or a corner
# (queen contiguity); weights are row-standardised, so a unit's *spatial lag* is the mean of its
# neighbours. Each analysis keeps only the units with a value, which can leave a unit without any
# neighbour (an *island*) or a group cut off from the rest; those are named below and linked to
# their nearest unit, so that no unit silently drops out of the statistics. The first table
# summarises the four sets of weights; the second lists every island and the unit it was linked to.
#
# **Global Moran's I** measures how strongly each unit's value goes with its neighbours' mean; under
# spatial randomness its expectation is -1/(n-1), about zero. Its significance is judged against
# the values of I in random relabellings of the map (permutations, seeded). For rates, small
# denominators would dominate by their noise alone, so rates are analysed after the empirical-Bayes
# standardisation of Assunção and Reis (1999): each rate minus the city rate, over its expected
# standard deviation given its denominator.
#
# **Local Moran (LISA)** tests each unit against its neighbours by conditional permutation. With
# hundreds of simultaneous tests, p-values are corrected by the false discovery rate
# (Benjamini-Hochberg); a unit is a *hot spot* (High-High) when it and its neighbours are high, a
# *cold spot* (Low-Low) when both are low, and an outlier (High-Low, Low-High) otherwise.
#
# **Within districts.** Districts differ as wholes, and contiguity picks that up as clustering too.
# To see clustering that district differences cannot explain, registration is also analysed as each
# community's departure from its own district's rate.

# %%
reg_units = com[com["in_service_resident"] > 0]
reg_units = reg_units.assign(
    registration_within=ss.within_district(reg_units, "registered", "in_service_resident"))
cov_units = com[com["active"] > 0]
sat_units = sat[sat["eblup"].notna()]
w = {"communities with in-service members": ss.build_weights(reg_units, "community_id"),
     "communities with eligible organisations": ss.build_weights(cov_units, "community_id"),
     "sub-districts": ss.build_weights(sub, "subdistrict_id"),
     "sub-districts with enough survey respondents": ss.build_weights(sat_units, "subdistrict_id")}
report.table(ss.weights_table(w))

# %%
report.table(ss.islands_table(w))

# %%
w_reg, w_cov, w_sub, w_sat = w.values()
glob = {
    "Registration, communities": spatial.moran_rate(reg_units, "registered", "in_service_resident", w_reg,
                                                    seed=seed, permutations=permutations),
    "Registration, communities (raw rates)": spatial.moran(reg_units, "registration_rate", w_reg, seed=seed,
                                                           permutations=permutations),
    "Registration, communities, within districts": spatial.moran(reg_units, "registration_within", w_reg,
                                                                 seed=seed, permutations=permutations),
    "Coverage, communities": spatial.moran_rate(cov_units, "covered", "active", w_cov, seed=seed,
                                                permutations=permutations),
    "Coverage, sub-districts": spatial.moran_rate(sub, "covered", "active", w_sub, seed=seed,
                                                  permutations=permutations),
    "Satisfaction, sub-districts (Fay-Herriot)": spatial.moran(sat_units, "eblup", w_sat, seed=seed,
                                                               permutations=permutations),
}
moran_tab = ss.moran_table(glob)
null = moran_tab.set_index("measure")

# %%
lisa = {
    "Registration, communities": spatial.local_moran_rate(reg_units, "registered", "in_service_resident", w_reg,
                                                          seed=seed, permutations=permutations, alpha=alpha),
    "Coverage, communities": spatial.local_moran_rate(cov_units, "covered", "active", w_cov, seed=seed,
                                                      permutations=permutations, alpha=alpha),
    "Coverage, sub-districts": spatial.local_moran_rate(sub, "covered", "active", w_sub, seed=seed,
                                                        permutations=permutations, alpha=alpha),
    "Satisfaction, sub-districts (Fay-Herriot)": spatial.local_moran(sat_units, "eblup", w_sat, seed=seed,
                                                                     permutations=permutations, alpha=alpha),
}

# %% [markdown]
# ## Results
#
# ### Participation: registration of in-service members
#
# The left map shows each community's registration rate after empirical-Bayes smoothing (small
# communities are pulled towards the city rate, so a pale or dark patch is not one noisy village);
# the right map shows the LISA clusters of the EB-standardised rates.

# %%
fig, axs = plt.subplots(1, 2, figsize=(15, 5.8))
maps.choropleth(com, "registration_eb", ax=axs[0], overlay=districts, scheme="quantiles", k=5, fmt="{:.0%}",
                legend_title="Registered in residence\ncommunity (EB-smoothed)",
                title=f"In-service members registered where they live, {year}")
maps.lisa_map(lisa["Registration, communities"], ax=axs[1], overlay=districts,
              title="Hot and cold spots of registration (EB-standardised)", synthetic=synthetic);

# %%
m_reg = glob["Registration, communities"]
lc = lisa["Registration, communities"].counts
report.md("Registration is strongly clustered: Moran's I of the EB-standardised community rates is **{i:.3f}** "
          "(expected **{e:.4f}** under spatial randomness; the central 95% of the **{p}** permuted values lie "
          "between **{lo:.3f}** and **{hi:.3f}**), pseudo p = **{ps:.3f}**, the smallest value {p} permutations "
          "can give. The LISA map finds **{hh}** hot-spot and **{ll}** cold-spot communities at an FDR of "
          "**{a:.0%}**, and **{out}** spatial outliers.",
          i=m_reg.I, e=m_reg.EI, p=m_reg.permutations, lo=null.loc["Registration, communities", "null_low"],
          hi=null.loc["Registration, communities", "null_high"], ps=m_reg.p_sim, hh=int(lc.get("High-High", 0)),
          ll=int(lc.get("Low-Low", 0)), out=int(lc.get("High-Low", 0) + lc.get("Low-High", 0)), a=alpha)

# %% [markdown]
# Where the hot and cold spots of registration lie, district by district:

# %%
report.table(ss.clusters_by_district(lisa["Registration, communities"], reg_units, districts))

# %%
fig, ax = plt.subplots(figsize=(5.4, 6.2))
maps.moran_scatterplot(m_reg, local=lisa["Registration, communities"], ax=ax,
                       title=f"Moran scatterplot: registration, {year}")
if synthetic:
    style.stamp_synthetic(fig)

# %% [markdown]
# ### Coverage of eligible organisations
#
# A community has only a handful of eligible organisations, and many have none ("No data" on the
# map), so one organisation more or less moves a community's coverage rate a long way. The map
# therefore shows EB-smoothed community rates, and hot and cold spots are sought at both levels.

# %%
fig, axs = plt.subplots(1, 2, figsize=(15, 5.8))
maps.choropleth(com, "coverage_eb", ax=axs[0], overlay=districts, scheme="quantiles", k=5, fmt="{:.0%}",
                legend_title="Organisations covered\n(EB-smoothed)",
                title=f"Organisational coverage by community, {year}")
maps.lisa_map(lisa["Coverage, sub-districts"], ax=axs[1], overlay=districts,
              title="Hot and cold spots of coverage, sub-districts", synthetic=synthetic);

# %%
m_cc, m_cs = glob["Coverage, communities"], glob["Coverage, sub-districts"]
lcc, lcs = lisa["Coverage, communities"].counts, lisa["Coverage, sub-districts"].counts
report.md("Coverage is clustered too, but more weakly: Moran's I is **{i1:.3f}** (pseudo p = **{p1:.3f}**) across "
          "**{n1}** communities and **{i2:.3f}** (p = **{p2:.3f}**) across **{n2}** sub-districts. With so few "
          "organisations per community, no single community is a significant local cluster after the FDR "
          "correction (**{k1}** of **{n1}**); summed to sub-districts, **{hh}** hot-spot and **{ll}** cold-spot "
          "sub-districts remain.",
          i1=m_cc.I, p1=m_cc.p_sim, n1=m_cc.n, i2=m_cs.I, p2=m_cs.p_sim, n2=m_cs.n,
          k1=int(m_cc.n - lcc.get("Not significant", 0)), hh=int(lcs.get("High-High", 0)),
          ll=int(lcs.get("Low-Low", 0)))

# %%
report.table(ss.cluster_members(lisa["Coverage, sub-districts"]))

# %% [markdown]
# ### Satisfaction of residents
#
# Sub-district means of overall satisfaction (0-100), all survey years pooled, after Fay-Herriot
# shrinkage, on a diverging scale centred on the city mean. Sub-districts with fewer respondents
# than the disclosure threshold would be suppressed; "No data" marks those never sampled and those sampled in a
# single community in a single year, whose mean has no design-based standard error.

# %%
city_sat = concepts.resident_survey_design(load.load_survey(data_dir=data_dir)).mean("sat_score")["estimate"].iloc[0]
fig, axs = plt.subplots(1, 2, figsize=(15, 5.8))
maps.choropleth(sat, "eblup", ax=axs[0], center=city_sat, suppressed="suppressed", overlay=districts,
                scheme="quantiles", k=4, fmt="{:.1f}", legend_title="Overall satisfaction\n(0-100, Fay-Herriot)",
                title=f"Residents' satisfaction by sub-district, {load.study_period(data_dir)}")
maps.lisa_map(lisa["Satisfaction, sub-districts (Fay-Herriot)"], ax=axs[1], overlay=districts,
              title="Hot and cold spots of satisfaction", synthetic=synthetic);

# %%
m_sat = glob["Satisfaction, sub-districts (Fay-Herriot)"]
ls_ = lisa["Satisfaction, sub-districts (Fay-Herriot)"].counts
report.md("Satisfaction, shown against the design-based city mean of **{c:.1f}** points, is clustered across "
          "the **{n}** sub-districts: Moran's I = **{i:.3f}**, pseudo p = **{p:.3f}**; **{hh}** sub-districts "
          "form hot spots and **{ll}** cold spots. Shrinkage moved the sub-district means by at most **{d:.1f}** "
          "points (the direct estimate keeps a weight between **{g0:.2f}** and **{g1:.2f}**).",
          c=city_sat, n=m_sat.n, i=m_sat.I, p=m_sat.p_sim, hh=int(ls_.get("High-High", 0)),
          ll=int(ls_.get("Low-Low", 0)), d=float((sat_units["eblup"] - sat_units["estimate"]).abs().max()),
          g0=float(sat_units["gamma"].min()), g1=float(sat_units["gamma"].max()))

# %%
report.table(ss.cluster_members(lisa["Satisfaction, sub-districts (Fay-Herriot)"]))

# %% [markdown]
# ### All measures side by side
#
# Global Moran's I with its expectation, the central 95% of its permutation distribution under
# spatial randomness, and the verdict on "positive spatial autocorrelation" (supported when I lies
# above its expectation with a pseudo p-value at or below the usual 5% level). The local clusters
# of each measure follow.

# %%
report.table(moran_tab)

# %%
report.table(ss.lisa_table(lisa))

# %% [markdown]
# ### The claim

# %%
ss.claim_sentence(null.loc["Registration, communities"],
                  "Claim: community registration rates are positively spatially autocorrelated.")

# %%
ss.claim_sentence(null.loc["Registration, communities, within districts"],
                  "The same claim net of district effects (each community's departure from its district's rate).",
                  supported="the clustering is not only districts differing as wholes",
                  otherwise="beyond districts differing as wholes, the data do not show clustering")

# %% [markdown]
# ## Validation against the planted truth
#
# The generator writes each community's true registration probability (`truth_registration.csv`).
# If the hot and cold spots are real, (1) the true probabilities are themselves autocorrelated, with
# a Moran's I that the raw observed rates should approach from below (binomial noise in observed
# rates dilutes the pattern), and (2) hot-spot communities truly register above the city rate and
# cold-spot communities below it. On real data there is no truth and this check does not apply.

# %%
check = ss.registration_truth(data_dir, year, reg_units, w_reg, lisa["Registration, communities"], city_reg,
                              seed=seed, permutations=permutations)
ss.truth_report(check, m_reg, glob["Registration, communities (raw rates)"],
                glob["Registration, communities, within districts"])

# %% [markdown]
# ## Caveats
#
# - Moran's I depends on the neighbours chosen. Queen contiguity on polygons of very different sizes
#   gives a large rural village as many neighbours as a small urban compound; distance bands or
#   k-nearest neighbours are a useful check.
# - Linking islands and detached groups to their nearest unit is a choice; dropping them changes
#   the statistics slightly (the table of weights names every such unit).
# - The pseudo p-values are bounded below by 1/(permutations + 1); that smallest value means "more
#   extreme than every permutation", not an exact probability.
# - Much of the clustering follows district boundaries: districts differ in their rates as a whole
#   (district effects), which contiguity picks up as spatial autocorrelation; the within-district
#   analysis separates the two. Neither says whether neighbours influence each other or share a
#   cause.
# - Satisfaction pools seven survey years; a sub-district's mean mixes years in which it was
#   sampled, and its interval ignores the shrinkage model's own uncertainty about the city mean.

# %% [markdown]
# ## Findings

# %%
findings.record("moran_registration_eb", m_reg.I, unit="Moran's I", truth=check.moran_true.I if check else None,
                note=f"EB rate, communities {year}, queen, p_sim={m_reg.p_sim:.3f} ({permutations} perm.)")
findings.record("moran_registration_within_districts", glob["Registration, communities, within districts"].I,
                unit="Moran's I", truth=check.moran_true_within.I if check else None,
                note="rate minus district rate, communities "
                     f"{year}, p_sim={glob['Registration, communities, within districts'].p_sim:.3f}")
findings.record("moran_coverage_eb_communities", m_cc.I, unit="Moran's I",
                note=f"EB rate, communities {year}, p_sim={m_cc.p_sim:.3f}")
findings.record("moran_coverage_eb_subdistricts", m_cs.I, unit="Moran's I",
                note=f"EB rate, sub-districts {year}, p_sim={m_cs.p_sim:.3f}")
findings.record("moran_satisfaction_subdistricts", m_sat.I, unit="Moran's I",
                note=f"Fay-Herriot sub-district means of sat_score, p_sim={m_sat.p_sim:.3f}")
findings.record("lisa_registration_hot_spots", int(lc.get("High-High", 0)), unit="communities",
                note=f"High-High, FDR {alpha:.0%}")
findings.record("lisa_registration_cold_spots", int(lc.get("Low-Low", 0)), unit="communities",
                note=f"Low-Low, FDR {alpha:.0%}")
findings.display()
