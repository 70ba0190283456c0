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
# # Participation: do party members, resident units and residents take part?
#
# **Question.** Do people take part in grassroots party-building and community work? Three views
# are measured by district and year:
#
# 1. *party members*: in-service members registered in the community where they live
#    (在职党员到社区报到), the share of registered members who are active (at least four activities
#    a year), and volunteer hours per registered member;
# 2. *resident units* (驻区单位): the share with a signed joint-building agreement (共驻共建) and the
#    number of joint events;
# 3. *residents*: the share who took part in a community activity in the last 12 months, from the
#    resident survey.
#
# Two claims from the field are tested: **claim 3**, joint-building agreements raise member
# registration and volunteering; and, in part, **claim 4**, communities with an older population
# (a larger share aged 60 or over) have more residents taking part.

# %% tags=["parameters"]
data_dir = None  # the data folder (None: the shipped default data in data/)
year = None  # the year of the cross-sectional tables and maps (None: the latest year in the data)

# %%
# %load_ext autoreload
# %autoreload 2
import numpy as np
import pandas as pd
from IPython.display import display

from helpers.data import concepts, load
from helpers.data.truth import ground_truth, is_synthetic, truth_registration, truth_value
from helpers.publish import findings, fmt, references, report
from helpers.publish import notebook as nb
from helpers.stats import rates, smallarea
from helpers.studies import claims, common, drivers, measures, participation, satisfaction, verdicts
from helpers.viz import maps

meta = nb.setup(data_dir)
nb.data_statement(meta, data_dir)

# %% [markdown]
# ## Data
#
# Member and joint-building counts are administrative totals by community and year. The resident
# survey is a fresh stratified two-stage sample each year (strata: districts; primary sampling
# units: communities drawn with probability proportional to size); its estimates use the design
# weights, with intervals from Taylor linearisation.

# %%
tables = load.load_all(data_dir, tables=["districts", "community_boundaries", "communities", "members",
                                         "joint_building", "survey"])
synthetic, truth = is_synthetic(data_dir), ground_truth(data_dir)
period = load.study_period(tables)
year = period.last if year is None else int(year)
districts = tables["districts"]
names = districts.set_index("district_id")["name_en"]
has_joint, has_survey = "joint_building" in tables, "survey" in tables
claim3_missing = claims.CLAIMS["registration"].unavailable(tables)  # None when claim 3 can be estimated
can_claim3 = claim3_missing is None
panel = participation.member_frame(tables)
members_year = panel[panel["year"] == year]
report.md("The member panel has **{n}** community-years ({c} communities, {p}); the cross-sectional tables and "
          "maps show {y}.{s}", n=fmt.count(len(panel)), c=fmt.count(panel["community_id"].nunique()),
          p=f"{period.first}–{period.last}",
          y=year, s="" if has_survey else " The data have no resident survey, so residents' own participation "
          "is not reported.")

# %% [markdown]
# ## Party members: registration, activity and volunteering
#
# District and city rates are summed numerators over summed denominators (a district's rate is not
# a mean of its communities' rates), with 95% Wilson intervals.

# %%
member_measures = {"registration": ("registered", "in_service_resident"), "activity": ("active_registered", "registered")}
city_members = rates.rates(panel, member_measures, by="year")
ax = common.trend_plot(city_members, labels={m: measures.label(m) for m in member_measures}, ylabel="%",
                       synthetic=synthetic)
report.figure(ax, caption=f"{measures.label('registration')} and {measures.label('activity').lower()}, city, "
              f"{period.first}–{period.last} (95% Wilson intervals shaded).",
              alt=f"Two lines over the years {period.first}–{period.last}: the city's member registration and the "
                  "share of "
                  "registered members who are active, each with a shaded 95% interval.",
              data=city_members)

# %%
dist_members = rates.rates(members_year, member_measures, by="district_id")
hours = participation.per_member(members_year, "volunteer_hours", "registered", by="district_id")
reg_funnel, reg_verdict = verdicts.rate_verdicts(members_year.groupby("district_id", as_index=False)[
    ["registered", "in_service_resident"]].sum(), "registered", "in_service_resident", "district_id",
    measure="registration", year=year)
member_table = common.rate_table(dist_members, districts, labels={m: measures.label(m, unit=True)
                                                                  for m in member_measures},
                                 denominator_label="In-service members living there")
