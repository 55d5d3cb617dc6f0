"""`SageMakerPipeline`: a SageMaker pipeline as a Pulumi dynamic resource.

The resource owns what the native `aws.sagemaker.Pipeline` does not: definitions compared by
meaning (key order and whitespace never cause an update), a content hash output, drift read
back on `pulumi refresh`, adoption of a pipeline made outside Pulumi, the "first deploy"
switch that starts one execution right after creation (never on update), and a delete that
stops running executions first (SageMaker refuses to delete a running pipeline).

Modules: `resource` (what a program declares), `provider` (CRUD), `validation` (a validator
per field), `inputs` (property names, defaults, comparison), `live` (calls on the pipeline),
`executions` (stop, wait, delete) and `aws` (sessions, clients, errors).

State pickles the provider by reference, as `ml.sagemaker_pipeline.SageMakerPipelineProvider`:
this package path is the public, stable one (the class declares it as its `__module__`), so
the dynamic-provider process imports this package. It stays light: pulumi and the standard
library at import time, boto3 only inside calls, and no import-time side effects.
"""
from ml.sagemaker_pipeline.aws import PipelineProviderError
from ml.sagemaker_pipeline.provider import SageMakerPipelineProvider
from ml.sagemaker_pipeline.resource import SageMakerPipeline, SageMakerPipelineArgs

__all__ = ["PipelineProviderError", "SageMakerPipeline", "SageMakerPipelineArgs",
           "SageMakerPipelineProvider"]
