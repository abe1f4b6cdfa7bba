"""Shell commands that CI runs, followed through the indirections projects put in between.

A workflow step rarely says `pytest` outright: it says `make test`, `tox -e lint`, `nox -s tests`, `hatch test`,
`uv run pytest` or `bash scripts/ci.sh`. `resolve` splits shell text into simple commands, strips the wrappers that
only pick an environment (`uv run`, `poetry run`, `python -m`, `VAR=1`), and follows Makefile and justfile recipes
(with their prerequisites), tox environments, nox sessions, hatch/pdm/pixi scripts and the repository's own shell
scripts, so a rule can ask "does any command run pytest?" without knowing how the project wires it. Nothing is
executed; what cannot be found is reported as not expanded.
"""

from __future__ import annotations

import ast
import configparser
import functools
import posixpath
import re
import shlex
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fsdl_check.parsing.python import dotted_name
from fsdl_check.parsing.workflow import Workflow
from fsdl_check.parsing.yamlfile import line_of
from fsdl_check.repo import Repo

#: How deep recipes, scripts and sessions are followed (a recipe calling a script calling make ...).
MAX_DEPTH = 6
#: How many commands one workflow step or recipe may expand to, and all of them together, before the rest is left
#: unfollowed: bounds the work on absurd recipe graphs.
MAX_COMMANDS = 1000
MAX_TOTAL_COMMANDS = 20_000

_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_OPERATOR_CHARS = frozenset("();<>|&")
_REDIRECTS = {">", ">>", "<", ">&", "&>", "&>>", "<<", "<<<", ">|"}
_SHELL_WORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time", "exec"}
_PREFIX_PROGRAMS = {"sudo", "env", "nice", "nohup", "xvfb-run", "command", "stdbuf", "eatmydata", "catchsegv"}
#: Programs whose `run` subcommand only chooses an environment for the command that follows (hatch, pdm and pixi
#: may instead name a project script: `_Resolver.expand` looks those up first).
_ENV_RUNNERS = {"uv", "poetry", "pipenv", "conda", "mamba", "micromamba", "rye"}
#: Options of those wrappers (and of make, nox, tox) that take a value as the next word.
_VALUE_OPTIONS = {
    "--with", "--with-editable", "--with-requirements", "--group", "--only-group", "--no-group", "--extra",
    "--python", "-p", "--package", "--project", "--directory", "--env-file", "--index", "--index-url",
    "--extra-index-url", "-n", "--name", "--prefix", "--cwd", "-C", "-P", "--from", "-e", "--env", "--environment",
    "-f", "--file", "--makefile", "-j", "--jobs", "-o", "-W", "--manifest-path",
}  # fmt: skip
_PYTHON = re.compile(r"^(python[0-9.]*|py|pypy[0-9.]*|\{env_?python\}|\$[({]?PYTHON\w*[)}]?)$", re.IGNORECASE)
_GITHUB_WORKSPACE = re.compile(r"\$\{\{\s*github\.workspace\s*\}\}/?|\$\{?(GITHUB_WORKSPACE|CI_PROJECT_DIR)\}?/")
_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
_COMMENT = re.compile(r"(?:^|(?<=\s))#.*$")
_SHELLS = {"bash", "sh", "zsh", "dash", "source", "."}


@dataclass(frozen=True)
class Command:
    """One simple command, wrappers removed: ``uv run python -m pytest -x`` is ``("pytest", "-x")``."""

    argv: tuple[str, ...]
    origin: str  # the file whose text holds it (a workflow, Makefile, tox.ini, a script)
    line: int | None
    #: For task-runner calls (make, just, tox, nox, hatch/pdm/pixi scripts): the targets, environments or sessions.
    targets: tuple[str, ...] = ()
    #: For task-runner and script calls: whether what they run was found; its commands follow this one.
    expanded: bool = False

    @property
    def program(self) -> str:
        return posixpath.basename(self.argv[0]) if self.argv else ""

    @property
    def args(self) -> tuple[str, ...]:
        return self.argv[1:]


