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
# # A composite index of grassroots work by district, and how far its ranks can be trusted
#
# **Question.** Taken together over the three outcome families — *coverage* (does the work reach
# every unit and person?), *participation* (do people take part?) and *satisfaction* (how do
# residents judge it?) — how do the districts compare, and which of their differences survive the
# noise in the indicators and the arbitrary choices that any composite index makes?
#
# **Claim 7** from the field warns that small units give noisy rates, so league tables need
# intervals before anyone is named best or worst. This report follows that advice rather than
# testing it with a model: every district's rank is given as an interval, and two districts are
# told apart only when their intervals do not overlap. The top-down assessment (考核) is set beside
# the index, not inside it (**claim 6** is tested on communities in
# [Satisfaction](03_satisfaction.html)).

# %% tags=["parameters"]
data_dir = None  # the data folder (None: the shipped default data in data/)
year = None  # the year the index describes (None: the latest year in the data)
n_sim = 1000  # Monte Carlo replicates of each uncertainty analysis
seed = 20261122  # seed of the Monte Carlo draws

# %%
# %load_ext autoreload
# %autoreload 2
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

from helpers.data import concepts, load
from helpers.data.truth import ground_truth, is_synthetic
from helpers.publish import findings, fmt, references, report
from helpers.publish import notebook as nb
from helpers.studies import index as ix
from helpers.studies import measures, verdicts
from helpers.viz import maps

meta = nb.setup(data_dir)
nb.data_statement(meta, data_dir)

# %% [markdown]
# ## Data
#
# The index combines administrative records (organisations, party members, joint building and
# service points, summed over each district's communities) with the resident survey, a stratified
# two-stage sample (strata: districts; primary sampling units: communities). A row of the index is
# a district in one year: administrative indicators describe that year, survey indicators the
# survey of the same year (or the latest survey before it).

# %%
tables = load.load_all(data_dir, tables=ix.TABLES)
synthetic, truth = is_synthetic(data_dir), ground_truth(data_dir)
period = load.study_period(tables)
year, survey_year = ix.index_years(tables, year)
districts = tables["districts"]
names = districts.set_index("district_id")["name_en"]
indicators = ix.district_indicators(tables, year, survey_year)
spec, left_out = ix.index_spec(indicators, ix.default_spec())
used = indicators[indicators["indicator"].isin(spec.indicators)]
k = len(districts)
absent = left_out[left_out["reason"] == "absent table"]
n_spec = len(ix.default_spec().indicators)
report.md("The data cover {p}; the index describes **{y}**{s}, for **{k}** districts, with {m} indicators of its "
          "specification.", p=f"{period.first}–{period.last}", y=year, k=k, s="" if survey_year == year else
          f" (survey indicators: the survey of {survey_year}, the latest before it)",
          m=f"all {n_spec}" if len(spec.indicators) == n_spec else f"{len(spec.indicators)} of the {n_spec}")

# %%
absent_tables = [t.replace("_", " ") for t in sorted(set(absent["table"]))]
absent_labels = ["“" + v + "”" for v in absent["label"]]
report.md(" ".join(
    [("The data have no " + " and ".join([", ".join(absent_tables[:-1]), absent_tables[-1]] if len(absent_tables) > 1
                                         else absent_tables) + (" table" if len(absent_tables) == 1 else " tables")
      + ", so " + " and ".join([", ".join(absent_labels[:-1]), absent_labels[-1]] if len(absent_labels) > 1
                               else absent_labels) + (" is" if len(absent) == 1 else " are")
      + " left out of the index; the other indicators of each pillar keep their relative weights.")
     if len(absent) else ""]
    + [f"“{r.label}” is left out: the data say nothing about it for " + ", ".join(names.get(d, d) for d in
                                                                                r.districts.split(", ")) + "."
       for r in left_out.itertuples() if r.reason == "missing for some districts"]
    + [f"“{r.label}” is left out: it is the same in every district, so it cannot tell them apart."
       for r in left_out.itertuples() if r.reason == "the same in every district"]).strip()
    or "Every indicator of the specification is available for every district.")

