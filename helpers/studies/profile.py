"""Glue for the district_profile notebook: one district against the city and its peers.

* :func:`build` - every district's headline measures of one year with 95 % intervals, the
  city values and the ranks with rank intervals (computed once, for all districts, so that a
  district picker can switch instantly):

  - coverage: eligible organisations with a party organisation over active ones;
  - registration: in-service members registered in their residence community;
  - participation: residents who took part in a community activity (survey);
  - satisfaction: residents' overall satisfaction, 0-100 (survey).

  Administrative rates have Wilson intervals (:func:`helpers.stats.rates.rates`); survey measures
  are design-based (:class:`helpers.stats.survey.SurveyDesign`, strata = districts, PSUs =
  communities, t intervals on the design degrees of freedom). Ranks: 1 = highest, with 95 %
  intervals from :func:`helpers.stats.compare.rank_intervals`.
* :func:`headline_table`, :func:`peer_table`, :func:`standout` - what the report shows.
* :func:`locator_map`, :func:`subdistrict_map` - the two maps.
* :func:`picker` - an ipywidgets district picker for JupyterLab (``None`` under the build).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["MEASURES", "ProfileData", "build", "headline_table", "peer_table", "standout", "locator_map",
           "subdistrict_map", "picker", "district_row", "display_name", "truth_check", "findings_rows",
           "ZONE_LABELS"]

#: measure -> (label, kind, scale, unit text, short name for sentences).
#: kind "rate" (administrative counts) or "survey".
MEASURES: dict[str, tuple[str, str, float, str, str]] = {
    "coverage": ("Organisational coverage", "rate", 100.0, "%", "organisational coverage"),
    "registration": ("Member registration", "rate", 100.0, "%", "member registration"),
    "participated": ("Residents who took part in an activity (survey)", "survey", 100.0, "%",
                     "participation of residents"),
    "sat_score": ("Overall satisfaction of residents, 0-100 (survey)", "survey", 1.0, "", "satisfaction of residents"),
}
ZONE_LABELS = {"core": "urban core", "inner_suburb": "inner suburb", "outer_county": "outer county"}
_RATE_PAIRS = {"coverage": ("covered", "active"), "registration": ("registered", "in_service_resident")}


@dataclass
class ProfileData:
    """Everything the profile shows, for every district of one year.

    ``measures``: one row per unit (district or ``"city"``) and measure: ``unit_id, measure,
    estimate, ci_low, ci_high, se, n`` (denominator: organisations, members or respondents;
    shares 0-1 for rates and ``participated``, points for ``sat_score``).
    ``ranks``: ``district_id, measure, rank, rank_low, rank_high`` (1 = highest).
    ``subdistricts``: sub-district polygons with their registration and coverage rates.
    """

    districts: gpd.GeoDataFrame
    subdistricts: gpd.GeoDataFrame
    measures: pd.DataFrame
    ranks: pd.DataFrame
    year: int
    synthetic: bool
    truth_registration: pd.Series | None = None  # district_id -> planted expected registration rate


def build(data_dir=None, year: int | None = None, seed: int = 20240501, n_sim: int = 4000) -> ProfileData:
    """Compute every district's measures, the city values and the rank intervals for ``year``."""
    from helpers.stats import compare, rates
    from helpers.data import load
    from helpers.data.truth import is_synthetic
    from helpers.studies import spatial as ss
    from helpers.data.concepts import resident_survey_design

    year = load.study_period(data_dir).last if year is None else int(year)
    districts = load.load_districts(data_dir)
    com = ss.community_rates(load.load_community_boundaries(data_dir), load.load_members(data_dir),
                             load.load_organisations(data_dir), year)
    sub = ss.subdistrict_rates(com, load.load_subdistricts(data_dir))
    counts = pd.DataFrame(com.drop(columns="geometry"))
    r = rates.rates_by_level(counts, _RATE_PAIRS, levels=["district_id"], method="wilson")
    r = r.rename(columns={"denominator": "n"})
    r["se"] = np.sqrt(r["estimate"] * (1 - r["estimate"]) / r["n"])
    rows = [r[["unit_id", "measure", "estimate", "ci_low", "ci_high", "se", "n"]]]
    sv = load.load_survey(data_dir=data_dir)
    sv = sv[sv["year"] == year]
    d = resident_survey_design(sv)
    items = [m for m, v in MEASURES.items() if v[1] == "survey"]
    by = d.mean(items, by="district_id").rename(columns={"district_id": "unit_id", "variable": "measure"})
    city = d.mean(items).rename(columns={"variable": "measure"}).assign(unit_id="city")
    for f in (by, city):
        rows.append(f[["unit_id", "measure", "estimate", "ci_low", "ci_high", "se", "n"]])
    measures = pd.concat(rows, ignore_index=True)
    ranks = []
    for i, m in enumerate(MEASURES):
        dm = measures[(measures["measure"] == m) & (measures["unit_id"] != "city")]
        if m in _RATE_PAIRS:
            num, den = _RATE_PAIRS[m]
            cnt = counts.groupby("district_id")[[num, den]].sum().reset_index()
            rk = compare.rank_intervals(cnt, "district_id", successes=num, trials=den, n_sim=n_sim,
                                        seed=seed + i)
        else:
            rk = compare.rank_intervals(dm, "unit_id", estimate="estimate", se="se", n_sim=n_sim, seed=seed + i)
        rk = rk.rename(columns={"unit": "district_id"})
        rk.columns = ["district_id" if c == "unit_id" else c for c in rk.columns]
        ranks.append(rk[["district_id", "rank", "rank_low", "rank_high"]].assign(measure=m))
    truth = ss.true_registration(data_dir, year)
    expected = None
    if truth is not None:
        t = counts[["community_id", "district_id", "in_service_resident"]].merge(truth, on="community_id",
                                                                                  how="left")
        t["expected"] = t["p_registered"] * t["in_service_resident"]
        g = t.groupby("district_id")[["expected", "in_service_resident"]].sum()
        expected = g["expected"] / g["in_service_resident"]
    return ProfileData(districts=districts, subdistricts=sub, measures=measures,
                       ranks=pd.concat(ranks, ignore_index=True), year=year, synthetic=is_synthetic(data_dir),
                       truth_registration=expected)


