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
# # Validation: the survey and spatial methods on real data with known answers
#
# **Question.** Do the collection's design-based survey estimates and spatial statistics give the
# answers that established software and published results give, on real data? The other reports
# rest on these methods; here they are checked where the right answer is known from elsewhere.
#
# - **Part A** uses the California Academic Performance Index (API) samples of 2000 that ship with
#   R's survey package (Lumley 2010): real schools, sampled by three designs. Our design-based
#   estimates are set beside those of R's survey package, computed afresh in this run.
# - **Part B** uses the North Carolina counties with their births and deaths from sudden infant
#   death syndrome (SIDS) in 1974–78 and 1979–84 (Cressie & Read 1985), and checks Moran's I against
#   the value published in the documentation of the spatial library esda.

# %% tags=["parameters"]
seed = 20240501  # seed of every permutation test
permutations = 999  # permutations per test (at least 999)

# %%
# %load_ext autoreload
# %autoreload 2
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from helpers.publish import findings, fmt, references, report
from helpers.publish import notebook as nb
from helpers.studies import validation as val
from helpers.studies.cases import sids
from helpers.viz import maps

meta = nb.setup()

# %% [markdown]
# **Data.** Two public real data sets, read from the software that ships them: the API samples
# from R's survey package and the North Carolina SIDS counties from libpysal. No other data are
# used in this report.

# %% [markdown]
# ## Part A. Design-based survey estimates against R's survey package
#
# ### Data
#
# Three samples of California's schools, each with its design, as in the survey package's own
# example: a simple random sample, a sample stratified by school type (elementary, middle and high
# schools), and a one-stage cluster sample of school districts. The design weights and
# finite-population corrections ship with the data.

# %%
a = val.api_validation()
if a.found:
    shown = report.table(pd.DataFrame({
        "Sample": a.designs["design"].str.capitalize(), "Schools": [fmt.count(v) for v in a.designs["schools"]],
        "Strata": [fmt.count(v) for v in a.designs["strata"]], "Clusters": [fmt.count(v) for v in a.designs["clusters"]],
        "Schools in the population (sum of weights)": [fmt.count(v) for v in a.designs["sum_of_weights"]]}),
        caption="The three API samples and their designs (the data file also gives each design as R specifies it).",
        data=a.designs)
else:
    shown = report.md("**Part A could not run: the API samples were not found.** They ship with R's survey package; "
                      "install R and its survey package to run it.")
shown

# %% [markdown]
# ### Method
#
# For each sample, our survey estimator gives the mean API score in 2000 and in 1999, the total
# enrolment, the ratio of students tested to students enrolled, and the mean score of 2000 by
# school type (a domain estimate), with Taylor-linearised standard errors (Binder 1983). R's survey
# package computes the same from its own copy of the data: it loads the samples itself, so it does
# not even share our reading of the file. Two numbers are compared by the significant digits in
# which they agree; double precision carries about 15.

# %%
if a.r.ok:
    status = report.md("R {rv} with survey {sv} ran in this build and produced the reference values.",
                       rv=a.r.r_version, sv=a.r.survey_version)
else:
    status = report.md("**R was not run: {why}.** The table shows our estimates only; install R and its survey "
                       "package to compare.", why=a.r.reason)
status

# %% [markdown]
# ### Results

# %%
what = {("mean", "api00"): "Mean API score, 2000", ("mean", "api99"): "Mean API score, 1999",
        ("total", "enroll"): "Total enrolment", ("ratio", "api.stu/enroll"): "Students tested per student enrolled"}
