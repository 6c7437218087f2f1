"""The one exception tree of the project.

Every error the library, the CLI or the service raises on purpose is a ``LinkageError``.
Each class also subclasses the built-in it refines, so ``except ValueError`` keeps working
for callers that do not know this module.

::

    LinkageError (Exception)
    ├── SchemaError (ValueError)            invalid linkage schema
    ├── InputRecordError (ValueError)       one input record is bad: row, field, reason, no value
    ├── NormalisationError (ValueError)     a value cannot be normalised (no value in the message)
    ├── EncodedFileError (ValueError)       an encoded file is malformed or its metadata is invalid
    ├── CompatibilityError (ValueError)     files/projects disagree: schema fingerprint, key id, length
    ├── KeyFileError (ValueError)           a key file is missing, malformed or has unsafe permissions
    ├── DecryptionError (ValueError)        any secret-dependent failure; always the same message
    └── MatchingError (RuntimeError)        the matching engine cannot run with these inputs

Messages never contain plaintext values or keys: they name the record (row number or
reference), the field and the reason only.
"""

from __future__ import annotations

__all__ = [
    "CompatibilityError",
    "DecryptionError",
    "EncodedFileError",
    "InputRecordError",
    "KeyFileError",
    "LinkageError",
    "MatchingError",
    "NormalisationError",
    "SchemaError",
]


class LinkageError(Exception):
    """Base class of every error raised on purpose by this project."""


class SchemaError(LinkageError, ValueError):
    """The linkage schema is invalid or cannot be used for this operation."""


class NormalisationError(LinkageError, ValueError):
    """A value cannot be normalised. The message states the reason, never the value."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InputRecordError(LinkageError, ValueError):
    """One input record is unusable. Carries the row number and field, never the value."""

    def __init__(self, row: int, field: str, reason: str) -> None:
        super().__init__(f"row {row}, field {field!r}: {reason}")
        self.row = row
        self.field = field
        self.reason = reason

    def __reduce__(self):  # keeps row/field/reason when raised in a worker process
        return (type(self), (self.row, self.field, self.reason))


class EncodedFileError(LinkageError, ValueError):
    """An encoded file is malformed, truncated, or its metadata is invalid."""


class CompatibilityError(LinkageError, ValueError):
    """Encodings that must agree do not (schema fingerprint, key id, filter length, version)."""


class KeyFileError(LinkageError, ValueError):
    """A key file is missing, malformed, or readable by others."""


class DecryptionError(LinkageError, ValueError):
    """Authentication or decryption failed.

    Every secret-dependent failure raises this class with the same message, so that the
    error itself tells an attacker nothing about which part was wrong.
    """

    def __init__(self) -> None:
        super().__init__("decryption failed")

    def __reduce__(self):
        return (type(self), ())


class MatchingError(LinkageError, RuntimeError):
    """The matching engine cannot run with these inputs or settings."""
