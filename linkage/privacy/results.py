"""What an attack simulation returns, and how its guesses are scored against the truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["NO_GUESS", "AttackResult", "score_guesses"]

#: Marks an encoding for which an attack makes no guess.
NO_GUESS = -1


@dataclass(frozen=True)
class AttackResult:
    """Outcome of one simulated attack on ``encodings`` encoded records.

    ``guesses``: encodings the attack assigned a plaintext identity to; ``correct``: guesses
    equal to the true identity (the record's normalised quasi-identifier values);
    ``precision = correct / guesses``; ``rate = correct / encodings`` (re-identification rate).
    """

    attack: str
    encodings: int
    guesses: int
    correct: int
    seconds: float = 0.0
    note: str = ""

    @property
    def precision(self) -> float:
        return self.correct / self.guesses if self.guesses else 0.0

    @property
    def rate(self) -> float:
        return self.correct / self.encodings if self.encodings else 0.0

    def exceeds(self, max_rate: float, min_precision: float) -> bool:
        """The gate: more than ``max_rate`` re-identified with precision above ``min_precision``."""
        return self.rate > max_rate and self.precision > min_precision

    def as_dict(self) -> dict:
        return {
            "attack": self.attack,
            "encodings": self.encodings,
            "guesses": self.guesses,
            "correct": self.correct,
            "precision": round(self.precision, 4),
            "rate": round(self.rate, 4),
            "seconds": round(self.seconds, 2),
            "note": self.note,
        }


def score_guesses(
    attack: str,
    guessed: np.ndarray,
    reference_identity: np.ndarray,
    true_identity: np.ndarray,
    *,
    seconds: float = 0.0,
    note: str = "",
) -> AttackResult:
    """Score per-encoding guesses (indices into the reference, ``NO_GUESS`` for none).

    A guess is correct when the guessed reference record has the same identity (integer code
    of its normalised quasi-identifier values) as the encoded record.
    """
    guessed = np.asarray(guessed, dtype=np.int64)
    made = guessed != NO_GUESS
    correct = int((reference_identity[guessed[made]] == true_identity[made]).sum())
    return AttackResult(attack, len(guessed), int(made.sum()), correct, seconds, note)
