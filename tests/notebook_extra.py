"""The ``notebook`` extra (pandas, matplotlib) in the tests: a test that makes data frames or pictures carries one of
these marks, and is skipped, with the reason, where the extra is not installed.

The library itself needs neither: ``make test`` installs every extra, so nothing is skipped there, and
``CREDIT_LEDGER_TEST_NOTEBOOK_REQUIRED=1`` (for CI) makes a missing module fail those tests instead of skipping them,
as ``CREDIT_LEDGER_TEST_PG_REQUIRED`` does for PostgreSQL.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

from credit_ledger.extras import NOTEBOOK_HINT

NOTEBOOK_REQUIRED_ENV = "CREDIT_LEDGER_TEST_NOTEBOOK_REQUIRED"


def needs(*modules: str) -> pytest.MarkDecorator:
    """Skip the test unless every module is installed (or fail it, when CI requires the extra)."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    required = os.environ.get(NOTEBOOK_REQUIRED_ENV) == "1"
    return pytest.mark.skipif(bool(missing) and not required,
                              reason=f"{' and '.join(missing)} not installed (the notebook extra: {NOTEBOOK_HINT})")


needs_pandas = needs("pandas")
"""For a test that makes data frames."""
needs_matplotlib = needs("matplotlib")
"""For a test that draws a picture."""
needs_notebook = needs("pandas", "matplotlib")
"""For a test that does both (the cohort analysis example)."""
needs_cjk_font = needs("matplotlib", "mplfonts")
"""For a test that draws Chinese and fails on a missing glyph: the extra's CJK font (mplfonts) too."""
