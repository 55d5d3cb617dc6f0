"""YAML files read as the Pulumi CLI reads them (go-yaml v3, YAML 1.2), with errors that name the
file and line: `yes`/`on` are text, not booleans; dates stay text; `017` is 17; a key written twice
in one map is refused, as the CLI refuses it."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml


class _Yaml12Loader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 scalars (go-yaml v3, which the CLI uses), refusing
    duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise DuplicateKey(key, seen[key], key_node.start_mark.line + 1)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


class DuplicateKey(Exception):
    """A key written twice in one YAML map."""

    def __init__(self, key: Any, first: int, again: int):
        super().__init__(key)
        self.key, self.first, self.again = key, first, again


_REPLACED_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("bool", "int", "float", "timestamp")}
_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _REPLACED_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789"))
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    return int(text, 0) if text.startswith(("0o", "0x")) else int(text, 10)  # YAML 1.2: 017 is 17


_Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def read_yaml(text: str) -> Any:
    """Parse YAML as the Pulumi CLI does; raises yaml.YAMLError or DuplicateKey."""
    return yaml.load(text, Loader=_Yaml12Loader)  # a SafeLoader subclass: no arbitrary objects


def load_file(path: Path, problems: list[str], *, fix: str) -> dict[str, Any]:
    """The file's top-level map; {} after adding a problem (missing, not YAML, not a map) to `problems`."""
    name = path.name
    if not path.is_file():
        problems.append(f"{name}: not found in {path.parent}: {fix}.")
        return {}
    try:
        data = read_yaml(path.read_text(encoding="utf-8"))
    except DuplicateKey as dup:
        problems.append(f"{name}:{dup.again}: `{dup.key}` is written twice in one map (first at line "
                        f"{dup.first}); the Pulumi CLI refuses the file: keep one.")
        return {}
    except yaml.MarkedYAMLError as err:
        problems.append(_yaml_problem(name, err))
        return {}
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        problems.append(f"{name}: not valid YAML ({err}): fix the file's syntax.")
        return {}
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.append(f"{name}: must be a YAML map (with a `config:` map inside), not a {type(data).__name__}.")
        return {}
    return data


def _yaml_problem(name: str, err: yaml.MarkedYAMLError) -> str:
    mark = err.problem_mark or err.context_mark
    where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
    what = f"{err.context or ''} {err.problem or ''}".strip()
    if "\\t" in what or "tab" in what:
        return f"{where}: a tab character; YAML indents with spaces only: replace the tab with spaces."
    return f"{where}: not valid YAML ({what}): fix the syntax at that line."