def district_row(data: ProfileData, district_id: str) -> pd.Series:
    """The district's row of the districts table (``KeyError`` naming the valid ids if unknown)."""
    d = data.districts.set_index("district_id")
    if district_id not in d.index:
        raise KeyError(f"unknown district_id {district_id!r}; districts: {', '.join(d.index)}")
    return d.loc[district_id]


def _fmt(v: float, m: str, decimals: int = 1) -> str:
    _, _, scale, unit, _ = MEASURES[m]
    return f"{v * scale:.{decimals}f}{'%' if unit == '%' else ''}"


def _with_ci(est, lo, hi, m: str) -> str:
    if pd.isna(est):
        return ""
    return f"{_fmt(est, m)} ({_fmt(lo, m)} to {_fmt(hi, m)})"


def _compare(est_lo, est_hi, city) -> str:
    if est_lo > city:
        return "above"
    if est_hi < city:
        return "below"
    return "not different"


def _rank_text(rk) -> str:
    return f"{rk['rank']:.0f} ({rk['rank_low']:.0f} to {rk['rank_high']:.0f})"


def _merged(data: ProfileData) -> pd.DataFrame:
    m = data.measures
    city = m[m["unit_id"] == "city"].set_index("measure")
    d = m[m["unit_id"] != "city"].rename(columns={"unit_id": "district_id"})
    d = d.merge(data.ranks, on=["district_id", "measure"], how="left")
    d["city"] = d["measure"].map(city["estimate"])
    d["city_low"] = d["measure"].map(city["ci_low"])
    d["city_high"] = d["measure"].map(city["ci_high"])
    d["vs_city"] = [_compare(lo, hi, c) for lo, hi, c in zip(d["ci_low"], d["ci_high"], d["city"])]
    d["z"] = (d["estimate"] - d["city"]) / d["se"]
    return d


