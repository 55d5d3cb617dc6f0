"""Content-addressed keys and reproducible zips: same content, same bytes; new content, new key."""
from __future__ import annotations

import hashlib
import io
import tomllib
import zipfile

import pytest
import setuptools

from ml import contract
from ml.models import load_project_models
from ml.packaging import (
    STEP_SCRIPTS,
    content_key,
    deterministic_zip,
    library_artifacts,
    library_keys,
    library_uris,
    schema_key,
    schema_uri,
    script_artifacts,
    script_keys,
    script_uris,
)
from tests.ml.pipelines.sample import sample_settings


def test_content_key_is_prefix_digest_filename():
    data = b"print('hello')\n"
    assert content_key("code/steps", data, "preprocess.py") == (
        f"code/steps/{hashlib.sha256(data).hexdigest()[:16]}/preprocess.py")


def test_same_content_same_key_and_any_change_a_new_key():
    a = content_key("code", b"x = 1\n", "evaluate.py")
    assert a == content_key("code/", b"x = 1\n", "evaluate.py")
    assert a != content_key("code", b"x = 2\n", "evaluate.py")
    assert a != content_key("code", b"x = 1\n", "drift_check.py")


@pytest.mark.parametrize(("prefix", "filename"), [
    ("", "a.py"), ("code//x", "a.py"), ("code", ""), ("code", "dir/a.py"), ("code", ".."), ("co de", "a.py"),
])
def test_content_key_rejects_bad_prefixes_and_names(prefix, filename):
    with pytest.raises(ValueError):
        content_key(prefix, b"data", filename)


def test_content_key_needs_bytes():
    with pytest.raises(TypeError, match="bytes"):
        content_key("code", "text", "a.py")


def test_script_artifacts_reads_the_five_step_scripts():
    artifacts = script_artifacts()
    assert set(artifacts) == set(STEP_SCRIPTS) == {
        contract.PREPROCESS_SCRIPT, contract.PREPARE_BATCH_SCRIPT, contract.EVALUATE_SCRIPT,
        contract.DRIFT_CHECK_SCRIPT, contract.CAPTURE_BATCH_SCRIPT}
    for name, data in artifacts.items():
        assert data == (contract.STEPS_DIR / name).read_bytes()


def test_script_artifacts_names_missing_scripts(tmp_path):
    (tmp_path / "preprocess.py").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="evaluate.py"):
        script_artifacts(tmp_path)


def test_script_uris_feed_pipeline_settings_and_follow_content(tmp_path):
    for name in STEP_SCRIPTS:
        (tmp_path / name).write_bytes(f"# {name}\n".encode())
    uris = script_uris("mlops-dev-data-111122223333", "code/steps", script_artifacts(tmp_path))
    settings = sample_settings(script_uris=uris)
    assert dict(settings.script_uris) == uris
    (tmp_path / "evaluate.py").write_bytes(b"# changed\n")
    changed = script_keys("code/steps", script_artifacts(tmp_path))
    assert changed["evaluate.py"] != uris["evaluate.py"].split("/", 3)[3]
    assert changed["preprocess.py"] == uris["preprocess.py"].split("/", 3)[3]
    with pytest.raises(ValueError, match="bucket"):
        script_uris("s3://bucket", "code", {"a.py": b""})


MODULES = {"tabular.py": b"X = 1\n", "tabular_cells.py": b"Y = 2\n"}


def test_shared_modules_share_one_directory_named_by_all_of_them():
    keys = library_keys("code/steps", MODULES)
    directories = {key.rsplit("/", 1)[0] for key in keys.values()}
    assert len(directories) == 1 and next(iter(directories)).startswith("code/steps/")
    assert {key.rsplit("/", 1)[1] for key in keys.values()} == set(MODULES)
    # Any module's change moves them all: one processing input ships the set an execution started with.
    changed = library_keys("code/steps", {**MODULES, "tabular_cells.py": b"Y = 3\n"})
    assert set(changed.values()).isdisjoint(keys.values())
    assert library_keys("code/steps", dict(reversed(list(MODULES.items())))) == keys
    assert library_keys("code/steps", {"tabular.py": MODULES["tabular.py"]}) != {"tabular.py": keys["tabular.py"]}


