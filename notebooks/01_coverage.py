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
# # Coverage: organisations, mobile members and the 1 km service circle
#
# **Question.** How far does grassroots party-building work reach, district by district and year
# by year? Three kinds of coverage are measured:
#
# 1. *organisational coverage* of the "two new" organisations (两新组织: non-public enterprises and
#    social organisations): the share of active organisations with a party organisation of their
#    own (单建) or a joint one (联建), and *work coverage* (a party organisation, or at least a
#    party-building instructor or contact);
# 2. *mobile members organised* (流动党员) in the community they moved to;
# 3. *the 1 km service circle*: the share of residents living within 1,000 m in a straight line of
#    an open service point. It is the distance this collection uses for the policy's "15-minute
#    service circle" (15分钟服务圈), not a measured walking time; residents' own reports of their
#    walking time are analysed in [Drivers](04_drivers.html) and enter the district index
#    ([Index](06_index.html)).
#
# Two claims from the field are examined. **Claim 1** (regional platforms raise organisational
# coverage) is looked at here only descriptively, comparing sub-districts with and without the
# platform in one year; its causal test, an event study of the staggered roll-out, is in
# [Drivers](04_drivers.html). **Claim 7** (small units give noisy rates, so league tables need
# funnel plots and shrinkage before anyone is named) decides how districts, sub-districts and
# communities are compared with the city.

# %% tags=["parameters"]
data_dir = None  # the data folder (None: the shipped default data in data/)
year = None  # the year of the cross-sectional tables and maps (None: the latest year in the data)
seed = 20261122  # seed of the bootstrap interval of claim 7

# %%
# %load_ext autoreload
# %autoreload 2
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

from helpers.data import concepts, load
from helpers.data.truth import ground_truth, is_synthetic, truth_value
from helpers.publish import findings, fmt, references, report
from helpers.publish import notebook as nb
from helpers.stats import access, rates, smallarea
from helpers.studies import common, coverage, measures, verdicts
from helpers.viz import maps

meta = nb.setup(data_dir)
nb.data_statement(meta, data_dir)

# %% [markdown]
# ## Data
#
# Organisations are counted in every year in which they are active (founded and not yet closed);
# an active organisation is *covered* in a year if its party organisation had been set up by the
# end of that year. Rates are totals of numerators over totals of denominators (a district's rate
# is not a mean of its communities' rates), with 95% Wilson intervals. A district, sub-district or
# community is said to differ from the city only when its rate lies outside the
# overdispersion-adjusted 95% funnel limits around the city rate: beyond them the gap is larger
# than chance and the ordinary variation between units would produce.

# %%
tables = load.load_all(data_dir, tables=["districts", "subdistricts", "community_boundaries", "communities",
                                         "organisations", "platform", "members", "service_points"])
synthetic, truth = is_synthetic(data_dir), ground_truth(data_dir)
period = load.study_period(tables)
year = period.last if year is None else int(year)
if year not in period.years:
    raise ValueError(f"year {year} lies outside the data's study period {period}; choose one of {period.years}")
has_platform, has_members, has_points = ("platform" in tables, "members" in tables, "service_points" in tables)
cmap = concepts.community_lookup(tables)
districts, subdistricts = tables["districts"], tables["subdistricts"]
names = districts.set_index("district_id")["name_en"]
panel = concepts.organisation_years(tables["organisations"], cmap, period.years)
panel_year = panel[panel["year"] == year]
absent = [what for what, has in (("the platform roll-out (claim 1)", has_platform),
                                  ("party members (mobile members organised)", has_members),
                                  ("service points (the service circle)", has_points)) if not has]
report.md("The organisation table lists **{n}** eligible organisations; **{a}** of them are active in {y}, in "
          "**{c}** of the city's {cc} communities. Trends cover {p}; tables and maps show {y}.{ab}",
          n=fmt.count(len(tables["organisations"])), a=fmt.count(len(panel_year)), y=year,
          c=fmt.count(panel_year["community_id"].nunique()), cc=fmt.count(len(cmap)),
          p=f"{period.first}–{period.last}",
          ab="" if not absent else " The data have no table of " + (
              absent[0] if len(absent) == 1 else ", ".join(absent[:-1]) + " or " + absent[-1])
          + f", so the section{'s' if len(absent) > 1 else ''} that need{'' if len(absent) > 1 else 's'} "
          + ("them are" if len(absent) > 1 else "it is") + " skipped.")

