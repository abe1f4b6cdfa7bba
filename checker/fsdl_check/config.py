"""Configuration: `[tool.fsdl-check]` in pyproject.toml, or the same keys at the top of `.fsdl-check.toml`.

Every problem is a `ConfigError` with a one-line message that names the file and the key; the CLI turns it into
exit code 2. Command-line flags are applied on top with `Config.override`.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fsdl_check.model import ProjectKind, Severity, all_rules

CONFIG_FILE = ".fsdl-check.toml"
KEYS = {
    "select", "extend-select", "ignore", "per-path-ignores", "severity", "fail-on", "project-kind",
    "large-file-mb", "type-hint-share", "exclude",
}  # fmt: skip


#: A configuration file is a few hundred bytes; anything this large is not one (and is not read into memory).
MAX_CONFIG_BYTES = 1_000_000


class ConfigError(Exception):
    """A configuration problem, worded for the user (one line).

    Keys and values quoted in the message come from a file: characters that are not printable (ESC, BEL, U+202E)
    are written as escapes, so a key cannot drive the terminal that shows the error.
    """

    def __init__(self, message: str) -> None:
        super().__init__(printable(message))


def printable(text: str) -> str:
    """`text` with each character that is not printable written as Python writes it in a repr (`\\x1b`)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] = ("ALL",)
    extend_select: tuple[str, ...] = ()
    #: code or prefix -> reason ("" when none was given)
    ignore: dict[str, str] = field(default_factory=dict)
    #: gitwildmatch pattern -> codes or prefixes
    per_path_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    severity: dict[str, Severity] = field(default_factory=dict)
    fail_on: Severity = Severity.WARNING
    project_kind: ProjectKind | None = None
    large_file_mb: float = 10.0
    type_hint_share: float = 0.8
    exclude: tuple[str, ...] = ()
    #: where the configuration came from (for messages), None for defaults
    source: str | None = None

    def override(self, **changes: Any) -> Config:
        """A copy with command-line values applied (None values are left alone)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    # -- selection --------------------------------------------------------------------------------------------------
    def selected(self, code: str) -> bool:
        chosen = any(_matches(code, p) for p in (*self.select, *self.extend_select))
        return chosen and not self.ignored_by(code)

    def ignored_by(self, code: str) -> str | None:
        """The ignore entry (code or prefix) that switches `code` off, if any."""
        return next((p for p in self.ignore if _matches(code, p)), None)

    def effective_severity(self, code: str, default: Severity) -> Severity:
        best = None
        for prefix, sev in self.severity.items():  # the longest matching prefix wins
            if _matches(code, prefix) and (best is None or len(prefix) > len(best[0])):
                best = (prefix, sev)
        return best[1] if best else default


def _matches(code: str, prefix: str) -> bool:
    return prefix == "ALL" or code.startswith(prefix)


def known_prefix(value: str) -> bool:
    """Whether `value` is ALL or a prefix of at least one registered rule code."""
    return value == "ALL" or any(rule.code.startswith(value) for rule in all_rules())


def load(root: Path) -> Config:
    """The configuration for the repository at `root` (.fsdl-check.toml wins over pyproject.toml)."""
    dedicated = root / CONFIG_FILE
    if os.path.lexists(dedicated):  # a link is refused in _read_toml, not passed over for pyproject.toml
        return parse(_read_toml(dedicated, root), CONFIG_FILE)
    pyproject = root / "pyproject.toml"
    if os.path.lexists(pyproject):
        try:
            table = fsdl_table(_read_toml(pyproject, root))
        except ConfigError:
            return Config()  # a broken pyproject is a finding (FC002), not a configuration error
        if isinstance(table, dict):
            return parse(table, "pyproject.toml [tool.fsdl-check]")
        if table is not None:
            raise ConfigError("pyproject.toml: [tool.fsdl-check] must be a table")
    return Config()


def fsdl_table(data: dict[str, Any]) -> Any:
    """The `[tool.fsdl-check]` value of a parsed pyproject.toml, None when absent (also when `tool` is no table)."""
    tool = data.get("tool")
    return tool.get("fsdl-check") if isinstance(tool, dict) else None


def load_file(path: Path, root: Path) -> Config:
    """Settings from an explicit `--config` file: a .fsdl-check.toml (keys at the top), or a pyproject.toml's table.

    A file outside the repository is the user's, not the repository's: its errors say what is wrong but quote no key
    or value from it (a CI log is public, and the file may hold anything).
    """
    if not os.path.lexists(path):
        raise ConfigError(f"--config: no such file: {path}")
    data = _read_toml(path, root)
    try:
        if path.name == "pyproject.toml":
            tool = data.get("tool", {})
            if not isinstance(tool, dict):
                raise ConfigError(f"{path}: `tool` must be a table, not {type(tool).__name__}")
            table = tool.get("fsdl-check", {})
            if not isinstance(table, dict):
                raise ConfigError(f"{path}: [tool.fsdl-check] must be a table")
            return parse(table, f"{path.name} [tool.fsdl-check]")
        return parse(data, path.name)
    except ConfigError:
        if _inside(path, root):
            raise
        raise ConfigError(
            f"{path}: invalid configuration (the file is outside the repository, so the key or value at fault is not"
            " quoted; check it against fsdl-check's documented keys, or copy it into the repository to see which)"
        ) from None


def read_toml(path: Path, root: Path | None = None) -> dict[str, Any]:
    """A configuration file's table; any problem reading or parsing it is a one-line `ConfigError`."""
    return _read_toml(path, root)


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):
        return False


