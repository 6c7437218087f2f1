"""Named configurations: ``demo`` (small and fast, for the README demo and tests) and
``benchmark`` (about a million records, for performance and quality runs)."""

from __future__ import annotations

from synthetic_data.config import GeneratorConfig

__all__ = ["PRESETS", "preset"]

PRESETS = ("demo", "benchmark")


def preset(name: str) -> GeneratorConfig:
    if name == "demo":
        # ~2,200 records in three agencies; many shared people so a demo finds matches.
        return GeneratorConfig(people=1_500, overlap=0.3)
    if name == "benchmark":
        # ~1,040,000 records in three agencies (800,000 people, 20 % shared).
        return GeneratorConfig(people=800_000, overlap=0.2)
    raise ValueError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