member_table[measures.label("volunteer_hours")] = [fmt.number(v, 1) for v in hours["per_member"]]
member_table["Registration against the city"] = member_table["district_id"].map(
    reg_verdict.set_index("unit")["verdict"])
report.table(member_table.drop(columns="district_id").rename(columns={"name_en": "District"}),
             caption=f"Party members by district, {year}: registration and activity with 95% Wilson intervals, "
                     "volunteer hours per registered member, and whether registration differs from the city's "
                     "(overdispersion-adjusted 95% funnel limits).",
             data=dist_members.merge(hours[["district_id", "per_member"]], on="district_id", how="left")
             .rename(columns={"per_member": "volunteer_hours_per_registered"}))

# %%
reg1 = city_members.query("measure == 'registration' and year == @year").iloc[0]
act1 = city_members.query("measure == 'activity' and year == @year").iloc[0]
hours_city = participation.per_member(members_year, "volunteer_hours", "registered", by="year").iloc[0]
low = reg_verdict.loc[reg_verdict["verdict"] == "below", "unit"].map(names).tolist()
high = reg_verdict.loc[reg_verdict["verdict"] == "above", "unit"].map(names).tolist()
report.md("In {y}, **{r}** of in-service members living in the city had registered in their residence community "
          "(95% CI {rl} to {rh}), and **{a}** of those registered were active. Registered members gave **{h}** "
          "volunteer hours each. {v}",
          y=year, r=fmt.percent(reg1["estimate"]), rl=fmt.percent(reg1["ci_low"]), rh=fmt.percent(reg1["ci_high"]),
          a=fmt.percent(act1["estimate"]), h=fmt.number(hours_city["per_member"], 1),
          v=("Registration lies below the city's beyond chance and ordinary variation in " + ", ".join(low)
             if low else "No district's registration lies below the city's beyond chance and ordinary variation")
          + ("; above it in " + ", ".join(high) + "." if high else "."))

# %% [markdown]
# ### Communities: registration without a league table
#
# Community registration rates rest on anything from a handful to over a thousand in-service
# members. The funnel plot sets each community's rate against its size: inside the
# overdispersion-adjusted limits a community does not differ from the city by more than chance and
# the ordinary variation between communities; only the coloured points lie outside them.

# %%
com_funnel, com_verdict = verdicts.rate_verdicts(members_year, "registered", "in_service_resident", "community_id",
                                                 scale=100, measure="registration", year=year)
ax = common.funnel_plot(com_funnel, xlabel=f"In-service members living in the community, {year}",
                        ylabel=measures.axis("registration"), title=None, max_labels=0, synthetic=synthetic)
counts = com_verdict["verdict"].value_counts()
report.figure(ax, caption=f"Communities' {measures.label('registration').lower()} against their size, {year}, "
                          "with the city rate, binomial and overdispersion-adjusted limits; points outside the "
                          "adjusted 95% limits are coloured.",
              alt=f"A funnel plot of {fmt.count(len(com_verdict))} communities' registration rates against their "
                  f"number of in-service members; {fmt.count(counts.get('below', 0))} lie below and "
                  f"{fmt.count(counts.get('above', 0))} above the adjusted 95% limits.",
              data=com_verdict)

# %%
outside_binomial = int((com_funnel.table["flag_95"] != "").sum())
report.md("In {y}, **{b}** of {n} communities lie outside the binomial 95% limits — a sign of real differences "
          "between communities — but only **{o}** outside the overdispersion-adjusted ones: **{lo}** below the city "
          "and **{hi}** above it. With {n} communities, about {e} would lie outside 95% limits by chance alone.",
          y=year, n=fmt.count(len(com_verdict)), b=fmt.count(outside_binomial),
          o=fmt.count(counts.get("below", 0) + counts.get("above", 0)), lo=fmt.count(counts.get("below", 0)),
          hi=fmt.count(counts.get("above", 0)), e=fmt.count(0.05 * len(com_verdict)))

# %% [markdown]
# ## Resident units: joint building

