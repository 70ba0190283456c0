"""Text from data in Markdown: escaped, yet rendered as the same characters."""
from __future__ import annotations

import re

import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from helpers.publish import report


@pytest.mark.parametrize("name", ["Yong'an County", 'The "New" Town', "A & B", "Xin_an *star*", "[x](y)"])
def test_names_render_as_typed(name):
    html = markdown2html_mistune(report.md("District **{d}** leads.", d=name).data)
    text = re.sub(r"<[^>]+>", "", html)
    import html as _html

    assert _html.unescape(text).strip() == f"District {name} leads."


def test_script_in_a_name_stays_text():
    html = markdown2html_mistune(report.md("{d}", d="<script>alert(1)</script>").data)
    assert "<script>" not in html and "&lt;script&gt;" in html
