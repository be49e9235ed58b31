"""Shared fixtures and hypothesis profiles.

``HYPOTHESIS_PROFILE=fast`` (the default, for every ``make test``) and ``deep`` (``make test-deep``).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

import credit_ledger as cl

settings.register_profile("fast", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("deep", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))

DEEP = os.environ.get("HYPOTHESIS_PROFILE") == "deep"


@pytest.fixture(scope="session")
def catalog() -> cl.Catalog:
    """The sample catalog shipped in the package."""
    return cl.Catalog.sample()


@pytest.fixture
def ledger(catalog: cl.Catalog) -> cl.Ledger:
    """A fresh in-memory ledger with the sample catalog loaded."""
    led = cl.Ledger.open()
    led.load_catalog(catalog)
    yield led
    led.close()


@pytest.fixture
def file_ledger(tmp_path, catalog: cl.Catalog) -> cl.Ledger:
    """A fresh SQLite-file ledger with the sample catalog loaded."""
    led = cl.Ledger.open(str(tmp_path / "ledger.db"))
    led.load_catalog(catalog)
    yield led
    led.close()
