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
# **Question.** Summed over the three outcome families — *coverage* (does the work reach every
# unit and person?), *participation* (do people take part?) and *satisfaction* (how do residents
# judge it?) — how do the districts compare, and which differences are large enough to survive the
# noise in the indicators and the arbitrary choices that any composite index makes?
#
# Claim 7 from the field warns that small units produce noisy rates, so league tables need
# intervals before anyone is named best or worst. This notebook therefore reports, for every
# district, an interval of plausible ranks, and says which districts can and cannot be told apart.

# %% tags=["parameters"]
data_dir = None  # the data folder (None: the shipped default data in data/)
year = 2024  # the year the index describes
spec_file = None  # the index specification (None: the default index)
n_sim = 1000  # Monte Carlo replicates for each uncertainty analysis
seed = 20261122  # seed of the Monte Carlo draws
level = 0.95  # level of the score and rank intervals

# %%
# %load_ext autoreload
# %autoreload 2
import matplotlib.pyplot as plt

from helpers.data import concepts, load
from helpers.data.truth import ground_truth, is_synthetic
from helpers.publish import findings, report
from helpers.publish import notebook as nb
from helpers.stats import composite
from helpers.studies import index as ix
from helpers.viz import maps

meta = nb.setup(data_dir)
nb.data_statement(meta)

# %% [markdown]
# ## The index
#
# The index is declared in a YAML file (by default `helpers/stats/index_default.yaml`) and built as the
# OECD/JRC *Handbook on Constructing Composite Indicators* describes: each indicator is normalised
# across districts, indicators are averaged into pillar scores with their weights, and the pillars
# into the index with theirs. The default normalises by min–max (0 = the lowest district,
# 100 = the highest), aggregates arithmetically and weights the three pillars equally.
#
# **Top-down assessment scores (考核) are kept out of the satisfaction pillar.** They are the
# administration's judgement of communities, not residents' own; whether the two agree is itself
# a research question (claim 6), and putting both in one pillar would hide the answer. The
# satisfaction pillar uses the resident survey only; the assessment is set beside the index at the
# end.

# %%
spec = composite.CompositeIndex.from_yaml(spec_file or composite.DEFAULT_SPEC)
report.table(ix.spec_table(spec))

# %% [markdown]
# ## Indicators by district
#
# Administrative rates (organisational coverage, mobile members organised, member registration,
# resident units with an agreement) are summed numerators over summed denominators with Wilson
# intervals. Survey indicators (walking time, participation, awareness, satisfaction, trust) are
# design-based estimates of the year's stratified two-stage sample (strata: districts; primary
# sampling units: communities; finite-population correction), with intervals on the design degrees
# of freedom. The eight-haves score is the mean over the service points open in the year.

# %%
tables = load.load_all(data_dir)
synthetic = is_synthetic(data_dir)
truth = ground_truth(data_dir)
districts = tables["districts"]
indicators = ix.district_indicators(tables, year, level=level)
survey_labels = [ix.INDICATORS[k][0] for k in ix.INDICATORS if ix.INDICATORS[k][2] == "survey"]
report.md("**Coverage** (percentages; eight-haves: items met out of 8; {l:.0%} intervals)", l=level)

# %%
shown = ix.indicator_table(indicators, districts, indicators=spec.pillars["coverage"])
report.table(shown, n="respondents", columns=[c for c in shown.columns if c in survey_labels])

# %%
shown = ix.indicator_table(indicators, districts, indicators=spec.pillars["participation"])
report.md("**Participation** (percentages, {l:.0%} intervals)", l=level)

# %%
report.table(shown, n="respondents", columns=[c for c in shown.columns if c in survey_labels])

# %%
shown = ix.indicator_table(indicators, districts, indicators=spec.pillars["satisfaction"])
report.md("**Satisfaction** (thermometer 0–100, awareness %, trust 1–5; {l:.0%} intervals)", l=level)

# %%
report.table(shown, n="respondents", columns=[c for c in shown.columns if c in survey_labels])

# %%
survey_n = indicators.loc[indicators["source"] == "survey"].groupby("district_id")["n"].min()
sat_rows = indicators.query("indicator == 'sat_score_mean'")
width = sat_rows["ci_high"] - sat_rows["ci_low"]
spread = sat_rows["estimate"]
report.md("Each district's survey indicators rest on **{lo:,}** to **{hi:,}** respondents in {y}. The intervals are "
          "wide next to the differences between districts: the satisfaction thermometer spans {smin:.1f} to "
          "{smax:.1f} points across districts, while a single district's {l:.0%} interval is {wmin:.1f} to {wmax:.1f} "
          "points wide.", l=level, lo=int(survey_n.min()), hi=int(survey_n.max()), y=year, smin=spread.min(),
          smax=spread.max(), wmin=width.min(), wmax=width.max())

