"""Inline suppressions: ``# fsdl: ignore[CODE, CODE] reason`` on a line, ``# fsdl: ignore-file[CODE] reason`` anywhere.

They work in every file type whose comments start with ``#`` (Python, YAML, TOML, shell, Dockerfile, Makefile,
requirements, ignore files). Codes may be prefixes (``PK`` or ``PK00``). A suppression that matches nothing is
reported by the engine as FC001 so stale ones don't pile up.

A Dockerfile has no comments at the end of an instruction (`FROM python # ...` makes the comment an argument), so
there a suppression on a line of its own applies to the instruction that follows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fsdl_check.model import Finding
from fsdl_check.parsing.dockerfile import is_dockerfile_name
from fsdl_check.parsing.lines import LineIndex
from fsdl_check.regex import lazy

MARKER = "fsdl:"  # the cheap pre-test; PATTERN allows any spacing after the colon
#: Any text in the brackets: a code that is no rule code (`ZZ999`, `RP0030`) is reported by the engine (FC001),
#: not taken for a comment that is no suppression.
PATTERN = lazy(r"#\s*fsdl:\s*ignore(?P<file>-file)?\[(?P<codes>[^\]\n]*)\](?P<reason>[^\n]*)")
HASH_COMMENT_SUFFIXES = {
    ".py", ".pyi", ".yml", ".yaml", ".toml", ".sh", ".bash", ".zsh", ".cfg", ".ini", ".txt", ".in", ".mk",
    ".dockerfile", ".sbatch", ".slurm", ".r", ".conf",
}  # fmt: skip
HASH_COMMENT_NAMES = {"Dockerfile", "Makefile", "Containerfile", ".gitignore", ".dockerignore", ".gitattributes"}


def has_hash_comments(path: str) -> bool:
    name = path.rpartition("/")[2]
    dot = name.rfind(".")
    suffix = name[dot:] if 0 < dot < len(name) - 1 else ""  # as `PurePosixPath.suffix`, without building one
    return suffix.lower() in HASH_COMMENT_SUFFIXES or name in HASH_COMMENT_NAMES or is_dockerfile_name(name)


@dataclass
class Suppression:
    path: str
    line: int
    codes: tuple[str, ...]
    reason: str
    whole_file: bool
    used: set[str] = field(default_factory=set)
    #: The line it applies to, when that is not its own (a Dockerfile comment above an instruction).
    target: int | None = None

    def covers(self, finding: Finding) -> bool:
        line = self.line if self.target is None else self.target
        if finding.path != self.path or not (self.whole_file or finding.line == line):
            return False
        for code in self.codes:
            if finding.code.startswith(code):
                self.used.add(code)
                return True
        return False

    @property
    def label(self) -> str:
        kind = "ignore-file" if self.whole_file else "ignore"
        text = f"{kind}[{', '.join(self.codes)}]"
        return f"{text} {self.reason}".strip()


def scan(path: str, text: str) -> list[Suppression]:
    """Every suppression comment in a file's text."""
    if MARKER not in text:  # the cheap test first: nearly every file has none
        return []
    found = []
    comments = _python_comments(text) if path.endswith((".py", ".pyi")) else None
    lines = text.splitlines() if comments is None else []
    dockerfile = is_dockerfile_name(path.rpartition("/")[2])
    # In Python only real comments count, not strings that mention the syntax.
    candidates = comments.items() if comments is not None else enumerate(lines, start=1)
    for number, line in candidates:
        if MARKER not in line:
            continue
        for match in PATTERN.finditer(line):
            codes = tuple(c.strip().upper() for c in match.group("codes").split(",") if c.strip())
            reason = match.group("reason").strip()
            target = _next_instruction(lines, number) if dockerfile and line.lstrip().startswith("#") else None
            found.append(Suppression(path, number, codes, reason, bool(match.group("file")), target=target))
    return found


def _next_instruction(lines: list[str], number: int) -> int | None:
    """The line of the first instruction after comment line `number` (1-based) of a Dockerfile."""
    for index in range(number, len(lines)):
        stripped = lines[index].strip()
        if stripped and not stripped.startswith("#"):
            return index + 1
    return None


#: What can hide a `#` from Python: string literals (triple-quoted ones across lines, with escapes; a prefix such as
#: `r` or `f` changes neither where they end nor where a comment starts), and the comments themselves. A quote that
#: starts no complete string is `unterminated`. Everything else is skipped inside the regex engine, so finding the
#: comments of a 5 MB module is one pass in C, where `tokenize` builds an object for every token (ten times slower).
_STRINGS_AND_COMMENTS = lazy(
    r"'''(?:[^'\\]|\\.|'(?!''))*+'''"
    r'|"""(?:[^"\\]|\\.|"(?!""))*+"""'
    r"|'(?:[^'\\\r\n]|\\.)*+'"
    r'|"(?:[^"\\\r\n]|\\.)*+"'
    r"|(?P<comment>#[^\r\n]*)"
    r"""|(?P<unterminated>['"])""",
    re.DOTALL,
)


def _python_comments(text: str) -> dict[int, str] | None:
    """The comments that hold the marker, by line; None when a string never ends, where `tokenize` would fail too
    (then every line is searched). A `#` counts only outside string literals, as for `tokenize`."""
    lines = LineIndex(text)
    comments: dict[int, str] = {}
    for found in _STRINGS_AND_COMMENTS.finditer(text):
        if found.lastgroup == "comment":
            if MARKER in found.group():
                comments[lines.line(found.start())] = found.group()
        elif found.lastgroup == "unterminated":
            return None
    return comments
