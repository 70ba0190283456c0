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
# district by district and year by year? Which districts differ from the city? Where the survey is
# too thin for a direct estimate (sub-districts in one year), what do small-area estimates say? And
# do the top-down assessment scores (考核) that communities receive agree with what residents say?
#
# The last question is **claim 6** from the field: assessment scores track residents' satisfaction
# only weakly (assessment looks "upward" more than "downward").

# %% tags=["parameters"]
data_dir = None  # the data folder (None: the shipped default data in data/)
year = None  # the year of the cross-sectional tables and maps (None: the latest year in the data)
seed = 20261122  # seed of the bootstrap interval of the correlation (claim 6)

# %%
# %load_ext autoreload
# %autoreload 2
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

from helpers.data import concepts, load
from helpers.data.truth import ground_truth, is_synthetic, truth_value
from helpers.publish import findings, fmt, references, report
from helpers.publish import notebook as nb
from helpers.stats import likert, smallarea
from helpers.stats.survey import CalibrationError, rake
from helpers.studies import claims, common, measures, verdicts
from helpers.studies import satisfaction as sat
from helpers.viz import maps, style

meta = nb.setup(data_dir)
nb.data_statement(meta, data_dir)

# %% [markdown]
# ## Data
#
# The resident survey is a fresh stratified two-stage sample each year: strata are districts,
# primary sampling units (PSUs) are communities drawn with probability proportional to size, and
# a sample of residents is drawn in each. Only respondents enter (their weights are already adjusted
# for nonresponse within the PSU). Every estimate is design-based: weighted, with Taylor-linearised
# standard errors that account for the strata, the clustering in PSUs and the finite-population
# correction, and t intervals on the design degrees of freedom. Items are on a 1–5 scale
# (5 = best); the *top-two box* is the share answering 4 or 5. Estimates that rest on fewer than
# ten respondents are suppressed in tables and maps. The assessment scores, where the data have
# them, are administrative: one score per community and year.

# %%
tables = load.load_all(data_dir, tables=["districts", "subdistricts", "community_boundaries", "communities",
                                         "assessment", "survey", "population"])  # assessment: claim 6 only
synthetic, truth = is_synthetic(data_dir), ground_truth(data_dir)
period = load.study_period(tables)
year = period.last if year is None else int(year)
districts, subdistricts = tables["districts"], tables["subdistricts"]
names = districts.set_index("district_id")["name_en"]
cmap = concepts.community_lookup(tables)
resp = concepts.resident_respondents(tables["survey"], tables["communities"])
design = concepts.resident_survey_design(resp)
survey_years = sorted(int(y) for y in resp["year"].unique())
survey_year = year if year in survey_years else survey_years[-1]
resp_y = resp[resp["year"] == survey_year].reset_index(drop=True)
design_y = concepts.resident_survey_design(resp_y)
k_min = report.min_respondents()
report.md("**{n}** respondents in **{y}** survey years ({f} to {l}), **{p}** sampled community-years; the "
          "cross-sectional tables and maps show {s}.{note}",
          n=fmt.count(len(resp)), y=len(survey_years), f=survey_years[0], l=survey_years[-1],
          p=fmt.count(len(resp[["year", "community_id"]].drop_duplicates())), s=survey_year,
          note="" if survey_year == year else f" The survey skipped {year}, so its latest year is shown.")

# %% [markdown]
# ## The city, year by year

# %%
t2b_year = likert.top_two_box(design, ["sat_service", "sat_overall"], by="year")
aware_year = design.mean("aware_center", by="year")
trend = common.stack_estimates([t2b_year, aware_year])
trend_labels = {"sat_service": measures.label("sat_service_top2"), "sat_overall": measures.label("sat_overall_top2"),
                "aware_center": measures.label("aware")}
ax = common.trend_plot(trend, group="variable", labels=trend_labels, ylabel="% of residents", synthetic=synthetic)
report.figure(ax, caption=f"{measures.label('sat_service_top2')}, {measures.label('sat_overall_top2').lower()} and "
                          f"{measures.label('aware').lower()}, city, by survey year (95% intervals shaded).",
              alt="Three lines over the survey years: the city's shares of residents satisfied with service, "
                  "satisfied overall and aware of the service centre, each with a shaded 95% interval.",
              data=trend)

