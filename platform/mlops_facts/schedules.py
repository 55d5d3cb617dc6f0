"""EventBridge schedule expressions, checked as strictly as EventBridge reads them.

Shared by the program's settings (the per-stack `inferenceSchedule`) and the model configuration
(`ml/models.py`: each model's `inferenceSchedule`), so both refuse the same expressions with the
same words. Standard library only (see the package docstring).
"""
from __future__ import annotations

import re

_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\(([^()]*)\)")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# EventBridge's six cron fields: name, smallest and largest value, names usable for values.
_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minutes", 0, 59, ()), ("hours", 0, 23, ()), ("day-of-month", 1, 31, ()),
    ("month", 1, 12, _MONTHS), ("day-of-week", 1, 7, _DAYS), ("year", 1970, 2199, ()),
)
_EXAMPLE = "e.g. cron(0 6 * * ? *) or rate(1 day)"


def schedule_problem(expression: str) -> str | None:
    """Why `expression` is not a valid EventBridge schedule, or None when it is."""
    if m := _RATE.fullmatch(expression):
        value, unit = int(m.group(1)), m.group(2)
        if value < 1:
            return f"{expression!r}: the rate must be at least 1."
        if (value == 1) == unit.endswith("s"):
            return (f"{expression!r}: use the singular unit for 1 and the plural otherwise, "
                    "e.g. rate(1 day), rate(6 hours).")
        return None
    if m := _CRON.fullmatch(expression):
        return _cron_problem(expression, m.group(1).split())
    return f"{expression!r} is not cron(...) or rate(...): use {_EXAMPLE}."


def _cron_problem(expression: str, fields: list[str]) -> str | None:
    if len(fields) != 6:
        return (f"{expression!r}: EventBridge cron takes 6 fields (minutes hours day-of-month "
                "month day-of-week year), e.g. cron(0 6 * * ? *).")
    problems = [p for i, text in enumerate(fields) if (p := _field_problem(i, text))]
    if (fields[2] == "?") == (fields[4] == "?"):
        problems.append("exactly one of day-of-month and day-of-week must be '?' (AWS cannot combine "
                        "them), e.g. cron(0 6 * * ? *) or cron(0 6 ? * MON-FRI *)")
    return f"{expression!r}: {'; '.join(problems)}." if problems else None


def _field_problem(index: int, text: str) -> str | None:
    name, low, high, names = _FIELDS[index]
    if text == "?":
        return None if index in (2, 4) else f"{name} cannot be '?' (only day-of-month or day-of-week)"
    if index == 2 and _day_of_month_special(text):
        return None
    if index == 4 and _day_of_week_special(text):
        return None
    for part in text.split(","):
        if problem := _part_problem(part, name, low, high, names):
            return problem
    return None


def _part_problem(part: str, name: str, low: int, high: int, names: tuple[str, ...]) -> str | None:
    base, slash, step = part.partition("/")
    if slash and not (step.isdigit() and 1 <= int(step) <= high):
        return f"{name} increment {step!r} in {part!r} must be a whole number from 1 to {high}"
    if base == "*":
        return None
    ends = base.split("-")
    if len(ends) > 2 or not all(ends):
        return f"{name} {part!r} is not a value, a range a-b, '*' or an increment such as */5"
    values = [_value(e, names) for e in ends]
    if any(v is None or not low <= v <= high for v in values):
        allowed = f"{low}-{high}" + (f" or {names[0]}-{names[-1]}" if names else "")
        return f"{name} {part!r} is out of range ({allowed})"
    return None


def _value(text: str, names: tuple[str, ...]) -> int | None:
    if text.isdigit():
        return int(text)
    upper = text.upper()
    return names.index(upper) + 1 if upper in names else None


def _day_of_month_special(text: str) -> bool:
    """`L` (last day), `LW` (last weekday), `15W` (the weekday nearest the 15th)."""
    if text in ("L", "LW"):
        return True
    return text.endswith("W") and text[:-1].isdigit() and 1 <= int(text[:-1]) <= 31


def _day_of_week_special(text: str) -> bool:
    """`L` (last day of the week), `5L` (last Thursday), `3#2` (second Tuesday of the month)."""
    if text == "L":
        return True
    if text.endswith("L"):
        return (_value(text[:-1], _DAYS) or 0) in range(1, 8)
    day, hash_, nth = text.partition("#")
    return bool(hash_) and (_value(day, _DAYS) or 0) in range(1, 8) and nth in ("1", "2", "3", "4", "5")