# %%
if has_joint:
    agreements = {"agreement_share": ("signed_agreements", "resident_units")}
    city_jb = rates.rates(panel, agreements, by="year")
    dist_jb = rates.rates(members_year, agreements, by="district_id")
    events = participation.per_member(members_year.assign(communities=1), "joint_events", "communities",
                                      by="district_id")
    jb_table = common.rate_table(dist_jb, districts, labels={"agreement_share": measures.label("agreement_share",
                                                                                             unit=True)},
                                 denominator_label="Resident units")
    jb_table[measures.label("joint_events")] = [fmt.number(v, 1) for v in events["per_member"]]
    shown = report.table(jb_table.drop(columns="district_id").rename(columns={"name_en": "District"}),
                         caption=f"Joint building by district, {year}: resident units with a signed agreement "
                                 "(95% Wilson intervals) and joint events per community.",
                         data=dist_jb.merge(events[["district_id", "per_member"]], on="district_id")
                         .rename(columns={"per_member": "joint_events_per_community"}))
else:
    shown = report.md("*The data have no joint-building table: this section and claim 3 are skipped.*")
shown

# %%
if has_joint:
    jb0, jb1 = city_jb.iloc[0], city_jb.query("year == @year").iloc[0]
    shown = report.md("The share of resident units with a signed joint-building agreement went from **{a}** in {y0} "
                      "to **{b}** in {y1} (95% CI {l} to {h}).", a=fmt.percent(jb0["estimate"]), y0=int(jb0["year"]),
                      b=fmt.percent(jb1["estimate"]), y1=year, l=fmt.percent(jb1["ci_low"]),
                      h=fmt.percent(jb1["ci_high"]))
else:
    shown = report.md("")
shown

# %% [markdown]
# ## Residents taking part (survey)
#
# The share of residents who took part in a community activity in the last 12 months, weighted by
# the survey design, with 95% intervals on the design degrees of freedom. Estimates resting on
# fewer than ten respondents are suppressed.

# %%
if has_survey:
    resp = concepts.resident_respondents(tables["survey"], tables["communities"])
    design = concepts.resident_survey_design(resp)
    survey_year = year if year in set(resp["year"]) else int(resp["year"].max())
    part_year = design.mean("participated", by="year")
    ax = common.trend_plot(part_year, group="variable", labels={"participated": measures.label("participated")},
                           ylabel="% of residents", synthetic=synthetic)
    shown = report.figure(ax, caption=f"{measures.label('participated')}, city, by survey year (95% intervals shaded).",
                          alt="A line of the share of residents who took part in a community activity in each "
                              "survey year, with a shaded 95% interval.", data=part_year)
else:
    shown = report.md("*The data have no resident survey: this section and claim 4 are skipped.*")
shown

# %%
if has_survey:
    part_dist = design.mean("participated", by=["district_id", "year"])
    p1 = part_year.query("year == @survey_year").iloc[0]
    part_y = part_dist[part_dist["year"] == survey_year]
    # the site's rule for a survey measure (as Satisfaction states it): the district's difference from the city,
    # with the standard error of a contrast of correlated estimates, against the adjusted limits around zero
    part_con = satisfaction.district_contrasts(
        concepts.resident_survey_design(resp[resp["year"] == survey_year]), "participated")
    _, part_verdict = verdicts.estimate_verdicts(part_con[part_con["n"] >= report.min_respondents()], "difference",
                                                 "se", "district_id", city=0.0, measure="participated",
                                                 year=survey_year)
    part_table = common.survey_table(part_y, districts, label=measures.label("participated", unit=True) + " (95% CI)",
                                     decimals=fmt.column_digits(100 * part_y["se"]))
    part_table["Against the city"] = part_table["district_id"].map(part_verdict.set_index("unit")["verdict"])
    shown = report.table(part_table.drop(columns="district_id").rename(columns={"name_en": "District",
                                                                                "n": "Respondents"}),
                         caption=f"{measures.label('participated')} by district, {survey_year}, with 95% intervals and "
                                 "whether the district differs from the city: its difference from the city's "
                                 "estimate, with the standard error of a contrast of correlated estimates, outside "
                                 "the overdispersion-adjusted 95% funnel limits around zero.", n="Respondents",
                         columns=[c for c in part_table.columns if c.startswith(measures.label("participated"))],
                         data=part_y)
    shown = [shown, report.md("This is the rule [Satisfaction](03_satisfaction.html) uses for every survey "
                              "measure, so the two reports judge a district alike.")]
else:
    shown = [report.md("")]
display(*shown)

