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
# # Participation: member registration, joint building and residents' participation
#
# **Question.** Do people take part? Three views are measured by district and year:
#
# 1. *party members*: in-service members registered in the community where they live
#    (在职党员到社区报到), the share of registered members who are active (at least four activities
#    a year), and volunteer hours per registered member;
# 2. *resident units* (驻区单位): the share with a signed joint-building agreement (共驻共建) and the
#    number of joint events;
# 3. *residents*: the share who took part in a community activity in the last 12 months, from the
#    resident survey (design-based).
#
# Two claims from the field are tested. **Claim 3**: joint-building agreements raise member
# registration. **Claim 4** (in part): communities with older residents (a larger share aged 60
# or over) have more residents taking part in activities.

# %% tags=["parameters"]
data_dir = None  # None = the shipped default data (data/)
year = 2024  # the year of the cross-sectional tables and maps

# %%
# %load_ext autoreload
# %autoreload 2
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from helpers.data import concepts, load
from helpers.data.truth import ground_truth, is_synthetic, truth_registration, truth_value
from helpers.publish import findings, report
from helpers.publish import notebook as nb
from helpers.stats import compare, rates, smallarea
from helpers.studies import claims, common, participation
from helpers.viz import maps

meta = nb.setup(data_dir)
nb.data_statement(meta)

# %% [markdown]
# ## Data
#
# Member and joint-building counts are administrative totals by community and year; district rates
# are summed numerators over summed denominators, with 95% Wilson intervals. The survey is a fresh
# stratified two-stage sample each year (strata: districts; primary sampling units: communities
# drawn with probability proportional to size); estimates use the design weights, and their
# intervals come from Taylor linearisation with the finite-population correction (a stratum is a
# district in one year).

# %%
tables = load.load_all(data_dir)
synthetic = is_synthetic(data_dir)
truth = ground_truth(data_dir)
districts = tables["districts"]
panel = claims.registration_frame(tables)
resp = concepts.resident_respondents(tables["survey"], tables["communities"])
design = concepts.resident_survey_design(resp)
report.md("The panel has **{n:,}** community-years ({c:,} communities, {y0}–{y1}); the survey has **{r:,}** "
          "respondents.", n=len(panel), c=panel["community_id"].nunique(), y0=int(panel["year"].min()),
          y1=int(panel["year"].max()), r=len(resp))

# %% [markdown]
# ## Party members: registration, activity and volunteering

# %%
member_measures = {"registration": ("registered", "in_service_resident"), "activity": ("active_registered", "registered")}
member_labels = {"registration": "registered / in-service resident", "activity": "active / registered"}
city_members = rates.rates(panel, member_measures, by="year")
common.trend_plot(city_members, labels=member_labels, ylabel="%", title="Member registration and activity, city",
                  synthetic=synthetic);

# %%
dist_members = rates.rates(panel[panel["year"] == year], member_measures, by="district_id")
hours = participation.per_member(panel[panel["year"] == year], "volunteer_hours", "registered", by="district_id")
member_table = common.rate_table(dist_members, districts, labels=member_labels,
                                 denominator_label="in-service members resident")
member_table["volunteer hours per registered member"] = hours["per_member"].map("{:.1f}".format).to_numpy()
report.table(member_table)

# %%
reg1 = city_members.query("measure == 'registration' and year == @year").iloc[0]
act1 = city_members.query("measure == 'activity' and year == @year").iloc[0]
hours_city = participation.per_member(panel[panel["year"] == year], "volunteer_hours", "registered", by="year").iloc[0]
lo_reg = dist_members[dist_members["measure"] == "registration"].sort_values("estimate")
report.md("In {y}, **{r:.1%}** of in-service members living in the city had registered in their residence "
          "community (95% CI {rl:.1%} to {rh:.1%}), and **{a:.1%}** of those registered were active. "
          "Registered members gave **{h:.1f}** volunteer hours each. District registration ranges from "
          "{mn:.1%} ({mnn}) to {mx:.1%} ({mxn}).",
          y=year, r=reg1["estimate"], rl=reg1["ci_low"], rh=reg1["ci_high"], a=act1["estimate"],
          h=hours_city["per_member"], mn=lo_reg.iloc[0]["estimate"],
          mnn=districts.set_index("district_id").loc[lo_reg.iloc[0]["district_id"], "name_en"],
          mx=lo_reg.iloc[-1]["estimate"], mxn=districts.set_index("district_id").loc[lo_reg.iloc[-1]["district_id"], "name_en"])

