"""Fixes to a lab page's HTML after mkdocs-jupyter rendered it.

* nbconvert's page template loads MathJax and mermaid from a CDN: those scripts go (the site serves
  its own copies);
* nbconvert's heading permalinks (``<a class="anchor-link">¶</a>``) become Material's
  ``headerlink``, which the search index leaves out (else every result ends in "¶");
* the table of contents is rebuilt from the headings as rendered, so each entry has the heading's
  real id and full title (mkdocs-jupyter computes both from a Markdown conversion that drops
  ``code`` from headings: "4. From capacity to" linking to an id no heading has).
"""

from __future__ import annotations

import html
import re

_CDN_SCRIPTS = [
    re.compile(r'<script[^>]*\bsrc="(?:https?:)?//[^"]*"[^>]*>\s*</script>', re.I),
    re.compile(r'<script[^>]*\bsrc=""[^>]*>\s*</script>', re.I),
    re.compile(r'<script type="text/x-mathjax-config">.*?</script>', re.I | re.S),
    re.compile(r'<script type="module">(?:(?!</script>).)*?import\("https?://.*?</script>', re.I | re.S),
]
_ANCHOR_LINK = re.compile(r'<a class="anchor-link" href="#([^"]+)">¶</a>')
_HEADING = re.compile(r"<h([1-6])\b[^>]*\bid=\"([^\"]+)\"[^>]*>(.*?)</h\1>", re.S)
_TAG = re.compile(r"<[^>]+>")


def strip_cdn_scripts(markup: str) -> str:
    for pattern in _CDN_SCRIPTS:
        markup = pattern.sub("", markup)
    return markup


def material_headerlinks(markup: str) -> str:
    return _ANCHOR_LINK.sub(r'<a class="headerlink" href="#\1" title="Permanent link">¶</a>', markup)


def heading_text(inner_html: str) -> str:
    """A heading's text as a reader sees it: tags and its permalink dropped, entities decoded."""
    inner = re.sub(r'<a class="(?:headerlink|anchor-link)"[^>]*>.*?</a>', "", inner_html, flags=re.S)
    return " ".join(html.unescape(_TAG.sub("", inner)).split())


def toc_tokens(markup: str, depth: int = 2) -> list[dict]:
    """mkdocs' table-of-contents tokens for the headings in ``markup`` down to ``depth``, nested by level."""
    roots: list[dict] = []
    stack: list[dict] = []
    for level_text, anchor, inner in _HEADING.findall(markup):
        level = int(level_text)
        if level > depth:
            continue
        token = {"level": level, "id": anchor, "name": html.escape(heading_text(inner), quote=False), "children": []}
        while stack and stack[-1]["level"] >= level:
            stack.pop()
        (stack[-1]["children"] if stack else roots).append(token)
        stack.append(token)
    return roots


def fix_lab_page(markup: str) -> str:
    return material_headerlinks(strip_cdn_scripts(markup))
