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
# **Question.** What data does this collection rest on? Which tables does the data folder hold,
# how large are they and which years do they cover; how are the districts (区/县) and
# sub-districts (街道/镇/乡) laid out; and, where there is a resident survey, how many residents did
# it reach in each district and year? No claim from the field is tested here: this report
# describes what the other reports analyse.

# %% tags=["parameters"]
data_dir = None  # the data folder (None: the shipped default data in data/)

# %%
# %load_ext autoreload
# %autoreload 2
import pandas as pd
from IPython.display import display

from helpers.data import load
from helpers.data.truth import is_synthetic
from helpers.publish import findings, fmt, references, report
from helpers.publish import notebook as nb
from helpers.stats import rates
from helpers.studies import overview

meta = nb.setup(data_dir)
nb.data_statement(meta, data_dir)

# %% [markdown]
# ## Data
#
# Every table of the data folder is read and checked against the collection's data contract
# (column types and ranges, keys, references between tables, the nesting of communities in
# sub-districts and of sub-districts in districts) before any report uses it. The boundaries and
# the community attributes are required; the other tables are optional, and a report whose
# section needs an absent table says so and skips that section.

# %%
tables = load.load_all(data_dir)
synthetic = is_synthetic(data_dir)
period = load.study_period(tables)
sizes = overview.table_sizes(tables)
shown = pd.DataFrame({
    "File": sizes["file"], "Contents": sizes["description"],
    "Status": ["required" if r else ("optional" if p else "optional, absent")
               for r, p in zip(sizes["required"], sizes["present"])],
    "Rows": [fmt.count(v) if p else fmt.MISSING for v, p in zip(sizes["rows"], sizes["present"])],
    "Columns": [fmt.count(v) if p else fmt.MISSING for v, p in zip(sizes["columns"], sizes["present"])],
    "Years": [f"{int(a)}–{int(b)}" if pd.notna(a) else fmt.MISSING
              for a, b in zip(sizes["first_year"], sizes["last_year"])]})
report.table(shown, caption="The tables of the data folder: contents, whether the contract requires them, rows, "
                            "columns (without the geometry) and the years of the yearly tables.",
             notes="An en dash: an absent table, or a table that is not by year.", data=sizes)

# %%
absent = sizes.loc[~sizes["present"], "file"].tolist()
n_dist, n_sub, n_comm = (len(tables[t]) for t in ("districts", "subdistricts", "community_boundaries"))
report.md("The city has **{d}** districts and counties, **{s}** sub-districts, towns and townships and **{c}** "
          "communities and villages. The study period is **{p}** ({src}). {a}",
          d=fmt.count(n_dist), s=fmt.count(n_sub), c=fmt.count(n_comm), p=f"{period.first}–{period.last}",
          src="declared by the data folder" if period.declared else "the span of the years in its yearly tables",
          a=("Every table of the contract is present." if not absent else
             "Absent: " + ", ".join(absent) + "; the reports and sections that need "
             + ("it are" if len(absent) == 1 else "them are") + " skipped."))

# %% [markdown]
# ## Districts and sub-districts

# %%
summary = overview.district_summary(tables["districts"], tables["subdistricts"], tables["community_boundaries"],
                                    tables["communities"], total=True)
zones = [overview.ZONE_LABELS.get(z, str(z)).lower() for z in overview.ZONE_LABELS
         if z in set(tables["districts"]["zone"])]
zones += sorted({str(z).lower() for z in tables["districts"]["zone"].dropna()} - set(overview.ZONE_LABELS))
report.md("The districts fall into {k} ({z}); each is divided into sub-districts (街道) in the city and into towns "
          "(镇) or townships (乡) in the countryside, which in turn hold the communities (社区) and villages (村).",
          k=("one zone" if len(zones) == 1 else f"{fmt.count(len(zones))} zones"), z=", ".join(zones))

# %%
names = summary["name_en"].fillna("City").tolist()
report.table(pd.DataFrame({
    "District": names, "Chinese name": summary["name_zh"].fillna(fmt.MISSING),
    "Zone": summary["zone"].map(overview.ZONE_LABELS).fillna(fmt.MISSING),
    "Sub-districts (街道)": [fmt.count(v) for v in summary["streets"]],
    "Towns (镇)": [fmt.count(v) for v in summary["towns"]],
    "Townships (乡)": [fmt.count(v) for v in summary["townships"]],
    "Communities and villages": [fmt.count(v) for v in summary["communities"]],
    "Residents": [fmt.count(v) for v in summary["population"]],
    "Area, km²": [fmt.number(v, 0) for v in summary["area_km2"]]}),
    caption="Districts: Chinese and pinyin names, zone, sub-districts by kind, communities and villages, "
            "residents and land area; the last row is the city.", data=summary)

# %% [markdown]
# The maps show the city on the left and, on the right, a second panel on the urban core (the
# dashed box), where the units are too small to read at the city's scale. Names are given in
# Chinese and pinyin.

# %%
window = overview.core_window(tables["districts"], tables["subdistricts"])
zoned, zone_colours = overview.label_zones(tables["districts"])
fig = overview.city_and_core(zoned, "zone", zone_colours, overlay=tables["districts"], window=window,
                             inner_lines=tables["subdistricts"],
                             labels=tables["districts"].assign(name_en=overview.bilingual(tables["districts"])),
                             legend_title="Zone", synthetic=synthetic)
