"""The index page (``reports/index.html``): every report, its status, and the headline findings."""
from __future__ import annotations

from pathlib import Path

from helpers.publish.build.worker import format_findings

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


def render_index(*, entries: list[dict], out_dir: Path, git: dict, lock_hash: str, synthetic: bool,
                 k: int, findings_by_report: dict[str, list[dict]]) -> str:
    """HTML of the index. ``entries``: one dict per report in plan order (see helpers.publish.build)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      keep_trailing_newline=True)
    studies, groups = [], {}
    for e in entries:
        exists = (out_dir / e["href"]).exists()
        status = e.get("status")
        err = e.get("error")
        if status == "failed":
            st, text = "failed", "failed"
            if exists:
                text += " (showing the last good version)"
        elif exists:
            st, text = "ok", "ok"
        else:
            st, text = "missing", "not built"
        row = dict(e, exists=exists, status=st, status_text=text,
                   error=_error_text(err) if status == "failed" else "")
        if e.get("group"):
            groups.setdefault(e["group"], {"title": e["group_title"], "reports": []})["reports"].append(row)
        else:
            studies.append(row)
    rows = []
    for e in entries:
        for f in format_findings(findings_by_report.get(e["name"], [])):
            rows.append(dict(f, href=f"{e['href']}#finding-{f['name']}", report_title=e["title"],
                             exists=(out_dir / e["href"]).exists()))
    counts = {"total": len(entries),
              "ok": sum(1 for e in entries if e.get("status") != "failed" and (out_dir / e["href"]).exists()),
              "failed": sum(1 for e in entries if e.get("status") == "failed")}
    counts["missing"] = counts["total"] - counts["ok"] - counts["failed"]
    return env.get_template("index.html.j2").render(
        site_title="District party-building and community service: reports",
        studies=studies, profile_groups=list(groups.values()), findings=rows, counts=counts,
        git=git, lock_hash=lock_hash, synthetic=synthetic, k=k)


def _error_text(err: dict | None) -> str:
    if not err:
        return "failed"
    where = f"code cell {err['cell']}" if err.get("cell") else ""
    if err.get("source"):
        where += f" ({err['source']})"
    return (where + ": " if where else "") + err.get("message", "")
