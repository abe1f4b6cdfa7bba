"""PK: packaging and dependencies — one declared, installable project whose environment can be rebuilt."""

from __future__ import annotations

import ast
import configparser
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from fsdl_check.model import Finding, ProjectKind, Rule, Severity
from fsdl_check.parsing.python import PythonModule
from fsdl_check.parsing.requirements import RequirementsFile
from fsdl_check.parsing.tomlfile import TomlDoc
from fsdl_check.parsing.yamlfile import LineDict, YamlDoc, line_of
from fsdl_check.regex import lazy
from fsdl_check.repo import Repo
from fsdl_check.rules._toml_lines import header_line, item_line, key_line

_NAME = lazy(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)$", re.DOTALL)

LOCK_FILES = (
    "uv.lock", "poetry.lock", "pdm.lock", "pylock.toml", "pylock.*.toml", "Pipfile.lock", "conda-lock.yml",
    "*.conda-lock.yml", "pixi.lock", "requirements.lock",
)  # fmt: skip

#: Development tools that have no business among a project's runtime dependencies.
DEV_TOOLS = {
    "pytest", "ruff", "mypy", "black", "flake8", "pre-commit", "hypothesis", "pylint", "isort", "coverage", "tox",
    "nox", "pyright", "basedpyright", "bandit", "codespell", "nbqa", "pytest-cov", "pytest-xdist", "pytest-mock",
    "autopep8", "yapf", "pydocstyle", "pycodestyle", "pyflakes", "ty",
}  # fmt: skip
_DEV_GROUP = lazy(r"dev|test|lint|check|\bci\b|qa|typ|style|format|tox|nox", re.IGNORECASE)
_DEV_REQUIREMENTS = lazy(
    r"(^|/)(requirements[-_.]?[^/]*(dev|test|lint|ci|check|typing|qa)[^/]*|(dev|test|tests|testing|lint|ci)[-_]requirements"
    r"|requirements/[^/]*(dev|test|lint|ci|check|typing|qa)[^/]*)\.(txt|in)$",
    re.IGNORECASE,
)
_RUNTIME_REQUIREMENTS = lazy(
    r"^(requirements\.(txt|in)|requirements/(base|main|prod|production|runtime|common|core|requirements)\.(txt|in))$"
)


def normalize_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_requirement(text: str) -> tuple[str, str] | None:
    """``"Torch[cuda] >= 2.1; python_version<'3.13'"`` -> ``("torch", "[cuda] >= 2.1; ...")``; None if no name."""
    match = _NAME.match(text)
    return (normalize_name(match.group(1)), match.group(2).strip()) if match else None


def normalize_spec(spec: str) -> str:
    """A comparable form of everything after the name: extras, versions and markers, whitespace and order aside."""
    # pip options on the line (--hash=...)
    parts = re.split(r"\s--?\w", " " + spec, maxsplit=1)  # mutation: equivalent (only the first part is read)
    spec = parts[0]
    spec = re.sub(r"\s+", "", spec).replace("'", '"')
    requirement, _, marker = spec.partition(";")
    extras = ""
    if requirement.startswith("[") and "]" in requirement:
        close = requirement.index("]")
        extras = ",".join(sorted(e for e in requirement[1:close].split(",") if e))
        requirement = requirement[close + 1 :]
    versions = ",".join(sorted(_canonical_clause(c) for c in requirement.strip("()").split(",") if c))
    return f"[{extras}]{versions};{marker}"


_PADDED_CLAUSE = lazy(r"(==|!=|<=|>=|<|>)(?!=)([^*]+)")


def _canonical_clause(clause: str) -> str:
    """`>=3.3.0` as `>=3.3`: PEP 440 pads with zeros, so they are one requirement (`~=` and `===` are not)."""
    match = _PADDED_CLAUSE.fullmatch(clause)
    if match is None:
        return clause
    from packaging.utils import canonicalize_version  # on first use: it imports much of the platform machinery
    from packaging.version import InvalidVersion

    try:
        return match.group(1) + canonicalize_version(match.group(2))
    except InvalidVersion:
        return clause  # mutation: equivalent (canonicalize_version returns an invalid string as given)


def _is_dev_tool(name: str) -> bool:
    return name in DEV_TOOLS or name.startswith(("pytest-", "types-", "flake8-"))