def _read_toml(path: Path, root: Path | None = None) -> dict[str, Any]:
    """The parsed file. A link is followed only to a file inside `root` (when given), and never past the size cap."""
    try:
        if path.is_symlink() and (root is None or not _inside(path, root)):
            raise ConfigError(f"{path.name}: not read: a symbolic link to a file outside the repository")
        # O_NONBLOCK: opening a FIFO would otherwise wait for a writer; on a regular file it changes nothing.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ConfigError(f"{path.name}: not read: not a regular file")
            data = fh.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path.name}: not read: over the {MAX_CONFIG_BYTES // 1_000_000} MB configuration limit")
        return tomllib.loads(data.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path.name}: cannot read configuration: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path.name}: cannot read configuration: nested too deeply") from None


def parse(table: dict[str, Any], source: str) -> Config:
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise ConfigError(f"{source}: unknown key {unknown[0]!r} (known keys: {', '.join(sorted(KEYS))})")
    kwargs: dict[str, Any] = {"source": source}
    for key in ("select", "extend-select", "exclude"):
        if key in table:
            values = _str_list(table[key], f"{source}: {key}")
            if key == "exclude":
                for pattern in values:
                    _check_pattern(pattern, f"{source}: exclude")
            else:
                values = _codes(values, f"{source}: {key}")
            kwargs[key.replace("-", "_")] = tuple(values)
    if "ignore" in table:
        kwargs["ignore"] = parse_ignore(table["ignore"], source)
    if "per-path-ignores" in table:
        value = table["per-path-ignores"]
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: per-path-ignores must be a table of pattern = [codes]")
        kwargs["per_path_ignores"] = {
            _check_pattern(pattern, f"{source}: per-path-ignores"): tuple(
                _codes(_str_list(codes, f"{source}: per-path-ignores[{pattern!r}]"), source)
            )
            for pattern, codes in value.items()
        }
    if "severity" in table:
        value = table["severity"]
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: severity must be a table of CODE = 'error' | 'warning' | 'info'")
        kwargs["severity"] = {
            code: _severity(level, f"{source}: severity.{code}")
            for code, level in zip(_codes(list(value), f"{source}: severity"), value.values(), strict=True)
        }
    if "fail-on" in table:
        kwargs["fail_on"] = _severity(table["fail-on"], f"{source}: fail-on")
    if "project-kind" in table:
        kwargs["project_kind"] = parse_kind(table["project-kind"], f"{source}: project-kind")
    for key, low, high in (("large-file-mb", 0.001, 1e6), ("type-hint-share", 0.0, 1.0)):
        if key in table:
            value = table[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
                raise ConfigError(f"{source}: {key} must be a number between {low:g} and {high:g}, got {value!r}")
            kwargs[key.replace("-", "_")] = float(value)
    return Config(**kwargs)


def parse_ignore(value: Any, source: str) -> dict[str, str]:
    if isinstance(value, dict):
        codes = _codes(list(value), f"{source}: ignore")
        reasons = [_reason(r, f"{source}: ignore.{c}") for c, r in zip(codes, value.values(), strict=True)]
        return dict(zip(codes, reasons, strict=True))
    return dict.fromkeys(_codes(_str_list(value, f"{source}: ignore"), f"{source}: ignore"), "")


def _reason(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: the reason must be a string")
    return value


def parse_kind(value: Any, where: str) -> ProjectKind:
    try:
        return ProjectKind(str(value).lower())
    except ValueError:
        choices = ", ".join(k.value for k in ProjectKind)
        raise ConfigError(f"{where}: unknown project kind {value!r} (expected {choices})") from None


def _severity(value: Any, where: str) -> Severity:
    try:
        return Severity.parse(str(value))
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _check_pattern(pattern: str, where: str) -> str:
    """`pattern` when it is a gitwildmatch pattern pathspec can compile, else a `ConfigError` naming it."""
    from pathspec import GitIgnoreSpec

    try:
        GitIgnoreSpec.from_lines([pattern])
    except (ValueError, re.error) as exc:  # pathspec's GitIgnorePatternError; a bad range such as `[z-a]`
        reason = str(exc).partition(" at position")[0] if isinstance(exc, re.error) else "not a pattern"
        raise ConfigError(f"{where}: invalid pattern {pattern!r} ({reason})") from None
    return pattern


def _str_list(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return value


def _codes(values: list[str], where: str) -> list[str]:
    out = []
    for raw in values:
        code = raw.strip().upper()
        if not known_prefix(code):
            raise ConfigError(f"{where}: unknown rule code or prefix {raw!r} (see fsdl-check --list-rules)")
        out.append(code)
    return out
