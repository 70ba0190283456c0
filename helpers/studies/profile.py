"""Computations of the district_profile notebook: one district against the city and its peers.

The profile answers the same questions as the other reports, for one district, with the
collection's rules (:mod:`helpers.studies.verdicts`) on exactly the inputs those reports use, so
that a district is never "below the city" here and "not distinguishable" there:

- **organisational coverage** (01): active eligible organisations covered by the end of the year,
  over active ones (:func:`helpers.data.concepts.organisation_years`), summed by district;
- **member registration** (02): registered in-service members over those living in the district,
  summed from the members table;
- **took part in a community activity** and the **satisfaction thermometer** (02, 03): design-based
  district means of the resident survey (:func:`helpers.data.concepts.resident_survey_design` over
  every survey year, strata district x year), in the profile year or, when the survey skipped it,
  the latest survey year.

:func:`build` computes everything for every district at once (so that the JupyterLab picker
switches instantly): estimates with 95% intervals (Wilson for administrative rates, t on the
design degrees of freedom for survey means), the verdict against the city
(:func:`~helpers.studies.verdicts.rate_verdicts`, :func:`~helpers.studies.verdicts.estimate_verdicts`,
which also state them for the site-wide consistency check),
the rank with its 95% rank interval (:func:`helpers.stats.compare.rank_intervals`) and the same for
every sub-district. The notebook writes the sentences; :func:`headline_table`,
:func:`locator_map`, :func:`subdistrict_map` and :func:`picker` are shared by the report and the
picker.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.data import concepts
from helpers.publish import fmt
from helpers.stats import compare, rates
from helpers.studies import measures, satisfaction, verdicts

__all__ = ["MEASURE_KEYS", "RATES", "SURVEY_ITEMS", "TABLES", "SCALE", "ProfileData", "digits", "build", "district_row", "peers",
           "district_frame", "standout", "headline_table", "peer_table", "subdistrict_table", "truth_check",
           "display_name", "locator_map", "subdistrict_map", "picker"]

#: The profile's measures (keys of the glossary :mod:`helpers.studies.measures`), in the order shown.
MEASURE_KEYS: tuple[str, ...] = ("org_coverage", "registration", "participated", "sat_score")
#: Administrative rates: measure -> (numerator, denominator) columns.
RATES: dict[str, tuple[str, str]] = {"org_coverage": ("covered", "active"),
                                     "registration": ("registered", "in_service_resident")}
#: Survey items (design-based means; ``participated`` is 0/1, ``sat_score`` 0-100).
SURVEY_ITEMS: tuple[str, ...] = ("participated", "sat_score")
#: The table each measure needs.
SOURCE = {"org_coverage": "organisations", "registration": "members", "participated": "survey",
          "sat_score": "survey"}
#: The tables the profile reads (``survey``, ``organisations`` and ``members`` may be absent).
TABLES: tuple[str, ...] = ("districts", "subdistricts", "community_boundaries", "communities", "organisations",
                           "members", "survey")
#: Multiplier from the estimate's scale to the scale shown (shares as percentages).
SCALE = {"org_coverage": 100.0, "registration": 100.0, "participated": 100.0, "sat_score": 1.0}
_COLUMNS = ["unit", "measure", "estimate", "se", "ci_low", "ci_high", "n", "numerator", "denominator"]


@dataclass
class ProfileData:
    """Everything the profile shows, for every district of one year.

    Attributes
    ----------
    districts, subdistricts : the boundaries (``district_id``, ``name_en``, ``name_zh``, ``zone``;
        ``subdistrict_id``, ``district_id``, names).
    estimates : one row per unit (``district_id`` or ``"city"``) and measure: ``unit, measure,
        estimate, se, ci_low, ci_high, n, numerator, denominator`` (shares 0-1 for rates and
        ``participated``, points for ``sat_score``; ``n`` is the denominator - organisations,
        members or respondents; numerator and denominator are missing for survey means).
    verdicts : ``unit, measure, value, n, lower, upper, verdict`` for the districts
        (:func:`helpers.studies.verdicts.unit_verdicts`: the overdispersion-adjusted 95% limits and
        ``"above"``, ``"below"`` or ``"not distinguishable"``). Survey districts resting on fewer
        than the disclosure threshold of respondents have none.
    ranks : ``unit, measure, rank, rank_low, rank_high, ranked`` (1 = highest; ``ranked``: the
        number of districts ranked).
    sub_estimates, sub_verdicts : the same for every sub-district of the city (administrative
        rates only; the survey samples too few communities per sub-district).
    year : the year of the administrative rates; ``survey_year`` the survey year used (None
        without a survey).
    absent : measure -> the table it needs that the data folder lacks.
    truth_registration : district_id -> the planted expected registration rate (synthetic data),
        else None.
    """

    districts: pd.DataFrame
    subdistricts: pd.DataFrame
    estimates: pd.DataFrame
    verdicts: pd.DataFrame
    ranks: pd.DataFrame
    sub_estimates: pd.DataFrame
    sub_verdicts: pd.DataFrame
    year: int
    survey_year: int | None
    absent: dict = field(default_factory=dict)
    truth_registration: pd.Series | None = None

    @property
    def available(self) -> list[str]:
        """The measures the data folder allows, in :data:`MEASURE_KEYS` order."""
        return [m for m in MEASURE_KEYS if m not in self.absent]

    @property
    def n_districts(self) -> int:
        return int(self.districts["district_id"].nunique())

    def year_of(self, measure: str) -> int | None:
        """The year a measure describes (the survey year for survey measures)."""
        return self.survey_year if measure in SURVEY_ITEMS else self.year


def _rate_rows(counts: pd.DataFrame, measure: str, unit: str) -> pd.DataFrame:
    """Wilson rates of ``counts`` (one row per ``unit``, or the city when ``unit`` is None)."""
    num, den = RATES[measure]
    r = rates.rates(counts, {measure: (num, den)}, by=unit, method="wilson")
    se = np.sqrt(r["estimate"] * (1 - r["estimate"]) / r["denominator"].where(r["denominator"] > 0))
    return pd.DataFrame({"unit": r[unit].to_numpy() if unit else "city", "measure": measure,
                         "estimate": r["estimate"].to_numpy(float), "se": se.to_numpy(float),
                         "ci_low": r["ci_low"].to_numpy(float), "ci_high": r["ci_high"].to_numpy(float),
                         "n": r["denominator"].to_numpy(float), "numerator": r["numerator"].to_numpy(float),
                         "denominator": r["denominator"].to_numpy(float)})


def _counts(tables: dict, measure: str, year: int, lookup: pd.DataFrame) -> pd.DataFrame:
    """Community rows of ``year`` with ``subdistrict_id, district_id`` and the measure's counts."""
    num, den = RATES[measure]
    if measure == "org_coverage":
        o = concepts.organisation_years(tables["organisations"], lookup, [year])
        return o[["community_id", "subdistrict_id", "district_id", num, den]]
    m = tables["members"]
    m = m[m["year"] == year].merge(lookup, on="community_id", how="left", validate="one_to_one")
    return m[["community_id", "subdistrict_id", "district_id", num, den]]