# %%
city_mean = likert.mean_score(design, ["sat_service", "sat_overall"], by="year")
s1 = t2b_year.query("year == @survey_year and variable == 'sat_service'").iloc[0]
o1 = t2b_year.query("year == @survey_year and variable == 'sat_overall'").iloc[0]
a1 = aware_year.query("year == @survey_year").iloc[0]
ms1 = city_mean.query("year == @survey_year and variable == 'sat_service'").iloc[0]
pct_d = {k: fmt.estimate_digits(r["estimate"], r["ci_low"], r["ci_high"], scale=100, unit="%")
         for k, r in (("s", s1), ("o", o1), ("a", a1))}
m_d = fmt.estimate_digits(ms1["estimate"], ms1["ci_low"], ms1["ci_high"])
report.md("In {y}, **{s}** of residents were satisfied with community service (4 or 5 of 5; 95% CI {sl} to {sh}; "
          "mean score **{m}** of 5, {ml} to {mh}), **{o}** were satisfied overall ({ol} to {oh}) and **{a}** knew the "
          "community's service centre ({al} to {ah}).",
          y=survey_year, m=fmt.number(ms1["estimate"], m_d), ml=fmt.number(ms1["ci_low"], m_d),
          mh=fmt.number(ms1["ci_high"], m_d),
          **{f"{k}{end}": fmt.percent(r[col], pct_d[k]) for k, r in (("s", s1), ("o", o1), ("a", a1))
             for end, col in (("", "estimate"), ("l", "ci_low"), ("h", "ci_high"))})

# %% [markdown]
# ## Districts
#
# Mean scores (1–5) and shares (%) with 95% intervals in the survey year shown.

# %%
items = ["sat_service", "sat_overall", "trust_committee"]
dist_mean = likert.mean_score(design_y, items, by="district_id")
dist_t2b = likert.top_two_box(design_y, ["sat_service", "sat_overall"], by="district_id")
dist_aware = design_y.mean("aware_center", by="district_id")
estimates = {measures.label("sat_service"): dist_mean[dist_mean["variable"] == "sat_service"],
             measures.label("sat_service_top2", unit=True): dist_t2b[dist_t2b["variable"] == "sat_service"],
             measures.label("sat_overall"): dist_mean[dist_mean["variable"] == "sat_overall"],
             measures.label("sat_overall_top2", unit=True): dist_t2b[dist_t2b["variable"] == "sat_overall"],
             measures.label("trust"): dist_mean[dist_mean["variable"] == "trust_committee"],
             measures.label("aware", unit=True): dist_aware}
pct = {k: 100 for k in estimates if k.endswith("%")}
dist_table = sat.item_table(estimates, districts, scales=pct, decimals={k: 1 for k in pct})
dist_raw = pd.concat([dist_mean.assign(statistic="mean"), dist_t2b.assign(statistic="top-two box"),
                      dist_aware.assign(statistic="share")], ignore_index=True)
report.table(dist_table.drop(columns="district_id").rename(columns={"name_en": "District", "n": "Respondents"}),
             n="Respondents", columns=list(estimates),
             caption=f"Residents' judgements by district, {survey_year}: mean scores (1–5) and shares (%) with 95% "
                     "intervals; Respondents is the smallest number of respondents behind the row's estimates.",
             data=dist_raw.drop(columns=["level"], errors="ignore"))

# %% [markdown]
# ### Which districts differ from the city?
#
# A district is part of the city: its respondents are among the city's, so the district's estimate
# and the city's are correlated, and comparing two separate intervals would misjudge the uncertainty
# of their gap. Each district is therefore compared with the city through the *difference* of the two
# estimates, whose standard error comes from both estimates' linearised values summed over the same
# PSUs (a contrast of correlated estimates). The verdict follows the collection's one rule for a unit
# against the city: the difference must lie outside the overdispersion-adjusted 95% funnel limits
# around zero, so that it is larger than chance and than the ordinary variation between districts.
# Beside the 1–5 items and awareness, the satisfaction thermometer (0–100; the measure of claim 6
# and of the district profiles) is judged in the same way.

# %%
contrast_keys = {"sat_service": "sat_service", "sat_overall": "sat_overall", "trust_committee": "trust",
                 "aware_center": "aware", "sat_score": "sat_score"}
