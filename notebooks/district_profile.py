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
# **Question.** How does this district compare with the city and with the districts of its own
# zone on the three outcome families — coverage, participation and satisfaction — once the
# uncertainty of each figure is taken into account? Where does it rank, how sure is that rank, and
# which of its sub-districts lag behind?
#
# The report is built once per district; in JupyterLab a district picker at the end redraws the
# profile for any district.

# %% tags=["parameters"]
data_dir = None  # the data folder (None: the shipped default data in data/)
district_id = "D01"  # the district profiled
year = None  # year of the profile (None: the last year in the data)
seed = 20240501  # seed of the rank simulations

# %%
# %load_ext autoreload
# %autoreload 2
import matplotlib.pyplot as plt

from helpers.publish import findings, report
from helpers.publish import notebook as nb
from helpers.studies import profile

meta = nb.setup(data_dir)
nb.data_statement(meta)

# %%
data = profile.build(data_dir, year, seed=seed)
here = profile.district_row(data, district_id)
report.md("## {name} ({zh}), {y}\n\n**{name}** is one of **{k}** districts and counties of the city, in the "
          "**{zone}** zone, with **{s}** sub-districts or towns.", name=profile.display_name(here["name_en"]),
          zh=here["name_zh"], y=data.year, k=len(data.districts), zone=profile.ZONE_LABELS[here["zone"]],
          s=int((data.subdistricts["district_id"] == district_id).sum()))

# %% [markdown]
# ## Data and method
#
# Four headline measures of the profile year:
#
# - **Organisational coverage**: active eligible organisations (non-public enterprises, social
#   organisations) with a party organisation of their own or a joint one, over all active ones.
# - **Member registration**: in-service party members registered in their residence community,
#   over those living in the district.
# - **Residents who took part in a community activity** in the last 12 months, and residents'
#   **overall satisfaction** (0-100), from that year's resident survey.
#
# Administrative rates come with Wilson 95% intervals. Survey figures are design-based (strata =
# districts, clusters = the sampled communities of each district, design weights), with t
# intervals on the design's degrees of freedom. Ranks (1 = highest) come with a 95% interval of
# plausible ranks, simulated from each district's sampling distribution: a district whose rank
# interval spans half the table cannot honestly be called second.

# %% [markdown]
# ## Headline measures

# %%
profile.standout(data, district_id)

# %%
report.table(profile.headline_table(data, district_id))

# %%
fig, axs = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [1, 1.25]})
profile.locator_map(data, district_id, ax=axs[0])
profile.subdistrict_map(data, district_id, "registration", ax=axs[1]);

# %% [markdown]
# The right-hand map shows member registration in each of the district's sub-districts, coloured
# brown below the city rate and teal above it.

# %% [markdown]
# ## Against its peers
#
# The districts of the same zone face similar conditions (density, migrant shares, distances), so
# they are the fairer comparison. Point estimates only; the intervals are in the table above. The
# column n is the smallest number of survey respondents behind the row's two survey figures.

# %%
report.table(profile.peer_table(data, district_id))

# %% [markdown]
# ## Validation against the planted truth
#
# The synthetic city knows each community's true registration probability, so the registration
# interval above can be checked against the rate the district should have had.

# %%
profile.truth_check(data, district_id)

# %% [markdown]
# ## Caveats
#
# - Survey figures rest on one year's sample of a few communities in the district; their
#   intervals are wide, and differences between peers within them are not evidence of a gap.
# - Administrative rates have narrow intervals because they count every member and organisation;
#   the intervals cover random variation, not errors of recording.
# - A rank says nothing about the size of a gap: the districts may be close together.
# - When the data are synthetic (see the statement at the top), the profile describes a generated
#   district: it shows how the analysis works, not how any real district performs.

# %% [markdown] tags=["remove-cell"]
# ## Explore another district
#
# In JupyterLab, the picker below redraws the headline table, the sentence and the maps for any
# district. (This section is left out of the published reports, which are built once per district.)

# %% tags=["remove-cell"]
profile.picker(data, district_id)

# %% [markdown]
# ## Findings

# %%
for row in profile.findings_rows(data, district_id):
    findings.record(**row)
findings.display()