# %% [markdown]
# ## Organisational coverage
#
# ### The city, year by year

# %%
org_measures = {"org_coverage": ("covered", "active"), "own_org": ("own", "active"),
                "joint_org": ("joint", "active")}
city_org = rates.rates(panel, org_measures, by="year")
ax = common.trend_plot(city_org, labels={m: measures.label(m) for m in org_measures}, ylabel="% of active eligible organisations",
                       synthetic=synthetic)
report.figure(ax, caption=f"{measures.label('org_coverage')} of two-new organisations, city, {period.first}–"
                          f"{period.last}, and its two modes, own and joint party organisations (95% Wilson "
                          "intervals shaded).",
              alt="Three lines over the years: the share of active two-new organisations with any party "
                  "organisation, with their own, and with a joint one, each with a shaded 95% interval.",
              data=city_org)

# %%
first_year = int(city_org["year"].min())
c0 = city_org.query("measure == 'org_coverage' and year == @first_year").iloc[0]
c1 = city_org.query("measure == 'org_coverage' and year == @year").iloc[0]
own1 = city_org.query("measure == 'own_org' and year == @year").iloc[0]
joint1 = city_org.query("measure == 'joint_org' and year == @year").iloc[0]
work1 = rates.rates(panel_year, {"work_coverage": ("work_covered", "active")}).iloc[0]
report.md(("Organisational coverage went from **{a}** of active organisations in {y0} to **{b}** in {y1} (95% CI "
           "{bl} to {bh}). " if first_year != year else "Organisational coverage was **{b}** of active organisations "
           "in {y1} (95% CI {bl} to {bh}). ")
          + "In {y1}, **{j}** of active organisations belonged to a joint party organisation and **{o}** had "
          "their own. Counting instructors and contacts as well, work coverage reached **{w}** (95% CI {wl} to {wh}).",
          a=fmt.percent(c0["estimate"]), y0=first_year, b=fmt.percent(c1["estimate"]), bl=fmt.percent(c1["ci_low"]),
          bh=fmt.percent(c1["ci_high"]), y1=year, j=fmt.percent(joint1["estimate"]), o=fmt.percent(own1["estimate"]),
          w=fmt.percent(work1["estimate"]), wl=fmt.percent(work1["ci_low"]), wh=fmt.percent(work1["ci_high"]))

# %%
all_measures = {**org_measures, "work_coverage": ("work_covered", "active")}
kind_org = rates.rates(panel_year, all_measures, by="kind")
kind_table = common.rate_table(kind_org, None, key="kind", labels={m: measures.label(m, unit=True) for m in all_measures},
                               denominator_label="Active organisations")
kind_table["kind"] = kind_table["kind"].map({"non_public_enterprise": "Non-public enterprises (非公企业)",
                                             "social_organisation": "Social organisations (社会组织)"})
report.table(kind_table.rename(columns={"kind": "Kind of organisation"}),
             caption=f"Coverage by kind of organisation, {year}, with 95% Wilson intervals.", data=kind_org)

# %% [markdown]
# ### Districts
#
# Each district's coverage with its 95% interval, and whether it differs from the city's by the
# rule above. The funnel plot shows why the rule is needed: the outer counties have few
# organisations, so their rates move by chance far more than the core's.

# %%
dist_org = rates.rates(panel_year, all_measures, by="district_id")
dist_counts = panel_year.groupby("district_id", as_index=False)[["covered", "active"]].sum()
dist_funnel, dist_verdict = verdicts.rate_verdicts(dist_counts, "covered", "active", "district_id", scale=100,
                                                   measure="org_coverage", year=year)
dist_table = common.rate_table(dist_org, districts, labels={m: measures.label(m, unit=True) for m in all_measures},
                               denominator_label="Active organisations")
dist_table["Coverage against the city"] = dist_table["district_id"].map(
    dist_verdict.set_index("unit")["verdict"]).fillna(fmt.MISSING)