def _ranks(frame: pd.DataFrame, measure: str, seed: int, n_sim: int) -> pd.DataFrame:
    if measure in RATES:
        rk = compare.rank_intervals(frame, "unit", successes="numerator", trials="denominator", n_sim=n_sim,
                                    seed=seed)
    else:
        rk = compare.rank_intervals(frame, "unit", estimate="estimate", se="se", n_sim=n_sim, seed=seed)
    return pd.DataFrame({"unit": rk["unit"].to_numpy(), "measure": measure, "rank": rk["rank"].to_numpy(float),
                         "rank_low": rk["rank_low"].to_numpy(float), "rank_high": rk["rank_high"].to_numpy(float),
                         "ranked": len(rk)})


def build(tables: dict, year: int | None = None, *, truth_registration: pd.DataFrame | None = None,
          seed: int = 20240501, n_sim: int = 4000) -> ProfileData:
    """Every district's and sub-district's measures, verdicts and ranks for ``year``.

    Parameters
    ----------
    tables : tables loaded through the data contract (:data:`TABLES`; ``organisations``,
        ``members`` and ``survey`` may be absent, and their measures are then listed in
        ``absent``).
    year : the year of the administrative rates; None is the latest year of the study period.
        The survey measures use this year when the survey has it, else its latest year.
    truth_registration : :func:`helpers.data.truth.truth_registration` (synthetic data), else None.
    seed, n_sim : seed and number of draws of the rank simulations (one seed per measure,
        ``seed + i``).

    Returns
    -------
    ProfileData
    """
    from helpers.data import load
    from helpers.publish import report

    period = load.study_period(tables)
    year = period.last if year is None else int(year)
    if year not in load.study_years(tables):
        raise ValueError(f"year {year} is outside the data's study period {period}: pass one of its years, or "
                         "year=None for the latest")
    lookup = concepts.community_lookup(tables)
    absent = {m: SOURCE[m] for m in MEASURE_KEYS if SOURCE[m] not in tables}
    est, verd, rank, sub_est, sub_verd = [], [], [], [], []
    counts = {}
    for i, m in enumerate(MEASURE_KEYS):
        if m not in RATES or m in absent:
            continue
        c = _counts(tables, m, year, lookup)
        counts[m] = c
        num, den = RATES[m]
        by_d = c.groupby("district_id", as_index=False)[[num, den]].sum()
        d_rows = _rate_rows(c, m, "district_id")
        est += [d_rows, _rate_rows(c, m, None)]
        _, v = verdicts.rate_verdicts(by_d, num, den, "district_id", measure=m, year=year)
        verd.append(v.assign(measure=m))
        rank.append(_ranks(d_rows[d_rows["n"] > 0], m, seed + i, n_sim))
        by_s = c.groupby("subdistrict_id", as_index=False)[[num, den]].sum()
        sub_est.append(_rate_rows(c, m, "subdistrict_id"))
        by_s = by_s[by_s[den] > 0]
        if len(by_s) >= 2:
            _, sv = verdicts.rate_verdicts(by_s, num, den, "subdistrict_id", measure=m, year=year)
            sub_verd.append(sv.assign(measure=m))
    survey_year = None
    if "survey" not in absent.values():
        resp = concepts.resident_respondents(tables["survey"], tables["communities"])
        design = concepts.resident_survey_design(resp)
        years = set(resp["year"].astype(int))
        survey_year = year if year in years else int(max(years))
        design_y = concepts.resident_survey_design(resp[resp["year"].astype(int) == survey_year])
        k = report.min_respondents()
        for i, m in enumerate(MEASURE_KEYS):
            if m not in SURVEY_ITEMS:
                continue
            city = design.mean(m, by="year")
            city = city[city["year"] == survey_year]
            dist = design.mean(m, by=["district_id", "year"])
            dist = dist[dist["year"] == survey_year]
            for f, unit in ((dist, dist["district_id"]), (city, "city")):
                est.append(pd.DataFrame({"unit": unit, "measure": m, "estimate": f["estimate"], "se": f["se"],
                                         "ci_low": f["ci_low"], "ci_high": f["ci_high"], "n": f["n"],
                                         "numerator": np.nan, "denominator": np.nan}))
            enough = dist[dist["n"] >= k]
            if len(enough) >= 2:
                # the site's rule for a survey measure (as Satisfaction states it): each district's difference
                # from the city, with the standard error of a contrast of correlated estimates, against the
                # overdispersion-adjusted limits around zero
                con = satisfaction.district_contrasts(design_y, m)
                _, v = verdicts.estimate_verdicts(con[con["n"] >= k], "difference", "se", "district_id", city=0.0,
                                                  measure=m, year=survey_year)
                verd.append(v.assign(measure=m))
                rank.append(_ranks(enough.rename(columns={"district_id": "unit"}), m, seed + i, n_sim))
    empty_v = pd.DataFrame(columns=["unit", "value", "n", "lower", "upper", "verdict", "measure"])
    expected = None
    if truth_registration is not None and "registration" in counts:
        t = truth_registration[truth_registration["year"] == year]
        t = counts["registration"].merge(t[["community_id", "p_registered"]], on="community_id", how="left")
        t = t.assign(expected=t["p_registered"] * t["in_service_resident"])
        g = t.groupby("district_id")[["expected", "in_service_resident"]].sum(min_count=1)
        expected = g["expected"] / g["in_service_resident"]
    return ProfileData(
        districts=tables["districts"], subdistricts=tables["subdistricts"],
        estimates=pd.concat(est, ignore_index=True)[_COLUMNS] if est else pd.DataFrame(columns=_COLUMNS),
        verdicts=pd.concat(verd, ignore_index=True) if verd else empty_v,
        ranks=pd.concat(rank, ignore_index=True) if rank else pd.DataFrame(
            columns=["unit", "measure", "rank", "rank_low", "rank_high", "ranked"]),
        sub_estimates=pd.concat(sub_est, ignore_index=True)[_COLUMNS] if sub_est else pd.DataFrame(columns=_COLUMNS),
        sub_verdicts=pd.concat(sub_verd, ignore_index=True) if sub_verd else empty_v,
        year=year, survey_year=survey_year, absent=absent, truth_registration=expected)