# %% [markdown]
# ## The index
#
# The index is built as the OECD/JRC *Handbook on Constructing Composite Indicators* describes:
# each indicator is normalised across districts, indicators are averaged into pillar scores with
# their weights, and the pillars into the index with theirs. By default indicators are normalised
# by min-max (0 = the lowest district in the year, 100 = the highest) and averaged arithmetically,
# and the three pillars weigh the same.
#
# **Top-down assessment scores (考核) are kept out of the satisfaction pillar.** They are the
# administration's judgement of communities, not residents' own; whether the two agree is itself
# a research question (claim 6), and putting both in one pillar would hide the answer. The
# satisfaction pillar uses the resident survey only; the assessment is set beside the index at the
# end.
#
# **Access enters the coverage pillar as residents' own report** ("Reported walk of 15 minutes or
# less", from the survey), not as the distance-based 1 km service circle of
# [Coverage](01_coverage.html). The two are different measures and need not agree: the report is
# what residents experience, and as a survey estimate it comes with a design-based standard error
# that the indicator-noise analysis below can draw from, while the service circle is computed from
# straight-line distance on the assumption that residents are spread evenly over their community,
# and has no sampling error to draw.

# %%
spec_shown, spec_data = ix.spec_table(spec)
report.table(spec_shown, caption="The measures of the index by pillar, the direction in which each counts as better, "
                                 "and its weight within its pillar; the pillars weigh the same in the index.",
             data=spec_data)

# %% [markdown]
# ## Indicators by district
#
# Administrative rates are summed numerators over summed denominators with 95% Wilson intervals;
# the eight-haves score is the mean number of checklist items met by the service points open in
# the year (out of 8). Survey indicators are design-based estimates with 95% intervals on the
# design degrees of freedom (percentages clipped to 0–100). Survey estimates resting on fewer than
# ten respondents are suppressed.

# %%
pillar_tables = {}
for p in spec.pillars:
    pillar_tables[p] = ix.indicator_table(used, districts, spec.pillars[p])
pillar_caption = {"coverage": "Coverage", "participation": "Participation", "satisfaction": "Satisfaction"}
shown = []
for p, t in pillar_tables.items():
    survey_cols = [measures.label(i, unit=True) for i in spec.pillars[p] if ix.INDICATORS[i].source == "survey"]
    shown.append(report.table(
        t, caption=f"{pillar_caption.get(p, p.capitalize())} indicators by district, {year}"
                   + (f" (survey {survey_year})" if survey_year != year and survey_cols else "")
                   + ", with 95% intervals.", n="Respondents" if survey_cols else None, columns=survey_cols,
        notes=f"{fmt.DEGENERATE_NOTE[0]} Every respondent of the district gave the same answer, so the design-based "
              "interval has no width (the share among all residents may still differ)."
        if fmt.DEGENERATE_NOTE[0] in t.to_csv() else None,
        data=ix.indicator_data(used[used["indicator"].isin(spec.pillars[p])])))
display(*shown)

# %%
resp = pd.concat(pillar_tables.values())["Respondents"].dropna() if any(
    "Respondents" in t for t in pillar_tables.values()) else pd.Series(dtype=float)
sat = used[used["indicator"] == "sat_score"]
report.md("Each district's survey estimates rest on {lo} to {hi} respondents, depending on the item (the tables give "
          "each district's smallest count).{w}", lo=fmt.count(resp.min()), hi=fmt.count(resp.max()),
          w="" if sat.empty else " The intervals are wide next to the differences between districts: the {m} spans "
          "{a} to {b} across districts, while each district's 95% interval is between {c} and {d} points wide.".format(
              m="“" + measures.label("sat_score") + "”", a=fmt.number(sat["estimate"].min(), 1),
              b=fmt.number(sat["estimate"].max(), 1), c=fmt.number((sat["ci_high"] - sat["ci_low"]).min(), 1),
              d=fmt.number((sat["ci_high"] - sat["ci_low"]).max(), 1)))

# %% [markdown]
# ## Scores and ranks
#
# Three kinds of uncertainty are reported, each from one Monte Carlo run of the index with
# different things allowed to vary (the number of replicates and the seed are stated below):
#
# - *indicator noise*: each replicate redraws every indicator of every district from a normal
#   distribution around its estimate with its standard error (binomial for administrative rates,
#   design-based for survey estimates, kept within the indicator's range) and recomputes the index
#   with the default method — the interval of the published score;
# - *method choices*: each replicate picks a normalisation (min–max, z-score or rank) and an
#   aggregation (arithmetic or geometric) at random and multiplies every weight by a random factor
#   near 1 (the range is stated under the table), holding the indicators fixed;
# - *both together*: the fullest statement of how well the data place a district.
#
# Score intervals are given only for indicator noise, because the alternative normalisations put
# scores on different scales; ranks are comparable across all of them. Under the collection's
# rank rule a district is given a single rank only when its 95% rank interval is that one rank;
# otherwise the interval of plausible ranks is stated.

