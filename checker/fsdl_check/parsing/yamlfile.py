"""YAML loading that remembers where things are.

Mappings load as `LineDict` and strings as `LineStr`: ordinary `dict` and `str` subclasses that also carry the
1-based line they start on, so rules can point at the exact line of a workflow step or a manifest field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class LineStr(str):
    line: int = 0


class LineDict(dict[Any, Any]):
    line: int = 0
    #: Line of each key, for pointing at a field rather than the mapping.
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    line: int = 0


@dataclass(frozen=True)
class YamlDoc:
    """A YAML file: its documents (a file may hold several, as Kubernetes manifests do) or why it did not parse."""

    path: str
    text: str
    documents: tuple[Any, ...]
    error: str | None = None
    error_line: int | None = None

    @property
    def first(self) -> Any:
        return self.documents[0] if self.documents else None


def parse_yaml(path: str, text: str) -> YamlDoc:
    from fsdl_check.parsing._yaml_loader import parse  # PyYAML, imported by the first audit that reads YAML

    return parse(path, text)


#: Most values a file may hold once its aliases are expanded. A few aliases nested a few levels deep (the "billion
#: laughs") expand exponentially, and a rule that walks or prints such a value would never finish.
MAX_EXPANDED_NODES = 1_000_000


def line_of(value: Any, default: int = 1) -> int:
    """The line a loaded YAML value starts on, or `default` for values that carry none (numbers, booleans)."""
    line = getattr(value, "line", 0)
    return line if isinstance(line, int) and line > 0 else default
