"""Content-addressed code artifacts: S3 keys derived from the bytes, reproducible zips.

A pipeline definition names its step scripts, their shared modules and the model's schema
document by S3 URI. Deriving the key from the content
means a changed script yields a new URI, hence a new definition and a pipeline update, while
an unchanged script yields the same bytes everywhere and `pulumi preview` shows no diff.
The same holds for Lambda code: `deterministic_zip` makes the archive (and so its hash and
the function's `source_code_hash`) depend on the files only, never on mtimes or umask.
"""
from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from ml import contract

STEP_SCRIPTS = (
    contract.PREPROCESS_SCRIPT,
    contract.PREPARE_BATCH_SCRIPT,
    contract.EVALUATE_SCRIPT,
    contract.DRIFT_CHECK_SCRIPT,
    contract.CAPTURE_BATCH_SCRIPT,
)
DIGEST_CHARS = 16  # 64 bits of sha256: collisions are not a practical concern for code
# 1980-01-01 is the earliest timestamp a zip entry can hold.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o100644  # regular file, rw-r--r--: Lambda needs read access, nothing more
_KEY_PART = re.compile(r"^[A-Za-z0-9!_.*'()/-]+$")  # S3's "safe characters" for object keys


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def content_key(prefix: str, data: bytes, filename: str) -> str:
    """The S3 key `{prefix}/{sha256(data)[:16]}/{filename}`.

    The filename stays last because containers run scripts by their base name.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"content_key needs the file's bytes, got {type(data).__name__}")
    return f"{_key_prefix(prefix, filename)}/{sha256_hex(bytes(data))[:DIGEST_CHARS]}/{filename}"


def _key_prefix(prefix: str, filename: str) -> str:
    """`prefix` without its slashes at the ends, once it and `filename` are checked as S3 key parts."""
    prefix = prefix.strip("/")
    if not prefix or not _KEY_PART.match(prefix) or "//" in prefix:
        raise ValueError(f"prefix must be a non-empty S3 key prefix such as 'code/steps', got {prefix!r}")
    if not filename or "/" in filename or not _KEY_PART.match(filename) or filename in (".", ".."):
        raise ValueError(f"filename must be a plain file name such as 'preprocess.py', got {filename!r}")
    return prefix


def script_artifacts(steps_dir: Path | None = None) -> dict[str, bytes]:
    """The step scripts' bytes by file name, read from `ml/steps/` (or `steps_dir`)."""
    steps_dir = Path(steps_dir) if steps_dir is not None else contract.STEPS_DIR
    missing = [name for name in STEP_SCRIPTS if not (steps_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(f"step scripts missing from {steps_dir}: {missing}")
    return {name: (steps_dir / name).read_bytes() for name in STEP_SCRIPTS}


def script_keys(prefix: str, artifacts: Mapping[str, bytes]) -> dict[str, str]:
    """Content-addressed S3 key of each script, by file name."""
    return {name: content_key(prefix, data, name) for name, data in sorted(artifacts.items())}


def script_uris(bucket: str, prefix: str, artifacts: Mapping[str, bytes]) -> dict[str, str]:
    """`s3://bucket/<content key>` of each script: the `script_uris` of `PipelineSettings`."""
    _check_bucket(bucket)
    return {name: f"s3://{bucket}/{key}" for name, key in script_keys(prefix, artifacts).items()}


def library_artifacts(steps_dir: Path | None = None) -> dict[str, bytes]:
    """The steps' shared modules' bytes by file name (contract.STEP_LIBRARY_MODULES), from `ml/steps/`."""
    steps_dir = Path(steps_dir) if steps_dir is not None else contract.STEPS_DIR
    missing = [name for name in contract.STEP_LIBRARY_MODULES if not (steps_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(f"shared step modules missing from {steps_dir}: {missing}")
    return {name: (steps_dir / name).read_bytes() for name in contract.STEP_LIBRARY_MODULES}


def bundle_digest(artifacts: Mapping[str, bytes]) -> str:
    """One digest of several files, names included: any change to any of them changes it."""
    digest = hashlib.sha256()
    for name, data in sorted(artifacts.items()):
        digest.update(name.encode() + b"\0" + hashlib.sha256(bytes(data)).digest())
    return digest.hexdigest()


def library_keys(prefix: str, artifacts: Mapping[str, bytes]) -> dict[str, str]:
    """Content-addressed keys of the shared modules, all in one directory named by their joint
    digest: one processing input (an S3 prefix) ships them together, and a change to any module
    makes a new directory, so a running execution keeps reading the set it started with."""
    if not artifacts:
        raise ValueError("library_keys needs at least one module")
    digest = bundle_digest(artifacts)[:DIGEST_CHARS]
    return {name: f"{_key_prefix(prefix, name)}/{digest}/{name}" for name in sorted(artifacts)}


def library_uris(bucket: str, prefix: str, artifacts: Mapping[str, bytes]) -> dict[str, str]:
    """`s3://bucket/<key>` of each shared module: the `library_uris` of `PipelineSettings`."""
    _check_bucket(bucket)
    return {name: f"s3://{bucket}/{key}" for name, key in library_keys(prefix, artifacts).items()}


def schema_key(document: bytes) -> str:
    """Content-addressed key of a model's schema document (`DataSchema.document_bytes`)."""
    return content_key(contract.SCHEMAS_PREFIX, document, contract.SCHEMA_FILE)


def schema_uri(bucket: str, document: bytes) -> str:
    """`s3://bucket/<schema_key>`: the `schema_uri` of `PipelineSettings`."""
    _check_bucket(bucket)
    return f"s3://{bucket}/{schema_key(document)}"


def _check_bucket(bucket: str) -> None:
    if not bucket or "/" in bucket or bucket.startswith("s3:"):
        raise ValueError(f"bucket must be a bucket name such as 'mlops-dev-data', got {bucket!r}")


def deterministic_zip(files: Mapping[str, bytes]) -> bytes:
    """A zip of `files` (archive name -> bytes) whose bytes depend on the content only.

    Entries are sorted, stamped 1980-01-01, mode 0644, deflated at a fixed level and
    carry no extra fields, so the same files give the same archive on any machine.
    """
    if not files:
        raise ValueError("deterministic_zip needs at least one file")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for arcname in sorted(files):
            path = PurePosixPath(arcname)
            if path.is_absolute() or ".." in path.parts or str(path) != arcname or arcname.endswith("/"):
                raise ValueError(f"archive name must be a relative POSIX file path, got {arcname!r}")
            data = files[arcname]
            if not isinstance(data, (bytes, bytearray)):
                raise TypeError(f"content of {arcname!r} must be bytes, got {type(data).__name__}")
            info = zipfile.ZipInfo(arcname, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so that external_attr is read as a mode
            info.external_attr = _FILE_MODE << 16
            archive.writestr(info, bytes(data), compresslevel=9)
    return buffer.getvalue()
