"""A tiny HTML reader for the report tests: tables by data-testid, and every attribute."""

from __future__ import annotations

import re
from html.parser import HTMLParser


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self.testids: dict[str, str] = {}
        self.attrs: list[tuple[str, str, str]] = []  # (tag, name, value)
        self.tags: list[str] = []
        self.headings: list[tuple[int, str]] = []
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._testid_stack: list[tuple[str, list[str]]] = []
        self._heading: tuple[int, list[str]] | None = None
        self._depth_tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            self.attrs.append((tag, name, value or ""))
        d = dict(attrs)
        if tag == "table":
            self._table = d.get("data-testid") or f"table{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag in ("h1", "h2", "h3", "h4"):
            self._heading = (int(tag[1]), [])
        if "data-testid" in d and tag != "table":
            self._testid_stack.append((d["data-testid"], []))
            self._depth_tags.append(tag)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag in ("h1", "h2", "h3", "h4") and self._heading is not None:
            self.headings.append((self._heading[0], "".join(self._heading[1]).strip()))
            self._heading = None
        if self._depth_tags and tag == self._depth_tags[-1]:
            self._depth_tags.pop()
            name, parts = self._testid_stack.pop()
            self.testids[name] = " ".join("".join(parts).split())

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._heading is not None:
            self._heading[1].append(data)
        for _, parts in self._testid_stack:
            parts.append(data)


def read_html(html: str) -> _Reader:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader


def body_rows(table: list[list[str]]) -> dict[str, list[str]]:
    """Rows keyed by their first cell, header row excluded."""
    return {row[0]: row[1:] for row in table[1:]}


def assert_self_contained(html: str) -> None:
    """Nothing in the page is fetched: no scripts, links, images, fonts or remote URLs."""
    doc = read_html(html)
    assert "script" not in doc.tags and "link" not in doc.tags and "img" not in doc.tags
    assert "iframe" not in doc.tags and "object" not in doc.tags
    for tag, name, value in doc.attrs:
        if name in ("src", "srcset", "poster", "data"):
            raise AssertionError(f"<{tag} {name}> loads {value}")
        if name == "href" and tag != "a":
            assert value.startswith("#"), (tag, value)
        if name.startswith("xmlns"):
            continue
        assert not value.startswith(("http:", "https:", "//")), (tag, name, value)
    assert "@import" not in html and "@font-face" not in html
    assert not re.search(r"url\((?!#)", html)