# %%
base = spec.compute(ix.indicator_matrix(used))
se = ix.indicator_matrix(used, "se")
method_mc = base.uncertainty(n_sim=n_sim, seed=seed, level=verdicts.LEVEL)
noise_mc = base.uncertainty(n_sim=n_sim, seed=seed, level=verdicts.LEVEL, method=False, se=se, bounds=ix.bounds(spec))
full_mc = base.uncertainty(n_sim=n_sim, seed=seed, level=verdicts.LEVEL, se=se, bounds=ix.bounds(spec))
scores_shown, scores_data = ix.score_table(noise_mc.summary, method_mc.summary, full_mc.summary, districts, base.scores)
report.table(scores_shown.rename(columns={"Index (95% interval, indicator noise)": measures.label("index_score")
                                          + ", 95% interval (indicator noise)"}),
             caption=f"Pillar scores and the index by district, {year}, in the order of the index under the default "
                     f"method; ranks under the rank rule, from {fmt.count(n_sim)} Monte Carlo replicates of each "
                     f"analysis (seed {seed}; weights varied by up to ±{fmt.percent(spec.weight_noise, 0)}).",
             data=scores_data)

# %%
ax = ix.plot_index_map(districts, base.scores, synthetic=synthetic)
report.figure(ax.figure, caption=f"{measures.label('index_score')} by district, {year}, under the default method. "
                                 "A name that does not fit inside its district is set in the margin, with a line to "
                                 "a dot inside the district.",
              alt=maps.describe(ax).rstrip(".") + ", each district named inside it or in the margin with a line to it.",
              data=scores_data[["district_id", "index", "index_low", "index_high"]])

# %%
fig, ax = plt.subplots(figsize=(9.5, 0.36 * k + 1.4))
ix.plot_rank_intervals(method_mc.summary, full_mc.summary, districts, ax=ax, synthetic=synthetic)
report.figure(fig, caption=f"Each district's 95% rank interval, {year}, from method choices alone (thin line) and "
                           "from indicator noise and method choices together (thick line); the dot is its rank under "
                           "the default method.",
              alt=f"One horizontal bar per district, {k} in all, showing the range of ranks it could plausibly take.",
              data=scores_data)

# %%
idx_map = districts.merge(base.scores, on="district_id", how="left")
fig = maps.small_multiples(idx_map, columns=list(spec.pillars), k=min(4, k - 1), fmt="{:.0f}",
                           panel_titles=[measures.label(f"pillar_{p}") if f"pillar_{p}" in measures.MEASURES
                                         else p.capitalize() for p in spec.pillars],
                           legend_title="Pillar score (0–100)", synthetic=synthetic)
report.figure(fig, caption=f"The pillar scores by district, {year}, on one set of class breaks.",
              alt=f"{len(spec.pillars)} small maps of the districts, one per pillar of the index, shaded by the "
                  "district's pillar score.", data=scores_data[["district_id", *spec.pillars]])

# %%
single = scores_data[scores_data["rank_low"] == scores_data["rank_high"]]
top = scores_data.iloc[0]
top_rank = verdicts.rank_statement(top["rank"], top["rank_low"], top["rank_high"], k)
width = float((scores_data["rank_high"] - scores_data["rank_low"]).median())
level = [names[d] for d, v in zip(scores_data["district_id"].iloc[1:], scores_data["index"].iloc[1:])
         if fmt.number(v, 0) == fmt.number(top["index"], 0)]
report.md("Under the default method **{t}** has the highest score, {s}{tie}; its rank is {r}{best}. {single} The median "
          "width of the districts' rank intervals is {w} ranks (highest minus lowest plausible rank).",
          t=names[top["district_id"]], s=fmt.interval(top["index"], top["index_low"], top["index_high"], digits=0),
          tie=("" if not level else ", level at this precision with "
               + (level[0] if len(level) == 1 else ", ".join(level[:-1]) + " and " + level[-1])),
          r=top_rank, best="" if top["rank_high"] == 1 else ", so it cannot be called the best district",
          single=("No district can be given a single rank." if single.empty else
                  "Only " + ", ".join(f"{names[r.district_id]} "
                                      f"({verdicts.rank_statement(r.rank, r.rank_low, r.rank_high, k)})"
                                      for r in single.itertuples()) + " can be given a single rank."),
          w=fmt.number(width, 1 if width % 1 else 0))

