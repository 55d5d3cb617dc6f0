"""Parses one model's `schema` entry into a `DataSchema`, reporting every problem with its key.

What the step scripts rely on is checked here, before any resource exists: unique column names,
known kinds, usable domains (a numeric one is [low, high] with low < high; a categorical one is a
non-empty list without repeats), aliases that land inside the domain, a label with exactly two
values that is not also a feature, and a file layout (`columns`) that names every column once.
"""
from __future__ import annotations

from typing import Any

from ml.model_checks import Report, closest, is_number, mapping, unknown_keys, value_text
from ml.models import FEATURE_KINDS, NUMERIC, DataSchema, Feature, Label, Value

SCHEMA_KEYS = ("header", "missing", "delimiter", "columns", "label", "features")
LABEL_KEYS = ("name", "domain", "positive")
FEATURE_KEYS = ("name", "kind", "domain", "integer", "aliases")
DEFAULT_MISSING = ("?", "")
_LABEL_EXAMPLE = "{name: Severity, domain: [0, 1], positive: 1}"
_FEATURE_EXAMPLE = "{name: Age, kind: numeric, domain: [1, 120], integer: true}"


def parse_schema(report: Report, key: str, raw: Any) -> DataSchema | None:
    """The schema under `key` (…models.<name>.schema), or None when anything in it is wrong."""
    entry = mapping(report, key, raw, "{label: {...}, features: [...]}")
    if entry is None:
        return None
    before = report.count
    unknown_keys(report, key, entry, SCHEMA_KEYS)
    header = _flag(report, f"{key}.header", entry.get("header", False))
    missing = _missing(report, f"{key}.missing", entry.get("missing", list(DEFAULT_MISSING)))
    delimiter = _delimiter(report, f"{key}.delimiter", entry.get("delimiter", ","), missing)
    features = _features(report, f"{key}.features", entry.get("features"), missing)
    label = _label(report, f"{key}.label", entry.get("label"), missing)
    # By the names as written, so a problem elsewhere in a feature does not hide this one.
    written = [f.get("name") if isinstance(f, dict) else None for f in entry.get("features") or []] \
        if isinstance(entry.get("features"), list) else []
    if label is not None and label.name in written:
        index = written.index(label.name)
        report(f"{key}.label.name", f"{label.name!r} is also features[{index}]: a model cannot learn its label from "
               "itself. Rename one of them or remove the feature.")
    names = [f.name for f in features or ()] + ([label.name] if label else [])
    for name in names:
        if delimiter and delimiter in name:
            report(f"{key}.delimiter", f"{delimiter!r} occurs in the column name {name!r}: a header row could not "
                   "be split. Choose another delimiter or rename the column.")
    columns = _columns(report, f"{key}.columns", entry.get("columns"), names, features, label)
    if report.count > before or features is None or label is None or missing is None or delimiter is None \
            or header is None or columns is None:
        return None
    return DataSchema(columns=columns, features=features, label=label, missing=missing, header=header,
                      delimiter=delimiter)