# %%
if has_survey:
    part_panels = districts.merge(part_dist, on="district_id", how="left")
    part_panels = report.suppress_for_plot(part_panels.assign(pct=100 * part_panels["estimate"]), n="n",
                                           columns=["pct"])
    fig = maps.small_multiples(part_panels, "pct", by="year", suppressed="suppressed", overlay=districts, ncols=4,
                               k=5, fmt="{:.0f}", legend_title=measures.axis("participated"), panel_size=2.8,
                               synthetic=synthetic)
    shown = report.figure(fig, caption=f"{measures.label('participated')} by district and survey year, on one set "
                                       "of class breaks.",
                          alt="Small maps of the city's districts, one per survey year, shaded by the share of "
                              "residents who took part in a community activity.",
                          data=part_dist)
else:
    shown = report.md("")
shown

# %%
if has_survey:
    psus = int(resp.groupby(["year", "district_id"])["community_id"].nunique().median())
    diff = part_verdict[part_verdict["verdict"] != "not distinguishable"]
    shown = report.md("In {y}, **{p}** of residents took part in a community activity (95% CI {l} to {h}; {n} "
                      "respondents). District intervals are wide — a median of {k} communities is sampled per "
                      "district and year — and {d}.", y=survey_year, p=fmt.percent(p1["estimate"]),
                      l=fmt.percent(p1["ci_low"]), h=fmt.percent(p1["ci_high"]), n=fmt.count(p1["n"]), k=psus,
                      d=("no district differs from the city beyond chance and ordinary variation" if diff.empty else
                         "; ".join(f"{names[u]} lies {v} the city" for u, v in zip(diff["unit"], diff["verdict"]))))
else:
    shown = report.md("")
shown

# %% [markdown]
# ## Claim 3: do joint-building agreements go with more registration?
#
# Registered members out of in-service members resident, per community and year, are modelled on the
# community's agreement share (signed agreements over resident units, 0 where a community has none)
# by a logistic regression with **community fixed effects** and year effects: each community is
# compared with itself in other years, so whatever makes a community register more year after year
# (its district's policy, its location, its people) cannot pass for an effect of agreements, and a
# city-wide trend cannot either. Standard errors are clustered by community. Agreements were not
# assigned at random, so the result is an association within communities, not an effect.

# %%
if can_claim3:
    reg_claim = claims.CLAIMS["registration"]
    reg = reg_claim.fit(tables)
    b = reg.term("agreement_share")
    shown = report.md("Within a community, a year in which another tenth of its resident units has a signed agreement "
                      "goes with odds of an in-service member registering **{o}** times as high; "
                      "the log-odds coefficient per unit of agreement share is **{e}**, from {n} community-years{left} "
                      "in {g} communities. *Why community fixed effects:* {why}",
                      o=fmt.interval(np.exp(0.1 * b["estimate"]), np.exp(0.1 * b["ci_low"]),
                                     np.exp(0.1 * b["ci_high"])),
                      e=fmt.interval(b["estimate"], b["ci_low"], b["ci_high"], se=b["se"]),
                      n=fmt.count(reg.info["fitted_rows"]) + ("" if reg.nobs == reg.info["fitted_rows"] else
                                                              f" of the {fmt.count(reg.nobs)}"),
                      g=fmt.count(reg.info["absorbed_groups"]), why=reg_claim.choice,
                      left="" if reg.nobs == reg.info["fitted_rows"] else
                           " (left out: "
                           + ("a community-year " if reg.nobs - reg.info["fitted_rows"] == 1 else
                              f"{fmt.count(reg.nobs - reg.info['fitted_rows'])} community-years ")
                           + ("of communities whose registration never varied, or " if reg.info.get("dropped_groups")
                              else "") + "with no in-service member living there)")
else:
    shown = report.md("*Claim 3 is not tested: {why}.*", why=claim3_missing)
shown

# %% [markdown]
# Volunteering is the other half of claim 3: volunteer hours per in-service member on the agreement
# share, with the same community and year effects (least squares, clustered by community).

# %%
if can_claim3:
    vol = claims.CLAIMS["volunteering"].fit(tables)
    v = vol.term("agreement_share")
    shown = report.md("Within a community, moving from no agreements to all resident units signed goes with "
                      "**{e}** more volunteer hours per in-service member a year.",
                      e=fmt.interval(v["estimate"], v["ci_low"], v["ci_high"], se=v["se"]))
else:
    shown = report.md("")
shown

# %% [markdown]
# ## Claim 4: do older communities take part more?
#
# A linear probability model of a respondent's taking part on the community's share aged 60 or
# over, holding constant awareness of the service centre (the other driver of taking part in the
# field's account) and the district (fixed effects), with standard errors clustered by community.
# Coefficients are changes in the probability of taking part per unit (0 to 1) of the share: a
# cross-sectional association.

