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
# # Drivers: does the regional platform raise coverage, and what goes with participation and satisfaction?
#
# **Question.** Do the drivers that five of the field's claims name for coverage, participation
# and satisfaction show in the data? Each is tested here with the estimator the collection specifies
# for it, and each verdict is worded by what its design can show:
#
# 1. regional platforms raise organisational coverage of "two new" organisations — the platform was
#    rolled out sub-district by sub-district in different years, and this staggered roll-out is the
#    one design in the report that can identify an **effect** (under the assumptions stated with it);
# 2. a short walk to a service point goes with more awareness and satisfaction, and less so beyond
#    15 minutes;
# 3. joint-building agreements go with more members registering in their residence community;
# 4. community capacity: older communities take part more, a high migrant share goes with lower
#    awareness, funding and staff go with better-equipped service points (the eight-haves checklist);
# 5. awareness goes with taking part, which goes with satisfaction (a mediation analysis).
#
# Claims 2 to 5 rest on comparisons of respondents, communities or service points that differ in
# more than the exposure: their estimates are **associations**, "consistent with the claim" or not,
# never effects.

# %% tags=["parameters"]
data_dir = None  # the data folder (None: the shipped default data in data/)
seed = 20261122  # seed of the mediation bootstrap

# %%
# %load_ext autoreload
# %autoreload 2
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator
import numpy as np
import pandas as pd
from IPython.display import display

from helpers.data import load
from helpers.data.truth import ground_truth, is_synthetic, truth_value
from helpers.publish import findings, fmt, references, report
from helpers.publish import notebook as nb
from helpers.stats import eventstudy
from helpers.studies import claims, drivers, measures, verdicts
from helpers.viz import style

meta = nb.setup(data_dir)
nb.data_statement(meta, data_dir)

# %% [markdown]
# ## Data
#
# Each claim uses the tables it needs, where the data folder has them: the resident survey
# (respondents of every survey year pooled, with their community's migrant share and share aged
# 60+), member and joint-building counts by community and year, service points with their
# eight-haves checklist and their community's funding and staff, and eligible organisations with the
# year each sub-district adopted the platform.
#
# The survey models are unweighted. The design weights vary with the district (the stratum), the
# community's population and its response rate; the models hold the district constant (fixed
# effects or random intercepts), and the awareness model also the community's migrant share, which
# drives nonresponse. When a model conditions on what the weights depend on, weighting only costs
# precision (Solon, Haider & Wooldridge 2015). Standard errors are clustered by community (the
# primary sampling unit, which also appears in several years), with t intervals on G − 1 degrees of
# freedom, unless a model's description says otherwise. Each survey model is also fitted
# design-based, with the weights and the sampling design, and the two are set side by side in
# *Model-based and design-based estimates of the survey models*.

# %%
tables = load.load_all(data_dir, tables=["community_boundaries", "communities", "survey", "members", "joint_building",
                                         "service_points", "organisations", "platform"])
synthetic, truth = is_synthetic(data_dir), ground_truth(data_dir)
period = load.study_period(tables)
C = claims.CLAIMS
NAMES = ["platform_event_study", "platform_hazard", "awareness", "registration", "eight_haves", "participation",
         "service_satisfaction", "satisfaction", "mediation"]
TABLE_NAMES = {"survey": "resident survey", "members": "member counts", "joint_building": "joint-building counts",
               "service_points": "service points", "organisations": "organisations", "platform": "platform roll-out"}
why_not = {n: C[n].unavailable(tables) for n in NAMES}  # None where the claim can be estimated
can = {n: why_not[n] is None for n in NAMES}
if can["platform_event_study"]:
    coverage, adoption = C["platform_event_study"].inputs(tables)
    roll = drivers.adoption_summary(coverage, adoption)
    can["platform_event_study"] = can["platform_hazard"] = roll["identifiable"]
resp = C["awareness"].inputs(tables)[0] if "survey" in tables else None
fits = {n: C[n].fit(tables, seed=seed) if n == "mediation" else C[n].fit(tables) for n in NAMES if can[n]}
parts = []
if resp is not None:
    parts.append(f"{fmt.count(len(resp))} survey respondents in {fmt.count(resp['community_id'].nunique())} "
                 f"sampled communities (survey years {int(resp['year'].min())}–{int(resp['year'].max())})")
if can["registration"]:
    parts.append(f"{fmt.count(len(C['registration'].inputs(tables)[0]))} community-years of member and "
                 "joint-building counts")
if can["eight_haves"]:
    parts.append(f"{fmt.count(len(tables['service_points']))} service points")
if "platform_event_study" in fits:
    parts.append(f"{fmt.count(roll['units'])} sub-districts observed over {len(period.years)} years, with "
                 f"{fmt.count(len(tables['organisations']))} eligible organisations")
absent = [TABLE_NAMES[t] for t in TABLE_NAMES if t not in tables]
report.md("The data cover {p}. The models use {parts}.{absent}", p=f"{period.first}–{period.last}",
          parts="; ".join(parts) if parts else "none of the tables they need",
          absent=(" The data have no " + ", no ".join(absent) + " table" + ("s" if len(absent) > 1 else "")
                  + f": the claims that need {'them' if len(absent) > 1 else 'it'} are skipped, each with a sentence "
                  "below.") if absent else "")

# %% [markdown]
# Table 1 lists the models, the rows each one uses and why some rows are left out. A survey model
# uses the respondents who answered every item it contains, so the models of different items rest
# on slightly different respondents.

# %%
MODEL = {"platform_event_study": f"{measures.label('org_coverage')}: event study",
         "platform_hazard": "Setting up a party organisation: discrete-time hazard",
         "awareness": f"{measures.label('aware')}: logistic regression",
         "registration": f"{measures.label('registration')}: logistic regression within communities",
         "eight_haves": f"{measures.label('eight_haves')}: binomial regression",
         "participation": f"{measures.label('participated')}: linear probability model",
         "service_satisfaction": f"{measures.label('sat_service')}: ordered logit",
         "satisfaction": f"{measures.label('sat_score')}: linear mixed model",
         "mediation": "Awareness, taking part and the thermometer: mediation"}
VARIABLE = {"aware_center": measures.label("aware"), "participated": measures.label("participated"),
            "sat_service": measures.label("sat_service"), "sat_score": measures.label("sat_score"),
            "within15": measures.label("walk_band"), "band15_30": measures.label("walk_band"),
            "migrant_share": measures.label("migrant_share"), "share_60plus": measures.label("share_60plus")}
rows = []
for n, fit in fits.items():
    if n in ("platform_event_study", "platform_hazard"):
        continue
    if "survey" in C[n].tables:
        miss, used = drivers.item_nonresponse(resp, drivers.model_variables(C[n].spec, resp.columns), VARIABLE)
        miss = miss[miss["missing"] > 0]
        why = ("; ".join(f"{lab.lower()} not answered by {fmt.count(k)}" for lab, k in zip(miss["label"], miss["missing"]))
               + ("; some respondents miss more than one" if miss["missing"].sum() > len(resp) - used else ""))
        rows.append({"name": n, "unit": "respondents", "rows": len(resp), "used": used, "why": why})
    elif n == "registration":
        left = fit.nobs - fit.info["fitted_rows"]
        n_flat = fit.info["dropped_groups"]
        rows.append({"name": n, "unit": "community-years", "rows": fit.nobs, "used": fit.info["fitted_rows"],
                     "why": "" if not left else
                            ("a community-year " if left == 1 else "community-years ")
                            + (f"of the {fmt.count(n_flat)} communit{'y' if n_flat == 1 else 'ies'} where "
                               "registration never varied (none or all registered every year), or "
                               if n_flat else "")
                            + "with no in-service member living there"})
    elif n == "eight_haves":
        rows.append({"name": n, "unit": "service points", "rows": len(tables["service_points"]), "used": fit.nobs,
                     "why": "their community's funding or staff is missing"})
