"""What to build: notebook discovery, district list, cache keys, the manifest.

Standard library only (json, hashlib, ast): this is the no-change rebuild
path, which must finish in well under two seconds.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from helpers.publish import provenance

#: Bump when the build's output format changes, to rebuild everything once.
BUILD_FORMAT = 2
#: A notebook whose parameters cell sets this name runs once per district.
DISTRICT_PARAM = "district_id"


@dataclass
class Notebook:
    path: Path
    stem: str
    cells: list[dict]          # [{"cell_type", "source", "tags"}]
    input_hash: str
    defaults: dict = field(default_factory=dict)
    has_parameters_cell: bool = False

    @property
    def per_district(self) -> bool:
        return DISTRICT_PARAM in self.defaults

    def title_and_summary(self) -> tuple[str, str]:
        """The first ``# heading`` of the first markdown cells, and the first paragraph after it."""
        title, summary = "", ""
        for c in self.cells:
            if c["cell_type"] != "markdown":
                continue
            for para in re.split(r"\n\s*\n", c["source"].strip()):
                para = para.strip()
                if not para:
                    continue
                if not title and para.startswith("#"):
                    title = para.splitlines()[0].lstrip("#").strip()
                    rest = "\n".join(para.splitlines()[1:]).strip()
                    if rest and not summary:
                        summary = rest
                elif not summary and not para.startswith(("#", "|", "<", "!", "```", "$$")):
                    summary = para
                if title and summary:
                    break
            if title and summary:
                break
        return title or self.stem, _whole_sentences(_plain(summary))


def _whole_sentences(text: str, limit: int = 240) -> str:
    """The first sentences of ``text`` that fit in about ``limit`` characters, never cut mid-sentence: a
    leading "Question." label is dropped, and so is a sentence that ends in a colon (it introduces a
    list the summary does not show). A first sentence longer than ``limit`` is kept whole."""
    text = re.sub(r"^(Question|Questions)\.\s+", "", text.strip())
    out: list[str] = []
    for sentence in re.split(r"(?<=[.?!])\s+(?=[A-Z\"'(])", text):
        if sentence.rstrip().endswith(":"):
            break
        if out and len(" ".join(out + [sentence])) > limit:
            break
        out.append(sentence)
    return " ".join(out)


def _plain(md: str) -> str:
    """Markdown paragraph -> one line of plain text (links keep their text)."""
    s = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", md)
    s = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", s)
    s = re.sub(r"[*_`]+", "", s)
    return " ".join(s.split())


def _source(x) -> str:
    return "".join(x) if isinstance(x, list) else (x or "")


def _percent_cells(text: str) -> list[dict]:
    """Minimal reader of jupytext py:percent scripts (for discovery only; execution uses jupytext)."""
    cells: list[dict] = []
    cur = None
    for line in text.splitlines():
        m = re.match(r"^# %%(.*)$", line)
        if m:
            header = m.group(1)
            kind = "markdown" if re.search(r"\[(markdown|md)\]", header) else "code"
            tags = re.findall(r'"([^"]+)"', (re.search(r"tags=\[([^\]]*)\]", header) or [None, ""])[1] or "")
            cur = {"cell_type": kind, "lines": [], "tags": tags}
            cells.append(cur)
            continue
        if cur is None:
            continue  # the jupytext header
        if cur["cell_type"] == "markdown":
            line = re.sub(r"^# ?", "", line)
        cur["lines"].append(line)
    return [{"cell_type": c["cell_type"], "source": "\n".join(c["lines"]).strip(), "tags": c["tags"]}
            for c in cells]


def read_notebook_light(path: Path) -> Notebook:
    """Cells of a notebook without nbformat (fast); hash covers inputs only, not outputs."""
    if path.suffix == ".ipynb":
        doc = json.loads(path.read_text(encoding="utf-8"))
        cells = [{"cell_type": c.get("cell_type"), "source": _source(c.get("source")),
                  "tags": list(c.get("metadata", {}).get("tags", []))} for c in doc.get("cells", [])]
        kernel = doc.get("metadata", {}).get("kernelspec", {}).get("name", "")
    else:
        cells = _percent_cells(path.read_text(encoding="utf-8"))
        kernel = ""
    h = hashlib.sha256(json.dumps({"cells": cells, "kernel": kernel, "suffix": path.suffix},
                                  sort_keys=True).encode()).hexdigest()
    nb = Notebook(path=path, stem=path.stem, cells=cells, input_hash=h)
    for c in cells:
        if c["cell_type"] == "code" and "parameters" in c["tags"]:
            nb.has_parameters_cell = True
            nb.defaults = parameter_defaults(c["source"])
            break
    return nb


