"""Following commands: each task-runner, script, action or workflow call, into the commands it runs."""

from __future__ import annotations

import posixpath
import re
import shlex
import weakref
from typing import Any

from fsdl_check.parsing.workflow import Workflow
from fsdl_check.parsing.yamlfile import line_of
from fsdl_check.regex import lazy
from fsdl_check.repo import Repo
from fsdl_check.rules.ci_commands.lexer import (
    SHELLS,
    VALUE_OPTIONS,
    Command,
    repo_path,
    skip_options,
    split_shell,
    unwrap,
)
from fsdl_check.rules.ci_commands.runners import Recipes, TaskFiles, session_matches, strip_recipe_prefix

#: How deep recipes, scripts, sessions and called workflows are followed (a recipe calling a script calling make).
MAX_DEPTH = 6
#: How many commands one workflow step or recipe may expand to, and all of them together, before the rest is left
#: unfollowed: bounds the work on absurd recipe graphs.
MAX_COMMANDS = 1000
MAX_TOTAL_COMMANDS = 20_000
#: `with:` inputs of third-party actions that hold shell text (`run:`, `command:`, `pytest_command:`, `script:`).
_COMMAND_INPUT = lazy(r"(?:^|[_-])(?:run|command|commands|script|cmd)$", re.IGNORECASE)