# %% [markdown]
# ## Which districts can be told apart?
#
# Two districts can be told apart only when their 95% rank intervals (indicator noise and method
# choices together) do not overlap. **Districts whose rank intervals overlap cannot be told
# apart**: the data do not say which of them does better, and naming one as the better would be
# reading noise.

# %%
sep_shown, sep_data = ix.separation(full_mc.summary, districts)
report.table(sep_shown, caption=f"Each district's 95% rank interval, {year}, and the districts it can be told apart "
                                "from (rank intervals that do not overlap), with indicator noise and method choices "
                                "together.", data=sep_data)

# %%
pairs = ix.separable_pairs(full_mc.summary)
apart = pairs[~pairs["overlap"]]
apart_m = ix.separable_pairs(method_mc.summary).query("~overlap")
apart_n = ix.separable_pairs(noise_mc.summary).query("~overlap")

# each share with the digits the headline findings print it with
share = {k: fmt.percent(k / len(pairs), fmt.estimate_digits(100 * k / len(pairs), unit="%"))
         for k in (len(apart), len(apart_m), len(apart_n))}
report.md("Of the {n} pairs of districts, **{a}** can be told apart once indicator noise and method choices are "
          "both allowed for{which}. With the method choices alone {am} pairs ({sm}) could be, and with indicator "
          "noise alone {an} ({sn}). {none} The index is a summary for discussion, not a league table.",
          n=fmt.count(len(pairs)), a=("none" if apart.empty else
                                      f"{fmt.count(len(apart))} ({share[len(apart)]})"),
          which="" if apart.empty or len(apart) > 8 else ": " + "; ".join(
              f"{names[a]} is placed above " + " and ".join(
                  [", ".join(names[g["unit_b"]][:-1]), names[g["unit_b"].iloc[-1]]] if len(g) > 1
                  else [names[g["unit_b"].iloc[0]]])
              for a, g in apart.groupby("unit_a", sort=False)),
          am=fmt.count(len(apart_m)), sm=share[len(apart_m)], an=fmt.count(len(apart_n)),
          sn=share[len(apart_n)],
          none="No district can be told apart from any other." if apart.empty else
          f"{fmt.count((sep_data['apart_from'] == 0).sum())} of the {k} districts can be told apart from no other.")

# %% [markdown]
# ## Sensitivity: which choices move the ranks most?
#
# One choice at a time, against the default: another normalisation or aggregation, one weight
# perturbed (over the same range as above, in repeated draws), or one indicator left out. The
# table lists the choices that move ranks most, by the mean absolute change in rank over
# districts.

# %%
sens_shown, sens_data = ix.sensitivity_table(method_mc.sensitivity, top=10)
report.table(sens_shown, caption=f"The ten single choices that move the districts' ranks most, {year}: mean and "
                                 "largest absolute change in rank, and the share of districts whose rank changes.",
             data=sens_data)

# %%
s0 = sens_data.iloc[0]
by_factor = method_mc.sensitivity.groupby("factor")["mean_abs_rank_shift"].max().sort_values(ascending=False)
factor_words = {"normalisation": "another normalisation", "aggregation": "another aggregation",
                "weight": "one weight perturbed", "drop indicator": "one indicator left out"}
report.md("The most influential single choice is to **{c}**, which moves a district by {m} ranks on average and by "
          "up to {x}. By kind of choice, the largest mean shifts are: {kinds}.{moral}",
          c=s0["choice_text"], m=fmt.number(s0["mean_abs_rank_shift"], 2), x=fmt.count(s0["max_abs_rank_shift"]),
          kinds="; ".join(f"{factor_words.get(f, f)} {fmt.number(v, 2)}" for f, v in by_factor.items()),
          moral=(" Which indicators enter the index matters more than how they are scaled or weighted."
                 if by_factor.index[0] == "drop indicator" else ""))

# %% [markdown]
# ## The top-down assessment beside the index
#
# For comparison only, each district's mean assessment score (the mean over its communities'
# scores in the year) is set beside the satisfaction pillar and the index, and their orderings of
# the districts are compared by a Spearman rank correlation with a Fisher-z interval.

