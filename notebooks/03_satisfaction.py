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
# # Satisfaction: how residents judge the service, and whether top-down assessment agrees
#
# **Question.** How satisfied are residents with community service and with their community
# overall, how many know the service centre, and how far do they trust the community committee,
# district by district and year by year? Where the survey is too thin for a direct estimate
# (sub-districts in one year), what do small-area estimates say? And do the top-down assessment
# scores (考核) that communities receive agree with what residents say?
#
# The last question is **claim 6** from the field: assessment scores track residents' satisfaction
# only weakly (assessment looks "upward" more than "downward").

# %% tags=["parameters"]
data_dir = None  # the data folder (None: the shipped default data in data/)
year = 2024  # the year of the cross-sectional tables, maps and small-area estimates
seed = 20261122  # seed of the bootstrap interval of the correlation (claim 6)

# %%
# %load_ext autoreload
# %autoreload 2
import matplotlib.pyplot as plt

from helpers.data import concepts, load
from helpers.data.truth import ground_truth, is_synthetic, truth_value
from helpers.publish import findings, report
from helpers.publish import notebook as nb
from helpers.stats import likert, smallarea
from helpers.studies import claims, common
from helpers.studies import satisfaction as sat
from helpers.viz import maps, style

meta = nb.setup(data_dir)
nb.data_statement(meta)

# %% [markdown]
# ## Data and method
#
# The resident survey is a fresh stratified two-stage sample each year: strata are districts,
# primary sampling units (PSUs) are communities drawn with probability proportional to size, and
# a sample of residents is drawn in each. Only respondents enter (their weights are already adjusted
# for nonresponse within the PSU). Every estimate is design-based: weighted, with Taylor-linearised
# standard errors that account for the strata, the clustering in PSUs and the finite-population
# correction (a stratum is a district in one year), and t intervals on the design degrees of freedom.
# Items are on a 1–5 scale (5 = best); the *top-two box* is the share answering 4 or 5.
# Estimates that rest on fewer than ten respondents are suppressed in tables and maps.

# %%
tables = load.load_all(data_dir)
synthetic = is_synthetic(data_dir)
truth = ground_truth(data_dir)
districts, subdistricts = tables["districts"], tables["subdistricts"]
cmap = concepts.community_lookup(tables)
resp = concepts.resident_respondents(tables["survey"], tables["communities"])
design = concepts.resident_survey_design(resp)
report.md("**{n:,}** respondents in **{y}** survey years, **{p:,}** sampled community-years.",
          n=len(resp), y=resp["year"].nunique(), p=len(resp[["year", "community_id"]].drop_duplicates()))

# %% [markdown]
# ## The city, year by year

# %%
items = ["sat_service", "sat_overall", "trust_committee"]
item_labels = {"sat_service": "satisfied with service", "sat_overall": "satisfied overall",
               "trust_committee": "trusts the committee", "aware_center": "aware of the service centre"}
t2b_year = likert.top_two_box(design, items, by="year")
aware_year = design.mean("aware_center", by="year")
trend = common.stack_estimates([t2b_year, aware_year])
common.trend_plot(trend, group="variable", labels=item_labels, ylabel="% of residents",
                  title="Top-two box (4 or 5 of 5) and awareness, city", synthetic=synthetic);

# %%
city_mean = likert.mean_score(design, items, by="year")
s1 = t2b_year.query("year == @year and variable == 'sat_service'").iloc[0]
o1 = t2b_year.query("year == @year and variable == 'sat_overall'").iloc[0]
a1 = aware_year.query("year == @year").iloc[0]
ms1 = city_mean.query("year == @year and variable == 'sat_service'").iloc[0]
report.md("In {y}, **{s:.1%}** of residents were satisfied with community service (4 or 5 of 5; 95% CI "
          "{sl:.1%} to {sh:.1%}; mean score **{m:.2f}**), **{o:.1%}** were satisfied overall ({ol:.1%} to "
          "{oh:.1%}) and **{a:.1%}** knew the community's service centre ({al:.1%} to {ah:.1%}).",
          y=year, s=s1["estimate"], sl=s1["ci_low"], sh=s1["ci_high"], m=ms1["estimate"], o=o1["estimate"],
          ol=o1["ci_low"], oh=o1["ci_high"], a=a1["estimate"], al=a1["ci_low"], ah=a1["ci_high"])

