"""The stateful ledger machine of ``test_stateful`` on PostgreSQL: a fresh database per run, fewer runs.

Every rule and invariant is the SQLite machine's; only where the ledger lives differs. The SQLite machine runs 200
times per ``make test``; this one 40 (400 in ``make test-deep``), as each run creates and drops a database.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

import test_stateful as base
from conftest import DEEP, PgDatabases


def test_ledger_machine_on_postgresql(pg_databases: PgDatabases) -> None:
    class OnPostgres(base.LedgerMachine):
        def new_ledger_url(self) -> str:
            return pg_databases.new()

        def drop_ledger(self) -> None:
            pg_databases.drop(self.path)

    run_state_machine_as_test(OnPostgres, settings=settings(base.LedgerMachine.TestCase.settings,
                                                            max_examples=400 if DEEP else 40))
