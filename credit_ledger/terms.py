"""Terms (学期) of a school, and the order of its courses: prerequisites (先修课程) and the terms a course runs in.

A school's year is its terms, each a name and a start and end as month-day; by default autumn (秋季) 09-01 to 01-20
of the next year and spring (春季) 03-01 to 07-10, and a school may add a summer term (夏季). A course names the
codes of its prerequisites (courses of the same school, finished in an earlier term) and the names of the terms it
is offered in (``offered``; empty: every term). Both are checked with the catalog: an unknown course or term, a
course that requires itself, or a cycle, is a problem naming the path:

>>> course_order_problems({"CNC201": ("CNC301",), "CNC301": ("CNC201",)}, "HNJX", path="courses")
['courses: prerequisite cycle at HNJX: CNC201 → CNC301 → CNC201']

The terms a student can study in, from a day on (``term_calendar``), are the dated instances of the school's terms:

>>> [(t.name, str(t.start), str(t.end)) for t in term_calendar(DEFAULT_TERMS, date(2026, 9, 1), 3)]
[('秋季', '2026-09-01', '2027-01-20'), ('春季', '2027-03-01', '2027-07-10'), ('秋季', '2027-09-01', '2028-01-20')]
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Iterable, Mapping, NamedTuple, Sequence

from pydantic import StringConstraints, model_validator

from .base import Frozen, Text

__all__ = [
    "DEFAULT_TERMS", "MonthDay", "Term", "TermDates", "course_order_problems", "month_day", "term_calendar",
    "term_problems",
]

MonthDay = Annotated[str, StringConstraints(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
"""A day of the year as ``MM-DD`` (``09-01``); 02-29 is not one (a term starts and ends every year)."""

_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def month_day(text: str) -> tuple[int, int]:
    """``"09-01"`` as ``(9, 1)``; a day the month does not have (``02-30``, ``02-29``) is a ``ValueError``.

    >>> month_day("01-20")
    (1, 20)
    """
    month, day = int(text[:2]), int(text[3:])
    if not 1 <= month <= 12 or not 1 <= day <= _DAYS_IN_MONTH[month - 1]:
        raise ValueError(f"{text!r} is not a day of every year (MM-DD)")
    return month, day


def _day_of_year(text: str) -> int:
    month, day = month_day(text)
    return sum(_DAYS_IN_MONTH[:month - 1]) + day


class Term(Frozen):
    """A term of a school's year: its name (秋季, 春季, 夏季) and first and last day as month-day; a term whose end
    comes before its start in the calendar ends in the next year (autumn: 09-01 to 01-20)."""

    name: Annotated[Text, StringConstraints(min_length=1, max_length=32)]
    start: MonthDay
    end: MonthDay

    @model_validator(mode="after")
    def _days(self) -> "Term":
        month_day(self.start)
        month_day(self.end)
        if self.start == self.end:
            raise ValueError(f"term {self.name}: starts and ends on the same day ({self.start})")
        return self

    @property
    def wraps(self) -> bool:
        """True when the term ends in the year after it starts (autumn)."""
        return _day_of_year(self.end) < _day_of_year(self.start)

    def days(self) -> set[int]:
        """The days of a (non-leap) year the term covers, 1 to 365."""
        a, b = _day_of_year(self.start), _day_of_year(self.end)
        return set(range(a, b + 1)) if a <= b else set(range(a, 366)) | set(range(1, b + 1))


DEFAULT_TERMS: tuple[Term, ...] = (
    Term(name="秋季", start="09-01", end="01-20"),
    Term(name="春季", start="03-01", end="07-10"),
)
"""The terms of a school that names none: autumn (秋季) 09-01 to 01-20 and spring (春季) 03-01 to 07-10."""


class TermDates(NamedTuple):
    """One dated term: its name and its first and last day."""

    name: str
    start: date
    end: date


def _on(year: int, md: str) -> date:
    month, day = month_day(md)
    return date(year, month, day)


def term_calendar(terms: Sequence[Term], start: date, count: int) -> list[TermDates]:
    """The first ``count`` dated terms that begin on or after ``start``, in order (a term already begun is not one:
    a plan starts with the next term).

    >>> [t.name for t in term_calendar(DEFAULT_TERMS, date(2026, 9, 2), 2)]
    ['春季', '秋季']
    """
    out: list[TermDates] = []
    year = start.year - 1
    while len(out) < count and terms:
        found = sorted(
            (TermDates(t.name, _on(year, t.start), _on(year + 1 if t.wraps else year, t.end)) for t in terms),
            key=lambda t: t.start)
        out.extend(t for t in found if t.start >= start)
        year += 1
    return out[:count]


def term_problems(terms: Sequence[Term], path: str) -> list[str]:
    """A school's terms checked together: names are unique, and no two terms share a day.

    >>> term_problems([Term(name="秋季", start="09-01", end="01-20"), Term(name="冬季", start="01-10", end="02-20")],
    ...               "institutions[0].terms")
    ['institutions[0].terms[1]: term 冬季 (01-10 to 02-20) overlaps term 秋季 (09-01 to 01-20)']
    """
    problems: list[str] = []
    if not terms:
        problems.append(f"{path}: a school has at least one term")
    seen: dict[str, int] = {}
    for i, term in enumerate(terms):
        if term.name in seen:
            problems.append(f"{path}[{i}].name: duplicate term {term.name!r} (first at {path}[{seen[term.name]}])")
            continue
        seen[term.name] = i
        for earlier in terms[:i]:
            if earlier.name != term.name and term.days() & earlier.days():
                problems.append(f"{path}[{i}]: term {term.name} ({term.start} to {term.end}) overlaps term "
                                f"{earlier.name} ({earlier.start} to {earlier.end})")
    return problems


def course_order_problems(prerequisites: Mapping[str, Iterable[str]], institution: str, *, path: str) -> list[str]:
    """The prerequisite graph of one school's courses (code -> prerequisite codes) checked for cycles; each cycle is
    named once by its path, from its least code (``CNC201 → CNC301 → CNC201``)."""
    graph = {code: tuple(dict.fromkeys(reqs)) for code, reqs in prerequisites.items()}
    state: dict[str, int] = {}  # 1: on the path, 2: done
    cycles: set[tuple[str, ...]] = set()
    for root in sorted(graph):
        if state.get(root):
            continue
        stack: list[tuple[str, Iterable[str]]] = [(root, iter(sorted(graph.get(root, ()))))]
        trail = [root]
        state[root] = 1
        while stack:
            node, kids = stack[-1]
            for kid in kids:
                if state.get(kid) == 1:
                    cycle = trail[trail.index(kid):]
                    k = cycle.index(min(cycle))
                    cycles.add(tuple(cycle[k:] + cycle[:k]))
                elif not state.get(kid):
                    state[kid] = 1
                    trail.append(kid)
                    stack.append((kid, iter(sorted(graph.get(kid, ())))))
                    break
            else:
                state[node] = 2
                trail.pop()
                stack.pop()
    return [f"{path}: prerequisite cycle at {institution}: {' → '.join(c + (c[0],))}" for c in sorted(cycles)]
