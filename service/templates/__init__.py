"""Jinja2 templates of the DPO pages (package data; a package so that it is installed)."""
