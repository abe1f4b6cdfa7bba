"""Shell text to simple commands: split on pipes, `&&`, `;` and new lines, and strip the wrappers that only pick an
environment (`uv run`, `poetry run`, `python -m`, `coverage run -m`, `VAR=1`). No file is read here."""

from __future__ import annotations

import functools
import posixpath
import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fsdl_check.regex import lazy

_ASSIGN = lazy(r"^[A-Za-z_][A-Za-z0-9_]*=")
_OPERATOR_CHARS = frozenset("();<>|&")
_REDIRECTS = {">", ">>", "<", ">&", "&>", "&>>", "<<", "<<<", ">|"}
_SHELL_WORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time", "exec"}
_PREFIX_PROGRAMS = {"sudo", "env", "nice", "nohup", "xvfb-run", "command", "stdbuf", "eatmydata", "catchsegv"}
#: Programs whose `run` subcommand only chooses an environment for the command that follows (hatch, pdm and pixi
#: may instead name a project script: `_Resolver.expand` looks those up first).
_ENV_RUNNERS = {"uv", "poetry", "pipenv", "conda", "mamba", "micromamba", "rye"}
#: Options of those wrappers (and of make, nox, tox) that take a value as the next word.
VALUE_OPTIONS = {
    "--with", "--with-editable", "--with-requirements", "--group", "--only-group", "--no-group", "--extra",
    "--python", "-p", "--package", "--project", "--directory", "--env-file", "--index", "--index-url",
    "--extra-index-url", "-n", "--name", "--prefix", "--cwd", "-C", "-P", "--from", "-e", "--env", "--environment",
    "-f", "--file", "--makefile", "-j", "--jobs", "-o", "-W", "--manifest-path",
}  # fmt: skip
#: Options of `coverage run` that take a value as the next word (`-m` ends them: it names the module to run).
COVERAGE_VALUE_OPTIONS = {
    "--source", "--rcfile", "--omit", "--include", "--data-file", "--concurrency", "--context", "--debug",
}  # fmt: skip
_PYTHON = lazy(r"^(python[0-9.]*|py|pypy[0-9.]*|\{env_?python\}|\$[({]?PYTHON\w*[)}]?)$", re.IGNORECASE)
_GITHUB_WORKSPACE = lazy(r"\$\{\{\s*github\.workspace\s*\}\}/?|\$\{?(GITHUB_WORKSPACE|CI_PROJECT_DIR)\}?/")
_EXPRESSION = lazy(r"\$\{\{.*?\}\}")
_COMMENT = lazy(r"(?:^|(?<=\s))#.*$")
SHELLS = {"bash", "sh", "zsh", "dash", "source", "."}


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


def skip_options(words: list[str], value_options: Iterable[str] = ()) -> list[str]:
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


def _coverage_module(words: list[str]) -> list[str] | None:
    """``--source pkg -m pytest -x`` (what follows `coverage run`) -> ``["pytest", "-x"]``; None for a script."""
    i = 0
    while i < len(words):
        word = words[i]
        if word == "-m" or (word.startswith("-m") and len(word) > 2):
            return words[i + 1 :] if word == "-m" else [word[2:], *words[i + 1 :]]
        if not word.startswith("-"):
            return None
        i += 2 if word in COVERAGE_VALUE_OPTIONS else 1
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
            argv = skip_options(argv[1:])
        elif program == "timeout":
            argv = skip_options(argv[1:], {"-s", "--signal", "-k", "--kill-after"})[1:]
        elif program in _ENV_RUNNERS and len(argv) > 1 and argv[1] == "run":
            argv = skip_options(argv[2:], VALUE_OPTIONS)
        elif program == "uvx" or (program == "pipx" and argv[1:2] == ["run"]):
            argv = skip_options(argv[1 if program == "uvx" else 2 :], VALUE_OPTIONS)
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
            # `coverage run --source pkg -m pytest`: the option values are not the script
            module = _coverage_module(argv[2:])
            if module is None:
                break
            argv = module
        else:
            break
    return tuple(argv)


def repo_path(word: str) -> str | None:
    """A path inside the repository, from a word as a script call writes it (``./ci/lint.sh``)."""
    path = posixpath.normpath(word.removeprefix("./"))
    if path.startswith(("/", "../", "$", "~")) or path in (".", ".."):
        return None
    return path