report.table(dist_table.drop(columns="district_id").rename(columns={"name_en": "District"}),
             caption=f"Coverage by district, {year}, with 95% Wilson intervals, and whether the district's "
                     "organisational coverage differs from the city's (overdispersion-adjusted 95% funnel limits).",
             data=dist_org.merge(dist_verdict.rename(columns={"unit": "district_id"})[["district_id", "verdict"]],
                                 on="district_id", how="left"))

# %%
ax = common.funnel_plot(coverage.named_funnel(dist_funnel, names), xlabel=f"Active organisations in the district, {year}",
                        ylabel=measures.axis("org_coverage"), title=None, label_level=verdicts.LEVEL,
                        synthetic=synthetic)
lagging = dist_verdict.loc[dist_verdict["verdict"] == "below", "unit"].map(names).tolist()
leading = dist_verdict.loc[dist_verdict["verdict"] == "above", "unit"].map(names).tolist()
report.figure(ax, caption=f"Districts' {measures.label('org_coverage').lower()} against their number of active "
                          f"organisations, {year}, with the city rate, binomial and overdispersion-adjusted limits; "
                          "districts that differ from the city by the rule are coloured and named.",
              alt=f"A funnel plot of {fmt.count(len(dist_verdict))} districts' coverage against their number of "
                  f"active organisations; {fmt.count(len(lagging))} lie below and {fmt.count(len(leading))} above "
                  "the adjusted 95% limits.", data=dist_verdict.assign(name=dist_verdict["unit"].map(names)))

# %%
outside_binomial = int((dist_verdict["chance"] != "not distinguishable").sum())
report.md("{v} {b}",
          v=("No district's coverage lies below the city's beyond chance and ordinary variation" if not lagging else
             "Coverage lies below the city's beyond chance and ordinary variation in " + common.and_join(lagging))
          + ("; it lies above it in " + common.and_join(leading) + "." if leading else "."),
          b=("" if outside_binomial == len(lagging) + len(leading) else
             f"Chance alone (an exact binomial test) would single out {fmt.count(outside_binomial)} of "
             f"{fmt.count(len(dist_verdict))} districts; the gaps of "
             + ("all of them" if not lagging + leading else
                f"{fmt.count(outside_binomial - len(lagging) - len(leading))} of them")
             + " lie within the ordinary variation between districts, so those are not named."))

# %% [markdown]
# ### Sub-districts
#
# The left map shows each sub-district's coverage; the right one, which sub-districts differ from
# the city by the same rule (overdispersion-adjusted 95% funnel limits for sub-districts).

# %%
sub_counts = panel_year.groupby("subdistrict_id", as_index=False)[["covered", "active"]].sum()
sub_funnel, sub_verdict = verdicts.rate_verdicts(sub_counts, "covered", "active", "subdistrict_id", scale=100,
                                                 measure="org_coverage", year=year)
sub_map = coverage.verdict_map_frame(subdistricts.merge(sub_counts, on="subdistrict_id", how="left"), sub_verdict,
                                     "subdistrict_id")
sub_map["coverage_pct"] = 100 * sub_map["covered"] / sub_map["active"].where(sub_map["active"] > 0)
fig, axes = plt.subplots(1, 2, figsize=(12.5, 5.4), layout="constrained")
maps.choropleth(sub_map, "coverage_pct", ax=axes[0], overlay=districts, legend_title=measures.axis("org_coverage"),
                title=measures.label("org_coverage"), fmt="{:.0f}")
maps.category_map(sub_map, "verdict", coverage.verdict_colours(), ax=axes[1], overlay=districts,
                  legend_title="Against the city\n(adjusted 95% limits)", title="Against the city",
                  synthetic=synthetic)
sub_n = sub_verdict["verdict"].value_counts()
report.figure(fig, caption=f"{measures.label('org_coverage')} by sub-district, {year} (left), and whether each "
                           "sub-district's coverage differs from the city's by the overdispersion-adjusted 95% funnel "
                           "limits (right); district boundaries in black.",
              alt=f"Two maps of the city's sub-districts: one shaded by organisational coverage in {year}, one "
                  f"marking {fmt.count(sub_n.get('above', 0))} sub-districts above and {fmt.count(sub_n.get('below', 0))} "
                  "below the city's coverage.",
              data=sub_map.drop(columns="geometry").merge(sub_verdict[["unit", "lower", "upper"]].rename(
                  columns={"unit": "subdistrict_id"}), on="subdistrict_id", how="left"))