class _Resolver:
    """Follows commands for one repository. Every step down (a recipe, a script, a session, a called workflow)
    passes through `_enter`, the one place that bounds depth and work."""

    def __init__(self, repo: Repo) -> None:
        # A weak proxy: `_RESOLVERS` maps the repository to this resolver weakly, and a strong reference back to it
        # would keep every audited repository (and all it parsed) alive for the life of the process.
        self.repo = weakref.proxy(repo)
        self.files = TaskFiles(repo)
        self.workflow_cache: dict[str, list[Command]] = {}
        #: Commands left to follow (reset for each workflow step or recipe): bounds absurd recipe graphs.
        self.budget = MAX_COMMANDS
        self.total_budget = MAX_TOTAL_COMMANDS
        self.all_tasks: list[Command] | None = None

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
        if not self._enter(depth):
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
        if program in ("anyscale", "ray", "sky"):
            submitted = self._job(argv, origin, line, depth, seen)
            if submitted is not None:
                return submitted
        if program in ("bash", "sh", "zsh", "dash") and len(argv) > 2 and argv[1] == "-c":
            return [Command(argv, origin, line, expanded=True), *self.resolve(argv[2], origin, line, depth + 1, seen)]
        script = argv[0]
        if program in SHELLS:
            rest = skip_options(list(argv[1:]), {"-o", "-O"})
            script = rest[0] if rest else ""
        # `bash scripts/ci` runs a shell script whatever its name; a bare `ci.sh` or `./ci/lint` names one too.
        if program in SHELLS or script.endswith((".sh", ".bash")) or "/" in script:
            path = repo_path(script)
            text = self.repo.text(path) if path and f"script:{path}" not in seen else None
            if path and text is not None:
                inner = self.resolve(text, path, None, depth + 1, seen | {f"script:{path}"})
                return [Command(argv, origin, line, (path,), expanded=True), *inner]
        return [Command(argv, origin, line)]

    def workflow(self, workflow: Workflow, depth: int, seen: frozenset[str]) -> list[Command]:
        """The commands of `workflow`'s steps and of the local workflows its jobs call."""
        out: list[Command] = []
        seen = seen | {workflow.path}
        for step in workflow.steps:
            if step.run is not None:
                out.extend(self.follow(step.run, workflow.path, step.line))
                for text in _matrix_commands(workflow.jobs.get(step.job), step.run):
                    out.extend(self.follow(text, workflow.path, step.line))
            elif step.uses:
                out.extend(self._uses(step.uses, step.with_, workflow.path, step.line, depth, seen))
        if workflow.provider == "github":
            for job in workflow.jobs.values():
                uses = job.get("uses")
                if isinstance(uses, str):
                    out.extend(self._uses(uses, job.get("with"), workflow.path, line_of(job), depth, seen))
        return out

    def _uses(self, uses: str, with_: Any, origin: str, line: int, depth: int, seen: frozenset[str]) -> list[Command]:
        """An action or a called workflow: the shell text passed as its inputs, and a local one's own commands."""
        out = [c for text, number in _command_inputs(with_, line) for c in self.follow(text, origin, number)]
        base = repo_path(uses.partition("@")[0]) if uses.startswith("./") else None
        if base is None or base in seen or not self._enter(depth):
            return out
        called = next((w for w in self.repo.workflows if w.path == base), None)
        if called is not None:
            return out + self.workflow(called, depth + 1, seen)
        doc = self.repo.yaml(f"{base}/action.yml") or self.repo.yaml(f"{base}/action.yaml")
        data = doc.first if doc else None
        runs = data.get("runs") if isinstance(data, dict) else None
        steps = runs.get("steps") if isinstance(runs, dict) else None
        for step in steps if isinstance(steps, list) and doc is not None else []:
            if not isinstance(step, dict):
                continue
            run, inner = step.get("run"), step.get("uses")
            if isinstance(run, str):
                out.extend(self.follow(run, doc.path, line_of(run)))
            elif isinstance(inner, str):
                out.extend(self._uses(inner, step.get("with"), doc.path, line_of(step), depth + 1, seen | {base}))
        return out

    def _enter(self, depth: int) -> bool:
        """Spend one unit of work at `depth`: False (follow no further) past the depth or either budget."""
        self.budget -= 1
        self.total_budget -= 1
        return depth < MAX_DEPTH and self.budget >= 0 and self.total_budget >= 0

    def _job(
        self, argv: tuple[str, ...], origin: str, line: int | None, depth: int, seen: frozenset[str]
    ) -> list[Command] | None:
        """A job handed to a cluster runs a command of the repository: `ray job submit ... -- CMD`, `anyscale job
        submit job.yaml` (its `entrypoint:`), `sky launch task.yaml` (its `run:`)."""
        program, args = posixpath.basename(argv[0]), argv[1:]
        texts: list[tuple[str, str]] = []
        if program == "ray" and args[:2] == ("job", "submit") and "--" in args:
            texts = [(shlex.join(args[args.index("--") + 1 :]), origin)]
        elif (program == "anyscale" and "submit" in args[:2]) or (
            program == "sky" and args[:1] in (("launch",), ("exec",))
        ):
            key = "entrypoint" if program == "anyscale" else "run"
            for word in args:
                path = repo_path(word) if word.endswith((".yaml", ".yml")) else None
                doc = self.repo.yaml(path) if path and f"job:{path}" not in seen else None
                data = doc.first if doc is not None else None
                if isinstance(data, dict) and isinstance(data.get(key), str) and path:
                    texts.append((data[key], path))
        if not texts:
            return None
        inner = [
            c for text, where in texts for c in self.resolve(text, where, None, depth + 1, seen | {f"job:{where}"})
        ]
        return [Command(argv, origin, line, tuple(where for _, where in texts), expanded=True), *inner]

    def _follow_recipes(self, recipes: Recipes, names: list[str], depth: int, seen: frozenset[str]) -> list[Command]:
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
                    command_text = strip_recipe_prefix(recipes.substitute(text))
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
        base = repo_path(directory) if directory not in ("", ".", "./") else ""
        recipes = self.files.makefile(base or "", makefile_name) if base is not None else None
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
        recipes = self.files.justfile()
        words = skip_options(list(argv[1:]), {"-f", "--justfile", "-d", "--working-directory"})
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
        envs = self.files.tox_envs()
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
        sessions = self.files.nox_sessions()
        if not sessions:
            return [Command(argv, origin, line, tuple(names))]
        chosen = [s for s in sessions if not names or any(session_matches(s, n) for n in names)]
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
        rest = skip_options(list(argv[2:]), VALUE_OPTIONS)
        if not rest:
            return [Command(argv, origin, line)]
        env, _, script = rest[0].rpartition(":")
        texts = self.files.hatch_script(env or "default", script)
        if texts is None:
            # not a script: `hatch run [env:]command ...` runs the command in that environment
            return self.expand(unwrap([script, *rest[1:]]), origin, line, depth + 1, seen)
        command = Command(argv, origin, line, (rest[0],), expanded=True)
        key = f"hatch:{rest[0]}"
        if key in seen:
            return [command]
        return [command, *(c for t in texts for c in self.resolve(t, "pyproject.toml", None, depth + 1, seen | {key}))]

    def _script_call(
        self, program: str, argv: tuple[str, ...], origin: str, line: int | None, depth: int, seen: frozenset[str]
    ) -> list[Command] | None:
        """`pdm run NAME` / `pdm NAME` / `pixi run NAME`: the project's script of that name, if it defines one."""
        words = skip_options(list(argv[2:] if argv[1] == "run" else argv[1:]), VALUE_OPTIONS)
        if not words:
            return None
        name = words[0]
        texts = self.files.project_script(program, name)
        if not texts:
            if argv[1] != "run":
                return None
            return self.expand(unwrap(words), origin, line, depth + 1, seen)  # a plain command in the environment
        key = f"{program}:{name}"
        command = Command(argv, origin, line, (name,), expanded=True)
        if key in seen:
            return [command]
        return [command, *(c for t in texts for c in self.resolve(t, "pyproject.toml", None, depth + 1, seen | {key}))]


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
    """Every command a workflow runs: its `run:`/`script:` blocks, the shell text it hands to actions and called
    workflows as inputs (`with: {pytest_command: ...}`), local composite actions and local reusable workflows
    (`uses: ./.github/workflows/tests.yml`), followed through."""
    resolver = _resolver(repo)
    cached = resolver.workflow_cache.get(workflow.path)
    if cached is None:
        cached = resolver.workflow_cache[workflow.path] = resolver.workflow(workflow, 0, frozenset())
    return cached