school = {"E": "elementary schools", "M": "middle schools", "H": "high schools"}
sample = dict(zip(a.designs.get("sample", []), a.designs.get("design", [])))
c = a.comparison
if a.found:
    digits = [fmt.digits_for(s) for s in c["se"]]
    shown = pd.DataFrame({
        "Sample": [sample.get(s, s).capitalize() for s in c["sample"]],
        "Estimate": [what[(st, v)] + ("" if dom == "all" else ", " + school.get(dom.split("=")[-1], dom))
                     for st, v, dom in zip(c["statistic"], c["variable"], c["domain"])],
        "Ours": [fmt.number(x, k) for x, k in zip(c["estimate"], digits)],
        "R": [fmt.number(x, k) for x, k in zip(c["estimate_r"], digits)],
        "Digits agreeing": [fmt.number(x, 0) for x in c["digits_estimate"]],
        "Standard error, ours": [fmt.number(x, k + 1 if x < 1000 else k) for x, k in zip(c["se"], digits)],
        "Standard error, R": [fmt.number(x, k + 1 if x < 1000 else k) for x, k in zip(c["se_r"], digits)],
        "Standard error, digits agreeing": [fmt.number(x, 0) for x in c["digits_se"]]})
    shown = report.table(shown, caption="Our design-based estimates and standard errors beside R's survey package, and "
                                        "the significant digits in which they agree (15 is the most double precision "
                                        "shows; the numbers are printed to the precision their standard errors "
                                        "warrant).", data=c)
else:
    shown = report.md("")
shown

# %%
ex = a.example()
if ex is None:
    shown = report.md("*No estimates: the API samples were not found.*")
else:
    shown = report.md("{agree}The stratified sample puts the mean API score of 2000 at **{m}** (standard error {se}).",
                      agree=("" if a.fewest_digits is None else
                             f"Across {len(c)} estimates and their standard errors on three designs, ours and R's "
                             f"agree to at least {fmt.number(a.fewest_digits, 0)} significant digits: "
                             + ("the two compute the same numbers, to the rounding of double precision. "
                                if a.fewest_digits >= 10 else "fewer than rounding explains, so the two differ. ")),
                      m=fmt.interval(ex["estimate"], ex["ci_low"], ex["ci_high"], se=ex["se"]),
                      se=fmt.number(ex["se"], fmt.digits_for(ex["se"]) + 1))
shown

# %% [markdown]
# ## Part B. Spatial statistics on the North Carolina SIDS counties
#
# ### Data and method
#
# SIDS deaths and live births in each of North Carolina's 100 counties. Some counties record only
# a handful of deaths, so their crude rates are noisy. The analysis has four steps:
#
# 1. crude rates per 1,000 births (1974–78) and global empirical-Bayes smoothed rates (Marshall
#    1991), which pull small counties towards the state rate;
# 2. a funnel plot of the counties against the state rate, with exact binomial limits and limits
#    widened for overdispersion (Spiegelhalter 2005a, 2005b);
# 3. global Moran's I (Moran 1950) of the rates with the empirical-Bayes standardisation of
#    Assunção & Reis (1999), on queen contiguity, with permutation p-values;
# 4. local clusters (Anselin 1995) with the false discovery rate controlled at 5% (Benjamini &
#    Hochberg 1995).
#
# Then a check against a published number: the documentation of esda (the spatial statistics
# library of PySAL; Rey & Anselin 2007) computes Moran's I of the 1979–84 rates on the contiguity
# neighbours that ship with the data.

# %%
case = sids.run(seed=seed, permutations=permutations)
summ = val.sids_summary(case)
report.table(pd.DataFrame({
    "Rate per 1,000 births, 1974–78": ["Crude", "Empirical-Bayes smoothed"],
    **{lab: [fmt.number(v, 2) for v in summ[col]] for col, lab in
       [("min", "Lowest"), ("q25", "Lower quartile"), ("median", "Median"), ("q75", "Upper quartile"),
        ("max", "Highest"), ("sd", "Standard deviation")]}}),
    caption="County SIDS rates per 1,000 live births, 1974–78, before and after empirical-Bayes smoothing.", data=summ)

# %%
axes = maps.small_multiples(case.frame, columns=["crude_rate", "eb_rate"], ncols=2, panel_size=6.2,
                            scheme="quantiles", k=5, panel_titles=["Crude rate", "Empirical-Bayes smoothed rate"],
                            legend_title="SIDS deaths per 1,000 births,\n1974–78", units_name=("county", "counties"))
report.figure(axes, caption="North Carolina counties: crude and smoothed SIDS rates, 1974–78, on one set of class "
                            "breaks (quintiles).",
              data=pd.DataFrame(case.frame[["FIPS", "NAME", "SID74", "BIR74", "crude_rate", "eb_rate"]]))