# %% [markdown]
# ## Districts
#
# Mean scores (1–5) and top-two-box shares (%) with 95% intervals in the chosen year; `n` is the
# smallest number of respondents behind the row's estimates.

# %%
dist_mean = likert.mean_score(design, items, by=["district_id", "year"]).query("year == @year")
dist_t2b = likert.top_two_box(design, items, by=["district_id", "year"]).query("year == @year")
dist_aware = design.mean("aware_center", by=["district_id", "year"]).query("year == @year")
estimates = {"service, mean": dist_mean[dist_mean["variable"] == "sat_service"],
             "service, % top two": dist_t2b[dist_t2b["variable"] == "sat_service"],
             "overall, mean": dist_mean[dist_mean["variable"] == "sat_overall"],
             "overall, % top two": dist_t2b[dist_t2b["variable"] == "sat_overall"],
             "trust, mean": dist_mean[dist_mean["variable"] == "trust_committee"],
             "% aware of centre": dist_aware}
pct = {k: 100 for k in estimates if "%" in k}
dist_table = sat.item_table(estimates, districts, scales=pct, decimals={k: 1 for k in pct})
report.table(dist_table, n="n", columns=list(estimates))

# %% [markdown]
# Overall satisfaction (top-two box) by district in every year, on one set of class breaks; the
# survey samples only a handful of communities per district and year, so year-to-year moves of a
# few points are mostly noise.

# %%
t2b_all = likert.top_two_box(design, "sat_overall", by=["district_id", "year"])
panels = districts.merge(t2b_all, on="district_id", how="left")
panels = report.suppress_for_plot(panels.assign(pct=100 * panels["estimate"]), n="n", columns=["pct"])
maps.small_multiples(panels, "pct", by="year", suppressed="suppressed", overlay=districts, ncols=4, k=5,
                     fmt="{:.0f}", legend_title="% satisfied overall (4-5)", panel_size=2.8,
                     suptitle="Overall satisfaction, top-two box, by district and year", synthetic=synthetic);

# %% [markdown]
# ## Sub-districts: small-area estimates
#
# In one year the survey reaches only some sub-districts, each through one or two communities and
# a few dozen respondents, so direct estimates are noisy or missing. A **Fay–Herriot** model combines
# each sampled sub-district's direct estimate of the mean overall-satisfaction score with a
# regression prediction from its share aged 60+, its migrant share (population-weighted over its
# communities) and its district, weighting the two by their precision (the EBLUP); sub-districts
# the survey did not reach get the regression prediction alone. Uncertainty is the Prasad–Rao mean
# squared error (MSE).
#
# Direct standard errors of a domain that holds a single sampled PSU are zero by construction, so
# the model uses smoothed sampling variances: the pooled within-sub-district variance times the
# median design effect of the district estimates, over each sub-district's respondent count.

# %%
resp_y = resp[resp["year"] == year]
deff = float(likert.mean_score(design, "sat_overall", by=["district_id", "year"])["deff"].median())
direct = concepts.resident_survey_design(resp_y).mean("sat_overall", by="subdistrict_id")
direct = sat.smoothed_se(direct, resp_y, "sat_overall", "subdistrict_id", deff)
area_x = sat.area_covariates(tables["communities"], cmap)
covariates = ["share_60plus", "migrant_share"]
fh = smallarea.fay_herriot(direct.merge(area_x, on="subdistrict_id"), "estimate", "se", unit="subdistrict_id",
                           covariates=covariates, group="district_id")
sae = sat.fh_all_areas(fh, area_x)
report.table(fh.coef[fh.coef["term"].isin(["Intercept", *covariates])])

