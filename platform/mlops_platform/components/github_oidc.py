"""AWS side of GitHub as the control plane: the OIDC identity provider, the deploy,
preview and model-approver roles, and the permissions boundary every role of the stack carries.

Trust anchors (the OIDC provider, the deploy role and the boundary) are changed only by an
administrator's `pulumi up` (the one-time bootstrap): the boundary denies CI any change to
them, so a workflow can never widen its own access. For the same reason they are kept on
`pulumi destroy`: CI's destroy (destroy-dev) cannot and must not delete the role it runs
as; an administrator removes them when the account is decommissioned.
"""
from __future__ import annotations

import pulumi
import pulumi_aws as aws

from mlops_platform import iam, naming
from mlops_platform.components import github_policies as gp
from mlops_platform.settings import Settings

# What CI can never delete, so `pulumi destroy` keeps it: (resource type, logical name).
TRUST_ANCHORS = {
    ("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "github"),
    ("aws:iam/policy:Policy", "permissions-boundary"),
    ("aws:iam/role:Role", "github-deploy"),
    ("aws:iam/rolePolicy:RolePolicy", "github-deploy"),
}
# The GitHub environment whose jobs may approve models (registry stack).
MODEL_APPROVAL = "model-approval"

# What the workload roles (SageMaker jobs, Lambdas, EventBridge) do at run time. The boundary
# caps every role of the stack, so it must allow these too; a test fails when a role policy
# uses an action the boundary would silently cut.
RUNTIME_ACTIONS = [
    "dynamodb:DeleteItem", "dynamodb:PutItem",
    "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
    "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
    "iam:PassRole",
    "kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo",
    "lambda:InvokeFunction", "logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams",
    "logs:PutLogEvents",
    "s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket", "s3:PutObject",
    "sagemaker:AddAssociation", "sagemaker:AddTags", "sagemaker:AssociateTrialComponent",
    "sagemaker:CreateExperiment", "sagemaker:CreateModel", "sagemaker:CreateModelPackage",
    "sagemaker:CreateProcessingJob", "sagemaker:CreateTrainingJob", "sagemaker:CreateTransformJob",
    "sagemaker:CreateTrial", "sagemaker:CreateTrialComponent", "sagemaker:DescribeExperiment",
    "sagemaker:DescribeModel", "sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup",
    "sagemaker:DescribeProcessingJob", "sagemaker:DescribeTrainingJob", "sagemaker:DescribeTransformJob",
    "sagemaker:DescribeTrial", "sagemaker:ListModelPackages", "sagemaker:ListPipelineExecutions",
    "sagemaker:StartPipelineExecution", "sagemaker:StopProcessingJob", "sagemaker:StopTrainingJob",
    "sagemaker:StopTransformJob", "sagemaker:UpdateTrialComponent", "sqs:SendMessage",
]
# Run-time actions AWS authorises only on "*".
RUNTIME_UNSCOPED = ["cloudwatch:PutMetricData", "ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSubnets", "ec2:DescribeVpcs", "ecr:GetAuthorizationToken",
                    "sagemaker:ListModelPackages"]
# In the boundary's allow list (roles are managed), but never on the deploy role itself.
TRUST_ANCHOR_ROLE_ACTIONS = ["iam:DeleteRole", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary",
                             "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole"]


def boundary_document(s: gp.Scope) -> str:
    """The most any role of this stack may do: exactly the actions its roles use.

    A boundary caps actions; the roles' own policies scope resources. Changes to the
    boundary and the OIDC provider, attaching managed policies and removing a boundary are
    in no role's policy, so the boundary allows none of them. Two denies close what the
    allow list cannot: a role without this boundary, and changes to the deploy role itself.
    """
    own = gp.read_statements(s) + gp.manage_statements(s) + (gp.approver_statements(s) if s.is_registry else [])
    actions = {a for st in own for a in st["Action"]}
    if not s.is_registry:
        actions |= set(RUNTIME_ACTIONS) | set(RUNTIME_UNSCOPED)
    return iam.document(
        iam.allow("BoundaryActions", sorted(actions), "*"),
        iam.deny("NoRoleWithoutTheBoundary", ["iam:CreateRole", "iam:PutRolePermissionsBoundary"],
                 f"arn:aws:iam::{s.account}:role/*",
                 Condition={"StringNotEquals": {"iam:PermissionsBoundary": s.boundary_arn}}),
        iam.deny("DeployRoleChangesNeedAnAdministrator", TRUST_ANCHOR_ROLE_ACTIONS,
                 s.role_arn(naming.GITHUB_DEPLOY)),
    )


class PermissionsBoundary(pulumi.ComponentResource):
    """The boundary policy, built before any role so that every role can carry it.

    `bound(opts)` returns options whose transformation sets it on every `aws.iam.Role`
    created under them (roles of other components included), so no role escapes it.
    """

    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:security:PermissionsBoundary", name, None, opts)
        scope = gp.Scope.of(settings)
        self.policy = aws.iam.Policy(
            name, name=naming.role_name(settings.role, gp.BOUNDARY_PURPOSE),
            description="Caps every role of this stack and keeps the GitHub trust anchors out of CI's reach.",
            policy=boundary_document(scope), opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True))
        self.arn = self.policy.arn
        self.register_outputs({"arn": self.arn})

    def _set_on_roles(self, args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if args.type_ != "aws:iam/role:Role":
            return None
        # Resource() hands transformations its inputs as a dict of Python (snake_case) names.
        return pulumi.ResourceTransformationResult({**args.props, "permissions_boundary": self.arn}, args.opts)

    def bound(self, opts: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(transformations=[self._set_on_roles]))


class GitHubOidc(pulumi.ComponentResource):
    """The account's GitHub OIDC provider and the roles GitHub workflows assume.

    - deploy: trusted only for `repo:OWNER/REPO:environment:<stack>`; manages the stack.
    - preview: trusted for pull requests and main; Describe/Get/List only.
    - model approver (registry): trusted only for the `model-approval` environment;
      may only approve or reject versions of the central group.
    """

    def __init__(self, name: str, settings: Settings, boundary: PermissionsBoundary,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:github:GitHubOidc", name, None, opts)
        s, scope = settings, gp.Scope.of(settings)
        self.provider = aws.iam.OpenIdConnectProvider(
            "github", url=gp.GITHUB_OIDC_URL, client_id_lists=[gp.AUDIENCE],
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True))
        repo = f"repo:{s.github.full_name}"
        self._scope, self._boundary = scope, boundary
        self.deploy_role = self._role(
            "deploy", naming.GITHUB_DEPLOY, f"Deploys the {s.stack} stack from its GitHub environment.",
            gp.web_identity_trust(scope, "GitHubEnvironment", [f"{repo}:environment:{s.stack}"]),
            gp.deploy_document(scope), trust_anchor=True)
        self.preview_role = self._role(
            "preview", naming.GITHUB_PREVIEW, f"Read-only: previews the {s.stack} stack for pull requests and main.",
            gp.web_identity_trust(scope, "GitHubPullRequestsAndMain",
                                  [f"{repo}:pull_request", f"{repo}:ref:refs/heads/main"]),
            gp.preview_document(scope))
        self.approver_role = None
        if s.is_registry:
            self.approver_role = self._role(
                "model-approver", naming.MODEL_APPROVER, "Approves or rejects versions of the central model group.",
                gp.web_identity_trust(scope, "GitHubModelApproval", [f"{repo}:environment:{MODEL_APPROVAL}"]),
                gp.approver_document(scope))
        self.register_outputs({"deploy_role_arn": self.deploy_role.arn})

    def _role(self, key: str, purpose: str, description: str, trust: str, policy: str,
              trust_anchor: bool = False) -> aws.iam.Role:
        # The trust names the provider by its deterministic ARN; depends_on orders creation.
        opts = pulumi.ResourceOptions(parent=self, depends_on=[self.provider], retain_on_delete=trust_anchor)
        role = aws.iam.Role(f"github-{key}", name=naming.role_name(self._scope.role, purpose),
                            description=description, max_session_duration=3600, assume_role_policy=trust,
                            permissions_boundary=self._boundary.arn, opts=opts)
        aws.iam.RolePolicy(f"github-{key}", role=role.name, name="least-privilege", policy=policy,
                           opts=pulumi.ResourceOptions(parent=self, retain_on_delete=trust_anchor))
        return role

