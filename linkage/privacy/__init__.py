"""Plaintext zone (agency side only): attack simulations on the agency's own encodings and
the ``privacy-check`` behind ``linkage privacy-check`` (see docs/privacy.md).

One module per job: ``frequency``, ``double_hashing``, ``pattern_mining`` and
``graph_matching`` are the attacks; ``plaintext`` is the attacker's view of plaintext,
``encodings`` its view of encodings, ``alignment`` and ``reidentify`` the shared last steps,
``stats`` the structural statistics, ``check`` the orchestration, and ``weak`` the
deliberately weak baseline encoding used to show that the attacks work. Nothing here is
imported by the encoder or the matcher.
"""

from linkage.privacy.check import ATTACKS, CheckSettings, PrivacyReport, privacy_check
from linkage.privacy.results import AttackResult
from linkage.privacy.stats import EncodingStats, encoding_stats

__all__ = [
    "ATTACKS",
    "AttackResult",
    "CheckSettings",
    "EncodingStats",
    "PrivacyReport",
    "encoding_stats",
    "privacy_check",
]