def district_row(data: ProfileData, district_id: str) -> pd.Series:
    """The district's row of the districts table (``KeyError`` naming the valid ids if unknown)."""
    d = data.districts.set_index("district_id")
    if district_id not in d.index:
        raise KeyError(f"unknown district_id {district_id!r}; districts: {', '.join(map(str, d.index))}")
    return d.loc[district_id]


def peers(data: ProfileData, district_id: str) -> list[str]:
    """The districts of the same zone as ``district_id`` (itself included), in the districts' order."""
    zone = district_row(data, district_id)["zone"]
    return data.districts.loc[data.districts["zone"] == zone, "district_id"].tolist()


def district_frame(data: ProfileData, district_id: str) -> pd.DataFrame:
    """The district's measures against the city, one row per available measure.

    Returns ``measure, estimate, se, ci_low, ci_high, n, city, city_se, city_low, city_high, lower,
    upper, verdict, rank, rank_low, rank_high, ranked, gap`` (``lower``/``upper``: the adjusted 95%
    funnel limits at the district's size, on the measure's own scale, so that the verdict is
    "above" exactly when ``estimate > upper``; ``verdict`` missing when the district's survey estimate
    rests on too few respondents; ``gap = (estimate - city) / |city|``), indexed by measure.

    A survey measure is judged on the district's difference from the city (limits around zero,
    :func:`helpers.studies.satisfaction.district_contrasts`); its limits are shifted by the city
    value of that contrast (the district's estimate minus the difference), so they read beside the
    district's value as the administrative rates' limits do.
    """
    district_row(data, district_id)
    e = data.estimates
    city = e[e["unit"] == "city"].set_index("measure")
    d = e[e["unit"] == district_id].set_index("measure").reindex(data.available)
    v = data.verdicts[data.verdicts["unit"] == district_id].set_index("measure")
    r = data.ranks[data.ranks["unit"] == district_id].set_index("measure")
    out = d[["estimate", "se", "ci_low", "ci_high", "n"]].copy()
    out["city"] = city["estimate"].reindex(out.index)
    out["city_se"] = city["se"].reindex(out.index)
    out["city_low"] = city["ci_low"].reindex(out.index)
    out["city_high"] = city["ci_high"].reindex(out.index)
    out[["lower", "upper", "verdict"]] = v[["lower", "upper", "verdict"]].reindex(out.index)
    survey = out.index.isin(SURVEY_ITEMS)
    if survey.any():  # limits of the difference -> limits of the value (city of the contrast + limit)
        base = out.loc[survey, "estimate"] - v["value"].reindex(out.index[survey]).astype(float)
        out.loc[survey, "lower"] = base + out.loc[survey, "lower"].astype(float)
        out.loc[survey, "upper"] = base + out.loc[survey, "upper"].astype(float)
    out[["rank", "rank_low", "rank_high", "ranked"]] = r[["rank", "rank_low", "rank_high", "ranked"]].reindex(out.index)
    out["gap"] = (out["estimate"] - out["city"]) / out["city"].abs()
    out.index.name = "measure"
    return out


