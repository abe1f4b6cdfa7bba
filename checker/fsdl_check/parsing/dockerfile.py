"""Dockerfiles and Containerfiles, read the way BuildKit reads them (never built): instructions, stages, variables.

What the reader handles, as BuildKit does:

- Parser directives (`# syntax=...`, `# escape=...`, `# check=...`) count only at the very top, before any other
  comment, blank line or instruction; `# escape=\\`` makes the backtick the line-continuation character.
- A line ending in the escape character continues on the next; comment lines and blank lines inside a
  continuation are dropped. Other comments are lines whose first non-blank character is `#`.
- Heredocs (`RUN <<EOF`, `RUN <<-EOF` with leading tabs stripped, quoted delimiters, several per instruction,
  `COPY <<EOF /path`) on RUN, COPY and ADD: their bodies are kept with the instruction, never read as instructions.
- Instructions are case-insensitive; each keeps the 1-based line it starts on. Leading `--flag=value` options of
  FROM, RUN, COPY, ADD and HEALTHCHECK are split off; a JSON array is the exec form of RUN, CMD and ENTRYPOINT
  (anything else, including an array in single quotes, is the shell form).
- `ARG` before the first `FROM` declares the global build arguments that `FROM` may use: `$VAR`, `${VAR}`,
  `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}` and `${VAR+alt}` are substituted from their defaults. A value
  that depends on an argument without a default (given only with `--build-arg`) cannot be known and is None.
- `FROM image AS name` starts a named stage; `FROM name` builds on an earlier stage (names are case-insensitive).

Bounds for hostile input: at most `MAX_INSTRUCTIONS` instructions are read, substituted values are cut off at
`MAX_VALUE` characters and nested substitutions at `MAX_DEPTH` levels; every pass over the text is linear.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field, replace
from functools import cached_property

from fsdl_check.regex import lazy

#: More instructions than any real Dockerfile has (a few hundred at most); past this, reading stops with an error.
MAX_INSTRUCTIONS = 10_000
#: Longest value a substitution may produce (ARG defaults built from other arguments can double at every step).
MAX_VALUE = 4096
#: Most heredocs read for one instruction (real ones have one or two).
MAX_HEREDOCS = 64
#: Longest ENV/ARG/LABEL argument text read for its pairs (real ones are a line or two).
MAX_PAIRS_TEXT = 65_536
#: Most links followed from a stage to the stages it builds on (real Dockerfiles have a handful).
MAX_CHAIN = 64
#: Most comment lines kept above one instruction.
MAX_COMMENTS = 20
#: Deepest `${A:-${B:-...}}` nesting followed.
MAX_DEPTH = 8
DIRECTIVES = frozenset({"syntax", "escape", "check"})
HEREDOC_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})
FLAG_INSTRUCTIONS = frozenset({"FROM", "RUN", "COPY", "ADD", "HEALTHCHECK"})
EXEC_FORM_INSTRUCTIONS = frozenset({"RUN", "CMD", "ENTRYPOINT", "SHELL", "HEALTHCHECK"})
#: Suffixes of files named like Dockerfiles that are not Dockerfiles: templates rendered into one, documentation,
#: backups, BuildKit's per-Dockerfile ignore file, scripts beside it.
NOT_DOCKERFILE_SUFFIXES = (
    ".dockerignore", ".md", ".rst", ".txt", ".html", ".orig", ".bak", ".rej", ".swp", ".j2", ".jinja", ".jinja2",
    ".tpl", ".tmpl", ".template", ".in", ".erb", ".mustache", ".json", ".yml", ".yaml", ".sh", ".py", ".ps1", ".lock",
)  # fmt: skip

_DIRECTIVE = lazy(r"^#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*?)\s*$")
_KEYWORD = lazy(r"\s*(\S+)\s*")
_FLAG = lazy(r"--([A-Za-z][\w-]*)(?:=(\S*))?(?:\s+|$)")
_HEREDOC = lazy(r"<<(-?)(?:\"([^\"\n]+)\"|'([^'\n]+)'|([A-Za-z_][\w.-]*))")
_NAME = lazy(r"[A-Za-z_][A-Za-z0-9_]*")


def is_dockerfile_name(name: str) -> bool:
    """`Dockerfile`, `Dockerfile.gpu`, `Dockerfile-cpu`, `train.Dockerfile`, `Containerfile`, `app.containerfile`
    (in any case), but not `Dockerfile.dockerignore`, `Dockerfile.j2` or `Dockerfile.md`."""
    lower = name.lower()
    if lower in ("dockerfile", "containerfile"):
        return True
    if lower.endswith(NOT_DOCKERFILE_SUFFIXES):
        return False
    if lower.endswith((".dockerfile", ".containerfile")):
        return True
    return lower.startswith(("dockerfile.", "dockerfile-", "dockerfile_", "containerfile.", "containerfile-"))


@dataclass(frozen=True)
class Heredoc:
    """A here-document: its delimiter, its body (without the closing line), and the line the body starts on."""

    delimiter: str
    body: str
    line: int
    #: Whether `$VAR` in the body is expanded (the delimiter was not quoted).
    expands: bool = True
    terminated: bool = True


@dataclass(frozen=True)
class Instruction:
    """One instruction. `arguments` is everything after the keyword with continuation lines joined; `flags` are its
    leading `--name=value` options (FROM, RUN, COPY, ADD, HEALTHCHECK) and `value` the arguments after them."""

    keyword: str  # upper case
    arguments: str
    line: int
    end_line: int
    flags: tuple[tuple[str, str], ...] = ()
    value: str = ""
    heredocs: tuple[Heredoc, ...] = ()
    #: The JSON array of the exec form (RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK CMD); None for the shell form.
    exec_form: tuple[str, ...] | None = None
    #: The comment lines right above it (no blank line between), without their `#`: where linters' pragmas live.
    comments: tuple[str, ...] = ()

    def flag(self, name: str) -> str | None:
        """The value of the first `--name` flag ("" for a bare flag), else None."""
        return next((value for key, value in self.flags if key == name), None)

    def flag_values(self, name: str) -> list[str]:
        return [value for key, value in self.flags if key == name]

    @property
    def script(self) -> str:
        """What a RUN runs in the shell form: its command line and the bodies of its heredocs."""
        if not self.heredocs:
            return self.value
        return "\n".join([self.value, *(h.body for h in self.heredocs)])

    @property
    def mounts(self) -> list[dict[str, str]]:
        """`RUN --mount=type=cache,target=/root/.cache/pip` as `{"type": "cache", "target": "/root/.cache/pip"}`."""
        out = []
        for raw in self.flag_values("mount"):
            fields: dict[str, str] = {}
            for part in raw.split(","):
                key, _, val = part.partition("=")
                fields[key.strip().lower()] = val.strip()
            if "dst" in fields or "destination" in fields:
                fields.setdefault("target", fields.get("dst") or fields.get("destination", ""))
            fields.setdefault("type", "bind")
            out.append(fields)
        return out


@dataclass
class Stage:
    """A build stage: from its FROM to the next one."""

    index: int
    from_: Instruction
    #: The base as written, and with the global build arguments substituted (None when that cannot be known).
    base: str
    image: str | None
    name: str | None  # lower case
    #: Index of the earlier stage this one builds on (`FROM name`), else None.
    parent: int | None = None
    instructions: list[Instruction] = field(default_factory=list)

    @property
    def line(self) -> int:
        return self.from_.line

    def last(self, *keywords: str) -> Instruction | None:
        """The stage's last instruction with one of `keywords` (upper case)."""
        return next((i for i in reversed(self.instructions) if i.keyword in keywords), None)