if "platform_event_study" in fits:
    rows.insert(0, {"name": "platform_event_study", "unit": "sub-districts", "rows": roll["units"],
                    "used": roll["units"] - roll["before"],
                    "why": f"adopted the platform in or before {roll['first']}, the first year observed: no year "
                           "before adoption to compare with" if roll["before"] else ""})
    hazard = fits["platform_hazard"]
    hz_units = drivers.hazard_units(C["platform_hazard"].inputs(tables)[0], coverage["subdistrict_id"].unique())
    hz_k = hz_units["status"].value_counts()
    hz_why = [f"in the {fmt.count(hz_k[s])} sub-district{'' if hz_k[s] == 1 else 's'} where {what} (no information "
              f"under {'its' if hz_k[s] == 1 else 'their'} own fixed effect)"
              for s, what in (("no event", "no organisation set up a party organisation in any year"),
                              ("all events", "every organisation at risk set one up")) if hz_k.get(s, 0)]
    if hz_k.get("no row at risk", 0):
        k = hz_k["no row at risk"]
        hz_why.append(f"{'a further ' if k == 1 else fmt.count(k) + ' further '}sub-district{'' if k == 1 else 's'} "
                      f"{'has' if k == 1 else 'have'} no organisation-year at risk (every organisation there had a "
                      "party organisation from the first year observed)")
    if len(hz_why) > 0:
        hz_why[-1] += (f": the model uses {fmt.count(hz_k.get('used', 0))} of the {fmt.count(len(hz_units))} "
                       "sub-districts")
    rows.insert(1, {"name": "platform_hazard", "unit": "organisation-years at risk", "rows": hazard.nobs,
                    "used": hazard.info["fitted_rows"], "why": "; ".join(hz_why)})
model_rows = pd.DataFrame(rows, columns=["name", "unit", "rows", "used", "why"])
model_rows["left_out"] = model_rows["rows"] - model_rows["used"]
model_rows["claims"] = [", ".join(str(c) for c in C[n].field_claims) for n in model_rows["name"]]
model_rows["design"] = [C[n].design for n in model_rows["name"]]
(report.table(pd.DataFrame({
    "Model": model_rows["name"].map(MODEL), "Claims": model_rows["claims"],
    "Design": model_rows["design"].map({"staggered roll-out": "staggered roll-out (effect)",
                                        "within-community change": "within-community change (association)",
                                        "observational": "cross-section (association)"}),
    "Rows used": [f"{fmt.count(u)} of {fmt.count(r)} {unit}" for u, r, unit in
                  zip(model_rows["used"], model_rows["rows"], model_rows["unit"])],
    "Left out, and why": [f"{fmt.count(k)}: {why}" if k else "none" for k, why in
                          zip(model_rows["left_out"], model_rows["why"])]}),
    caption="The models of this report: the claims each tests, its design, the rows it uses and why some rows are "
            "left out.", data=model_rows.drop(columns="unit").rename(columns={"name": "claim_name"}))
 if len(model_rows) else report.md("*The data hold none of the tables the models need.*"))

# %% [markdown]
# ## Claim 1: does the regional platform raise organisational coverage?
#
# Sub-districts adopted the regional platform in different years, and some never did. For each
# adoption cohort and year, the Callaway–Sant'Anna estimator compares the change in coverage since
# the year before adoption with the same change in sub-districts not yet (or never) adopting, and
# averages these comparisons by years since adoption (event time), giving each sub-district equal
# weight. Standard errors come from each sub-district's influence function. A two-way fixed-effects
# regression would instead compare late adopters with early adopters that are already treated, and
# can mis-weight effects that grow with time since adoption (Goodman-Bacon 2021); it is shown only
# for contrast.
#
# The platform was not assigned at random. The estimates are effects of the platform only under
# two assumptions, which the data cannot prove:
#
# - **parallel trends**: had they not adopted, the adopting sub-districts' coverage would have
#   moved like that of the sub-districts not yet adopting;
# - **no anticipation**: coverage did not change in the years before adoption because adoption
#   was coming (and one sub-district's platform does not change its neighbours' coverage).
#
# The year before adoption (event time −1) is the reference. The estimates for earlier years
# (event times −2 and before) are **placebo** checks: under both assumptions they are zero, up to
# chance.

