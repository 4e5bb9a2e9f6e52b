"""Matplotlib figures as inline SVG with a text alternative, safe to put in one HTML page.

:func:`inline_svg` writes a figure with matplotlib's SVG backend, text drawn as paths (so
no font is needed to show it), and then makes the markup fit for a page that holds several
figures and loads nothing: the XML prolog, the DOCTYPE and the metadata block (which name
outside addresses) are dropped, every ``id`` is prefixed with the figure's own key so that
two figures never share one, and the ``<svg>`` element gets ``role="img"`` with a
``<title>`` and a ``<desc>`` that ``aria-labelledby`` points to.
"""

from __future__ import annotations

import html
import io
import re

__all__ = ["inline_svg"]

_ID = re.compile(r'\bid="([^"]+)"')
_HREF = re.compile(r'(xlink:href|href)="#([^"]+)"')
_URL = re.compile(r"url\(#([^)]+)\)")
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_SVG_OPEN = re.compile(r"<svg\b([^>]*)>")


def _svg_text(figure) -> str:
    import matplotlib

    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "sibsim"}):
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def inline_svg(figure, key: str, title: str, description: str) -> str:
    """A figure as an ``<svg>`` element for an HTML page, with its text alternative.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure (closed afterwards: its memory is released).
    key : str
        A key unique within the page (letters, digits, ``-``), prefixed to every id.
    title : str
        Short name of the figure (the ``<title>``).
    description : str
        What the figure shows, in words and numbers (the ``<desc>``).

    Returns
    -------
    str
        The ``<svg>`` markup, without XML prolog, DOCTYPE or metadata.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(); _ = fig.subplots().plot([0, 1], [1, 0])
    >>> svg = inline_svg(fig, "f1", "A line", "It falls from 1 to 0.")
    >>> svg.startswith("<svg") and 'role="img"' in svg and "<title" in svg
    True
    """
    text = _svg_text(figure)
    figure.clear()
    start = text.index("<svg")
    text = _METADATA.sub("", text[start:])
    text = _ID.sub(lambda m: f'id="{key}-{m.group(1)}"', text)
    text = _HREF.sub(lambda m: f'{m.group(1)}="#{key}-{m.group(2)}"', text)
    text = _URL.sub(lambda m: f"url(#{key}-{m.group(1)})", text)
    alternative = (f'<title id="{key}-title">{html.escape(title)}</title>'
                   f'<desc id="{key}-desc">{html.escape(description)}</desc>')
    opening = _SVG_OPEN.search(text)
    width = re.search(r'\swidth="([^"]*)"', opening.group(1))
    attributes = re.sub(r'\s(width|height)="[^"]*"', "", opening.group(1))
    style = f' style="max-width: {width.group(1)}"' if width else ""
    new_open = (f'<svg{attributes} role="img" aria-labelledby="{key}-title {key}-desc" '
                f'class="figure-svg"{style}>')
    return text[:opening.start()] + new_open + alternative + text[opening.end():]
