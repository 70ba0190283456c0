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
# # District profile: one district against the city and its peers
#
# **Question.** How does this district compare with the city, and with the other districts of its
# zone, on organisational coverage, member registration, residents taking part and residents'
# satisfaction, once chance and the ordinary differences between districts are allowed for? Where
# can it be placed among the districts, and which of its sub-districts differ from the city? The
# profile applies the field's **claim 7** (small units give noisy rates, so funnel plots and rank
# intervals come before anyone is named best or worst) to one district, with the same rules and
# numbers as the reports on [Coverage](01_coverage.html), [Participation](02_participation.html)
# and [Satisfaction](03_satisfaction.html). Every district has a profile of its own, listed on the
# collection's index.

# %% tags=["parameters"]
data_dir = None  # the data folder (None: the shipped default data in data/)
district_id = "D01"  # the district profiled
year = None  # the year of the profile (None: the latest year in the data)
seed = 20240501  # seed of the rank simulations

# %%
# %load_ext autoreload
# %autoreload 2
import matplotlib.pyplot as plt
import pandas as pd

from helpers.data import load
from helpers.data.truth import is_synthetic, truth_registration
from helpers.publish import findings, fmt, references, report
from helpers.publish import notebook as nb
from helpers.studies import measures, profile, verdicts

meta = nb.setup(data_dir)
nb.data_statement(meta, data_dir)

# %% [markdown]
# ## Data
#
# Organisations and party members are administrative records that count every eligible
# organisation and every in-service member; residents' answers come from the yearly resident
# survey, a stratified two-stage sample (strata: districts; primary sampling units: communities).

# %%
tables = load.load_all(data_dir, tables=list(profile.TABLES))
synthetic = is_synthetic(data_dir)
data = profile.build(tables, year, truth_registration=truth_registration(data_dir), seed=seed)
here = profile.district_row(data, district_id)
name = profile.display_name(here["name_en"])
names = data.districts.set_index("district_id")["name_en"].map(profile.display_name)
zones = {"core": "urban core", "inner_suburb": "inner suburb", "outer_county": "outer county"}
say = {"org_coverage": "organisational coverage", "registration": "member registration",
       "participated": "residents taking part in a community activity", "sat_score": "the satisfaction thermometer"}
n_sub = int((data.subdistricts["district_id"] == district_id).sum())
tables_named = {"survey": "resident survey", "organisations": "organisations table", "members": "members table"}
report.md("## {name} ({zh})\n\n**{name}** is one of the city's **{k}** districts and counties, in the **{zone}** zone, "
          "with **{s}** {sub}. {when}{gone}",
          name=name, zh=here["name_zh"], k=data.n_districts, zone=zones.get(here["zone"], here["zone"]), s=n_sub,
          sub="sub-district, town or township" if n_sub == 1 else "sub-districts, towns or townships",
          when=(f"All measures describe {data.year}. " if data.survey_year == data.year else
                f"The administrative rates describe {data.year}. " if data.survey_year is None else
                f"The administrative rates describe {data.year}; the survey did not run that year, so the survey "
                f"measures describe {data.survey_year}, its latest year. "),
          gone=("The data have no " + " and no ".join(dict.fromkeys(tables_named[t] for t in data.absent.values()))
                + ", so this profile does not report " + " or ".join(say[m] for m in data.absent)
                + "." if data.absent else ""))

# %% [markdown]
# ## Method
#
# Administrative rates are summed numerators over summed denominators (a district's rate is not a
# mean of its communities' rates) with 95% Wilson intervals. Survey figures are design-based means
# (weights, strata and clusters of the survey design) with 95% intervals on the design's degrees
# of freedom; a survey figure resting on fewer than ten respondents is suppressed.
#
# Two questions are kept apart, each with the collection's one rule:
#
# - **Does the district differ from the city?** Only when its value lies outside the
#   overdispersion-adjusted 95% funnel limits around the city value (Spiegelhalter 2005a, 2005b):
#   beyond them the gap is larger than chance and the ordinary differences between districts would
#   produce. The limits are those of the other reports, drawn from all the city's districts (or
#   sub-districts) in the same year.
# - **Where does it rank?** Ranks (1 = highest) are simulated from each district's sampling
#   distribution (Goldstein & Spiegelhalter 1996). A district is given a rank only when its 95%
#   interval of plausible ranks is a single rank; otherwise the interval is stated.
#
# The two can differ: an administrative rate counts every member, so a district's place in the
# table can be certain while its gap from the city is still within the ordinary spread of districts.

