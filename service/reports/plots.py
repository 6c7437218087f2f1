"""Server-side plots as inline SVG (matplotlib, Agg-free SVG backend, no fonts needed).

Text is drawn as paths (``svg.fonttype = "path"``) with DejaVu Sans, which ships inside
matplotlib, so an SVG renders the same in an air-gapped office with no fonts installed and
references nothing outside itself. Bars of hidden (small) counts are drawn hatched at the
height ``k`` (an upper bound) and never at their true height: the SVG path coordinates would
otherwise give the number away.
"""

from __future__ import annotations

import io
import itertools
import re
import threading
from collections.abc import Sequence
from html import escape

from matplotlib import rc_context
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, NullLocator

from service.reports.model import ShownCount

__all__ = ["histogram_svg"]

# rc_context changes matplotlib's global settings; a lock keeps concurrent requests apart.
_LOCK = threading.Lock()

_RC = {
    "font.family": "DejaVu Sans",
    "svg.fonttype": "path",
    "svg.hashsalt": "pprl-report",  # deterministic ids, so the same report gives the same file
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#333333",
    "axes.labelcolor": "#111111",
    "xtick.color": "#111111",
    "ytick.color": "#111111",
    "font.size": 9,
}

_BAR = "#2f5d8a"
_HIDDEN = "#f0f0f0"
_MATCH = "#8a1c1c"
_POSSIBLE = "#8a5a00"

_ID_ATTR = re.compile(r'\bid="([^"]+)"')


def histogram_svg(
    edges: Sequence[float],
    bars: Sequence[ShownCount],
    *,
    k: int,
    threshold: float | None,
    possible_threshold: float | None,
    title: str,
    id_prefix: str,
    xlabel: str = "similarity score",
) -> str:
    """The score histogram with the thresholds as vertical lines, as an inline ``<svg>``."""
    if len(edges) != len(bars) + 1:
        raise ValueError("a histogram needs one more edge than bars")
    with _LOCK, rc_context(_RC):
        fig = Figure(figsize=(7.2, 4.0), dpi=96)
        ax = fig.add_subplot()
        lefts = list(edges[:-1])
        widths = [b - a for a, b in itertools.pairwise(edges)]
        heights = [b.bar_height for b in bars]
        ax.bar(lefts, heights, width=widths, align="edge", color=_BAR, edgecolor="white", linewidth=0.4)
        small = [i for i, b in enumerate(bars) if b.reason == "small"]
        other = [i for i, b in enumerate(bars) if b.reason == "complementary"]
        for idx, hatch in ((small, "////"), (other, "...")):
            if idx:
                ax.bar([lefts[i] for i in idx], [heights[i] for i in idx],
                       width=[widths[i] for i in idx], align="edge", color=_HIDDEN,
                       edgecolor="#333333", hatch=hatch, linewidth=0.6)
        if _wide_range(heights):
            ax.set_yscale("log")
            ax.set_ylim(bottom=0.8)
            ax.yaxis.set_minor_locator(NullLocator())  # unlabelled minor ticks cost much time
            # Plain numbers (1, 10, 100) read better than powers of ten, and skip mathtext.
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else ""))
        handles = [Patch(facecolor=_BAR, label="pairs in bin")]
        if small:
            handles.append(Patch(facecolor=_HIDDEN, edgecolor="#333333", hatch="////",
                                 label=f"fewer than {k} (drawn at {k})"))
        if other:
            handles.append(Patch(facecolor=_HIDDEN, edgecolor="#333333", hatch="...",
                                 label=f"hidden to protect a small count (rounded to {k}s)"))
        if possible_threshold is not None:
            handles.append(ax.axvline(possible_threshold, color=_POSSIBLE, linestyle="--", linewidth=1.6,
                                      label=f"possible-match threshold {possible_threshold:g}",
                                      gid="possible-threshold"))
        if threshold is not None:
            handles.append(ax.axvline(threshold, color=_MATCH, linestyle="-", linewidth=1.8,
                                      label=f"match threshold {threshold:g}", gid="match-threshold"))
        ax.set_xlim(edges[0], edges[-1])
        ax.set_xlabel(xlabel)
        ax.set_ylabel("count" + (" (log scale)" if _wide_range(heights) else ""))
        ax.set_title(title, loc="left", fontsize=10)
        # Below the axes, so it never hides a bar.
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2,
                  frameon=False, fontsize=8)
        fig.subplots_adjust(left=0.09, right=0.98, top=0.91, bottom=0.3)  # fixed: tight_layout is slow
        return _inline_svg(fig, id_prefix, title)


def _wide_range(heights: Sequence[float]) -> bool:
    positive = [h for h in heights if h > 0]
    return bool(positive) and max(positive) / min(positive) > 50


def _inline_svg(fig: Figure, id_prefix: str, title: str) -> str:
    buf = io.StringIO()
    FigureCanvasSVG(fig).print_svg(buf, metadata={"Date": None, "Creator": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]  # drop the XML declaration and DOCTYPE: it goes inside HTML
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.S)
    # Scale with the page (CSS sets the width); the viewBox keeps the aspect ratio.
    svg = re.sub(r'^<svg ([^>]*?)width="[^"]*" height="[^"]*" ', r"<svg \1", svg, count=1)
    svg = _prefix_ids(svg, id_prefix)
    head, rest = svg.split(">", 1)
    return (f'{head} role="img" aria-labelledby="{id_prefix}-title" class="plot">'
            f'<title id="{id_prefix}-title">{escape(title)}</title>{rest}')


def _prefix_ids(svg: str, prefix: str) -> str:
    """Several SVGs inline in one page share one id space; prefix every id and reference."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", prefix):
        raise ValueError("id prefix must be a simple identifier")
    ids = set(_ID_ATTR.findall(svg))
    for old in sorted(ids, key=len, reverse=True):
        new = f"{prefix}-{old}"
        svg = svg.replace(f'id="{old}"', f'id="{new}"')
        svg = svg.replace(f"url(#{old})", f"url(#{new})")
        svg = svg.replace(f'href="#{old}"', f'href="#{new}"')
    return svg
