"""Plaintext zone: keyed Bloom-filter encoding and hardening (agency side only)."""
