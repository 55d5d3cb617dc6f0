"""Which input of which resource type carries an IAM policy document, and what kind it is.

Read by the offline runner (`StackRun.policy_documents`) and the policy pack alike, so both
see the same documents. Identity policies are attached to a principal; resource policies
name principals; trust policies say who may assume a role; a KMS key policy is a resource
policy whose "*" resource means the key itself.
"""
from __future__ import annotations

IDENTITY = "identity"
RESOURCE = "resource"
TRUST = "trust"
KEY = "key"

POLICY_INPUTS: dict[str, tuple[str, str]] = {
    "aws:iam/role:Role": ("assumeRolePolicy", TRUST),
    "aws:iam/rolePolicy:RolePolicy": ("policy", IDENTITY),
    "aws:iam/policy:Policy": ("policy", IDENTITY),
    "aws:iam/userPolicy:UserPolicy": ("policy", IDENTITY),
    "aws:iam/groupPolicy:GroupPolicy": ("policy", IDENTITY),
    "aws:kms/key:Key": ("policy", KEY),
    "aws:kms/keyPolicy:KeyPolicy": ("policy", KEY),
    "aws:s3/bucketPolicy:BucketPolicy": ("policy", RESOURCE),
    "aws:sns/topicPolicy:TopicPolicy": ("policy", RESOURCE),
    "aws:sqs/queuePolicy:QueuePolicy": ("policy", RESOURCE),
    "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy": ("resourcePolicy", RESOURCE),
}
