"""A tiny valid data folder (2 districts, 4 sub-districts, 8 communities) and ways to break it.

``write_valid_folder(path)`` writes every table of :mod:`helpers.data.schema` with a few rows, nesting
square polygons in EPSG:4548, so tests do not depend on the shipped default data.
``valid_folder(tmp_path)`` copies the default data (``helpers.paths.DATA_DIR``) when it is complete
and falls back to the tiny folder otherwise. Both write a ``metadata.json`` that declares only the
study period (``write_metadata``). The ``read_csv``/``write_csv``/``edit_*`` helpers change one thing
in a copy, keeping everything else byte-identical in spirit.
"""
from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

from helpers import paths
from helpers.data import schema

X0, Y0 = 500_000.0, 3_400_000.0  # inside EPSG:4548's area (CM 117E)
SIZE = 4_000.0  # each district is a 4 km square


def _square(x0: float, y0: float, w: float, h: float) -> list:
    return [[[x0, y0], [x0 + w, y0], [x0 + w, y0 + h], [x0, y0 + h], [x0, y0]]]


def _fc(features: list[dict]) -> dict:
    return {
        "type": "FeatureCollection",
        "name": "layer",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4548"}},
        "features": features,
    }


def _feature(props: dict, coords, kind: str = "Polygon") -> dict:
    return {"type": "Feature", "properties": props, "geometry": {"type": kind, "coordinates": coords}}


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow(["" if v is None else v for v in r])


