"""SOQL relative date literals (TODAY, LAST_N_DAYS:n...) as half-open date ranges [start, end) in UTC.

Weeks start on Sunday and quarters are calendar quarters, as in an org with the default (en_US) locale and
fiscal year; the emulator runs every user in UTC.
"""
import datetime

_DAY = datetime.timedelta(days=1)


def _month_start(day, shift=0):
    index = day.year * 12 + day.month - 1 + shift
    return datetime.date(index // 12, index % 12 + 1, 1)


def _quarter_start(day, shift=0):
    return _month_start(datetime.date(day.year, (day.month - 1) // 3 * 3 + 1, 1), shift * 3)


def _week_start(day, shift=0):
    # date.weekday(): Monday 0 .. Sunday 6; Salesforce weeks start on Sunday.
    return day - datetime.timedelta(days=(day.weekday() + 1) % 7) + datetime.timedelta(weeks=shift)


def _year_start(day, shift=0):
    return datetime.date(day.year + shift, 1, 1)


def date_range(name, n, today):
    """(start, end) dates for a relative date literal; ``n`` is the number of ``LAST_N_DAYS:n`` style literals."""
    fixed = {
        "TODAY": (today, today + _DAY),
        "YESTERDAY": (today - _DAY, today),
        "TOMORROW": (today + _DAY, today + 2 * _DAY),
        # Relative day ranges include today when they look back and start tomorrow when they look ahead.
        "LAST_90_DAYS": (today - 90 * _DAY, today + _DAY),
        "NEXT_90_DAYS": (today + _DAY, today + 91 * _DAY),
    }
    if name in fixed:
        return fixed[name]
    units = {"WEEK": _week_start, "MONTH": _month_start, "QUARTER": _quarter_start, "YEAR": _year_start}
    for unit, start_of in units.items():
        if name == f"THIS_{unit}":
            return start_of(today), start_of(today, 1)
        if name == f"LAST_{unit}":
            return start_of(today, -1), start_of(today)
        if name == f"NEXT_{unit}":
            return start_of(today, 1), start_of(today, 2)
        if name == f"LAST_N_{unit}S":
            return start_of(today, -n), start_of(today)
        if name == f"NEXT_N_{unit}S":
            return start_of(today, 1), start_of(today, 1 + n)
        if name == f"N_{unit}S_AGO":
            return start_of(today, -n), start_of(today, -n + 1)
    if name == "LAST_N_DAYS":
        return today - n * _DAY, today + _DAY
    if name == "NEXT_N_DAYS":
        return today + _DAY, today + (n + 1) * _DAY
    if name == "N_DAYS_AGO":
        return today - n * _DAY, today - n * _DAY + _DAY
    raise ValueError(name)


def as_datetime(day):
    """Midnight UTC of a date, for comparing a date range with a datetime field."""
    return datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.timezone.utc)