# %% [markdown]
# ## Scores and ranks
#
# Three kinds of uncertainty are reported, each from its own Monte Carlo run (parameters `n_sim`
# and `seed`):
#
# - *indicator noise*: each replicate redraws every indicator of every district from a normal
#   distribution around its estimate with its standard error (binomial for administrative rates,
#   design-based for survey estimates) and recomputes the index with the default method — the
#   interval of the published score;
# - *method choices* (`helpers.stats.composite`): each replicate picks a normalisation (min–max, z-score or
#   rank) and an aggregation (arithmetic or geometric) at random and multiplies every weight by a
#   random factor near 1 (uniform within the spec's `weight_noise`), holding the indicators fixed;
# - *both together*: the fullest statement of how well the data place a district.
#
# Score intervals are given only for indicator noise, because the alternative normalisations put
# scores on different scales; ranks are comparable across all of them.

# %%
base = spec.compute(ix.indicator_matrix(indicators))
method_mc = base.uncertainty(n_sim=n_sim, seed=seed, level=level)
noise_mc = ix.full_uncertainty(spec, indicators, n_sim=n_sim, seed=seed, level=level, vary_method=False)
full_mc = ix.full_uncertainty(spec, indicators, n_sim=n_sim, seed=seed, level=level)
report.md("Each of the three analyses uses **{n:,}** Monte Carlo replicates (seed {s}); intervals are {l:.0%} intervals; "
          "weights vary by up to ±{w:.0%}.", n=n_sim, s=seed, l=level, w=spec.weight_noise)

# %%
report.table(ix.score_table(base.scores, noise_mc.summary, method_mc.summary, full_mc.summary, districts, level=level))

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
idx_map = districts.merge(base.scores, on="district_id", how="left")
maps.choropleth(idx_map, "index", ax=axes[0], k=4, labels="en", legend_title="Index score", fmt="{:.0f}",
                title=f"Composite index by district, {year}", synthetic=synthetic)
ix.plot_rank_intervals(method_mc.summary, full_mc.summary, districts, level=level, ax=axes[1],
                       title="Plausible ranks (1 = best)");

# %%
maps.small_multiples(idx_map, columns=list(spec.pillars), panel_titles=[p.capitalize() for p in spec.pillars],
                     k=4, legend_title="Pillar score (0–100)", fmt="{:.0f}",
                     suptitle=f"The three pillars by district, {year}", synthetic=synthetic);

# %% [markdown]
# ## Which districts can be told apart?
#
# Two districts can be told apart only when their rank intervals (noise and method together) do
# not overlap. **Districts whose rank intervals overlap cannot be told apart**: the data do not
# say which of them does better, and naming one as the better would be reading noise.

# %%
sep = ix.separation(full_mc.summary, districts)
report.table(sep)

# %%
pairs = ix.separable_pairs(full_mc.summary)
top, bottom = full_mc.summary.iloc[0], full_mc.summary.iloc[-1]
name = districts.set_index("district_id")["name_en"]
pairs_m = ix.separable_pairs(method_mc.summary)
pairs_n = ix.separable_pairs(noise_mc.summary)
report.md("Of the **{n}** pairs of districts, only **{k}** ({s:.0%}) can be told apart once indicator noise and method "
          "choices are both allowed for; with the method choices alone, {km} pairs ({sm:.0%}) could, and with "
          "indicator noise alone {kn} ({sn:.0%}). The top-ranked "
          "district, {tn}, has a rank interval of {tl:.0f}–{th:.0f}; the lowest-ranked, {bn}, of {bl:.0f}–{bh:.0f}. "
          "{med} of the {d} districts can be told apart from no other district at all. The index is a summary for "
          "discussion, not a league table.",
          n=len(pairs), k=int((~pairs["overlap"]).sum()), s=float((~pairs["overlap"]).mean()),
          km=int((~pairs_m["overlap"]).sum()), sm=float((~pairs_m["overlap"]).mean()),
          kn=int((~pairs_n["overlap"]).sum()), sn=float((~pairs_n["overlap"]).mean()), tn=name[top["district_id"]],
          tl=top["rank_low"], th=top["rank_high"], bn=name[bottom["district_id"]], bl=bottom["rank_low"],
          bh=bottom["rank_high"], med=int((sep["told apart from"] == 0).sum()), d=len(sep))

# %% [markdown]
# ## Sensitivity: which choices move the ranks most?
#
# One choice at a time, against the default: another normalisation or aggregation, one weight
# perturbed (the same range as above, over repeated draws), or one indicator dropped. The table lists
# the choices that move ranks most, by the mean absolute change in rank over districts.

# %%
sens = ix.sensitivity_table(method_mc.sensitivity, top=10)
report.table(sens)

# %%
s0 = method_mc.sensitivity.iloc[0]
by_factor = method_mc.sensitivity.groupby("factor")["mean_abs_rank_shift"].max().sort_values(ascending=False)
report.md("The most influential single choice is to **{c}**, which moves a district by {m:.2f} ranks on average and "
          "by up to {x:.0f}. By kind of choice, the largest mean shifts are: {kinds}.{moral}",
          c=sens.iloc[0]["choice"], m=s0["mean_abs_rank_shift"], x=s0["max_abs_rank_shift"],
          kinds="; ".join(f"{k} {v:.2f}" for k, v in by_factor.items()),
          moral=(" Which indicators enter the index matters more than how they are scaled or weighted."
                 if by_factor.index[0] == "drop indicator" else ""))

