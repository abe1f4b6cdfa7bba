"""QA: code quality — linting, formatting and type checking configured, run in CI, and code that parses."""

from __future__ import annotations

import configparser
import re
from collections.abc import Iterable, Iterator

from fsdl_check.model import Finding, Rule, Severity
from fsdl_check.parsing.python import PythonModule
from fsdl_check.parsing.tomlfile import TomlDoc
from fsdl_check.parsing.yamlfile import LineDict, YamlDoc
from fsdl_check.regex import lazy
from fsdl_check.repo import PreCommitHook, Repo
from fsdl_check.rules._toml_lines import first_tool_line
from fsdl_check.rules.ci_commands import Command, ci_commands, project_commands

LINTERS = {"ruff", "flake8", "pylint"}
TYPE_CHECKERS = {"mypy", "dmypy", "pyright", "basedpyright", "ty", "pytype"}
PRE_COMMIT = {"pre-commit", "prek"}

LINT_HOOKS = {"ruff", "ruff-check", "flake8", "pylint"}
FORMAT_HOOKS = {"ruff-format", "black", "black-jupyter", "yapf", "autopep8"}
TYPE_HOOKS = {"mypy", "pyright", "basedpyright", "ty", "ty-check", "pytype"}

#: Marketplace actions that run a linter, type checker or pre-commit (matched on `uses:` without the version).
CI_ACTIONS = (
    "pre-commit/action", "pre-commit-ci/lite-action", "astral-sh/ruff-action", "chartboost/ruff-action",
    "jpetrucciani/ruff-check", "jpetrucciani/mypy-check", "tsuyoshicho/action-mypy", "jakebailey/pyright-action",
    "py-actions/flake8", "suo/flake8-github-action", "ricardochaves/python-lint", "reviewdog/action-flake8",
    "sunnysid3up/python-linter", "davidslusser/actions_python_ci", "wemake-services/wemake-python-styleguide",
)  # fmt: skip
#: Make/just/tox/nox targets that, when their recipe cannot be read, are taken at their word.
_LINT_TARGET = lazy(r"lint|check|typ|mypy|pre-?commit|style|static|quality|\bqa\b", re.IGNORECASE)


def _is_linter(command: Command) -> bool:
    return command.program in LINTERS and command.args[:1] != ("format",)


def _is_formatter(command: Command) -> bool:
    if command.program == "ruff":
        return command.args[:1] == ("format",)
    return command.program in ("black", "yapf", "autopep8")


def _hook_ids(hooks: Iterable[PreCommitHook]) -> set[str]:
    return {hook.id for hook in hooks}


def _toml_has(pyproject: TomlDoc | None, *tables: str) -> bool:
    return pyproject is not None and any(isinstance(pyproject.get(t), dict) for t in tables)


def _cfg_sections(setup_cfg: configparser.ConfigParser | None, text: str | None, *names: str) -> bool:
    """Whether setup.cfg (parsed) or tox.ini (text) has one of the `[names]` sections, or a `[name.sub]` one."""
    if setup_cfg is not None and any(s == n or s.startswith(n + ".") for s in setup_cfg.sections() for n in names):
        return True
    pattern = re.compile(r"^\[(" + "|".join(map(re.escape, names)) + r")([.:][^\]]*)?\]", re.MULTILINE)
    return text is not None and pattern.search(text) is not None


def _unreadable(pyproject: TomlDoc | None) -> bool:
    """pyproject.toml exists but does not parse: what it configures is unknown (FC002 reports the error)."""
    return pyproject is not None and pyproject.error is not None


def _missing_config_location(pyproject: TomlDoc | None) -> tuple[str, int | None]:
    if pyproject is None:
        return ".", None
    return "pyproject.toml", first_tool_line(pyproject)


class LinterConfigured(Rule):
    """A linter is configured (ruff, flake8 or pylint)

    A linter catches the bugs that cost a GPU-day to find at run time: an undefined name in a rarely taken
    branch, a shadowed loop variable, a mutable default argument. Configuring it in the repository (a config
    table or a pre-commit hook) makes every contributor and CI run the same checks.
    """

    code, severity = "QA001", Severity.ERROR
    fix = "Configure ruff in `[tool.ruff]` and add its pre-commit hook; see the template's `pyproject.toml`."
    example = "# no [tool.ruff], .flake8, .pylintrc or linter hook in .pre-commit-config.yaml"
    template_file = "pyproject.toml"

    def check(
        self,
        pyproject: TomlDoc | None,
        setup_cfg: configparser.ConfigParser | None,
        precommit_hooks: list[PreCommitHook],
        repo: Repo,
    ) -> Iterator[Finding]:
        configured = (
            repo.has("ruff.toml", ".ruff.toml", ".flake8", ".pylintrc", "pylintrc")
            or _toml_has(pyproject, "tool.ruff", "tool.pylint")
            or _cfg_sections(setup_cfg, repo.text("tox.ini"), "flake8", "pylint")
            or _hook_ids(precommit_hooks) & LINT_HOOKS
            or any(_is_linter(c) for c in project_commands(repo))
        )
        if not configured and not _unreadable(pyproject):
            path, line = _missing_config_location(pyproject)
            yield self.finding(path, line, "no linter configured (ruff, flake8 or pylint)")


