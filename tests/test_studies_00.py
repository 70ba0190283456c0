"""The data overview's computations (helpers.studies.overview) on a tiny folder whose answers are known
by construction: 2 districts of 4 km squares (one core, one outer county), 2 sub-districts each
(a street and a town), 2 communities per sub-district."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from helpers.data import load, schema
from helpers.studies import overview
from tests._fixtures import SIZE, write_valid_folder


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    d = write_valid_folder(tmp_path_factory.mktemp("tiny"))
    (d / schema.TABLES["service_points"].file).unlink()  # an absent optional table
    load.clear_cache()
    return load.load_all(d)


def test_table_sizes_lists_every_contract_table_and_names_the_absent(tables):
    s = overview.table_sizes(tables).set_index("table")
    assert list(s.index) == list(schema.TABLES)
    assert not s.loc["service_points", "present"] and pd.isna(s.loc["service_points", "rows"])
    for name, df in tables.items():
        assert s.loc[name, "present"] and s.loc[name, "rows"] == len(df)
        assert s.loc[name, "columns"] == len([c for c in df.columns if c != "geometry"])
    m = tables["members"]
    assert (s.loc["members", "first_year"], s.loc["members", "last_year"]) == (m["year"].min(), m["year"].max())
    assert pd.isna(s.loc["districts", "first_year"])  # not a yearly table
    assert s.loc["districts", "required"] and not s.loc["survey", "required"]


def test_district_summary_counts_and_areas(tables):
    out = overview.district_summary(tables["districts"], tables["subdistricts"], tables["community_boundaries"],
                                    tables["communities"], total=True)
    per = out.iloc[:-1].set_index("district_id")
    assert list(per["subdistricts"]) == [2, 2] and list(per["streets"]) == [1, 1] and list(per["towns"]) == [1, 1]
    assert list(per["communities"]) == [4, 4]
    pop = tables["communities"].merge(tables["community_boundaries"][["community_id", "district_id"]],
                                      on="community_id").groupby("district_id")["population"].sum()
    assert per["population"].to_dict() == pop.to_dict()
    np.testing.assert_allclose(per["area_km2"], (SIZE / 1000) ** 2)  # 4 km squares
    city = out.iloc[-1]
    assert pd.isna(city["district_id"]) and city["communities"] == 8 and city["population"] == pop.sum()
    np.testing.assert_allclose(city["area_km2"], 2 * (SIZE / 1000) ** 2)


def test_gazetteer_and_bilingual_names(tables):
    g = overview.gazetteer(tables["subdistricts"], tables["community_boundaries"])
    assert len(g) == 4 and (g["communities"] == 2).all()
    assert list(g["district_id"]) == sorted(g["district_id"])
    frame = pd.DataFrame({"name_en": ["Dongcheng District", "Ningxing Subdistrict", "Mingfeng Town", "Plain"],
                          "name_zh": ["东城区", "宁兴街道", "明丰镇", None]})
    from helpers.viz import style

    lab = overview.bilingual(frame, sep=" ")
    if style.cjk_font() is not None:
        assert list(lab) == ["东城区 Dongcheng", "宁兴街道 Ningxing", "明丰镇 Mingfeng", "Plain"]
    else:  # no CJK font: pinyin only, never empty boxes
        assert list(lab) == ["Dongcheng", "Ningxing", "Mingfeng", "Plain"]


def test_zone_and_kind_legends_hold_only_what_is_present(tables):
    z, zc = overview.label_zones(tables["districts"])
    assert list(zc) == ["Urban core", "Outer county"] and set(z["zone"]) == set(zc)
    k, kc = overview.label_kinds(tables["subdistricts"])
    assert list(kc) == ["Sub-district (街道)", "Town (镇)"] and set(k["kind"]) == set(kc)


def test_core_window_holds_the_core_and_its_units(tables):
    d, s = tables["districts"], tables["subdistricts"]
    win, labelled = overview.core_window(d, s, max_share=0.9)
    core = d[d["zone"] == "core"].total_bounds
    assert win[0] <= core[0] and win[1] <= core[1] and win[2] >= core[2] and win[3] >= core[3]
    assert win[0] < labelled[0] < labelled[2] < win[2]
    # the core is half the city here: with the default limit a second panel shows nothing new
    assert overview.core_window(d, s) is None
    assert overview.core_window(d.assign(zone="outer_county"), s) is None


def test_city_and_core_draws_one_or_two_panels(tables):
    from helpers.viz import style

    style.use_project_style()
    d, s = tables["districts"], tables["subdistricts"]
    k, kc = overview.label_kinds(s)
    labels = s.assign(name_en=overview.bilingual(s))
    fig = overview.city_and_core(k, "kind", kc, overlay=d, window=overview.core_window(d, s, max_share=0.9),
                                 labels=labels, core_labels=labels, legend_title="Kind")
    assert len(fig.axes) == 2
    texts = [t.get_text() for a in fig.axes for t in a.texts if t.get_gid() == "unit-label"]
    assert sorted(texts) == sorted(labels["name_en"])  # each unit named once, on one panel or the other
    assert fig.axes[0].get_legend() is None and fig.axes[1].get_legend() is not None
    fig = overview.city_and_core(k, "kind", kc, overlay=d, window=None, labels=labels, legend_title="Kind")
    assert len(fig.axes) == 1


def test_survey_sample_sizes_count_respondents(tables):
    sv = tables["survey"]
    out = overview.survey_sample_sizes(sv, tables["districts"])
    assert out["sampled"].sum() == len(sv) and out["respondents"].sum() == sv["responded"].sum()
    np.testing.assert_allclose(out["response_rate"], out["respondents"] / out["sampled"])
    assert {"name_en", "name_zh", "psus"} <= set(out.columns)