# %%
sub_binomial = int((sub_verdict["chance"] != "not distinguishable").sum())
report.md("Of {n} sub-districts with active organisations in {y}, **{b}** lie below and **{a}** above the city's "
          "coverage beyond chance and the ordinary variation between sub-districts; the other {o} are not "
          "distinguishable from it. Chance alone (an exact binomial test, with no allowance for the variation "
          "between sub-districts) would have singled out {k}.",
          n=fmt.count(len(sub_verdict)), y=year, b=fmt.count(sub_n.get("below", 0)), a=fmt.count(sub_n.get("above", 0)),
          o=fmt.count(sub_n.get("not distinguishable", 0)), k=fmt.count(sub_binomial))

# %% [markdown]
# ### Claim 1, descriptively: sub-districts with and without the regional platform

# %%
if has_platform:
    display(report.md("Sub-districts adopted the regional platform (区域化党建平台, with a joint committee) in "
                      "different years, and some never did. The figure follows the mean coverage of sub-districts "
                      "(each counts once) that had adopted by {y} and of those that had not. A higher level among "
                      "the adopters is consistent with claim 1 but does not show that the platform raised coverage: "
                      "the early adopters may have differed beforehand, and the comparison mixes cohorts adopted in "
                      "different years. The effect of adoption is estimated by the event study in "
                      "[Drivers](04_drivers.html), which compares each cohort with sub-districts not yet treated.",
                      y=year))
    status = coverage.platform_status(tables["platform"], year)
    groups = (f"adopted by {year}", "not yet or never")
    sub_panel = rates.rates(panel, {"covered": ("covered", "active")}, by=["subdistrict_id", "year"]).merge(
        status, on="subdistrict_id", how="inner")
    sizes = sub_panel[sub_panel["year"] == year].dropna(subset=["estimate"])["adopted"].value_counts()
    can_compare = all(sizes.get(g, 0) >= 2 for g in groups)
if has_platform and can_compare:
    by_status = coverage.unit_means_by_year(sub_panel, "estimate", "adopted")
    ax = common.trend_plot(by_status, group="adopted", labels={groups[0]: f"Adopted the platform by {year}",
                                                              groups[1]: f"Not adopted by {year}"},
                           ylabel="Mean sub-district coverage (%)", synthetic=synthetic)
    shown = report.figure(ax, caption=f"Mean {measures.label('org_coverage').lower()} of sub-districts, "
                                      f"{period.first}–{period.last}, by whether they had adopted the platform by "
                                      f"{year} (95% t intervals shaded; each sub-district counts once).",
                          alt="Two lines over the years: the mean coverage of sub-districts that had adopted the "
                              f"platform by {year} and of those that had not, with shaded 95% intervals.",
                          data=by_status)
elif has_platform:
    shown = report.md(f"*Fewer than two sub-districts with active organisations are in one of the groups in {year}: "
                      "claim 1 is not examined here.*")
else:
    shown = report.md("*The data have no platform roll-out table: this section and claim 1 are skipped.*")
shown

# %%
if has_platform and can_compare:
    contrast = coverage.unit_contrast(sub_panel[sub_panel["year"] == year], "estimate", "adopted", *groups).iloc[0]
    shown = report.md("In {y}, sub-districts that had adopted the platform covered on average **{a}** of their active "
                      "organisations ({na} sub-districts), those that had not **{b}** ({nb}): a difference of "
                      "**{d}** percentage points (95% Welch interval). This is a difference between groups in one "
                      "year, not the effect of the platform.",
                      y=year, a=fmt.percent(contrast["mean_a"]), na=fmt.count(contrast["n_a"]),
                      b=fmt.percent(contrast["mean_b"]), nb=fmt.count(contrast["n_b"]),
                      d=fmt.interval(contrast["estimate"], contrast["ci_low"], contrast["ci_high"], scale=100,
                                     se=contrast["se"]))
else:
    shown = report.md("")
