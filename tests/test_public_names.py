"""The public names are a contract: every name a module of the package offered when the house issue began
(its public functions, classes and constants) can still be imported from that module, and ``credit_ledger.__all__``
only grows. Schools' code imports ``credit_ledger.models``, ``transfer`` and ``graduation`` directly; a module may
move a name's code elsewhere, but it re-exports the name."""

from __future__ import annotations

import importlib

import pytest

import credit_ledger

PUBLIC_NAMES: dict[str, tuple[str, ...]] = {
    "access": (
        "READ_KINDS", "ReadReason", "catalog_refusals", "new_entries", "partners", "read_reason", "read_refusal",
    ),
    "checks": (
        "CHECKS", "COMMON_CHECKS", "Ctx", "DEPENDENT_KINDS", "ERROR_OF_CODE", "NO_ISSUES", "REVERSIBLE_KINDS",
        "SEVERITY", "check_active", "check_batch", "check_course_completed", "check_credit_recognized",
        "check_enrolled", "check_entry_reversed", "check_exception_granted", "check_grade_corrected",
        "check_graduated", "check_outcome_converted", "check_outcome_revoked", "check_own_student",
        "check_program_changed", "check_recorded_by", "check_resumed", "check_status_order", "check_suspended",
        "check_withdrawn", "error_for",
    ),
    "cli": (
        "ACTING_AS", "AS_OF", "DB", "app", "audit", "audit_all", "balance", "catalog_app", "catalog_check",
        "catalog_load", "catalog_show", "convert", "demo", "export", "import_", "init", "main", "plot", "schema",
        "statement_app", "statement_issue", "statement_keygen", "statement_receive", "statement_verify",
        "transcript", "verify",
    ),
    "demo": (
        "GRADUATION", "MIDWAY", "STUDENT", "demo_events", "main", "render", "render_periods", "render_transcript",
        "run",
    ),
    "errors": (
        "BadSignature", "CatalogError", "CreditLedgerError", "DuplicateEvent", "ImportFileError", "IntegrityError",
        "PermissionDenied", "RejectedEvent", "UnknownReference",
    ),
    "exports": (
        "DATE_COLUMNS", "INDEXES", "NOTEBOOK_HINT", "TABLES", "analysis_rows", "audit_row", "audits_csv",
        "decision_row", "export_sqlite", "read_transcript_json", "require", "to_pandas", "transcript_json",
    ),
    "grades": (
        "Attempt", "CountedAttempt", "FIVE_LEVEL_SCORES", "best_attempt", "choose_attempt", "count_attempt",
        "grade_points", "hours_to_credits", "is_passing", "score_of", "weeks_to_credits",
    ),
    "graduation": (
        "Allocated", "AppliedException", "AuditCredits", "AuditReport", "AuditStatus", "Award", "PASSING_STATUSES",
        "Projection", "RequirementResult", "Stage", "StudyHistory", "ZERO", "add_years", "audit", "audit_history",
        "evaluate",
    ),
    "history": (
        "Enrolment", "State", "Status", "StudentContext", "Timeline", "balance_of", "build_timeline",
        "effective_events", "policy_for", "program_for", "replay_order", "transcript_records",
    ),
    "imports": (
        "ColumnMap", "DATE_FIELDS", "EVENT_FIELDS", "FORMATS", "Format", "ImportProblem", "ImportResult",
        "ImportRow", "Progress", "format_of", "import_events", "parse_date", "read_rows", "read_text",
    ),
    "ledger": (
        "Ledger",
    ),
    "models": (
        "Agreement", "AllRequirement", "Alliance", "Balance", "CENT", "Catalog", "Code", "ConversionRule", "Course",
        "CourseCompleted", "CoursesRequirement", "CreditRecognized", "CreditRecord", "Credits",
        "CreditsRequirement", "DEFAULT_POLICY", "EARLIEST_DATE", "EVENT_ADAPTER", "EVENT_CLASSES", "Enrolled",
        "EntryReversed", "Equivalence", "EquivalenceSide", "Event", "ExceptionGranted", "FIVE_LEVELS",
        "FIVE_LEVEL_CHINESE", "FIVE_LEVEL_WORDS", "Filter", "Frozen", "Grade", "GradeCorrected", "Graduated",
        "Hours", "HoursRequirement", "Identifier", "Institution", "Issue", "KIND_RANK", "LATEST_DATE", "Membership",
        "OutcomeConverted", "OutcomeRevoked", "OutcomeType", "PASS_FAIL_WORDS", "PickRequirement", "Policy",
        "Program", "ProgramChanged", "Ratio", "Receipt", "Receipts", "RecordDate", "Requirement", "Resumed",
        "RuleTarget", "STATUS_KINDS", "Scale", "Suspended", "Target", "Text", "Transcript", "VerifyReport",
        "Withdrawn", "Years", "catalog_problems", "quantize_credits", "walk_requirements",
    ),
    "plots": (
        "COHORT_GROUPS", "cohort_counts", "cohort_group", "plot_cohort", "plot_student",
    ),
    "schemas": (
        "MODELS", "SCHEMA_DIALECT", "json_schemas",
    ),
    "storage": (
        "CatalogRow", "CheckpointRow", "EVENT_COLUMNS", "EventRow", "Finding", "GENESIS", "GUARDED_TABLES",
        "MIGRATIONS", "MetaRow", "SCHEMA_VERSION", "Store", "StoredEvent", "checkpoint_hash", "content_hash",
        "make_engine", "normalise_url", "row_hash", "subject_of", "verify_store",
    ),
    "transfer": (
        "CapResult", "Decision", "Excluded", "LEVEL_WORDS", "Outcome", "RecognitionResult", "STATEMENT_FORMAT",
        "Standing", "StatementResult", "TransferStatement", "ZERO", "apply_caps", "convert", "describe",
        "is_external", "is_online", "meets_min_grade", "normalize_level", "public_key_hex", "ratio_limits",
        "recognize", "record_key", "standing_of", "statement_of",
    ),
}

