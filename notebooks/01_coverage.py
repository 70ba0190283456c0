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
# # Coverage: organisations, mobile members and the 15-minute service circle
#
# **Question.** How far does grassroots party-building work reach, district by district and year
# by year? Three kinds of coverage are measured:
#
# 1. *organisational coverage* of the "two new" organisations (non-public enterprises and social
#    organisations): the share of active organisations with a party organisation of their own
#    (单建) or a joint one (联建), and "work coverage" (an organisation, or at least a
#    party-building instructor or contact);
# 2. *mobile members organised* (流动党员) in the community they moved to;
# 3. *service access*: the share of residents living within 1,000 m (straight line) of an open
#    service point, the "15-minute service circle" (15分钟服务圈).
#
# Two claims from the field are examined. **Claim 1** (regional platforms raise organisational
# coverage) is looked at descriptively here; its causal test, an event study of the staggered
# roll-out, is in `04_drivers`. **Claim 7** (small units give noisy rates, so league tables need
# funnel plots and shrinkage before anyone is named) decides how districts and communities are
# compared at the end.

# %% tags=["parameters"]
data_dir = None  # the data folder (None: the shipped default data in data/)
year = 2024  # the year of the cross-sectional tables and maps
seed = 20261122  # seed for the bootstrap intervals

# %%
# %load_ext autoreload
# %autoreload 2
import matplotlib.pyplot as plt

from helpers.data import concepts, load
from helpers.data.truth import ground_truth, is_synthetic, truth_value
from helpers.publish import findings, report
from helpers.publish import notebook as nb
from helpers.stats import access, compare, rates, smallarea
from helpers.studies import claims, common, coverage
from helpers.viz import maps

meta = nb.setup(data_dir)
nb.data_statement(meta)

# %% [markdown]
# ## Data
#
# All tables are read through the data contract. Organisations are counted in every year in which
# they are active (founded, not yet closed); an organisation is *covered* in a year if its party
# organisation had been set up by the end of that year. Rates are totals of numerators over totals
# of denominators (a district rate is not a mean of community rates) with 95% Wilson intervals.

# %%
tables = load.load_all(data_dir)
synthetic = is_synthetic(data_dir)
truth = ground_truth(data_dir)
cmap = concepts.community_lookup(tables)
districts, subdistricts = tables["districts"], tables["subdistricts"]
panel = concepts.organisation_years(tables["organisations"], cmap, load.study_years(tables))
report.md("The organisation table lists **{n:,}** eligible organisations; **{a:,}** of them are active "
          "in {y}, in **{c:,}** of the city's {cc:,} communities.",
          n=len(tables["organisations"]), a=int((panel["year"] == year).sum()), y=year,
          c=panel.loc[panel["year"] == year, "community_id"].nunique(), cc=len(cmap))

# %% [markdown]
# ## Organisational coverage
#
# ### The city, year by year

# %%
org_measures = {"covered": ("covered", "active"), "own": ("own", "active"), "joint": ("joint", "active")}
org_labels = {"covered": "any party organisation", "own": "own (单建)", "joint": "joint (联建)"}
city_org = rates.rates(panel, org_measures, by="year")
common.trend_plot(city_org, labels=org_labels, ylabel="% of active organisations",
                  title="Organisational coverage of two-new organisations, city", synthetic=synthetic);

# %%
first_year = int(city_org["year"].min())
c0 = city_org.query("measure == 'covered' and year == @first_year").iloc[0]
c1 = city_org.query("measure == 'covered' and year == @year").iloc[0]
own1 = city_org.query("measure == 'own' and year == @year").iloc[0]
joint1 = city_org.query("measure == 'joint' and year == @year").iloc[0]
work1 = rates.rates(panel[panel["year"] == year], {"work": ("work_covered", "active")}).iloc[0]
report.md("Coverage rose from **{a:.1%}** of active organisations in {y0} to **{b:.1%}** "
          "(95% CI {bl:.1%} to {bh:.1%}) in {y1}. Most of it is joint: in {y1}, **{j:.1%}** of active "
          "organisations belong to a joint party organisation and **{o:.1%}** have their own. Counting "
          "instructors and contacts as well, *work coverage* reaches **{w:.1%}** ({wl:.1%} to {wh:.1%}).",
          a=c0["estimate"], y0=first_year, b=c1["estimate"], bl=c1["ci_low"], bh=c1["ci_high"], y1=year,
          j=joint1["estimate"], o=own1["estimate"], w=work1["estimate"], wl=work1["ci_low"], wh=work1["ci_high"])

# %% [markdown]
# By kind of organisation (non-public enterprises and social organisations), in the chosen year:

# %%
kind_org = rates.rates(panel[panel["year"] == year], org_measures, by="kind")
report.table(common.rate_table(kind_org, None, key="kind", labels=org_labels, denominator_label="active organisations"))

# %% [markdown]
# ### Districts
#
# Coverage (%) with 95% intervals, for the chosen year. The outer counties have few organisations,
# so their intervals are wide.

# %%
dist_org = rates.rates(panel[panel["year"] == year], {**org_measures, "work": ("work_covered", "active")},
                       by="district_id")
report.table(common.rate_table(dist_org, districts, labels={**org_labels, "work": "work coverage"},
                               denominator_label="active organisations"))

# %% [markdown]
# The map shows sub-district coverage in the chosen year; its companion marks the sub-districts
# whose 95% interval lies wholly above or below the city rate.

# %%
sub_org = rates.rates(panel[panel["year"] == year], {"covered": ("covered", "active")}, by="subdistrict_id")
sub_map = subdistricts.merge(sub_org, on="subdistrict_id", how="left")
sub_map[["coverage_pct", "low_pct", "high_pct"]] = 100 * sub_map[["estimate", "ci_low", "ci_high"]]
fig, axes = plt.subplots(1, 2, figsize=(12, 5.2))
maps.choropleth(sub_map, "coverage_pct", ax=axes[0], overlay=districts, legend_title="% covered",
                title=f"Organisational coverage by sub-district, {year}", fmt="{:.0f}")
maps.uncertainty_map(sub_map, "low_pct", "high_pct", kind="excludes", reference=round(100 * c1["estimate"], 1),
                     ax=axes[1], overlay=districts, title="Interval versus the city rate",
                     synthetic=synthetic);

# %% [markdown]
# ### Claim 1, descriptively: sub-districts with and without the regional platform
#
# Sub-districts adopted the regional platform (区域化党建平台, with a joint committee) in different
# years, and some never did. The figure follows the mean sub-district coverage rate (each
# sub-district counts once) for those that had adopted by the chosen year and those that had not.
# A gap that opens after adoption is consistent with claim 1; whether it is caused by the
# platform is tested in `04_drivers` with an event study that compares each cohort with
# sub-districts not yet treated.

# %%
sub_panel = rates.rates(panel, {"covered": ("covered", "active")}, by=["subdistrict_id", "year"])
status = coverage.platform_status(tables["platform"], year)
sub_panel = sub_panel.merge(status, on="subdistrict_id", how="left")
by_status = coverage.unit_means_by_year(sub_panel, "estimate", "adopted")
common.trend_plot(by_status, group="adopted", ylabel="mean sub-district coverage, %",
                  title="Coverage by platform status (status as of the chosen year)", synthetic=synthetic);

# %%
contrast = coverage.unit_contrast(sub_panel[sub_panel["year"] == year], "estimate", "adopted",
                                  f"adopted by {year}", "not yet or never").iloc[0]
report.md("In {y}, sub-districts that had adopted the platform covered on average **{a:.1%}** of their "
          "active organisations ({na} sub-districts), those that had not **{b:.1%}** ({nb} sub-districts): "
          "a difference of **{d:.1f}** percentage points (95% Welch interval {lo:.1f} to {hi:.1f}).",
          y=year, a=contrast["mean_a"], na=int(contrast["n_a"]), b=contrast["mean_b"], nb=int(contrast["n_b"]),
          d=100 * contrast["estimate"], lo=100 * contrast["ci_low"], hi=100 * contrast["ci_high"])

# %% [markdown]
# ## Mobile members organised
#
# Mobile party members who moved into a community and were organised there, over all who moved in.

# %%
members = tables["members"].merge(cmap, on="community_id", how="left")
mob_city = rates.rates(members, {"mobile": ("mobile_organised", "mobile_in")}, by="year")
mob_dist = rates.rates(members[members["year"] == year], {"mobile": ("mobile_organised", "mobile_in")},
                       by="district_id")
report.table(common.rate_table(mob_dist, districts, labels={"mobile": "% organised"},
                               denominator_label="mobile members in"))

# %%
m1 = mob_city.query("year == @year").iloc[0]
m0 = mob_city.query("year == @first_year").iloc[0]
low = mob_dist.sort_values("estimate").iloc[0]
report.md("City-wide, **{a:.1%}** of inflowing mobile members were organised in {y} (95% CI {l:.1%} to "
          "{h:.1%}), against {b:.1%} in {y0}. The lowest district rate, {ln} at {lr:.1%}, rests on only "
          "{ld:,} mobile members.",
          a=m1["estimate"], y=year, l=m1["ci_low"], h=m1["ci_high"], b=m0["estimate"], y0=first_year,
          ln=districts.set_index("district_id").loc[low["district_id"], "name_en"], lr=low["estimate"],
          ld=int(low["denominator"]))