def test_library_uris_feed_pipeline_settings(monkeypatch):
    monkeypatch.setattr(contract, "STEP_LIBRARY_MODULES", tuple(MODULES))
    uris = library_uris("mlops-dev-data-111122223333", "code/steps", MODULES)
    settings = sample_settings(library_uris=uris)
    assert dict(settings.library_uris) == uris
    assert settings.library_dir_uri == uris["tabular.py"].removesuffix("tabular.py")
    with pytest.raises(ValueError, match="bucket"):
        library_uris("s3://bucket", "code/steps", MODULES)
    with pytest.raises(ValueError, match="filename"):
        library_keys("code/steps", {"lib/tabular.py": b""})


def test_library_artifacts_reads_every_shared_module_and_names_missing_ones(tmp_path):
    artifacts = library_artifacts()
    assert list(artifacts) == list(contract.STEP_LIBRARY_MODULES)
    assert all(data == (contract.STEPS_DIR / name).read_bytes() for name, data in artifacts.items())
    (tmp_path / contract.STEP_LIBRARY_MODULES[0]).write_bytes(b"")
    with pytest.raises(FileNotFoundError, match=contract.STEP_LIBRARY_MODULES[-1]):
        library_artifacts(tmp_path)


def test_a_schema_document_is_content_addressed_per_model():
    model = load_project_models()[0]
    document = model.schema.document_bytes(model.name)
    key = schema_key(document)
    assert key == f"{contract.SCHEMAS_PREFIX}/{hashlib.sha256(document).hexdigest()[:16]}/{contract.SCHEMA_FILE}"
    # The document names its model: a clone with the same columns still has its own object.
    assert schema_key(model.schema.document_bytes("m01")) != key
    uri = schema_uri("mlops-dev-data-111122223333", document)
    assert uri == f"s3://mlops-dev-data-111122223333/{key}"
    assert sample_settings(schema_uri=uri).schema_uri == uri


FILES = {"handler.py": b"def handler(event, context):\n    return {}\n", "lib/util.py": b"X = 1\n"}


def test_zip_bytes_depend_on_content_only():
    first = deterministic_zip(FILES)
    assert first == deterministic_zip(dict(reversed(list(FILES.items()))))
    assert first != deterministic_zip({**FILES, "lib/util.py": b"X = 2\n"})


def test_zip_entries_are_sorted_stamped_1980_mode_0644_and_round_trip():
    with zipfile.ZipFile(io.BytesIO(deterministic_zip(FILES))) as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == sorted(FILES)
        for info in infos:
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.external_attr >> 16 == 0o100644
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert archive.read(info) == FILES[info.filename]
        assert archive.testzip() is None


@pytest.mark.parametrize("name", ["/abs.py", "../up.py", "a/../b.py", "dir/", "./a.py"])
def test_zip_rejects_unsafe_archive_names(name):
    with pytest.raises(ValueError, match="relative POSIX"):
        deterministic_zip({name: b""})


def test_zip_needs_files_and_bytes():
    with pytest.raises(ValueError):
        deterministic_zip({})
    with pytest.raises(TypeError):
        deterministic_zip({"a.py": "text"})


def _setuptools_config() -> dict:
    return tomllib.loads((contract.PACKAGE_DIR.parent / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_the_distribution_holds_every_step_script_and_lambda_handler_as_a_module():
    find = _setuptools_config()["packages"]["find"]
    root = contract.PACKAGE_DIR.parent
    packages = {p for where in find["where"] for p in setuptools.find_packages(str(root / where),
                                                                              include=find["include"])}
    assert {"ml", "ml.steps", "ml.lambdas", "ml.pipelines"} <= packages
    for directory in (contract.STEPS_DIR, contract.LAMBDAS_DIR):
        assert (directory / "__init__.py").is_file(), f"{directory} ships only as a package"


def test_every_package_data_pattern_matches_a_file():
    # A glob that matches nothing ships nothing and only misleads the reader.
    for package, patterns in _setuptools_config().get("package-data", {}).items():
        base = contract.PACKAGE_DIR.parent / package.replace(".", "/")
        for pattern in patterns:
            assert list(base.glob(pattern)), f"package-data {package}: {pattern!r} matches no file under {base}"