@dataclass
class Dockerfile:
    path: str
    instructions: tuple[Instruction, ...]
    stages: tuple[Stage, ...]
    #: ARG before the first FROM: name -> default with earlier arguments substituted (None: no default, or unknown).
    global_args: dict[str, str | None]
    directives: dict[str, str]
    escape: str = "\\"
    error: str | None = None
    error_line: int | None = None

    @property
    def final_stage(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    def chain(self, stage: Stage) -> list[Stage]:
        """`stage` and the earlier stages it builds on, nearest first (at most `MAX_CHAIN` of them)."""
        out = [stage]
        while out[-1].parent is not None and len(out) < MAX_CHAIN:
            out.append(self.stages[out[-1].parent])
        return out

    def stage_named(self, name: str) -> Stage | None:
        """The stage called `name` (case-insensitive) or numbered so (`COPY --from=0`)."""
        lower = name.lower()
        index = self._names.get(lower)
        if index is not None:
            return self.stages[index]
        if lower.isdigit() and int(lower) < len(self.stages):
            return self.stages[int(lower)]
        return None

    @cached_property
    def _names(self) -> dict[str, int]:
        names: dict[str, int] = {}
        for stage in self.stages:
            if stage.name is not None:
                names.setdefault(stage.name, stage.index)
        return names

    def variables(self, stage: Stage) -> dict[str, str | None]:
        """ARG and ENV values in effect at the end of `stage` (ENV inherited through the stages it builds on; an ARG
        re-declared without a default takes the global default). None: declared, value unknown."""
        values: dict[str, str | None] = {}
        for current in reversed(self.chain(stage)):
            for instruction in current.instructions:
                if instruction.keyword == "ARG":
                    for name, default in key_values(instruction, self.escape):
                        if default is None:
                            values[name] = self.global_args.get(name)
                        else:
                            values[name] = expand(default, values, self.escape)
                elif instruction.keyword == "ENV":
                    for name, value in key_values(instruction, self.escape):
                        values[name] = expand(value, values, self.escape) if value is not None else None
        return values


def parse_dockerfile(path: str, text: str) -> Dockerfile:
    """Read a Dockerfile. Never raises: what BuildKit would refuse (an unterminated heredoc, an instruction before
    the first FROM other than ARG) sets `error` and `error_line`, and reading goes on where that makes sense."""
    lines = text.splitlines()
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]
    directives: dict[str, str] = {}
    start = 0
    for line in lines:
        match = _DIRECTIVE.match(line.strip())
        if match is None or match[1].lower() not in DIRECTIVES or match[1].lower() in directives:
            break
        directives[match[1].lower()] = match[2]
        start += 1
    escape = "`" if directives.get("escape") == "`" else "\\"
    reader = _Reader(lines, start, escape)
    instructions = reader.read()
    stages, global_args, stage_error = _stages(instructions, escape)
    error, error_line = reader.error or stage_error or (None, None)
    return Dockerfile(path, tuple(instructions), tuple(stages), global_args, directives, escape, error, error_line)