# %% [markdown]
# ## Service access: the 15-minute circle
#
# For each year, circles of 1,000 m are drawn around every open service point (district and
# sub-district centres and community stations); residents are spread evenly over their
# community's area, and the share of them inside the union of circles is summed to districts by
# population. A straight line of 1,000 m is roughly a 15-minute walk once detours are allowed for.

# %%
communities_geo = load.load_communities(data_dir, with_geometry=True)
acc = access.service_coverage(communities_geo, tables["service_points"])
acc_dist = common.with_names(acc.district, districts)
report.table(common.wide_by_year(acc_dist, "share_covered", scale=100))

# %%
acc_y = acc.district[acc.district["year"] == year].sort_values("share_covered")
worst = acc_y.iloc[0]
com_y = acc.community[acc.community["year"] == year]
report.md("In {y}, **{c:.1%}** of the city's residents live within 1,000 m of an open service point. "
          "The lowest district is {wn} with **{w:.1%}**; **{k:,}** communities (of {n:,}) have fewer than "
          "half of their residents inside the circle.",
          y=year, c=acc.city_share(year), wn=districts.set_index("district_id").loc[worst["district_id"], "name_en"],
          w=worst["share_covered"], k=int((com_y["share_covered"] < 0.5).sum()), n=len(com_y))

# %%
maps.access_map(acc, year, overlay=districts, title=f"Land within 1,000 m of an open service point, {year}",
                synthetic=synthetic);

# %% [markdown]
# ## Which districts lag once chance is allowed for?
#
# A league table ranks units by their raw rates, but a small unit's rate moves a lot by chance
# (claim 7). A **funnel plot** plots each unit's rate against its size with control limits around
# the city rate: inside the limits, a unit is indistinguishable from the city given its size. The
# dashed limits assume binomial variation only; the overdispersion-adjusted limits also allow for
# the real differences between units that no single target can describe (Spiegelhalter 2005).

# %%
dist_cov = dist_org[dist_org["measure"] == "covered"].merge(districts[["district_id", "name_en"]], on="district_id")
f_dist = compare.funnel_proportion(dist_cov, "numerator", "denominator", "name_en", scale=100)
common.funnel_plot(f_dist, xlabel=f"active organisations, {year}", ylabel="% covered",
                   title="Districts: organisational coverage", label_level=0.95, synthetic=synthetic);

# %%
lag = common.funnel_flags(f_dist, level=0.95)
report.table(lag)

# %%
lagging = lag.loc[lag["verdict (adjusted 95% limits)"] == "below", "unit"].tolist()
report.md("Below the overdispersion-adjusted 95% limits: **{names}**. These are the districts whose "
          "shortfall is larger than chance and ordinary between-district variation would produce. "
          "A district below the binomial limits but inside the adjusted ones is not named here.",
          names=", ".join(lagging) if lagging else "none")

# %% [markdown]
# ### Communities: the funnel, shrinkage and the "worst ten"
#
# Communities hold few organisations each, so one organisation more or less moves a community's
# raw rate by a large step. The funnel below shows how wide chance alone makes the limits; empirical-Bayes shrinkage
# (beta-binomial, one prior per district) pulls each community's rate towards its district's by an
# amount that depends on its size.

# %%
com_cov = panel[panel["year"] == year].groupby("community_id", as_index=False)[["covered", "active"]].sum()
f_com = compare.funnel_proportion(com_cov, "covered", "active", "community_id", scale=100)
common.funnel_plot(f_com, xlabel=f"active organisations in the community, {year}", ylabel="% covered",
                   title="Communities: organisational coverage", max_labels=0, synthetic=synthetic);

# %%
com_eb = smallarea.eb_beta_binomial(com_cov.merge(cmap, on="community_id"), "covered", "active",
                                    unit="community_id", group="district_id")
worst = common.worst_ten(com_eb, f_com)
report.table(worst)

# %%
spread = coverage.spread_by_size(com_cov, "covered", "active", seed=seed).iloc[0]
out_raw = int((f_com.table["flag_95"] == "low").sum())
out_adj = int((f_com.table["flag_od_99_8"] == "low").sum())
report.md("Of the {w} communities with the lowest raw rates, **{k}** lie below the adjusted 99.8% limits. "
          "Raw rates scatter far more in small communities (fewer than {m:.0f} active organisations): their "
          "standard deviation is **{a:.1f}** percentage points against **{b:.1f}** in larger ones, a gap of "
          "**{d:.1f}** points (95% bootstrap interval {lo:.1f} to {hi:.1f}). **{r}** communities fall below "
          "the binomial 95% limits, but only **{o}** below the overdispersion-adjusted 99.8% limits.",
          w=len(worst), k=int((worst["below adjusted 99.8% limit"] == "yes").sum()), m=spread["median_denominator"],
          a=100 * spread["sd_small"], b=100 * spread["sd_large"], d=100 * spread["estimate"],
          lo=100 * spread["ci_low"], hi=100 * spread["ci_high"], r=out_raw, o=out_adj)