def standout(data: ProfileData, district_id: str) -> str | None:
    """The measure on which the district stands out, or None.

    Among the measures on which the district differs from the city (:mod:`verdicts`), the one
    furthest from the city in relative terms, ``|estimate - city| / |city|``: with tens of thousands
    of members, a registration gap of two points is outside the limits but not remarkable, so the
    z-score would nearly always pick registration."""
    d = district_frame(data, district_id)
    d = d[d["verdict"].isin(["above", "below"])]
    return None if d.empty else str(d["gap"].abs().idxmax())


def _unit(measure: str) -> str:
    return "%" if SCALE[measure] == 100 else ""


def digits(est, lo, hi, measure: str) -> int:
    """Decimals of a value of ``measure`` with interval ``(lo, hi)``: the site's one rule
    (:func:`helpers.publish.fmt.estimate_digits`), so a value reads as in the other reports and the
    headline findings (an interval that collapses at this precision is marked by :func:`fmt.interval`)."""
    return fmt.estimate_digits(est, lo, hi, scale=SCALE[measure], unit=_unit(measure))


def _value(x, lo, hi, measure: str) -> str:
    """The value alone, with the digits its interval gives it."""
    return fmt.number(x * SCALE[measure], digits(x, lo, hi, measure)) + _unit(measure) if pd.notna(x) \
        else fmt.MISSING


