"""AWS side of GitHub as the control plane: the OIDC identity provider, the deploy, preview and
model-approver roles, and the permissions boundaries every role of the stack carries.

Trust anchors (the OIDC provider, both boundaries, the GitHub roles and their policies, and the
central group's policy) are changed only by an administrator's `pulumi up` (the one-time
bootstrap): the CI boundary denies CI any change to them, so a workflow can never widen its
own access or re-trust a role that approves models. For the same reason they are kept on
`pulumi destroy`: CI's destroy (destroy-dev) cannot and must not delete the roles it runs as;
an administrator removes them when the account is decommissioned.
"""
from __future__ import annotations

import pulumi
import pulumi_aws as aws

from mlops_platform import naming
from mlops_platform.iam_documents import boundaries
from mlops_platform.iam_documents import github_roles as gh
from mlops_platform.iam_documents.scope import CI_BOUNDARY_PURPOSE, WORKLOAD_BOUNDARY_PURPOSE, Scope
from mlops_platform.settings import Settings

# What CI can never change or delete, so `pulumi destroy` keeps it: (resource type, logical name).
TRUST_ANCHORS = {
    ("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "github"),
    ("aws:iam/policy:Policy", "permissions-boundary"),
    ("aws:iam/policy:Policy", "workload-boundary"),
    ("aws:iam/role:Role", "github-deploy"),
    ("aws:iam/rolePolicy:RolePolicy", "github-deploy"),
    ("aws:iam/role:Role", "github-preview"),
    ("aws:iam/rolePolicy:RolePolicy", "github-preview"),
    ("aws:iam/role:Role", "github-model-approver"),
    ("aws:iam/rolePolicy:RolePolicy", "github-model-approver"),
    ("aws:iam/role:Role", "github-model-reviewer"),
    ("aws:iam/rolePolicy:RolePolicy", "github-model-reviewer"),
    ("aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy", "model-registry"),
}
# Every model's group policy is one, whatever the model (`<model>-model-registry`).
TRUST_ANCHOR_TYPES = frozenset({"aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"})


def is_trust_anchor(resource_type: str, name: str) -> bool:
    """Whether CI can never change or delete this resource (so `pulumi destroy` keeps it)."""
    return (resource_type, name) in TRUST_ANCHORS or resource_type in TRUST_ANCHOR_TYPES
# The GitHub environment whose jobs may approve models (registry stack).
MODEL_APPROVAL = "model-approval"
# Sessions of the GitHub roles: long enough for the longest deploy or destroy job, whose
# timeouts the workflows keep below it (configure-aws-credentials requests this duration).
CI_SESSION_SECONDS = 7200
# The model reviewer's job reads one version and its metrics: an hour is plenty.
REVIEW_SESSION_SECONDS = 3600
# The registry's read-only role that shows a version to its approvers (approve-model.yml).
MODEL_REVIEWER = "github-model-reviewer"


class PermissionsBoundary(pulumi.ComponentResource):
    """The stack's boundaries, built before any role so that every role can carry one.

    - `ci`: on the GitHub roles (set explicitly by `GitHubOidc`);
    - `workload` (dev, prod): on every other role. `bound(opts)` returns options whose
      transformation sets it on every `aws.iam.Role` created under them that names no
      boundary (roles of other components included), so no role escapes a boundary, and a
      role nobody thought about gets the narrower one.
    """

    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:security:PermissionsBoundary", name, None, opts)
        scope = Scope.of(settings)
        kept = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
        self.policy = aws.iam.Policy(
            name, name=naming.role_name(settings.role, CI_BOUNDARY_PURPOSE),
            description="Caps the GitHub roles to this stack's resources; keeps the trust anchors out of CI's reach.",
            policy=boundaries.ci_boundary_document(scope), opts=kept)
        self.arn = self.policy.arn
        self.workload_arn = self.arn
        if not scope.is_registry:
            workload = aws.iam.Policy(
                "workload-boundary", name=naming.role_name(settings.role, WORKLOAD_BOUNDARY_PURPOSE),
                description="Caps every role CI creates: run-time actions on this stack and the registry, "
                            "and the job guardrails.",
                policy=boundaries.workload_boundary_document(scope), opts=kept)
            self.workload_arn = workload.arn
        self.register_outputs({"arn": self.arn, "workload_arn": self.workload_arn})

    def _set_on_roles(self, args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if args.type_ != "aws:iam/role:Role" or args.props.get("permissions_boundary") is not None:
            return None
        # Resource() hands transformations its inputs as a dict of Python (snake_case) names.
        return pulumi.ResourceTransformationResult({**args.props, "permissions_boundary": self.workload_arn},
                                                   args.opts)

    def bound(self, opts: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(transformations=[self._set_on_roles]))


class GitHubOidc(pulumi.ComponentResource):
    """The account's GitHub OIDC provider and the roles GitHub workflows assume, all trust
    anchors carrying the CI boundary.

    - deploy: trusted only for `repo:OWNER/REPO:environment:<stack>`; manages the stack.
    - preview: trusted for pull requests and main; Describe/Get/List only.
    - model approver (registry): trusted only for the `model-approval` environment;
      may only approve or reject versions of the central group, after verifying a version's
      model archive and tagging the object version it checked (the only role the registry
      bucket lets set the tag endpoints require).
    - model reviewer (registry): trusted only for `main`; describes versions and reads their
      metrics file, so approvers see what they approve (approve-model.yml).
    """

    def __init__(self, name: str, settings: Settings, boundary: PermissionsBoundary,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:github:GitHubOidc", name, None, opts)
        s, scope = settings, Scope.of(settings)
        self.provider = aws.iam.OpenIdConnectProvider(
            "github", url=gh.GITHUB_OIDC_URL, client_id_lists=[gh.AUDIENCE],
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True))
        repo = f"repo:{s.github.full_name}"
        self._scope, self._boundary = scope, boundary
        self.deploy_role = self._role(
            "deploy", naming.GITHUB_DEPLOY, f"Deploys the {s.stack} stack from its GitHub environment.",
            gh.web_identity_trust(scope, "GitHubEnvironment", [f"{repo}:environment:{s.stack}"]),
            gh.deploy_document(scope))
        self.preview_role = self._role(
            "preview", naming.GITHUB_PREVIEW, f"Read-only: previews the {s.stack} stack for pull requests and main.",
            gh.web_identity_trust(scope, "GitHubPullRequestsAndMain",
                                  [f"{repo}:pull_request", f"{repo}:ref:refs/heads/main"]),
            gh.preview_document(scope))
        self.approver_role = self.reviewer_role = None
        if s.is_registry:
            self.approver_role = self._role(
                "model-approver", naming.MODEL_APPROVER, "Approves or rejects versions of the central model group.",
                gh.web_identity_trust(scope, "GitHubModelApproval", [f"{repo}:environment:{MODEL_APPROVAL}"]),
                gh.approver_document(scope))
            # Before an approval, a job without approval rights shows the version to its reviewers.
            self.reviewer_role = self._role(
                "model-reviewer", MODEL_REVIEWER, "Shows a model version and its metrics to its approvers; read-only.",
                gh.web_identity_trust(scope, "GitHubMain", [f"{repo}:ref:refs/heads/main"]),
                gh.reviewer_document(scope), session_seconds=REVIEW_SESSION_SECONDS)
        self.register_outputs({"deploy_role_arn": self.deploy_role.arn})

    def _role(self, key: str, purpose: str, description: str, trust: str, policy: str,
              session_seconds: int = CI_SESSION_SECONDS) -> aws.iam.Role:
        # The trust names the provider by its deterministic ARN; depends_on orders creation.
        opts = pulumi.ResourceOptions(parent=self, depends_on=[self.provider], retain_on_delete=True)
        role = aws.iam.Role(f"github-{key}", name=naming.role_name(self._scope.role, purpose),
                            description=description, max_session_duration=session_seconds,
                            assume_role_policy=trust, permissions_boundary=self._boundary.arn, opts=opts)
        aws.iam.RolePolicy(f"github-{key}", role=role.name, name="least-privilege", policy=policy,
                           opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True))
        return role