# %% [markdown]
# ## Claims tested
#
# Claim 1 is tested here only as an association at one point in time: platform years were assigned
# to sub-districts, so a positive gap is suggestive, but the contrast mixes cohorts with different
# exposure times; the event study in `04_drivers` estimates the effect itself. Claim 7 is supported
# when small communities' raw rates scatter more than large ones' (a positive gap).

# %%
claim_rows = nb.claim_table([
    {"claim": f"1. Platform sub-districts have higher coverage ({year}, descriptive)",
     "estimate": 100 * contrast["estimate"], "ci": (100 * contrast["ci_low"], 100 * contrast["ci_high"]),
     "unit": "percentage points"},
    {"claim": "7. Small communities' raw rates are noisier (SD gap)", "estimate": 100 * spread["estimate"],
     "ci": (100 * spread["ci_low"], 100 * spread["ci_high"]), "unit": "percentage points"},
])
report.table(claim_rows)

# %% [markdown]
# ## Validation against the planted truth
#
# On synthetic data the generator's effect of the platform is known: `platform_att`, the mean effect
# on the sub-district coverage rate over the first four years after adoption. It is not the same
# quantity as the cross-sectional gap above (which mixes cohorts adopted in different years and
# all their pre-existing coverage), so it is shown as a scale reference, not a test; the test is
# in `04_drivers`.

# %%
att_truth = truth_value(truth, "platform_att")
if att_truth is None:
    display_truth = report.md("*Real data: there is no planted truth to compare with.*")
else:
    display_truth = report.md("Planted average effect of adoption over event times 0-3: **{t:.1f}** percentage "
                              "points; descriptive gap in {y}: **{d:.1f}** ({lo:.1f} to {hi:.1f}).",
                              t=att_truth, y=year, d=100 * contrast["estimate"], lo=100 * contrast["ci_low"],
                              hi=100 * contrast["ci_high"])
display_truth

# %% [markdown]
# ## Caveats
#
# - When the data are synthetic (see the statement at the top), the results describe a generated
#   city with planted effects: they show how the analysis works, not how any real district performs.
# - The instructor/contact flag of an organisation is not dated, so work coverage assumes it held in
#   every year the organisation was active.
# - Service access uses straight-line distance and residents spread evenly over each community;
#   walking routes and where people actually live would lower it, especially in large rural
#   communities.
# - The platform contrast is descriptive; see `04_drivers` for the causal estimate.
# - District and community rankings should be read with the funnel plots: only units outside the
#   adjusted limits differ from the city by more than chance and ordinary variation.

# %% [markdown]
# ## Headline findings

# %%
findings.record("org_coverage_city", 100 * c1["estimate"], ci=(100 * c1["ci_low"], 100 * c1["ci_high"]),
                unit="% of active organisations", note=f"{year}; own or joint party organisation, Wilson")
findings.record("org_coverage_joint_share", 100 * joint1["estimate"], ci=(100 * joint1["ci_low"], 100 * joint1["ci_high"]),
                unit="% of active organisations", note=f"{year}; joint (联建) party organisation, Wilson")
findings.record("work_coverage_city", 100 * work1["estimate"], ci=(100 * work1["ci_low"], 100 * work1["ci_high"]),
                unit="% of active organisations", note=f"{year}; organisation or instructor/contact, Wilson")
findings.record("mobile_organised_city", 100 * m1["estimate"], ci=(100 * m1["ci_low"], 100 * m1["ci_high"]),
                unit="% of inflowing mobile members", note=f"{year}, Wilson")
findings.record("service_circle_city", 100 * acc.city_share(year), unit="% of residents",
                note=f"{year}; within 1,000 m of an open service point, even spread over community area")
findings.record("platform_gap_descriptive", 100 * contrast["estimate"],
                ci=(100 * contrast["ci_low"], 100 * contrast["ci_high"]), unit="percentage points",
                note=f"claim 1, descriptive: adopted minus not-yet sub-districts in {year}, Welch")
findings.record("districts_lagging_adjusted95", len(lagging), unit="districts",
                note="below overdispersion-adjusted 95% funnel limits, organisational coverage")
findings.record("community_sd_gap_small_large", 100 * spread["estimate"],
                ci=(100 * spread["ci_low"], 100 * spread["ci_high"]), unit="percentage points",
                note="claim 7: SD of raw community rates, small minus large, bootstrap");

# %%
findings.display()