shown

# %% [markdown]
# ## Mobile members organised

# %%
if has_members:
    display(report.md("Mobile party members who moved into a community and were organised there, over all who moved "
                      "in; districts are judged against the city by the same rule."))
    members = tables["members"].merge(cmap, on="community_id", how="left")
    mob_year = year if year in set(members["year"]) else int(members["year"].max())
    mobile = {"mobile_organised": ("mobile_organised", "mobile_in")}
    mob_city = rates.rates(members, mobile, by="year")
    mob_y = members[members["year"] == mob_year]
    mob_dist = rates.rates(mob_y, mobile, by="district_id")
    mob_counts = mob_y.groupby("district_id", as_index=False)[["mobile_organised", "mobile_in"]].sum()
    _, mob_verdict = verdicts.rate_verdicts(mob_counts, "mobile_organised", "mobile_in", "district_id",
                                            measure="mobile_organised", year=mob_year)
    mob_table = common.rate_table(mob_dist, districts, labels={"mobile_organised": measures.label("mobile_organised",
                                                                                                 unit=True)},
                                  denominator_label="Mobile members moving in")
    mob_table["Against the city"] = mob_table["district_id"].map(mob_verdict.set_index("unit")["verdict"]).fillna(
        fmt.MISSING)
    shown = report.table(mob_table.drop(columns="district_id").rename(columns={"name_en": "District"}),
                         caption=f"{measures.label('mobile_organised')} by district, {mob_year}, with 95% Wilson "
                                 "intervals, and whether the district differs from the city (overdispersion-adjusted "
                                 "95% funnel limits).", data=mob_dist)
else:
    shown = report.md("*The data have no party members table: this section is skipped.*")
shown

# %%
if has_members:
    m1 = mob_city.query("year == @mob_year").iloc[0]
    m0 = mob_city.iloc[0]
    mob_low = mob_verdict.loc[mob_verdict["verdict"] == "below", "unit"].map(names).tolist()
    mob_high = mob_verdict.loc[mob_verdict["verdict"] == "above", "unit"].map(names).tolist()
    shown = report.md("City-wide, **{a}** of mobile members who moved in were organised in {y} (95% CI {l} to {h}){t}. "
                      "{v}", a=fmt.percent(m1["estimate"]), y=mob_year, l=fmt.percent(m1["ci_low"]),
                      h=fmt.percent(m1["ci_high"]),
                      t=("" if int(m0["year"]) == mob_year else
                         f", against {fmt.percent(m0['estimate'])} in {int(m0['year'])}"),
                      v=("No district lies below the city beyond chance and ordinary variation" if not mob_low else
                         "Below the city beyond chance and ordinary variation: " + common.and_join(mob_low))
                      + ("; above it: " + common.and_join(mob_high) + "." if mob_high else "."))
else:
    shown = report.md("")
shown

# %% [markdown]
# ## Service access: the 1 km service circle

# %%
if has_points:
    display(report.md("For each year, circles of 1,000 m are drawn around every open service point (district and "
                      "sub-district centres and community stations). Residents are taken to be spread evenly over "
                      "their community's area, and the share of them inside the union of circles is summed to "
                      "districts by population. These shares are computed from every community, not estimated from "
                      "a sample, so they carry no sampling interval."))
    communities_geo = tables["community_boundaries"].merge(tables["communities"], on="community_id", how="left")
    acc = access.service_coverage(communities_geo, tables["service_points"], years=period.years)
    acc_dist = common.with_names(acc.district, districts)
    acc_table = common.wide_by_year(acc_dist, "share_covered", scale=100)
    shown = report.table(acc_table.drop(columns="district_id").rename(columns={"name_en": "District"}),
                         caption=f"{measures.label('service_circle')}: residents within 1,000 m in a straight line of "
                                 "an open service point, % by district and year.", data=acc.district)
else:
    shown = report.md("*The data have no service points: this section is skipped.*")
shown

