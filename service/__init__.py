"""Central match service (encoded zone): see docs/service.md.

Importing this package does no work; ``service.app.create_app`` builds the application and
``service.server.start_server`` runs it in-process.
"""

from __future__ import annotations

__all__: list[str] = []
