"""What the docs site shows beyond Markdown pages, one module per job.

- ``lab_catalog``: the labs found in ``notebooks/`` (title, sections, cell counts) and their nav entries;
- ``lab_facts``: per lab, its time, needs, the lab it builds on, and the troubleshooting entries of
  its steps (data kept here, not in the notebooks);
- ``lab_view``: the site's view of a master notebook (banner, "Before you begin", one cluster notice
  per section, troubleshooting links, boxes restyled), written to the cache and rendered;
- ``page_html``: fixes to a rendered lab page (no CDN scripts, Material permalinks, a table of
  contents built from the headings as rendered);
- ``record``: ``invoke docs.record``: the outputs of a real cluster run in place of the expected ones.

``docs_site`` (the mkdocs hooks and macros) uses them.
"""