# %% [markdown]
# ## Headline measures

# %%
d = profile.district_frame(data, district_id)
top = profile.standout(data, district_id)
above = [say[m] for m, v in d["verdict"].items() if v == "above" and m != top]
below = [say[m] for m, v in d["verdict"].items() if v == "below" and m != top]
alike = [say[m] for m, v in d["verdict"].items() if v == "not distinguishable"]
above, below, alike = (" and ".join(filter(None, [", ".join(x[:-1]), x[-1]])) if x else "" for x in (above, below, alike))
if top is None:
    text = report.md("**What stands out.** Nothing beyond the ordinary differences between districts: on {what}, {name} "
                     "lies within the overdispersion-adjusted 95% limits around the city value.", name=name,
                     what="every measure shown" if (d["verdict"] == "not distinguishable").all() else alike or "no measure")
else:
    t, scale, pct = d.loc[top], profile.SCALE[top], "%" if profile.SCALE[top] == 100 else ""
    # the value's own digits; more only where it would print as the limit it lies outside
    k = next((j for j in range(profile.digits(t["estimate"], t["ci_low"], t["ci_high"], top), 4)
              if fmt.number(t["estimate"] * scale, j) not in (fmt.number(t["lower"] * scale, j),
                                                             fmt.number(t["upper"] * scale, j))), 3)
    text = report.md("**What stands out.** {name} stands out on **{label}**: {v} against {c} for the city, {rel} {side} "
                     "in relative terms and outside the overdispersion-adjusted 95% limits ({ll} to {ul} at the "
                     "district's size). Among the districts it is placed {rank}.{also}{rest}",
                     name=name, label=say[top],
                     v=fmt.interval(t["estimate"], t["ci_low"], t["ci_high"], digits=k, scale=scale, unit=pct),
                     c=fmt.number(t["city"] * scale, profile.digits(t["city"], t["city_low"], t["city_high"], top)) + pct,
                     rel=fmt.percent(abs(t["gap"]), 0),
                     side="higher" if t["verdict"] == "above" else "lower",
                     ll=fmt.number(t["lower"] * scale, k), ul=fmt.number(t["upper"] * scale, k),
                     rank=verdicts.rank_statement(t["rank"], t["rank_low"], t["rank_high"], int(t["ranked"])),
                     also=(f" It also lies above the city on {above}." if above else "")
                     + (f" It lies below the city on {below}." if below else ""),
                     rest=f" On {alike} it is not distinguishable from the city." if alike else "")
text

# %%
shown, raw = profile.headline_table(data, district_id)
shown = shown.drop(columns="Year") if shown["Year"].nunique() == 1 else shown
report.table(shown, caption=f"{name}: the headline measures against the city, with 95% intervals; whether the district "
                            "differs from the city (overdispersion-adjusted 95% funnel limits); its place among the "
                            "districts under the rank-interval rule; and the organisations, members or respondents "
                            "counted.", data=raw,
             notes=" ".join(fmt.DEGENERATE_NOTE) + "." if fmt.DEGENERATE_NOTE[0] in shown.to_csv() else None)

# %%
single = d[d["rank_low"] == d["rank_high"]]
placed = [f"{say[m]} ({verdicts.rank_statement(r['rank'], r['rank_low'], r['rank_high'], int(r['ranked']))})"
          for m, r in single.iterrows()]
certain = [say[m] for m in single[single["verdict"] == "not distinguishable"].index]
placed, certain = (" and ".join(filter(None, [", ".join(x[:-1]), x[-1]])) if x else "" for x in (placed, certain))
report.md("{ranks}{explain}",
          ranks=(f"Its place among the districts is certain on {placed}. " if placed else
                 "No measure places the district at a single rank: each 95% rank interval spans several places."),
          explain=(f"On {certain} the rank is certain because every organisation or member is counted, yet the gap "
                   "from the city lies within the ordinary differences between districts, so the district is not said "
                   "to differ from the city there." if certain else ""))

# %%
fig, axs = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [1, 1.25]})
profile.locator_map(data, district_id, ax=axs[0], synthetic=synthetic)
if "registration" in data.available:
    profile.subdistrict_map(data, district_id, "registration", ax=axs[1], synthetic=synthetic)
else:
    axs[1].set_axis_off()
