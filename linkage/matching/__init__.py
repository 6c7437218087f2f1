"""Encoded zone: similarity kernels, blocking, solving, clustering and evaluation."""