def write_valid_folder(path) -> Path:
    """Write a tiny data folder that passes validation; returns its path."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    d_feats, s_feats, c_feats = [], [], []
    communities = []  # (community_id, subdistrict_id, district_id, x0, y0)
    for di in range(2):
        did = f"D{di + 1:02d}"
        dx = X0 + di * SIZE
        d_feats.append(_feature({"district_id": did, "name_en": f"District {di + 1}",
                                 "name_zh": f"第{di + 1}区", "zone": ("core", "outer_county")[di]},
                                _square(dx, Y0, SIZE, SIZE)))
        for si in range(2):
            sid = f"{did}S{si + 1}"
            sy = Y0 + si * SIZE / 2
            s_feats.append(_feature({"subdistrict_id": sid, "district_id": did, "name_en": f"Street {sid}",
                                     "name_zh": f"街道{sid}", "kind": ("street", "town")[si]},
                                    _square(dx, sy, SIZE, SIZE / 2)))
            for ci in range(2):
                cid = f"{sid}C{ci + 1}"
                cx = dx + ci * SIZE / 2
                c_feats.append(_feature({"community_id": cid, "subdistrict_id": sid, "district_id": did,
                                         "name_en": f"Community {cid}", "name_zh": f"社区{cid}"},
                                        _square(cx, sy, SIZE / 2, SIZE / 2)))
                communities.append((cid, sid, did, cx, sy))
    for name, feats in (("districts.geojson", d_feats), ("subdistricts.geojson", s_feats),
                        ("communities.geojson", c_feats)):
        (path / name).write_text(json.dumps(_fc(feats), ensure_ascii=False), encoding="utf-8")

    _write_csv(path / "communities.csv", schema.COMMUNITIES.column_names, [
        [cid, "community" if k % 2 == 0 else "village", 1 - k % 2, 3000 + 100 * k, 1000 + 40 * k,
         0.18, 0.25, int(k == 0), 6 + k % 3, 45.5 + k]
        for k, (cid, *_rest) in enumerate(communities)
    ])
    subs = sorted({c[1] for c in communities})
    _write_csv(path / "platform.csv", schema.PLATFORM.column_names,
               [[s, (2016, 2018, 2019, None)[k]] for k, s in enumerate(subs)])
    orgs = []
    for k, (cid, *_rest) in enumerate(communities[:6]):
        mode = ("own", "joint", "none")[k % 3]
        orgs.append([f"O{k + 1:04d}", cid, ("non_public_enterprise", "social_organisation")[k % 2],
                     20 + k, 3 if mode == "own" else 1, 2005 + k, 2019 if k == 4 else None, mode,
                     None if mode == "none" else 2019, int(mode != "none")])
    _write_csv(path / "organisations.csv", schema.ORGANISATIONS.column_names, orgs)

    pts = []
    for k, (cid, sid, did, cx, cy) in enumerate(communities[:4]):
        props = {"point_id": f"P{k + 1:03d}", "community_id": cid,
                 "level": ("district_centre", "subdistrict_centre", "community_station", "community_station")[k],
                 "year_opened": 2010 + k}
        props.update({h: (k + j) % 2 for j, h in enumerate(schema.EIGHT_HAVES)})
        pts.append(_feature(props, [cx + 500.0, cy + 700.0], "Point"))
    (path / "service_points.geojson").write_text(json.dumps(_fc(pts)), encoding="utf-8")

    years = (2018, 2019)
    members, joint, assess = [], [], []
    for k, (cid, *_rest) in enumerate(communities):
        for j, y in enumerate(years):
            members.append([cid, y, 40 + k, 20 + j, 10 + j, 120.5 + k, 5 + k, 3])
            joint.append([cid, y, 6 + k % 3, 2 + j, 4 + k])
            assess.append([cid, y, 80.5 - k])
    _write_csv(path / "members.csv", schema.MEMBERS.column_names, members)
    _write_csv(path / "joint_building.csv", schema.JOINT_BUILDING.column_names, joint)
    _write_csv(path / "assessment.csv", schema.ASSESSMENT.column_names, assess)

    survey = []
    n = 0
    for y in years:
        for cid, sid, did, *_xy in communities[::2]:
            for r in range(3):
                n += 1
                responded = int(r != 2)
                row = [f"R{n:06d}", y, did, sid, cid, 4, 0.5, responded]
                if responded:
                    made = n % 2
                    row += [250.0 + n, 30 + n, "30-44", ("female", "male")[n % 2], n % 2, 6.5, 1 + n % 5, 1 + (n + 1) % 5,
                            1 + (n + 2) % 5, 50.0 + n, 1, n % 3 == 0, made, (n % 4 == 1) if made else None]
                    row = [int(v) if isinstance(v, bool) else v for v in row]
                else:
                    row += [None] * 14
                survey.append(row)
    _write_csv(path / "survey.csv", schema.SURVEY.column_names, survey)
    _write_csv(path / "population.csv", schema.POPULATION.column_names,
               [[did, band, sex, 900 + 10 * k] for did in ("D01", "D02")
                for k, (band, *_ages) in enumerate(schema.AGE_BANDS) for sex in ("female", "male")])
    write_metadata(path, {"study_period": [years[0], years[-1]]})
    return path


def write_metadata(path, meta: dict | None) -> None:
    """Write ``meta`` as the folder's metadata.json (None: remove the file)."""
    f = Path(path) / schema.METADATA_FILE
    if meta is None:
        f.unlink(missing_ok=True)
    else:
        f.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def default_data_complete() -> bool:
    d = Path(paths.DATA_DIR)
    return all((d / t.file).is_file() for t in schema.TABLES.values())


def valid_folder(dest) -> Path:
    """A fresh valid data folder in ``dest``: a copy of the default data's tables if present (with a
    metadata.json declaring only their study period), else the tiny one."""
    dest = Path(dest)
    if default_data_complete():
        dest.mkdir(parents=True, exist_ok=True)
        for t in schema.TABLES.values():
            shutil.copyfile(Path(paths.DATA_DIR) / t.file, dest / t.file)
        meta = json.loads((Path(paths.DATA_DIR) / schema.METADATA_FILE).read_text(encoding="utf-8"))
        write_metadata(dest, {"study_period": meta["study_period"]})
        return dest
    return write_valid_folder(dest)


# -- editing helpers ----------------------------------------------------------------------------
def read_csv(path) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def write_csv(path, header, rows) -> None:
    _write_csv(Path(path), header, rows)


def edit_cell(path, row: int, column: str, value) -> str:
    """Set data row ``row`` (1-based) of ``column``; returns that row's first (key) value."""
    header, rows = read_csv(path)
    rows[row - 1][header.index(column)] = "" if value is None else str(value)
    write_csv(path, header, rows)
    return rows[row - 1][0]


def cell(path, row: int, column: str) -> str:
    header, rows = read_csv(path)
    return rows[row - 1][header.index(column)]


def read_geojson(path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_geojson(path, obj) -> None:
    Path(path).write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")


def csv_text(header, rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()