sub_ids = data.subdistricts.loc[data.subdistricts["district_id"] == district_id, "subdistrict_id"]
sub_reg = data.sub_verdicts[(data.sub_verdicts["measure"] == "registration")
                            & data.sub_verdicts["unit"].isin(sub_ids)]["verdict"].value_counts()
sub_words = ", ".join(f"{fmt.count(sub_reg[v])} {v}" for v in ("below", "above", "not distinguishable") if v in sub_reg)
report.figure(fig, alt=f"Two maps: left, the city's districts with {name} marked and the other districts of its zone "
                       "shaded; right, " + (f"its {fmt.count(len(sub_ids))} sub-district{'' if len(sub_ids) == 1 else 's'} "
                                            "coloured by whether member registration differs from the city "
                                            f"({sub_words})."
                                            if "registration" in data.available and sub_words else
                                            "no map of sub-districts (the data have no party members)."),
              caption=f"Left: where {name} lies among the city's districts, the other districts of its zone shaded. "
                           f"Right: its sub-districts' {measures.label('registration').lower()} against the city, "
                           f"{data.year} (overdispersion-adjusted 95% funnel limits of all the city's sub-districts).",
              data=data.sub_verdicts[data.sub_verdicts["unit"].isin(sub_ids)])

# %% [markdown]
# ## Sub-districts
#
# Each sub-district is set against the funnel of all the city's sub-districts in the same year: it
# differs from the city only outside the overdispersion-adjusted 95% limits at its size.

# %%
sub_shown, sub_raw = profile.subdistrict_table(data, district_id)
if len(sub_raw):
    shown = report.table(sub_shown, caption=f"{name}: sub-districts' administrative rates, {data.year}, with 95% Wilson "
                                            "intervals and whether each differs from the city.", data=sub_raw,
                         notes=" ".join(fmt.DEGENERATE_NOTE) + "." if fmt.DEGENERATE_NOTE[0] in sub_shown.to_csv()
                         else None)
else:
    shown = report.md("*The data have neither organisations nor members, so this section is skipped.*")
shown

# %%
tally = sub_raw.groupby(["measure", "verdict"]).size() if len(sub_raw) else pd.Series(dtype=int)
only = sub_raw.set_index("measure")["verdict"] if n_sub == 1 and len(sub_raw) else None
report.md("{lines}", lines=" ".join(
    (f"On {say[m]}, its only sub-district "
     + ("is not distinguishable from the city." if only[m] == "not distinguishable" else f"lies {only[m]} the city.")
     if only is not None and isinstance(only[m], str) else
     f"On {say[m]}, none of its {n_sub} sub-districts differs from the city."
     if tally.get((m, "below"), 0) + tally.get((m, "above"), 0) == 0 else
     f"On {say[m]}, {tally.get((m, 'below'), 0)} of its {n_sub} sub-districts "
     f"{'lies' if tally.get((m, 'below'), 0) == 1 else 'lie'} below the city and "
     f"{tally.get((m, 'above'), 0)} above it.")
    for m in profile.RATES if m in data.available and len(sub_raw)))

# %% [markdown]
# ## Against its peers
#
# The districts of the same zone face similar conditions (density, migrant shares, distances), so
# they are the fairer comparison. Each is judged against the city by the same rule as above.

# %%
peer_ids = profile.peers(data, district_id)
if len(peer_ids) > 1:
    peer_shown, peer_raw = profile.peer_table(data, district_id)
    shown = report.table(peer_shown.drop(columns="district_id"),
                         caption=f"{name} and the other districts of the {zones.get(here['zone'], here['zone'])} zone: "
                                 "each measure's value, with the verdict in brackets where the district differs from "
                                 "the city (overdispersion-adjusted 95% funnel limits).", data=peer_raw)
else:
    shown = report.md("*No other district lies in the {zone} zone, so there are no peers to compare with.*",
                      zone=zones.get(here["zone"], here["zone"]))
shown

# %%
if len(peer_ids) > 1:
    pv = data.verdicts[data.verdicts["unit"].isin(peer_ids) & (data.verdicts["unit"] != district_id)]
    pv = pv[pv["verdict"] != "not distinguishable"]
    shown = report.md("{lines}.", lines="; ".join(
        f"{names[u]} lies {v} the city on {say[m]}" for u, m, v in zip(pv["unit"], pv["measure"], pv["verdict"]))
        if len(pv) else "No other district of the zone differs from the city on any measure beyond the "
                        "ordinary differences between districts")
