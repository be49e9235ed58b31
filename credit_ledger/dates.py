"""Year arithmetic: the one way every rule of the library counts years.

A school counts years two ways, and so does this module, each for its own kind of question:

- **A day some years later** (a deadline, an expiry, the age limit of a recognised record) is found on the
  calendar, in whole months: enrolment on 2025-09-01 plus 2.5 years is 2028-03-01, and the 31st of a month becomes
  the last day of a shorter one. ``add_years``.
- **A length of time made of pieces** (days suspended over several spells of 休学, the study time of a worker who
  studied in stages, a pace in credits per year) is counted in days, at ``DAYS_PER_YEAR`` (365.25) days a year.
  ``years_to_days`` and ``days_to_years``.

>>> add_years(date(2025, 9, 1), 2), years_to_days(Decimal(2)), days_to_years(730)
(datetime.date(2027, 9, 1), 730, Decimal('1.998631074606433949349760438'))

Pure functions over dates and decimals: no clock.
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

DAYS_PER_YEAR = Decimal("365.25")
"""Days in a year when a length of time is summed from pieces."""


def add_years(day: date, years: Decimal | int | float) -> date:
    """``day`` plus a (possibly fractional) number of years, in whole months; the 31st becomes the month's last day.
    A day past the calendar's end is ``date.max``.

    >>> add_years(date(2024, 2, 29), 1), add_years(date(2025, 9, 1), Decimal("2.5"))
    (datetime.date(2025, 2, 28), datetime.date(2028, 3, 1))
    """
    months = int((Decimal(str(years)) * 12).to_integral_value(ROUND_HALF_UP))
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    if year > date.max.year:
        return date.max
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def years_to_days(years: Decimal | int) -> int:
    """Days in a length of ``years`` (x 365.25, rounded half to even: two years are 730 days).

    >>> years_to_days(Decimal(2)), years_to_days(Decimal("0.5"))
    (730, 183)
    """
    return int((Decimal(years) * DAYS_PER_YEAR).to_integral_value(ROUND_HALF_EVEN))


def days_to_years(days: int) -> Decimal:
    """Years in a length of ``days`` (/ 365.25).

    >>> days_to_years(1461)
    Decimal('4')
    """
    return Decimal(days) / DAYS_PER_YEAR
