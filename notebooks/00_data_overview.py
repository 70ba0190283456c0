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
# # Data overview: the city, its tables and the resident survey
#
# **Question.** What data does this collection rest on, how large is each table, how are the
# districts and sub-districts laid out, and how many residents did the survey reach in each
# district and year?
#
# Every other notebook loads the same tables through the project's data contract
# (`helpers.data.schema`), so a table that breaks a rule never reaches an analysis.

# %% tags=["parameters"]
data_dir = None  # the data folder (None: the shipped default data in data/)

# %%
# %load_ext autoreload
# %autoreload 2
from helpers.data import load
from helpers.data.truth import is_synthetic
from helpers.publish import findings, report
from helpers.publish import notebook as nb
from helpers.stats import rates
from helpers.studies import overview
from helpers.viz import maps

meta = nb.setup(data_dir)
nb.data_statement(meta)

# %% [markdown]
# ## Tables
#
# Each table is read and validated against the contract (types, ranges, keys, references,
# nesting of boundaries). The codebook in `data/README.md` describes every column.

# %%
tables = load.load_all(data_dir)
sizes = overview.table_sizes(tables)
report.table(sizes)

# %%
n_comm = len(tables["communities"])
n_sub = len(tables["subdistricts"])
n_dist = len(tables["districts"])
first, last = int(tables["members"]["year"].min()), int(tables["members"]["year"].max())
report.md("The city has **{d}** districts, **{s}** sub-districts and towns and **{c:,}** communities "
          "and villages; the yearly tables cover **{a}–{b}**.", d=n_dist, s=n_sub, c=n_comm, a=first, b=last)

# %% [markdown]
# ## The city's districts and sub-districts
#
# Districts are coloured by zone (urban core, inner suburb, outer county); sub-district boundaries
# are drawn in thin lines, district boundaries in thick ones.

# %%
districts, zones = overview.label_zones(tables["districts"])
ax = maps.category_map(districts, "zone", zones, overlay=tables["districts"],
                       labels="en", legend_title="Zone", title="Districts by zone",
                       synthetic=is_synthetic(data_dir))
tables["subdistricts"].boundary.plot(ax=ax, color="white", linewidth=0.4, zorder=2);

# %% [markdown]
# ## The resident survey
#
# Each year the survey draws a stratified two-stage sample: strata are districts, primary sampling
# units (PSUs) are communities drawn with probability proportional to size, and about 20 residents
# are sampled in each. The table counts sampled residents, respondents and PSUs.

# %%
sample = overview.survey_sample_sizes(tables["survey"], tables["districts"])
wide = sample.pivot(index=["district_id", "name_en", "name_zh"], columns="year", values="respondents")
report.table(wide.reset_index().rename_axis(columns=None))

# %%
resp = int(sample["respondents"].sum())
rate = resp / int(sample["sampled"].sum())
report.md("Over all years the survey has **{r:,}** respondents out of **{s:,}** sampled residents, "
          "a response rate of **{p:.1%}**; each district-year has between **{lo}** and **{hi}** respondents.",
          r=resp, s=int(sample["sampled"].sum()), p=rate, lo=int(sample["respondents"].min()),
          hi=int(sample["respondents"].max()))

# %%
sampled = int(sample["sampled"].sum())
rr, lo, hi, _ = rates.proportion_ci(resp, sampled)
findings.record("survey_respondents", resp, unit="respondents", note="all years, all districts")
findings.record("survey_response_rate", float(rr), ci=(float(lo), float(hi)),
                unit="share of sampled residents", note="all years; Wilson interval")
findings.record("communities", n_comm, unit="communities and villages")

# %% [markdown]
# ## Caveats
#
# - When the data are synthetic (see the statement at the top), the tables describe a generated city
#   with planted effects: they show how the analysis works, not how any real district performs.
# - Survey counts here are unweighted; every estimate in the other notebooks uses the design weights.

# %%
findings.display()
