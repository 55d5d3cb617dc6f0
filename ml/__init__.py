"""The ML package: datasets, step scripts, SageMaker pipeline builders, Lambda handlers,
the SageMaker-pipeline dynamic resource and the drift->retraining wiring."""