TOP_LEVEL = (
    "Agreement", "Alliance", "AuditCredits", "AuditReport", "AuditStatus", "BadSignature", "Balance", "CapResult",
    "Catalog", "CatalogError", "ColumnMap", "ConversionRule", "Course", "CourseCompleted", "CreditLedgerError",
    "CreditRecognized", "CreditRecord", "Decision", "DuplicateEvent", "EVENT_ADAPTER", "Enrolled", "EntryReversed",
    "Event", "ExceptionGranted", "Excluded", "Grade", "GradeCorrected", "Graduated", "ImportFileError",
    "ImportProblem", "ImportResult", "ImportRow", "Institution", "IntegrityError", "Issue", "Ledger", "Outcome",
    "OutcomeConverted", "OutcomeRevoked", "PermissionDenied", "Policy", "Program", "ProgramChanged", "Receipt",
    "Receipts", "RecognitionResult", "RejectedEvent", "RequirementResult", "Resumed", "Stage", "StatementResult",
    "Suspended", "Target", "Transcript", "TransferStatement", "UnknownReference", "VerifyReport", "Withdrawn",
    "__version__", "apply_caps", "audit", "audits_csv", "export_sqlite", "import_events", "json_schemas",
    "plot_cohort", "plot_student", "public_key_hex", "read_rows", "to_pandas", "transcript_json", "transfer",
)


@pytest.mark.parametrize("module", sorted(PUBLIC_NAMES))
def test_module_keeps_its_public_names(module: str) -> None:
    mod = importlib.import_module(f"credit_ledger.{module}")
    missing = [name for name in PUBLIC_NAMES[module] if not hasattr(mod, name)]
    assert not missing, f"credit_ledger.{module} no longer offers {missing}"


def test_top_level_api_only_grows() -> None:
    missing = sorted(set(TOP_LEVEL) - set(credit_ledger.__all__))
    assert not missing, f"credit_ledger.__all__ lost {missing}"
    assert all(hasattr(credit_ledger, name) for name in credit_ledger.__all__)