contrast_scale = {"aware_center": 100.0}
contrasts = sat.district_contrasts(design_y, list(contrast_keys))
enough = contrasts[contrasts["n"] >= k_min]
verdict_frames = [verdicts.estimate_verdicts(enough[enough["variable"] == v], "difference", "se", "district_id",
                                             city=0.0, measure=key, year=survey_year)[1].assign(variable=v)
                  for v, key in contrast_keys.items() if (enough["variable"] == v).sum() >= 2]
contrast_verdicts = (pd.concat(verdict_frames, ignore_index=True) if verdict_frames else
                     pd.DataFrame(columns=["unit", "verdict", "variable"]))
contrasts = contrasts.merge(contrast_verdicts[["unit", "variable", "verdict"]].rename(columns={"unit": "district_id"}),
                            on=["district_id", "variable"], how="left")
contrast_cols = {v: f"{measures.label(key)}{', points' if v in contrast_scale else ''}: district minus city"
                 for v, key in contrast_keys.items()}
contrast_table = pd.DataFrame({"district_id": districts["district_id"], "District": districts["name_en"]})
for v, col in contrast_cols.items():
    c = contrasts[contrasts["variable"] == v]
    scale = contrast_scale.get(v, 1.0)
    digits = fmt.column_digits(scale * c["se"])
    text = [fmt.interval(d, lo, hi, digits=digits, scale=scale) + ("" if w not in ("above", "below") else f", {w}")
            for d, lo, hi, w in zip(c["difference"], c["ci_low"], c["ci_high"], c["verdict"])]
    contrast_table = contrast_table.merge(pd.DataFrame({"district_id": c["district_id"], col: text}),
                                          on="district_id", how="left")
contrast_table = contrast_table.merge(contrasts.groupby("district_id", as_index=False)["n"].min(), on="district_id",
                                      how="left").rename(columns={"n": "Respondents"})
report.table(contrast_table.drop(columns="district_id"), n="Respondents", columns=list(contrast_cols.values()),
             caption=f"Each district minus the city, {survey_year}, with 95% intervals of the difference (contrasts "
                     "of correlated estimates); \"above\" or \"below\" marks a district outside the "
                     "overdispersion-adjusted 95% funnel limits around zero. Awareness differences are in "
                     "percentage points, thermometer differences in points of its 0–100 scale.",
             data=contrasts)

# %%
verdict_text = []
for v, key in contrast_keys.items():
    c = contrasts[(contrasts["variable"] == v) & contrasts["verdict"].isin(["above", "below"])]
    if len(c):
        verdict_text.append(f"{measures.label(key)}: " + ", ".join(
            f"{names[u]} ({w})" for u, w in zip(c["district_id"], c["verdict"])))
interval_only = int(((contrasts["ci_low"] > 0) | (contrasts["ci_high"] < 0)).sum()
                    - contrasts["verdict"].isin(["above", "below"]).sum())
report.md("{v} {k}",
          v=("Districts that differ from the city under the rule: " + "; ".join(verdict_text) + ".") if verdict_text
          else "Under the rule, no district differs from the city on any of these measures.",
          k=("" if interval_only <= 0 else
             f"{fmt.count(interval_only)} other district comparisons have an interval of the difference that "
             "excludes zero: their residents' answers differ from the city's by more than sampling error, but not "
             "by more than districts ordinarily differ from one another, so the rule does not single them out."))

# %% [markdown]
# Satisfied overall by district in every survey year, on one set of class breaks; the survey samples
# only a handful of communities per district and year, so year-to-year moves of a few points are
# mostly noise.

# %%
t2b_all = likert.top_two_box(design, "sat_overall", by=["district_id", "year"])
panels = districts.merge(t2b_all, on="district_id", how="left")
panels = report.suppress_for_plot(panels.assign(pct=100 * panels["estimate"]), n="n", columns=["pct"])
fig = maps.small_multiples(panels, "pct", by="year", suppressed="suppressed", overlay=districts, ncols=4, k=5,
                           fmt="{:.0f}", legend_title=measures.axis("sat_overall_top2"), panel_size=2.8,
                           synthetic=synthetic)
report.figure(fig, caption=f"{measures.label('sat_overall_top2')} by district and survey year, on one set of class "
                           "breaks.",
              alt="Small maps of the city's districts, one per survey year, shaded by the share of residents "
                  "satisfied overall (4 or 5 of 5).",
              data=t2b_all.drop(columns=["level"], errors="ignore"))

