"""NB: notebooks — for exploration, kept out of the package and the training path, and committed without outputs."""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterator
from typing import Any

from fsdl_check.model import Finding, Rule, Severity
from fsdl_check.parsing.notebook import Notebook
from fsdl_check.parsing.python import PythonModule
from fsdl_check.parsing.tomlfile import TomlDoc
from fsdl_check.regex import lazy
from fsdl_check.repo import PreCommitHook, Repo, RepoFile
from fsdl_check.rules.ci_commands import Command, ci_commands, project_commands

#: Packages that make `import name` load `name.ipynb`.
NOTEBOOK_IMPORTERS = ("import_ipynb", "nbimport", "nbimporter", "ipynb")
#: Notebooks here are documentation; executing them in CI tests the docs, it does not train anything.
_DOC_DIRS = {"docs", "doc", "examples", "example", "tutorials", "tutorial"}
STRIP_HOOKS = {"nbstripout", "nb-clean", "jupyter-notebook-cleanup", "nbdev_clean", "nbdev-clean"}
_STRIP_COMMAND = lazy(r"nbstripout|nb-clean|nbdev_clean|--clear-output|ClearOutputPreprocessor")
_OUTPUTS = lazy(r'"outputs"\s*:\s*\[\s*(?!\])')


def _package_names(pyproject: TomlDoc | None) -> tuple[set[str], set[str]]:
    """The distribution's import names (a top-level folder of that name is the package), and the package folders
    the build configuration names (hatch's `packages = ["lib/pkg"]`, setuptools' `packages = ["pkg.sub"]`)."""
    names: set[str] = set()
    folders: set[str] = set()
    if pyproject is None:
        return names, folders
    for key in ("project.name", "tool.poetry.name"):
        value = pyproject.get(key)
        if isinstance(value, str):
            names.add(re.sub(r"[-.]+", "_", value).lower())
    for key, dotted in (("tool.hatch.build.targets.wheel.packages", False), ("tool.setuptools.packages", True)):
        value = pyproject.get(key)
        for item in value if isinstance(value, list) else []:
            if isinstance(item, str) and item.strip("/."):
                folders.add(item.replace(".", "/") if dotted else posixpath.normpath(item))
    return names, folders


def _package_dirs(paths: frozenset[str], pyproject: TomlDoc | None) -> set[str]:
    """Directories that are (part of) the importable package: with an `__init__.py`, and under src/, named as the
    distribution or inside a package folder the build configuration names."""
    names, folders = _package_names(pyproject)
    dirs = set()
    for path in paths:
        if posixpath.basename(path) == "__init__.py":
            directory = posixpath.dirname(path)
            top = directory.split("/")[0]
            declared = any(directory == f or directory.startswith(f + "/") for f in folders)
            package = top == "src" or top in names or declared
            if directory and package:  # mutation: equivalent (a notebook's parents are never the root)
                dirs.add(directory)
    return dirs


def _notebook_args(command: Command) -> list[str]:
    """Notebooks a command executes (papermill, `jupyter nbconvert --execute`, `jupyter execute`, ipython)."""
    args = command.args
    program = command.program
    if (program == "jupyter" and args[:1] == ("nbconvert",)) or program in ("jupyter-nbconvert", "nbconvert"):
        executes = any(a == "--execute" or a.startswith("--ExecutePreprocessor.enabled=True") for a in args)
        if not executes:
            return []
    elif not ((program == "jupyter" and args[:1] == ("execute",)) or program in ("papermill", "ipython", "runipy")):
        return []
    return [a for a in args if a.endswith(".ipynb") and not a.startswith("-")]


#: pytest plugins that execute the notebooks pytest collects.
_NOTEBOOK_PLUGINS = ("--nbmake", "--nbval", "--nbval-lax", "--nbval-sanitize-with")