# %%
n_direct = int((sae["source"] == "EBLUP").sum())
report.md("In {y}, **{k}** of the {m} sub-districts have a direct estimate (median {n:.0f} respondents). The model "
          "attributes a between-sub-district variance of **{s:.3f}** (score points squared) beyond what the "
          "covariates and districts explain, small beside the median sampling variance of **{d:.3f}**, so the "
          "EBLUPs lean on the regression (median weight on the direct estimate **{g:.2f}**). The median root MSE "
          "falls from **{a:.2f}** points (direct) to **{b:.2f}** (EBLUP); for unsampled sub-districts it is "
          "**{c:.2f}**.",
          y=year, k=n_direct, m=len(sae), n=direct["n"].median(), s=fh.sigma2_v, d=(direct["se"] ** 2).median(),
          g=fh.table["gamma"].median(), a=direct["se"].median(), b=sae.loc[sae["source"] == "EBLUP", "rmse"].median(),
          c=sae.loc[sae["source"] == "synthetic", "rmse"].median())

# %%
sae_map = subdistricts.merge(sae, on=["subdistrict_id", "district_id"], how="left").merge(
    direct[["subdistrict_id", "n"]], on="subdistrict_id", how="left")
sae_map = sae_map.assign(n=sae_map["n"].fillna(0), direct_shown=sae_map["direct"])
sae_map = report.suppress_for_plot(sae_map, n="n", columns=["direct_shown"])
classes = maps.classify(sae_map[["direct_shown", "estimate"]].stack(), scheme="quantiles", k=5, fmt="{:.2f}")
fig, axes = plt.subplots(1, 3, figsize=(15, 5))
maps.choropleth(sae_map, "direct_shown", classes=classes, ax=axes[0], overlay=districts, legend=False,
                suppressed=sae_map["suppressed"] & (sae_map["n"] > 0),
                title=f"Direct estimate, {year} (blank: not sampled)")
maps.choropleth(sae_map, "estimate", classes=classes, ax=axes[1], overlay=districts,
                legend_title="Mean score (1-5)", title="Fay-Herriot estimate")
maps.choropleth(sae_map, "rmse", ax=axes[2], overlay=districts, cmap=style.UNCERTAINTY_CMAP, k=4, fmt="{:.2f}",
                legend_title="Root MSE", title="Uncertainty of the estimate", synthetic=synthetic);

# %% [markdown]
# ## Claim 6: do top-down assessment scores agree with residents' satisfaction?
#
# Each community's assessment score is averaged over the study years and set beside its residents'
# satisfaction (the 0–100 satisfaction thermometer, averaged over every respondent the survey
# reached in that community). Community means from a few dozen respondents at most are noisy, which pulls any
# correlation towards zero; the estimate is therefore corrected for that noise (Spearman's
# disattenuation with the reliability of the community means) and its 95% interval comes from a
# bootstrap over communities. The question is about every community of the city, and the survey
# reaches a sizeable share of them, so the interval carries the finite-population correction.

# %%
scores = tables["assessment"].groupby("community_id", as_index=False)["score"].mean()
assessment = claims.CLAIMS["assessment"]
corr = assessment.fit(tables, seed=seed)
pairs = report.suppress_for_plot(sat.community_means(resp, "sat_score", scores, "score"), n="n",
                                 columns=["mean_sat_score"])
ax = pairs.plot.scatter("score", "mean_sat_score", s=8, alpha=0.5, color=style.QUALITATIVE[0], figsize=(6.5, 4.5))
ax.set(xlabel="mean assessment score 2018-2024 (0-100)", ylabel="mean resident satisfaction (0-100)",
       title="Communities: assessment score and residents' satisfaction")
if synthetic:
    style.stamp_synthetic(ax)