# %% [markdown]
# ## Calibrating the weights to the census
#
# The design weights come from the sampling and from nonresponse within each sampled community. A
# statistics bureau also publishes how many adults live in each district by age band and sex; raking
# the weights to those margins (iterative proportional fitting to district by age band and district
# by sex) makes the sample's age and sex mix in every district match the census, with the variance of
# the calibrated estimator. If district estimates move much, the design weights alone misrepresent
# who lives there.

# %%
has_margins = "population" in tables and all(c in resp_y.columns and resp_y[c].notna().all()
                                               for c in sat.MARGIN_COLUMNS)
calibrated, shift, why_not = None, None, ""
if not has_margins:
    why_not = ("The data have no census margins, so this section is skipped." if "population" not in tables else
               "The survey does not record every respondent's age band and sex, so the weights cannot be raked to "
               "the census margins and this section is skipped.")
else:
    try:
        calibrated = rake(design_y, sat.census_margins(tables["population"], resp_y["district_id"].unique()))
        shift = sat.calibration_shift(design_y, calibrated, ["sat_overall", "aware_center"])
    except CalibrationError:
        why_not = (f"The {survey_year} survey has no respondent in some district, age band or sex of the census "
                   "margins, so the weights cannot be raked to them and this section is skipped.")
if shift is not None:
    shift_table = pd.DataFrame({"district_id": districts["district_id"], "District": districts["name_en"]})
    change_digits = {}
    for v, key, scale, unit in (("sat_overall", "sat_overall", 1.0, ""), ("aware_center", "aware", 100.0, ", %")):
        s = shift[shift["variable"] == v]
        d = 1 if scale == 100 else fmt.column_digits(scale * s["se_before"])
        # the change column takes at least the digits the prose and the headline findings give its largest
        # move (a bare value: three significant digits, one decimal for percentage points)
        big = s.loc[s["n"] >= k_min, "difference"].abs().max()
        change_digits[v] = max(d, fmt.estimate_digits(scale * big, unit="%" if scale == 100 else ""))
        shift_table = shift_table.merge(pd.DataFrame({
            "district_id": s["district_id"],
            f"{measures.label(key)}{unit}: design weights": [fmt.number(scale * x, d) for x in s["before"]],
            f"{measures.label(key)}{unit}: calibrated": [fmt.number(scale * x, d) for x in s["after"]],
            f"{measures.label(key)}: change{' (points)' if scale == 100 else ''}":
                [fmt.number(scale * x, change_digits[v]) for x in s["difference"]],
            f"n_{v}": s["n"]}), on="district_id", how="left")
    shift_table["Respondents"] = shift_table[["n_sat_overall", "n_aware_center"]].min(axis=1)
    shift_table = shift_table.drop(columns=["district_id", "n_sat_overall", "n_aware_center"])
    shown = report.table(shift_table, n="Respondents",
                         columns=[c for c in shift_table.columns if c not in ("District", "Respondents")],
                         caption=f"District estimates, {survey_year}, with the design weights and with the weights "
                                 "raked to the census margins (adults by district and age band, by district and "
                                 "sex), and the change (computed before rounding, so it can differ in the last digit "
                                 "from the difference of the two rounded columns).", data=shift)
else:
    shown = report.md(f"*{why_not}*")
shown

# %%
if shift is not None:
    ok = shift[shift["n"] >= k_min]
    moved = (ok["difference"].abs() / ok["se_before"])
    so, sa = ok[ok["variable"] == "sat_overall"], ok[ok["variable"] == "aware_center"]
    shown = report.md("Calibration moves a district's mean overall satisfaction by at most **{a}** points on the "
                      "1–5 scale and its share aware of the service centre by at most **{b}** percentage points. "
                      "Every move is smaller than the estimate's standard error (at most **{r}** of it): the weighted "
                      "sample's age and sex mix is already close to the census, and the rest of the report keeps the "
                      "design weights.",
                      a=fmt.number(so["difference"].abs().max(), change_digits["sat_overall"]),
                      b=fmt.number(100 * sa["difference"].abs().max(), change_digits["aware_center"]),
                      r=fmt.percent(moved.max(), 0)) if moved.max() < 1 else report.md(
        "Calibration moves some district estimates by more than one standard error (at most **{r}** standard "
        "errors): the design weights alone misrepresent those districts' age and sex mix, and their estimates "
        "should be read with that in mind.", r=fmt.number(moved.max(), 1))
else:
    shown = report.md("")
shown