# %%
if "platform_event_study" in fits:
    es, naive = fits["platform_event_study"], drivers.twfe(coverage, adoption)
    byE = es.by_event_time.set_index("event_time")
    lo_w, hi_w = C["platform_event_study"].spec.post_window
    window = [e for e in byE.index if lo_w <= e <= hi_w]
    full_window = window == list(range(lo_w, hi_w + 1))
    pre = drivers.pretrend_summary(es.by_event_time)
    es_truth = None if truth is None else {e: truth_value(truth, f"platform_att_by_event_time[{e}]")
                                           for e in window}
    fig, ax = plt.subplots(figsize=(7.5, 4))
    eventstudy.plot_event_study(es, ax=ax, truth=es_truth,
                                ylabel=f"Change in {measures.label('org_coverage').lower()} (percentage points)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # event times are whole years
    if synthetic:
        style.stamp_synthetic(fig)
    post, placebo = byE[byE.index >= 0], byE[byE.index < -1]

    # the ends of each range with the digits its row of Table 2 prints them with
    ends = {(side, w): fmt.number(byE.loc[i, "estimate"], fmt.estimate_digits(*byE.loc[i, ["estimate", "ci_low",
                                                                                              "ci_high"]]))
            for side, rows in (("pre", placebo), ("post", post)) if len(rows)
            for w, i in (("min", rows["estimate"].idxmin()), ("max", rows["estimate"].idxmax()))}
    shown = report.figure(fig, caption=f"Effect of the regional platform on {measures.label('org_coverage').lower()} "
                                       "by years since adoption, percentage points with 95% intervals; before "
                                       "adoption, placebo estimates; the year before adoption is the reference."
                                       + (" Crosses: the effects planted in the synthetic city." if es_truth else ""),
                          alt=f"Points with 95% interval bars by years since adoption, from "
                              f"{fmt.number(byE.index.min(), 0)} to {fmt.number(byE.index.max(), 0)}: "
                              + ("no estimate before adoption" if pre["n"] == 0 else
                                 f"before adoption {ends['pre', 'min']} points" if pre["n"] == 1
                                 else f"before adoption from {ends['pre', 'min']} to {ends['pre', 'max']} points")
                              + (f", after adoption from {ends['post', 'min']} to {ends['post', 'max']} points."
                                 if len(post) else "."),
                          data=es.by_event_time)
else:
    shown = report.md("*" + ("The data have no " + " or ".join(TABLE_NAMES[t] for t in ("organisations", "platform")
                                                                 if t not in tables) + " table"
                             if not all(t in tables for t in C["platform_event_study"].tables) else
                             "No sub-district adopted the platform after the first year observed and before the last, "
                             "with one not yet adopting to compare it with") + ": claim 1 is not tested.*")
shown

# %%
if "platform_event_study" in fits:
    shown = report.table(pd.DataFrame({
        "Years since adoption": [fmt.number(e, 0) for e in byE.index],
        "Estimate": ["placebo" if e < -1 else ("reference" if e == -1 else "effect") for e in byE.index],
        "Change in coverage, points (95% CI)": ["0 (reference)" if e == -1 else
                                                fmt.interval(r.estimate, r.ci_low, r.ci_high)
                                                for e, r in byE.iterrows()],
        "p": [fmt.pvalue(p) for p in byE["p"]],
        "Adopting sub-districts": [fmt.count(k) if e != -1 else "–" for e, k in byE["n_treated"].items()]}),
        caption=f"Effect of the regional platform on {measures.label('org_coverage').lower()} by years since adoption "
                "(Callaway–Sant'Anna, not-yet and never adopting sub-districts as controls), with the adopting "
                "sub-districts behind each estimate.", data=es.by_event_time)
else:
    shown = report.md("")
shown

# %%
if "platform_event_study" in fits:
    att, tw = es.overall.iloc[0], naive.term("treated")
    e_last, late = window[-1], byE[byE.index > hi_w]
    shown = report.md(
        "Under parallel trends and no anticipation, the platform's effect on coverage is **{e0}** percentage points "
        "in the adoption year{later}; averaged over event times {w}, it is **{a}** points. {late}For contrast, the "
        "static two-way fixed-effects regression gives {t} points: one number that mixes growing effects with "
        "comparisons against sub-districts already adopting.",
        e0=fmt.interval(byE.loc[0, "estimate"], byE.loc[0, "ci_low"], byE.loc[0, "ci_high"]),
        later=("" if e_last == 0 else f" and {fmt.interval(*byE.loc[e_last, ['estimate', 'ci_low', 'ci_high']])} "
                                      f"{e_last} year{'s' if e_last > 1 else ''} on"),
        w=f"{window[0]} to {e_last}" + ("" if full_window else f" (the years observed allow no later event time "
                                                              f"than {e_last})"),
        a=fmt.interval(att["estimate"], att["ci_low"], att["ci_high"]),
        late=(f"Event times after {hi_w} come from the earliest adopters alone ({fmt.count(late['n_treated'].min())} "
              f"sub-districts at event time {int(late.index.max())}) and are left out of the average. "
              if len(late) else ""),
        t=fmt.interval(tw["estimate"], tw["ci_low"], tw["ci_high"]))
else:
    shown = report.md("")
shown

# %%
if "platform_event_study" in fits and pre["n"] == 0:
    shown = report.md("There is no placebo estimate: no adopting sub-district is observed two or more years before "
                      "adoption, so the data cannot check parallel trends.")
elif "platform_event_study" in fits:
    e_max_digits = fmt.estimate_digits(*byE.loc[pre["e_max_abs"], ["estimate", "ci_low", "ci_high"]])
    shown = report.md(
        "**Placebo checks.** {counts} {verdict}",
        counts=(f"{fmt.count(pre['n_cover_zero'])} of the {fmt.count(pre['n'])} estimates before adoption have a 95% "
                "interval that includes zero; the largest in size is "
                f"{fmt.number(byE.loc[pre['e_max_abs'], 'estimate'], e_max_digits)} points at event time "
                f"{fmt.number(pre['e_max_abs'], 0)} ({fmt.count(pre['n_treated_max_abs'])} adopting sub-districts)."
                if pre["n"] > 1 else
                f"The one estimate before adoption, {fmt.number(byE.loc[pre['e_max_abs'], 'estimate'], e_max_digits)} "
                "points at "
                f"event time {fmt.number(pre['e_max_abs'], 0)} ({fmt.count(pre['n_treated_max_abs'])} adopting "
                f"sub-districts), has a 95% interval that {'includes' if pre['n_cover_zero'] else 'excludes'} zero."),
        verdict=("The years before adoption show no sign of diverging trends; but with "
                 + ("intervals" if pre["n"] > 1 else "an interval") + " reaching "
                 f"±{fmt.number(((placebo['ci_high'] - placebo['ci_low']) / 2).max(), e_max_digits)} points, the check cannot "
                 "rule out pre-trends of that size." if pre["n_cover_zero"] == pre["n"] else
                 "Estimates before adoption that differ from zero cast doubt on parallel trends (or on no "
                 "anticipation), and with them on reading the estimates after adoption as effects."))
else:
    shown = report.md("")
shown

# %% [markdown]
# ### The same claim, one organisation at a time
#
# The event study works with sub-district rates. At the level of organisations, a discrete-time
# hazard model (Allison 1982) asks how much more likely an organisation without a party
# organisation is to set one up in a year when its sub-district has the platform: a logistic
# regression over the organisation-years at risk, with sub-district fixed effects (absorbing stable
# differences between sub-districts), year effects, and the organisation's party members (log of
# one plus the count); standard errors clustered by sub-district, the level at which the platform
# is adopted. It rests on the same assumptions as the event study, and on one more: that the
# platform's effect on the yearly odds is the same in every year after adoption.

# %%
if "platform_hazard" in fits:
    hz = fits["platform_hazard"].term("treated")
    shown = report.md("Under these assumptions, the platform multiplies an uncovered organisation's yearly odds of "
                      "setting up a party organisation by **{o}** ({n} organisation-years at risk in {g} "
                      "sub-districts{why}).",
                      o=fmt.interval(np.exp(hz["estimate"]), np.exp(hz["ci_low"]), np.exp(hz["ci_high"])),
                      n=fmt.count(fits["platform_hazard"].info["fitted_rows"]),
                      g=(f"all {fmt.count(len(hz_units))}" if fits["platform_hazard"].info["absorbed_groups"] ==
                         len(hz_units) else f"{fmt.count(fits['platform_hazard'].info['absorbed_groups'])} of the "
                                            f"{fmt.count(len(hz_units))}"),
                      why="" if fits["platform_hazard"].info["absorbed_groups"] == len(hz_units) else
                          "; Table 1 says why the others are left out")
else:
    shown = report.md("*Claim 1 is not tested (see above), so neither is the hazard model.*")
shown

# %% [markdown]
# ## Claims 2 and 4: awareness, walking time and migrant share
#
# A logistic regression of being aware of the community's service centre on the walking time the
# respondent reports (three bands; over 30 minutes is the reference) and the community's migrant
# share (0 to 1), with district fixed effects. Coefficients are log-odds, shown here as odds ratios.
# Respondents are compared with others in the same district who differ in more than their walk, so
# the results are associations.

# %%
if "awareness" in fits:
    aware = fits["awareness"]
    w15, b30, mig = aware.term("within15"), aware.term("band15_30"), aware.term("migrant_share")
    fade = aware.contrast("within15 - band15_30").iloc[0]
    pred = drivers.average_predictions(aware, {"near": {"within15": 1, "band15_30": 0},
                                               "middle": {"within15": 0, "band15_30": 1},
                                               "far": {"within15": 0, "band15_30": 0}}).set_index("scenario")["prediction"]
    far = resp.loc[(resp["within15"] == 0) & (resp["band15_30"] == 0), "aware_center"].dropna()
    separated = not (np.isfinite(w15["se"]) and np.isfinite(b30["se"]))
    shown = report.md(
        "{bands} The log-odds coefficient of 15 minutes or less minus that of 15–30 minutes is {d}: "
        "{fades}. Averaged over the respondents, the model's predicted awareness is {p1} for a reported walk of 15 "
        "minutes or less, {p2} for 15–30 minutes and {p3} beyond 30 (predictions of an association, not effects of a "
        "shorter walk). Ten "
        "percentage points more migrants in the community go with odds of awareness **{om}** times as high ({n} "
        "respondents).",
        bands=(("None" if far.mean() == 0 else "All" if far.mean() == 1 else "Too few")
               + f" of the {fmt.count(len(far))} respondents who report a walk of more than 30 minutes "
               + ("know" if far.mean() in (0, 1) else "differ in whether they know") + " the centre: the logistic "
               "regression separates, and the odds ratios of the shorter walks against them cannot be estimated."
               if separated else
               "Residents who report a walk of 15 minutes or less to the nearest service point have odds of knowing "
               f"the centre {fmt.interval(np.exp(w15['estimate']), np.exp(w15['ci_low']), np.exp(w15['ci_high']))}"
               " times those of residents who report more than 30 minutes, and residents who report 15–30 minutes "
               f"{fmt.interval(np.exp(b30['estimate']), np.exp(b30['ci_low']), np.exp(b30['ci_high']))} times."),
        d=fmt.interval(fade["estimate"], fade["ci_low"], fade["ci_high"], se=fade["se"]),
        fades=("the association fades with distance" if fade["ci_low"] > 0 else
               "the association grows with distance, against the claim" if fade["ci_high"] < 0 else
               "the data cannot tell whether the association fades with distance"),
        p1=fmt.percent(pred["near"], 0), p2=fmt.percent(pred["middle"], 0), p3=fmt.percent(pred["far"], 0),
        om=fmt.interval(np.exp(0.1 * mig["estimate"]), np.exp(0.1 * mig["ci_low"]), np.exp(0.1 * mig["ci_high"])),
        n=fmt.count(aware.nobs))
else:
    shown = report.md("*The data have no resident survey: claims 2 and 4 on awareness are not tested.*")
shown

# %% [markdown]
# ## Claim 3: joint-building agreements and registration
#
# A logistic regression of registered members out of in-service members living in the community,
# per community and year, on the community's agreement share (signed agreements over resident units,
# 0 where a community has none), with community fixed effects and year effects: each community is
# compared with itself in other years, so its stable traits drop out, but a change that comes with
# new agreements would still be read as theirs. The estimate is a within-community association.
# [Participation](02_participation.html) reports the same model beside volunteering.

# %%
if "registration" in fits:
    reg = fits["registration"]
    ag = reg.term("agreement_share")
    shown = report.md("Within a community, a year in which another tenth of its resident units has a signed agreement "
                      "goes with odds of an in-service member registering **{o}** times as high; the log-odds "
                      "coefficient per unit of agreement share is {e}, from {n} community-years in {g} communities.",
                      o=fmt.interval(np.exp(0.1 * ag["estimate"]), np.exp(0.1 * ag["ci_low"]),
                                     np.exp(0.1 * ag["ci_high"])),
                      e=fmt.interval(ag["estimate"], ag["ci_low"], ag["ci_high"], se=ag["se"]),
                      n=fmt.count(reg.info["fitted_rows"]), g=fmt.count(reg.info["absorbed_groups"]))
elif any(t not in tables for t in ("members", "joint_building")):
    shown = report.md("*The data have no " + " or ".join(TABLE_NAMES[t] for t in ("members", "joint_building")
                                                          if t not in tables) + " table: claim 3 is not tested.*")
else:
    shown = report.md("*Claim 3 is not tested: {why}.*", why=why_not["registration"])
shown

# %% [markdown]
# ## Claim 4: capacity (funding, staff and an older population)
#
# *Service points.* A binomial regression of each service point's eight-haves score (items met out
# of eight) on the funding and staff of its community, each standardised over the city's
# communities (per standard deviation), with model-based standard errors (the choice is explained
# below). *Taking part.* A linear probability model of a respondent having taken part in a community
# activity on the community's share aged 60+ and the respondent's awareness of the centre, with
# district fixed effects. Both are cross-sectional associations.

# %%
shown = []
if "eight_haves" in fits:
    haves = fits["eight_haves"]
    fu, st = haves.term("funding_std"), haves.term("staff_std")
    shown.append(report.md("Service points in communities with one standard deviation more funding meet a checklist "
                           "item with odds **{of}** times as high, and with one standard deviation more staff **{os}** "
                           "times as high ({n} service points). *Standard errors.* {why}",
                           of=fmt.interval(np.exp(fu["estimate"]), np.exp(fu["ci_low"]), np.exp(fu["ci_high"])),
                           os=fmt.interval(np.exp(st["estimate"]), np.exp(st["ci_low"]), np.exp(st["ci_high"])),
                           n=fmt.count(haves.nobs), why=C["eight_haves"].choice))
else:
    shown.append(report.md("*The data have no service points: the part of claim 4 on funding and staff is not "
                           "tested.*"))
if "participation" in fits:
    part = fits["participation"]
    s60, awp = part.term("share_60plus"), part.term("aware_center")
    shown.append(report.md("Ten percentage points more residents aged 60+ go with **{p}** percentage points more "
                           "residents taking part; residents who know the centre take part {a} points more often "
                           "({n} respondents).",
                           p=fmt.interval(s60["estimate"], s60["ci_low"], s60["ci_high"], scale=10),
                           a=fmt.interval(awp["estimate"], awp["ci_low"], awp["ci_high"], scale=100),
                           n=fmt.count(part.nobs)))
else:
    shown.append(report.md("*The data have no resident survey: the part of claim 4 on an older population is not "
                           "tested.*"))
display(*shown)

# %% [markdown]
# ## Claims 2 and 5: satisfaction
#
# *Satisfaction with service* (1–5) is modelled by a proportional-odds (ordered logit) model on a
# reported walk of 15 minutes or less and awareness, with district dummies. The *satisfaction
# thermometer* (0–100) is modelled by a linear mixed model on having taken part, awareness and a
# reported walk of 15 minutes or less, with random intercepts for districts and for communities
# within districts (REML); its coefficients have Wald intervals, its standard deviations chi-square
# intervals. The ordered logit's standard errors are model-based and do not allow for respondents
# of one community being alike; the mixed model's community intercepts do. Both are
# cross-sectional associations.

# %%
if "satisfaction" in fits:
    mixed = fits["satisfaction"]
    sds = C["satisfaction"].estimates(mixed)
    sds = sds[sds["term"].str.startswith("sd(")]
    shown = report.table(drivers.format_rows(sds.drop(columns="p"), dict(zip(sds["term"], sds["label"])),
                                             header="Standard deviation"),
                         caption=f"How the {measures.label('sat_score').lower()} varies: standard deviations between "
                                 "districts, between communities within a district and between residents within a "
                                 "community (linear mixed model, points, 95% intervals).",
                         data=sds[["term", "label", "estimate", "se", "ci_low", "ci_high"]])
else:
    shown = report.md("*The data have no resident survey: claims 2 and 5 on satisfaction are not tested.*")
shown

# %%
if "satisfaction" in fits:
    ordinal = fits["service_satisfaction"]
    ow, oa = ordinal.term("within15"), ordinal.term("aware_center")
    mp, ma, mw = mixed.term("participated"), mixed.term("aware_center"), mixed.term("within15")
    vcs = sds.set_index("term")["estimate"]
    shown = report.md(
        "Residents who report a walk of 15 minutes or less rate the service in a higher category with odds **{o1}** "
        "times those of residents who report a longer walk, and residents who know the centre with odds **{o2}** "
        "times as high ({no} respondents). On the 0–100 thermometer, residents who took part score **{p}** points "
        "higher, residents aware of the centre {a} and those reporting 15 minutes or less {w} ({nm} respondents). "
        "Districts differ with a standard deviation of {sd} points, communities within them {sc}, residents within "
        "communities {se}{most}.",
        o1=fmt.interval(np.exp(ow["estimate"]), np.exp(ow["ci_low"]), np.exp(ow["ci_high"])),
        o2=fmt.interval(np.exp(oa["estimate"]), np.exp(oa["ci_low"]), np.exp(oa["ci_high"])), no=fmt.count(ordinal.nobs),
        p=fmt.interval(mp["estimate"], mp["ci_low"], mp["ci_high"]),
        a=fmt.interval(ma["estimate"], ma["ci_low"], ma["ci_high"]),
        w=fmt.interval(mw["estimate"], mw["ci_low"], mw["ci_high"]), nm=fmt.count(mixed.nobs),
        **{k: fmt.number(vcs[t], fmt.estimate_digits(*sds.set_index("term").loc[t, ["estimate", "ci_low", "ci_high"]]))
           for k, t in (("sd", "sd(district_id)"), ("sc", "sd(community_id)"), ("se", "sd(residual)"))},
        most=": most of the variation lies between residents" if vcs.idxmax() == "sd(residual)" else "")
else:
    shown = report.md("")
shown

# %% [markdown]
# ## Claim 5: awareness, taking part and satisfaction (mediation)
#
# Two linear models: taking part on awareness (with the community's share aged 60+ and district
# fixed effects), and the thermometer on taking part and awareness (with a reported walk of 15
# minutes or less and district fixed effects). The path through taking part is the product of the
# two coefficients (a × b); the direct path is awareness's coefficient in the second model.
# Intervals are percentiles of a bootstrap that resamples whole communities within districts. Reading
# the paths as effects would need no unmeasured confounding of awareness, taking part and
# satisfaction, which a cross-section cannot give: they split an association.

# %%
if "mediation" in fits:
    med = fits["mediation"]
    shown = report.table(drivers.format_rows(med.terms.drop(columns="p"), {t: C["mediation"].labels[t] for t in
                                                         ("a", "b", "indirect", "direct", "total")}, header="Path"),
                         caption="Awareness, taking part and the satisfaction thermometer: the two paths (a, b), the "
                                 "path through taking part (a × b), the direct path and the total, with 95% community "
                                 "bootstrap intervals. Both models use the "
                                 f"{fmt.count(model_rows.set_index('name').loc['mediation', 'used'])} respondents who "
                                 "answered all three items and district fixed effects, so path a and path b differ "
                                 "slightly from the coefficients of the linear probability model and of the mixed "
                                 "model listed with the association models below (other respondents; random intercepts).",
                         data=med.terms.assign(label=med.terms["term"].map(C["mediation"].labels)))
else:
    shown = report.md("*The data have no resident survey: claim 5 is not tested.*")
shown

# %%
if "mediation" in fits:
    ind, dr, tot = med.term("indirect"), med.term("direct"), med.term("total")
    shown = report.md("Residents aware of the centre score **{t}** points higher on the thermometer; **{i}** points "
                      "of this go with their taking part more often, and {d} with other paths{s}. Intervals from {b} "
                      "bootstrap replicates over {c} communities (seed {sd}).",
                      t=fmt.interval(tot["estimate"], tot["ci_low"], tot["ci_high"], se=tot["se"]),
                      i=fmt.interval(ind["estimate"], ind["ci_low"], ind["ci_high"], se=ind["se"]),
                      d=fmt.interval(dr["estimate"], dr["ci_low"], dr["ci_high"], se=dr["se"]),
                      s=(f", so the path through taking part carries {fmt.percent(ind['estimate'] / tot['estimate'], 0)} "
                         "of the total association" if tot["ci_low"] > 0 and 0 <= ind["estimate"] <= tot["estimate"]
                         else ""), b=fmt.count(C["mediation"].spec.n_boot),
                      c=fmt.count(med.n_clusters), sd=seed)
else:
    shown = report.md("")
shown

# %% [markdown]
# ## The association models side by side
#
# The coefficients of interest of every association model, each on its own scale (district
# effects, thresholds and intercepts are left out), drawn in the figure and listed in the table
# below with the rows each model uses.

# %%
SCALE = {"awareness": "log-odds ratio", "registration": "log-odds ratio", "eight_haves": "log-odds ratio",
         "participation": "difference in probability", "service_satisfaction": "log-odds ratio",
         "satisfaction": "points (0–100)"}
coefs = drivers.coef_table({MODEL[n]: (C[n], fits[n]) for n in SCALE if n in fits},
                           scales={MODEL[n]: s for n, s in SCALE.items()})
# a coefficient the data cannot estimate (no finite standard error: a separated logit) is listed, not drawn
unestimable = coefs[~np.isfinite(coefs["se"])]
coefs = coefs[np.isfinite(coefs["se"])].reset_index(drop=True)
if len(coefs):
    fig = drivers.coef_plot(coefs, truth, synthetic=synthetic)
    shown = report.figure(fig, caption="Coefficients of the association models with 95% intervals, one panel per "
                                       "model on its own scale" + (", with the values planted in the synthetic city "
                                                                   "as crosses" if truth is not None else "") + ".",
                          alt=f"{coefs['model'].nunique()} panels of points with horizontal 95% interval bars, one "
                              f"per coefficient ({len(coefs)} in all); "
                              f"{int((coefs['ci_low'] > 0).sum())} intervals lie wholly above zero and "
                              f"{int((coefs['ci_high'] < 0).sum())} wholly below.",
                          data=coefs)
else:
    shown = report.md("*No association model could be fitted with the tables the data hold.*")
shown

# %%
if len(coefs):
    shown = report.table(pd.DataFrame({
        "Model": coefs["model"], "Coefficient": coefs["label"],
        "Estimate (95% CI)": [fmt.interval(e, lo, h, se=s) for e, lo, h, s in
                              zip(coefs["estimate"], coefs["ci_low"], coefs["ci_high"], coefs["se"])],
        "SE": [fmt.number(s, fmt.digits_for(s)) for s in coefs["se"]], "p": [fmt.pvalue(p) for p in coefs["p"]],
        "Rows used": [fmt.count(k) for k in coefs["nobs"]]}),
        caption="Coefficients of the association models: estimates with 95% intervals, standard errors, p-values and "
                "the rows each model uses (Table 1 says why some are left out).", data=coefs)
else:
    shown = report.md("")
display(shown, report.md("The data cannot estimate, and the figure and table leave out: {u}.",
                         u="; ".join(drivers.term_text(t) + f" ({t.split(': ')[0].lower()} model)"
                                     for t in unestimable["label"])) if len(unestimable) else report.md(""))

# %% [markdown]
# ## Model-based and design-based estimates of the survey models
#
# The survey models above are model-based: every respondent counts alike, and the standard errors
# allow for respondents of one community being alike (clustering by community) or rest on the
# model itself. The resident survey is a sample with unequal selection probabilities — districts
# were sampled at different rates, communities with probability proportional to size, and the
# weights were adjusted for nonresponse — so each survey model is fitted a second time,
# design-based: the coefficients solve the survey-weighted estimating equations (they estimate the
# regression one would fit to every resident of the city), and their standard errors come from
# the design itself, by Taylor linearisation over the primary sampling units (communities, drawn
# afresh each survey year) within strata (districts in a year), with the finite-population
# correction and t intervals on the design's degrees of freedom (Binder 1983; Lumley & Scott 2017).
# The district dummies stay in both fits: districts are strata of the design. Random intercepts
# have no design-based counterpart, so the thermometer's mixed model becomes a weighted linear
# regression with district dummies. A third fit, design-based with every respondent weighted
# alike, separates what the weights do from what the change of model and of variance does.

# %%
DESIGN_NAMES = [n for n in fits if C[n].design_based is not None]
if DESIGN_NAMES:
    design_fits = {n: C[n].fit_design_based(tables) for n in DESIGN_NAMES}
    equal_fits = {n: drivers.equal_weights_fit(C[n], tables) for n in DESIGN_NAMES}
    compare = pd.concat([drivers.design_comparison(C[n], fits[n], design_fits[n], equal_fits[n]).assign(model=MODEL[n])
                         for n in DESIGN_NAMES], ignore_index=True)
    # a model the data cannot fully estimate (a separated logit) is left out whole: its design-based fit is no
    # better defined, and its other coefficients depend on where the fit stopped
    separated = compare.loc[~compare["estimable"], "claim"].unique()
    design_unestimable = compare[compare["claim"].isin(separated) & ~compare["estimable"]]
    compare = compare[~compare["claim"].isin(separated)].reset_index(drop=True)
    shown = report.table(pd.DataFrame({
        "Model": compare["model"], "Coefficient": compare["label"],
        "Model-based (95% CI)": [fmt.interval(e, lo, h) for e, lo, h in
                                 zip(compare["estimate"], compare["ci_low"], compare["ci_high"])],
        "Design-based (95% CI)": [fmt.interval(e, lo, h) for e, lo, h in
                                  zip(compare["estimate_design"], compare["ci_low_design"], compare["ci_high_design"])],
        "Difference, in model-based SEs": [fmt.number(z, 1) for z in compare["difference_se"]],
        "SE ratio, design-based to model-based": [fmt.number(r, 2) for r in compare["se_ratio"]]}),
        caption="The survey models' coefficients, model-based (as above) and design-based (survey weights, strata, "
                "primary sampling units and finite-population correction), with 95% intervals; the difference is "
                "the design-based minus the model-based estimate over the model-based standard error.",
        data=compare)
    shown = [shown, report.md("{m} left out: on these data the model-based fit cannot estimate {u}, and a "
                              "design-based fit of the same model is no better defined.",
                              m=" and ".join(f"The {t.split(': ')[0].lower()} model" for t in
                                             dict.fromkeys(design_unestimable["label"].str.split(": ").str[0] + ": "))
                              + (" are" if len(separated) > 1 else " is"),
                              u=" and ".join(f"“{drivers.term_text(t)}”" for t in design_unestimable["label"]))
             if len(separated) else report.md("")]
else:
    shown = [report.md("*The data have no resident survey: there is no survey model to fit design-based.*")]
display(*shown)

# %%
if DESIGN_NAMES and len(compare):
    wv = drivers.weight_variation(resp, C[DESIGN_NAMES[0]].design_based.design["weight"], "district_id")
    big = compare.loc[compare["difference_se"].abs().idxmax()]
    within1 = int((compare["difference_se"].abs() <= 1).sum())
    spec_part = abs(big["specification"]) > 1e-6 * max(abs(big["estimate"]), big["se"])
    dm = fmt.estimate_digits(big["estimate"], big["ci_low"], big["ci_high"])
    dd = fmt.estimate_digits(big["estimate_design"], big["ci_low_design"], big["ci_high_design"])
    dg = max(dm, dd)
    eq_ratio = compare["se_equal"] / compare["se"]
    close = bool(((eq_ratio - 1).abs() <= 0.15).all())
    side = {k: np.sign(compare[f"ci_low{k}"].clip(lower=0)) - np.sign((-compare[f"ci_high{k}"]).clip(lower=0))
            for k in ("", "_design")}
    flips = compare[side[""] != side["_design"]]
    shown = [report.md(
        "**Weights.** The weights range over a factor of {ratio} (coefficient of variation {cv}); {between} of their "
        "variance lies between districts, which every survey model holds fixed, and within a district they vary by "
        "{cvw} of the mean weight. Unequal weights cost precision: Kish's design effect of weighting, 1 + CV², is "
        "{deff}, so a weighted estimate's standard error can be up to about {sq} times that of an equally weighted one "
        "from the same respondents (Kish 1965).",
        ratio=fmt.number(wv["ratio"], 1), cv=fmt.percent(wv["cv"], 0), between=fmt.percent(1 - wv["share_within"], 0),
        cvw=fmt.percent(wv["cv_within"], 0), deff=fmt.number(wv["deff"], 2), sq=fmt.number(np.sqrt(wv["deff"]), 2)),
        report.md(
        "**Estimates.** {k} coefficients move by less than one model-based standard error between the two "
        "fits. The largest move is in the {outcome} model's coefficient of “{what}”: {m} model-based, {d} design-based, a "
        "difference of {diff} ({z} model-based standard errors){split}. Where the weights move an estimate, the "
        "association is not the same in the parts of the city that the weights represent differently (districts, "
        "large and small communities, communities with more nonresponse): the design-based fit averages the "
        "association over the city's residents, the model-based fit over the respondents, each counted alike (Solon, "
        "Haider & Wooldridge 2015). The difference is measured in model-based standard errors only as a scale: the "
        "two fits use the same respondents, so it is not a test.",
        k=(f"All {fmt.count(within1)}" if within1 == len(compare) else
           f"{fmt.count(within1)} of the {fmt.count(len(compare))}"), outcome=big["label"].split(": ")[0].lower(),
        what=drivers.term_text(big["label"]), m=fmt.number(big["estimate"], dm), d=fmt.number(big["estimate_design"], dd),
        diff=fmt.number(big["difference"], dg + 1), z=fmt.number(big["difference_se"], 1),
        split=(f", of which {fmt.number(big['weighting'], dg + 1)} comes from the weights and "
               f"{fmt.number(big['specification'], dg + 1)} from the change of model (with every respondent weighted "
               f"alike the design-based fit gives {fmt.number(big['estimate_equal'], dg)})"
               if spec_part else ", all of it from the weights: with every respondent weighted alike the two fits give "
               "the same estimate")),
        report.md(
        "**Standard errors.** Design-based standard errors are {lo} to {hi} times the model-based ones; with every "
        "respondent weighted alike they are {elo} to {ehi} times. {why}",
        lo=fmt.number(compare["se_ratio"].min(), 2), hi=fmt.number(compare["se_ratio"].max(), 2),
        elo=fmt.number(eq_ratio.min(), 2), ehi=fmt.number(eq_ratio.max(), 2),
        why=("The design's variance (sampled communities within districts and years, with the finite-population "
             "correction) and the models' clustering by community (over all years) therefore give nearly the same "
             "standard errors: what separates the two fits' standard errors is mostly the weights." if close else
             "The design's variance (sampled communities within districts and years, with the finite-population "
             "correction) and the models' clustering by community (over all years) differ here by more than a "
             "sixth, besides what the weights add.")),
        report.md(
        "**Verdicts.** {flip}",
        flip=("Every design-based interval lies on the same side of zero as its model-based one (or both include "
              "zero), so the verdicts below, drawn from the model-based fits, would be the same from the design-based "
              "ones." if flips.empty else
              "The design-based interval and the model-based one fall on different sides of zero for "
              + "; ".join(f"{drivers.term_text(r)} ({r.split(': ')[0].lower()} model)" for r in flips["label"])
              + ": the verdicts below are drawn from the model-based fits, and for these the design-based fits would "
                "give another."))]
    if "satisfaction" in DESIGN_NAMES:
        shown.append(report.md("**The thermometer.** Its two fits differ in more than the weights. {note}",
                               note=C["satisfaction"].design_note))
else:
    shown = [report.md("")]
display(*shown)

# %% [markdown]
# ## Claims tested
#
# Each verdict follows its claim's design (Table 1): the staggered roll-out can support or
# contradict the claim that the platform raises coverage; the other designs can only show that the
# data are consistent with a claim, contrary to it, or give no evidence either way. A verdict goes
# one way when the whole 95% interval lies on one side of zero.

# %%
CLAIM_ROWS = [
    ("platform_event_study", "1. The platform raises organisational coverage (average effect over the first years)",
     "ATT", "percentage points", 1),
    ("platform_hazard", "1. Organisations set up party organisations sooner once their sub-district has the platform",
     "treated", "log-odds ratio", 1),
    ("awareness", "2. A reported walk of 15 minutes or less goes with more awareness", "within15", "log-odds ratio", 1),
    ("awareness", "2. The association fades beyond 15 minutes (15 minutes or less minus 15–30)", "fade",
     "log-odds ratio", 1),
    ("service_satisfaction", "2. A reported walk of 15 minutes or less goes with higher satisfaction with service",
     "within15", "log-odds ratio", 1),
    ("registration", "3. Agreements go with more member registration, within communities", "agreement_share",
     "log-odds ratio per unit of agreement share", 1),
    ("participation", "4. Communities with more residents aged 60+ have more residents taking part", "share_60plus",
     "difference in probability per unit of the share", 1),
    ("awareness", "4. A higher migrant share goes with lower awareness", "migrant_share", "log-odds ratio per unit share",
     -1),
    ("eight_haves", "4. More funding goes with better-equipped service points", "funding_std", "log-odds ratio per SD", 1),
    ("eight_haves", "4. More staff goes with better-equipped service points", "staff_std", "log-odds ratio per SD", 1),
    ("mediation", "5. Awareness goes with satisfaction through taking part (path a × b)", "indirect",
     "points (0–100)", 1)]
claim_rows, untestable = [], []
for n, text, term, unit, direction in CLAIM_ROWS:
    if n not in fits:
        continue
    r = fade if term == "fade" else es.overall.iloc[0] if term == "ATT" else fits[n].term(term)
    if not np.isfinite(r["ci_low"] + r["ci_high"]):
        untestable.append(text)
        continue
    claim_rows.append({"claim": text, "estimate": r["estimate"], "ci": (r["ci_low"], r["ci_high"]), "unit": unit,
                       "design": C[n].design, "direction": direction})
if claim_rows:
    claim_shown, claim_data = verdicts.claims_table(claim_rows)
    shown = report.table(claim_shown, caption="The claims tested in this report, their design and verdict.",
                         data=claim_data)
else:
    shown = report.md("*No claim could be tested with the tables the data hold.*")
shown

# %%
if claim_rows:
    counts = claim_data["verdict"].value_counts()
    causal = claim_data[claim_data["design"].isin(verdicts.CAUSAL_DESIGNS)]
    shown = report.md("{first}{m} show associations: {a} consistent with the claim, {z} with no evidence either way "
                      "and {x} contrary to it.",
                      first=(f"Of the {len(claim_data)} tests, {len(causal)} use the staggered roll-out and can show "
                             "an effect (" + ", ".join(f"{c} {v}" for v, c in causal["verdict"].value_counts().items())
                             + "); the other " if len(causal) else f"None of the {len(claim_data)} tests can show an "
                             "effect: all "),
                      m=len(claim_data) - len(causal), a=int(counts.get("consistent with the claim", 0)),
                      z=int(counts.get("no evidence either way", 0)), x=int(counts.get("contrary to the claim", 0)))
else:
    shown = report.md("")
display(shown, report.md("Not tested, because the data cannot estimate the coefficient: {u}.",
                         u="; ".join(untestable)) if untestable else report.md(""))

# %%
# Synthetic data only: the generator's effects are known, so the estimates can be set beside them.
estimates = pd.concat([C[n].estimates(f).assign(claim=n) for n, f in fits.items()], ignore_index=True) if fits else None
if estimates is not None and "platform_event_study" in fits:  # the average's label names the event times it spans
    estimates.loc[estimates["key"] == "platform_att", "label"] = (
        f"Platform effect on coverage, average of event times {window[0]} to {window[-1]} (points)")
# the planted average effect spans event times 0-3: an average over fewer is another quantity
comparable = (estimates if estimates is None or "platform_event_study" not in fits or full_window
              else estimates[estimates["key"] != "platform_att"])
checks = claims.beside_truth(comparable, truth) if estimates is not None else None
shown = []
if checks is not None and len(checks):
    missed = checks.loc[~checks["covered"], "label"]
    shown.append(report.md("## Validation against the planted truth\n\nThe synthetic city's effects are known, so the "
                           "estimates can be set beside them. Estimates should lie close to the planted values, and a "
                           "95% interval should cover its planted value in about 19 of 20 datasets. These data are one "
                           "draw of the generator, so a miss or two among this many effects is expected, and estimates "
                           "from the same data share its noise (the event-time effects of the roll-out all lie on the "
                           "same side of their planted values when the draw favours it). How often the intervals "
                           "cover was measured on 100 to 200 simulated cities, each fitted with these same estimators: the "
                           "95% intervals covered their planted effects in 92–98% of the cities, depending on the "
                           "effect."))
    shown.append(report.table(claims.truth_table(checks),
        caption="Estimates beside the effects planted in the synthetic city.", data=checks))
    shown.append(report.md(
        "The planted value lies inside the 95% interval for **{k} of {n}** effects{m}. About one interval in twenty "
        "misses by chance: among {n}, about {e} would. The median error is {r} of the planted value.{corr}",
        k=fmt.count(checks["covered"].sum()), n=fmt.count(len(checks)),
        m=(" (missed: " + "; ".join(s[:1].lower() + s[1:] for s in missed) + ")") if len(missed) else "",
        e=fmt.number(0.05 * len(checks), 0 if len(checks) >= 20 else 1),
        r=fmt.percent(float((checks["error"].abs() / checks["truth"].abs()).median()), 0),
        corr=(" Misses are not independent: both walking-time coefficients of the awareness model are contrasts with "
              f"the same {fmt.count(int(((resp['within15'] == 0) & (resp['band15_30'] == 0)).sum()))} respondents "
              "who report more than 30 minutes, and the event-time effects share their control sub-districts, so "
              "their errors move together." if "awareness" in fits and "platform_event_study" in fits else "")))
    design_checks = claims.beside_truth(compare[["key", "estimate_design", "ci_low_design", "ci_high_design"]].rename(
        columns={"estimate_design": "estimate", "ci_low_design": "ci_low", "ci_high_design": "ci_high"}), truth) if DESIGN_NAMES else None
    if design_checks is not None and len(design_checks):
        model_covered = checks.set_index("key")["covered"].reindex(design_checks["key"])
        shown.append(report.md(
            "The design-based fits of the survey models cover their planted values in {k} of {n} cases, against {m} of "
            "the same {n} for the model-based fits. The planted values are parameters of the generator's model of "
            "each respondent; a design-based fit estimates the regression over the whole city's residents, which "
            "comes close to them when the planted association is the same for every resident.",
            k=fmt.count(design_checks["covered"].sum()), n=fmt.count(len(design_checks)),
            m=fmt.count(int(model_covered.fillna(False).astype(bool).sum()))))
display(*shown)

# %% [markdown]
# ## Caveats

# %%
survey_fits = [n for n in fits if "survey" in C[n].tables]
caveats = ["No exposure in this report was assigned at random, the platform included."
           + (" The roll-out's estimates are effects only if parallel trends and no anticipation hold; the placebo "
              "estimates check the first only over the years observed before adoption, the earliest event times rest "
              "on few sub-districts, and a policy adopted together with the platform would be read as its effect."
              if "platform_event_study" in fits else "")]
if any(n in fits for n in ("awareness", "registration", "eight_haves", "participation", "service_satisfaction",
                           "satisfaction")):
    caveats.append("Walking time, agreements, funding, staff and the other regressors may go with traits of "
                   "respondents and communities that the district (or community) effects do not absorb: their "
                   "coefficients are adjusted associations."
                   + (" The mediation split adds the assumption of no unmeasured confounding of awareness, taking part "
                      "and satisfaction." if "mediation" in fits else ""))
if survey_fits:
    caveats += ["Walking time is reported by respondents: the 15-minute bands inherit its rounding and recall error, and "
                "are not the distance-based 1 km service circle of [Coverage](01_coverage.html).",
                "The survey models are unweighted (see *Data*); their design-based fits estimate the same associations "
                "averaged over the city's residents, and differ from them where the association varies with what the "
                "weights depend on. Design-based descriptive estimates are in "
                "[Participation](02_participation.html) and [Satisfaction](03_satisfaction.html). Respondents who "
                "skipped an item a model uses are left out of that model (Table 1), which assumes that, given the "
                "model's other variables, they do not differ from those who answered."]
report.md("\n".join(f"- {c}" for c in caveats))

# %% [markdown]
# ## Measures

# %%
USES = {"platform_event_study": ["org_coverage"], "registration": ["registration", "agreement_share"],
        "eight_haves": ["eight_haves", "funding", "staff"], "awareness": ["aware", "walk_band", "migrant_share"],
        "participation": ["participated", "aware", "share_60plus"],
        "service_satisfaction": ["sat_service", "walk15_reported", "aware"],
        "satisfaction": ["sat_score", "participated", "aware", "walk15_reported"]}
used = [k for n in USES if n in fits for k in USES[n]]
(report.table(measures.glossary(used), caption="The measures of this report: definition, source and scale.")
 if used else report.md("*No measure is used: no claim could be tested.*"))

# %% [markdown]
# ## Methods and references

# %%
METHODS = [
    ("platform_event_study", "Claim 1: Callaway–Sant'Anna (2021) group-time effects aggregated by event time, with not-yet "
     "and never adopting sub-districts as controls and influence-function standard errors; the static two-way "
     "fixed-effects contrast and its weighting problem (Goodman-Bacon 2021); pre-trend checks and their limits (Roth "
     "et al. 2023).", ["callaway2021", "goodmanbacon2021", "roth2023"]),
    ("platform_hazard", "Claim 1, organisations: a discrete-time hazard model (Allison 1982) with sub-district fixed "
     "effects absorbed (Chamberlain 1980) and standard errors clustered by sub-district (Cameron & Miller 2015).",
     ["allison1982", "chamberlain1980", "cameron2015"]),
    ("registration", "Claim 3: logistic regression with community fixed effects absorbed (Chamberlain 1980) and year "
     "effects, standard errors clustered by community (Cameron & Miller 2015).", ["chamberlain1980", "cameron2015"]),
    ("awareness", "Claims 2 and 4 on the survey: logistic and linear probability models with district fixed effects "
     "and standard errors clustered by community (Cameron & Miller 2015), unweighted (Solon, Haider & Wooldridge "
     "2015).", ["cameron2015", "solon2015"]),
    ("eight_haves", "Claim 4 on service points: a binomial regression with model-based standard errors.", []),
    ("service_satisfaction", "Satisfaction with service: the proportional-odds model (McCullagh 1980).",
     ["mccullagh1980"]),
    ("satisfaction", "The thermometer: a linear mixed model with nested random intercepts, REML (Bates et al. 2015).",
     ["bates2015"]),
    ("design_based", "Survey models, design-based: survey-weighted generalised linear models and a proportional-odds "
     "model (R's svyglm and svyolr), with Taylor-linearised standard errors over primary sampling units within strata "
     "and the finite-population correction (Binder 1983; Lumley 2010; Lumley & Scott 2017); Kish's design effect of "
     "unequal weighting (Kish 1965); when weighting changes a regression (Solon, Haider & Wooldridge 2015).",
     ["binder1983", "lumley2010", "lumley2017", "kish1965", "solon2015"]),
    ("mediation", "Claim 5: the product of coefficients (Baron & Kenny 1986; VanderWeele 2015) with a bootstrap "
     "resampling communities (Efron & Tibshirani 1993).", ["baron1986", "vanderweele2015", "efron1993"])]
methods = [(text, refs) for n, text, refs in METHODS if n in fits or (n == "design_based" and DESIGN_NAMES)]
report.md("\n\n".join(t for t, _ in methods) + "\n\n" + references.references([r for _, refs in methods for r in refs])
          if methods else "*No method was used: no claim could be tested.*")

# %% [markdown]
# ## Headline findings

# %%
UNITS = {"platform_event_study": "percentage points", "platform_hazard": "log-odds ratio", "awareness": "log-odds ratio",
         "registration": "log-odds ratio per unit share", "eight_haves": "log-odds ratio per SD",
         "participation": "difference in probability", "service_satisfaction": "log-odds ratio",
         "satisfaction": "points (0–100)", "mediation": "points (0–100)"}
# a coefficient the data cannot estimate (no finite interval, e.g. a separated logit) is not a finding
for r in (estimates[(estimates["key"] != "") & np.isfinite(estimates["ci_low"] + estimates["ci_high"])].itertuples()
          if estimates is not None else []):
    findings.record(drivers.finding_name(r.key), r.estimate, ci=(r.ci_low, r.ci_high), unit=UNITS[r.claim],
                    truth=truth_value(truth, r.key), note=drivers.finding_note(r.key, C[r.claim].describe()),
                    label=r.label)
if "platform_event_study" in fits:
    findings.record("platform_att_twfe", tw["estimate"], ci=(tw["ci_low"], tw["ci_high"]), unit="percentage points",
                    note="static two-way fixed effects, for contrast (biased under staggered timing)",
                    label="Platform and coverage, static two-way fixed effects, for contrast (points)")
for r in (compare[(compare["key"] != "") & np.isfinite(compare["ci_low_design"] + compare["ci_high_design"])].itertuples()
          if DESIGN_NAMES else []):
    findings.record(drivers.finding_name(r.key) + "_design", r.estimate_design, ci=(r.ci_low_design, r.ci_high_design),
                    unit=UNITS[r.claim], truth=truth_value(truth, r.key), note=C[r.claim].design_based.describe(),
                    label=r.label.replace(": ", " (design-based): ", 1))
if "awareness" in fits:
    findings.record("aware_fade_within15_minus_15to30", fade["estimate"], ci=(fade["ci_low"], fade["ci_high"]),
                    unit="log-odds ratio", note="claim 2: contrast of the awareness model's walking-time coefficients",
                    label="Awareness: 15 minutes or less minus 15–30 minutes (log-odds ratio)")

# %%
findings.display()
