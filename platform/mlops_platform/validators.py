"""Shapes of the values the settings accept, each as strict as the layer that later reads it
(AWS, the SageMaker pipeline settings, EventBridge), so nothing fails after registration.
Regions are checked against the shared facts (`mlops_facts.regions.region_problem`), schedules
with `mlops_facts.schedules.schedule_problem` (re-exported here)."""
from __future__ import annotations

import re

from mlops_facts.schedules import schedule_problem as schedule_problem  # re-exported: config_workload uses it

ACCOUNT_ID = re.compile(r"\d{12}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}")
SAGEMAKER_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
GITHUB_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
GITHUB_REPO = re.compile(r"[A-Za-z0-9._-]{1,100}")
PULUMI_ORG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
STACK_REF = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
SUBNET = re.compile(r"subnet-[0-9a-f]{8,17}")
SECURITY_GROUP = re.compile(r"sg-[0-9a-f]{8,17}")
# AWS tag rules as ml/pipelines/settings.py checks them (letters, digits, spaces, _.:/=+-@):
# keys 1-128 characters and never `aws:` (reserved, any case), values up to 256.
TAG_KEY = re.compile(r"(?!(?i:aws:))[\w.:/=+\-@ ]{1,128}")
TAG_VALUE = re.compile(r"[\w.:/=+\-@ ]{0,256}")
# SageMaker allows 50 tags on a pipeline; the pipeline settings keep 10 for the SDK's own.
MAX_TAGS = 40