def _tested_notebooks(command: Command, notebooks: list[str]) -> list[str]:
    """Notebooks a CI command executes: named to papermill/nbconvert/jupyter execute, or collected by pytest with
    nbmake or nbval (the paths it is given, every notebook when it is given none), or by treon."""
    named = _notebook_args(command)
    if named:
        return [n for a in named for n in _match_notebooks(a, notebooks)]
    plugin = command.program in ("pytest", "py.test") and any(a.startswith(_NOTEBOOK_PLUGINS) for a in command.args)
    if not (plugin or command.program == "treon"):
        return []
    paths = [a for a in command.args if not a.startswith("-") and ("/" in a or a.endswith(".ipynb") or "." not in a)]
    if not paths:
        return list(notebooks)
    found: list[str] = []
    for path in paths:
        folder = posixpath.normpath(path.removeprefix("./"))
        found += [n for n in notebooks if folder in (".", n) or n.startswith(folder + "/")] or _match_notebooks(
            path, notebooks
        )
    return found


def _match_notebooks(pattern: str, notebooks: list[str]) -> list[str]:
    pattern = posixpath.normpath(pattern.removeprefix("./"))
    exact = [n for n in notebooks if n == pattern or fnmatch.fnmatchcase(n, pattern)]
    return exact or [n for n in notebooks if n.endswith("/" + pattern)]


def _is_doc_notebook(path: str) -> bool:
    return any(part in _DOC_DIRS for part in path.split("/")[:-1])


def _imported_notebooks(module: PythonModule, stems: dict[str, list[str]]) -> tuple[int, list[str], str] | None:
    """(line, notebooks, importer) when `module` imports notebooks through an import hook."""
    line = module.imports_any(*NOTEBOOK_IMPORTERS)
    if line is None:
        return None
    importer = next(name for name in NOTEBOOK_IMPORTERS if name in module.imports)
    found: list[str] = []
    for name in module.imports:
        if name.split(".")[0] in NOTEBOOK_IMPORTERS and not name.startswith("ipynb.fs."):
            continue
        found.extend(stems.get(name.rpartition(".")[2], []))
    return line, sorted(set(found)), importer


class NoNotebooksInPackage(Rule):
    """Notebooks stay out of the importable package and the training path

    Notebooks are for exploration; the package is what gets tested, typed, reviewed and shipped in the image. A
    notebook inside `src/<package>/`, imported as a module (import_ipynb), or executed by papermill or
    `jupyter nbconvert --execute` as a pipeline step puts untestable, hidden-state code on the path that trains
    models. Move the logic into the package and keep notebooks in `notebooks/`, calling it. Notebooks that CI
    executes (nbmake, nbval, papermill or `jupyter nbconvert --execute` in a workflow) are tested, and not reported.
    """

    code, severity = "NB001", Severity.WARNING
    fix = (
        "Move the code into the package; keep notebooks in `notebooks/` (see the template's `notebooks/explore.ipynb`)."
    )
    example = "src/trainer/preprocess.ipynb\n# or, in CI: papermill train.ipynb out.ipynb"
    template_file = "notebooks/explore.ipynb"

    def check(
        self, files: list[RepoFile], pyproject: TomlDoc | None, python: list[PythonModule], repo: Repo
    ) -> Iterator[Finding]:
        notebooks = [f.path for f in files if f.suffix == ".ipynb" and not f.symlink]
        if not notebooks:
            return
        reasons: dict[str, tuple[int | None, str]] = {}  # notebook or importing module -> (line, message)
        # Notebooks that CI executes are tested (nbmake, nbval, papermill or nbconvert in a workflow): that is what
        # keeps a notebook honest, not production code to move into the package.
        ci = ci_commands(repo)
        tested = {n for command in ci for n in _tested_notebooks(command, notebooks)}
        in_ci = set(ci)
        package_dirs = _package_dirs(repo.paths, pyproject)
        for path in notebooks:
            parents, folder = set(), posixpath.dirname(path)
            while folder:
                parents.add(folder)
                folder = posixpath.dirname(folder)
            inside = sorted(parents & package_dirs)
            if inside:
                reasons[path] = (None, f"notebook inside the importable package '{inside[0]}'")
        stems: dict[str, list[str]] = {}
        for path in notebooks:
            stems.setdefault(posixpath.basename(path)[: -len(".ipynb")], []).append(path)
        for module in python:
            imported = _imported_notebooks(module, stems)
            if imported is None:
                continue
            import_line, found, importer = imported
            for path in found:
                reasons.setdefault(path, (None, f"notebook imported as a module by {module.path}"))
            if not found:
                reasons.setdefault(module.path, (import_line, f"imports notebooks as modules with {importer}"))
        for command in project_commands(repo):
            if command in in_ci:
                continue
            for argument in _notebook_args(command):
                for path in _match_notebooks(argument, notebooks):
                    if not _is_doc_notebook(path):
                        reasons.setdefault(path, (None, f"notebook executed by {command.program} in {command.origin}"))
        for module in python:
            for call in module.calls_named("execute_notebook"):
                first = call.node.args[0] if call.node.args else None
                value: Any = getattr(first, "value", None)
                if isinstance(value, str) and value.endswith(".ipynb"):
                    for path in _match_notebooks(value, notebooks):
                        if not _is_doc_notebook(path):
                            reasons.setdefault(path, (None, f"notebook executed by papermill from {module.path}"))
        for path, (line, message) in sorted(reasons.items()):
            if path not in tested:
                yield self.finding(path, line, message)