# -- shell text ---------------------------------------------------------------------------------------------------
def split_shell(text: str) -> list[list[str]]:
    """The simple commands of shell `text` as word lists (pipes, `&&`, `;` and new lines separate them)."""
    # Recipe lines are split again each time a target is reached; whole scripts are split once per call anyway.
    split = _split_cached(text) if len(text) <= 2000 else _split(text)
    return [list(words) for words in split]


@functools.lru_cache(maxsize=4096)
def _split_cached(text: str) -> tuple[tuple[str, ...], ...]:
    return _split(text)


def _split(text: str) -> tuple[tuple[str, ...], ...]:
    text = _GITHUB_WORKSPACE.sub("", text)
    text = _EXPRESSION.sub("expr", text)
    commands: list[list[str]] = []
    for line in text.replace("\\\r\n", " ").replace("\\\n", " ").splitlines():
        line = _COMMENT.sub("", line).strip()
        if not line:
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = ""
        try:
            words = list(lexer)
        except ValueError:  # an unclosed quote: fall back to plain words
            words = re.sub(r"(&&|\|\||[;|()])", r" \1 ", line).split()
        current: list[str] = []
        skip_next = False
        for word in words:
            if skip_next:
                skip_next = False
            elif word and set(word) <= _OPERATOR_CHARS:
                skip_next = word in _REDIRECTS
                if current:
                    commands.append(current)
                current = []
            else:
                current.append(word)
        if current:
            commands.append(current)
    return tuple(tuple(c) for c in commands)


def _skip_options(words: list[str], value_options: Iterable[str] = ()) -> list[str]:
    takes_value = set(value_options)
    i = 0
    while i < len(words) and words[i].startswith("-") and words[i] != "-":
        if words[i] == "--":
            return words[i + 1 :]
        i += 2 if words[i] in takes_value else 1
    return words[i:]


def _python_module(argv: list[str]) -> list[str] | None:
    """``python -u -m pytest -x`` -> ``["pytest", "-x"]``; None for a script or `-c`."""
    i = 1
    while i < len(argv):
        word = argv[i]
        if word == "-m" and i + 1 < len(argv):
            return argv[i + 1 :]
        if word.startswith("-m") and len(word) > 2:
            return [word[2:], *argv[i + 1 :]]
        if word in ("-X", "-W"):
            i += 2
        elif word.startswith("-") and word != "-c":
            i += 1
        else:
            return None
    return None


def unwrap(words: Sequence[str]) -> tuple[str, ...]:
    """Remove what only prepares the environment: assignments, `sudo`, `uv run`, `python -m`, `coverage run -m`."""
    argv = list(words)
    for _ in range(10):
        while argv and (_ASSIGN.match(argv[0]) or argv[0] in _SHELL_WORDS):
            argv.pop(0)
        if not argv:
            break
        program = posixpath.basename(argv[0])
        if program in _PREFIX_PROGRAMS:
            argv = _skip_options(argv[1:])
        elif program == "timeout":
            argv = _skip_options(argv[1:], {"-s", "--signal", "-k", "--kill-after"})[1:]
        elif program in _ENV_RUNNERS and len(argv) > 1 and argv[1] == "run":
            argv = _skip_options(argv[2:], _VALUE_OPTIONS)
        elif program == "uvx" or (program == "pipx" and argv[1:2] == ["run"]):
            argv = _skip_options(argv[1 if program == "uvx" else 2 :], _VALUE_OPTIONS)
            if argv:
                argv[0] = argv[0].split("@", 1)[0].split("==", 1)[0]  # `uvx ruff@0.6`
        elif program == "uv" and argv[1:3] == ["tool", "run"]:
            argv = ["uvx", *argv[3:]]
        elif _PYTHON.match(program):
            module = _python_module(argv)
            if module is None:
                break
            argv = module
        elif program == "coverage" and argv[1:2] == ["run"]:
            module = _python_module(["python", *argv[2:]])
            if module is None:
                break
            argv = module
        else:
            break
    return tuple(argv)