class FormatterConfigured(Rule):
    """A code formatter is configured (ruff format, black, yapf or autopep8)

    A formatter ends style debates in review and keeps diffs to what changed: experiment code that is edited by
    many hands in a hurry stays readable. Run it from pre-commit so nobody has to remember.
    """

    code, severity = "QA002", Severity.WARNING
    fix = "Add the `ruff-format` hook; see the template's `.pre-commit-config.yaml`."
    example = (
        "repos:\n  - repo: https://github.com/astral-sh/ruff-pre-commit\n    hooks:\n      - id: ruff  # no ruff-format"
    )
    template_file = ".pre-commit-config.yaml"

    def check(
        self,
        pyproject: TomlDoc | None,
        setup_cfg: configparser.ConfigParser | None,
        precommit_hooks: list[PreCommitHook],
        repo: Repo,
    ) -> Iterator[Finding]:
        configured = (
            _toml_has(pyproject, "tool.ruff.format", "tool.black", "tool.yapf")
            or repo.has(".style.yapf")
            or _cfg_sections(setup_cfg, None, "yapf")
            or _hook_ids(precommit_hooks) & FORMAT_HOOKS
            or any(_is_formatter(c) for c in project_commands(repo))
        )
        if not configured and not _unreadable(pyproject):
            path, line = _missing_config_location(pyproject)
            yield self.finding(path, line, "no formatter configured (ruff format, black, yapf or autopep8)")


class TypeCheckerConfigured(Rule):
    """A static type checker is configured (mypy, pyright, basedpyright, ty or pytype)

    Shapes, devices and config objects flow through many layers of training code; a type checker catches the
    `None` passed where a tensor was expected and the renamed config field before a job is queued, and keeps type
    hints honest documentation.
    """

    code, severity = "QA003", Severity.WARNING
    fix = "Configure mypy in `[tool.mypy]` (strict) and add its hook; see the template's `pyproject.toml`."
    example = "# no [tool.mypy], mypy.ini, pyrightconfig.json or type-checker hook"
    template_file = "pyproject.toml"

    def check(
        self,
        pyproject: TomlDoc | None,
        setup_cfg: configparser.ConfigParser | None,
        precommit_hooks: list[PreCommitHook],
        repo: Repo,
    ) -> Iterator[Finding]:
        configured = (
            repo.has("mypy.ini", ".mypy.ini", "pyrightconfig.json", "ty.toml")
            or _toml_has(pyproject, "tool.mypy", "tool.pyright", "tool.basedpyright", "tool.ty", "tool.pytype")
            or _cfg_sections(setup_cfg, None, "mypy")
            or _hook_ids(precommit_hooks) & TYPE_HOOKS
            or any(c.program in TYPE_CHECKERS for c in project_commands(repo))
        )
        if not configured and not _unreadable(pyproject):
            path, line = _missing_config_location(pyproject)
            yield self.finding(path, line, "no type checker configured (mypy, pyright, basedpyright or ty)")


class PreCommitConfigured(Rule):
    """pre-commit is configured with at least one hook

    pre-commit runs the linter, formatter, type checker and notebook output stripping before code leaves a laptop,
    with versions pinned in the repository, so local checks and CI checks are the same checks.
    """

    code, severity = "QA004", Severity.WARNING
    fix = "Add a `.pre-commit-config.yaml` and run `pre-commit install`; see the template's `.pre-commit-config.yaml`."
    example = "repos: []"
    template_file = ".pre-commit-config.yaml"

    def check(self, precommit: YamlDoc | None, precommit_hooks: list[PreCommitHook]) -> Iterator[Finding]:
        if precommit is None:
            yield self.finding(".pre-commit-config.yaml", None, "no pre-commit configuration")
        elif precommit.error:
            yield self.finding(precommit.path, precommit.error_line, "the pre-commit configuration does not parse")
        elif not precommit_hooks:
            data = precommit.first
            line = data.line_of("repos") if isinstance(data, LineDict) and "repos" in data else None
            yield self.finding(precommit.path, line, "the pre-commit configuration declares no hooks")


class QualityChecksInCI(Rule):
    """CI runs the linter, the type checker or pre-commit

    Checks that only run on laptops are skipped exactly when they matter: the late-night fix before a big run.
    Running them in CI (directly, through pre-commit, or through a `make lint` / `tox -e lint` target) makes them
    a gate every change passes.
    """

    code, severity = "QA005", Severity.WARNING
    fix = "Run `pre-commit run --all-files` (or ruff and mypy) in CI; see the template's `.github/workflows/ci.yml`."
    example = "steps:\n  - uses: actions/checkout@v4\n  - run: pytest"
    template_file = ".github/workflows/ci.yml"

    def check(self, precommit: YamlDoc | None, repo: Repo) -> Iterator[Finding]:
        workflows = repo.workflows
        if not workflows:
            yield self.finding(".github/workflows", None, "no CI workflow; run pre-commit (or ruff and mypy) in CI")
            return
        if precommit is not None and isinstance(precommit.first, dict) and isinstance(precommit.first.get("ci"), dict):
            return  # a `ci:` section configures pre-commit.ci, which runs the hooks on every pull request
        for workflow in workflows:
            for step in workflow.steps:
                action = (step.uses or "").split("@", 1)[0].lower()  # mutation: equivalent (only the first part)
                if action.startswith(CI_ACTIONS):
                    return
        wanted = LINTERS | TYPE_CHECKERS | PRE_COMMIT
        for command in ci_commands(repo):
            if command.program in wanted:
                return
            runner = command.program in ("make", "just", "tox", "nox")
            if runner and not command.expanded and any(_LINT_TARGET.search(t) for t in command.targets):
                return  # the recipe could not be read; its name says what it does
        yield self.finding(workflows[0].path, None, "no CI step runs a linter, type checker or pre-commit")


