"""This repository's own project (monitoring/, dashboards/, alerts/), loaded once for the tests."""

from __future__ import annotations

from pathlib import Path

from generator.loader import import_module
from generator.project import Project

ROOT = Path(__file__).resolve().parent.parent
PROJECT = Project(ROOT)
CONFIG = PROJECT.config
CATALOG = PROJECT.catalog
#: monitoring/queries.py, as the definitions see it.
QUERIES = import_module(ROOT, "monitoring.queries", "monitoring/queries.py")
#: monitoring/catalog.py itself (its exporter list, the app metrics' source and units).
CATALOG_MODULE = import_module(ROOT, "monitoring.catalog", "monitoring/catalog.py")
