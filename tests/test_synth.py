"""The synthetic-city generator: determinism, the planted design, the large-survey mode."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.data import synth
from helpers.data.schema import GROUND_TRUTH_FILE, METADATA_FILE, TABLES
from helpers.data.synth import _check, _io

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
DGP_DOC = ROOT / "docs" / "synthetic_dgp.md"

pytestmark = pytest.mark.xdist_group("synth")


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    """The default dataset regenerated from scratch, once per module (about 5 s)."""
    out = tmp_path_factory.mktemp("synth")
    synth.generate(out, synth.DEFAULT_SEED, quiet=True)
    return out


# ---------------------------------------------------------------- (a) determinism
def test_regeneration_is_byte_identical_to_committed_data(regenerated):
    meta = json.loads((DATA / METADATA_FILE).read_text())
    assert meta["seed"] == synth.DEFAULT_SEED
    assert meta["generator_version"] == synth.GENERATOR_VERSION
    files = sorted(meta["files"]) + [METADATA_FILE]
    expected = {t.file for t in TABLES.values()} | {GROUND_TRUTH_FILE, "truth_registration.csv", METADATA_FILE}
    assert set(files) == expected
    for f in files:
        assert _io.sha256(regenerated / f) == _io.sha256(DATA / f), f"{f} differs: run 'make data'"
    for f, info in meta["files"].items():
        assert info["sha256"] == _io.sha256(DATA / f), f"metadata.json hash of {f} is stale"


def test_metadata_says_synthetic():
    meta = json.loads((DATA / METADATA_FILE).read_text())
    assert meta["synthetic"] is True and "SYNTHETIC" in meta["description"]
    assert meta["generator"] == "helpers.data.synth" and meta["crs"] == "EPSG:4548"
    assert meta["study_period"] == list(synth.STUDY_PERIOD) == [2018, 2024]
    for f, info in meta["files"].items():
        if f.endswith(".csv"):
            assert info["rows"] == len(pd.read_csv(DATA / f))


def test_cli_help(capsys):
    from helpers.cli import synth as synth_main

    assert synth_main(["--help"]) == 0
    assert "--respondents" in capsys.readouterr().out


# ---------------------------------------------------------------- (b) the planted design
def test_committed_data_honour_the_contract():
    assert _check.check_folder(DATA) == []


def test_geography_counts_and_crs():
    import geopandas as gpd
    d = gpd.read_file(DATA / "districts.geojson")
    s = gpd.read_file(DATA / "subdistricts.geojson")
    c = gpd.read_file(DATA / "communities.geojson")
    assert d.crs.to_epsg() == 4548 and d.crs.is_projected and d.crs.axis_info[0].unit_name == "metre"
    assert d["zone"].value_counts().to_dict() == {"outer_county": 5, "inner_suburb": 4, "core": 3}
    assert 90 <= len(s) <= 110 and 1200 <= len(c) <= 1500
    kinds = s.merge(d[["district_id", "zone"]], on="district_id")
    assert set(kinds.loc[kinds.zone != "outer_county", "kind"]) == {"street"}
    assert set(kinds.loc[kinds.zone == "outer_county", "kind"]) <= {"town", "township"}
    # names unique within their parent
    assert not c.duplicated(["subdistrict_id", "name_zh"]).any()
    assert not c.duplicated(["subdistrict_id", "name_en"]).any()
    assert not s.duplicated(["district_id", "name_en"]).any()
    # exact nesting: communities dissolve into sub-districts, sub-districts into districts
    import shapely
    for child, parent, key in ((c, s, "subdistrict_id"), (s, d, "district_id")):
        for k, grp in child.groupby(key):
            u = shapely.union_all(grp.geometry.values)
            p = parent.loc[parent[key] == k].geometry.iloc[0]
            assert abs(u.area - p.area) < 1.0 and u.symmetric_difference(p).area < 1.0
    # whole-metre coordinates
    xy = shapely.get_coordinates(c.geometry.values)
    assert (xy == np.round(xy)).all()


def test_survey_design():
    sv = pd.read_csv(DATA / "survey.csv", dtype={"resp_id": str})
    com = pd.read_csv(DATA / "communities.csv")
    pop = com.assign(district_id=com.community_id.str[:3]).groupby("district_id").population.sum()
    n_comm = com.assign(district_id=com.community_id.str[:3]).groupby("district_id").size()
    psus = sv.groupby(["year", "district_id"]).community_id.nunique()
    assert (psus <= 8).all() and psus.mean() > 7.5  # 8 PSUs (a big community may be drawn once only)
    per_psu = sv.groupby(["year", "community_id"]).size()
    assert (per_psu == 20).all()
    assert 0.8 < sv.responded.mean() < 0.9
    # weights sum to the district population (exact for PPS with equal take and no certainty PSUs)
    wsum = sv.groupby(["year", "district_id"]).weight.sum()
    ratio = wsum / pop.reindex(wsum.index.get_level_values("district_id")).to_numpy()
    assert ((ratio > 0.95) & (ratio < 1.05)).all()
    assert (sv.groupby("district_id").n_psu_stratum.first() == n_comm).all()
    # the published psu_prob is proportional to population within a stratum-year
    m = sv.merge(com[["community_id", "population"]], on="community_id").drop_duplicates(["year", "community_id"])
    r = (m.psu_prob / m.population).groupby([m.year, m.district_id]).agg(["min", "max"])
    assert np.allclose(r["min"], r["max"], rtol=1e-4)


def _doc_keys() -> set[str]:
    """Effect keys listed in the truth table of docs/synthetic_dgp.md."""
    keys = set()
    in_table = False
    for line in DGP_DOC.read_text().splitlines():
        if line.startswith("## Planted truths"):
            in_table = True
        elif line.startswith("## ") and in_table:
            break
        elif in_table:
            m = re.match(r"\|\s*`([a-z0-9_]+)`\s*\|", line)
            if m:
                keys.add(m.group(1))
    return keys


def test_ground_truth_has_every_documented_key():
    gt = json.loads((DATA / GROUND_TRUTH_FILE).read_text())
    keys = _doc_keys()
    assert len(keys) >= 20
    assert keys == set(gt["effects"]), set(gt["effects"]) ^ keys
    for k, e in gt["effects"].items():
        assert {"value", "description", "estimator"} <= set(e), k
    assert gt["synthetic"] is True and len(gt["district_effects"]) == 12
    assert set(gt["effects"]["platform_att_by_event_time"]["value"]) == {"0", "1", "2", "3"}
    assert np.isclose(gt["effects"]["platform_att"]["value"],
                      np.mean(list(gt["effects"]["platform_att_by_event_time"]["value"].values())), atol=1e-5)
    tr = pd.read_csv(DATA / "truth_registration.csv")
    assert list(tr.columns) == ["community_id", "year", "p_registered"]
    assert tr.p_registered.between(0, 1).all() and len(tr) == 7 * len(pd.read_csv(DATA / "communities.csv"))


def test_access_grows_over_the_study_period():
    import geopandas as gpd
    p = gpd.read_file(DATA / "service_points.geojson")
    opened = [(p.year_opened <= t).sum() for t in range(2018, 2025)]
    assert all(a < b for a, b in zip(opened, opened[1:]))
    sv = pd.read_csv(DATA / "survey.csv")
    w15 = (sv.walk_minutes <= 15).groupby(sv.year).mean()
    assert w15.loc[2024] > w15.loc[2018]


# ---------------------------------------------------------------- (c) the large-survey mode
def test_large_survey_mode_small_n(tmp_path):
    path = synth.generate_big_survey(tmp_path, 3001, quiet=True)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["survey.csv"]
    sv = _check.read_table(tmp_path, TABLES["survey"])
    assert len(sv) == 3001
    assert _check.check_table(TABLES["survey"], sv, {}) == []
    assert sv.groupby(["year", "district_id"]).community_id.nunique().min() >= 8
    again = tmp_path / "again"
    synth.generate_big_survey(again, 3001, quiet=True)
    assert _io.sha256(path) == _io.sha256(again / "survey.csv")


def test_large_survey_cli_parquet(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "helpers", "synth", "--respondents", "2000", "--format", "parquet",
                           "--out", str(tmp_path), "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    df = pd.read_parquet(tmp_path / "survey.parquet")
    assert len(df) == 2000 and list(df.columns) == TABLES["survey"].column_names


# ---------------------------------------------------------------- (d) the census margins
def test_population_margins_are_a_census_of_the_communities():
    pop = pd.read_csv(DATA / "population.csv")
    com = pd.read_csv(DATA / "communities.csv")
    com["district_id"] = com.community_id.str[:3]
    assert len(pop) == 12 * 5 * 2 and (pop.residents > 0).all()
    # every resident counted once: the district totals are the communities' populations
    tot = pop.groupby("district_id").residents.sum()
    assert (tot == com.groupby("district_id").population.sum().loc[tot.index]).all()
    # the age and sex mix of the draw: 60+ share as share_60plus, half female (binomial noise only)
    old = pop[pop.age_band.isin(["60-74", "75+"])].groupby("district_id").residents.sum() / tot
    expect = (com.population * com.share_60plus).groupby(com.district_id).sum() / tot
    assert np.abs(old - expect.loc[old.index]).max() < 0.005
    fem = pop[pop.sex == "female"].groupby("district_id").residents.sum() / tot
    assert np.abs(fem - 0.5).max() < 0.005


def test_survey_age_band_is_derived_from_age():
    from helpers.data.schema import AGE_BANDS
    sv = pd.read_csv(DATA / "survey.csv")
    r = sv[sv.responded == 1]
    for label, lo, hi in AGE_BANDS:
        assert r.loc[r.age_band == label, "age"].between(lo, hi).all()
    assert r.age_band.notna().all() and sv.loc[sv.responded == 0, "age_band"].isna().all()