# %%
if has_survey:
    lpm = claims.CLAIMS["participation"].fit(tables)
    s60, aw = lpm.term("share_60plus"), lpm.term("aware_center")
    lpm_missing, _ = drivers.item_nonresponse(
        resp, drivers.model_variables(claims.CLAIMS["participation"].spec, resp.columns),
        {"aware_center": measures.label("aware"), "participated": measures.label("participated"),
         "share_60plus": measures.label("share_60plus")})
    lpm_missing = lpm_missing[lpm_missing["missing"] > 0]
    shown = report.md("Ten percentage points more residents aged 60 or over go with **{e}** percentage points more "
                      "residents taking part; residents who know the centre take part {a} points more often; {n} "
                      "of the {m} respondents{why}.", e=fmt.interval(0.1 * s60["estimate"], 0.1 * s60["ci_low"], 0.1 * s60["ci_high"],
                                                     scale=100, digits=1),
                      a=fmt.interval(aw["estimate"], aw["ci_low"], aw["ci_high"], scale=100, digits=1),
                      n=fmt.count(lpm.nobs), m=fmt.count(len(resp)),
                      why="" if not len(lpm_missing) else
                          " (left out for an unanswered item: " + "; ".join(
                              f"{lab.lower()}, {fmt.count(k)}" for lab, k in zip(lpm_missing["label"],
                                                                                lpm_missing["missing"]))
                          + ("; some left more than one unanswered" if lpm_missing["missing"].sum()
                             > len(resp) - lpm.nobs else "") + ")")
else:
    shown = report.md("")
shown

# %% [markdown]
# ## Claims tested
#
# Each claim's verdict follows its design: these are associations (within communities for claim 3,
# across respondents for claim 4), so the words are "consistent with the claim", "no evidence either
# way" or "contrary to the claim", never "raises". The only design in the collection that identifies
# an effect is the staggered roll-out of the platform (claim 1), in [Drivers](04_drivers.html).

# %%
rows = []
if can_claim3:
    rows += [{"claim": "3. Agreements go with more member registration", "estimate": b["estimate"],
              "ci": (b["ci_low"], b["ci_high"]), "unit": "log-odds ratio per unit of agreement share",
              "design": reg_claim.design},
             {"claim": "3. Agreements go with more volunteering", "estimate": v["estimate"],
              "ci": (v["ci_low"], v["ci_high"]), "unit": "hours per member per unit of agreement share",
              "design": claims.CLAIMS["volunteering"].design}]
if has_survey:
    rows += [{"claim": "4. Older communities take part more", "estimate": s60["estimate"],
              "ci": (s60["ci_low"], s60["ci_high"]), "unit": "difference in probability per unit of the share aged 60+",
              "design": claims.CLAIMS["participation"].design}]
claim_shown, claim_data = verdicts.claims_table(rows)
report.table(claim_shown, caption="The claims tested in this report, their design and verdict.", data=claim_data)

# %%
# Synthetic data only: the generator's effects are known, so the estimates can be set beside them.
fitted = ([reg_claim.estimates(reg)] if can_claim3 else []) + (
    [claims.CLAIMS["participation"].estimates(lpm)] if has_survey else [])
checks = claims.beside_truth(pd.concat(fitted, ignore_index=True), truth) if fitted else None
truth_reg = truth_registration(data_dir)
eb = smallarea.eb_beta_binomial(members_year, "registered", "in_service_resident", unit="community_id",
                                group="district_id")
accuracy = None if truth_reg is None else participation.shrinkage_accuracy(eb, truth_reg[truth_reg["year"] == year])
shown = []
if checks is not None:
    shown.append(report.md("## Validation against the planted truth\n\nThe synthetic city's effects are known. The "
                           "estimates should lie close to them, and their 95% intervals should cover them in about 19 "
                           "of 20 datasets; the shipped city is one draw."))
    shown.append(report.table(claims.truth_table(checks),
        caption="Estimates beside the effects planted in the synthetic city.", data=checks))
