"""The coloured boxes a notebook shows: check results and the cluster notice, as HTML.

Each box carries classes (``workshop-box workshop-check workshop-check--pass``...) that the docs
site's stylesheet (``docs/assets/stylesheets/workshop.css``) styles for its light and dark schemes.
In Jupyter, where that stylesheet is absent, an inline style stands in: a coloured edge and a
translucent tint of it, with no text colour of its own, so the text keeps the theme's colour and
reads on a light or a dark background alike. The site drops the inline style (its stylesheet
decides there).
"""

from __future__ import annotations

#: kind -> (classes, edge colour as r, g, b). The site's stylesheet defines every class listed here.
KINDS = {
    "pass": ("workshop-box workshop-check workshop-check--pass", (46, 125, 50)),
    "fail": ("workshop-box workshop-check workshop-check--fail", (198, 40, 40)),
    "cluster": ("workshop-box workshop-notice workshop-notice--cluster", (216, 140, 0)),
}
#: The attribute the inline fallback style is written in, and that the site removes.
FALLBACK_ATTRIBUTE = "style"


def fallback_style(kind: str) -> str:
    """Readable in light and dark themes: an edge and a 14% tint of its colour; text colour inherited."""
    r, g, b = KINDS[kind][1]
    return f"border-left:4px solid rgb({r},{g},{b});background:rgba({r},{g},{b},0.14);padding:4px 8px;margin:4px 0"


def box(kind: str, inner_html: str, *, fallback: bool = True) -> str:
    """``inner_html`` (already escaped) in the box of ``kind`` (a key of ``KINDS``); without
    ``fallback`` for pages whose stylesheet styles the classes (the docs site)."""
    classes = KINDS[kind][0]
    style = f' {FALLBACK_ATTRIBUTE}="{fallback_style(kind)}"' if fallback else ""
    return f'<div class="{classes}"{style}>{inner_html}</div>'


def classes() -> set[str]:
    """Every class a box can carry (the stylesheet test checks each is styled)."""
    return {name for classes_, _ in KINDS.values() for name in classes_.split()}
