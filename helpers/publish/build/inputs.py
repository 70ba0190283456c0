"""What the build is given besides the notebooks: the data folder, the output folder, parameters.

Standard library only at import (the no-change path imports this); the data
check imports the validator only when the data changed since the last build.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from helpers import paths
from helpers.publish import provenance
from helpers.publish.build.plan import slug

#: The default data folder (the synthetic city shipped with the repository).
DEFAULT_DATA = paths.ROOT / "data"
#: Names a report may not have: they are folders or pages of the site itself.
RESERVED_NAMES = {"index", "findings", "errors"}


class UsageError(Exception):
    """A problem with what the build was given; its message is one line (exit status 2)."""


# ---------------------------------------------------------------------------
# the data folder
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class DataFolder:
    """The data folder of a build.

    ``given`` is the folder as the user wrote it (``--data-dir``, else
    ``$HELPERS_DATA_DIR``, else ``data``); ``path`` is it resolved; ``display`` is
    how reports and the index name it: relative to the repository when inside it,
    else as given (with the home folder written ``~``).
    """

    given: str
    path: Path
    display: str
    is_default: bool

    @property
    def validate_arg(self) -> str:
        """The folder as :func:`helpers.data.validate.validate_dir` should name it in its lines."""
        return self.given


def data_folder(given: str | None) -> DataFolder:
    """The build's data folder; :class:`UsageError` when it does not exist or is a file."""
    source = "--data-dir"
    if given is None and os.environ.get("HELPERS_DATA_DIR"):
        given, source = os.environ["HELPERS_DATA_DIR"], "HELPERS_DATA_DIR"
    if given is None:
        path = DEFAULT_DATA.resolve()
        given = os.path.relpath(path) if _inside(Path.cwd().resolve(), paths.ROOT.resolve()) else str(path)
    else:
        path = Path(given).expanduser().resolve()
    label = f"data folder {given}" + ("" if source == "--data-dir" else f" (from ${source})")
    if path.is_file():
        raise UsageError(f"{label} is a file; give the folder that holds the tables (e.g. {Path(given).parent})")
    if not path.is_dir():
        raise UsageError(f"{label} does not exist; give the folder that holds the CSV and GeoJSON files")
    return DataFolder(given=given, path=path, display=display_path(given, path),
                      is_default=path == DEFAULT_DATA.resolve())


def _inside(p: Path, root: Path) -> bool:
    return p == root or root in p.parents


def display_path(given: str, path: Path) -> str:
    """``path`` relative to the repository when inside it, else ``given`` (home folder as ``~``)."""
    root = paths.ROOT.resolve()
    if _inside(path, root):
        rel = path.relative_to(root).as_posix()
        return rel or "."
    home = str(Path.home())
    if len(home) > 1 and (given == home or given.startswith(home + os.sep)):
        return "~" + given[len(home):]
    return given