def _project(pyproject: TomlDoc | None) -> dict[str, Any] | None:
    project = pyproject.get("project") if pyproject is not None else None
    return project if isinstance(project, dict) else None


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


class ProjectTable(Rule):
    """pyproject.toml declares the project ([project], PEP 621) and how to build it ([build-system])

    A declared, installable package is what turns a folder of scripts into something every machine can install the
    same way: a laptop, CI, a container image, a SLURM node. `[project]` is the standard every packaging tool reads
    (pip, uv, Poetry 2, hatch, pdm), and `[build-system]` tells pip how to build the package instead of guessing.
    """

    code, severity = "PK001", Severity.ERROR
    fix = "Declare `[project]` (name, version, dependencies) and `[build-system]`; see the template's `pyproject.toml`."
    example = '[tool.poetry]\nname = "trainer"\n\n[tool.poetry.dependencies]\ntorch = "^2.3"'
    template_file = "pyproject.toml"

    def check(self, pyproject: TomlDoc | None, repo: Repo) -> Iterator[Finding]:
        for finding in self._problems(pyproject, repo):
            if repo.kind is not ProjectKind.LIBRARY and finding.severity is Severity.ERROR:
                # scripts, an example collection or a course: not being installable is worth saying, not an error
                finding = replace(finding, severity=Severity.WARNING)
            yield finding

    def _problems(self, pyproject: TomlDoc | None, repo: Repo) -> Iterator[Finding]:
        if _setup_py_packages(repo):
            return  # setuptools' setup() does the packaging: an installable project, with or without pyproject.toml
        if pyproject is None:
            yield self.finding("pyproject.toml", None, "no pyproject.toml or setup.py: the code cannot be installed")
            return
        if pyproject.error:
            unreadable = pyproject.error.startswith("cannot read")  # FC002 says why
            problem = "cannot be read" if unreadable else "does not parse"
            yield self.finding("pyproject.toml", pyproject.error_line, f"pyproject.toml {problem}")
            return
        project = _project(pyproject)
        build = isinstance(pyproject.get("build-system"), dict)
        if project is None:
            if isinstance(pyproject.get("tool.poetry"), dict):
                message = "project metadata only in Poetry's [tool.poetry]; declare it in [project] (Poetry 2 reads it)"
                if not build:
                    message += " and name the build backend in [build-system]"
                yield self.finding("pyproject.toml", header_line(pyproject, "tool.poetry"), message)
            elif not build:
                yield self.finding(
                    "pyproject.toml",
                    None,
                    "pyproject.toml holds only tool configuration: no [project] table (PEP 621) and no [build-system]",
                )
            else:
                yield self.finding("pyproject.toml", None, "no [project] table (PEP 621)")
            return
        if not isinstance(project.get("name"), str) or not project["name"].strip():
            yield self.finding("pyproject.toml", header_line(pyproject, "project"), "[project] has no name")
        if not build:
            yield self.finding("pyproject.toml", None, "no [build-system] table; name the build backend")


def _setup_py_packages(repo: Repo) -> bool:
    """Whether a root setup.py calls setuptools' (or distutils') `setup()` (read as text: never executed)."""
    if "setup.py" not in repo.paths:
        return False
    text = repo.text("setup.py") or ""
    return re.search(r"^\s*(?:setuptools\.)?setup\(", text, re.M) is not None and "import" in text


# -- PK002 -------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)  # mutation: equivalent (nothing assigns to a _Declared)
class _Declared:
    text: str  # as written, for messages
    spec: str  # normalized
    line: int | None


@dataclass
class _Source:
    """One place that declares the runtime dependencies."""

    path: str
    label: str
    line: int | None
    deps: dict[str, _Declared] = field(default_factory=dict)
    compare_specs: bool = True

    def add(self, text: str, line: int | None) -> None:
        parsed = parse_requirement(text)
        if parsed is not None:
            name, spec = parsed
            self.deps.setdefault(name, _Declared(text.strip(), normalize_spec(spec), line))


