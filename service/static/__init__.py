"""Stylesheet of the DPO pages and reports, inlined in every page (package data)."""
