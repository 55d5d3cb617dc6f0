"""EventBridge schedules: one checker for the stack's inferenceSchedule and every model's."""
from __future__ import annotations

import pytest

from mlops_facts.schedules import schedule_problem
from mlops_platform import validators


@pytest.mark.parametrize("expression", ["rate(1 day)", "rate(6 hours)", "cron(0 6 * * ? *)",
                                        "cron(0 5 ? * MON-FRI *)", "cron(0/15 * L * ? *)", "cron(0 6 ? * 3#2 *)"])
def test_valid_schedules_pass(expression):
    assert schedule_problem(expression) is None


@pytest.mark.parametrize(("expression", "fix"), [
    ("rate(1 days)", "singular unit"), ("rate(0 hours)", "at least 1"), ("cron(0 6 * * *)", "6 fields"),
    ("cron(0 6 * * * *)", "exactly one of day-of-month and day-of-week"), ("cron(61 6 * * ? *)", "out of range"),
    ("daily", "not cron(...) or rate(...)"),
])
def test_invalid_schedules_say_why(expression, fix):
    problem = schedule_problem(expression)
    assert problem is not None and fix in problem


def test_the_settings_validators_use_the_same_checker():
    assert validators.schedule_problem is schedule_problem
