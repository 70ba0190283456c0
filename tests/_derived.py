"""Data folders derived from the shipped city, for testing that nothing assumes its shape.

Each function edits a folder in place (copy first with :func:`copy`); every result passes the data
contract. From the command line, for trying notebooks on other shapes::

    python tests/_derived.py OUT --districts 5 --years 2021 2023 --drop service_points assessment --real
    python tests/_derived.py OUT --shift 1 --one-subdistrict D03

The kinds: fewer districts (:func:`keep_districts`), fewer years (:func:`truncate`), a shifted
study period (:func:`shift`), absent optional tables (:func:`drop`), a district with a single
sub-district (:func:`one_subdistrict`), real-data mode (:func:`real`: no synthetic flag, no
planted truth).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers import paths  # noqa: E402
from helpers.data import schema  # noqa: E402

YEARLY = [n for n, t in schema.TABLES.items() if "year" in t.column_names]
GEO = {"districts": "districts.geojson", "subdistricts": "subdistricts.geojson",
       "community_boundaries": "communities.geojson", "service_points": "service_points.geojson"}
TRUTH_FILES = (schema.GROUND_TRUTH_FILE, "truth_registration.csv")


def copy(dst, src=None) -> Path:
    """A copy of the data folder ``src`` (default: the shipped data) in ``dst``; returns ``dst``."""
    dst = Path(dst)
    shutil.copytree(Path(src or paths.DATA_DIR), dst, ignore=shutil.ignore_patterns("README.md"))
    return dst


def _csv(d: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(d / schema.TABLES[name].file, dtype=str, keep_default_na=False)


def _write(d: Path, name: str, df: pd.DataFrame) -> None:
    df.to_csv(d / schema.TABLES[name].file, index=False, lineterminator="\n")


def _geo(d: Path, name: str) -> dict:
    return json.loads((d / GEO[name]).read_text(encoding="utf-8"))


def _write_geo(d: Path, name: str, obj: dict) -> None:
    (d / GEO[name]).write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")


def _years(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.replace("", None))


def _meta(d: Path) -> dict:
    f = d / schema.METADATA_FILE
    return json.loads(f.read_text(encoding="utf-8")) if f.is_file() else {}


def _set_meta(d: Path, **changes) -> None:
    meta = {k: v for k, v in (_meta(d) | changes).items() if v is not None}
    meta.pop("files", None)  # checksums of the shipped files no longer hold
    (d / schema.METADATA_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _present(d: Path, name: str) -> bool:
    return (d / schema.TABLES[name].file).is_file()


def keep_districts(d, district_ids) -> None:
    """Keep only the districts ``district_ids`` and everything in them."""
    d, keep = Path(d), set(district_ids)
    comm = _geo(d, "community_boundaries")
    comm["features"] = [f for f in comm["features"] if f["properties"]["district_id"] in keep]
    cids = {f["properties"]["community_id"] for f in comm["features"]}
    _write_geo(d, "community_boundaries", comm)
    for name in ("districts", "subdistricts"):
        g = _geo(d, name)
        g["features"] = [f for f in g["features"] if f["properties"]["district_id"] in keep]
        _write_geo(d, name, g)
    sids = {f["properties"]["subdistrict_id"] for f in _geo(d, "subdistricts")["features"]}
    if _present(d, "service_points"):
        sp = _geo(d, "service_points")
        sp["features"] = [f for f in sp["features"] if f["properties"]["community_id"] in cids]
        _write_geo(d, "service_points", sp)
    for name in schema.TABLES:
        if name in GEO or not _present(d, name):
            continue
        df = _csv(d, name)
        if "community_id" in df:
            df = df[df["community_id"].isin(cids)]
        elif "subdistrict_id" in df:
            df = df[df["subdistrict_id"].isin(sids)]
        elif "district_id" in df:  # tables keyed by district alone (the census margins)
            df = df[df["district_id"].isin(keep)]
        _write(d, name, df)
    _drop_truth(d)  # the planted truth describes the whole city


def truncate(d, first: int, last: int) -> None:
    """Keep the years first..last, as if the data had been collected then: yearly rows outside go;
    organisations, service points and platforms appearing later go or lose what came later."""
    d = Path(d)
    for name in YEARLY:
        if _present(d, name):
            df = _csv(d, name)
            _write(d, name, df[_years(df["year"]).between(first, last)])
    if _present(d, "organisations"):
        o = _csv(d, "organisations")
        o = o[_years(o["year_founded"]) <= last].copy()
        o.loc[_years(o["year_closed"]) > last, "year_closed"] = ""
        late = _years(o["party_org_year"]) > last
        o.loc[late, "party_org_year"] = ""
        o.loc[late, "party_org_mode"] = "none"
        _write(d, "organisations", o)
    if _present(d, "platform"):
        p = _csv(d, "platform")
        p.loc[_years(p["platform_year"]) > last, "platform_year"] = ""
        _write(d, "platform", p)
    if _present(d, "service_points"):
        sp = _geo(d, "service_points")
        sp["features"] = [f for f in sp["features"] if f["properties"]["year_opened"] <= last]
        _write_geo(d, "service_points", sp)
    _set_meta(d, study_period=[first, last])
    _drop_truth(d)


def shift(d, by: int) -> None:
    """Relabel every year column: the same city ``by`` years later."""
    d = Path(d)
    cols = {"members": ["year"], "joint_building": ["year"], "assessment": ["year"], "survey": ["year"],
            "organisations": ["year_founded", "year_closed", "party_org_year"], "platform": ["platform_year"]}
    for name, cs in cols.items():
        if not _present(d, name):
            continue
        df = _csv(d, name)
        for c in cs:
            v = _years(df[c])
            df[c] = [("" if pd.isna(x) else str(int(x) + by)) for x in v]
        _write(d, name, df)
    if _present(d, "service_points"):
        sp = _geo(d, "service_points")
        for f in sp["features"]:
            f["properties"]["year_opened"] += by
        _write_geo(d, "service_points", sp)
    tr = d / "truth_registration.csv"
    if tr.is_file():
        t = pd.read_csv(tr, dtype={"community_id": str})
        t.assign(year=t["year"] + by).to_csv(tr, index=False, lineterminator="\n")
    meta = _meta(d)
    first, last = meta.get("study_period") or meta.get("study_years") or [None, None]
    if first is not None:
        _set_meta(d, study_period=[int(first) + by, int(last) + by])


def drop(d, tables) -> None:
    """Remove the files of the optional ``tables``."""
    for name in tables:
        if schema.TABLES[name].required:
            raise ValueError(f"{name} is a required table")
        (Path(d) / schema.TABLES[name].file).unlink(missing_ok=True)


def one_subdistrict(d, district_id: str) -> None:
    """Merge every sub-district of ``district_id`` into its first one (dissolving the polygons)."""
    import geopandas as gpd

    d = Path(d)
    subs = gpd.read_file(d / GEO["subdistricts"])
    mine = subs[subs["district_id"] == district_id].sort_values("subdistrict_id")
    if mine.empty:
        raise ValueError(f"no district {district_id!r}")
    keep_id = mine["subdistrict_id"].iloc[0]
    merged_geom = mine.geometry.union_all()
    g = _geo(d, "subdistricts")
    out = []
    for f in g["features"]:
        p = f["properties"]
        if p["district_id"] != district_id:
            out.append(f)
        elif p["subdistrict_id"] == keep_id:
            f["geometry"] = json.loads(gpd.GeoSeries([merged_geom]).to_json())["features"][0]["geometry"]
            out.append(f)
    g["features"] = out
    _write_geo(d, "subdistricts", g)
    comm = _geo(d, "community_boundaries")
    for f in comm["features"]:
        if f["properties"]["district_id"] == district_id:
            f["properties"]["subdistrict_id"] = keep_id
    _write_geo(d, "community_boundaries", comm)
    gone = set(mine["subdistrict_id"]) - {keep_id}
    if _present(d, "platform"):
        p = _csv(d, "platform")
        _write(d, "platform", p[~p["subdistrict_id"].isin(gone)])
    if _present(d, "survey"):
        s = _csv(d, "survey")
        s.loc[s["subdistrict_id"].isin(gone), "subdistrict_id"] = keep_id
        _write(d, "survey", s)
    if _present(d, "service_points"):  # one sub-district centre per sub-district
        sp = _geo(d, "service_points")
        cids = {f["properties"]["community_id"] for f in comm["features"]
                if f["properties"]["district_id"] == district_id}
        seen = False
        for f in sorted(sp["features"], key=lambda f: f["properties"]["point_id"]):
            p = f["properties"]
            if p["community_id"] in cids and p["level"] == "subdistrict_centre":
                if seen:
                    p["level"] = "community_station"
                seen = True
        _write_geo(d, "service_points", sp)
    _drop_truth(d)


def real(d) -> None:
    """Real-data mode: the metadata no longer says synthetic, and the planted truth is gone."""
    d = Path(d)
    meta = _meta(d)
    keep = {k: meta[k] for k in ("study_period", "crs") if k in meta}
    (d / schema.METADATA_FILE).write_text(json.dumps({"synthetic": False, "title": "A city's own data", **keep},
                                                     ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    for f in TRUTH_FILES:
        (d / f).unlink(missing_ok=True)


def _drop_truth(d: Path) -> None:
    """The planted truth describes the shipped city as generated; a derived folder is another city."""
    for f in TRUTH_FILES:
        (d / f).unlink(missing_ok=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", type=Path, help="the new folder (must not exist)")
    p.add_argument("--src", type=Path, default=None, help="the folder to derive from (default: the shipped data)")
    p.add_argument("--districts", type=int, default=None, help="keep the first N districts")
    p.add_argument("--years", type=int, nargs=2, default=None, metavar=("FIRST", "LAST"), help="keep these years")
    p.add_argument("--shift", type=int, default=None, help="relabel every year by this many years")
    p.add_argument("--drop", nargs="+", default=[], metavar="TABLE", help="remove these optional tables")
    p.add_argument("--one-subdistrict", default=None, metavar="DISTRICT", help="merge a district's sub-districts")
    p.add_argument("--real", action="store_true", help="real-data mode (no synthetic flag, no planted truth)")
    a = p.parse_args(argv)
    d = copy(a.out, a.src)
    if a.districts:
        ids = sorted(f["properties"]["district_id"] for f in _geo(d, "districts")["features"])[: a.districts]
        keep_districts(d, ids)
    if a.years:
        truncate(d, *a.years)
    if a.shift:
        shift(d, a.shift)
    if a.one_subdistrict:
        one_subdistrict(d, a.one_subdistrict)
    drop(d, a.drop)
    if a.real:
        real(d)
    from helpers.data.validate import validate_dir

    report = validate_dir(d)
    print(report.format(max_lines=20))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
