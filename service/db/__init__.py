"""Persistence: stored models (``models``) and engine/session handling (``session``)."""

from __future__ import annotations

__all__: list[str] = []
