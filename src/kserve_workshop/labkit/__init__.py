"""The lab kit: what turns master notebooks into graded labs, one module per authoring stage.

- ``grading``: ``check("lab1.name")`` runs a check in a notebook;
- ``check_registry``: ``@lab_check`` registers a check, ``find_check`` finds it;
- ``checks``: the graded checks, one module per lab (``checks/lab1.py``...);
- ``labgen``: student notebooks generated from the masters (solutions blanked), drift detection;
- ``scorecard``: ``invoke grade``: run a learner's notebooks, collect every check's result;
- ``cluster_magic``: the ``%%cluster`` cell magic (loaded as ``%load_ext kserve_workshop.notebook``);
- ``notebook_lint``: the static checks of a notebook (names defined, helpers exist, checks known);
- ``notebook_cells``: a notebook's code cells as Python (IPython lines set aside), for the linter and
  the scorecard;
- ``shell_lint``: its shell lines' kubectl commands, flags and resource types, against
  ``kubectl_reference`` (the data ``scripts/kubectl_reference.py`` writes from a real kubectl);
- ``boxes``: the HTML boxes of check results and the cluster notice (classes the docs site styles).

The old module paths (``kserve_workshop.grading``, ``.checks``, ``.labgen``, ``.scorecard``,
``.notebook``, ``.notebook_static``) still import, as these very modules (see the package map).
"""