# %% [markdown]
# ### Communities: registration without a league table
#
# Community registration rates rest on anything from a handful to over a thousand in-service
# members. The funnel plot sets each community's rate against its size, with binomial limits and
# limits widened for the real differences between communities (overdispersion); only communities
# outside the widened limits differ from the city by more than chance and ordinary variation.

# %%
com_reg = panel[panel["year"] == year]
f_reg = compare.funnel_proportion(com_reg, "registered", "in_service_resident", "community_id", scale=100)
common.funnel_plot(f_reg, xlabel=f"in-service members resident, {year}", ylabel="% registered",
                   title="Communities: member registration", max_labels=0, synthetic=synthetic);

# %%
report.md("In {y}, **{r:,}** of {n:,} communities lie outside the binomial 99.8% limits, a sign of real "
          "differences between communities (district policy, joint building), but only **{o:,}** lie outside "
          "the overdispersion-adjusted 99.8% limits: **{lo}** below and **{hi}** above.",
          y=year, n=len(f_reg.table), r=int((f_reg.table["flag_99_8"] != "").sum()),
          o=int((f_reg.table["flag_od_99_8"] != "").sum()), lo=int((f_reg.table["flag_od_99_8"] == "low").sum()),
          hi=int((f_reg.table["flag_od_99_8"] == "high").sum()))

# %% [markdown]
# ## Resident units: joint building

# %%
city_jb = rates.rates(panel, {"agreements": ("signed_agreements", "resident_units")}, by="year")
dist_jb = rates.rates(panel[panel["year"] == year], {"agreements": ("signed_agreements", "resident_units")},
                      by="district_id")
events = participation.per_member(panel[panel["year"] == year].assign(communities=1), "joint_events",
                                  "communities", by="district_id")
jb_table = common.rate_table(dist_jb, districts, labels={"agreements": "% of resident units with an agreement"},
                             denominator_label="resident units")
jb_table["joint events per community"] = events["per_member"].map("{:.1f}".format).to_numpy()
report.table(jb_table)

# %%
jb0 = city_jb.iloc[0]
jb1 = city_jb.query("year == @year").iloc[0]
report.md("The share of resident units with a signed joint-building agreement rose from **{a:.1%}** in {y0} "
          "to **{b:.1%}** in {y1} (95% CI {l:.1%} to {h:.1%}).",
          a=jb0["estimate"], y0=int(jb0["year"]), b=jb1["estimate"], y1=year, l=jb1["ci_low"], h=jb1["ci_high"])

# %% [markdown]
# ## Residents' participation (survey)
#
# Share of residents who took part in a community activity in the last 12 months, design-based,
# with 95% intervals on the design degrees of freedom. Estimates resting on fewer than ten
# respondents would be suppressed.

# %%
part_year = design.mean("participated", by="year")
common.trend_plot(part_year, group="variable", labels={"participated": "took part in the last 12 months"},
                  ylabel="% of residents", title="Residents' participation, city (survey)", synthetic=synthetic);

# %%
part_dist = design.mean("participated", by=["district_id", "year"])
part_table = common.survey_table(part_dist[part_dist["year"] == year], districts, label="% took part (95% CI)")
report.table(part_table, n="n", columns=["% took part (95% CI)"])

# %% [markdown]
# Every district and year on one set of class breaks:

# %%
part_panels = districts.merge(part_dist, on="district_id", how="left")
part_panels = report.suppress_for_plot(part_panels.assign(pct=100 * part_panels["estimate"]), n="n", columns=["pct"])
maps.small_multiples(part_panels, "pct", by="year", suppressed="suppressed", overlay=districts, ncols=4, k=5,
                     fmt="{:.0f}", legend_title="% took part", panel_size=2.8,
                     suptitle="Residents' participation by district and year (survey)", synthetic=synthetic);

# %% [markdown]
# The chosen year, centred on the city value:

