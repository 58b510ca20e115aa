"""Invoke entry point (``invoke --list``). Thin: the tasks live in ``kserve_workshop.tasks``."""

from kserve_workshop.tasks import build_collection

ns = build_collection()