# %%
report.md("Across **{n:,}** surveyed communities the observed correlation is **{r:.2f}**; the reliability of the "
          "community satisfaction means is **{lam:.2f}**, and the corrected correlation is **{e:.2f}** "
          "(95% bootstrap interval {l:.2f} to {h:.2f}). Assessment scores explain about **{r2:.0%}** of the "
          "variation in what residents report.",
          n=corr["n_units"], r=corr["r_observed"], lam=corr["reliability"], e=corr["estimate"],
          l=corr["ci_low"], h=corr["ci_high"], r2=corr["estimate"] ** 2)

# %% [markdown]
# ## Claims tested
#
# Claim 6 says the agreement is *weak*. It is read here as: the correlation is positive but clearly
# below 0.5 (Cohen's threshold for a large correlation). The first row tests that it is positive;
# the second that its interval lies wholly below 0.5.

# %%
claim_rows = nb.claim_table([
    {"claim": "6a. Assessment and satisfaction agree at all (r > 0)", "estimate": corr["estimate"],
     "ci": (corr["ci_low"], corr["ci_high"]), "unit": "correlation"},
    {"claim": "6b. ... but only weakly (r < 0.5)", "estimate": corr["estimate"] - 0.5,
     "ci": (corr["ci_low"] - 0.5, corr["ci_high"] - 0.5), "unit": "correlation minus 0.5", "direction": -1},
])
report.table(claim_rows)

# %% [markdown]
# ## Validation against the planted truth
#
# On synthetic data the population correlation between each community's mean assessment score and
# its residents' expected satisfaction is known (`assessment_satisfaction_corr`). The corrected
# estimate should lie near it; the uncorrected correlation should lie below it.

# %%
checks = claims.beside_truth(assessment.estimates(corr), truth)
if checks is None:
    shown = report.md("*Real data: there is no planted truth to compare with.*")
else:
    shown = report.table(checks[["key", "estimate", "ci_low", "ci_high", "truth", "error", "covered"]].assign(
        uncorrected=corr["r_observed"]))
shown

# %% [markdown]
# ## Caveats
#
# - When the data are synthetic (see the statement at the top), the results describe a generated
#   city with planted effects: they show how the analysis works, not how any real district performs.
# - Satisfaction is self-reported and the 1–5 items are ordinal; means treat the steps as equal and
#   the top-two box does not, so both are shown.
# - District estimates rest on a handful of sampled communities per district and year (few design
#   degrees of freedom): intervals are wide and differences between neighbouring districts are
#   rarely clear.
# - The small-area model borrows strength across sub-districts of a district; a sub-district that is
#   unlike its district and was not sampled will be estimated poorly, and its MSE only partly says so.
# - The correlation in claim 6 covers the communities the survey reached (drawn with probability
#   proportional to size), which are larger on average than the rest.

# %% [markdown]
# ## Headline findings

# %%
findings.record("sat_service_top2_city", 100 * s1["estimate"], ci=(100 * s1["ci_low"], 100 * s1["ci_high"]),
                unit="% of residents", note=f"{year}; 4-5 of 5, design-based (Taylor, logit interval)")
findings.record("sat_service_mean_city", ms1["estimate"], ci=(ms1["ci_low"], ms1["ci_high"]),
                unit="score (1-5)", note=f"{year}; design-based (Taylor)")
findings.record("sat_overall_top2_city", 100 * o1["estimate"], ci=(100 * o1["ci_low"], 100 * o1["ci_high"]),
                unit="% of residents", note=f"{year}; 4-5 of 5, design-based")
findings.record("aware_center_city", 100 * a1["estimate"], ci=(100 * a1["ci_low"], 100 * a1["ci_high"]),
                unit="% of residents", note=f"{year}; design-based")
findings.record("fh_sigma2_v", fh.sigma2_v, unit="score points squared",
                note=f"{year}; Fay-Herriot REML between-sub-district variance of sat_overall mean")
findings.record("assessment_satisfaction_corr", corr["estimate"], ci=(corr["ci_low"], corr["ci_high"]),
                unit="correlation", truth=truth_value(truth, "assessment_satisfaction_corr"),
                note="claim 6: disattenuated community correlation, community bootstrap");

# %%
findings.display()
