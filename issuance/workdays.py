"""Working days in mainland China: weekends, the State Council's public holidays and the
weekend days worked in exchange (调休), from the chinesecalendar package.

A year the package does not know yet (the 放假安排 is published each winter) falls back to
Monday to Friday, until the package is updated.
"""

import datetime

import chinese_calendar


def is_workday(day):
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def add_workdays(start, days):
    """The `days`-th working day after the date `start` (`start` itself not counted)."""
    day = start
    while days > 0:
        day += datetime.timedelta(days=1)
        if is_workday(day):
            days -= 1
    return day


def workdays_between(start, end):
    """How many working days come after `start` up to and including `end`."""
    count, day = 0, start
    while day < end:
        day += datetime.timedelta(days=1)
        count += is_workday(day)
    return count
