"""Deprecated alias of :mod:`gan_repro.io` (kept while the families move to it)."""

from gan_repro.io import environment, read_json, write_json

__all__ = ["environment", "read_json", "write_json"]