else:
    shown = report.md("")
shown

# %%
# Synthetic data only: the planted registration probabilities are known.
check = profile.truth_check(data)
if check is not None:
    mine = check.loc[district_id]
    k0 = profile.digits(mine["estimate"], mine["ci_low"], mine["ci_high"], "registration")
    # a planted rate just outside an interval whose bound prints as the same number: give the digits that tell
    # them apart (as helpers.studies.claims.truth_table says "just outside")
    bound = mine["ci_low"] if mine["truth"] < mine["ci_low"] else mine["ci_high"]
    close = not mine["inside"] and fmt.percent(mine["truth"], k0) == fmt.percent(bound, k0)
    kk = next((j for j in range(k0 + 1, 5) if fmt.percent(mine["truth"], j) != fmt.percent(bound, j)), 4)
    shown = report.md("## Validation against the planted truth\n\nThe synthetic city knows every community's true "
                      "registration probability. The member-weighted mean over {name}'s communities is **{t}**; the "
                      "observed rate, {e}, has a 95% interval that {verb}. Across the city's {k} districts, **{c}** "
                      "of the intervals contain their planted rate; about one in twenty should miss, and the data are "
                      "one draw of the synthetic city.", name=name, t=fmt.percent(mine["truth"], k0),
                      e=fmt.interval(mine["estimate"], mine["ci_low"], mine["ci_high"], scale=100, unit="%"),
                      verb="contains it" if mine["inside"] else "misses it" if not close else
                      (f"just misses it (its {'lower' if bound == mine['ci_low'] else 'upper'} bound is "
                       f"{fmt.percent(bound, kk)}, the planted mean {fmt.percent(mine['truth'], kk)})"),
                      k=len(check), c=fmt.count(check["inside"].sum()))
else:
    shown = report.md("")
shown

# %% [markdown]
# ## Caveats
#
# - Survey figures rest on one year's sample of a few communities in the district; their intervals
#   are wide, and differences between peers within them are not evidence of a gap.
# - Administrative rates have narrow intervals because they count every member and organisation;
#   the intervals cover random variation, not errors of recording.
# - A rank says nothing about the size of a gap: neighbouring districts in the table may be close
#   together.
# - These are descriptions, not effects: nothing here says why a district differs.

# %% [markdown]
# ## Measures

# %%
report.table(measures.glossary(data.available or profile.MEASURE_KEYS),
             caption="The measures of this report: definition, source and scale.")

# %% [markdown]
# ## Methods and references
#
# Rates from counts: summed numerators over summed denominators, Wilson (1927) intervals. Districts
# and sub-districts against the city: funnel plots with exact binomial limits widened for
# overdispersion (Spiegelhalter 2005a, 2005b), and the same for survey means with their
# design-based standard errors. Survey means: design-based, Taylor-linearised variances (Binder
# 1983; Lumley 2010). Ranks: simulated from each district's sampling distribution, with 95%
# intervals of plausible ranks (Goldstein & Spiegelhalter 1996).

# %%
report.md(references.references(["wilson1927", "spiegelhalter2005a", "spiegelhalter2005b", "binder1983", "lumley2010",
                                 "goldstein1996"]))

# %% [markdown] tags=["remove-cell"]
# ## Explore another district
#
# In JupyterLab, the picker below redraws the headline table and the maps for any district. (This
# section is left out of the published reports, which are built once per district.)

# %% tags=["remove-cell"]
profile.picker(data, district_id, synthetic=synthetic)

# %% [markdown]
# ## Headline findings

# %%
units = {"org_coverage": "% of active eligible organisations", "registration": "% of in-service members resident",
         "participated": "% of residents", "sat_score": "points (0–100)"}
names_of = {"org_coverage": "coverage"}
for m, r in d.iterrows():
    if pd.notna(r["verdict"]):
        scale = profile.SCALE[m]
        findings.record(names_of.get(m, m), scale * r["estimate"], ci=(scale * r["ci_low"], scale * r["ci_high"]),
                        unit=units[m], label=f"{measures.label(m)}, {name}, {data.year_of(m)}",
                        truth=(100 * check.loc[district_id, "truth"] if m == "registration" and check is not None
                               else None),
                        note=f"{district_id} {data.year_of(m)}; "
                             + ("Wilson" if m in profile.RATES else "design-based, t on design df")
                             + f"; against the city: {r['verdict']}")
findings.display()