# %%
if has_points:
    acc_y = acc.district[acc.district["year"] == year].sort_values("share_covered")
    com_y = acc.community[acc.community["year"] == year]
    half_d = int((acc_y["share_covered"] < 0.5).sum())
    shown = report.md("In {y}, **{c}** of the city's residents lived within 1,000 m of an open service point. District "
                      "shares ranged from {lo} to {hi}; " + ("no district had fewer than half of its residents "
                      "inside the circle, but **{k}** of {n} communities did." if half_d == 0 else "{kd} of {nd} "
                      "districts had fewer than half of their residents inside the circle, and so had **{k}** of {n} "
                      "communities."),
                      y=year, c=fmt.percent(acc.city_share(year)), lo=fmt.percent(acc_y["share_covered"].min()),
                      hi=fmt.percent(acc_y["share_covered"].max()), kd=fmt.count(half_d), nd=fmt.count(len(acc_y)),
                      k=fmt.count((com_y["share_covered"] < 0.5).sum()), n=fmt.count(len(com_y)))
    display(shown)
    ax = maps.access_map(acc, year, overlay=districts, synthetic=synthetic)
    shown = report.figure(ax, caption=f"Land within 1,000 m in a straight line of a service point open in {year}, "
                                      "with the service points and district boundaries.",
                          alt=f"A map of the city with the areas within 1,000 m of the {fmt.count(len(acc.open_points(year)))} "
                              f"service points open in {year} shaded and the rest of the land left pale.",
                          data=acc.community[acc.community["year"] == year])
else:
    shown = report.md("")
shown

# %% [markdown]
# ## Communities: small units and league tables (claim 7)
#
# Communities hold few organisations each, so one organisation more or less moves a community's
# raw rate by a large step. The funnel plot sets each community's coverage against its number of
# active organisations, with the same overdispersion-adjusted limits; only communities outside them
# differ from the city by more than chance and the ordinary variation between communities.
# Empirical-Bayes shrinkage (beta-binomial, one prior per district) pulls each community's rate
# towards its district's by an amount that depends on its size.

# %%
com_counts = panel_year.groupby("community_id", as_index=False)[["covered", "active"]].sum()
com_funnel, com_verdict = verdicts.rate_verdicts(com_counts, "covered", "active", "community_id", scale=100,
                                                 measure="org_coverage", year=year)
ax = common.funnel_plot(com_funnel, xlabel=f"Active organisations in the community, {year}",
                        ylabel=measures.axis("org_coverage"), title=None, max_labels=0, label_level=verdicts.LEVEL,
                        synthetic=synthetic)
com_n = com_verdict["verdict"].value_counts()
report.figure(ax, caption=f"Communities' {measures.label('org_coverage').lower()} against their number of active "
                          f"organisations, {year}, with the city rate, binomial and overdispersion-adjusted limits; "
                          "communities that differ from the city by the rule are coloured.",
              alt=f"A funnel plot of {fmt.count(len(com_verdict))} communities' coverage against their number of active "
                  f"organisations; {fmt.count(com_n.get('below', 0))} lie below and {fmt.count(com_n.get('above', 0))} "
                  "above the adjusted 95% limits.", data=com_verdict)

# %%
com_eb = smallarea.eb_beta_binomial(com_counts.merge(cmap, on="community_id"), "covered", "active",
                                    unit="community_id", group="district_id")