def _interval(est, lo, hi, measure: str) -> str:
    return fmt.interval(est, lo, hi, scale=SCALE[measure], unit=_unit(measure))


def headline_table(data: ProfileData, district_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The district's measures against the city, for the report and the picker.

    Returns ``(shown, raw)``: ``shown`` has one row per available measure - ``Measure``, the
    district's value with its 95% interval, the city's, ``Against the city`` (the verdict of
    :mod:`helpers.studies.verdicts`), ``Rank among the districts`` (:func:`verdicts.rank_statement`)
    and ``Counted`` (organisations, members or respondents behind the district's value), as text;
    ``raw`` is :func:`district_frame` as numbers. A survey value resting on fewer respondents than the
    disclosure threshold (:func:`helpers.publish.report.min_respondents`) is shown as suppressed,
    with no verdict and no rank."""
    from helpers.publish import report

    d = district_frame(data, district_id)
    rows = []
    for m, r in d.iterrows():
        small = m in SURVEY_ITEMS and not r["n"] >= report.min_respondents()
        rank = (verdicts.rank_statement(r["rank"], r["rank_low"], r["rank_high"], int(r["ranked"]))
                if pd.notna(r["rank"]) else fmt.MISSING)
        rows.append({"Measure": measures.label(m), "Year": str(data.year_of(m)),
                     "District (95% CI)": (report.suppressed_label() if small else
                                           _interval(r["estimate"], r["ci_low"], r["ci_high"], m)),
                     "City (95% CI)": _interval(r["city"], r["city_low"], r["city_high"], m),
                     "Against the city": r["verdict"] if isinstance(r["verdict"], str) else fmt.MISSING,
                     "Rank among the districts": rank,
                     "Counted": fmt.count(r["n"])})
    raw = d.reset_index().rename(columns={"n": "counted"})
    small = raw["measure"].isin(SURVEY_ITEMS) & ~(raw["counted"] >= report.min_respondents())
    raw.loc[small, ["estimate", "se", "ci_low", "ci_high", "gap"]] = np.nan
    raw = raw.assign(district_id=district_id, year=[data.year_of(m) for m in raw["measure"]])
    return pd.DataFrame(rows), raw


def peer_table(data: ProfileData, district_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The district beside the other districts of its zone and the city.

    Returns ``(shown, raw)``. ``shown``: ``district_id`` (dropped before showing), ``District``
    and one column per available measure holding the value and, when the district differs from
    the city, the verdict in brackets (``"61.8% (above)"``), as text. ``raw``: ``district_id,
    measure, estimate, ci_low, ci_high, counted, verdict`` including the city. Survey values resting
    on fewer respondents than the disclosure threshold are suppressed in both."""
    from helpers.publish import report

    ids = peers(data, district_id)
    e = data.estimates.set_index(["unit", "measure"])
    v = data.verdicts.set_index(["unit", "measure"])["verdict"]
    names = data.districts.set_index("district_id")["name_en"]
    rows, raw = [], []
    for u in ids + ["city"]:
        row = {"district_id": u, "District": "City" if u == "city" else display_name(names[u])}
        for m in data.available:
            x, lo, hi = (e[c].get((u, m), np.nan) for c in ("estimate", "ci_low", "ci_high"))
            n = e["n"].get((u, m), np.nan)
            verdict = v.get((u, m), None)
            if m in SURVEY_ITEMS and not n >= report.min_respondents():
                x = lo = hi = np.nan
                text = report.suppressed_label() if pd.notna(n) else fmt.MISSING
            else:
                text = _value(x, lo, hi, m) + (f" ({verdict})" if verdict in ("above", "below") else "")
            row[measures.label(m)] = text
            raw.append({"district_id": u, "measure": m, "estimate": x, "ci_low": lo, "ci_high": hi, "counted": n,
                        "verdict": verdict if u != "city" else None})
        rows.append(row)
    return pd.DataFrame(rows), pd.DataFrame(raw)


def subdistrict_table(data: ProfileData, district_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The district's sub-districts: each administrative rate with its 95% Wilson interval and its
    verdict against the city (the funnel of all the city's sub-districts).

    Returns ``(shown, raw)``; ``shown`` has ``Sub-district`` and, per rate, the value with its
    interval and ``against the city``; ``raw`` is ``subdistrict_id, measure, estimate, ci_low,
    ci_high, n, verdict``."""
    subs = data.subdistricts[data.subdistricts["district_id"] == district_id]
    e = data.sub_estimates.set_index(["unit", "measure"])
    v = data.sub_verdicts.set_index(["unit", "measure"])["verdict"]
    shown = pd.DataFrame({"Sub-district": [display_name(n) for n in subs["name_en"]]})
    raw = []
    for m in [m for m in RATES if m in data.available]:
        ee = e.xs(m, level="measure").reindex(subs["subdistrict_id"])
        shown[f"{measures.label(m)} (95% CI)"] = [
            _interval(a, b, c, m) for a, b, c in zip(ee["estimate"], ee["ci_low"], ee["ci_high"])]
        verdict = [v.get((s, m), None) for s in subs["subdistrict_id"]]
        shown[f"{measures.label(m)}: against the city"] = [x if isinstance(x, str) else fmt.MISSING for x in verdict]
        raw.append(pd.DataFrame({"subdistrict_id": subs["subdistrict_id"].to_numpy(), "measure": m,
                                 "estimate": ee["estimate"].to_numpy(), "ci_low": ee["ci_low"].to_numpy(),
                                 "ci_high": ee["ci_high"].to_numpy(), "n": ee["n"].to_numpy(), "verdict": verdict}))
    return shown, (pd.concat(raw, ignore_index=True) if raw else pd.DataFrame())


def truth_check(data: ProfileData) -> pd.DataFrame | None:
    """Every district's planted expected registration rate beside its estimate and 95% interval.

    Returns a frame indexed by ``district_id`` with ``truth, estimate, ci_low, ci_high, inside``
    (None on data without a planted truth). The planted rate is the member-weighted mean of the
    district's communities' true registration probabilities."""
    if data.truth_registration is None or "registration" not in data.available:
        return None
    e = data.estimates[(data.estimates["measure"] == "registration") & (data.estimates["unit"] != "city")]
    e = e.set_index("unit")[["estimate", "ci_low", "ci_high"]]
    out = pd.DataFrame({"truth": data.truth_registration.reindex(e.index)}).join(e)
    out = out[out["truth"].notna()]
    out["inside"] = (out["ci_low"] <= out["truth"]) & (out["truth"] <= out["ci_high"])
    out.index.name = "district_id"
    return out


def display_name(text) -> str:
    """A place name for Markdown prose: straight apostrophes become typographic ones (U+2019).

    (:func:`helpers.publish.report.md` HTML-escapes its values; a straight apostrophe could render
    as an entity on some pages, e.g. "Yong&#x27;an".)"""
    return str(text).replace("'", "\u2019")


# ----------------------------------------------------------------------------- maps
def _verdict_colours() -> dict[str, str]:
    from matplotlib import colormaps, colors

    from helpers.viz import style

    cm = colormaps[style.DIVERGING_CMAP]
    return {"below": colors.to_hex(cm(0.15)), "not distinguishable": "#f4f4f4", "above": colors.to_hex(cm(0.85))}


def locator_map(data: ProfileData, district_id: str, ax=None, synthetic: bool = False):
    """A small map locating the district among the city's districts (the other districts of its
    zone shaded). Returns ``ax``."""
    from helpers.viz import maps, style

    row = district_row(data, district_id)
    g = data.districts.copy()
    this, peer, other = display_name(row["name_en"]), "Same zone", "Other districts"
    g["where"] = np.where(g["district_id"] == district_id, this,
                          np.where(g["zone"] == row["zone"], peer, other))
    colours = {this: style.QUALITATIVE[5], peer: "#f3c89b", other: "#e6e6e6"}
    colours = {k: c for k, c in colours.items() if k in set(g["where"])}
    return maps.category_map(g, "where", colours, ax=ax, counts=False, legend_title="District", legend_loc="outside",
                             title="Where the district lies", synthetic=synthetic, scale_bar=True,
                             north_arrow=False, what="the district's place in the city")


def subdistrict_map(data: ProfileData, district_id: str, measure: str = "registration", ax=None,
                    synthetic: bool = False):
    """The district's sub-districts coloured by their verdict against the city on an administrative
    rate (the same verdicts as :func:`subdistrict_table`). Returns ``ax``."""
    from helpers.viz import maps

    row = district_row(data, district_id)
    if measure not in RATES:
        raise ValueError(f"sub-district maps show administrative rates: {sorted(RATES)}")
    g = data.subdistricts[data.subdistricts["district_id"] == district_id].copy()
    v = data.sub_verdicts[data.sub_verdicts["measure"] == measure].set_index("unit")["verdict"]
    g["verdict"] = g["subdistrict_id"].map(v)
    names = g["name_en"].astype(str)
    parts = names.str.rsplit(" ", n=1)
    if len(g) > 1 and (parts.str.len() == 2).all() and parts.str[-1].nunique() == 1:
        g["name_en"] = parts.str[0]  # the word every name shares ("Subdistrict") is said once, in the title
    colours = _verdict_colours()
    return maps.category_map(g, "verdict", colours, ax=ax, counts=True, labels="en", label_margin=0.12,
                             legend_title=f"{measures.label(measure)}\nagainst the city",
                             title=f"{display_name(row['name_en'])}: sub-districts, {data.year}",
                             synthetic=synthetic, north_arrow=False, units_name=("sub-district", "sub-districts"),
                             what=f"{measures.label(measure).lower()} against the city")


def picker(data: ProfileData, default: str, synthetic: bool = False):
    """A district picker for JupyterLab: choosing a district redraws its headline table and maps.

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
            shown, _ = headline_table(data, did)
            display(report.table(shown))
            fig, axs = plt.subplots(1, 2, figsize=(13, 4.6), gridspec_kw={"width_ratios": [1, 1.3]})
            locator_map(data, did, ax=axs[0], synthetic=synthetic)
            if "registration" in data.available:
                subdistrict_map(data, did, ax=axs[1], synthetic=synthetic)
            plt.show()

    dd.observe(show, names="value")
    show()
    return widgets.VBox([dd, out])
