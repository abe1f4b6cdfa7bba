"""Task-runner files read into recipes: Makefiles, justfiles, tox environments, nox sessions, and hatch/pdm/pixi
scripts. Each reader turns one file format into command lines; following those lines is the resolver's job."""

from __future__ import annotations

import ast
import configparser
import posixpath
import re
import shlex
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fsdl_check.parsing.python import dotted_name
from fsdl_check.regex import lazy

if TYPE_CHECKING:
    from fsdl_check.repo import Repo


@dataclass
class Target:
    prereqs: list[str] = field(default_factory=list)
    lines: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class Recipes:
    """Makefile targets or justfile recipes: name -> prerequisites and recipe lines (with their line numbers)."""

    path: str
    targets: dict[str, Target] = field(default_factory=dict)
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


_MAKE_ASSIGNMENT = lazy(r"^(?:export\s+|override\s+)?([A-Za-z_.][\w.-]*)\s*(?::{1,3}=|\?=|\+=|!=|=)\s*(.*)$")
#: Targets up to the first `:` (callers split them on whitespace); possessive, so a long line without a colon is
#: rejected in one pass instead of retrying every split of its spaces between the targets and the `:`.
_MAKE_RULE = lazy(r"^([^\s:=#][^:=#]*+)::?(?!=)\s*(.*)$")
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


def parse_makefile(path: str, text: str) -> Recipes:
    recipes = Recipes(path)
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
            target = recipes.targets.setdefault(name, Target())
            target.prereqs.extend(p for p in prereqs if "%" not in p)
            if inline.strip():
                target.lines.append((inline.strip(), number))
        if recipes.default is None and names and not names[0].startswith("."):
            recipes.default = names[0]
        current = [n for n in names if not n.startswith(".")]
    return recipes


#: A recipe name, its parameters up to the first `:` (possessive, as `_MAKE_RULE`), then its dependencies.
_JUST_RECIPE = lazy(r"^@?([A-Za-z_][\w-]*+)(?:\s[^:]*+)?:(?!=)\s*(.*)$")


def parse_justfile(path: str, text: str) -> Recipes:
    recipes = Recipes(path)
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
            recipes.targets[current] = Target(prereqs=deps)
            recipes.default = recipes.default or current
    return recipes


def strip_recipe_prefix(line: str) -> str:
    return line.lstrip("@-+ ")


def string_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def argv_text(value: Any) -> list[str]:
    """A command given as a string or as an argument list (pdm/pixi `cmd`), as shell text."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return [shlex.join(value)]
    return []


def tox_ini_envs(text: str) -> dict[str, list[str]]:
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


def tox_toml_envs(table: dict[str, Any]) -> dict[str, list[str]]:
    envs: dict[str, list[str]] = {}

    def commands(env: Any) -> list[str]:
        if not isinstance(env, dict):
            return []
        out: list[str] = []
        for key in ("commands_pre", "commands"):
            for cmd in env.get(key) or [] if isinstance(env.get(key), list) else []:
                out.extend(argv_text(cmd))
        return out

    envs[""] = commands(table.get("env_run_base"))
    named = table.get("env")
    if isinstance(named, dict):
        for name, env in named.items():
            envs[str(name)] = commands(env)
    return {k: v for k, v in envs.items() if v or k}


def nox_session_name(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
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


def session_runs(node: ast.AST) -> list[tuple[tuple[str, ...], int]]:
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


def session_matches(session: str, wanted: str) -> bool:
    return session == wanted or wanted.startswith((session + "-", session + "("))


class TaskFiles:
    """The task-runner files of one repository, each read and parsed at most once."""

    def __init__(self, repo: Repo) -> None:
        # A weak proxy: the resolvers map the repository to this reader weakly, and a strong reference back to it
        # would keep every audited repository (and all it parsed) alive for the life of the process.
        self.repo = weakref.proxy(repo)
        self._makefiles: dict[str, Recipes | None] = {}
        self._justfile: Recipes | bool | None = False
        self._tox: dict[str, list[str]] | None = None
        self._nox: dict[str, list[tuple[tuple[str, ...], int]]] | None = None

    def makefile(self, directory: str = "", name: str | None = None) -> Recipes | None:
        candidates = [name] if name else ["GNUmakefile", "makefile", "Makefile"]
        for candidate in candidates:
            path = posixpath.normpath(posixpath.join(directory, candidate)) if directory else candidate
            if path not in self._makefiles:
                text = self.repo.text(path)
                self._makefiles[path] = parse_makefile(path, text) if text is not None else None
            if self._makefiles[path] is not None:
                return self._makefiles[path]
        return None

    def justfile(self) -> Recipes | None:
        if self._justfile is False:
            path = self.repo.has("justfile", "Justfile", ".justfile")
            text = self.repo.text(path) if path else None
            self._justfile = parse_justfile(path, text) if path and text is not None else None
        return self._justfile if isinstance(self._justfile, Recipes) else None

    def tox_envs(self) -> dict[str, list[str]]:
        """tox environment -> command lines; "" holds the base `[testenv]` (or `env_run_base`) commands."""
        if self._tox is None:
            envs: dict[str, list[str]] = {}
            pyproject = self.repo.pyproject
            legacy = pyproject.get("tool.tox.legacy_tox_ini") if pyproject else None
            for text in (self.repo.text("tox.ini"), legacy if isinstance(legacy, str) else None):
                if text is not None:
                    envs.update(tox_ini_envs(text))
            native = [d.data for d in self.repo.toml_files if d.path == "tox.toml"]
            if pyproject and isinstance(pyproject.get("tool.tox"), dict):
                native.append(pyproject.get("tool.tox"))
            for table in native:
                envs.update(tox_toml_envs(table))
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
                        name = nox_session_name(node)
                        if name is not None:
                            self._nox[name] = session_runs(node)
        return self._nox

    def hatch_script(self, env: str, script: str) -> list[str] | None:
        """The command lines of hatch script `script` in environment `env`, None when it defines no such script."""
        tables: list[Any] = []
        if self.repo.pyproject is not None:
            tables.append(self.repo.pyproject.get(f"tool.hatch.envs.{env}.scripts"))
        for doc in self.repo.toml_files:
            if doc.path == "hatch.toml":
                tables.append(doc.get(f"envs.{env}.scripts"))
        for table in tables:
            if isinstance(table, dict) and script in table:
                return string_list(table[script])
        return None

    def project_script(self, program: str, name: str) -> list[str]:
        """The command lines of a pdm script or pixi task named `name` (empty when there is none)."""
        table: Any = None
        pyproject = self.repo.pyproject
        if program == "pdm" and pyproject is not None:
            table = pyproject.get("tool.pdm.scripts")
        elif program == "pixi":
            pixi = next((d for d in self.repo.toml_files if d.path == "pixi.toml"), None)
            table = pixi.get("tasks") if pixi else pyproject.get("tool.pixi.tasks") if pyproject else None
        spec = table.get(name) if isinstance(table, dict) else None
        if isinstance(spec, str):
            return [spec]
        if not isinstance(spec, dict):
            return []
        texts = argv_text(spec.get("cmd")) + string_list(spec.get("shell")) + string_list(spec.get("composite"))
        depends = spec.get("depends-on", spec.get("depends_on"))
        return texts + [f"{program} run {d}" for d in string_list(depends)]
