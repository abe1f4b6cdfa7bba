"""Fixes that add the template's own files for a practice a repository lacks (`--fix`, `--diff`).

The files are rendered by Copier from the fsdl-stack template, with the answers `fsdl-check adopt` infers from the
repository plus the one answer the practice needs (`container=cpu` for an image, say), so what lands is byte for byte
what `copier copy` would have written for this project. A file is only ever created, never written over, and only
when the repository has what the file relies on: the template's Dockerfile copies `requirements-lock.txt` and
`src/` and runs the project's `<slug>-train` script, so it is not dropped into a repository that has none of them
(the note says what is missing). A project made from the template gets the `copier update` command instead, which
also keeps its answers file in step.

Where the template comes from: `--template`, or else where this fsdl-check was installed from (as for adopt).
Copier is the `adopt` extra; without it, or without a template, the fix is a one-line note and nothing else.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fsdl_check.parsing.dockerfile import exec_array, parse_dockerfile
from fsdl_check.regex import lazy
from fsdl_check.repo import Repo
from fsdl_check.rules.template import COOKIECUTTER_ANSWERS, COPIER_ANSWERS_NAME, CRUFT_ANSWERS

if TYPE_CHECKING:
    from fsdl_check.fixes import Workspace


class Unavailable(Exception):
    """The template cannot be rendered here (no Copier, no template source, a render that failed)."""


@dataclass
class Renderer:
    """Renders the template once per set of answer overrides, into one scratch folder removed by `close`."""

    template: str | None
    scratch: Path | None = None

    def __post_init__(self) -> None:
        self._renders: dict[tuple[tuple[str, Any], ...], tuple[Path, dict[str, Any]]] = {}

    def render(self, repo: Repo, overrides: dict[str, Any]) -> tuple[Path, dict[str, Any]]:
        """The folder holding the render, and the answers it was made with."""
        key = tuple(sorted(overrides.items()))
        if key not in self._renders:
            self._renders[key] = self._render(repo, overrides)
        return self._renders[key]

    def _render(self, repo: Repo, overrides: dict[str, Any]) -> tuple[Path, dict[str, Any]]:
        try:
            import copier  # noqa: F401  (the adopt extra: only its absence is checked here)
        except ImportError:
            raise Unavailable("rendering the template needs Copier: pip install 'fsdl-check[adopt]'") from None
        from fsdl_check import adopt

        try:
            source = adopt.resolve_source(self.template, None)
            answers = {name: answer.value for name, answer in adopt.infer(repo).items()} | overrides
            if self.scratch is None:
                self.scratch = Path(tempfile.mkdtemp(prefix="fsdl-check-fix-"))
            folder = self.scratch / str(len(self._renders))
            adopt.render(source, answers, folder)
        except adopt.AdoptError as exc:
            raise Unavailable(str(exc).replace("--template is required: ", "the template is needed: ")) from None
        return folder, answers

    def close(self) -> None:
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None


#: What a template file needs of the repository, beyond itself: the paths or facts it lacks (empty: nothing).
Needs = Callable[[Repo, "Workspace", Path, dict[str, Any]], list[str]]


@dataclass(frozen=True)
class TemplateFix:
    code: str
    files: tuple[str, ...]  # template paths created where missing (a folder: every file rendered under it)
    overrides: dict[str, Any]  # the answers the practice needs
    needs: Needs
    #: The answer to give `copier update` / `cruft update` in a project made from the template; None for a file the
    #: template always writes (where such a project lacks it, its owner removed it: rendering it again is the fix).
    update: tuple[str, str] | None
    then: str = ""  # what the user does next, once the files are there

    def apply(self, repo: Repo, workspace: Workspace, renderer: Renderer) -> None:
        from fsdl_check.fixes import Refused

        made = made_from_template(repo)
        if made is not None and self.update is not None:  # a file the template always writes: rendered again
            name, value = self.update
            command = (
                f"copier update --defaults --data {name}={value}"
                if made == "copier"
                else f'cruft update --variables-to-update \'{{"{name}": "{value}"}}\''
            )
            raise Refused(f"this project was made from the template: `{command}` adds the files and its answer")
        try:
            folder, answers = renderer.render(repo, self.overrides)
        except Unavailable as exc:
            raise Refused(str(exc)) from None
        rendered = [rel for rel in rendered_paths(folder) if any(_under(rel, f) for f in self.files)]
        if not rendered:
            raise Refused(f"the template release rendered has no {' or '.join(self.files)} (a later one may)")
        lacking = self.needs(repo, workspace, folder, answers)
        if lacking:
            raise Refused(
                f"the template's {', '.join(rendered)} would need {', '.join(lacking)}, which this repository lacks"
            )
        for rel in rendered:
            if workspace.exists(rel):
                continue  # the user's own file stays; the next audit says whether it covers the practice
            text = (folder / rel).read_bytes().decode("utf-8")
            workspace.create(rel, text, f"{self.code}: created {rel} (the template's)")
        if self.then:
            workspace.notes.append(f"{self.code}: {self.then}")


def _under(rel: str, entry: str) -> bool:
    return rel == entry or rel.startswith(entry.rstrip("/") + "/")


def rendered_paths(folder: Path) -> list[str]:
    from fsdl_check.adopt import rendered_files

    return sorted(rendered_files(folder))


def made_from_template(repo: Repo) -> str | None:
    """'copier' or 'cruft' for a project whose answers file says it was made from a template."""
    if any(COPIER_ANSWERS_NAME.fullmatch(p) for p in repo.paths):
        return "copier"
    if CRUFT_ANSWERS in repo.paths or COOKIECUTTER_ANSWERS in repo.paths:
        return "cruft"
    return None


# -- the template's image (DK007) -------------------------------------------------------------------------------
def image_needs(repo: Repo, workspace: Workspace, folder: Path, answers: dict[str, Any]) -> list[str]:
    """What the rendered Dockerfile copies from the build context, and the console script it runs, where the
    repository lacks them: read off the render itself, so it follows the template."""
    dockerfile = parse_dockerfile("docker/Dockerfile", (folder / "docker/Dockerfile").read_text())
    lacking: list[str] = []
    for instruction in dockerfile.instructions:
        if instruction.keyword not in ("COPY", "ADD") or instruction.flag("from"):
            continue
        sources = exec_array(instruction.value) or tuple(instruction.value.split())
        for source in (s.removeprefix("./").rstrip("/") for s in sources[:-1] if not s.startswith("--")):
            present = source in repo.paths or source in workspace.changes
            if not (present or any(p.startswith(source + "/") for p in repo.paths)):
                lacking.append(source + ("/" if (folder / source).is_dir() else ""))
    entry = next((i for i in reversed(dockerfile.instructions) if i.keyword == "ENTRYPOINT"), None)
    command = exec_array(entry.value) if entry is not None else None
    if command:
        scripts = repo.pyproject.get("project.scripts") if repo.pyproject is not None else None
        if not isinstance(scripts, dict) or command[0] not in scripts:
            lacking.append(f"a `{command[0]}` console script in pyproject.toml")
    return list(dict.fromkeys(lacking))


def no_needs(repo: Repo, workspace: Workspace, folder: Path, answers: dict[str, Any]) -> list[str]:
    return []


IMAGE = TemplateFix("DK007", ("docker", ".dockerignore"), {"container": "cpu"}, image_needs, ("container", "cpu"))
#: Renovate, the template's dependency bot where CI is not on GitHub (Dependabot runs only there).
RENOVATE = TemplateFix("GA003", ("renovate.json",), {"ci": "gitlab"}, no_needs, ("ci", "gitlab"))


# -- the template's pre-commit configuration (QA004) --------------------------------------------------------------
#: The distribution that installs each command the template's hooks run from `.venv/bin`.
HOOK_DISTRIBUTIONS = {
    "ruff": "ruff",
    "mypy": "mypy",
    "nbstripout": "nbstripout",
    "fsdl-check": "fsdl-check",
    "pre-commit": "pre-commit",
}
PRE_COMMIT_HOOKS = "check-merge-conflict check-yaml check-toml check-json end-of-file-fixer trailing-whitespace-fixer"
HOOK_DISTRIBUTIONS |= dict.fromkeys([*PRE_COMMIT_HOOKS.split(), "check-added-large-files"], "pre-commit-hooks")
VENV_COMMAND = lazy(r"^\.venv/bin/([\w.-]+)")


def declared_distributions(repo: Repo) -> set[str]:
    """Every distribution the repository declares anywhere (runtime, extras, groups, any requirements file)."""
    from fsdl_check.rules.packaging import normalize_name, parse_requirement

    names: set[str] = set()

    def strings(value: Any) -> None:
        if isinstance(value, str):
            parsed = parse_requirement(value)
            if parsed is not None:
                names.add(parsed[0])
        elif isinstance(value, list):
            for item in value:
                strings(item)
        elif isinstance(value, dict):
            for item in value.values():
                strings(item)

    pyproject = repo.pyproject
    if pyproject is not None:
        for key in ("project.dependencies", "project.optional-dependencies", "dependency-groups"):
            strings(pyproject.get(key))
        for key in ("tool.uv.dev-dependencies", "tool.pdm.dev-dependencies"):
            strings(pyproject.get(key))
        poetry = pyproject.get("tool.poetry")
        if isinstance(poetry, dict):  # Poetry names its dependencies by key: `ruff = "^0.8"`
            tables = [poetry.get("dependencies"), poetry.get("dev-dependencies")]
            groups = poetry.get("group")
            if isinstance(groups, dict):
                tables += [g.get("dependencies") for g in groups.values() if isinstance(g, dict)]
            names.update(normalize_name(str(name)) for table in tables if isinstance(table, dict) for name in table)
    for requirements in repo.requirements:
        names.update(normalize_name(r.name) for r in requirements.requirements)
    return names


def precommit_needs(repo: Repo, workspace: Workspace, folder: Path, answers: dict[str, Any]) -> list[str]:
    """The template's hooks run the project's own tools from `.venv/bin` (so a commit needs no network and agrees
    with CI): they work where the repository declares those tools for its environment, and mypy (which the hook
    runs without file names) has a `files` setting. Read off the rendered file, so it follows the template."""
    from fsdl_check.parsing.yamlfile import parse_yaml

    doc = parse_yaml(".pre-commit-config.yaml", (folder / ".pre-commit-config.yaml").read_text())
    hooks = [
        hook
        for entry in (doc.first or {}).get("repos", [])
        if isinstance(entry, dict)
        for hook in entry.get("hooks", [])
        if isinstance(hook, dict)
    ]
    wanted = {"pre-commit"}  # what runs the hooks at all
    for hook in hooks:
        match = VENV_COMMAND.match(str(hook.get("entry", "")))
        if match:
            wanted.add(HOOK_DISTRIBUTIONS.get(match.group(1), match.group(1)))
    declared = declared_distributions(repo)
    lacking = [f"`{name}`" for name in sorted(wanted - declared)]
    if lacking:
        lacking = [f"{', '.join(lacking)} among its declared (development) dependencies"]
    runs_mypy_alone = any(
        VENV_COMMAND.match(str(h.get("entry", "")))
        and "mypy" in str(h.get("entry"))
        and str(h.get("pass_filenames")).lower() == "false"
        for h in hooks
    )
    if runs_mypy_alone and "mypy" in declared and not _mypy_files(repo):
        lacking.append("a `files` setting for mypy (under [tool.mypy] in pyproject.toml)")
    return lacking


def _mypy_files(repo: Repo) -> bool:
    if repo.pyproject is not None and repo.pyproject.get("tool.mypy.files"):
        return True
    for name in ("mypy.ini", ".mypy.ini", "setup.cfg"):
        text = repo.text(name)  # None for a file that is not there
        if text and re.search(r"^\[mypy\][^\[]*^files\s*=", text, re.M):
            return True
    return False


PRECOMMIT = TemplateFix(
    "QA004",
    (".pre-commit-config.yaml",),
    {},
    precommit_needs,
    None,
    then="the hooks run the tools in .venv/bin: install the development dependencies there, then run "
    "`.venv/bin/pre-commit install`",
)