# %% [markdown]
# ## Sub-districts: small-area estimates
#
# In one year the survey reaches only some sub-districts, each through one or two communities and
# a few dozen respondents, so direct estimates are noisy or missing. A **Fay–Herriot** model combines
# each sampled sub-district's direct estimate of mean overall satisfaction (1–5) with a regression
# prediction from the share of its residents aged 60+ and its migrant share (each the
# population-weighted mean over its communities) and its district, weighting the two by their precision (the empirical best linear unbiased
# predictor, EBLUP); sub-districts the survey did not reach get the regression prediction alone.
# Uncertainty is the Prasad–Rao mean squared error (MSE).
#
# The direct standard error of a sub-district that holds a single sampled community cannot be
# estimated from the design (one PSU gives no between-PSU variation), and those of two or three
# communities are very unstable, so the model uses smoothed sampling variances: the pooled within-sub-district variance times the
# median design effect of the district estimates, over each sub-district's respondent count.

# %%
deff = float(likert.mean_score(design, "sat_overall", by=["district_id", "year"])["deff"].median())
direct = design_y.mean("sat_overall", by="subdistrict_id")
direct = sat.smoothed_se(direct, resp_y, "sat_overall", "subdistrict_id", deff)
area_x = sat.area_covariates(tables["communities"], cmap)
covariates = ["share_60plus", "migrant_share"]
fh = smallarea.fay_herriot(direct.merge(area_x, on="subdistrict_id"), "estimate", "se", unit="subdistrict_id",
                           covariates=covariates, group="district_id")
sae = sat.fh_all_areas(fh, area_x)
coef = sat.per_ten_points(fh.coef, covariates)
slopes = coef[coef["term"].isin(covariates)]
term_names = {"share_60plus": "Residents aged 60+ in the sub-district, per 10 percentage points",
              "migrant_share": "Migrants among the sub-district's residents, per 10 percentage points"}
report.table(pd.DataFrame({"Term": slopes["term"].map(term_names),
                           "Coefficient (95% CI)": [fmt.interval(e, lo, hi) for e, lo, hi in
                                                    zip(slopes["estimate"], slopes["ci_low"], slopes["ci_high"])],
                           "p": [fmt.pvalue(p) for p in slopes["p"]]}),
             caption=f"Fay–Herriot model of sub-districts' mean overall satisfaction (1–5), {survey_year}: "
                     "coefficients in points on the 1–5 scale per 10 percentage points more of the sub-district's "
                     "residents aged 60+ or migrant (population-weighted over its communities); the intercept and "
                     "the district effects are not shown (they are in the data file).", data=coef)

# %%
n_direct = int((sae["source"] == "EBLUP").sum())
unsampled = sae.loc[sae["source"] == "synthetic", "rmse"]
report.md("In {y}, **{k}** of the {m} sub-districts have a direct estimate (median {n} respondents). The model "
          "attributes a between-sub-district variance of **{s}** (squared points) beyond what the covariates and "
          "districts explain, beside a median sampling variance of **{d}**; the median weight on the direct "
          "estimate is **{g}**{z}. The median root MSE falls from **{a}** points (direct) to **{b}** (EBLUP){c}.",
          z=(", so the small-area estimates are the regression predictions" if fh.sigma2_v < 1e-6 else ""),
          y=survey_year, k=fmt.count(n_direct), m=fmt.count(len(sae)), n=fmt.count(direct["n"].median()),
          s=fmt.interval(fh.sigma2_v, None, None), d=fmt.interval((direct["se"] ** 2).median(), None, None),
          g=fmt.number(fh.table["gamma"].median(), 2), a=fmt.number(direct["se"].median(), 2),
          b=fmt.number(sae.loc[sae["source"] == "EBLUP", "rmse"].median(), 2),
          c=(f"; for unsampled sub-districts it is {fmt.number(unsampled.median(), 2)}" if len(unsampled) else ""))

# %%
sae_map = subdistricts.merge(sae, on=["subdistrict_id", "district_id"], how="left").merge(
    direct[["subdistrict_id", "n"]], on="subdistrict_id", how="left")
