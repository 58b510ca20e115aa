"""Graded checks, one module per lab (``lab1.py`` or ``lab01.py``), imported on demand by ``check()``.

Each module registers its checks with ``@kserve_workshop.labkit.check_registry.lab_check("labN", hint=...)``;
a check's parameter names are the notebook variables it grades, and it raises
``kserve_workshop.labkit.grading.CheckFailed(expected=..., found=..., hint=...)`` on a wrong answer.
"""