# %% [markdown]
# ## The top-down assessment beside the index
#
# For comparison only, the districts' mean assessment score (the mean over their communities'
# scores in the same year) is ranked against the satisfaction pillar and the index with a Spearman
# correlation (Fisher-z interval).

# %%
assess = ix.assessment_by_district(tables["assessment"], concepts.community_lookup(tables), year)
r_sat = ix.rank_agreement(assess, "assessment_mean", base.scores, "satisfaction", level=level)
r_idx = ix.rank_agreement(assess, "assessment_mean", base.scores, "index", level=level)
report.md("Across the {n} districts, the assessment ranking agrees with the satisfaction pillar with a Spearman "
          "correlation of **{a:.2f}** (95% CI {al:.2f} to {ah:.2f}) and with the whole index with **{b:.2f}** "
          "({bl:.2f} to {bh:.2f}). With {n} districts the intervals are wide; claim 6 is tested on communities "
          "in the satisfaction notebook.", n=r_sat["n"], a=r_sat["estimate"], al=r_sat["ci_low"], ah=r_sat["ci_high"],
          b=r_idx["estimate"], bl=r_idx["ci_low"], bh=r_idx["ci_high"])

# %% [markdown]
# ## Validation against the planted district effects
#
# The synthetic city's generator gives each district its own shift in several outcomes (the
# `district_effects` of `ground_truth.json`). If an indicator measures the district's own
# performance, it should rank the districts roughly in the order of its planted effect; where it
# does not, composition (older or more migrant communities, distance to service points) and
# sampling noise dominate.

# %%
planted = ix.planted_agreement(indicators, truth, level=level)
report.table(planted) if planted is not None else report.md("*Real data: there are no planted district effects.*")

# %%
if planted is not None:
    best = planted.sort_values("spearman", ascending=False).iloc[0]
    worst = planted.sort_values("spearman").iloc[0]
    shown = report.md("Agreement with the planted district effects ranges from a Spearman correlation of **{w:.2f}** "
                      "({wn}) to **{b:.2f}** ({bn}). The indicators do carry the districts' planted differences; the "
                      "composite's ranks stay uncertain because its ten indicators each add their own noise and "
                      "because reasonable methods weigh them differently.", w=worst["spearman"], wn=worst["indicator"],
                      b=best["spearman"], bn=best["indicator"])
else:
    shown = report.md("")
shown

# %% [markdown]
# ## Caveats
#
# - When the data are synthetic (see the statement at the top), the index describes a generated
#   city: it shows how the method works, not how any real district performs.
# - The index reflects the indicators chosen, their direction and their weights; the sensitivity
#   analysis shows that dropping a single indicator can move districts several ranks. Another
#   reasonable choice of indicators could rank the districts differently.
# - Min–max normalisation makes scores relative to this year's best and worst district: a score of 0
#   means "the lowest district", not "no work done", and scores are not comparable across years.
# - The indicator noise treats administrative rates as binomial and survey estimates as normal with
#   their design-based standard errors, and draws indicators independently; correlated errors
#   between indicators from the same survey could make the intervals wider or narrower.
# - District differences in the indicators partly reflect who lives there (age, migration, rural
#   distance to service points), not only how well the work is done.

# %% [markdown]
# ## Headline findings

# %%
top_noise = noise_mc.summary.set_index("district_id").loc[top["district_id"]]
findings.record("index_top_score", top["score"], ci=(top_noise["score_low"], top_noise["score_high"]),
                unit="index points (0-100, min-max)",
                note=f"{top['district_id']}, ranked first of {len(sep)} in {year}; interval from indicator noise")
findings.record("index_top_rank_interval_high", top["rank_high"], unit="rank",
                note=f"upper end of the {level:.0%} rank interval of the top-ranked district (noise and method)")
findings.record("index_separable_pairs_share", float((~pairs["overlap"]).mean()), unit="share of district pairs",
                note="rank intervals (noise and method) do not overlap")
findings.record("index_separable_pairs_share_method_only", float((~pairs_m["overlap"]).mean()),
                unit="share of district pairs", note="rank intervals from method choices alone do not overlap")
findings.record("index_rank_interval_median_width", float((full_mc.summary["rank_high"] - full_mc.summary["rank_low"]).median()),
                unit="ranks", note="median width of the rank intervals (noise and method)")
findings.record("index_sensitivity_top_mean_rank_shift", s0["mean_abs_rank_shift"], unit="ranks",
                note=f"most influential single choice: {sens.iloc[0]['choice']}")
findings.record("assessment_vs_satisfaction_pillar_spearman", r_sat["estimate"], ci=(r_sat["ci_low"], r_sat["ci_high"]),
                unit="Spearman correlation", note=f"{r_sat['n']} districts, {year}");

# %%
findings.display()
