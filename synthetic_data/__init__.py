"""Synthetic multi-jurisdiction identity data with ground truth."""