# %%
has_assessment = "assessment" in tables
if has_assessment:
    a_years = sorted(int(y) for y in tables["assessment"]["year"].unique())
    assess_year = year if year in a_years else max([y for y in a_years if y <= year] or a_years)
    assess = ix.assessment_by_district(tables["assessment"], concepts.community_lookup(tables), assess_year)
    beside = assess.merge(base.scores[["district_id", "satisfaction", "index"]], on="district_id", how="inner")
    shown = report.table(pd.DataFrame({
        "District": beside["district_id"].map(names),
        measures.label("assessment") + ", mean of communities": [fmt.number(v, 1) for v in beside["assessment_mean"]],
        "Communities": [fmt.count(v) for v in beside["communities"]],
        measures.label("pillar_satisfaction"): [fmt.number(v, 0) for v in beside["satisfaction"]],
        measures.label("index_score"): [fmt.number(v, 0) for v in beside["index"]]}),
        caption=f"The districts' mean assessment score beside the satisfaction pillar and the index, {year}"
                + ("." if assess_year == year else f" (assessment scores of {assess_year}, the latest before it)."),
        data=beside)
else:
    shown = report.md("*The data have no assessment table: this comparison is skipped.*")
shown

# %%
if has_assessment:
    r_sat = ix.rank_agreement(assess, "assessment_mean", base.scores, "satisfaction")
    r_idx = ix.rank_agreement(assess, "assessment_mean", base.scores, "index")
    # one precision for both correlations of the sentence: the coarser of the two intervals'
    r_digits = min(fmt.digits_for((r["ci_high"] - r["ci_low"]) / 3.92, r["estimate"]) for r in (r_sat, r_idx))
    shown = report.md(
        "Across the {n} districts, the Spearman rank correlation between the assessment and the satisfaction "
        "pillar is **{a}**, and between the assessment and the whole index **{b}** (95% intervals). With {n} "
        "districts these intervals are wide; claim 6 is tested on communities in "
        "[Satisfaction](03_satisfaction.html).",
        n=r_sat["n"], a=fmt.interval(r_sat["estimate"], r_sat["ci_low"], r_sat["ci_high"], digits=r_digits),
        b=fmt.interval(r_idx["estimate"], r_idx["ci_low"], r_idx["ci_high"], digits=r_digits)) if r_sat["n"] >= 4 else \
        report.md("With {n} districts a rank correlation says nothing; the comparison is left at the table.",
                  n=r_sat["n"])
else:
    shown = report.md("")
shown

# %% [markdown]
# ## Claims tested
#
# This report fits no model of a claim, so it gives no verdict. It puts claim 7's advice into
# practice — ranks only with their intervals — and shows how much of the league table survives.
# The comparison with the assessment, where the data hold it, describes districts; claim 6 is
# tested on communities, with its design stated, in [Satisfaction](03_satisfaction.html).

# %%
# Synthetic data only: the generator's district effects are known.
planted = ix.planted_agreement(used, truth)
shown = []
if planted is not None and not planted.empty:
    shown.append(report.md(
        "## Validation against the planted truth\n\nThe synthetic city's generator gives each district its own shift "
        "in several outcomes. An indicator that measures the district's own performance should order the districts "
        "roughly as its shift does; where it does not, composition (older or more migrant communities, distance to "
        "service points) and sampling noise dominate. This city is one draw of the generator, and with {k} "
        "districts each correlation is uncertain.", k=k))
    shown.append(report.table(pd.DataFrame({
        "Measure": planted["label"], "Planted district effect": planted["effect_text"],
        "Spearman correlation (95% interval)": [fmt.interval(e, lo, hi, digits=2) for e, lo, hi in
                                          zip(planted["estimate"], planted["ci_low"], planted["ci_high"])],
        "Districts": [fmt.count(v) for v in planted["districts"]]}),
        caption=f"How each indicator orders the districts against the district effect planted in the synthetic city, "
                f"{year}.", data=planted))
    best, worst = planted.loc[planted["estimate"].idxmax()], planted.loc[planted["estimate"].idxmin()]
    above = planted[planted["ci_low"] > 0]
    shown.append(report.md("Agreement ranges from a Spearman correlation of **{w}** ({wn}) to **{b}** ({bn}); {c} of "
                           "the {n} correlations have a 95% interval wholly above zero{which}. Even where an "
                           "indicator follows its planted shift, the index's ranks stay uncertain, because each "
                           "indicator adds its own noise and reasonable methods weigh them differently.",
                           w=fmt.number(worst["estimate"], 2), wn="“" + worst["label"] + "”",
                           b=fmt.number(best["estimate"], 2), bn="“" + best["label"] + "”", c=len(above),
                           n=len(planted), which="" if len(above) in (0, len(planted)) else
                           " (for the {o}, composition and sampling noise weigh as much as the shift)".format(
                               o="other one" if len(planted) - len(above) == 1 else "others")))
