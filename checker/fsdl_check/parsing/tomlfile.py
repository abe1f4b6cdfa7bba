"""TOML files (pyproject.toml, .fsdl-check.toml, ...): the parsed table, and where a key lives in the text."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TomlDoc:
    path: str
    text: str
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    error_line: int | None = None

    def get(self, dotted: str, default: Any = None) -> Any:
        """``doc.get("tool.ruff.lint")``: the value at a dotted path of tables, or `default`."""
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def line_of(self, dotted: str) -> int:
        """Best-effort line of a table header (``[tool.ruff]``) or key (``requires-python``); 1 if not found."""
        parts = dotted.split(".")
        header = re.compile(r"^\s*\[\[?\s*" + r"\s*\.\s*".join(map(_key_re, parts)) + r"\s*\]\]?")
        leaf = re.compile(r"^\s*" + _key_re(parts[-1]) + r"\s*=")
        for number, line in enumerate(self.text.splitlines(), start=1):
            if header.match(line) or leaf.match(line):
                return number
        return 1


def _key_re(key: str) -> str:
    return "[\"']?" + re.escape(key) + "[\"']?"


def parse_toml(path: str, text: str) -> TomlDoc:
    try:
        return TomlDoc(path, text, tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        if match:
            line: int | None = int(match.group(1))
        else:  # "(at end of document)": the last line with text is where the unfinished value starts or ends
            line = max(1, len(text.rstrip().splitlines())) if "end of document" in str(exc) else None
        return TomlDoc(path, text, {}, f"invalid TOML: {exc}", line)
    except (RecursionError, ValueError) as exc:
        return TomlDoc(path, text, {}, f"invalid TOML: {type(exc).__name__}", None)