def headline_table(data: ProfileData, district_id: str) -> pd.DataFrame:
    """The district's four measures against the city: value (95 % CI), city value (95 % CI),
    comparison, rank among the districts with its 95 % interval, and ``n`` (organisations,
    members or survey respondents behind the district's value)."""
    district_row(data, district_id)
    d = _merged(data)
    d = d[d["district_id"] == district_id].set_index("measure").loc[list(MEASURES)]
    k = data.districts["district_id"].nunique()
    out = pd.DataFrame({
        "measure": [MEASURES[m][0] for m in d.index],
        "district (95% CI)": [_with_ci(r.estimate, r.ci_low, r.ci_high, m) for m, r in d.iterrows()],
        "city (95% CI)": [_with_ci(r.city, r.city_low, r.city_high, m) for m, r in d.iterrows()],
        "compared with the city": d["vs_city"].to_numpy(),
        f"rank of {k} (95% interval)": [_rank_text(r) for _, r in d.iterrows()],
        "n": d["n"].astype("int64").to_numpy(),
    })
    return out


def peer_table(data: ProfileData, district_id: str) -> pd.DataFrame:
    """The district and its peers (same zone) side by side: each measure's estimate and the
    city's, the chosen district marked. Survey cells resting on fewer than 10 respondents are
    blanked by :func:`helpers.publish.report.table` through the ``n`` column (smallest survey n of the row)."""
    zone = district_row(data, district_id)["zone"]
    peers = data.districts[data.districts["zone"] == zone]
    d = _merged(data)
    rows = []
    for _, p in peers.iterrows():
        dp = d[d["district_id"] == p["district_id"]].set_index("measure")
        row = {"district_id": p["district_id"],
               "district": p["name_en"] + (" (this profile)" if p["district_id"] == district_id else "")}
        for m, (lab, *_) in MEASURES.items():
            row[lab] = _fmt(dp.loc[m, "estimate"], m)
        row["n"] = int(dp.loc[[m for m, v in MEASURES.items() if v[1] == "survey"], "n"].min())
        rows.append(row)
    city = data.measures[data.measures["unit_id"] == "city"].set_index("measure")
    crow = {"district_id": "city", "district": "City"}
    for m, (lab, *_) in MEASURES.items():
        crow[lab] = _fmt(city.loc[m, "estimate"], m)
    crow["n"] = int(city.loc[[m for m, v in MEASURES.items() if v[1] == "survey"], "n"].min())
    rows.append(crow)
    return pd.DataFrame(rows)


def display_name(text) -> str:
    """A place name for Markdown prose: straight apostrophes become typographic ones (U+2019).

    (:func:`helpers.publish.report.md` HTML-escapes ``'`` to ``&#x27;`` and then backslash-escapes its
    ``#``, which Markdown renderers then show literally, e.g. "Yong&#x27;an".)"""
    return str(text).replace("'", "\u2019")