_MATRIX_REFERENCE = lazy(r"\$\{\{\s*matrix\.([\w.-]+)\s*\}\}")


def _matrix_commands(job: Any, run: str) -> list[str]:
    """Shell text that `run: ${{ matrix.task.run }}` takes from the job's matrix: every string value there (in its
    axes and its `include:` entries) under the referenced key."""
    wanted = {name.rsplit(".", 1)[-1] for name in _MATRIX_REFERENCE.findall(run)} if "matrix." in run else set()
    strategy = job.get("strategy") if isinstance(job, dict) and wanted else None
    found: list[str] = []
    stack: list[tuple[Any, bool]] = [(strategy.get("matrix") if isinstance(strategy, dict) else None, False)]
    while stack and len(found) < 1000:  # an explicit stack: YAML nesting costs no recursion
        node, under_key = stack.pop()
        if isinstance(node, str) and under_key:
            found.append(node)
        elif isinstance(node, dict):
            stack.extend((value, str(key) in wanted) for key, value in node.items())
        elif isinstance(node, list):
            stack.extend((item, under_key) for item in node)
    return found


def _command_inputs(with_: Any, default_line: int) -> list[tuple[str, int]]:
    """Shell text among an action's `with:` inputs, with its line."""
    if not isinstance(with_, dict):
        return []
    return [
        (value, line_of(value, default_line))
        for key, value in with_.items()
        if isinstance(value, str) and _COMMAND_INPUT.search(str(key))
    ]


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
    makefile = resolver.files.makefile()
    if makefile is not None:
        for target in makefile.targets:
            if not target.startswith("."):
                out.extend(resolver.follow(f"make {target}", makefile.path, None))
    justfile = resolver.files.justfile()
    if justfile is not None:
        for target in justfile.targets:
            out.extend(resolver.follow(f"just {target}", justfile.path, None))
    if resolver.files.tox_envs():
        out.extend(resolver.follow("tox", "tox.ini", None))
    if resolver.files.nox_sessions():
        out.extend(resolver.follow("nox", "noxfile.py", None))
    for hook in repo.precommit_hooks:
        if hook.entry:
            out.extend(resolver.follow(hook.entry, repo.precommit.path if repo.precommit else "", hook.line))
    resolver.all_tasks = out
    return out