display(*shown)

# %% [markdown]
# ## Caveats
#
# - The index reflects the indicators chosen, their direction and their weights; the sensitivity
#   analysis above shows how far leaving out a single indicator moves the districts' ranks. Another
#   reasonable choice of indicators could order the districts differently.
# - Min-max normalisation makes scores relative to the year's highest and lowest district: a score
#   of 0 means "the lowest district", not "no work done", and scores are not comparable across
#   years or data folders.
# - The indicator noise treats administrative rates as binomial and survey estimates as normal with
#   their design-based standard errors, and draws indicators independently; correlated errors
#   between indicators from the same survey could make the intervals wider or narrower. A survey
#   share of 0 or 100% in a district has a design-based standard error of zero and is not varied,
#   which understates that district's noise.
# - Differences between districts partly reflect who lives there (age, migration, rural distance
#   to service points), not only how well the work is done; the index describes, it does not
#   explain.

# %% [markdown]
# ## Measures

# %%
report.table(measures.glossary(["index_score", *[f"pillar_{p}" for p in spec.pillars
                                                 if f"pillar_{p}" in measures.MEASURES], *spec.indicators]
                               + (["assessment"] if has_assessment else [])),
             caption="The measures of this report: definition, source and scale.")

# %% [markdown]
# ## Methods and references
#
# Composite index: normalisation, weighting and aggregation as in OECD/JRC (2008); uncertainty and
# sensitivity analysis by Monte Carlo over the method and the indicators (Saisana, Saltelli &
# Tarantola 2005); rank intervals instead of league tables (Goldstein & Spiegelhalter 1996).
# Administrative rates: Wilson (1927) intervals. Survey estimates: design-based means with
# Taylor-linearised variances (Binder 1983; Lumley 2010). Rank correlation: Spearman (1904), with
# the Fisher-z interval of Fieller, Hartley & Pearson (1957).

# %%
report.md(references.references(["oecd2008", "saisana2005", "goldstein1996", "wilson1927", "binder1983", "lumley2010",
                                 "spearman1904", "fieller1957"]))

# %% [markdown]
# ## Headline findings

# %%
top_name = names[top["district_id"]]
findings.record("index_top_score", top["index"], ci=(top["index_low"], top["index_high"]),
                unit="index points (0–100, min–max)", note=f"{top['district_id']}, the highest score under the "
                f"default method in {year}; interval from indicator noise",
                label=f"Highest index score ({top_name}), {year}")
findings.record("index_top_rank_interval_high", top["rank_high"], unit="rank",
                note="upper end of the 95% rank interval of the highest-scoring district (noise and method)",
                label=f"Lowest plausible rank of the highest-scoring district, of {k}")
findings.record("index_separable_pairs_share", 100 * len(apart) / len(pairs), unit="% of district pairs",
                note="rank intervals (noise and method) do not overlap",
                label="District pairs that can be told apart (indicator noise and method)")
findings.record("index_separable_pairs_share_method_only", 100 * len(apart_m) / len(pairs),
                unit="% of district pairs", note="rank intervals from method choices alone do not overlap",
                label="District pairs that can be told apart (method choices alone)")
findings.record("index_rank_interval_median_width", width, unit="ranks",
                note="median over districts of the highest minus the lowest plausible rank (noise and method)",
                label="Median width of the districts' 95% rank intervals")
findings.record("index_sensitivity_top_mean_rank_shift", s0["mean_abs_rank_shift"], unit="ranks",
                note=f"most influential single choice: {s0['choice_text']}",
                label="Mean rank shift under the most influential single choice")
if has_assessment and r_sat["n"] >= 4:
    findings.record("assessment_vs_satisfaction_pillar_spearman", r_sat["estimate"],
                    ci=(r_sat["ci_low"], r_sat["ci_high"]), unit="Spearman correlation",
                    note=f"{r_sat['n']} districts, assessment {assess_year}, index {year}",
                    label="Assessment and the satisfaction pillar: rank correlation across districts")

# %%
findings.display()