if accuracy is not None:
    shown.append(report.md("The true registration probability of every community is known too, which checks claim 7 "
                           "on this indicator: shrinking raw community rates towards their district's (empirical Bayes, "
                           "beta-binomial) cuts the root mean squared error of community registration rates from "
                           "**{a}** to **{b}** percentage points in {y}; the shrunken 95% intervals cover the truth for "
                           "**{c}** of {n} communities.",
                           a=fmt.number(100 * accuracy.loc[0, "rmse"], 1), b=fmt.number(100 * accuracy.loc[1, "rmse"], 1),
                           y=year, c=fmt.percent(accuracy.loc[1, "interval_coverage"], 0),
                           n=fmt.count(accuracy.loc[1, "n_units"])))
display(*shown)

# %% [markdown]
# ## Caveats
#
# - Agreements were not assigned at random. Community fixed effects remove every stable difference
#   between communities, but a change that comes with new agreements (a new secretary, a campaign)
#   would still be read as their effect: claim 3's estimate is a within-community association.
# - Volunteer hours are reported by communities and may be rounded or inflated; they carry no
#   sampling interval here.
# - District survey estimates rest on a handful of sampled communities per district and year;
#   differences between districts within a year are mostly inside the intervals.

# %% [markdown]
# ## Measures

# %%
report.table(measures.glossary(["registration", "activity", "volunteer_hours", "agreement_share", "joint_events",
                                "participated"]),
             caption="The measures of this report: definition, source and scale.")

# %% [markdown]
# ## Methods and references
#
# Rates from counts: summed numerators over summed denominators, Wilson (1927) intervals. Communities
# against the city: funnel plots with exact binomial limits widened for overdispersion (Spiegelhalter
# 2005a, 2005b). Survey estimates: design-based means with Taylor-linearised variances (Binder 1983;
# Lumley 2010). Claim 3: logistic regression with community fixed effects absorbed (Chamberlain 1980),
# cluster-robust standard errors (Cameron & Miller 2015). Claim 4: linear probability model with
# district fixed effects, cluster-robust. Shrinkage of community rates: empirical-Bayes beta-binomial.

# %%
report.md(references.references(["wilson1927", "spiegelhalter2005a", "spiegelhalter2005b", "binder1983", "lumley2010",
                                 "chamberlain1980", "cameron2015"]))

# %% [markdown]
# ## Headline findings

# %%
findings.record("registration_city", 100 * reg1["estimate"], ci=(100 * reg1["ci_low"], 100 * reg1["ci_high"]),
                unit="% of in-service members resident", note=f"{year}, Wilson",
                label=f"Member registration, city, {year}")
findings.record("activity_city", 100 * act1["estimate"], ci=(100 * act1["ci_low"], 100 * act1["ci_high"]),
                unit="% of registered members", note=f"{year}, Wilson", label=f"Active registered members, city, {year}")
findings.record("volunteer_hours_per_registered", hours_city["per_member"], unit="hours per year",
                note=f"{year}, administrative totals", label=f"Volunteer hours per registered member, city, {year}")
findings.record("districts_registration_below_city", len(low), unit="districts",
                note="outside the overdispersion-adjusted 95% funnel limits",
                label=f"Districts whose registration lies below the city's, {year}")
if has_joint:
    findings.record("agreement_share_city", 100 * jb1["estimate"], ci=(100 * jb1["ci_low"], 100 * jb1["ci_high"]),
                    unit="% of resident units", note=f"{year}, Wilson",
                    label=f"Resident units with an agreement, city, {year}")
if can_claim3:
    findings.record("registration_agreement_logit", b["estimate"], ci=(b["ci_low"], b["ci_high"]),
                    unit="log-odds ratio per unit share", truth=truth_value(truth, "registration_agreement_logit"),
                    note="claim 3: " + reg_claim.describe(),
                    label="Claim 3: agreements and registration, within communities (log-odds ratio)")
if has_survey:
    findings.record("resident_participation_city", 100 * p1["estimate"], ci=(100 * p1["ci_low"], 100 * p1["ci_high"]),
                    unit="% of residents", note=f"{survey_year}, design-based (Taylor), survey",
                    label=f"Residents who took part in a community activity, {survey_year}")
    findings.record("participate_share60_lpm", s60["estimate"], ci=(s60["ci_low"], s60["ci_high"]),
                    unit="difference in probability per unit share", truth=truth_value(truth, "participate_share60_lpm"),
                    note="claim 4: " + claims.CLAIMS["participation"].describe(),
                    label="Claim 4: share aged 60+ and taking part (difference in probability per unit share)")

# %%
findings.display()