low10 = coverage.lowest_raw(com_eb, com_verdict).iloc[0]
spread = coverage.spread_by_size(com_counts, "covered", "active", seed=seed).iloc[0]
com_chance = com_verdict["chance"].value_counts()
report.md("In {y}, chance alone (an exact binomial test) would single out **{c}** of {n} communities, and {only}**{o}** "
          "differ from the city by the rule ({lo} below, {hi} above). Raw rates scatter {more} in small communities "
          "(fewer than {m} active organisations) than in larger ones: their standard deviation is **{a}** percentage "
          "points against **{b}**, a gap of **{d}** points (95% bootstrap interval). At the bottom of a league table of "
          "raw rates, {u} communities {r}, and {s} of them have fewer than {m} active organisations; shrunk towards "
          "their district's rate they lie between {e0} and {e1}, and {bel} from the city by the rule.",
          y=year, c=fmt.count(len(com_verdict) - com_chance.get("not distinguishable", 0)),
          n=fmt.count(len(com_verdict)), o=fmt.count(com_n.get("below", 0) + com_n.get("above", 0)),
          only=("only " if com_n.get("below", 0) + com_n.get("above", 0)
                < len(com_verdict) - com_chance.get("not distinguishable", 0) else "all "),
          lo=fmt.count(com_n.get("below", 0)), hi=fmt.count(com_n.get("above", 0)),
          m=fmt.number(spread["median_denominator"], 0),
          a=fmt.number(100 * spread["sd_small"], 1), b=fmt.number(100 * spread["sd_large"], 1),
          d=fmt.interval(spread["estimate"], spread["ci_low"], spread["ci_high"], scale=100),
          more=("more" if spread["ci_low"] > 0 else "less" if spread["ci_high"] < 0 else "about as much"),
          u=fmt.count(low10["units"]),
          r=(f"share the lowest raw rate, {fmt.percent(low10['raw_low'])}" if low10["raw_low"] == low10["raw_high"] else
             f"hold the lowest raw rates ({fmt.percent(low10['raw_low'])} to {fmt.percent(low10['raw_high'])})"),
          s=fmt.count(low10["small"]), e0=fmt.percent(low10["eb_low"]), e1=fmt.percent(low10["eb_high"]),
          bel=("none of them differs" if low10["below"] == 0 else
               f"{fmt.count(low10['below'])} of them {'differs' if low10['below'] == 1 else 'differ'}"))

# %% [markdown]
# ## Claims tested
#
# The claims are examined here by description, so their verdicts are worded as associations:
# "consistent with the claim", "no evidence either way" or "contrary to the claim". The effect of
# the platform (claim 1) is estimated by the event study in [Drivers](04_drivers.html).

# %%
rows = []
if has_platform and can_compare:
    rows.append({"claim": f"1. Sub-districts with the platform have higher coverage ({year})",
                 "estimate": 100 * contrast["estimate"], "ci": (100 * contrast["ci_low"], 100 * contrast["ci_high"]),
                 "unit": "percentage points",
                 "design": "descriptive: adopters against sub-districts not yet or never adopting, in one year "
                           "(the effect: see Drivers)"})
rows.append({"claim": "7. Small communities' raw rates scatter more", "estimate": 100 * spread["estimate"],
             "ci": (100 * spread["ci_low"], 100 * spread["ci_high"]), "unit": "percentage points of SD",
             "design": "descriptive: spread of raw community rates, small against large"})
claim_shown, claim_data = verdicts.claims_table(rows)
report.table(claim_shown, caption="The claims examined in this report, their design and verdict.", data=claim_data)

# %%
att_truth = truth_value(truth, "platform_att")
shown = []
if att_truth is not None and has_platform and can_compare:
    shown.append(report.md("## Validation against the planted truth\n\nThe synthetic city's effect of the platform is "
                           "known: on average over the first four years after adoption, adoption raised a sub-district's "
                           "coverage by **{t}** percentage points. The one-year difference above, **{d}** points, is "
                           "not an estimate of that effect — it mixes cohorts adopted in "
                           "different years with whatever set them apart beforehand — so it is set beside it only as a "
                           "scale, not tested against it; the event study in [Drivers](04_drivers.html) is.",
                           t=fmt.number(att_truth, 1),
                           d=fmt.interval(contrast["estimate"], contrast["ci_low"], contrast["ci_high"], scale=100,
                                          se=contrast["se"])))
display(*shown)

# %% [markdown]
# ## Caveats

# %%
report.md("\n".join(["- The instructor or contact of an organisation is not dated, so work coverage assumes it held in "
                     "every year the organisation was active."]
                    + (["- The service circle uses straight-line distance and residents spread evenly over each "
                        "community; walking routes and where people actually live would lower it, especially in large "
                        "rural communities. It measures distance, not the time residents say they walk."]
                       if has_points else [])
                    + (["- The platform comparison is descriptive; see [Drivers](04_drivers.html) for the causal "
                        "estimate."] if has_platform else [])
                    + ["- Only units outside the overdispersion-adjusted limits (and beyond chance) are said to differ "
                       "from the city; a unit inside them may still differ, but the data cannot tell it apart from "
                       "chance and ordinary variation."]))

# %% [markdown]
# ## Measures