# %%
part_map = districts.merge(part_dist[part_dist["year"] == year], on="district_id", how="left")
part_map = report.suppress_for_plot(part_map.assign(pct=100 * part_map["estimate"]), n="n", columns=["pct"])
p1 = part_year.query("year == @year").iloc[0]
maps.choropleth(part_map, "pct", suppressed="suppressed", center=round(100 * p1["estimate"], 1), labels="en", k=4,
                legend_title="% took part", fmt="{:.0f}", title=f"Residents' participation by district, {year}",
                synthetic=synthetic);

# %%
psus = int(resp.groupby(["year", "district_id"])["community_id"].nunique().median())
report.md("In {y}, **{p:.1%}** of residents took part in a community activity (95% CI {l:.1%} to {h:.1%}; "
          "{n:,} respondents). The map is centred on the city value: green districts lie above it, brown "
          "ones below, but district intervals are wide ({k} communities sampled per district and year).",
          y=year, p=p1["estimate"], l=p1["ci_low"], h=p1["ci_high"], n=int(p1["n"]), k=psus)

# %% [markdown]
# ## Claim 3: do joint-building agreements raise registration?
#
# Registered members out of in-service members resident, per community and year, are modelled on the
# community's agreement share (signed agreements over resident units, 0 where a community has none)
# by a logistic regression with **community fixed effects** and year effects: each community is
# compared with itself in other years, so whatever makes a community register more year after year
# (its district's policy, its location, its people) cannot masquerade as an effect of agreements,
# and a city-wide trend cannot either. Standard errors are clustered by community.

# %%
reg_claim = claims.CLAIMS["registration"]
reg = reg_claim.fit(tables)
b = reg.term("agreement_share")
report.md("Within a community, a year in which another tenth of its resident units has a signed agreement goes "
          "with odds of an in-service member registering **{o:.3f}** times as high (95% CI {ol:.3f} to {oh:.3f}); "
          "the log-odds coefficient per unit of agreement share is **{e:.3f}** ({l:.3f} to {h:.3f}), from "
          "{n:,} community-years in {g:,} communities.",
          o=np.exp(0.1 * b["estimate"]), ol=np.exp(0.1 * b["ci_low"]), oh=np.exp(0.1 * b["ci_high"]),
          e=b["estimate"], l=b["ci_low"], h=b["ci_high"], n=int(reg.nobs), g=int(reg.info["absorbed_groups"]))

# %%
report.md("*Why community fixed effects.* " + reg_claim.choice)

# %% [markdown]
# Volunteering is the other half of claim 3: volunteer hours per in-service member on the agreement
# share, with the same community and year effects (least squares, clustered by community).

# %%
vol = claims.CLAIMS["volunteering"].fit(tables)
v = vol.term("agreement_share")
report.md("Within a community, moving from no agreements to all resident units signed goes with **{e:.1f}** "
          "more volunteer hours per in-service member a year (95% CI {l:.1f} to {h:.1f}).",
          e=v["estimate"], l=v["ci_low"], h=v["ci_high"])

# %% [markdown]
# ## Claim 4: older communities and residents' participation
#
# A linear probability model of a respondent's participation on the community's share aged 60 or
# over, controlling for awareness of the service centre (the other driver of participation in the
# field's account) and district fixed effects, with community-clustered errors. Coefficients are
# changes in the probability of taking part per unit (0 to 1) of the share.

# %%
lpm = claims.CLAIMS["participation"].fit(tables)
report.table(common.stack_terms({"LPM, district FE": lpm}, ["share_60plus", "aware_center"]))

# %%
s60 = lpm.term("share_60plus")
report.md("Ten percentage points more residents aged 60+ go with **{e:.1f}** percentage points more residents "
          "taking part (95% CI {l:.1f} to {h:.1f}), fitted on {n:,} respondents.",
          e=10 * s60["estimate"], l=10 * s60["ci_low"], h=10 * s60["ci_high"], n=int(lpm.nobs))

# %% [markdown]
# ## Claims tested

# %%
claim_rows = nb.claim_table([
    {"claim": "3. Agreements raise member registration", "estimate": b["estimate"], "ci": (b["ci_low"], b["ci_high"]),
     "unit": "log-odds per unit agreement share"},
    {"claim": "3. Agreements raise volunteering", "estimate": v["estimate"], "ci": (v["ci_low"], v["ci_high"]),
     "unit": "hours per in-service member per unit share"},
    {"claim": "4. Older communities take part more", "estimate": s60["estimate"], "ci": (s60["ci_low"], s60["ci_high"]),
     "unit": "probability per unit share 60+"},
])
report.table(claim_rows)