def _stripping_configured(hooks: list[PreCommitHook], repo: Repo) -> bool:
    if any(h.id in STRIP_HOOKS or _STRIP_COMMAND.search(h.entry) for h in hooks):
        return True
    if "filter=nbstripout" in (repo.text(".gitattributes") or ""):
        return True
    # `nbstripout --install` sets up a git filter in each clone; it only works if the docs tell people to run it.
    documents = [
        f.path
        for f in repo.files
        if (f.suffix in (".md", ".rst", ".txt") and ("/" not in f.path or f.path.startswith("docs/")))
        or f.name in ("Makefile", "justfile")
    ]
    return any("nbstripout --install" in (repo.text(path) or "") for path in documents)


class NotebookOutputsStripped(Rule):
    """Committed notebooks carry no outputs, or an output-stripping hook is configured

    Outputs make notebooks large, diffs unreadable and merges painful, and they can leak data samples, paths and
    tokens into history. Strip them on commit with nbstripout (or nb-clean) in pre-commit or as a git filter.
    Documentation notebooks (under docs/, examples/ or tutorials/, or named like a tutorial) keep their outputs:
    they are what the reader comes for.
    """

    code, severity = "NB002", Severity.WARNING
    fix = "Add the `nbstripout` hook and commit the stripped notebook; see the template's `.pre-commit-config.yaml`."
    example = '{"cell_type": "code", "outputs": [{"output_type": "stream", "text": ["loss 0.31"]}]}'
    template_file = ".pre-commit-config.yaml"

    def check(self, notebooks: list[Notebook], precommit_hooks: list[PreCommitHook], repo: Repo) -> Iterator[Finding]:
        committed = {f.path for f in repo.files if f.suffix == ".ipynb" and (f.tracked or not repo.git)}
        # Documentation notebooks (docs/, examples/, tutorials/, or named *tutorial*) show their outputs on purpose:
        # a rendered tutorial or Colab demo without them says nothing.
        with_outputs = [
            nb
            for nb in notebooks
            if nb.path in committed
            and not (_is_doc_notebook(nb.path) or "tutorial" in posixpath.basename(nb.path).lower())
            and any(cell.get("outputs") for cell in nb.cells)
        ]
        if not with_outputs or _stripping_configured(precommit_hooks, repo):
            return
        for notebook in with_outputs:
            text = repo.text(notebook.path) or ""
            match = _OUTPUTS.search(text)
            start = match.start() if match else None
            line = None if start is None else text.count("\n", 0, start) + 1  # mutation: equivalent (starts with {)
            count = sum(1 for cell in notebook.cells if cell.get("outputs"))
            yield self.finding(notebook.path, line, f"notebook committed with outputs in {count} cells")
