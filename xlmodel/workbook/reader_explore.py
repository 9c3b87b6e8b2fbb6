"""Old home of the exploration reader; its names moved (compat: removed at merge).

The Exploration and Uncertainty setup readers are
:mod:`xlmodel.workbook.inputs.exploration_setup` and
:mod:`xlmodel.workbook.inputs.uncertainty_setup`; the designs table is
:mod:`xlmodel.workbook.designs`; :func:`read_for_adopt` is in
:mod:`xlmodel.workbook.reader`. Kept only for adopt.py and report_explore.py.
"""

from .designs import BASE_LABEL, DESIGNS_NAME  # compat: removed at merge
from .reader import read_for_adopt  # compat: removed at merge

__all__ = ["BASE_LABEL", "DESIGNS_NAME", "read_for_adopt"]  # compat: removed at merge