# %%
s = summ.set_index("rate")
report.md("The state rate is **{st}** deaths per 1,000 births. Smoothing narrows the county rates from {c0} to {c1} "
          "(standard deviation {cs}) to {e0} to {e1} (standard deviation {es}): counties with few births lose their "
          "extreme crude rates, and large counties barely move.", st=fmt.number(case.state_rate, 2),
          c0=fmt.number(s.loc["crude rate", "min"], 2), c1=fmt.number(s.loc["crude rate", "max"], 2),
          cs=fmt.number(s.loc["crude rate", "sd"], 2), e0=fmt.number(s.loc["EB-smoothed rate", "min"], 2),
          e1=fmt.number(s.loc["EB-smoothed rate", "max"], 2), es=fmt.number(s.loc["EB-smoothed rate", "sd"], 2))

# %%
fig, ax = plt.subplots(figsize=(7.5, 4.8))
case.funnel.plot(ax=ax, xlabel="Live births, 1974–78", ylabel="SIDS deaths per 1,000 births", title=None)
ax.xaxis.set_major_formatter("{x:,.0f}")
handles, labels = ax.get_legend_handles_labels()
ax.legend(handles, [lab.replace("target", "state rate").replace(".0%", "%") for lab in labels], frameon=False, fontsize=8)
report.figure(fig, caption="County SIDS rates, 1974–78, against their births, with the state rate, exact binomial "
                           "and overdispersion-adjusted 95% and 99.8% limits.",
              alt="A funnel plot: 100 county SIDS rates against live births, with control limits around the state "
                  "rate that narrow as births grow.", data=case.funnel.table)

# %%
out = case.funnel.outliers(level=0.95, adjusted=True)
out998 = case.funnel.outliers(level=0.998, adjusted=True)
report.md("The winsorised dispersion of the county z-scores is **{phi}** (1 would be binomial variation alone), so the "
          "limits are widened by a between-county standard deviation of {tau} on the arcsine-square-root scale. "
          "Counties outside the overdispersion-adjusted 95% limits (the rule the collection's reports use): **{n}** "
          "of {N}{names}; outside the 99.8% limits: {n998}.",
          phi=fmt.number(case.funnel.phi, 2), tau=fmt.number(np.sqrt(case.funnel.tau2), 4), n=len(out),
          N=len(case.funnel.table), names=f" ({', '.join(out['unit'].astype(str))})" if len(out) else "",
          n998=len(out998))

# %%
fig = plt.figure(figsize=(13, 4.8))
gs = fig.add_gridspec(1, 2, width_ratios=[2.2, 1])
maps.lisa_map(case.local, ax=fig.add_subplot(gs[0]), title="Local clusters, 1974–78")
maps.moran_scatterplot(case.moran_rate, local=case.local, ax=fig.add_subplot(gs[1]), title="Moran scatterplot",
                       xlabel="SIDS rate, empirical-Bayes standardised")
report.figure(fig, caption="Local clusters of empirical-Bayes standardised SIDS rates, 1974–78 (false discovery rate "
                           "5%), and the Moran scatterplot of the standardised rates against their neighbours' "
                           "average.",
              alt="A map of North Carolina's counties marking those in significant local clusters of SIDS rates, "
                  "beside a scatterplot of each county's standardised rate against its neighbours' average.",
              data=case.local.frame)

# %%
mr, mc, lc = case.moran_rate, case.moran_crude, case.local.counts
report.md("SIDS rates are positively autocorrelated between neighbouring counties: Moran's I of the "
          "standardised rates is **{i}** (permutation p = {p}, {k} permutations; crude rates: {ic}, p = {pc}). After "
          "the false discovery rate correction, **{hh}** counties form High-High clusters and **{ll}** Low-Low "
          "clusters.", i=fmt.number(mr.I, 3), p=fmt.pvalue(mr.p_sim), k=fmt.count(mr.permutations),
          ic=fmt.number(mc.I, 3), pc=fmt.pvalue(mc.p_sim), hh=fmt.count(lc.get("High-High", 0)),
          ll=fmt.count(lc.get("Low-Low", 0)))

# %% [markdown]
# ### Check against the published value

