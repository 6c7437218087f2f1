"""Server-side SVG plots: self-contained, deterministic, and silent about small counts."""

from __future__ import annotations

import re

from service.reports.model import present_count, present_counts
from service.reports.plots import histogram_svg

EDGES = [i / 10 for i in range(11)]


def _svg(counts, *, k=5, threshold=0.8, possible=0.6, prefix="h"):
    return histogram_svg(EDGES, present_counts(counts, k), k=k, threshold=threshold,
                         possible_threshold=possible, title="Scores", id_prefix=prefix)


def test_svg_is_inline_ready_and_references_nothing_outside():
    svg = _svg([0, 3, 40, 300, 900, 200, 20, 8, 30, 12])
    assert svg.startswith("<svg ") and svg.rstrip().endswith("</svg>")
    assert "<?xml" not in svg and "<!DOCTYPE" not in svg and "<metadata" not in svg
    assert "<text" not in svg  # text drawn as paths: no font needed to view it
    assert "@font-face" not in svg and "<image" not in svg and "<script" not in svg
    # Only namespace declarations name a URL; nothing is fetched.
    urls = re.findall(r'(\S+)="(https?://[^"]*)"', svg)
    assert all(attr.startswith("xmlns") for attr, _ in urls)
    assert not re.search(r"url\((?!#)", svg)
    assert 'role="img"' in svg and '<title id="h-title">Scores</title>' in svg


def test_ids_are_prefixed_so_two_plots_can_share_a_page():
    a, b = _svg([5] * 10, prefix="one"), _svg([5] * 10, prefix="two")
    ids_a = set(re.findall(r'\bid="([^"]+)"', a))
    ids_b = set(re.findall(r'\bid="([^"]+)"', b))
    assert ids_a and all(i.startswith("one-") for i in ids_a)
    assert not ids_a & ids_b
    for ref in re.findall(r"url\(#([^)]+)\)", a) + re.findall(r'href="#([^"]+)"', a):
        assert ref in ids_a


def test_same_input_gives_the_same_svg():
    counts = [0, 3, 40, 300, 900, 200, 20, 8, 30, 12]
    assert _svg(counts) == _svg(counts)


def test_a_hidden_bin_looks_the_same_whatever_its_small_count():
    base = [0, 0, 40, 300, 900, 200, 20, 8, 30, 12]
    drawn = {_svg([*base[:1], c, *base[2:]]) for c in (1, 2, 3, 4)}
    assert len(drawn) == 1
    assert _svg([*base[:1], 5, *base[2:]]) not in drawn  # a shown count is drawn as it is


def _line_x(svg: str, gid: str) -> float:
    group = re.search(rf'<g id="h-{gid}">(.*?)</g>', svg, re.S)
    assert group, gid
    xs = {float(x) for x in re.findall(r"[ML] ([0-9.]+) ", group.group(1))}
    assert len(xs) == 1  # a vertical line
    return xs.pop()


def test_thresholds_are_vertical_lines_in_order():
    svg = _svg([1, 2, 40, 300, 900, 200, 20, 8, 30, 12], threshold=0.8, possible=0.6)
    assert _line_x(svg, "possible-threshold") < _line_x(svg, "match-threshold")
    no_possible = _svg([1, 2, 40, 300, 900, 200, 20, 8, 30, 12], possible=None)
    assert 'id="h-possible-threshold"' not in no_possible
    assert 'id="h-match-threshold"' in no_possible


def test_complementary_bins_are_drawn_at_a_multiple_of_k():
    from service.reports.model import present_partition

    bars = present_partition([0, 2, 40, 300, 900, 200, 23, 0, 0, 0], 5)
    assert bars[6].reason == "complementary" and bars[6].bar_height == 25
    svg = histogram_svg(EDGES, bars, k=5, threshold=0.8, possible_threshold=None,
                        title="t", id_prefix="c")
    # 23 itself is drawn nowhere: the same plot as for 24 (also 25 when rounded).
    bars24 = present_partition([0, 2, 40, 300, 900, 200, 24, 0, 0, 0], 5)
    assert svg == histogram_svg(EDGES, bars24, k=5, threshold=0.8, possible_threshold=None,
                                title="t", id_prefix="c")
    assert present_count(0).bar_height == 0
