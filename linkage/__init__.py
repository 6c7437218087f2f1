"""Privacy-preserving record linkage.

The public facade is small on purpose; see docs/architecture.md for the trust zones.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
