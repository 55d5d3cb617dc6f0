"""The models configuration: the shipped entries parse into the specs the platform ran before models
were configurable; every bad entry is reported at once, each with its key and its fix; values
resolve override > entry > the stack's key > built-in."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from ml import contract
from ml.models import (
    DERIVED_NAMES,
    MAX_NAME_LENGTH,
    NUMERIC,
    PROJECT_ROOT,
    JobSizing,
    ModelConfigError,
    ModelDefaults,
    load_project_models,
    parse_models,
)
from mlops_platform.naming import ModelNames

M = "mlops-platform:models"
OV = "mlops-platform:modelOverrides"
WORKLOAD = ModelDefaults(auc_threshold=0.85, inference_schedule="cron(0 6 * * ? *)", retrain_cooldown_minutes=360,
                         first_training_run=True)


def _project_config() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())["config"]


def _shipped_models() -> dict:
    return copy.deepcopy(_project_config()[M]["value"])


def _mammography_only() -> dict:
    return {"mammography": _shipped_models()["mammography"]}


def _two_models() -> dict:
    models = _mammography_only()
    models["second"] = {
        "dataFile": "data/mammographic_masses.data",
        "schema": {"label": {"name": "y", "domain": ["no", "yes"], "positive": "yes"},
                   "features": [{"name": "a", "kind": "numeric", "domain": [0, 10]},
                                {"name": "b", "kind": "nominal", "domain": ["x", "z"]}]},
        "hyperparameters": {"num_round": "20"},
    }
    return models


def _parse(models, *, overrides=None, defaults=WORKLOAD, first="mammography", role="dev"):
    problems: list[tuple[str, str]] = []
    specs = parse_models(models, overrides=overrides, defaults=defaults, first_model=first, stack_role=role,
                         fail=lambda key, message: problems.append((key, message)))
    return specs, problems


# --- the shipped configuration ------------------------------------------------------------------

def test_the_shipped_mammography_entry_is_the_model_the_platform_ran_before():
    specs, problems = _parse(_shipped_models())
    assert problems == []
    spec = specs[0]
    assert spec.first and spec.name == "mammography"
    assert spec.group_name == "mammo-severity-model-package"
    assert (PROJECT_ROOT / spec.data_file).resolve() == contract.DATA_FILE.resolve()
    schema = spec.schema
    assert schema.columns == contract.RAW_COLUMNS
    assert schema.feature_names == contract.FEATURES
    assert schema.label.name == contract.LABEL and schema.label.positive == 1
    assert {f.name for f in schema.features if f.kind == NUMERIC} == set(contract.NUMERIC_FEATURES)
    assert {f.name for f in schema.features if f.kind == "ordinal"} == set(contract.ORDINAL_FEATURES)
    assert {f.name for f in schema.features if f.kind == "nominal"} == set(contract.NOMINAL_FEATURES)
    assert dict(spec.hyperparameters) == contract.XGB_HYPERPARAMETERS
    assert schema.header is False and schema.missing == ("?",)
    assert dict(schema.features[0].aliases) == {"55": 5}  # the BI-RADS typo
    assert spec.compare_without == ("BI-RADS",)


def test_every_model_of_the_shipped_file_loads_for_the_local_tools():
    specs = load_project_models()
    assert specs[0].name == "mammography" and specs[0].first
    assert len({s.name for s in specs}) == len(specs) == len(_shipped_models())
    assert all(not s.first for s in specs[1:])


def test_the_shipped_wdbc_entry_describes_its_data_file():
    import pandas as pd
    from sklearn.datasets import load_breast_cancer

    wdbc = {s.name: s for s in _parse(_shipped_models())[0]}["wdbc"]
    schema = wdbc.schema
    assert not wdbc.first and wdbc.group_name == "wdbc-diagnosis-model-package"
    assert len(schema.features) == 30 and all(f.kind == NUMERIC and not f.integer for f in schema.features)
    assert schema.label.name == "diagnosis" and schema.label.positive == "malignant" and schema.header
    frame = pd.read_csv(PROJECT_ROOT / wdbc.data_file)
    assert list(frame.columns) == list(schema.columns)
    source = load_breast_cancer()
    assert (frame[list(schema.feature_names)].to_numpy() == source.data).all()
    assert ((frame["diagnosis"] == "malignant") == (source.target == 0)).all()
    # Domains are plausibility limits: every value inside, with room beyond what was observed.
    for feature in schema.features:
        low, high = feature.domain
        assert low <= frame[feature.name].min() and frame[feature.name].max() < high


def test_the_engines_json_text_parses_like_the_structured_value():
    models = _two_models()
    structured, _ = _parse(models)
    as_text, problems = _parse(json.dumps(models), overrides=json.dumps({"second": {"aucThreshold": "0.9"}}))
    assert problems == []
    assert [s.name for s in as_text] == [s.name for s in structured]
    assert as_text[1].auc_threshold == 0.9 and structured[1].auc_threshold == 0.85


def test_the_schema_document_is_canonical_bytes():
    spec = _parse(_shipped_models())[0][0]
    first = spec.schema.document_bytes("mammography")
    again = _parse(json.loads(json.dumps(_shipped_models())))[0][0].schema.document_bytes("mammography")
    assert first == again
    document = json.loads(first)
    assert document["columns"] == list(contract.RAW_COLUMNS) and document["model"] == "mammography"


# --- every kind of problem, with its key and its fix --------------------------------------------

def _feature(models, index):
    return models["mammography"]["schema"]["features"][index]


MF = f"{M}.mammography"
SF = f"{MF}.schema.features"
PROBLEMS = {
    "duplicate feature name": (lambda m, o: _feature(m, 2).update(name="Age"), f"{SF}[2].name", "unique"),
    "unknown kind": (lambda m, o: _feature(m, 1).update(kind="numerical"), f"{SF}[1].kind", "did you mean numeric"),
    "empty domain": (lambda m, o: _feature(m, 2).update(domain=[]), f"{SF}[2].domain", "must not be empty"),
    "numeric domain not low < high": (lambda m, o: _feature(m, 1).update(domain=[120, 1]), f"{SF}[1].domain",
                                      "low < high"),
    "numeric domain of three values": (lambda m, o: _feature(m, 1).update(domain=[1, 50, 120]), f"{SF}[1].domain",
                                       "[low, high]"),
    "repeated categorical value": (lambda m, o: _feature(m, 4).update(domain=[1, 2, 2.0, 4]), f"{SF}[4].domain",
                                   "once"),
    "integer on a categorical": (lambda m, o: _feature(m, 2).update(integer=True), f"{SF}[2].integer",
                                 "numeric features only"),
    "label is also a feature": (lambda m, o: _feature(m, 4).update(name="Severity"), f"{MF}.schema.label.name",
                                "cannot learn its label"),
    "label with three values": (lambda m, o: m["mammography"]["schema"]["label"].update(domain=[0, 1, 2]),
                                f"{MF}.schema.label.domain", "exactly two"),
    "positive not in the label domain": (lambda m, o: m["mammography"]["schema"]["label"].update(positive=2),
                                         f"{MF}.schema.label.positive", "must be one of"),
    "alias out of domain": (lambda m, o: _feature(m, 0).update(aliases={"55": 7}), f"{SF}[0].aliases.55",
                            "outside the domain"),
    "alias of a valid value": (lambda m, o: _feature(m, 0).update(aliases={"5": 5}), f"{SF}[0].aliases.5",
                               "already a value"),
    "missing token as a value": (lambda m, o: _feature(m, 2).update(domain=[1, 2, "?"]), f"{SF}[2].domain",
                                 "missing-value token"),
    "unknown model key": (lambda m, o: m["mammography"].update(aucTreshold="0.9"), f"{MF}.aucTreshold",
                          "did you mean aucThreshold"),
    "unknown feature key": (lambda m, o: _feature(m, 1).update(integral=True), f"{SF}[1].integral",
                            "did you mean integer"),
    "unknown schema key": (lambda m, o: m["mammography"]["schema"].update(heading=True), f"{MF}.schema.heading",
                           "did you mean header"),
    "columns not every column once": (lambda m, o: m["mammography"]["schema"].update(columns=["Age", "Severity"]),
                                      f"{MF}.schema.columns", "exactly once"),
    "model name too long": (lambda m, o: m.update({"m" * (MAX_NAME_LENGTH + 1): m.pop("mammography")}),
                            f"{M}.{'m' * (MAX_NAME_LENGTH + 1)}", "-latest-approved-model (Lambda function name"),
    "model name with capitals": (lambda m, o: m.update({"Wdbc": copy.deepcopy(m["mammography"])}), f"{M}.Wdbc",
                                 "lowercase letter"),
    "two models, one group": (lambda m, o: m["second"].update(modelPackageGroupName="mammo-severity-model-package"),
                              f"{M}.second.modelPackageGroupName", "own group"),
    "bad group name": (lambda m, o: m["second"].update(modelPackageGroupName="my_group"),
                       f"{M}.second.modelPackageGroupName", "SageMaker name"),
    "override of no model": (lambda m, o: o.update(secnd={"aucThreshold": "0.9"}), f"{OV}.secnd",
                             "did you mean second"),
    "unknown override key": (lambda m, o: o.update(second={"dataFile": "x.csv"}), f"{OV}.second.dataFile",
                             "not a key here"),
    "hyperparameter as a number": (lambda m, o: m["second"]["hyperparameters"].update(max_depth=3),
                                   f"{M}.second.hyperparameters.max_depth", 'quote it: max_depth: "3"'),
    "unknown hyperparameter": (lambda m, o: m["second"]["hyperparameters"].update(max_dept="3"),
                               f"{M}.second.hyperparameters.max_dept", "did you mean max_depth"),
    "objective other than binary:logistic": (
        lambda m, o: m["second"]["hyperparameters"].update(objective="reg:squarederror"),
        f"{M}.second.hyperparameters.objective", "binary:logistic"),
    "eta out of range": (lambda m, o: o.update(second={"hyperparameters": {"eta": "1.5"}}),
                         f"{OV}.second.hyperparameters.eta", "above 0 to 1"),
    "num_round missing": (lambda m, o: m["second"].pop("hyperparameters"), f"{M}.second.hyperparameters.num_round",
                          "num_round: \"100\""),
    "auc threshold of 1": (lambda m, o: m["second"].update(aucThreshold=1), f"{M}.second.aucThreshold",
                           "between 0 and 1"),
    "cooldown of zero": (lambda m, o: o.update(second={"retrainCooldownMinutes": "0"}),
                         f"{OV}.second.retrainCooldownMinutes", "1 to 10080"),
    "cooldown over a week": (lambda m, o: m["second"].update(retrainCooldownMinutes=20000),
                             f"{M}.second.retrainCooldownMinutes", "1 to 10080"),
    "bad schedule": (lambda m, o: m["second"].update(inferenceSchedule="cron(0 6 * * *)"),
                     f"{M}.second.inferenceSchedule", "6 fields"),
    "yaml 1.1 boolean": (lambda m, o: o.update(second={"firstTrainingRun": "yes"}), f"{OV}.second.firstTrainingRun",
                         "write true"),
    "bad instance type": (lambda m, o: m["second"].update(jobs={"training": {"instanceType": "m5.large"}}),
                          f"{M}.second.jobs.training.instanceType", "ml.<family>.<size>"),
    "instance count of 11": (lambda m, o: o.update(second={"jobs": {"transform": {"instanceCount": 11}}}),
                             f"{OV}.second.jobs.transform.instanceCount", "1 to 10"),
    "runtime under a minute": (lambda m, o: m["second"].update(jobs={"processing": {"maxRuntimeSeconds": 30}}),
                               f"{M}.second.jobs.processing.maxRuntimeSeconds", "60 to 86400"),
    "unknown job kind": (lambda m, o: m["second"].update(jobs={"trainer": {"instanceCount": 2}}),
                         f"{M}.second.jobs.trainer", "did you mean training"),
    "unknown job key": (lambda m, o: m["second"].update(jobs={"training": {"instanceCont": 2}}),
                        f"{M}.second.jobs.training.instanceCont", "did you mean instanceCount"),
    "compareWithout naming no feature": (lambda m, o: m["mammography"].update(compareWithout=["BIRADS"]),
                                         f"{MF}.compareWithout", "did you mean BI-RADS"),
    "compareWithout listing every feature": (
        lambda m, o: m["second"].update(compareWithout=["a", "b"]), f"{M}.second.compareWithout", "List fewer"),
    "data file missing": (lambda m, o: m["second"].update(dataFile="data/nothing.csv"), f"{M}.second.dataFile",
                          "does not exist"),
    "data file outside the project": (lambda m, o: m["second"].update(dataFile="../secret.csv"),
                                      f"{M}.second.dataFile", "inside the project"),
}


@pytest.mark.parametrize("case", sorted(PROBLEMS))
def test_each_problem_is_reported_with_its_key_and_fix(case):
    change, key, fix = PROBLEMS[case]
    models, overrides = _two_models(), {}
    change(models, overrides)
    specs, problems = _parse(models, overrides=overrides,
                             first=next(iter(models)) if case == "model name too long" else "mammography")
    assert specs is None
    messages = [message for k, message in problems if k == key]
    assert messages, f"no problem at {key}; got {problems}"
    assert any(fix in message for message in messages), messages


def test_every_problem_is_reported_at_once():
    models, overrides = _two_models(), {}
    chosen = ("unknown kind", "label is also a feature", "alias out of domain", "unknown hyperparameter",
              "bad schedule", "override of no model", "data file missing", "instance count of 11")
    for case in chosen:
        PROBLEMS[case][0](models, overrides)
    specs, problems = _parse(models, overrides=overrides)
    assert specs is None
    assert {PROBLEMS[case][1] for case in chosen} <= {key for key, _ in problems}


def test_first_model_is_required_with_two_models_and_must_name_one():
    assert ("mlops-platform:firstModel", "required") in {(k, "required") for k, m in _parse(
        _two_models(), first=None)[1] if "required" in m}
    _, problems = _parse(_two_models(), first="mamography")
    assert [(k, "did you mean mammography" in m) for k, m in problems] == [("mlops-platform:firstModel", True)]


def test_a_single_model_is_the_first_without_saying_so():
    specs, problems = _parse(_mammography_only(), first=None)
    assert problems == [] and specs[0].first


def test_no_models_is_a_problem():
    assert _parse({})[1][0][0] == M
    assert _parse(None)[1][0][0] == M


def test_overrides_belong_to_workload_stacks():
    _, problems = _parse(_mammography_only(), overrides={"mammography": {"aucThreshold": "0.9"}}, role="registry",
                         defaults=ModelDefaults())
    assert [k for k, _ in problems] == [OV]


# --- precedence -----------------------------------------------------------------------------------

def test_override_beats_entry_beats_stack_key_beats_built_in():
    models = _two_models()
    models["second"].update(aucThreshold=0.7, retrainCooldownMinutes=60)
    overrides = {"second": {"aucThreshold": "0.95"}}
    specs, problems = _parse(models, overrides=overrides, defaults=ModelDefaults(
        auc_threshold=0.85, inference_schedule="rate(1 day)", retrain_cooldown_minutes=120))
    assert problems == []
    mammography, second = specs
    assert second.auc_threshold == 0.95  # override
    assert second.retrain_cooldown_minutes == 60  # entry
    assert mammography.retrain_cooldown_minutes == 120  # the stack's key
    assert second.inference_schedule == "rate(1 day)"  # the stack's key
    assert second.first_training_run is True  # built-in: dev starts its first training run
    in_prod = _parse(models, role="prod", defaults=ModelDefaults(auc_threshold=0.9, inference_schedule="rate(1 day)"))
    assert in_prod[0][1].first_training_run is False  # built-in: prod does not
    assert second.jobs["training"] == JobSizing()  # built-in


def test_hyperparameters_and_jobs_merge_key_by_key():
    models = _two_models()
    models["second"]["jobs"] = {"training": {"instanceType": "ml.m5.xlarge", "instanceCount": 2}}
    overrides = {"second": {"hyperparameters": {"num_round": "80"}, "jobs": {"training": {"instanceCount": 3}}}}
    specs, problems = _parse(models, overrides=overrides)
    assert problems == []
    second = specs[1]
    assert dict(second.hyperparameters) == {"objective": "binary:logistic", "eval_metric": "auc", "num_round": "80"}
    assert second.jobs["training"] == JobSizing("ml.m5.xlarge", 3, 3600)
    assert second.jobs["processing"] == JobSizing()


def test_the_legacy_group_key_names_the_first_models_group_only():
    models = _two_models()
    del models["mammography"]["modelPackageGroupName"]
    specs, problems = _parse(models, defaults=ModelDefaults(0.85, "rate(1 day)", group_name="legacy-group"))
    assert problems == []
    assert [s.group_name for s in specs] == ["legacy-group", "second-model-package"]


def test_workloads_need_a_threshold_and_a_schedule_from_some_layer():
    _, problems = _parse(_mammography_only(), defaults=ModelDefaults())
    assert {k for k, _ in problems} == {f"{MF}.aucThreshold", f"{MF}.inferenceSchedule"}
    specs, problems = _parse(_shipped_models(), defaults=ModelDefaults(), role="registry")
    assert problems == [] and specs is not None


def test_the_first_model_comes_first_then_the_others_by_name():
    models = _two_models()
    models["alpha"] = copy.deepcopy(models["second"])
    models["alpha"]["modelPackageGroupName"] = "alpha-group"
    specs, problems = _parse(models, first="second")
    assert problems == []
    assert [(s.name, s.first) for s in specs] == [("second", True), ("alpha", False), ("mammography", False)]


# --- names fit AWS's limits -----------------------------------------------------------------------

def test_the_longest_allowed_name_fits_every_derived_name_and_one_more_does_not():
    longest = "m" * MAX_NAME_LENGTH
    for roles, suffix, limit, _ in DERIVED_NAMES:
        for role in roles:
            assert len(f"{ModelNames(role, longest, first=False).prefix}{suffix}") <= limit
    assert any(len(f"{ModelNames(role, longest + 'm', first=False).prefix}{suffix}") > limit
               for roles, suffix, limit, _ in DERIVED_NAMES for role in roles)
    models = {longest: _mammography_only()["mammography"]}
    assert _parse(models, first=longest)[1] == []


# --- the local tools' loader ----------------------------------------------------------------------

def test_load_project_models_raises_with_every_problem(tmp_path: Path):
    config = _project_config()
    config[M]["value"] = {"mammography": config[M]["value"]["mammography"]}
    config[M]["value"]["mammography"]["schema"]["features"][1]["kind"] = "numerical"
    config[M]["value"]["mammography"]["hyperparameters"]["max_dept"] = "3"
    (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump({"name": "x", "config": config}))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "mammographic_masses.data").write_text("")
    with pytest.raises(ModelConfigError) as caught:
        load_project_models(tmp_path)
    keys = [p.split(": ", 1)[0] for p in caught.value.problems]
    assert keys == [f"{SF}[1].kind", f"{MF}.hyperparameters.max_dept"]


def test_load_project_models_names_an_unreadable_file(tmp_path: Path):
    with pytest.raises(ModelConfigError, match="Pulumi.yaml"):
        load_project_models(tmp_path)


def test_the_name_limit_covers_the_names_the_components_derive():
    from ml import retraining_rules
    from mlops_platform.components.model_lifecycle import LATEST_MODEL_FUNCTION
    from mlops_platform.components.pipelines import LIVE_DRIFT
    from mlops_platform.components.retrain_on_drift import GATE_FUNCTION

    suffixes = {suffix for _, suffix, _, _ in DERIVED_NAMES}
    rules = retraining_rules.workload_rules(
        "arn:aws:sagemaker:eu-west-1:222222222222:pipeline/a-inference",
        "arn:aws:sagemaker:eu-west-1:222222222222:pipeline/a-training",
        "arn:aws:sagemaker:eu-west-1:222222222222:pipeline/a-live-drift")
    derived = {f"-{LATEST_MODEL_FUNCTION}", f"-{GATE_FUNCTION}", "-inference-schedule", "-training", "-inference",
               f"-{LIVE_DRIFT}", f"-{LIVE_DRIFT}-schedule", *(f"-{rule.name}" for rule in rules)}
    assert derived <= suffixes


def test_a_transform_runtime_bounds_each_request_600_s_by_default_and_an_hour_at_most():
    from ml.model_checks import Report
    from ml.model_jobs import parse_jobs

    problems: list[tuple[str, str]] = []
    jobs = parse_jobs(Report(lambda k, m: problems.append((k, m))), (("o", {}), ("e", {})))
    assert jobs["transform"].max_runtime_seconds == 600 and jobs["training"].max_runtime_seconds == 3600
    assert parse_jobs(Report(lambda k, m: problems.append((k, m))),
                      (("o", {"jobs": {"transform": {"maxRuntimeSeconds": 7200}}}), ("e", {}))) is None
    assert problems == [("o.jobs.transform.maxRuntimeSeconds", problems[0][1])] and "each request" in problems[0][1]
