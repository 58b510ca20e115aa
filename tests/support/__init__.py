"""Helpers shared by the test modules (importable as ``support.*``: tests/ is on sys.path).

- ``checks``: run a lab's graded check on answers, assert it failed with a hint;
- ``platform_fakes``: invoke's ``MockContext`` answering read-only cluster commands from a described state;
- ``monitoring_stack``: a model server, a real local Prometheus scraping it, and traffic;
- ``reference_files``: upstream reference files beside the checkout (the KServe CRD).

``tests/process_guard.py`` stays beside the tests: it is a pytest plugin that notebooks/conftest.py
loads too.
"""
