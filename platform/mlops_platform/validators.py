"""Shapes of the values the settings accept."""
from __future__ import annotations

import re

ACCOUNT_ID = re.compile(r"\d{12}")
REGION = re.compile(r"[a-z]{2}(-gov)?-[a-z]+-\d")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}")
SAGEMAKER_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
GITHUB_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
GITHUB_REPO = re.compile(r"[A-Za-z0-9._-]{1,100}")
PULUMI_ORG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
STACK_REF = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
TAG = re.compile(r"[\w\s.:/=+\-@]{1,384}")

_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\(([^()]+)\)")
_CRON_FIELD = re.compile(r"[0-9A-Za-z*?,/#L W-]+")


def schedule_problem(expression: str) -> str | None:
    """Why `expression` is not a valid EventBridge schedule, or None when it is."""
    if m := _RATE.fullmatch(expression):
        value, unit = int(m.group(1)), m.group(2)
        if value < 1:
            return f"{expression!r}: the rate must be at least 1."
        if (value == 1) == unit.endswith("s"):
            return f"{expression!r}: use the singular unit for 1 and the plural otherwise, e.g. rate(1 day), rate(6 hours)."
        return None
    if m := _CRON.fullmatch(expression):
        fields = m.group(1).split()
        if len(fields) != 6:
            return (f"{expression!r}: EventBridge cron takes 6 fields (minutes hours day-of-month "
                    "month day-of-week year), e.g. cron(0 6 * * ? *).")
        if not all(_CRON_FIELD.fullmatch(f) for f in fields):
            return f"{expression!r}: a field has characters cron does not allow."
        if (fields[2] == "?") == (fields[4] == "?"):
            return (f"{expression!r}: exactly one of day-of-month and day-of-week must be '?', "
                    "e.g. cron(0 6 * * ? *).")
        return None
    return f"{expression!r} is not cron(...) or rate(...): use e.g. cron(0 6 * * ? *) or rate(1 day)."
