"""The model's schema document, as the step scripts read it (part of the steps' shared library).

The document is written by the platform (``ml/models.py``, ``DataSchema.document``) and shipped
with every job as ``{base}/input/schema/schema.json``. The steps trust nothing in it: every
problem is reported at once, each with its key and the fix, before any data is read.

Values and their encoding, the one rule every step applies:
- a numeric feature holds numbers in ``[low, high]`` (whole numbers only when ``integer``);
- an ordinal or nominal feature holds one of its domain's values. A domain of numbers keeps
  them as they are (so an existing model's CSVs do not change); a domain with any text is
  *text-valued*: cells are compared as text and encoded as the value's position in the domain
  (0, 1, ...), the number XGBoost sees;
- the label has two values and is encoded 1 for the positive class, 0 for the other.

Standard library only (plus numpy for the encoded domains): it runs in every step's image.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SCHEMA_FORMAT = 1
SCHEMA_INPUT_DIR = "input/schema"  # under the base directory (contract.SCHEMA_INPUT_DIR)
SCHEMA_FILE = "schema.json"  # contract.SCHEMA_FILE
NUMERIC, ORDINAL, NOMINAL = "numeric", "ordinal", "nominal"
KINDS = (NUMERIC, ORDINAL, NOMINAL)
LABEL_KIND = "label"


class SchemaError(ValueError):
    """A schema document the steps cannot use; the message lists every problem and its fix."""


def is_number(value: object) -> bool:
    """A JSON number (not a bool), finite."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def plain(value: float) -> int | float:
    """A whole float as int (JSON ``5``, not ``5.0``), any other number as it is."""
    return int(value) if float(value).is_integer() else float(value)


@dataclass(frozen=True)
class Column:
    """One column of the data file: a feature, or the label (kind ``label``)."""

    name: str
    kind: str
    domain: tuple  # numeric: (low, high); otherwise the allowed values, in order
    integer: bool = False
    aliases: Mapping[str, object] = field(default_factory=dict)  # raw text -> value

    @property
    def categorical(self) -> bool:
        return self.kind != NUMERIC

    @property
    def text_valued(self) -> bool:
        """Cells are compared as text and encoded as positions (a domain with any text)."""
        return self.categorical and any(isinstance(v, str) for v in self.domain)

    @property
    def allowed(self) -> np.ndarray:
        """The encoded values a categorical column (or the label, before 1/0) may hold."""
        if self.text_valued:
            return np.arange(len(self.domain), dtype=float)
        return np.array(self.domain, dtype=float)

    @property
    def domain_text(self) -> tuple[str, ...]:
        """Domain values as they are written in a file (``5``, ``high``)."""
        return tuple(str(plain(v)) if is_number(v) else str(v) for v in self.domain)

    def describe_domain(self) -> str:
        """For messages: ``1..120`` (numeric) or ``1, 2, 3, 4``."""
        if not self.categorical:
            return f"{plain(self.domain[0])}..{plain(self.domain[1])}"
        return ", ".join(self.domain_text)

    def value_name(self, encoded: float) -> str:
        """The domain value an encoded value stands for, as a report shows it."""
        if self.text_valued and 0 <= encoded < len(self.domain) and float(encoded).is_integer():
            return self.domain_text[int(encoded)]
        return str(plain(encoded))

    def report_value(self, encoded: float) -> int | float | str:
        """JSON form of an encoded value: the domain's text, or the number."""
        return self.value_name(encoded) if self.text_valued else plain(encoded)


@dataclass(frozen=True)
class Schema:
    """A model's data layout: columns in file order, features, label, missing tokens, header."""

    model: str
    columns: tuple[str, ...]
    features: tuple[Column, ...]
    label: Column
    positive: object
    missing: tuple[str, ...]
    header: bool
    delimiter: str

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    def column(self, name: str) -> Column:
        return self.label if name == self.label.name else next(f for f in self.features if f.name == name)

    @property
    def without_label(self) -> tuple[str, ...]:
        """The columns of a batch file without the label, in file order."""
        return tuple(c for c in self.columns if c != self.label.name)

    def describe(self) -> str:
        """How a file of this schema looks, for messages."""
        missing = " or ".join(repr(m) for m in self.missing) or "no token"
        return (f"{'a header row' if self.header else 'no header'}, {self.delimiter!r}-separated, "
                f"{missing} for a missing value")


def schema_path(base_dir: str | Path) -> Path:
    """Where a step finds the schema document under its base directory."""
    return Path(base_dir) / SCHEMA_INPUT_DIR / SCHEMA_FILE


def load_schema(path: str | Path) -> Schema:
    """Read and check a schema document; raises SchemaError naming the file and every problem."""
    path = Path(path)
    if not path.is_file():
        raise SchemaError(f"{path}: no schema document; pass the model's schema.json "
                          "(ml/models.py DataSchema.document) as the job's schema input")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SchemaError(f"{path}: not a JSON document ({error}); pass the model's schema.json") from None
    return schema_from_document(document, str(path))


