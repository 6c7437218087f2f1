"""Plaintext zone: normalisation of identity values (pure functions)."""