def parameter_defaults(source: str) -> dict:
    """Names assigned in a parameters cell and their literal defaults (non-literals as their source)."""
    out = {}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return out
    for node in tree.body:
        targets = []
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for t in targets:
            if isinstance(t, ast.Name):
                try:
                    out[t.id] = ast.literal_eval(value)
                except ValueError:
                    out[t.id] = ast.get_source_segment(source, value)
    return out


def discover(notebooks_dir: Path) -> list[Notebook]:
    """Every ``*.ipynb`` in ``notebooks_dir``, plus jupytext ``*.py`` scripts that have no ``.ipynb`` twin.

    Files starting with ``_`` or ``.`` are skipped (scratch notebooks).
    """
    found: dict[str, Path] = {}
    for p in sorted(notebooks_dir.glob("*.ipynb")):
        if not p.name.startswith(("_", ".")):
            found[p.stem] = p
    for p in sorted(notebooks_dir.glob("*.py")):
        if p.stem in found or p.name.startswith(("_", ".")):
            continue
        head = p.read_text(encoding="utf-8", errors="replace")[:4000]
        if "# %%" in head:
            found[p.stem] = p
    return [read_notebook_light(found[s]) for s in sorted(found)]


def describe_error(err: dict) -> str:
    """``code cell 3, line 5 (fit(model)): ValueError: ...`` (or the message alone) for a failed report."""
    where = ""
    if err.get("cell"):
        where = f"code cell {err['cell']}" + (f", line {err['line']}" if err.get("line") else "")
        if err.get("source"):
            where += f" ({err['source']})"
    return (where + ": " if where else "") + (err.get("message") or "")


def slug(text: str) -> str:
    """A file-name-safe form of ``text`` (a district id, a folder name): letters, digits, ``.``, ``_``, ``-``."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("._")
    return s or hashlib.sha256(str(text).encode()).hexdigest()[:10]


# ---------------------------------------------------------------------------
# hashing
# ---------------------------------------------------------------------------

class Hasher:
    """Content hashes, each file read at most once per build."""

    def __init__(self):
        self._memo: dict[str, str] = {}

    def file(self, path: str | Path) -> str:
        key = str(path)
        if key not in self._memo:
            try:
                self._memo[key] = provenance.sha256_file(path)
            except OSError:
                self._memo[key] = "missing"
        return self._memo[key]


def cache_key(parts: dict) -> str:
    """SHA-256 of a report's key parts (see :func:`helpers.publish.build.main`): any change rebuilds it."""
    doc = {"format": BUILD_FORMAT, **parts}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


_PART_LABELS = {"notebook": "the notebook changed", "params": "its parameters changed",
                "core": "the build code or templates changed", "lock": "requirements.lock changed",
                "settings": "the build settings changed (disclosure threshold, synthetic flag)"}


def why_rebuild(old: dict | None, new: dict) -> str:
    """A short reason why a report with key parts ``old`` is out of date against ``new``."""
    if not old:
        return "not built before (or by an older build)"
    reasons = []
    for part in ("notebook", "params", "core", "lock", "settings"):
        if old.get(part) != new.get(part):
            reasons.append(_PART_LABELS[part])
    for part, label in (("helpers", "helpers"), ("data", "data")):
        a, b = old.get(part) or {}, new.get(part) or {}
        changed = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        if changed:
            names = ", ".join(Path(c).name if label == "data" else c for c in changed[:3])
            more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
            reasons.append(f"{label} changed: {names}{more}")
    return "; ".join(reasons) or "inputs changed"


# ---------------------------------------------------------------------------
# manifest
# ---------------------------------------------------------------------------

def load_manifest(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {"format": BUILD_FORMAT, "reports": {}}
    if doc.get("format") != BUILD_FORMAT:
        return {"format": BUILD_FORMAT, "reports": {}}
    doc.setdefault("reports", {})
    return doc


def save_manifest(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, sort_keys=True, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