report.figure(fig, caption="Districts by zone, with sub-district boundaries in white"
                           + ("; right, the urban core enlarged." if window else "."),
              alt=f"A map of the city's {fmt.count(n_dist)} districts coloured by zone ({', '.join(zones)}) and "
                  "labelled with their Chinese and pinyin names"
                  + (", beside an enlarged panel of the urban core." if window else "."),
              data=summary.dropna(subset=["district_id"])[["district_id", "name_zh", "name_en", "zone"]])

# %%
kinds, kind_colours = overview.label_kinds(tables["subdistricts"])
sub_labels = tables["subdistricts"].assign(name_en=overview.bilingual(tables["subdistricts"]))
fig = overview.city_and_core(kinds, "kind", kind_colours, overlay=tables["districts"], window=window,
                             labels=sub_labels, core_labels=sub_labels, legend_title="Kind", synthetic=synthetic)
gaz = overview.gazetteer(tables["subdistricts"], tables["community_boundaries"])
left_out, tried = overview.names_left_out(fig)
report.figure(fig, caption="Sub-districts, towns and townships, with district boundaries in black"
                           + ("; right, the urban core enlarged, where its units are named." if window else ".")
                           + (f" Names that fit neither inside their unit nor beside it with a leader line are left "
                              f"out ({fmt.count(left_out)} of {fmt.count(tried)}); the next table lists every unit."
                              if left_out else ""),
              alt=f"A map of the city's {fmt.count(n_sub)} sub-districts, towns and townships coloured by kind and "
                  "labelled with their Chinese and pinyin names" + (", beside an enlarged panel of the urban core."
                                                                     if window else "."),
              data=gaz)

# %%
by_district = [(d, ", ".join(overview.bilingual(g, sep=" "))) for d, g in gaz.groupby("district_id", sort=True)]
dist_names = tables["districts"].set_index("district_id")["name_en"]
report.table(pd.DataFrame({"District": [dist_names[d] for d, _ in by_district],
                           "Sub-districts, towns and townships": [t for _, t in by_district]}),
             caption="The sub-districts, towns and townships of each district, in Chinese and pinyin; the file "
                     "under the table lists each with its kind and number of communities.", data=gaz)

# %% [markdown]
# ## The resident survey

# %%
if "survey" in tables:
    display(report.md("Each year the survey draws a fresh stratified two-stage sample: the strata are the "
                      "districts, the primary sampling units are communities drawn with probability proportional "
                      "to their population, and residents are drawn at random within each. The counts here are "
                      "unweighted; every estimate in the other reports uses the design weights."))
    sample = overview.survey_sample_sizes(tables["survey"], tables["districts"])
    cells = sample.assign(cell=[f"{fmt.count(r)} ({fmt.count(k)})" for r, k in
                                zip(sample["respondents"], sample["psus"])])
    wide = cells.pivot(index="district_id", columns="year", values="cell")
    wide.columns = [str(c) for c in wide.columns]
    wide = wide.reset_index()
    wide.insert(0, "District", wide.pop("district_id").map(dist_names))
    shown = report.table(wide.fillna(fmt.MISSING),
                         caption="Respondents to the resident survey by district and year, with the number of "
                                 "communities sampled in brackets.", data=sample)
else:
    shown = report.md("*The data have no resident survey: this section is skipped.*")
shown

# %%
if "survey" in tables:
    resp, sampled = int(sample["respondents"].sum()), int(sample["sampled"].sum())
    rr, lo, hi, _ = rates.proportion_ci(resp, sampled)
    years = sorted(sample["year"].unique())
    shown = report.md("The survey has **{r}** respondents out of **{s}** sampled residents over {ny} "
                      "({y0}–{y1}), a response rate of **{p}** (95% CI {l} to {h}). A district-year has between "
                      "{lo_n} and {hi_n} respondents in {k} communities, about {m} sampled residents per "
                      "community.", r=fmt.count(resp), s=fmt.count(sampled),
                      ny=f"{len(years)} survey years" if len(years) > 1 else "one survey year",
                      y0=int(years[0]), y1=int(years[-1]), p=fmt.percent(rr), l=fmt.percent(lo), h=fmt.percent(hi),
                      lo_n=fmt.count(sample["respondents"].min()), hi_n=fmt.count(sample["respondents"].max()),
                      k=(fmt.count(sample["psus"].min()) if sample["psus"].min() == sample["psus"].max() else
                         f"{fmt.count(sample['psus'].min())} to {fmt.count(sample['psus'].max())}"),
                      m=fmt.count(sampled / sample["psus"].sum()))
else:
    shown = report.md("")
shown

# %% [markdown]
# ## Caveats
#
# - Areas are computed from the boundaries in the data's projected coordinate system; residents
#   are the community attributes' population counts.
# - Survey counts here are unweighted and include every district-year sampled; estimates in the
#   other reports use the design weights and suppress cells resting on fewer than ten respondents.

# %% [markdown]
# ## Methods and references

# %%
if "survey" in tables:
    shown = report.md("The response rate is respondents over sampled residents, with a Wilson (1927) interval.\n\n"
                      + references.references(["wilson1927"]))
else:
    shown = report.md("The report counts rows and places; it estimates nothing, so it cites no method.")
shown

# %% [markdown]
# ## Headline findings

# %%
findings.record("communities", n_comm, unit="communities and villages", label="Communities and villages")
if "survey" in tables:
    findings.record("survey_respondents", resp, unit="respondents", note=f"{years[0]}–{years[-1]}, all districts",
                    label="Survey respondents, all years")
    findings.record("survey_response_rate", 100 * rr, ci=(100 * lo, 100 * hi), unit="% of sampled residents",
                    note=f"{years[0]}–{years[-1]}; Wilson interval", label="Survey response rate, all years")

# %%
findings.display()