def _pyproject_source(pyproject: TomlDoc | None) -> _Source | None:
    project = _project(pyproject)
    if pyproject is None:
        return None
    if project is not None and "dependencies" not in _strings(project.get("dynamic")):
        deps = _strings(project.get("dependencies"))
        line = key_line(pyproject, "project", "dependencies")
        source = _Source("pyproject.toml", "pyproject.toml [project].dependencies", line)
        for dep in deps:
            source.add(dep, item_line(pyproject, "project", "dependencies", dep))
        return source
    # No [project], or Poetry 2's `dynamic = ["dependencies"]`: Poetry then reads [tool.poetry.dependencies].
    poetry = pyproject.get("tool.poetry.dependencies")
    if isinstance(poetry, dict):
        line = header_line(pyproject, "tool.poetry.dependencies")
        # Poetry's version syntax (^1.2) is not PEP 508: compare names only.
        source = _Source("pyproject.toml", "pyproject.toml [tool.poetry.dependencies]", line, compare_specs=False)
        for name in poetry:
            if str(name).lower() != "python":
                key = key_line(pyproject, "tool.poetry.dependencies", str(name))
                source.add(str(name), key or line)  # mutation: equivalent (pyproject's own lines are never reported)
        return source
    return None


def _literal_strings(node: ast.expr, module: PythonModule) -> list[tuple[str, int]] | None:
    """String items of a list/tuple literal, or of a module-level name bound to one; None when not literal."""
    if isinstance(node, ast.Name) and module.tree is not None:
        variable = node.id
        for statement in module.tree.body:
            if isinstance(statement, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == variable for t in statement.targets
            ):
                node = statement.value
    if not isinstance(node, ast.List | ast.Tuple):
        return None
    items = [(e.value, e.lineno) for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return items if len(items) == len(node.elts) else None


def _setup_py_source(python: list[PythonModule]) -> _Source | None:
    module = next((m for m in python if m.path == "setup.py"), None)
    if module is None:
        return None
    for call in module.calls_named("setup"):
        for keyword in call.node.keywords:
            if keyword.arg != "install_requires":
                continue
            items = _literal_strings(keyword.value, module)
            if items is None:
                return None  # computed (often read from requirements.txt): one source, not two
            source = _Source("setup.py", "setup.py install_requires", keyword.value.lineno)
            for text, line in items:
                source.add(text, line)
            return source
    return None


def _setup_cfg_source(setup_cfg: configparser.ConfigParser | None, text: str | None) -> _Source | None:
    if setup_cfg is None or not setup_cfg.has_option("options", "install_requires"):
        return None
    value = setup_cfg.get("options", "install_requires", fallback="")
    lines = (text or "").splitlines()
    start = next((i for i, ln in enumerate(lines, 1) if re.match(r"\s*install_requires\s*[=:]", ln)), None)
    source = _Source("setup.cfg", "setup.cfg install_requires", start)
    for requirement in value.splitlines():
        parts = requirement.split("#", 1)  # mutation: equivalent (only the first part is read)
        requirement = parts[0].strip()
        if not requirement:
            continue
        if requirement.startswith("file:"):
            return None  # read from a requirements file: that file is the one source
        found = next((i for i, ln in enumerate(lines, 1) if start and i >= start and requirement in ln), start)
        source.add(requirement, found)
    return source


def _requirements_sources(requirements: list[RequirementsFile]) -> list[_Source]:
    out = []
    for req_file in requirements:
        if not _RUNTIME_REQUIREMENTS.match(req_file.path) or req_file.fully_pinned:
            continue  # a fully pinned file is a lock compiled from the declaration, not a second declaration
        source = _Source(req_file.path, req_file.path, 1)
        for req in req_file.requirements:
            source.deps.setdefault(req.name, _Declared(f"{req.name}{req.spec}", normalize_spec(req.spec), req.line))
        out.append(source)
    return out


def _differences(primary: _Source, other: _Source) -> list[tuple[int | None, str]]:
    found: list[tuple[int | None, str]] = []
    for name, dep in other.deps.items():
        if name not in primary.deps:
            found.append((dep.line, f"'{name}' is not in {primary.label}"))
        elif primary.compare_specs and other.compare_specs and dep.spec != primary.deps[name].spec:
            found.append((dep.line, f"'{dep.text}' here but '{primary.deps[name].text}' in {primary.label}"))
    for name in primary.deps:
        if name not in other.deps:
            found.append((other.line, f"'{name}' from {primary.label} is missing here"))
    # One source's lines are all known (from 1) or all unknown (None), so unknown may sort as any number.
    unknown = 0  # mutation: equivalent (lines start at 1, and a source never mixes known and unknown lines)
    return sorted(found, key=lambda d: d[0] or unknown)


class SingleDependencySource(Rule):
    """Runtime dependencies are declared in one place

    When pyproject.toml, setup.py, setup.cfg and a hand-edited requirements.txt all list dependencies, they drift:
    CI installs one set, the Docker image another, a colleague a third, and "works on my machine" follows. Declare
    dependencies once (in `[project]`) and generate everything else from it; a fully pinned file compiled from that
    declaration (pip-compile, `uv export`) is a lock, not a second source, and is fine. Dependencies named only in
    the README's `pip install` line have no source at all: nothing installs or checks that list.
    """

    code, severity = "PK002", Severity.WARNING
    fix = (
        "Keep dependencies only in `[project].dependencies` (see the template's `pyproject.toml`); generate pinned "
        "requirements with `uv export` or pip-compile instead of editing them."
    )
    example = '# pyproject.toml\ndependencies = ["torch>=2.1"]\n# requirements.txt\ntorch>=2.0\nnumpy'
    template_file = "pyproject.toml"

    def check(
        self,
        pyproject: TomlDoc | None,
        python: list[PythonModule],
        setup_cfg: configparser.ConfigParser | None,
        requirements: list[RequirementsFile],
        repo: Repo,
    ) -> Iterator[Finding]:
        candidates = [
            _pyproject_source(pyproject),
            _setup_py_source(python),
            _setup_cfg_source(setup_cfg, repo.text("setup.cfg") if setup_cfg is not None else None),
            *_requirements_sources(requirements),
        ]
        sources = [s for s in candidates if s is not None and s.deps]
        if not sources and not requirements and not any(repo.text(name) is not None for name in _OTHER_DECLARATIONS):
            yield from self._named_only_in_readme(repo)
            return
        if len(sources) < 2:
            return
        primary = sources[0]
        for other in sources[1:]:
            differences = _differences(primary, other)
            if differences:
                line, detail = differences[0]
                more = f" (and {len(differences) - 1} more differences)" if len(differences) > 1 else ""
                yield self.finding(other.path, line, f"dependencies declared again and they disagree: {detail}{more}")

    def _named_only_in_readme(self, repo: Repo) -> Iterator[Finding]:
        """No file declares a dependency, but the README tells readers what to `pip install`."""
        for readme in _READMES:
            text = repo.text(readme)
            if text is None:
                continue
            fenced = False
            for number, line in enumerate(text.splitlines(), 1):
                if line.lstrip().startswith(("```", "~~~")):
                    fenced = not fenced
                    continue
                command = fenced or line.lstrip().startswith(("pip", "$", "python", "uv ", ">")) or "`" in line
                names = _readme_install_names(line) if command else []  # not prose: "you can pip install it"
                if names:
                    listed = " ".join(names[:6]) + (" ..." if len(names) > 6 else "")
                    message = (
                        f"dependencies are named only in {readme} (`pip install {listed}`): declare them once, in "
                        "pyproject.toml `[project].dependencies`, so that installs and CI read the same list"
                    )
                    yield self.finding(readme, number, message)
                    return
            return


_READMES = ("README.md", "README.rst", "README.txt", "README")
#: Dependency declarations PK002 does not compare, but which mean the README is not the only list.
_OTHER_DECLARATIONS = ("environment.yml", "environment.yaml", "conda.yml", "conda.yaml", "Pipfile")
_INSTALLERS = {"pip", "setuptools", "wheel", "uv"}  # `pip install -U pip` names no dependency
_PIP_INSTALL = lazy(r"(?:^|[\s`$>])(?:python3?\s+-m\s+)?(?:uv\s+)?pip3?\s+install\s+([^`#;&|]+)")


def _readme_install_names(line: str) -> list[str]:
    """The package names a README line tells readers to `pip install` (not `-e .`, `-r file` or URLs)."""
    match = _PIP_INSTALL.search(line)
    if match is None:
        return []  # mutation: equivalent (the caller reads only its truth)
    names: list[str] = []
    skip_next = False
    for word in match.group(1).split():
        if skip_next:
            skip_next = False
        elif word in ("-r", "--requirement", "-e", "--editable", "-c", "--constraint", "-i", "--index-url"):
            skip_next = True
        elif word.startswith("-") or "/" in word or ":" in word:
            continue  # an option, a path or a URL
        elif (parsed := parse_requirement(word.strip("'\""))) and parsed[0] not in _INSTALLERS:
            names.append(parsed[0])
    return names


# -- PK003 -------------------------------------------------------------------------------------------------------------
class LockFile(Rule):
    """The environment is locked: a lock file, or requirements pinned to exact versions

    A training run is reproducible only if its environment is: `torch>=2` resolves to a different build next month,
    and a silent minor upgrade of a data or metrics library changes results. A lock file (uv.lock, poetry.lock,
    pdm.lock, pylock.toml, conda-lock) or a fully pinned requirements file records the exact set that was tested.
    """

    code, severity = "PK003", Severity.WARNING
    fix = "Commit a lock file: the template's `Makefile` has `make lock`, which writes uv.lock from `pyproject.toml`."
    example = "# requirements.txt\ntorch>=2.1\nlightning"
    template_file = "Makefile"

    def check(self, requirements: list[RequirementsFile], repo: Repo) -> Iterator[Finding]:
        if any((repo.text(f.path) or "").strip() for f in repo.glob(*LOCK_FILES)):
            return  # an empty lock file locks nothing
        compiled = {r.path for r in requirements if r.path.endswith(".txt")}
        # pip-tools: a `.in` file next to its compiled `.txt` is the input, unpinned by design
        requirements = [r for r in requirements if not (r.path.endswith(".in") and r.path[:-3] + ".txt" in compiled)]
        runtime = [r for r in requirements if r.requirements and _RUNTIME_REQUIREMENTS.match(r.path)]
        if runtime:
            # every file that installs the runtime must be pinned: a pinned extra file hides nothing
            if all(r.fully_pinned for r in runtime):
                return
        elif any(r.fully_pinned for r in requirements if "doc" not in posixpath.basename(r.path)):
            return
        unpinned = [r for r in requirements if r.requirements and not r.fully_pinned]
        unpinned.sort(key=lambda r: (not _RUNTIME_REQUIREMENTS.match(r.path), r.path))
        if unpinned:
            req_file = unpinned[0]
            first = next(r for r in req_file.requirements if not r.pinned)
            text = f"{first.name}{first.spec}".strip()
            yield self.finding(req_file.path, first.line, f"'{text}' is not pinned and there is no lock file")
        else:
            yield self.finding("pyproject.toml", None, "no lock file (uv.lock, poetry.lock, pdm.lock, pylock.toml ...)")


# -- PK004 -------------------------------------------------------------------------------------------------------------
def _dev_groups(pyproject: TomlDoc) -> bool:
    def separates(groups: Any) -> bool:
        if not isinstance(groups, dict):
            return False
        for name, deps in groups.items():
            names = [p[0] for p in map(parse_requirement, _strings(deps)) if p]
            if _DEV_GROUP.search(str(name)) or any(_is_dev_tool(n) for n in names):
                return True
        return False

    if separates(pyproject.get("dependency-groups")) or separates(pyproject.get("project.optional-dependencies")):
        return True
    poetry_groups = pyproject.get("tool.poetry.group")
    if isinstance(poetry_groups, dict) and any(
        isinstance(g, dict) and g.get("dependencies") for g in poetry_groups.values()
    ):
        return True
    hatch_envs = pyproject.get("tool.hatch.envs")
    if isinstance(hatch_envs, dict) and any(
        isinstance(env, dict) and (env.get("dependencies") or env.get("extra-dependencies"))
        for env in hatch_envs.values()
    ):
        return True
    keys = ("tool.poetry.dev-dependencies", "tool.pdm.dev-dependencies", "tool.uv.dev-dependencies")
    return any(pyproject.get(key) for key in keys)


class DevDependenciesSeparate(Rule):
    """Development and test tools are kept apart from runtime dependencies

    pytest, ruff and mypy belong in the development environment, not in every training image and every user's
    install: separating them keeps images small and the runtime dependency set honest. Dependency groups
    (`[dependency-groups]`, PEP 735), an extra such as `dev`, or a requirements-dev.txt all make the split.
    """

    code, severity = "PK004", Severity.INFO
    fix = (
        "Move test and lint tools into `[dependency-groups]` (e.g. `dev = [...]`); see the template's `pyproject.toml`."
    )
    example = '[project]\ndependencies = ["torch>=2.1", "pytest>=8", "ruff"]'
    requires = ("PK001",)
    template_file = "pyproject.toml"

    def check(self, pyproject: TomlDoc | None, repo: Repo) -> Iterator[Finding]:
        project = _project(pyproject)
        if pyproject is None or project is None:
            return
        project_name = normalize_name(str(project.get("name", "")))
        entry_points = project.get("entry-points")
        plugin_groups = " ".join(map(str, entry_points)) if isinstance(entry_points, dict) else ""
        for dep in _strings(project.get("dependencies")):
            parsed = parse_requirement(dep)
            if parsed is None or not _is_dev_tool(parsed[0]):
                continue
            tool = parsed[0]
            parts = tool.split("-", 1)  # mutation: equivalent (only the first part is read)
            base_tool = parts[0]
            if base_tool in project_name or base_tool in plugin_groups:
                continue  # a plugin (pytest-foo, flake8-bar) depends on its host tool at runtime
            line = item_line(pyproject, "project", "dependencies", dep)
            yield self.finding("pyproject.toml", line, f"'{tool}' is a runtime dependency; move it to a dev group")
        requirement_files = [p for p in repo.paths if _DEV_REQUIREMENTS.search(p)]
        if not (_dev_groups(pyproject) or requirement_files or repo.has("tox.ini", "noxfile.py")):
            line = header_line(pyproject, "project")
            yield self.finding("pyproject.toml", line, "no dev/test dependency group ([dependency-groups] or an extra)")


# -- PK005 -------------------------------------------------------------------------------------------------------------
_CLAUSE = lazy(r"^\s*(~=|===|==|!=|<=|>=|<|>)\s*([0-9][0-9A-Za-z.*+!-]*)\s*$")


class RequiresPython(Rule):
    """`requires-python` states the oldest supported Python, without an upper cap

    Without a lower bound, installers pick releases for Pythons the code never ran on; with an upper cap
    (`<3.13`, `~=3.11`), resolvers backtrack to ancient releases or refuse to install on a new Python even when it
    works, and downstream projects inherit the cap. State the floor you test and let CI tell you about new Pythons.
    """

    code, severity = "PK005", Severity.WARNING
    fix = 'Set `requires-python = ">=3.11"` (a floor, no cap) in `[project]`; see the template\'s `pyproject.toml`.'
    example = 'requires-python = ">=3.10,<3.12"'
    requires = ("PK001",)
    template_file = "pyproject.toml"

    def check(self, pyproject: TomlDoc | None) -> Iterator[Finding]:
        project = _project(pyproject)
        if pyproject is None or project is None:
            return
        line = key_line(pyproject, "project", "requires-python") or header_line(pyproject, "project")
        value = project.get("requires-python")
        if value is None:
            yield self.finding("pyproject.toml", line, "[project] sets no requires-python")
            return
        if not isinstance(value, str):
            yield self.finding("pyproject.toml", line, "requires-python is not a version specifier string")
            return
        clauses = [c for c in value.split(",") if c.strip()]
        parsed = [_CLAUSE.match(c) for c in clauses]
        pairs = zip(clauses, parsed, strict=True)  # mutation: equivalent (a list and its own map: equal lengths)
        bad = next((c.strip() for c, m in pairs if m is None), None)
        if bad is not None or not clauses:
            yield self.finding("pyproject.toml", line, f"requires-python '{value}' is not a valid specifier")
            return
        operators = [(m.group(1), m.group(2)) for m in parsed if m is not None]
        if not any(op in ("~=", "==", "===", ">=", ">") for op, _ in operators):
            yield self.finding("pyproject.toml", line, f"requires-python '{value}' has no lower bound")
        cap = next((f"{op}{version}" for op, version in operators if op in ("<", "<=", "~=", "==", "===")), None)
        if cap is not None:
            hint = " (which means <4)" if cap.startswith("~=") and cap.count(".") == 1 else ""
            message = f"requires-python caps the version with '{cap}'{hint}; drop the upper bound"
            yield self.finding("pyproject.toml", line, message)


# -- PK007 -------------------------------------------------------------------------------------------------------------
_REQUIREMENT_FILES = (
    "requirements*.txt",
    "requirements*.in",
    "requirements/*.txt",
    "requirements/*.in",
    "*requirements*.txt",
)
# A value that names a place on one machine: an absolute path, a home-relative one, a Windows drive, a file: URL,
# or a relative path that leaves the repository.
_LOCAL = r"(?:file:(?://)?[^\s\"',}]*|/[^\s\"',}]*|~[^\s\"',}]*|[A-Za-z]:[\\/][^\s\"',}]*|\.\.[\\/][^\s\"',}]*)"
# In lock files: `registry = "/opt/wheels"`, `path = "../x.whl"`, `"url": "file:///..."`, `url: file:///...`.
_LOCK_SOURCE = lazy(
    r"""(?:^|[\s{,])["']?(registry|path|directory|editable|url|file|find-links|index-url)["']?\s*[=:]\s*["']?("""
    + _LOCAL
    + ")"
)
# In requirements files: options that take a location, `name @ <url>`, or a bare path to an archive or folder.
_REQUIREMENT_SOURCE = lazy(
    r"^\s*(?:(?:-e|--editable|-f|--find-links|-i|--index-url|--extra-index-url|-c|--constraint|-r|--requirement)"
    r"(?:\s+|=)|[A-Za-z0-9][A-Za-z0-9._\[\], -]*@\s*|)(" + _LOCAL + ")"
)


class ShareableLock(Rule):
    """Lock files and requirements resolve for anyone: no local paths or machine-local package indexes

    A lock file exists so that a teammate, CI and the container build install exactly what you tested. A lock that
    records `registry = "/home/me/wheels"`, `file:///tmp/pkg.whl` or `-e ../sibling` resolves on one machine only:
    everywhere else the install fails, or, worse, falls back to something else. Build such a package and publish it
    to an index everyone reaches, or depend on it by VCS URL, then lock again.
    """

    code, severity = "PK007", Severity.WARNING
    fix = (
        "Publish the package to an index the team reaches (or depend on it by git URL) and lock again; the template's "
        "`tools/environment.py` keeps machine-local sources such as its own checker out of `requirements-lock.txt`."
    )
    example = '[[package]]\nname = "mylib"\nsource = { registry = "/home/me/wheels" }'
    template_file = "tools/environment.py"

    def check(self, repo: Repo) -> Iterator[Finding]:
        locks = {f.path for f in repo.glob(*LOCK_FILES)}
        requirements = {f.path for f in repo.glob(*_REQUIREMENT_FILES)} - locks
        for path, pattern in sorted(
            [(p, _LOCK_SOURCE) for p in locks] + [(p, _REQUIREMENT_SOURCE) for p in requirements]
        ):
            yield from self._findings(repo, path, pattern, group=2 if pattern is _LOCK_SOURCE else 1)

    def _findings(self, repo: Repo, path: str, pattern: re.Pattern[str], group: int) -> Iterator[Finding]:
        text = repo.text(path)
        if text is None:
            return
        # One finding per distinct location, at its first line: a local registry recorded for 200 packages is one fact.
        first: dict[str, tuple[int, int]] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if line.lstrip().startswith("#"):
                continue
            for match in pattern.finditer(line):
                location = match.group(group)
                if location.startswith("/") and location.startswith("//"):
                    continue  # a protocol-relative URL, not a path
                line_no, count = first.get(location, (number, 0))
                first[location] = (line_no, count + 1)
        # A wheel recorded under a local registry is the same fact as the registry: report the registry only.
        outer = [loc for loc in first if not any(loc != o and loc.startswith(o.rstrip("/") + "/") for o in first)]
        for location in outer:
            line_no, count = first[location]
            count += sum(
                n for loc, (_, n) in first.items() if loc != location and loc.startswith(location.rstrip("/") + "/")
            )
            more = f" ({count} entries)" if count > 1 else ""
            message = f"'{location}' is a location on one machine{more}: no one else can install from {path}"
            yield self.finding(path, line_no, message)


# -- PK006 -------------------------------------------------------------------------------------------------------------
CONDA_FILES = ("environment.yml", "environment.yaml", "conda.yml", "conda.yaml")
_CUDA_PACKAGES = {"cudatoolkit", "pytorch-cuda", "cuda-version", "cuda", "cuda-toolkit", "cuda-runtime", "cpuonly"}
_CONDA_SPEC = lazy(r"^\s*(?:[\w.-]+::)?([A-Za-z0-9_.-]+)\s*(.*)$")


def _conda_entries(dependencies: list[Any]) -> Iterator[tuple[str, str, int, bool]]:
    """(name, version part, line, from pip) of every dependency, conda and pip alike."""
    for item in dependencies:
        if isinstance(item, str):
            match = _CONDA_SPEC.match(item)
            if match:
                yield normalize_name(match.group(1)), match.group(2).strip(), line_of(item), False
        elif isinstance(item, dict) and isinstance(item.get("pip"), list):
            for pip_item in item["pip"]:
                parsed = parse_requirement(pip_item) if isinstance(pip_item, str) else None
                if parsed and not pip_item.lstrip().startswith("-"):
                    yield parsed[0], parsed[1], line_of(pip_item), True


class CondaEnvironmentPinned(Rule):
    """A conda environment file pins Python, PyTorch and the CUDA toolkit

    The three versions that decide whether a GPU training run works at all are Python, PyTorch and the CUDA
    toolkit it was built against; a conda environment that leaves any of them floating resolves differently on the
    next machine. Pin all three (`cpuonly` marks a deliberate CPU environment). Only applies when a conda
    environment file exists. A pinned `torch` from pip needs no CUDA pin (PyPI has one build per version and
    platform), nor does an environment whose `platforms:` (conda-lock) include macOS or Windows, where there is
    no CUDA build to pin.
    """

    code, severity = "PK006", Severity.WARNING
    fix = (
        "List `python=3.11`, `pytorch=2.5` and `cuda-version=12.6` (conda-forge; or `cpuonly`) with versions "
        "under `dependencies:` (the template uses `pyproject.toml` and uv.lock instead of conda)."
    )
    example = "dependencies:\n  - python\n  - pytorch\n  - torchvision"

    def check(self, yaml_files: list[YamlDoc]) -> Iterator[Finding]:
        for doc in yaml_files:
            if posixpath.basename(doc.path) not in CONDA_FILES or doc.error:
                continue
            data = doc.first
            if not isinstance(data, dict):
                continue
            top = 1  # mutation: equivalent (the YAML loader makes every mapping a LineDict: never read)
            deps_line = data.line_of("dependencies") if isinstance(data, LineDict) else top
            dependencies = data.get("dependencies")
            entries = list(_conda_entries(dependencies if isinstance(dependencies, list) else []))
            platforms = data.get("platforms")
            no_cuda = isinstance(platforms, list) and any(
                isinstance(p, str) and p.startswith(("osx-", "win-")) for p in platforms
            )
            yield from self._check_file(doc.path, deps_line, entries, cuda_applies=not no_cuda)

    def _check_file(
        self, path: str, deps_line: int, entries: list[tuple[str, str, int, bool]], *, cuda_applies: bool
    ) -> Iterator[Finding]:
        by_name = {name: (version, line, pip) for name, version, line, pip in entries}
        python = by_name.get("python")
        if python is None:
            yield self.finding(path, deps_line, "the environment does not list python")
        elif not re.search(r"\d", python[0]):
            yield self.finding(path, python[1], "'python' has no version; pin it (e.g. python=3.11)")
        torch_name = "pytorch" if "pytorch" in by_name else "torch" if "torch" in by_name else None
        if torch_name is None:
            return  # not a PyTorch environment: nothing more to pin
        torch_version, torch_line, torch_from_pip = by_name[torch_name]
        if not re.search(r"\d", torch_version):
            yield self.finding(path, torch_line, f"'{torch_name}' has no version; pin it (e.g. {torch_name}=2.3)")
        if torch_from_pip or not cuda_applies:
            return  # a pip wheel's version (or its +cu121) names its build; macOS and Windows have no CUDA build
        cuda = next((n for n in by_name if n in _CUDA_PACKAGES), None)
        if cuda is None:
            message = "the environment does not pin the CUDA build of pytorch (cuda-version=12.6, or cpuonly)"
            yield self.finding(path, deps_line, message)
        elif cuda != "cpuonly" and not re.search(r"\d", by_name[cuda][0]):
            yield self.finding(path, by_name[cuda][1], f"'{cuda}' has no version; pin it (e.g. {cuda}=12.6)")