def _repo_path(word: str) -> str | None:
    """A path inside the repository, from a word as a script call writes it (``./ci/lint.sh``)."""
    path = posixpath.normpath(word.removeprefix("./"))
    if path.startswith(("/", "../", "$", "~")) or path in (".", ".."):
        return None
    return path


# -- task runners: parsed once per repository ---------------------------------------------------------------------
@dataclass
class _Target:
    prereqs: list[str] = field(default_factory=list)
    lines: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class _Recipes:
    """Makefile targets or justfile recipes: name -> prerequisites and recipe lines (with their line numbers)."""

    path: str
    targets: dict[str, _Target] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    default: str | None = None

    def substitute(self, line: str) -> str:
        for _ in range(3):
            line = re.sub(r"\$[({]([A-Za-z_][\w.-]*)[)}]", lambda m: self._value(m.group(1), m.group(0)), line)
        return line.replace("$$", "$")

    def _value(self, name: str, original: str) -> str:
        if name in ("MAKE", "MAKE_COMMAND"):
            return "make"
        return self.variables.get(name, original)


_MAKE_ASSIGNMENT = re.compile(r"^(?:export\s+|override\s+)?([A-Za-z_.][\w.-]*)\s*(?::{1,3}=|\?=|\+=|!=|=)\s*(.*)$")
#: Targets up to the first `:` (callers split them on whitespace); possessive, so a long line without a colon is
#: rejected in one pass instead of retrying every split of its spaces between the targets and the `:`.
_MAKE_RULE = re.compile(r"^([^\s:=#][^:=#]*+)::?(?!=)\s*(.*)$")
_MAKE_CONDITIONALS = ("ifeq", "ifneq", "ifdef", "ifndef", "else", "endif")


def _logical_lines(text: str) -> Iterable[tuple[str, int]]:
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if raw.endswith("\\"):
            pending += raw[:-1] + " "
            continue
        yield pending + raw, start
        pending = ""
    if pending:
        yield pending, start


def parse_makefile(path: str, text: str) -> _Recipes:
    recipes = _Recipes(path)
    current: list[str] = []
    for line, number in _logical_lines(text):
        if line.startswith("\t"):
            for name in current:
                recipes.targets[name].lines.append((line.strip(), number))
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith(_MAKE_CONDITIONALS):
            continue  # conditionals may sit between recipe lines
        assignment = _MAKE_ASSIGNMENT.match(stripped)
        if assignment:
            recipes.variables[assignment.group(1)] = assignment.group(2).strip()
            current = []
            continue
        rule = _MAKE_RULE.match(stripped)
        if not rule:
            current = []
            continue
        names = [n for n in rule.group(1).split() if "%" not in n and "$" not in n]
        rest = rule.group(2)
        prereq_text, _, inline = rest.partition(";")
        prereqs = prereq_text.split("|")[0].split()
        for name in names:
            target = recipes.targets.setdefault(name, _Target())
            target.prereqs.extend(p for p in prereqs if "%" not in p)
            if inline.strip():
                target.lines.append((inline.strip(), number))
        if recipes.default is None and names and not names[0].startswith("."):
            recipes.default = names[0]
        current = [n for n in names if not n.startswith(".")]
    return recipes


#: A recipe name, its parameters up to the first `:` (possessive, as `_MAKE_RULE`), then its dependencies.
_JUST_RECIPE = re.compile(r"^@?([A-Za-z_][\w-]*+)(?:\s[^:]*+)?:(?!=)\s*(.*)$")


def parse_justfile(path: str, text: str) -> _Recipes:
    recipes = _Recipes(path)
    current: str | None = None
    for line, number in _logical_lines(text):
        if line[:1] in (" ", "\t"):
            if current is not None and line.strip() and not line.strip().startswith("#"):
                recipes.targets[current].lines.append((line.strip(), number))
            continue
        current = None
        match = _JUST_RECIPE.match(line)
        if match and not line.startswith(("set ", "alias ", "export ", "import ", "mod ")):
            current = match.group(1)
            deps = re.sub(r"\([^)]*\)", "", match.group(2)).replace("&&", " ").split()
            recipes.targets[current] = _Target(prereqs=deps)
            recipes.default = recipes.default or current
    return recipes