sae_map = sae_map.assign(n=sae_map["n"].fillna(0), direct_shown=sae_map["direct"])
sae_map = report.suppress_for_plot(sae_map, n="n", columns=["direct_shown"])
classes = maps.classify(sae_map[["direct_shown", "estimate"]].stack(), scheme="quantiles", k=5, fmt="{:.2f}")
fig, axes = plt.subplots(1, 3, figsize=(15, 5))
# the shared classes' legend sits beside the direct estimates, whose map alone has units without a value
# (hatched "No data": the survey did not reach them)
maps.choropleth(sae_map, "direct_shown", classes=classes, ax=axes[0], overlay=districts,
                legend_title=measures.label("sat_overall"), suppressed=sae_map["suppressed"] & (sae_map["n"] > 0),
                title=f"Direct estimate, {survey_year}" + ("\n(No data: not sampled)" if (sae_map["n"] == 0).any() else ""))
maps.choropleth(sae_map, "estimate", classes=classes, ax=axes[1], overlay=districts, legend=False,
                title="Fay–Herriot estimate\n(the same classes)")
maps.choropleth(sae_map, "rmse", ax=axes[2], overlay=districts, cmap=style.UNCERTAINTY_CMAP, k=4, fmt="{:.2f}",
                legend_title="Root MSE", title="Uncertainty of the estimate", synthetic=synthetic)
report.figure(fig, caption=f"{measures.label('sat_overall')} by sub-district, {survey_year}: the direct survey "
                           "estimate, the Fay–Herriot estimate and its root mean squared error.",
              alt="Three maps of the city's sub-districts: direct survey estimates of mean overall satisfaction "
                  "(hatched as no data where not sampled), the small-area estimates on the same classes, and their "
                  "uncertainty.",
              data=sae)

# %% [markdown]
# ## Claim 6: do top-down assessment scores agree with residents' satisfaction?
#
# Each community's assessment score is averaged over the study years and set beside its residents'
# satisfaction thermometer (0–100), averaged over every respondent the survey reached in that
# community. Community means from a few dozen respondents at most are noisy, which pulls any
# correlation towards zero; the estimate is therefore corrected for that noise (Spearman's
# disattenuation with the reliability of the community means) and its 95% interval comes from a
# bootstrap over communities. The question is about every community of the city, of which the
# survey reaches a known share, so the interval carries the finite-population correction (what it
# assumes is said below).

# %%
has_assessment = "assessment" in tables
assessment, corr = claims.CLAIMS["assessment"], None
if has_assessment:
    scores = tables["assessment"].groupby("community_id", as_index=False)["score"].mean()
    corr = assessment.fit(tables, seed=seed)
    pairs = report.suppress_for_plot(sat.community_means(resp, "sat_score", scores, "score"), n="n",
                                     columns=["mean_sat_score"])
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ax.scatter(pairs["score"], pairs["mean_sat_score"], s=8, alpha=0.5, color=style.QUALITATIVE[0])
    ax.set(xlabel=f"{measures.label('assessment')}, mean {period.first}–{period.last}",
           ylabel=f"{measures.label('sat_score')}, community mean")
    if synthetic:
        style.stamp_synthetic(ax)
    shown = report.figure(
        fig, caption=f"Communities: mean {measures.label('assessment').lower()} over {period.first}–{period.last} "
                     f"and the community mean of residents' {measures.label('sat_score').lower()}.",
        alt=f"A scatter plot of {fmt.count(pairs['mean_sat_score'].notna().sum())} surveyed communities, "
            "assessment score against residents' mean satisfaction thermometer.",
        data=pairs[pairs["mean_sat_score"].notna()].drop(columns=["suppressed"], errors="ignore"))
else:
    shown = report.md("*The data have no assessment scores, so this section and claim 6 are skipped.*")
shown

# %%
if has_assessment:
    r_d = fmt.estimate_digits(corr["estimate"], corr["ci_low"], corr["ci_high"])
    n_communities = int(tables["assessment"]["community_id"].nunique())
    shown = report.md(
          "Across **{n}** surveyed communities the observed correlation is **{r}**; the reliability of the "
          "community thermometer means is **{lam}**, and the corrected correlation is **{e}** (95% bootstrap "
          "interval {l} to {h}). "
          + ("Assessment scores go with about **{r2}** of the variation between communities in their residents' "
             "mean satisfaction." if corr["ci_low"] > 0 else
             "The interval includes zero: these data cannot tell whether the two go together at all.")
          + " The survey reached {n} of the city's {N} assessed communities "
          "({f}), so the bootstrap interval is narrowed by the finite-population correction, to {c} of its "
          "width. That correction treats the surveyed communities as a simple random sample of the city's; "
          "they were in fact drawn with probability proportional to size, and the correlation counts each "
          "once, unweighted, so it speaks for every community only if the association is the same in large "
          "and small ones: the correction accounts for how much of the city was observed, not for which "
          "part.",
          n=fmt.count(corr["n_units"]), r=fmt.number(corr["r_observed"], r_d), lam=fmt.number(corr["reliability"], 2),
          e=fmt.number(corr["estimate"], r_d), l=fmt.number(corr["ci_low"], r_d), h=fmt.number(corr["ci_high"], r_d),
          r2=fmt.percent(corr["estimate"] ** 2, 0), N=fmt.count(n_communities),
          f=fmt.percent(corr["n_units"] / n_communities, 0), c=fmt.percent(corr["fpc"], 0))