def standout(data: ProfileData, district_id: str):
    """A short "what stands out" paragraph built from the numbers (Markdown).

    Among the measures whose 95 % interval excludes the city value, the one that stands out
    is the one furthest from the city in relative terms, ``|estimate - city| / city`` (with
    tens of thousands of members, a registration gap of two points is "significant" but not
    remarkable, so the z-score would always pick registration). The sentence gives its value
    with its interval, the city's, its rank with the rank interval, then names the other
    measures above and below the city and those not distinguishable from it. Without any
    such measure it says that every interval contains the city value.
    """
    from helpers.publish import report

    row = district_row(data, district_id)
    d = _merged(data)
    d = d[d["district_id"] == district_id].set_index("measure").loc[list(MEASURES)]
    k = data.districts["district_id"].nunique()
    diff = d[d["vs_city"] != "not different"]
    zone = ZONE_LABELS.get(row["zone"], row["zone"])
    if diff.empty:
        return report.md("**What stands out.** Nothing clearly: for all four measures the 95% interval of {name} "
                         "contains the city value, and its rank intervals among the {k} districts are wide "
                         "(satisfaction of residents: rank {rk}).", name=display_name(row["name_en"]), k=k,
                         rk=_rank_text(d.loc["sat_score"]))
    rel = (diff["estimate"] - diff["city"]).abs() / diff["city"].abs()
    top = rel.idxmax()
    t = diff.loc[top]
    tail = ""
    for side in ("above", "below"):
        ms = [MEASURES[m][4] for m in diff.index if m != top and diff.loc[m, "vs_city"] == side]
        if ms:
            tail += f" It is also {side} the city on {_join(ms)}."
    same = [MEASURES[m][4] for m in d.index if m not in diff.index]
    if same:
        tail += " On " + _join(same) + " it is not distinguishable from the city."
    return report.md("**What stands out.** {name} ({zone}) stands out for **{label}**: {v} (95% CI {lo} to {hi}) "
                     "against {c} for the city ({pct:.0%} {side} in relative terms), ranked {r} of {k} among the "
                     "districts (95% interval of plausible ranks: {rl} to {rh}).{tail}",
                     name=display_name(row["name_en"]), zone=zone, label=MEASURES[top][4], v=_fmt(t["estimate"], top),
                     lo=_fmt(t["ci_low"], top), hi=_fmt(t["ci_high"], top), c=_fmt(t["city"], top),
                     pct=float(rel[top]), side="higher" if t["vs_city"] == "above" else "lower",
                     r=f"{t['rank']:.0f}", k=k, rl=f"{t['rank_low']:.0f}", rh=f"{t['rank_high']:.0f}", tail=tail)


def truth_check(data: ProfileData, district_id: str):
    """Markdown: the district's planted expected registration rate against its 95 % interval.

    The planted rate is the member-weighted mean of the communities' true registration
    probabilities (``truth_registration.csv``). On data without a planted truth it says so.
    """
    from helpers.publish import report

    if data.truth_registration is None:
        return report.md("*No planted truth: these are not the synthetic data, so this check does not apply.*")
    m = data.measures
    r = m[(m["unit_id"] == district_id) & (m["measure"] == "registration")].iloc[0]
    t = float(data.truth_registration[district_id])
    inside = r["ci_low"] <= t <= r["ci_high"]
    return report.md("The planted expected registration rate of {name} in {y} (the member-weighted mean of its "
                     "communities' true probabilities) is **{t:.1%}**; the observed rate is **{e:.1%}** with a 95% "
                     "interval of **{lo:.1%}** to **{hi:.1%}**, which {verb} the planted value. (Across the "
                     "districts, about 95% of such intervals should contain it; a miss now and then is expected.)",
                     name=display_name(data.districts.set_index("district_id").loc[district_id, "name_en"]),
                     y=data.year, t=t, e=r["estimate"], lo=r["ci_low"], hi=r["ci_high"],
                     verb="contains" if inside else "misses")


