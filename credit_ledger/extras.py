"""Optional extras: a module of an extra is imported only when it is used, and its absence says how to install it.

The library's core needs no plotting or data-frame library. Frames (``to_pandas``) and pictures (``plot_student``,
``plot_cohort``, ``AuditReport.plot``) need the ``notebook`` extra (pandas, matplotlib); they call ``require`` at
the moment they need it, so importing ``credit_ledger`` never imports them, and a missing one raises an
``ImportError`` that names the install command instead of a bare ``No module named ...``.

>>> require("json").dumps(["学分"], ensure_ascii=False)
'["学分"]'
>>> require("no_such_plotting_library")
Traceback (most recent call last):
ImportError: no_such_plotting_library is needed for this and is not installed: pip install 'credit-ledger[notebook]'
"""

from __future__ import annotations

import importlib
from types import ModuleType

NOTEBOOK_HINT = "pip install 'credit-ledger[notebook]'"
"""How to install the ``notebook`` extra (pandas, matplotlib, and mplfonts for a CJK font), as an error message
gives it."""


def require(module: str) -> ModuleType:
    """Import a module of the ``notebook`` extra, or raise an ``ImportError`` that says how to install it.

    Args:
        module: the module's dotted name (``"pandas"``, ``"matplotlib"``).
    """
    try:
        return importlib.import_module(module)
    except ImportError as missing:
        raise ImportError(f"{module} is needed for this and is not installed: {NOTEBOOK_HINT}") from missing