def _strip_recipe_prefix(line: str) -> str:
    return line.lstrip("@-+ ")


def _string_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _argv_text(value: Any) -> list[str]:
    """A command given as a string or as an argument list (pdm/pixi `cmd`), as shell text."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return [shlex.join(value)]
    return []


class _Resolver:
    """Follows commands for one repository; parsed task-runner files are cached on it."""

    def __init__(self, repo: Repo) -> None:
        # A weak proxy: `_RESOLVERS` maps the repository to this resolver weakly, and a strong reference back to it
        # would keep every audited repository (and all it parsed) alive for the life of the process.
        self.repo = weakref.proxy(repo)
        self._makefiles: dict[str, _Recipes | None] = {}
        self._justfile: _Recipes | bool | None = False
        self._tox: dict[str, list[str]] | None = None
        self._nox: dict[str, list[tuple[tuple[str, ...], int]]] | None = None
        self.workflow_cache: dict[str, list[Command]] = {}
        #: Commands left to follow (reset for each workflow step or recipe): bounds absurd recipe graphs.
        self.budget = MAX_COMMANDS
        self.total_budget = MAX_TOTAL_COMMANDS
        self.all_tasks: list[Command] | None = None

    # -- sources ----------------------------------------------------------------------------------------------------
    def makefile(self, directory: str = "", name: str | None = None) -> _Recipes | None:
        candidates = [name] if name else ["GNUmakefile", "makefile", "Makefile"]
        for candidate in candidates:
            path = posixpath.normpath(posixpath.join(directory, candidate)) if directory else candidate
            if path in self._makefiles:
                if self._makefiles[path] is not None:
                    return self._makefiles[path]
                continue
            text = self.repo.text(path)
            self._makefiles[path] = parse_makefile(path, text) if text is not None else None
            if self._makefiles[path] is not None:
                return self._makefiles[path]
        return None

    def justfile(self) -> _Recipes | None:
        if self._justfile is False:
            path = self.repo.has("justfile", "Justfile", ".justfile")
            text = self.repo.text(path) if path else None
            self._justfile = parse_justfile(path, text) if path and text is not None else None
        return self._justfile if isinstance(self._justfile, _Recipes) else None

    def tox_envs(self) -> dict[str, list[str]]:
        """tox environment -> command lines; "" holds the base `[testenv]` (or `env_run_base`) commands."""
        if self._tox is None:
            envs: dict[str, list[str]] = {}
            pyproject = self.repo.pyproject
            legacy = pyproject.get("tool.tox.legacy_tox_ini") if pyproject else None
            for text in (self.repo.text("tox.ini"), legacy if isinstance(legacy, str) else None):
                if text is not None:
                    envs.update(_tox_ini_envs(text))
            native = [d.data for d in self.repo.toml_files if d.path == "tox.toml"]
            if pyproject and isinstance(pyproject.get("tool.tox"), dict):
                native.append(pyproject.get("tool.tox"))
            for table in native:
                envs.update(_tox_toml_envs(table))
            self._tox = envs
        return self._tox

    def nox_sessions(self) -> dict[str, list[tuple[tuple[str, ...], int]]]:
        """nox session -> the argument lists of its `session.run(...)` calls (string constants only)."""
        if self._nox is None:
            self._nox = {}
            module = next((m for m in self.repo.python if m.path == "noxfile.py"), None)
            if module is not None and module.tree is not None:  # parsed again: one small file
                for node in module.tree.body:
                    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                        name = _nox_session_name(node)
                        if name is not None:
                            self._nox[name] = _session_runs(node)
        return self._nox

    # -- resolution -------------------------------------------------------------------------------------------------
    def follow(self, text: str, origin: str, line: int | None) -> list[Command]:
        """Resolve one top-level block of shell text with a fresh budget."""
        self.budget = MAX_COMMANDS
        return self.resolve(text, origin, line)

    def resolve(
        self, text: str, origin: str, line: int | None, depth: int = 0, seen: frozenset[str] = frozenset()
    ) -> list[Command]:
        out: list[Command] = []
        for words in split_shell(text):
            out.extend(self.expand(unwrap(words), origin, line, depth, seen))
        return out

    def expand(
        self, argv: tuple[str, ...], origin: str, line: int | None, depth: int, seen: frozenset[str]
    ) -> list[Command]:
        if not argv:
            return []
        program = posixpath.basename(argv[0])
        self.budget -= 1
        self.total_budget -= 1
        if depth >= MAX_DEPTH or self.budget < 0 or self.total_budget < 0:
            return [Command(argv, origin, line)]
        if program in ("make", "gmake"):
            return self._make(argv, origin, line, depth, seen)
        if program == "just":
            return self._just(argv, origin, line, depth, seen)
        if program == "tox":
            return self._tox_call(argv, origin, line, depth, seen)
        if program == "nox":
            return self._nox_call(argv, origin, line, depth, seen)
        if program == "hatch" and len(argv) > 1 and argv[1] in ("test", "fmt", "run"):
            return self._hatch(argv, origin, line, depth, seen)
        if program in ("pdm", "pixi") and len(argv) > 1:
            found = self._script_call(program, argv, origin, line, depth, seen)
            if found is not None:
                return found
        if program in ("bash", "sh", "zsh", "dash") and len(argv) > 2 and argv[1] == "-c":
            return [Command(argv, origin, line, expanded=True), *self.resolve(argv[2], origin, line, depth + 1, seen)]
        script = argv[0]
        if program in _SHELLS:
            rest = _skip_options(list(argv[1:]), {"-o", "-O"})
            script = rest[0] if rest else ""
        # `bash scripts/ci` runs a shell script whatever its name; a bare `ci.sh` or `./ci/lint` names one too.
        if program in _SHELLS or script.endswith((".sh", ".bash")) or "/" in script:
            path = _repo_path(script)
            text = self.repo.text(path) if path and f"script:{path}" not in seen else None
            if path and text is not None:
                inner = self.resolve(text, path, None, depth + 1, seen | {f"script:{path}"})
                return [Command(argv, origin, line, (path,), expanded=True), *inner]
        return [Command(argv, origin, line)]

    def _follow_recipes(self, recipes: _Recipes, names: list[str], depth: int, seen: frozenset[str]) -> list[Command]:
        """The commands of targets `names` and their prerequisites, prerequisites first, as one `make` or `just`
        invocation runs them: each target once. The walk keeps its own stack, so a chain of thousands of
        prerequisites costs no recursion; recipe lines that call make or just again nest one level (`depth`)."""
        done: set[str] = set()
        out: list[Command] = []
        stack: list[tuple[str, bool]] = [(name, False) for name in reversed(names)]
        while stack:
            name, prerequisites_done = stack.pop()
            key = f"{recipes.path}:{name}"
            if prerequisites_done:
                for text, number in recipes.targets[name].lines:
                    command_text = _strip_recipe_prefix(recipes.substitute(text))
                    out.extend(self.resolve(command_text, recipes.path, number, depth + 1, seen | {key}))
                continue
            target = recipes.targets.get(name)
            if target is None or key in seen or name in done:
                continue
            done.add(name)
            stack.append((name, True))
            stack.extend((prerequisite, False) for prerequisite in reversed(target.prereqs))
        return out

    def _make(
        self, argv: tuple[str, ...], origin: str, line: int | None, depth: int, seen: frozenset[str]
    ) -> list[Command]:
        directory, makefile_name, targets = "", None, []
        words = list(argv[1:])
        i = 0
        while i < len(words):
            word = words[i]
            if word in ("-C", "--directory") and i + 1 < len(words):
                directory, i = words[i + 1], i + 2
            elif word in ("-f", "--file", "--makefile") and i + 1 < len(words):
                makefile_name, i = words[i + 1], i + 2
            elif word in ("-j", "--jobs") and i + 1 < len(words) and words[i + 1].isdigit():
                i += 2
            elif word.startswith("-") or "=" in word:
                i += 1
            else:
                targets.append(word)
                i += 1
        base = _repo_path(directory) if directory not in ("", ".", "./") else ""
        recipes = self.makefile(base or "", makefile_name) if base is not None else None
        if recipes is not None and not targets:
            goal = recipes.variables.get(".DEFAULT_GOAL", recipes.default)
            targets = goal.split()[:1] if goal else []
        found = recipes is not None and any(t in recipes.targets for t in targets)
        command = Command(argv, origin, line, tuple(targets), expanded=found)
        if recipes is None or not found:
            return [command]
        return [command, *self._follow_recipes(recipes, targets, depth, seen)]

    def _just(
        self, argv: tuple[str, ...], origin: str, line: int | None, depth: int, seen: frozenset[str]
    ) -> list[Command]:
        recipes = self.justfile()
        words = _skip_options(list(argv[1:]), {"-f", "--justfile", "-d", "--working-directory"})
        targets = words[:1] if words else ([recipes.default] if recipes and recipes.default else [])
        found = recipes is not None and any(t in recipes.targets for t in targets)
        command = Command(argv, origin, line, tuple(targets), expanded=found)
        if recipes is None or not found:
            return [command]
        return [command, *self._follow_recipes(recipes, targets, depth, seen)]

    def _tox_call(
        self, argv: tuple[str, ...], origin: str, line: int | None, depth: int, seen: frozenset[str]
    ) -> list[Command]:
        names: list[str] = []
        words = list(argv[1:])
        for i, word in enumerate(words):
            if word in ("-e", "--env", "-m", "--labels") and i + 1 < len(words):
                names.extend(n.strip() for n in words[i + 1].split(",") if n.strip())
            elif word.startswith("-e") and len(word) > 2 and not word.startswith("--"):
                names.extend(n.strip() for n in word[2:].split(",") if n.strip())
            elif word.startswith("--env="):
                names.extend(n.strip() for n in word[6:].split(",") if n.strip())
        envs = self.tox_envs()
        if not envs:
            return [Command(argv, origin, line, tuple(names))]
        lines: list[str] = []
        for name in names or list(envs):
            lines.extend(envs.get(name) or envs.get("", []))
        command = Command(argv, origin, line, tuple(names), expanded=True)
        if "tox" in seen:  # a tox environment that calls tox
            return [command]
        return [command, *(c for text in lines for c in self.resolve(text, "tox.ini", None, depth + 1, seen | {"tox"}))]

    def _nox_call(
        self, argv: tuple[str, ...], origin: str, line: int | None, depth: int, seen: frozenset[str]
    ) -> list[Command]:
        names: list[str] = []
        words = list(argv[1:])
        collecting = False
        for word in words:
            if word in ("-s", "-e", "--session", "--sessions"):
                collecting = True
            elif word.startswith("-"):
                collecting = False
            elif collecting:
                names.extend(n for n in word.split(",") if n)
        sessions = self.nox_sessions()
        if not sessions:
            return [Command(argv, origin, line, tuple(names))]
        chosen = [s for s in sessions if not names or any(_session_matches(s, n) for n in names)]
        command = Command(argv, origin, line, tuple(names), expanded=bool(chosen))
        inner: list[Command] = []
        for session in chosen:
            for args, number in sessions[session]:
                inner.extend(self.expand(unwrap(args), "noxfile.py", number, depth + 1, seen | {"nox"}))
        return [command, *inner]

    def _hatch(
        self, argv: tuple[str, ...], origin: str, line: int | None, depth: int, seen: frozenset[str]
    ) -> list[Command]:
        if argv[1] == "test":  # hatch's test command runs pytest
            return [Command(argv, origin, line, ("test",), True), Command(("pytest", *argv[2:]), origin, line)]
        if argv[1] == "fmt":  # hatch's formatter is ruff (lint and format)
            check = ("ruff", "check") if "--formatter" not in argv else ()
            fmt = ("ruff", "format") if "--linter" not in argv else ()
            inner = [Command(c, origin, line) for c in (check, fmt) if c]
            return [Command(argv, origin, line, ("fmt",), True), *inner]
        rest = _skip_options(list(argv[2:]), _VALUE_OPTIONS)
        if not rest:
            return [Command(argv, origin, line)]
        env, _, script = rest[0].rpartition(":")
        texts = self._hatch_script(env or "default", script)
        if texts is None:
            # not a script: `hatch run [env:]command ...` runs the command in that environment
            return self.expand(unwrap([script, *rest[1:]]), origin, line, depth + 1, seen)
        command = Command(argv, origin, line, (rest[0],), expanded=True)
        key = f"hatch:{rest[0]}"
        if key in seen:
            return [command]
        return [command, *(c for t in texts for c in self.resolve(t, "pyproject.toml", None, depth + 1, seen | {key}))]

    def _hatch_script(self, env: str, script: str) -> list[str] | None:
        tables: list[Any] = []
        if self.repo.pyproject is not None:
            tables.append(self.repo.pyproject.get(f"tool.hatch.envs.{env}.scripts"))
        for doc in self.repo.toml_files:
            if doc.path == "hatch.toml":
                tables.append(doc.get(f"envs.{env}.scripts"))
        for table in tables:
            if isinstance(table, dict) and script in table:
                return _string_list(table[script])
        return None

    def _script_call(
        self, program: str, argv: tuple[str, ...], origin: str, line: int | None, depth: int, seen: frozenset[str]
    ) -> list[Command] | None:
        """`pdm run NAME` / `pdm NAME` / `pixi run NAME`: the project's script of that name, if it defines one."""
        words = _skip_options(list(argv[2:] if argv[1] == "run" else argv[1:]), _VALUE_OPTIONS)
        if not words:
            return None
        name = words[0]
        table: Any = None
        pyproject = self.repo.pyproject
        if program == "pdm" and pyproject is not None:
            table = pyproject.get("tool.pdm.scripts")
        elif program == "pixi":
            pixi = next((d for d in self.repo.toml_files if d.path == "pixi.toml"), None)
            table = pixi.get("tasks") if pixi else pyproject.get("tool.pixi.tasks") if pyproject else None
        spec = table.get(name) if isinstance(table, dict) else None
        texts: list[str] = []
        if isinstance(spec, str):
            texts = [spec]
        elif isinstance(spec, dict):
            texts = _argv_text(spec.get("cmd")) + _string_list(spec.get("shell")) + _string_list(spec.get("composite"))
            depends = spec.get("depends-on", spec.get("depends_on"))
            texts += [f"{program} run {d}" for d in _string_list(depends)]
        if not texts:
            if argv[1] != "run":
                return None
            return self.expand(unwrap(words), origin, line, depth + 1, seen)  # a plain command in the environment
        key = f"{program}:{name}"
        command = Command(argv, origin, line, (name,), expanded=True)
        if key in seen:
            return [command]
        return [command, *(c for t in texts for c in self.resolve(t, "pyproject.toml", None, depth + 1, seen | {key}))]


