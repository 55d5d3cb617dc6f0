"""The platform's IAM documents, as plain data: who may do what, and on which resources.

Not components: the components (`mlops_platform.components`) put these documents on roles,
keys, buckets and the model group. Building a document imports neither Pulumi's providers nor
the ML stack (pandas, scikit-learn), so the policy pack's tests and the offline evaluator in
tests/security can read them cheaply.

- `scope`: what one stack manages, and the ARNs every document scopes by;
- `github_roles`: the OIDC trusts, the deploy, preview and model-approver roles;
- `boundaries`: the CI boundary and the workload boundary;
- `workload`: the run-time roles of dev and prod and the data bucket's guard;
- `registry`: the central group's, artifacts bucket's and artifacts key's policies.
"""