else:
    shown = report.md("")
shown

# %% [markdown]
# ## Claims tested

# %%
if has_assessment:
    display(report.md("Claim 6 says the agreement is *weak*. It is read here as: the correlation is positive but "
                      "clearly below 0.5 (Cohen's threshold for a large correlation). The first row tests that it is "
                      "positive; the second that its interval lies wholly below 0.5. Both are associations across "
                      "communities."))
    claim_shown, claim_data = verdicts.claims_table([
        {"claim": "6a. Assessment scores and residents' satisfaction go together (r > 0)",
         "estimate": corr["estimate"], "ci": (corr["ci_low"], corr["ci_high"]), "unit": "correlation",
         "design": assessment.design, "digits": r_d},
        {"claim": "6b. ... but only weakly (r < 0.5)", "estimate": corr["estimate"] - 0.5,
         "ci": (corr["ci_low"] - 0.5, corr["ci_high"] - 0.5), "unit": "correlation minus 0.5", "direction": -1,
         "design": assessment.design, "digits": r_d},
    ])
    shown = report.table(claim_shown, caption="The claims tested in this report, their design and verdict.",
                         data=claim_data)
else:
    shown = report.md("*Claim 6 needs the assessment scores, which the data do not have, so it is not tested.*")
shown

# %%
# Synthetic data only: the generator's correlation is known, so the estimate can be set beside it.
checks = claims.beside_truth(assessment.estimates(corr), truth) if has_assessment else None
shown = []
if checks is not None:
    shown.append(report.md("## Validation against the planted truth\n\nOn synthetic data the population correlation "
                           "between each community's mean assessment score and its residents' expected satisfaction "
                           "is known. The corrected estimate should lie near it, and its 95% interval should cover it "
                           "in about 19 of 20 datasets (the shipped city is one draw); the uncorrected correlation "
                           "should lie below it."))
    shown.append(report.table(pd.DataFrame({
        "Quantity": checks["label"],
        "Corrected estimate (95% CI)": [fmt.interval(e, a, b, digits=r_d) for e, a, b in
                                        zip(checks["estimate"], checks["ci_low"], checks["ci_high"])],
        "Uncorrected": fmt.number(corr["r_observed"], r_d),
        "Planted value": [fmt.number(t, r_d) for t in checks["truth"]],
        "Inside the interval": [fmt.yes_no(c) for c in checks["covered"]]}),
        caption="The correlation of claim 6 beside the value planted in the synthetic city.",
        data=checks.assign(uncorrected=corr["r_observed"])))
display(*shown)

# %% [markdown]
# ## Caveats
#
# - Satisfaction is self-reported and the 1–5 items are ordinal; means treat the steps as equal and
#   the top-two box does not, so both are shown.
# - District estimates rest on a handful of sampled communities per district and year (few design
#   degrees of freedom): intervals are wide and differences between neighbouring districts are
#   rarely clear.
# - The census margins describe one census year; raking every survey year to them assumes the
#   adult population's age and sex mix changed little since.
# - The small-area model borrows strength across sub-districts of a district; a sub-district that is
#   unlike its district and was not sampled will be estimated poorly, and its MSE only partly says so.
# - Where the data have assessment scores, the correlation in claim 6 covers the communities the
#   survey reached (drawn with probability proportional to size), which are larger on average than
#   the rest, each counted once; it speaks
#   for the city's communities as far as the association is the same in small ones, and it is an
#   association, not a sign that either quantity drives the other.

# %% [markdown]
# ## Measures