def _tox_ini_envs(text: str) -> dict[str, list[str]]:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return {}
    envs: dict[str, list[str]] = {}
    for section in parser.sections():
        if section == "testenv" or section.startswith("testenv:"):
            name = section.partition(":")[2]
            raw = parser.get(section, "commands", fallback="") + "\n" + parser.get(section, "commands_pre", fallback="")
            lines = [ln.strip().lstrip("-!").strip() for ln in raw.splitlines() if ln.strip()]
            envs[name] = [ln for ln in lines if not ln.startswith("#")]
    return envs


def _tox_toml_envs(table: dict[str, Any]) -> dict[str, list[str]]:
    envs: dict[str, list[str]] = {}

    def commands(env: Any) -> list[str]:
        if not isinstance(env, dict):
            return []
        out: list[str] = []
        for key in ("commands_pre", "commands"):
            for cmd in env.get(key) or [] if isinstance(env.get(key), list) else []:
                out.extend(_argv_text(cmd))
        return out

    envs[""] = commands(table.get("env_run_base"))
    named = table.get("env")
    if isinstance(named, dict):
        for name, env in named.items():
            envs[str(name)] = commands(env)
    return {k: v for k, v in envs.items() if v or k}


def _nox_session_name(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = dotted_name(target) or ""
        if name.rsplit(".", 1)[-1] != "session":
            continue
        if isinstance(decorator, ast.Call):
            for keyword in decorator.keywords:
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                    return str(keyword.value.value)
        return node.name
    return None


def _session_runs(node: ast.AST) -> list[tuple[tuple[str, ...], int]]:
    runs: list[tuple[tuple[str, ...], int]] = []
    for call in ast.walk(node):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
            continue
        if call.func.attr not in ("run", "run_always", "run_install"):
            continue
        args: list[str] = []
        for arg in call.args:
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                break
            args.append(arg.value)
        if args:
            runs.append((tuple(args), call.lineno))
    return runs


def _session_matches(session: str, wanted: str) -> bool:
    return session == wanted or wanted.startswith((session + "-", session + "("))


# -- public entry points ------------------------------------------------------------------------------------------
_RESOLVERS: weakref.WeakKeyDictionary[Repo, _Resolver] = weakref.WeakKeyDictionary()


def _resolver(repo: Repo) -> _Resolver:
    resolver = _RESOLVERS.get(repo)
    if resolver is None:
        resolver = _RESOLVERS[repo] = _Resolver(repo)
    return resolver


def resolve(repo: Repo, text: str, origin: str, line: int | None = None) -> list[Command]:
    """The commands of shell `text` and, after each task-runner or script call, the commands it runs."""
    return _resolver(repo).follow(text, origin, line)


def workflow_commands(repo: Repo, workflow: Workflow) -> list[Command]:
    """Every command a workflow runs: its `run:`/`script:` blocks and local composite actions, followed through."""
    resolver = _resolver(repo)
    cached = resolver.workflow_cache.get(workflow.path)
    if cached is not None:
        return cached
    out: list[Command] = []
    for step in workflow.steps:
        if step.run is not None:
            out.extend(resolver.follow(step.run, workflow.path, step.line))
        elif step.uses and step.uses.startswith("./"):
            out.extend(_local_action_commands(repo, resolver, step.uses))
    resolver.workflow_cache[workflow.path] = out
    return out


def _local_action_commands(repo: Repo, resolver: _Resolver, uses: str) -> list[Command]:
    base = _repo_path(uses)
    if base is None:
        return []
    doc = repo.yaml(f"{base}/action.yml") or repo.yaml(f"{base}/action.yaml")
    data = doc.first if doc else None
    runs = data.get("runs") if isinstance(data, dict) else None
    steps = runs.get("steps") if isinstance(runs, dict) else None
    out: list[Command] = []
    for step in steps if isinstance(steps, list) else []:
        run = step.get("run") if isinstance(step, dict) else None
        if isinstance(run, str) and doc is not None:
            out.extend(resolver.follow(run, doc.path, line_of(run)))
    return out


def ci_commands(repo: Repo) -> list[Command]:
    """Commands of every CI workflow (GitHub Actions and GitLab CI)."""
    return [c for w in repo.workflows for c in workflow_commands(repo, w)]


def project_commands(repo: Repo) -> list[Command]:
    """Every command the project defines anywhere: CI, every Makefile/justfile recipe, tox environments, nox
    sessions and local pre-commit hooks — evidence that a tool is set up even when CI does not call it."""
    resolver = _resolver(repo)
    if resolver.all_tasks is not None:
        return resolver.all_tasks
    out = list(ci_commands(repo))
    makefile = resolver.makefile()
    if makefile is not None:
        for target in makefile.targets:
            if not target.startswith("."):
                out.extend(resolver.follow(f"make {target}", makefile.path, None))
    justfile = resolver.justfile()
    if justfile is not None:
        for target in justfile.targets:
            out.extend(resolver.follow(f"just {target}", justfile.path, None))
    if resolver.tox_envs():
        out.extend(resolver.follow("tox", "tox.ini", None))
    if resolver.nox_sessions():
        out.extend(resolver.follow("nox", "noxfile.py", None))
    for hook in repo.precommit_hooks:
        if hook.entry:
            out.extend(resolver.follow(hook.entry, repo.precommit.path if repo.precommit else "", hook.line))
    resolver.all_tasks = out
    return out