class _Reader:
    """Physical lines to instructions (one linear pass)."""

    def __init__(self, lines: list[str], start: int, escape: str) -> None:
        self.lines = lines
        self.position = start
        self.escape = escape
        self.error: tuple[str, int] | None = None

    def read(self) -> list[Instruction]:
        out: list[Instruction] = []
        lines, escape = self.lines, self.escape
        comments: list[str] = []
        while self.position < len(lines):
            stripped = lines[self.position].strip()
            if not stripped or stripped.startswith("#"):
                comments = [*comments[-MAX_COMMENTS + 1 :], stripped[1:].strip()] if stripped else []
                self.position += 1
                continue
            if len(out) >= MAX_INSTRUCTIONS:
                self.error = self.error or (f"more than {MAX_INSTRUCTIONS} instructions", self.position + 1)
                break
            first = self.position
            parts: list[str] = []
            while True:
                content = lines[self.position].rstrip(" \t")
                self.position += 1
                if not content.endswith(escape):
                    parts.append(content)
                    break
                parts.append(content[:-1])
                while self.position < len(lines) and _skipped_in_continuation(lines[self.position]):
                    self.position += 1
                if self.position >= len(lines):
                    break
            instruction = _instruction("".join(parts), first + 1, self.position, tuple(comments))
            comments = []
            if instruction.keyword in HEREDOC_INSTRUCTIONS and "<<" in instruction.value:
                instruction = self._with_heredocs(instruction)
            out.append(instruction)
        return out

    def _with_heredocs(self, instruction: Instruction) -> Instruction:
        heredocs = []
        for strip_tabs, double, single, bare in _heredoc_markers(instruction.value):
            delimiter = double or single or bare
            body_start = self.position
            body: list[str] = []
            terminated = False
            while self.position < len(self.lines):
                raw = self.lines[self.position]
                self.position += 1
                line = raw.lstrip("\t") if strip_tabs else raw
                if line.rstrip("\r") == delimiter:
                    terminated = True
                    break
                body.append(line)
            if not terminated:
                self.error = self.error or (f"unterminated heredoc <<{delimiter}", instruction.line)
            heredocs.append(Heredoc(delimiter, "\n".join(body), body_start + 1, not (double or single), terminated))
        if not heredocs:
            return instruction
        return replace(instruction, end_line=self.position, heredocs=tuple(heredocs))


