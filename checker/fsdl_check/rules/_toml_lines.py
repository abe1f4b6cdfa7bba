"""Where things are in a TOML file's text: a table's header, a key inside one table, an item of a key's array.

`TomlDoc.line_of` finds the first key of a name anywhere; rules that point at `dependencies` of `[project]` (and not
at `[tool.poetry.dependencies]`) need the key inside a given table.
"""

from __future__ import annotations

import re

from fsdl_check.parsing.tomlfile import TomlDoc
from fsdl_check.regex import lazy

_HEADER = lazy(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def _table_name(raw: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in raw.split("."))


def header_line(doc: TomlDoc, table: str) -> int | None:
    """Line of the `[table]` header (or of the first `[table.sub]` header when only subtables are written)."""
    first_sub = None
    for number, line in enumerate(doc.text.splitlines(), start=1):
        match = _HEADER.match(line)
        if match:
            name = _table_name(match.group(1))
            if name == table:
                return number
            if first_sub is None and name.startswith(table + "."):
                first_sub = number
    return first_sub


def first_tool_line(doc: TomlDoc) -> int | None:
    """Line of the first `[tool.*]` header: where a missing tool's configuration would go."""
    for number, line in enumerate(doc.text.splitlines(), start=1):
        match = _HEADER.match(line)
        if match and _table_name(match.group(1)).split(".")[0] == "tool":
            return number
    return None


def key_line(doc: TomlDoc, table: str, key: str) -> int | None:
    """Line of `key = ...` written inside `[table]`."""
    current = ""
    key_pattern = re.compile(r"^\s*[\"']?" + re.escape(key) + r"[\"']?\s*=")
    for number, line in enumerate(doc.text.splitlines(), start=1):
        match = _HEADER.match(line)
        if match:
            current = _table_name(match.group(1))
        elif current == table and key_pattern.match(line):
            return number
    return None


def item_line(doc: TomlDoc, table: str, key: str, item: str) -> int | None:
    """Line of the string `item` inside the array `key` of `[table]`; the key's line when it cannot be found."""
    start = key_line(doc, table, key)
    if start is None:
        return None
    quoted = (f'"{item}"', f"'{item}'")
    for number, line in enumerate(doc.text.splitlines()[start - 1 :], start=start):
        past_key = number > start  # mutation: equivalent (the key's own line, `key = [`, is never a header)
        if past_key and _HEADER.match(line):
            break
        if any(q in line for q in quoted):
            return number
    return start