def metadata(folder: DataFolder) -> dict:
    """What the index and the reports say about the data, from ``metadata.json``.

    Returns ``{"name", "synthetic", "generator", "display"}``: ``name`` is the
    metadata's ``"name"``, else its ``"title"``, else the folder's name;
    ``synthetic`` is true only when the metadata say ``"synthetic": true``;
    ``generator`` describes the generator and seed of synthetic data (else "").
    """
    try:
        doc = json.loads((folder.path / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        doc = {}
    if not isinstance(doc, dict):
        doc = {}
    name = next((str(doc[k]).strip() for k in ("name", "title") if isinstance(doc.get(k), str) and doc[k].strip()),
                folder.path.name)
    synthetic = doc.get("synthetic") is True
    generator = ""
    if synthetic:
        gen, seed = doc.get("generator_version") or doc.get("generator"), doc.get("seed")
        generator = ", ".join(x for x in (f"generator {gen}" if gen else "",
                                          f"seed {seed}" if seed is not None else "") if x)
    return {"name": name, "synthetic": synthetic, "generator": generator, "display": folder.display}


def _validator_hash() -> str:
    helpers = paths.ROOT / "helpers"
    files = [*(helpers / "data").rglob("*.py"), *(helpers / "data").rglob("*.yaml"),
             helpers / "studies" / "__init__.py", helpers / "paths.py"]
    return provenance.files_hash([p for p in files if p.is_file() and "__pycache__" not in p.parts], paths.ROOT)


def check_data(folder: DataFolder, data_hashes: dict[str, str], manifest: dict) -> dict:
    """Validate the data folder (cached in ``manifest`` while the data and the validator are unchanged).

    Returns ``{"ok", "report", "warnings", "available"}``: whether the folder meets the
    data contract, the validator's text (its lines name the folder as given), its
    warning lines, and the tables the folder has
    (:func:`helpers.data.load.available_tables`).
    """
    key = hashlib.sha256(json.dumps([folder.given, data_hashes, _validator_hash()], sort_keys=True).encode()
                         ).hexdigest()
    cached = manifest.get("data_check")
    if cached and cached.get("key") == key:
        return cached["result"]
    from helpers.data.load import available_tables
    from helpers.data.validate import validate_dir

    report = validate_dir(folder.validate_arg)
    result = {"ok": report.ok, "report": report.format(max_lines=40),
              "warnings": [p.line() for p in report.warnings],
              "available": list(available_tables(folder.path)) if report.ok else []}
    manifest["data_check"] = {"key": key, "result": result}
    return result


def _typographic(name: str) -> str:
    """A place name with typographic apostrophes (U+2019), as the reports print place names."""
    return str(name).replace("'", "\u2019")


def districts(folder: DataFolder, hasher, manifest: dict) -> list[dict]:
    """``[{"district_id", "name"}]`` sorted by id, from the districts table (cached in ``manifest``).

    Names are written as the reports write place names: a straight apostrophe becomes the typographic
    one (U+2019, "Yong’an County"), so the index names a district as its profile does."""
    from helpers.data.schema import TABLES

    key = f"{hasher.file(folder.path / TABLES['districts'].file)}:{_validator_hash()}"
    cached = manifest.get("districts")
    if cached and cached.get("key") == key:
        return [dict(d, name=_typographic(d["name"])) for d in cached["items"]]
    from helpers.data.load import load_table

    df = load_table("districts", data_dir=folder.path)
    items = []
    for _, row in df.iterrows():
        did = str(row["district_id"])
        names = [str(row[c]) for c in ("name_en", "name_zh") if c in row and row[c] == row[c] and row[c] is not None]
        names = list(dict.fromkeys(names))
        items.append({"district_id": did, "name": _typographic(" ".join(names)) if names else did})
    items.sort(key=lambda d: d["district_id"])
    manifest["districts"] = {"key": key, "items": items}
    return items


# ---------------------------------------------------------------------------
# the output folder and the cache
# ---------------------------------------------------------------------------

def out_folder(given: str | None, data: DataFolder) -> tuple[Path, str]:
    """The site folder and how to name it: ``--out``, else ``reports/site`` for the default data,
    else ``reports/sites/<name of the data folder>``."""
    if given:
        return Path(given).expanduser().resolve(), given
    out = paths.SITE_DIR if data.is_default else paths.SITES_DIR / slug(data.path.name)
    return out.resolve(), out.relative_to(paths.ROOT).as_posix()


def check_out(out: Path, shown: str, data: DataFolder, notebooks: Path, create: bool = True) -> None:
    """Create the site folder if needed (``create``); :class:`UsageError` when it cannot hold a site."""
    root = paths.ROOT.resolve()
    for what, p in (("the repository", root), ("the data folder", data.path), ("the notebooks folder", notebooks)):
        if out == p or out in p.parents or (what != "the repository" and p in out.parents):
            raise UsageError(f"--out {shown} would put the site {'inside' if p in out.parents else 'over'} "
                             f"{what}; give a folder of its own (e.g. reports/sites/NAME)")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {shown} is a file; give a folder for the site")
    if not create:
        return
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--out {shown}: cannot create the folder ({e.strerror or e}); give a folder you can "
                         "write to") from None
    probe = out / f".write-test.{os.getpid()}.tmp"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise UsageError(f"--out {shown}: cannot write into the folder ({e.strerror or e}); give a folder you can "
                         "write to") from None


def cache_folder(given: str | None, out: Path) -> Path:
    """``--cache-dir``, else ``.build-cache/<site key>``: the key is the site's path in the repository
    (``reports-site``), or its name and a hash of its path when outside."""
    if given:
        return Path(given).expanduser().resolve()
    root = paths.ROOT.resolve()
    if _inside(out, root):
        key = slug(out.relative_to(root).as_posix().replace("/", "-"))
    else:
        key = f"{slug(out.name)}-{hashlib.sha256(str(out).encode()).hexdigest()[:10]}"
    return paths.BUILD_CACHE_DIR / key


def prepare_cache(cache: Path) -> None:
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot create the build cache {cache} ({e.strerror or e}); give --cache-dir DIR") from None


# ---------------------------------------------------------------------------
# parameters
# ---------------------------------------------------------------------------

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_params(items: list[str]) -> dict:
    """``["year=2023", "label=north"]`` -> ``{"year": 2023, "label": "north"}``.

    A value is read as a Python literal (``2023``, ``0.5``, ``'x'``, ``True``); text that is
    not a literal is taken as a string. :class:`UsageError` on a malformed item or a
    value of another type (a list, ``None``).
    """
    out = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not _NAME.match(name):
            raise UsageError(f"--param {item}: write NAME=VALUE, e.g. --param year=2023")
        try:
            value = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            value = text
        if not isinstance(value, (int, float, str)):  # bool is an int
            raise UsageError(f"--param {item}: the value must be a number or a string, not {type(value).__name__}")
        out[name] = value
    return out


def same_value(a, b) -> bool:
    """Equal and of the same type (``2023`` is not ``2023.0``, ``1`` is not ``True``)."""
    return type(a) is type(b) and a == b
