"""Step scripts. Each file runs alone inside an AWS container (SageMaker processing contract,
``--base-dir`` to run locally), so none of them imports ``ml``: they restate the few names they
need from ``ml.contract`` and a test checks they agree."""