# %%
report.table(measures.glossary(["org_coverage", "own_org", "joint_org", "work_coverage"]
                               + (["mobile_organised"] if has_members else [])
                               + (["service_circle"] if has_points else [])),
             caption="The measures of this report: definition, source and scale.")

# %% [markdown]
# ## Methods and references

# %%
report.md(" ".join(
    ["Rates from counts: summed numerators over summed denominators, Wilson (1927) intervals. Units against the city: "
     "funnel plots with exact binomial limits widened for overdispersion (Spiegelhalter 2005a, 2005b), a unit of a "
     "handful of cases named only when an exact binomial test also rejects the city rate; league tables and their "
     "limits (Goldstein & Spiegelhalter 1996). Shrinkage of community rates: empirical-Bayes beta-binomial (Rao & "
     "Molina 2015). Claim 7: the difference in standard deviations with a percentile bootstrap interval over "
     "communities (Efron & Tibshirani 1993)."]
    + (["Claim 1 (descriptive): difference in mean sub-district rates with a Welch (1947) interval."]
       if has_platform else [])
    + (["Service circle: straight-line buffers of 1,000 m around open service points, residents spread evenly over "
        "community areas."] if has_points else []))
    + "\n\n" + references.references(["wilson1927", "spiegelhalter2005a", "spiegelhalter2005b", "goldstein1996",
                                       "raomolina2015", "efron1993"] + (["welch1947"] if has_platform else [])))

# %% [markdown]
# ## Headline findings

# %%
findings.record("org_coverage_city", 100 * c1["estimate"], ci=(100 * c1["ci_low"], 100 * c1["ci_high"]),
                unit="% of active eligible organisations", note=f"{year}; own or joint party organisation, Wilson",
                label=f"Organisational coverage, city, {year}")
findings.record("org_coverage_joint_share", 100 * joint1["estimate"],
                ci=(100 * joint1["ci_low"], 100 * joint1["ci_high"]), unit="% of active eligible organisations",
                note=f"{year}; joint (联建) party organisation, Wilson",
                label=f"Organisations in a joint party organisation, city, {year}")
findings.record("work_coverage_city", 100 * work1["estimate"], ci=(100 * work1["ci_low"], 100 * work1["ci_high"]),
                unit="% of active eligible organisations", note=f"{year}; organisation or instructor/contact, Wilson",
                label=f"Work coverage, city, {year}")
findings.record("districts_lagging_adjusted95", len(lagging), unit="districts",
                note="outside the overdispersion-adjusted 95% funnel limits, organisational coverage",
                label=f"Districts whose coverage lies below the city's, {year}")
findings.record("subdistricts_below_city", int(sub_n.get("below", 0)), unit="sub-districts",
                note="outside the overdispersion-adjusted 95% funnel limits, organisational coverage",
                label=f"Sub-districts whose coverage lies below the city's, {year}")
findings.record("community_sd_gap_small_large", 100 * spread["estimate"],
                ci=(100 * spread["ci_low"], 100 * spread["ci_high"]), unit="percentage points",
                note="claim 7: SD of raw community rates, small minus large, bootstrap",
                label="Claim 7: extra spread of small communities' raw coverage (SD, points)")
if has_members:
    findings.record("mobile_organised_city", 100 * m1["estimate"], ci=(100 * m1["ci_low"], 100 * m1["ci_high"]),
                    unit="% of mobile members moving in", note=f"{mob_year}, Wilson",
                    label=f"Mobile members organised, city, {mob_year}")
if has_points:
    findings.record("service_circle_city", 100 * acc.city_share(year), unit="% of residents",
                    note=f"{year}; within 1,000 m in a straight line of an open service point",
                    label=f"Residents within the 1 km service circle, {year}")
if has_platform and can_compare:
    findings.record("platform_gap_descriptive", 100 * contrast["estimate"],
                    ci=(100 * contrast["ci_low"], 100 * contrast["ci_high"]), unit="percentage points",
                    note=f"claim 1, descriptive: adopted minus not yet or never adopted sub-districts in {year}, Welch",
                    label=f"Claim 1 (descriptive): coverage gap, sub-districts with the platform against those "
                          f"without it, {year}")

# %%
findings.display()