_JINJA = lazy(r"\{\{\s[^{}\n]*\s\}\}|\{%-?\s[^\n]*?%\}")


def _templated(module: PythonModule) -> bool:
    """A Jinja/cookiecutter template that only becomes Python once rendered."""
    return "{{" in module.path or "{%" in module.path or _JINJA.search(module.text) is not None


class PythonParses(Rule):
    """Every Python file parses

    A file with a syntax error fails at import time: on the cluster, after the queue wait. It also hides the file
    from every other check. Files that are templates (with `{{ }}` or `{% %}` markers) are left alone.
    """

    code, severity = "QA006", Severity.ERROR
    fix = (
        "Fix the syntax error at the reported line; the ruff hook in the template's `.pre-commit-config.yaml` "
        "catches these before commit."
    )
    example = "def train(cfg)\n    ..."
    template_file = ".pre-commit-config.yaml"

    def check(self, python: list[PythonModule]) -> Iterator[Finding]:
        for module in python:
            if module.error is not None and module.path.endswith(".py") and not _templated(module):
                yield self.finding(module.path, module.error_line, f"does not parse: {module.error}")


#: Directories not counted: tests, docs, examples, and vendored copies of other projects' code.
_NOT_LIBRARY_DIRS = {
    "tests", "test", "docs", "doc", "examples", "example", "vendor", "_vendor", "third_party", "thirdparty",
    "dependencies",
}  # fmt: skip


#: Methods whose signature a framework fixes (`nn.Module.forward`): not counted as the project's own API.
FRAMEWORK_OVERRIDES = frozenset({"forward", "training_step", "validation_step", "test_step", "predict_step"})
#: Files named in QA007's one finding.
WORST_FILES = 5


def _counts_for_hints(path: str) -> bool:
    parts = path.split("/")
    name = parts[-1]
    if any(p in _NOT_LIBRARY_DIRS for p in parts[:-1]) or "{{" in path:
        return False
    return not (
        name.startswith("test_") or name.endswith("_test.py") or name in ("conftest.py", "setup.py", "noxfile.py")
    )


class TypeHintShare(Rule):
    """Public functions carry full type hints

    Type hints are what let the type checker see through training code, and the cheapest documentation a reader
    of a model or data module gets. One repository-level finding gives the share of public functions and methods
    that annotate every named parameter and the return, when it is below the configured share (80% by default,
    `type-hint-share`), with the least annotated files. Tests, docs and examples are not counted, nor `forward`
    (and Lightning `*_step`) overrides, whose signature the framework sets; `*args`/`**kwargs` need no hints.
    """

    code, severity = "QA007", Severity.INFO
    fix = (
        "Annotate parameters and return types of public functions, and let mypy keep them annotated: see "
        "`[tool.mypy]` (strict) in the template's `pyproject.toml`."
    )
    example = "def build_model(cfg, num_classes=10):\n    ..."
    template_file = "pyproject.toml"

    def check(self, python: list[PythonModule], repo: Repo) -> Iterator[Finding]:
        threshold = repo.options.type_hint_share
        per_file: list[tuple[int, int, str]] = []  # (unannotated, public, path)
        for module in python:
            if not module.parsed or not _counts_for_hints(module.path):
                continue
            # module-level functions and methods of public classes; `forward` overrides keep nn.Module's signature
            functions = [f for f in module.public_functions if not (f.method and f.name in FRAMEWORK_OVERRIDES)]
            if functions:
                missing = sum(1 for f in functions if not f.annotated)
                per_file.append((missing, len(functions), module.path))
        total = sum(n for _, n, _ in per_file)
        annotated = total - sum(m for m, _, _ in per_file)
        if not total or annotated / total >= threshold:
            return
        worst = sorted((f for f in per_file if f[0]), key=lambda f: (-f[0], f[2]))
        listed = ", ".join(f"{path} ({n - m} of {n})" for m, n, path in worst[:WORST_FILES])
        more = f" and {len(worst) - WORST_FILES} more" if len(worst) > WORST_FILES else ""
        yield self.finding(
            ".",
            None,
            f"{annotated} of {total} public functions in {len(per_file)} files have full type hints "
            f"({annotated / total:.0%}, below {threshold:.0%}); least annotated: {listed}{more}",
        )
