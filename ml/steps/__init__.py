"""Step scripts. Each file runs alone inside an AWS container (SageMaker processing contract,
``--base-dir`` to run locally), so none of them imports ``ml``: they share the modules of
``contract.STEP_LIBRARY_MODULES`` (``tabular.py`` and the modules beside it), shipped to every job
as its own input and found beside the scripts locally, and read the model's schema document."""