# %% [markdown]
# ## Validation against the planted truth
#
# On synthetic data the generator's effects are known. The estimates should lie close to them and
# their 95% intervals should cover them in about 19 of 20 datasets (these data are one draw). The true
# registration probability of every community is also known, which lets us check claim 7 on this
# indicator: shrinking raw community rates towards their district's (empirical Bayes, beta-binomial)
# should bring them closer to the truth.

# %%
checks = claims.beside_truth(pd.concat([reg_claim.estimates(reg), claims.CLAIMS["participation"].estimates(lpm)]),
                             truth)
truth_reg = truth_registration(data_dir)
if checks is None:
    shown = report.md("*Real data: there is no planted truth to compare with.*")
else:
    shown = report.table(checks[["key", "estimate", "ci_low", "ci_high", "truth", "error", "covered"]])
shown

# %%
eb = smallarea.eb_beta_binomial(panel[panel["year"] == year], "registered", "in_service_resident",
                                unit="community_id", group="district_id")
accuracy = None if truth_reg is None else participation.shrinkage_accuracy(eb, truth_reg[truth_reg["year"] == year])
report.table(accuracy) if accuracy is not None else report.md("*No true registration probabilities (real data).*")

# %%
if accuracy is not None:
    shown = report.md("Against the true probabilities, shrinkage cuts the root mean squared error of community "
                      "registration rates from **{a:.1f}** to **{b:.1f}** percentage points in {y}; the shrunken "
                      "95% intervals cover the truth for **{c:.0%}** of communities.",
                      a=100 * accuracy.loc[0, "rmse"], b=100 * accuracy.loc[1, "rmse"], y=year,
                      c=accuracy.loc[1, "interval_coverage"])
else:
    shown = report.md("")
shown

# %% [markdown]
# ## Caveats
#
# - When the data are synthetic (see the statement at the top), the results describe a generated
#   city with planted effects: they show how the analysis works, not how any real district performs.
# - Agreements were not assigned at random. Community fixed effects remove every stable difference
#   between communities, but a change that comes with new agreements (a new secretary, a campaign)
#   would still be read as their effect: claim 3's estimate is a within-community association, not
#   an experiment.
# - Volunteer hours are reported by communities and may be rounded or inflated; they carry no
#   sampling interval here.
# - Survey district estimates rest on a handful of sampled communities per district and year;
#   differences between districts within a year are mostly inside the intervals.

# %% [markdown]
# ## Headline findings

# %%
findings.record("registration_city", 100 * reg1["estimate"], ci=(100 * reg1["ci_low"], 100 * reg1["ci_high"]),
                unit="% of in-service members resident", note=f"{year}, Wilson")
findings.record("activity_city", 100 * act1["estimate"], ci=(100 * act1["ci_low"], 100 * act1["ci_high"]),
                unit="% of registered members", note=f"{year}, Wilson")
findings.record("volunteer_hours_per_registered", hours_city["per_member"], unit="hours per year",
                note=f"{year}, administrative totals")
findings.record("agreement_share_city", 100 * jb1["estimate"], ci=(100 * jb1["ci_low"], 100 * jb1["ci_high"]),
                unit="% of resident units", note=f"{year}, Wilson")
findings.record("resident_participation_city", 100 * p1["estimate"], ci=(100 * p1["ci_low"], 100 * p1["ci_high"]),
                unit="% of residents", note=f"{year}, design-based (Taylor), survey")
findings.record("registration_agreement_logit", b["estimate"], ci=(b["ci_low"], b["ci_high"]),
                unit="log-odds per unit share", truth=truth_value(truth, "registration_agreement_logit"),
                note="claim 3: " + reg_claim.describe())
findings.record("participate_share60_lpm", s60["estimate"], ci=(s60["ci_low"], s60["ci_high"]),
                unit="probability per unit share", truth=truth_value(truth, "participate_share60_lpm"),
                note="claim 4: " + claims.CLAIMS["participation"].describe());

# %%
findings.display()