def _flag(report: Report, key: str, value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    report(key, f"must be true or false, got {value!r}.")
    return None


def _missing(report: Report, key: str, value: Any) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        report(key, f"must list the texts read as a missing value, e.g. [\"?\"] or [\"?\", \"\"], got {value!r}.")
        return None
    if len(set(value)) != len(value):
        report(key, f"lists a token twice ({value!r}): list each once.")
        return None
    return tuple(value)


def _delimiter(report: Report, key: str, value: Any, missing: tuple[str, ...] | None) -> str | None:
    if not isinstance(value, str) or len(value) != 1 or value in "\r\n\"' " or value.isalnum():
        report(key, f"must be one character that is not a letter, digit, space, quote or line break (e.g. \",\" or "
               f"\";\"), got {value!r}.")
        return None
    if missing and any(value in token for token in missing):
        report(key, f"{value!r} occurs in a missing-value token of {list(missing)!r}: such a field could not be read.")
        return None
    return value


def _label(report: Report, key: str, raw: Any, missing: tuple[str, ...] | None) -> Label | None:
    if raw is None:
        report(key, f"is required: name the label column, its two values and the positive one, e.g. {_LABEL_EXAMPLE}.")
        return None
    entry = mapping(report, key, raw, _LABEL_EXAMPLE)
    if entry is None:
        return None
    before = report.count
    unknown_keys(report, key, entry, LABEL_KEYS)
    name = _name(report, f"{key}.name", entry.get("name"))
    domain = entry.get("domain")
    if not isinstance(domain, list) or len(domain) != 2 or not all(_is_value(v) for v in domain) \
            or value_text(domain[0]) == value_text(domain[1]):
        report(f"{key}.domain", f"must list exactly two different values (numbers or texts), e.g. [0, 1] or "
               f"[benign, malignant], got {domain!r}: the platform trains binary classifiers.")
        domain = None
    else:
        _not_missing(report, f"{key}.domain", domain, missing)
    positive = entry.get("positive")
    if domain is not None and not any(_same(positive, v) for v in domain):
        report(f"{key}.positive", f"must be one of the label's domain {domain!r} (the class scored as 1), "
               f"got {positive!r}.")
    if report.count > before or name is None or domain is None:
        return None
    assert positive is not None
    return Label(name=name, domain=(domain[0], domain[1]), positive=next(v for v in domain if _same(positive, v)))


def _features(report: Report, key: str, raw: Any, missing: tuple[str, ...] | None) -> tuple[Feature, ...] | None:
    if not isinstance(raw, list) or not raw:
        report(key, f"must list the model's input columns, each like {_FEATURE_EXAMPLE}, got {raw!r}.")
        return None
    before = report.count
    parsed = [_feature(report, f"{key}[{i}]", item, missing) for i, item in enumerate(raw)]
    seen: dict[str, int] = {}
    for i, feature in enumerate(parsed):
        if feature is None:
            continue
        if feature.name in seen:
            report(f"{key}[{i}].name", f"{feature.name!r} is also the name of features[{seen[feature.name]}]: "
                   "column names must be unique. Rename or remove one of them.")
        seen.setdefault(feature.name, i)
    if report.count > before:
        return None
    return tuple(f for f in parsed if f is not None)


def _feature(report: Report, key: str, raw: Any, missing: tuple[str, ...] | None) -> Feature | None:
    entry = mapping(report, key, raw, _FEATURE_EXAMPLE)
    if entry is None:
        return None
    before = report.count
    unknown_keys(report, key, entry, FEATURE_KEYS)
    name = _name(report, f"{key}.name", entry.get("name"))
    kind = entry.get("kind")
    if kind not in FEATURE_KINDS:
        near = closest(str(kind), FEATURE_KINDS)
        hint = f" (did you mean {near}?)" if near and near != kind else ""
        report(f"{key}.kind", f"must be one of {', '.join(FEATURE_KINDS)}, got {kind!r}{hint}: numeric for measured "
               "values (KS test), ordinal for ordered categories, nominal for unordered ones (chi-square).")
        kind = None
    integer = entry.get("integer", False)
    if not isinstance(integer, bool):
        report(f"{key}.integer", f"must be true or false, got {integer!r}.")
    elif integer and kind not in (None, NUMERIC):
        report(f"{key}.integer", f"applies to numeric features only; a {kind} feature's domain lists its values: "
               "remove integer.")
    domain = _domain(report, f"{key}.domain", entry.get("domain"), kind, integer is True, missing)
    aliases = _aliases(report, f"{key}.aliases", entry.get("aliases", {}), kind, domain, integer is True, missing)
    if report.count > before or name is None or kind is None or domain is None or aliases is None:
        return None
    return Feature(name=name, kind=kind, domain=domain, integer=bool(integer), aliases=aliases)


def _domain(report: Report, key: str, raw: Any, kind: str | None, integer: bool,
            missing: tuple[str, ...] | None) -> tuple[Value, ...] | None:
    if not isinstance(raw, list) or not raw:
        report(key, "must not be empty: give [low, high] for a numeric feature or the list of allowed values "
               f"for an ordinal or nominal one, got {raw!r}.")
        return None
    if kind is None:
        return None  # the kind is reported; what the domain should be depends on it
    if kind == NUMERIC:
        if len(raw) != 2 or not all(is_number(v) for v in raw) or not raw[0] < raw[1]:
            report(key, f"must be [low, high] with two numbers and low < high (inclusive bounds), got {raw!r}.")
            return None
        if integer and not all(float(v).is_integer() for v in raw):
            report(key, f"bounds of an integer feature must be whole numbers, got {raw!r}.")
            return None
        return (raw[0], raw[1])
    if not all(_is_value(v) for v in raw):
        report(key, f"must list numbers or texts (the allowed values), got {raw!r}.")
        return None
    texts = [value_text(v) for v in raw]
    repeated = sorted({t for t in texts if texts.count(t) > 1})
    if repeated:
        report(key, f"lists {', '.join(repeated)} more than once (as a data file reads them): list each value once.")
        return None
    if not _not_missing(report, key, raw, missing):
        return None
    return tuple(raw)


def _aliases(report: Report, key: str, raw: Any, kind: str | None, domain: tuple[Value, ...] | None,
             integer: bool, missing: tuple[str, ...] | None) -> dict[str, Value] | None:
    entry = mapping(report, key, raw, '{"55": 5} (raw text: the value it means)')
    if entry is None:
        return None
    aliases: dict[str, Value] = {}
    for text_key, value in entry.items():
        if isinstance(text_key, bool) or not isinstance(text_key, str | int):
            report(key, f"keys are the raw texts to replace; {text_key!r} is not one: quote it, e.g. \"55\".")
            continue
        text = str(text_key)
        where = f"{key}.{text}"
        if missing is not None and text in missing:
            report(where, f"{text!r} is a missing-value token (schema.missing): it cannot also stand for a value.")
        elif domain is not None and any(value_text(v) == text for v in domain) and kind != NUMERIC:
            report(where, f"{text!r} is already a value of the domain: an alias names text that is NOT a valid "
                   "value (a known typo or an old code). Remove it.")
        elif domain is not None and not _in_domain(value, kind, domain, integer):
            report(where, f"maps to {value!r}, which is outside the domain {list(domain)!r}: an alias must map to an "
                   "allowed value.")
        else:
            aliases[text] = value
    return aliases if len(aliases) == len(entry) else None


def _columns(report: Report, key: str, raw: Any, names: list[str], features: tuple[Feature, ...] | None,
             label: Label | None) -> tuple[str, ...] | None:
    """The file's column order: given, or the features then the label."""
    if raw is None:
        return tuple(names)
    expected = sorted(names)
    if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw) or sorted(raw) != expected:
        if features is not None and label is not None:
            report(key, f"must list every feature and the label exactly once, in the order of the data file's "
                   f"columns ({', '.join(names)} in some order), got {raw!r}. Or remove it: the default is the "
                   "features in order, then the label.")
        return None
    return tuple(raw)


def _name(report: Report, key: str, value: Any) -> str | None:
    if isinstance(value, str) and value.strip() == value and value and not any(c in value for c in "\r\n\""):
        return value
    report(key, f"must be a column name (text without quotes, line breaks or surrounding spaces), got {value!r}.")
    return None


def _is_value(value: Any) -> bool:
    return is_number(value) or (isinstance(value, str) and value != "")


def _same(a: Any, b: Any) -> bool:
    return _is_value(a) and type(a) is not bool and value_text(a) == value_text(b) and \
        isinstance(a, str) == isinstance(b, str)


def _in_domain(value: Any, kind: str | None, domain: tuple[Value, ...], integer: bool) -> bool:
    if kind == NUMERIC:
        low, high = domain
        return is_number(value) and float(low) <= value <= float(high) and \
            (not integer or float(value).is_integer())
    return any(_same(value, v) for v in domain)


def _not_missing(report: Report, key: str, values: list[Any], missing: tuple[str, ...] | None) -> bool:
    clash = [value_text(v) for v in values if missing and value_text(v) in missing]
    if clash:
        report(key, f"value(s) {', '.join(map(repr, clash))} are also missing-value tokens (schema.missing): a data "
               "file could not tell them apart. Change the value or the token.")
    return not clash

