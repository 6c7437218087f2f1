"""Data-protection officer reports: aggregate models, the small-count rule, plots and HTML.

* ``model``: ``RunReport`` / ``ProjectReport`` (aggregates only) and ``suppress`` (k rule);
* ``build``: builds them from the service database with aggregate queries;
* ``plots``: server-side matplotlib SVG, inlined in the pages;
* ``render``: Jinja2 pages and the self-contained exported report.

See docs/reports.md.
"""

from __future__ import annotations

__all__: list[str] = []