# %%
report.table(measures.glossary(["sat_service", "sat_service_top2", "sat_overall", "sat_overall_top2", "trust",
                                "aware", "sat_score"] + (["assessment"] if has_assessment else [])
                               + ["share_60plus", "migrant_share"]),
             caption="The measures of this report: definition, source and scale. The small-area model uses the "
                     "two community shares averaged over each sub-district's communities, weighted by population.")

# %% [markdown]
# ## Methods and references
#
# Survey estimates: design-based means and shares with Taylor-linearised variances (Binder 1983;
# Lumley 2010); intervals of shares on the logit scale. Districts against the city: contrasts of
# correlated estimates (the covariance of the two estimates from their linearised values over the
# same PSUs; Lumley 2010, sec. 2.3), judged by overdispersion-adjusted funnel limits (Spiegelhalter
# 2005a, 2005b). Calibration: raking to census margins (Deville & Särndal 1992; Lumley 2010, ch. 7).
# Small areas: Fay–Herriot model (Fay & Herriot 1979) with REML variance and the Prasad–Rao MSE
# (Rao & Molina 2015; Datta, Rao & Smith 2005). Claim 6: correlation corrected for attenuation
# (Spearman 1904) with a community bootstrap (Efron & Tibshirani 1993); Cohen's (1988) thresholds.

# %%
report.md(references.references(["binder1983", "lumley2010", "spiegelhalter2005a", "spiegelhalter2005b",
                                 "deville1992", "fayherriot1979", "raomolina2015", "dattarao2005", "spearman1904",
                                 "efron1993", "cohen1988"]))

# %% [markdown]
# ## Headline findings

# %%
findings.record("sat_service_top2_city", 100 * s1["estimate"], ci=(100 * s1["ci_low"], 100 * s1["ci_high"]),
                unit="% of residents", note=f"{survey_year}; 4–5 of 5, design-based (Taylor, logit interval)",
                label=f"{measures.label('sat_service_top2')}, city, {survey_year}")
findings.record("sat_service_mean_city", ms1["estimate"], ci=(ms1["ci_low"], ms1["ci_high"]),
                unit="points (1–5)", note=f"{survey_year}; design-based (Taylor)",
                label=f"{measures.label('sat_service')}, city mean, {survey_year}")
findings.record("sat_overall_top2_city", 100 * o1["estimate"], ci=(100 * o1["ci_low"], 100 * o1["ci_high"]),
                unit="% of residents", note=f"{survey_year}; 4–5 of 5, design-based",
                label=f"{measures.label('sat_overall_top2')}, city, {survey_year}")
findings.record("aware_center_city", 100 * a1["estimate"], ci=(100 * a1["ci_low"], 100 * a1["ci_high"]),
                unit="% of residents", note=f"{survey_year}; design-based",
                label=f"{measures.label('aware')}, city, {survey_year}")
so_v = contrasts[contrasts["variable"] == "sat_overall"]
findings.record("districts_sat_overall_differ_city", int(so_v["verdict"].isin(["above", "below"]).sum()),
                unit="districts", note=f"{survey_year}; district minus city contrasts (shared PSUs), "
                                       "overdispersion-adjusted 95% funnel limits around zero",
                label=f"Districts whose {measures.label('sat_overall').lower()} differs from the city's, {survey_year}")
if shift is not None:
    so_s = shift[(shift["variable"] == "sat_overall") & (shift["n"] >= k_min)]
    findings.record("sat_overall_calibration_max_shift", float(so_s["difference"].abs().max()), unit="points (1–5)",
                    note=f"{survey_year}; weights raked to census margins (district x age band, district x sex)",
                    label=f"Largest move of a district's {measures.label('sat_overall').lower()} under calibration, "
                          f"{survey_year}")
findings.record("fh_sigma2_v", fh.sigma2_v, unit="squared points (1–5)",
                note=f"{survey_year}; Fay-Herriot REML between-sub-district variance of mean overall satisfaction",
                label=f"Variance between sub-districts of {measures.label('sat_overall').lower()} beyond the model, "
                      f"{survey_year}")
if has_assessment:
    findings.record("assessment_satisfaction_corr", corr["estimate"], ci=(corr["ci_low"], corr["ci_high"]),
                    unit="correlation", truth=truth_value(truth, "assessment_satisfaction_corr"),
                    note="claim 6: disattenuated community correlation, community bootstrap",
                    label="Claim 6: correlation of assessment scores with residents' satisfaction thermometer")

# %%
findings.display()