# %%
ref = val.sids_reference(seed=seed, permutations=permutations)
report.table(pd.DataFrame({
    "Check": ["Counties whose rook neighbours differ from those shipped with the data",
              "Moran's I, standardised SIDS rates 1979–84", "Its normal p-value, one-tailed"],
    "Ours": [fmt.count(ref.loc[0, "ours"]), fmt.number(ref.loc[1, "ours"], 4), fmt.number(ref.loc[2, "ours"], 4)],
    "Published": [fmt.count(ref.loc[0, "reference"]), fmt.number(ref.loc[1, "reference"], 4),
                  fmt.number(ref.loc[2, "reference"], 4)],
    "Agree": [fmt.yes_no(v) for v in ref["agrees"]]}),
    caption="Our spatial weights and Moran's I beside the neighbours shipped with the SIDS data and the values "
            "published in esda's documentation (four decimals).", data=ref)

# %%
report.md("Rook contiguity built from the county polygons reproduces the neighbour lists that ship with the data "
          "({d} counties differ), and Moran's I of the 1979–84 standardised rates is **{i}** against **{ri}** "
          "published, with a one-tailed normal p-value of {p} against {rp}. {ok}",
          d=fmt.count(ref.loc[0, "ours"]), i=fmt.number(ref.loc[1, "ours"], 4),
          ri=fmt.number(ref.loc[1, "reference"], 4), p=fmt.number(ref.loc[2, "ours"], 4),
          rp=fmt.number(ref.loc[2, "reference"], 4),
          ok="Every check agrees." if ref["agrees"].all() else "**Not every check agrees.**")

# %% [markdown]
# ## Caveats
#
# - Agreement with R shows that the two implementations compute the same formulas (Taylor
#   linearisation, finite-population corrections, domains); it does not show that the formulas
#   suit a given design.
# - R is run when the report is built; a report built where R is missing says so and shows our
#   estimates only.
# - The SIDS check compares with a published value rounded to four decimals.
# - Permutation p-values are bounded below by 1/(permutations + 1).
# - These are real data, so the references are another implementation (R) and a published result
#   (esda), not the true values of the population.

# %% [markdown]
# ## Methods and references
#
# Design-based estimation with Taylor-linearised variances (Binder 1983; Lumley 2010). Empirical-Bayes
# rates (Marshall 1991). Funnel plots with overdispersion (Spiegelhalter 2005a, 2005b). Moran's I
# (Moran 1950) with the Assunção-Reis standardisation (Assunção & Reis 1999); local indicators of
# spatial association (Anselin 1995) with false discovery rate control (Benjamini & Hochberg 1995),
# computed with PySAL's esda (Rey & Anselin 2007). The SIDS data: Cressie & Read (1985), Cressie
# (1993).

# %%
report.md(references.references(["binder1983", "lumley2010", "marshall1991", "spiegelhalter2005a", "spiegelhalter2005b",
                                 "moran1950", "assuncao1999", "anselin1995", "benjamini1995", "rey2007",
                                 "cressie1985", "cressie1993"]))

# %% [markdown]
# ## Headline findings

# %%
if a.fewest_digits is not None:
    findings.record("api_digits_agreement_vs_R", a.fewest_digits, unit="significant digits",
                    note=f"fewest over {len(c)} API estimates and SEs, R survey {a.r.survey_version}",
                    label="Survey estimates and standard errors: significant digits in agreement with R (fewest)")
if ex is not None:
    findings.record("api_strat_mean_api00", float(ex["estimate"]), ci=(float(ex["ci_low"]), float(ex["ci_high"])),
                    unit="API points", note="apistrat, design-based, t on design df",
                    label="Mean API score 2000, stratified sample")
findings.record("sids_moran_eb_1974", mr.I, unit="Moran's I", note=f"queen, permutation p {fmt.pvalue(mr.p_sim)}",
                label="Moran's I of standardised SIDS rates, 1974–78")
findings.record("sids_moran_eb_1979_vs_esda_doc", ref.loc[1, "ours"], unit="Moran's I",
                note="rook, as the neighbours shipped with the data; esda documentation: 0.1662",
                label="Moran's I of standardised SIDS rates, 1979–84, as in esda's documentation")
findings.record("sids_lisa_high_high", int(lc.get("High-High", 0)), unit="counties", note="FDR 5%",
                label="Counties in High-High SIDS clusters, 1974–78")
findings.display()