def _skipped_in_continuation(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _heredoc_markers(value: str) -> list[tuple[str, str, str, str]]:
    """`<<EOF` markers outside quotes, at the start of a word (not `<<<` here-strings or `1<<2`)."""
    found = []
    quote = ""
    index = 0
    while index < len(value):
        char = value[index]
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif value.startswith("<<", index) and not value.startswith("<<<", index):
            before = value[index - 1] if index else " "
            match = _HEREDOC.match(value, index)
            if match is not None and (before.isspace() or before in ";&|("):
                found.append((match[1], match[2] or "", match[3] or "", match[4] or ""))
                if len(found) >= MAX_HEREDOCS:
                    break
                index = match.end()
                continue
        index += 1
    return found


def _instruction(logical: str, line: int, end_line: int, comments: tuple[str, ...] = ()) -> Instruction:
    match = _KEYWORD.match(logical)
    keyword = match[1].upper() if match else ""
    arguments = logical[match.end() :] if match else ""
    flags: list[tuple[str, str]] = []
    value = arguments.strip()
    if keyword in FLAG_INSTRUCTIONS:
        position = 0
        while (flag := _FLAG.match(value, position)) is not None:
            flags.append((flag[1].lower(), flag[2] if flag[2] is not None else ""))
            position = flag.end()
        value = value[position:]
    exec_form = None
    if keyword in EXEC_FORM_INSTRUCTIONS:
        command = value
        if keyword == "HEALTHCHECK":
            head, _, rest = value.partition(" ")
            command = rest.strip() if head.upper() == "CMD" else ""
        exec_form = exec_array(command)
    return Instruction(keyword, arguments, line, end_line, tuple(flags), value, (), exec_form, comments)


def exec_array(text: str) -> tuple[str, ...] | None:
    """The exec form: a JSON array of strings (what Docker accepts as one), else None."""
    text = text.strip()
    if not text.startswith("["):
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(data, list) and all(isinstance(item, str) for item in data):
        return tuple(data)
    return None


def _stages(
    instructions: list[Instruction], escape: str
) -> tuple[list[Stage], dict[str, str | None], tuple[str, int] | None]:
    stages: list[Stage] = []
    names: dict[str, int] = {}
    global_args: dict[str, str | None] = {}
    error: tuple[str, int] | None = None
    for instruction in instructions:
        if instruction.keyword == "FROM":
            words = instruction.value.split()
            base = words[0] if words else ""
            name = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else None
            image = expand(base, global_args, escape) if base else None
            parent = names.get(image.lower()) if image is not None else None
            stages.append(Stage(len(stages), instruction, base, image, name, parent))
            if name is not None:
                names.setdefault(name, len(stages) - 1)
        elif stages:
            stages[-1].instructions.append(instruction)
        elif instruction.keyword == "ARG":
            for name, default in key_values(instruction, escape):
                global_args[name] = expand(default, global_args, escape) if default is not None else None
        elif error is None:
            error = (f"{instruction.keyword} before the first FROM (only ARG may come before it)", instruction.line)
    return stages, global_args, error


def key_values(instruction: Instruction, escape: str = "\\") -> list[tuple[str, str | None]]:
    """`ENV A=1 B="two words"`, `ENV A 1` (the old form), `ARG A`, `ARG A=1 B`, `LABEL a=b`: (name, value or None).
    Only the first `MAX_PAIRS_TEXT` characters are read."""
    text = instruction.value[:MAX_PAIRS_TEXT]
    words = split_words(text, escape)
    if not words:
        return []
    if instruction.keyword == "ENV" and "=" not in words[0]:
        name, *rest = text.strip().split(maxsplit=1)
        return [(name, unquote(rest[0], escape))] if rest else [(name, None)]
    out: list[tuple[str, str | None]] = []
    for word in words:
        name, equals, value = word.partition("=")
        if name:
            out.append((name, value if equals else None))
    return out


_WORD = lazy(r"""(?:"(?:[^"\\`]|[\\`].)*"?|'[^']*'?|[\\`].|[^\s"'\\`])+""", re.DOTALL)


def split_words(text: str, escape: str = "\\") -> list[str]:
    """Whitespace-separated words, quotes respected and removed (as ENV, ARG and LABEL read them)."""
    return [unquote(match[0], escape) for match in _WORD.finditer(text)]


def unquote(word: str, escape: str = "\\") -> str:
    """Remove one level of quotes and escapes: `"a b"` -> `a b`, `'x'` -> `x`, `a\\ b` -> `a b`."""
    if "'" not in word and '"' not in word and escape not in word:
        return word
    pattern, inner = _UNQUOTE_BACKTICK if escape == "`" else _UNQUOTE_BACKSLASH

    def replace(match: re.Match[str]) -> str:
        if match[1] is not None:
            return match[1]
        if match[2] is not None:
            return inner.sub(r"\1", match[2])
        return match[3]

    return pattern.sub(replace, word)


def _unquoting(escape: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    e = re.escape(escape)
    return re.compile(rf"'([^']*)'?|\"((?:[^\"{e}]|{e}.)*)\"?|{e}(.)", re.DOTALL), re.compile(rf"{e}(.)", re.DOTALL)


_UNQUOTE_BACKSLASH = _unquoting("\\")
_UNQUOTE_BACKTICK = _unquoting("`")


def expand(word: str, variables: dict[str, str | None], escape: str = "\\", depth: int = 0) -> str | None:
    """`word` with `$VAR`, `${VAR}` and `${VAR:-default}` (`-`, `:+`, `+`, `:?`, `?`) substituted from `variables`;
    None when a variable it needs has no known value, the form is not understood, or the result is too long."""
    if depth > MAX_DEPTH:
        return None
    special = _SPECIAL_BACKTICK if escape == "`" else _SPECIAL_BACKSLASH
    out: list[str] = []
    size = 0
    index = 0
    length = len(word)
    while index < length:
        found = special.search(word, index)
        stop = found.start() if found is not None else length
        if stop > index:
            out.append(word[index:stop])
            size += stop - index
            index = stop
        if index >= length:
            break
        value: str | None
        if word[index] != "$":  # the escape character: the next one is literal
            value = word[index + 1 : index + 2]
            index += 2
        elif index + 1 < length and word[index + 1] == "{":
            close = _closing_brace(word, index + 2)
            if close < 0:
                return None
            value = _braced(word[index + 2 : close], variables, escape, depth)
            index = close + 1
        elif (name := _NAME.match(word, index + 1)) is not None:
            value = variables.get(name[0])
            index = name.end()
        else:
            value = "$"
            index += 1
        if value is None:
            return None
        out.append(value)
        size += len(value)
        if size > MAX_VALUE:
            return None
    return "".join(out)


_SPECIAL_BACKSLASH = lazy(r"[$\\]")
_SPECIAL_BACKTICK = lazy(r"[$`]")


def _closing_brace(word: str, start: int) -> int:
    depth = 1
    for index in range(start, len(word)):
        if word[index] == "{":
            depth += 1
        elif word[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return -1


def _braced(inner: str, variables: dict[str, str | None], escape: str, depth: int) -> str | None:
    name = _NAME.match(inner)
    if name is None:
        return None
    rest = inner[name.end() :]
    declared = name[0] in variables
    value = variables.get(name[0])
    if not rest:
        return value
    operator = rest[:2] if rest[:2] in (":-", ":+", ":?") else rest[:1]
    if operator not in (":-", ":+", ":?", "-", "+", "?"):
        return None  # ${VAR#pattern}, ${VAR%...}, ${VAR/...}: not followed
    default = rest[len(operator) :]
    unknown = declared and value is None  # declared without a default: set only by --build-arg
    if operator in (":-", "-"):
        unset = not declared or (operator == ":-" and value == "")
        if unknown or unset:
            return expand(default, variables, escape, depth + 1)
        return value
    if operator in (":+", "+"):
        if unknown:
            return None
        is_set = declared and (operator == "+" or bool(value))
        return expand(default, variables, escape, depth + 1) if is_set else ""
    return value if declared and value else None  # `:?`/`?`: the build fails when unset


@dataclass(frozen=True)
class ImageRef:
    """An image reference split into its name, tag and digest (`registry:5000/org/name:tag@sha256:...`)."""

    name: str
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, reference: str) -> ImageRef:
        rest, _, digest = reference.partition("@")
        slash = rest.rfind("/")
        colon = rest.rfind(":")
        if colon > slash:
            return cls(rest[:colon], rest[colon + 1 :], digest or None)
        return cls(rest, None, digest or None)


# -- .dockerignore ----------------------------------------------------------------------------------------------------
#: Pattern pieces: a literal run, `?` (one character but `/`), `[...]` (one character of a class), `*` (any run
#: within a segment), `**/` (any number of whole segments, none included) and a trailing `**` (anything).
_LITERAL, _ONE, _CLASS, _STAR, _SEGMENTS, _REST = range(6)
_Token = tuple[int, "str | re.Pattern[str]"]


class MatchBudgetExceeded(Exception):
    """A `.dockerignore` took more matching work than any real one does."""


#: Steps one `.dockerignore` may spend on matching over an audit (a real one needs a few thousand).
MAX_MATCH_STEPS = 500_000


@dataclass(frozen=True)
class IgnorePattern:
    """One `.dockerignore` line, compiled to pieces matched without backtracking (a regular expression with many
    wildcards can take exponential time on a path it does not match)."""

    text: str
    tokens: tuple[_Token, ...]
    exception: bool  # `!pattern`: re-includes what earlier lines excluded

    def matches(self, path: str, budget: list[int] | None = None) -> bool:
        """Whether the pattern matches `path` as a whole (a set of reachable positions, one piece at a time).
        `budget` holds the steps left to spend; `MatchBudgetExceeded` is raised when they run out."""
        end = len(path)
        positions = {0}
        for kind, value in self.tokens:
            if budget is not None:
                budget[0] -= len(positions) + 1
                if budget[0] < 0:
                    raise MatchBudgetExceeded
            following: set[int] = set()
            reached = -1  # `*`: the positions up to here are already in `following`
            for at in sorted(positions) if kind == _STAR else positions:
                if kind == _LITERAL:
                    assert isinstance(value, str)
                    if path.startswith(value, at):
                        following.add(at + len(value))
                elif kind in (_ONE, _CLASS):
                    if at < end and (path[at] != "/" if kind == _ONE else _class_match(value, path[at])):
                        following.add(at + 1)
                elif kind == _STAR:
                    stop = path.find("/", at)
                    stop = end if stop < 0 else stop
                    following.update(range(max(at, reached + 1), stop + 1))
                    reached = max(reached, stop)
                elif kind == _SEGMENTS:
                    following.add(at)
                    following.update(i + 1 for i in range(at, end) if path[i] == "/")
                else:
                    following.add(end)
            positions = following
            if not positions:
                return False
        return end in positions


def _class_match(value: str | re.Pattern[str], char: str) -> bool:
    return not isinstance(value, str) and value.fullmatch(char) is not None


@dataclass(frozen=True)
class DockerIgnore:
    """A `.dockerignore`, matched as BuildKit matches it: every pattern is anchored at the context's root (a leading
    `/` changes nothing, `mlruns` does not match `src/mlruns`), `*` and `?` stay within one path segment, `**`
    spans any number of them, a pattern that matches a directory excludes everything below it, and `!pattern`
    re-includes; the last pattern that matches a path decides."""

    path: str
    patterns: tuple[IgnorePattern, ...]
    #: Lines that are not valid patterns (BuildKit refuses the build on them); they are left out here.
    invalid: tuple[int, ...] = ()
    #: Matching steps left (see `MAX_MATCH_STEPS`); once spent, every path counts as excluded.
    budget: list[int] = field(default_factory=lambda: [MAX_MATCH_STEPS], compare=False, repr=False)

    def excludes(self, path: str) -> bool:
        """Whether `path` (a file, relative to the context) stays out of the build context. A file whose patterns
        take absurd work to match gives True: it cannot be judged, and an audit must not hang on it."""
        parts = path.split("/")
        candidates = [path, *("/".join(parts[:i]) for i in range(1, len(parts)))]
        excluded = False
        try:
            for pattern in self.patterns:
                if pattern.exception != excluded:
                    continue  # an exclusion cannot exclude more, an exception has nothing to re-include
                if any(pattern.matches(candidate, self.budget) for candidate in candidates):
                    excluded = not pattern.exception
        except MatchBudgetExceeded:
            return True
        return excluded


#: Most patterns read from one file (real ones have dozens), and the longest pattern read.
MAX_PATTERNS = 1000
MAX_PATTERN = 256


def parse_dockerignore(path: str, text: str) -> DockerIgnore:
    """Read a `.dockerignore` (comments are lines starting with `#`; surrounding blanks are trimmed)."""
    patterns: list[IgnorePattern] = []
    invalid: list[int] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if number == 1:
            raw = raw.removeprefix("\ufeff")
        if raw.startswith("#"):
            continue
        line = raw.strip()
        exception = line.startswith("!")
        if exception:
            line = line[1:].strip()
        if not line:
            continue
        if len(patterns) >= MAX_PATTERNS:
            break
        tokens = _ignore_tokens(line) if len(line) <= MAX_PATTERN else None
        if tokens is None:
            invalid.append(number)
        else:
            patterns.append(IgnorePattern(line, tokens, exception))
    return DockerIgnore(path, tuple(patterns), tuple(invalid))


def _ignore_tokens(pattern: str) -> tuple[_Token, ...] | None:
    """A pattern cleaned as Go's filepath.Clean does and cut into pieces as moby's patternmatcher reads it; None for
    one that cannot match as written (an unclosed `[`)."""
    cleaned = posixpath.normpath(pattern)
    if len(cleaned) > 1 and cleaned.startswith("/"):
        cleaned = cleaned.lstrip("/") or "/"
    tokens: list[_Token] = []
    literal: list[str] = []

    def piece(kind: int, value: str | re.Pattern[str] = "") -> None:
        if literal:
            tokens.append((_LITERAL, "".join(literal)))
            literal.clear()
        if not (kind == _STAR and tokens and tokens[-1][0] == _STAR):  # `**` mid-segment is one `*` twice
            tokens.append((kind, value))

    index = 0
    length = len(cleaned)
    while index < length:
        char = cleaned[index]
        if char == "*":
            if index + 1 < length and cleaned[index + 1] == "*":
                index += 2
                while index < length and cleaned[index] == "*":
                    index += 1
                if index < length and cleaned[index] == "/":
                    index += 1
                    if not (tokens and tokens[-1][0] == _SEGMENTS and not literal):
                        piece(_SEGMENTS)
                    continue
                piece(_REST if index >= length else _SEGMENTS)
                continue
            piece(_STAR)
        elif char == "?":
            piece(_ONE)
        elif char == "\\":
            if index + 1 < length:
                index += 1
            literal.append(cleaned[index])
        elif char == "[":
            start = index + 1
            start += cleaned[start : start + 1] == "^"
            start += cleaned[start : start + 1] == "]"
            close = cleaned.find("]", start)
            if close < 0:
                return None
            try:
                compiled = re.compile(_character_class(cleaned[index + 1 : close]), re.DOTALL)
            except re.error:  # `[z-a]`: Go refuses the pattern too
                return None
            piece(_CLASS, compiled)
            index = close
        else:
            literal.append(char)
        index += 1
    if literal:
        tokens.append((_LITERAL, "".join(literal)))
    return tuple(tokens)


def _character_class(body: str) -> str:
    """A `[...]` class of a pattern as a regular expression class (ranges and a leading `^` kept, the rest literal)."""
    out = ["["]
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            index += 1
            out.append(re.escape(body[index]))
        elif (char == "^" and index == 0) or (char == "-" and 0 < index < len(body) - 1):
            out.append(char)
        else:
            out.append(re.escape(char))
        index += 1
    return "".join([*out, "]"])