def findings_rows(data: ProfileData, district_id: str) -> list[dict]:
    """Keyword arguments for :func:`helpers.publish.findings.record`, one per headline measure.

    Names are the same for every district (``coverage``, ``registration``, ``participated``,
    ``sat_score``, ``rank_sat_score``); the report name (``district_profile-D03``) tells
    the districts apart. Rates and ``participated`` are shares (0-1), ``sat_score`` points.
    """
    d = _merged(data)
    d = d[d["district_id"] == district_id].set_index("measure")
    rows = []
    for m, (label, kind, _, _, _) in MEASURES.items():
        r = d.loc[m]
        truth = None
        if m == "registration" and data.truth_registration is not None:
            truth = float(data.truth_registration[district_id])
        rows.append(dict(name=m, value=float(r["estimate"]), ci=(float(r["ci_low"]), float(r["ci_high"])),
                         unit="points (0-100)" if m == "sat_score" else "share", truth=truth,
                         note=f"{district_id} {data.year}; city {r['city']:.4g}; "
                              + ("Wilson" if kind == "rate" else "design-based, t on design df")))
    r = d.loc["sat_score"]
    rows.append(dict(name="rank_sat_score", value=float(r["rank"]),
                     ci=(float(r["rank_low"]), float(r["rank_high"])),
                     unit=f"rank of {data.districts['district_id'].nunique()} (1 = highest)",
                     note="simulated from each district's sampling distribution"))
    return rows


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def locator_map(data: ProfileData, district_id: str, ax=None):
    """A small map locating the district among the city's districts (peers of its zone shaded)."""
    from helpers.viz import maps, style

    row = district_row(data, district_id)
    g = data.districts.copy()
    this, peer, other = f"{row['name_en']}", f"Same zone ({ZONE_LABELS.get(row['zone'], row['zone'])})", \
        "Other districts"
    g["where"] = np.where(g["district_id"] == district_id, this, np.where(g["zone"] == row["zone"], peer, other))
    colors = {this: style.QUALITATIVE[5], peer: "#f3c89b", other: "#e6e6e6"}
    return maps.category_map(g, "where", colors, ax=ax, counts=False, legend_title="District",
                             title="Where the district lies", synthetic=data.synthetic, scale_bar=True,
                             north_arrow=False)


def subdistrict_map(data: ProfileData, district_id: str, measure: str = "registration", ax=None):
    """The district's sub-districts on a diverging map of an administrative rate, centred on the city rate."""
    from helpers.viz import maps

    row = district_row(data, district_id)
    if measure not in _RATE_PAIRS:
        raise ValueError(f"sub-district maps use administrative rates: {sorted(_RATE_PAIRS)}")
    g = data.subdistricts[data.subdistricts["district_id"] == district_id]
    city = data.measures[(data.measures["unit_id"] == "city") & (data.measures["measure"] == measure)]
    c = float(city["estimate"].iloc[0])
    k = max(2, min(4, len(g) - 1))
    return maps.choropleth(g, f"{measure}_rate", ax=ax, center=c, scheme="quantiles", k=k, fmt="{:.1%}",
                           labels="en", label_layer="units",
                           legend_title=f"{MEASURES[measure][0]}\n(city {c:.1%})",
                           title=f"{row['name_en']}: {MEASURES[measure][0].lower()} by sub-district, {data.year}",
                           synthetic=data.synthetic)


def picker(data: ProfileData, default: str):
    """A district picker for JupyterLab: choosing a district redraws its table, sentence and maps.

    Returns ``None`` when the notebook runs under the report build (``$HELPERS_REPORT_NAME``
    is set) or without ipywidgets, so the rendered report stays static and complete.
    """
    if os.environ.get("HELPERS_REPORT_NAME"):
        return None
    try:
        import ipywidgets as widgets
    except ImportError:  # pragma: no cover
        return None
    import matplotlib.pyplot as plt
    from IPython.display import display

    from helpers.publish import report

    options = [(f"{r.district_id} {r.name_en}", r.district_id) for r in data.districts.itertuples()]
    dd = widgets.Dropdown(options=options, value=default, description="District")
    out = widgets.Output()

    def show(change=None):
        out.clear_output(wait=True)
        with out:
            did = dd.value
            display(standout(data, did))
            display(report.table(headline_table(data, did)))
            fig, axs = plt.subplots(1, 2, figsize=(13, 4.6), gridspec_kw={"width_ratios": [1, 1.3]})
            locator_map(data, did, ax=axs[0])
            subdistrict_map(data, did, ax=axs[1])
            plt.show()

    dd.observe(show, names="value")
    show()
    return widgets.VBox([dd, out])
