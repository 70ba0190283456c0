"""The index page of a site (``<site>/index.html``): the data, every report and its state, the findings."""
from __future__ import annotations

import re
from pathlib import Path

from helpers.publish.build.plan import describe_error
from helpers.publish.build.worker import format_findings

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
SITE_TITLE = "District party-building and community service: reports"


def report_state(e: dict) -> tuple[str, str]:
    """``(css class, text)`` of a report's state on the index.

    ``e`` holds ``status`` (``"done"``, ``"failed"``, ``"skipped"`` or None), ``exists``
    (its page is in the site), ``current`` (the page was built from the present inputs)
    and ``skip_reason``.
    """
    status, exists = e.get("status"), e.get("exists")
    if status == "skipped":
        return "skipped", f"skipped: {e.get('skip_reason') or 'not applicable to this data'}"
    if status == "failed":
        return "failed", "failed; showing its last good version, which is out of date" if exists else "failed"
    if exists and status == "done" and e.get("current"):
        return "ok", "ok"
    if exists:
        return "stale", "out of date (not rebuilt in the last build)"
    return "missing", "not built"


def short_title(title: str) -> str:
    """The name part of a title written "Name: what it does" (``"District profile"``)."""
    return title.split(":", 1)[0].strip() if ":" in title else title


_PAREN = re.compile(r"\s*\(([^()]*)\)")


def summarise_findings(rows: list[dict]) -> tuple[list[dict], list[str]]:
    """A report's findings as a summary for the index: variants left out, rows grouped by their subject.

    A finding whose label is another's with one parenthetical qualifier added ("Awareness
    (design-based): ...") is a variant of it (the same quantity by another method): it is left out
    of the index, which names the variants in a note (the report and its findings file keep them).
    Labels written "Subject: what" are grouped by subject, in the order each subject first appears,
    after the rows that belong to no group (in their order): the first row of a group of two or more
    carries ``group`` (the subject) and every row of it ``short`` (the rest of the label, capitalised).

    Parameters
    ----------
    rows : formatted findings (:func:`helpers.publish.build.worker.format_findings`), each with ``label``.

    Returns
    -------
    ``(rows, notes)``: the rows to show (new dicts; the input is not modified) and one sentence per
    kind of variant left out.
    """
    labels = {r["label"] for r in rows}
    kept, variants = [], {}
    for r in rows:
        qualifier = next((m.group(1) for m in _PAREN.finditer(r["label"])
                          if (r["label"][:m.start()] + r["label"][m.end():]) in labels), None)
        if qualifier is None:
            kept.append(dict(r))
        else:
            variants.setdefault(qualifier, []).append(r)
    order, groups = [], {}
    for r in kept:
        lead = r["label"].split(": ", 1)[0] if ": " in r["label"] else None
        key = lead if lead is not None else f"\0{len(order)}"
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(r)
    out, grouped = [], []  # rows outside any group first: after a group's rows they would read as part of it
    for key in order:
        g = groups[key]
        if len(g) > 1 and not key.startswith("\0"):
            for i, r in enumerate(g):
                rest = r["label"].split(": ", 1)[1]
                r["short"] = rest[:1].upper() + rest[1:]
                if i == 0:
                    r["group"] = key
            grouped.extend(g)
        else:
            out.extend(g)
    out.extend(grouped)
    notes = [f"Left out here: the {q} estimate{'s' if len(v) != 1 else ''} of {len(v)} of these finding"
             f"{'s' if len(v) != 1 else ''}, reported for comparison; the report and its findings file give "
             f"{'them' if len(v) != 1 else 'it'}." for q, v in variants.items()]
    return out, notes


def render_index(*, entries: list[dict], git: dict, lock_hash: str, k: int, data: dict, params: dict,
                 findings_by_report: dict[str, list[dict]]) -> str:
    """HTML of the index.

    ``entries``: one dict per report in plan order (``name, href, title, summary, parameters,
    group, group_title, status, exists, current, skip_reason, error, error_href, findings_href``);
    ``data``: ``display`` (the folder as given), ``name``, ``synthetic``; ``params``: the
    parameters given to the build that differ from the notebooks' defaults.
    """
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      keep_trailing_newline=True)
    studies, groups = [], {}
    counts = {"total": len(entries), "ok": 0, "failed": 0, "stale": 0, "skipped": 0, "missing": 0}
    for e in entries:
        css, text = report_state(e)
        counts[css] += 1
        row = dict(e, state=css, status_text=text,
                   error=describe_error(e["error"]) if e.get("status") == "failed" and e.get("error") else "")
        if e.get("group"):  # a row per district: its name, the group's title and summary once, above the table
            prefix = f"{e['group_title']}: "
            row["title"] = e["title"][len(prefix):] if e["title"].startswith(prefix) else e["title"]
            row["summary"] = ""
            g = groups.setdefault(e["group"], {"title": e["group_title"], "short": short_title(e["group_title"]),
                                               "summary": e.get("summary", ""), "reports": []})
            g["reports"].append(row)
        else:
            studies.append(row)
    blocks = []
    for e in entries:
        items = format_findings(findings_by_report.get(e["name"], [])) if e.get("status") != "skipped" else []
        if items:
            title = short_title(e["title"])  # "Headline findings of Coverage", not of the whole title
            if e.get("group"):  # "District profile: Dongcheng District", not the group's whole title and the name
                prefix = f"{e['group_title']}: "
                name = e["title"][len(prefix):] if e["title"].startswith(prefix) else e["title"]
                title = short_title(e["group_title"]) + ": " + name
            shown, notes = summarise_findings(items)
            blocks.append({"title": title, "href": e["href"] if e.get("exists") else None,
                           "current": e.get("status") == "done" and e.get("current"),
                           "findings_href": e.get("findings_href"), "notes": notes,
                           "rows": [dict(f, href=f"{e['href']}#finding-{f['name']}") for f in shown]})
    # the synthetic-data banner is true of the reports built on the data folder; a report that read none of its
    # files (e.g. one on published real data) is named as the exception
    elsewhere = [{"title": short_title(r["title"]), "href": r["href"]} for r in studies
                 if r.get("exists") and r.get("reads_data") is False]
    show_params = any(e.get("parameters") for e in entries)
    # a reader needs to know which reports are NOT up to date, and why; "ok" beside every report says nothing,
    # so a table has the column only when one of its reports is not up to date
    show_state = any(r["state"] != "ok" for r in studies)
    for g in groups.values():
        g["show_state"] = any(r["state"] != "ok" for r in g["reports"])
    return env.get_template("index.html.j2").render(show_params=show_params, show_state=show_state,
        site_title=SITE_TITLE, studies=studies, profile_groups=list(groups.values()), findings=blocks,
        counts=counts, git=git, lock_hash=lock_hash, k=k, data=data, params=params,
        synthetic=bool(data.get("synthetic")), elsewhere=elsewhere)
