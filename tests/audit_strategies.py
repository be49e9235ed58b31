"""Hypothesis strategies for the graduation audit's property tests: small requirement trees and credit records.

Everything is drawn as plain data (dicts for the requirement tree, exactly what a catalog's YAML would hold, and
``CreditRecord`` values for the records), so that a test can judge the audit with its own rules. The records use a
made-up school ``T`` whose courses have known credits (``COURSE_CREDITS``); ``allocation_catalog()`` holds them, so
the audit prices a missing course at its catalog credits.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

import credit_ledger as cl

SCHOOL = "T"
AS_OF = date(2027, 7, 1)
"""The audit date of the property tests (records are dated before it)."""

COURSE_CREDITS = {"C1": Decimal("1.00"), "C2": Decimal("2.00"), "C3": Decimal("3.00"), "C4": Decimal("1.50"),
                  "C5": Decimal("4.00")}
"""Course codes of school T and their catalog credits (what a missing course costs a course list)."""

COURSES = tuple(COURSE_CREDITS)
CATEGORIES = ("core", "practice")
TAGS = ("cnc", "digital")
ORIGINS = ("home", "recognized", "converted")
RECORD_CREDITS = tuple(Decimal(x) for x in ("0.50", "1.00", "1.50", "2.00", "3.00", "4.00"))
NEEDS = tuple(Decimal(x) for x in ("1.00", "2.00", "3.00", "4.00", "5.00", "6.00", "2.50"))
CAPS = tuple(Decimal(x) for x in ("0.00", "1.00", "2.00", "3.00"))


def allocation_catalog() -> cl.Catalog:
    """School T with the courses of ``COURSE_CREDITS`` (both categories present, so a filter may name either)."""
    return cl.Catalog.from_data({
        "institutions": [{"code": SCHOOL, "name": "Test school"}],
        "courses": [{"institution": SCHOOL, "code": code, "title": f"course {code}", "credits": str(credits),
                     "category": CATEGORIES[i % 2]} for i, (code, credits) in enumerate(COURSE_CREDITS.items())],
    })


def program_of(tree: dict[str, Any], total_credits: Decimal = Decimal("1.00")) -> cl.Program:
    """A real ``Program`` of school T around a requirement tree given as plain data."""
    return cl.Program.model_validate({
        "institution": SCHOOL, "code": "P-TEST", "title": "property test program", "level": "senior_worker",
        "standard_years": 3, "min_years": 2, "max_years": 6, "total_credits": str(total_credits),
        "requirements": tree,
    })


# -- records -----------------------------------------------------------------------------------------------------


@st.composite
def credit_records(draw: Any, event_id: str) -> cl.CreditRecord:
    """One effective credit record: a course of T (or category credit from elsewhere), a category, tags, an origin,
    credits and a date before ``AS_OF``."""
    origin = draw(st.sampled_from(ORIGINS))
    course = draw(st.sampled_from(COURSES + ((None,) if origin != "home" else ())))
    return cl.CreditRecord(
        course=course, institution=SCHOOL, title=f"{course or 'category credit'} ({event_id})",
        category=draw(st.sampled_from(CATEGORIES)),
        tags=tuple(draw(st.lists(st.sampled_from(TAGS), unique=True, max_size=2))),
        credits=draw(st.sampled_from(RECORD_CREDITS)), origin=origin, event_id=event_id,
        occurred_on=date(2025, 9, 1) + timedelta(days=draw(st.integers(0, 600))),
    )


@st.composite
def record_lists(draw: Any, max_size: int = 8, prefix: str = "r") -> list[cl.CreditRecord]:
    """Up to ``max_size`` records with distinct event ids."""
    n = draw(st.integers(0, max_size))
    return [draw(credit_records(f"{prefix}{i}")) for i in range(n)]


# -- requirement trees -------------------------------------------------------------------------------------------


@st.composite
def filters(draw: Any) -> dict[str, str]:
    """A credit pool's filter: any of category, tag and origin (none: every record)."""
    keys = draw(st.lists(st.sampled_from(("category", "tag", "origin")), unique=True, max_size=2))
    choices = {"category": CATEGORIES, "tag": TAGS, "origin": ORIGINS}
    return {k: draw(st.sampled_from(choices[k])) for k in keys}


@st.composite
def leaves(draw: Any, ident: str, hours: bool = False) -> dict[str, Any]:
    """A leaf: a course list, a credit pool (maybe with ``max_external``) or, when ``hours``, an hour pool; a
    quarter of them ``shared``."""
    kinds = ["courses", "credits"] + (["hours"] if hours else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "courses":
        node: dict[str, Any] = {"id": ident, "courses": draw(st.lists(st.sampled_from(COURSES), min_size=1,
                                                                       max_size=3, unique=True))}
    elif kind == "credits":
        node = {"id": ident, "credits": str(draw(st.sampled_from(NEEDS))), "from": draw(filters())}
        if draw(st.booleans()):
            node["max_external"] = str(draw(st.sampled_from(CAPS)))
    else:
        node = {"id": ident, "hours": draw(st.sampled_from(("16", "40", "64"))), "from": draw(filters())}
    if draw(st.integers(0, 3)) == 0:
        node["shared"] = True
    node["title"] = f"leaf {ident}"
    return node


@st.composite
def requirement_trees(draw: Any, max_leaves: int = 5, hours: bool = False) -> dict[str, Any]:
    """A requirement tree of 1..``max_leaves`` leaves under nested ``all`` and ``pick n of`` nodes."""
    n = draw(st.integers(1, max_leaves))
    items = [draw(leaves(f"L{i}", hours=hours)) for i in range(n)]
    counter = itertools.count()

    def composite(children: list[dict[str, Any]]) -> dict[str, Any]:
        ident = f"N{next(counter)}"
        if draw(st.booleans()):
            return {"id": ident, "title": f"all {ident}", "all": children}
        return {"id": ident, "title": f"pick {ident}", "pick": draw(st.integers(1, len(children))), "of": children}

    def build(group: list[dict[str, Any]]) -> dict[str, Any]:
        if len(group) == 1:
            return group[0]
        cuts = sorted(draw(st.sets(st.integers(1, len(group) - 1), max_size=len(group) - 1)))
        bounds = [0, *cuts, len(group)]
        parts = [group[a:b] for a, b in itertools.pairwise(bounds)]
        if len(parts) == 1:
            return composite(list(group))
        return composite([build(p) for p in parts])

    if n == 1 and draw(st.booleans()):
        return items[0]  # a program whose whole requirement is one leaf
    if n == 1:
        return composite(items)
    return build(items)