def schema_from_document(document: object, source: str = "schema document") -> Schema:
    """The Schema of a parsed document (format SCHEMA_FORMAT); raises SchemaError listing every problem."""
    if not isinstance(document, dict):
        raise SchemaError(f"{source}: expected a JSON object, got {type(document).__name__}")
    if document.get("format") != SCHEMA_FORMAT:
        raise SchemaError(
            f"{source}: format {document.get('format')!r}, but this step reads schema format "
            f"{SCHEMA_FORMAT}; ship the schema document and the step scripts of one platform version")
    problems: list[str] = []
    features = [_column(f, f"features[{i}]", problems) for i, f in enumerate(_list(document, "features", problems))]
    label = _label(document.get("label"), problems)
    names = [f.name for f in features if f] + ([label[0].name] if label else [])
    columns = _list(document, "columns", problems)
    if sorted(map(str, columns)) != sorted(names) or len(set(names)) != len(names):
        problems.append(f"columns: {columns} must name every feature and the label once, in file order "
                        f"(features and label: {names})")
    missing = _list(document, "missing", problems)
    if not all(isinstance(m, str) for m in missing):
        problems.append(f"missing: {missing} must be a list of text tokens, e.g. [\"?\"]")
    delimiter = document.get("delimiter", ",")
    if not (isinstance(delimiter, str) and len(delimiter) == 1 and delimiter not in "\r\n\"' "
            and not delimiter.isalnum() and delimiter not in missing):
        problems.append(f"delimiter: {delimiter!r} must be one character that is not a letter, digit, "
                        "space, quote, newline or missing token, e.g. ','")
    if not isinstance(document.get("header", False), bool):
        problems.append(f"header: {document.get('header')!r} must be true or false")
    if not features and "features" in document:
        problems.append("features: the model needs at least one feature")
    columns_with_values = [c for c in features if c] + ([label[0]] if label else [])
    problems += [f"{c.name}: the value {v!r} {why}" for c in columns_with_values if c.categorical
                 for v in c.domain_text for why in _unreadable(v, delimiter, missing)]
    if problems or label is None:
        raise SchemaError(f"{source}: {len(problems)} problem(s): " + "; ".join(problems))
    return Schema(model=str(document.get("model", "")), columns=tuple(columns),
                  features=tuple(f for f in features if f), label=label[0], positive=label[1],
                  missing=tuple(missing), header=document.get("header", False), delimiter=delimiter)


def _unreadable(value: str, delimiter: object, missing: list) -> list[str]:
    """Why a file could not hold this allowed value (the reader strips cells, quotes nothing)."""
    why = []
    if value in missing:
        why.append("is also a missing-value token; drop it from 'missing' or rename the value")
    if value != value.strip() or not value:
        why.append("has leading or trailing spaces (or is empty); cells are read stripped")
    if any(c in value for c in (str(delimiter), '"', "\n", "\r")):
        why.append("holds the delimiter, a quote or a newline, which a cell cannot hold")
    return why


def _list(document: dict, key: str, problems: list[str]) -> list:
    value = document.get(key)
    if not isinstance(value, list):
        problems.append(f"{key}: expected a list, got {value!r}")
        return []
    return value


def _column(entry: object, where: str, problems: list[str]) -> Column | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
        problems.append(f"{where}: expected an object with a non-empty 'name'")
        return None
    kind, domain = entry.get("kind"), entry.get("domain")
    if kind not in KINDS:
        problems.append(f"{where}.kind: {kind!r} must be one of {', '.join(KINDS)}")
        return None
    integer, aliases = entry.get("integer", False), entry.get("aliases", {})
    if not isinstance(domain, list) or not _domain_ok(kind, domain):
        problems.append(f"{where}.domain: {domain!r} must be [low, high] numbers with low <= high" if kind == NUMERIC
                        else f"{where}.domain: {domain!r} must list distinct allowed values (numbers or text)")
        return None
    if not isinstance(integer, bool) or (integer and kind != NUMERIC):
        problems.append(f"{where}.integer: {integer!r} must be true or false, and true only for a numeric feature")
    if not isinstance(aliases, dict) or not all(
            isinstance(v, str) or is_number(v) for v in aliases.values()):
        problems.append(f"{where}.aliases: {aliases!r} must map raw text to a value")
        aliases = {}
    column = Column(entry["name"], kind, tuple(domain), bool(integer), dict(aliases))
    if not column.text_valued and not all(is_number(v) for v in column.aliases.values()):
        problems.append(f"{where}.aliases: {aliases!r}: a feature with a numeric domain needs numbers as alias values")
    return column


def _domain_ok(kind: str, domain: list) -> bool:
    if kind == NUMERIC:
        return len(domain) == 2 and all(is_number(v) for v in domain) and domain[0] <= domain[1]
    texts = [str(v) for v in domain]
    return bool(domain) and all(isinstance(v, str) or is_number(v) for v in domain) and len(set(texts)) == len(texts)


def _label(entry: object, problems: list[str]) -> tuple[Column, object] | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
        problems.append("label: expected an object with 'name', 'domain' (two values) and 'positive'")
        return None
    domain, positive = entry.get("domain"), entry.get("positive")
    if not isinstance(domain, list) or len(domain) != 2 or not _domain_ok(NOMINAL, domain):
        problems.append(f"label.domain: {domain!r} must list the label's two distinct values")
        return None
    if positive not in domain or isinstance(positive, bool):
        problems.append(f"label.positive: {positive!r} must be one of the label's values {domain}")
        return None
    return Column(entry["name"], LABEL_KIND, tuple(domain)), positive
