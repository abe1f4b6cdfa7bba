"""`fsdl-check adopt`: bring an existing repository under the fsdl-stack template without touching a file it has.

1. Infer the template's answers from what the repository already is (each answer with the evidence it came from),
   read through the checker's own read-only `Repo`: nothing of the repository is imported or executed.
2. Render the template with those answers into a scratch folder (Copier is the renderer), and sort its files:
   missing in the repository (created), already there byte for byte (nothing to do), already there in the user's
   own version (kept, and recorded as `adopted_files`). A missing file that would give an import name two meanings
   (a module `x.py` beside a package `x/`, either way round, or the template's `src/<pkg>/` beside a top-level
   `<pkg>`) is not created and is recorded as `adopted_files` too.
3. Render again with `adopted_files`: the template's `_exclude` leaves those paths out, so this render holds only the
   files to create and the answers file. Copy those in; never write over anything.

Why `adopted_files`: `copier update` renders the template at the recorded `_commit`, diffs that against the
project and replays the diff on the new release. A file the user wrote is, to Copier, a total rewrite of the
template's version: the first release that changes the template's file would leave conflict markers through the
user's file. Excluded paths are in neither render, so updates never touch them.
"""

from __future__ import annotations

import argparse
import json
import keyword
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any, NoReturn
from urllib.parse import unquote, urlparse

from fsdl_check.model import display
from fsdl_check.regex import lazy
from fsdl_check.repo import Repo
from fsdl_check.rules.template import COOKIECUTTER_ANSWERS, COPIER_ANSWERS_NAME, CRUFT_ANSWERS

PROG = "fsdl-check adopt"
ANSWERS_FILE = ".copier-answers.yml"
EXIT_OK, EXIT_ERROR = 0, 2
#: The questions of the template's copier.yml that adopt answers, in its order.
QUESTIONS = (
    "project_name",
    "project_slug",
    "package_name",
    "description",
    "author_name",
    "author_email",
    "python_version",
    "license",
    "copyright_year",
    "tracker",
    "demo_app",
    "ci",
    "container",
    "slurm",
    "kubernetes",
    "sweeps",
)
PYTHON_VERSIONS = ("3.11", "3.12", "3.13")
#: Names copier.yml's package_name validator refuses beyond keywords and the standard library (its dependencies).
DEPENDENCY_NAMES = frozenset(
    (
        *("torch", "torchvision", "lightning", "lightning_fabric", "lightning_utilities", "pytorch_lightning"),
        *("torchmetrics", "mlflow", "wandb", "tensorboard", "numpy", "scipy", "sklearn", "pandas", "streamlit"),
        *("yaml", "jsonargparse", "pytest", "fsdl_check", "src", "test", "tests", "conftest"),
    )
)


class AdoptError(Exception):
    """Why adopt refuses or fails, worded for the user (one line)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise AdoptError(message)


# -- inference --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    value: Any
    evidence: str


def kebab(text: str) -> str | None:
    """`text` as copier.yml's project_slug validator accepts it (lowercase words joined by single hyphens, starting
    with a letter), or None when nothing of it is left."""
    words = re.findall(r"[a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", text).lower())
    slug = "-".join(words)
    if not slug:
        return None
    return slug if slug[0].isalpha() else f"project-{slug}"


def valid_package_name(name: str) -> bool:
    """What copier.yml's package_name validator accepts (lowercase ASCII identifier, no keyword, standard-library
    module or dependency)."""
    return (
        name.isidentifier()
        and name.isascii()
        and name == name.lower()
        and not keyword.iskeyword(name)
        and name not in sys.stdlib_module_names
        and name not in DEPENDENCY_NAMES
    )


def one_line(text: str) -> str:
    """A free-text answer as the validators accept it: one line, no double quotes or backslashes."""
    return " ".join(text.replace('"', "'").replace("\\", "/").split())


def pyproject_value(repo: Repo, dotted: str) -> Any:
    return repo.pyproject.get(dotted) if repo.pyproject is not None else None


def readme_title(repo: Repo) -> str | None:
    """The first Markdown heading of the README, without markup (None when it is only badges or HTML)."""
    path = repo.has("README.md", "README.markdown", "Readme.md", "readme.md")
    text = repo.text(path) if path else None
    for line in (text or "").splitlines():
        match = re.match(r"#\s+(.+?)\s*#*\s*$", line)
        if match:
            title = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", match[1])  # links and images keep their text
            title = re.sub(r"[*_`]", "", title).strip()
            return one_line(title) if title and "<" not in title else None
    return None


def infer_project_slug(repo: Repo) -> Answer:
    for dotted, where in (("project.name", "pyproject.toml [project] name"), ("tool.poetry.name", "pyproject.toml")):
        name = pyproject_value(repo, dotted)
        if isinstance(name, str) and (slug := kebab(name)):
            return Answer(slug, f"{where} {name!r}")
    name = repo.setup_cfg.get("metadata", "name", fallback=None) if repo.setup_cfg is not None else None
    if name and (slug := kebab(name)):
        return Answer(slug, f"setup.cfg name {name!r}")
    slug = kebab(repo.root.name) or "project"
    return Answer(slug, f"the repository's folder name {repo.root.name!r}")


def infer_project_name(repo: Repo, slug: str) -> Answer:
    title = readme_title(repo)
    if title:
        return Answer(title, "the README's first heading")
    return Answer(slug.replace("-", " ").title(), "the project slug, in words")


def package_dirs(repo: Repo) -> list[tuple[str, str]]:
    """(name, layout) of the importable packages: `src/<name>/__init__.py` first, then top-level `<name>/`.

    A `src/` that is itself a package (`src/__init__.py`, as in lightning-hydra-template: `from src.data import
    ...`) is a top-level package, and its folders are its subpackages, not packages of a src layout."""
    src_is_package = "src/__init__.py" in repo.paths
    src = sorted(
        {p.split("/")[1] for p in repo.paths if re.fullmatch(r"src/[^/]+/__init__\.py", p) and not src_is_package}
    )
    flat = sorted(
        {
            p.split("/")[0]
            for p in repo.paths
            if re.fullmatch(r"[^/]+/__init__\.py", p) and p.split("/")[0] not in {"tests", "test", "docs", "scripts"}
        }
    )
    return [(name, "src/") for name in src] + [(name, "top-level") for name in flat]


def top_level_names(repo: Repo) -> set[str]:
    """What `import NAME` finds at the repository's root: packages (`NAME/` with Python files) and modules."""
    names = {p.split("/")[0] for p in repo.paths if "/" in p and p.endswith(".py") and p.count("/") == 1}
    return names | {p[: -len(".py")] for p in repo.paths if "/" not in p and p.endswith(".py")}


def infer_package_name(repo: Repo, slug: str) -> Answer:
    """A src-layout package the repository has is the template's package (the template's modules join it). A
    top-level package is not: the template's package lives in `src/`, and the same name in two places is two
    packages, of which `import` from the root finds the top-level one. The project slug names it then."""
    wanted = slug.replace("-", "_")
    packages = package_dirs(repo)
    for name, layout in sorted(packages, key=lambda item: item[0] != wanted):
        if layout == "src/" and valid_package_name(name):
            return Answer(name, f"the {layout} package {name}/")
    taken = top_level_names(repo)
    flat = [name for name, layout in packages if layout == "top-level"]
    kept = f"; {', '.join(f'{n}/' for n in flat)} {'stays' if len(flat) == 1 else 'stay'} yours" if flat else ""
    if valid_package_name(wanted) and wanted not in taken:
        return Answer(wanted, f"the project slug (no src/ package yet{kept})")
    reason = f"your top-level {wanted} has that name" if wanted in taken else f"{wanted!r} would shadow a module"
    candidate = f"{wanted}_project"
    while candidate in taken:
        candidate += "_"
    return Answer(candidate, f"the project slug ({reason}{kept})")


def infer_description(repo: Repo) -> Answer:
    text = pyproject_value(repo, "project.description")
    if isinstance(text, str) and text.strip():
        return Answer(one_line(text), "pyproject.toml [project] description")
    if repo.setup_cfg is not None and (text := repo.setup_cfg.get("metadata", "description", fallback="")):
        return Answer(one_line(text), "setup.cfg description")
    return Answer("", "none found (left empty)")


def git_output(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def first_commit(root: Path) -> tuple[str, str, str] | None:
    """(author name, e-mail, year) of the repository's first commit."""
    out = git_output(root, "log", "--reverse", "--format=%an%x00%ae%x00%ad", "--date=format:%Y")
    line = out.splitlines()[0] if out else ""
    parts = line.split("\0")
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else None


def valid_email(email: str) -> bool:
    local, _, domain = email.partition("@")
    return bool(
        local
        and "@" not in domain
        and "." in domain
        and not domain.startswith(".")
        and not domain.endswith(".")
        and len(email.split()) == 1
        and '"' not in email
        and "\\" not in email
    )


def infer_author(repo: Repo) -> tuple[Answer, Answer]:
    authors = pyproject_value(repo, "project.authors")
    if isinstance(authors, list) and authors and isinstance(authors[0], dict):
        name, email = authors[0].get("name"), authors[0].get("email")
        if isinstance(name, str) and name.strip():
            mail = (
                Answer(email, "pyproject.toml [project] authors")
                if isinstance(email, str) and valid_email(email)
                else _email_from_git(repo)
            )
            return Answer(one_line(name), "pyproject.toml [project] authors"), mail
    commit = first_commit(repo.root)
    if commit and commit[0].strip():
        return Answer(one_line(commit[0]), "the first commit's author"), _email_from_git(repo)
    return Answer("Your Name", "none found (the template's default)"), _email_from_git(repo)


def _email_from_git(repo: Repo) -> Answer:
    commit = first_commit(repo.root)
    if commit and valid_email(commit[1]):
        return Answer(commit[1], "the first commit's author")
    return Answer("you@example.com", "none found (the template's default)")


def minor_versions(spec: str) -> list[int]:
    return [int(m) for m in re.findall(r"\b3\.(\d+)", spec)]


def _python_answer(minor: int, evidence: str) -> Answer:
    if minor < 11:
        return Answer("3.11", f"{evidence} (3.11 is the template's floor)")
    return Answer(f"3.{min(minor, 13)}", evidence)


def infer_python_version(repo: Repo) -> Answer:
    requires = pyproject_value(repo, "project.requires-python")
    if isinstance(requires, str) and (found := re.search(r">=?\s*3\.(\d+)", requires)):
        return _python_answer(int(found[1]), f"pyproject.toml requires-python {requires!r}")
    pinned = (repo.text(".python-version") or "").strip()
    if found := re.match(r"3\.(\d+)", pinned):
        return _python_answer(int(found[1]), f".python-version {pinned!r}")
    in_ci = [(m, w.path) for w in repo.workflows for m in minor_versions(_python_versions_text(w.doc.text))]
    if in_ci:
        minor, path = min(in_ci)
        return _python_answer(minor, f"{path} tests Python 3.{minor}")
    return Answer("3.11", "none found (the template's default)")


def _python_versions_text(text: str) -> str:
    return " ".join(re.findall(r"python-version\s*:\s*(\[[^\]]*\]|[^\n#]+)", text))


LICENCES = (  # (answer, what identifies its text); BSD-3 before BSD-2 because it adds a clause
    ("Apache-2.0", lazy(r"Apache License,?\s+Version 2\.0", re.IGNORECASE)),
    ("MIT", lazy(r"Permission is hereby granted, free of charge", re.IGNORECASE)),
    ("BSD-3-Clause", lazy(r"Neither the name of", re.IGNORECASE)),
)
SPDX = {"mit": "MIT", "apache-2.0": "Apache-2.0", "apache 2.0": "Apache-2.0", "bsd-3-clause": "BSD-3-Clause"}


def licence_file(repo: Repo) -> str | None:
    names = sorted(p for p in repo.paths if "/" not in p and re.match(r"(LICEN[CS]E|COPYING)", p, re.IGNORECASE))
    return names[0] if names else None


def infer_license(repo: Repo) -> Answer:
    path = licence_file(repo)
    if path:
        text = repo.text(path) or ""
        for answer, pattern in LICENCES:
            if pattern.search(text):
                return Answer(answer, f"{path} is the {answer} text")
    declared = pyproject_value(repo, "project.license")
    if isinstance(declared, dict):
        declared = declared.get("text")
    if isinstance(declared, str) and declared.strip().lower() in SPDX:
        return Answer(SPDX[declared.strip().lower()], f"pyproject.toml license {declared!r}")
    if path:
        return Answer("proprietary", f"{path} is none of the template's licences: it stays yours (-d license=...)")
    return Answer("proprietary", "no LICENSE file: all rights reserved until you choose one (-d license=MIT)")


def infer_copyright_year(repo: Repo) -> Answer:
    path = licence_file(repo)
    found = re.search(r"Copyright\s+(?:\([cC]\)\s*|©\s*)?((?:19|20)\d\d)", repo.text(path) or "") if path else None
    if found:
        return Answer(found[1], f"{path} copyright line")
    commit = first_commit(repo.root)
    if commit and re.fullmatch(r"\d{4}", commit[2]):
        return Answer(commit[2], "the year of the first commit")
    return Answer(str(date.today().year), "this year")


#: Evidence of each tracker: modules imported (in code or notebooks), and the Lightning logger class names.
TRACKERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "mlflow": (("mlflow",), ("MLFlowLogger",)),
    "wandb": (("wandb",), ("WandbLogger",)),
    "tensorboard": (("tensorboard", "torch.utils.tensorboard", "tensorboardX"), ("TensorBoardLogger",)),
}
NOTEBOOK_IMPORT = lazy(r"^\s*(?:import|from)\s+([\w.]+)", re.MULTILINE)


def dependency_names(repo: Repo) -> dict[str, str]:
    """Normalised dependency name -> the file that declares it (requirements files, pyproject dependencies)."""
    found: dict[str, str] = {}
    for req in repo.requirements:
        for requirement in req.requirements:
            found.setdefault(requirement.name.lower().replace("_", "-"), req.path)
    main = pyproject_value(repo, "project.dependencies")
    declared: list[Any] = list(main) if isinstance(main, list) else []
    extras = pyproject_value(repo, "project.optional-dependencies")
    for group in extras.values() if isinstance(extras, dict) else []:
        declared.extend(group if isinstance(group, list) else [])
    for item in declared:
        if isinstance(item, str) and (name := re.match(r"[A-Za-z0-9_.-]+", item)):
            found.setdefault(name[0].lower().replace("_", "-"), "pyproject.toml")
    return found


def tracker_evidence(repo: Repo) -> dict[str, set[str]]:
    """Tracker -> the files that show it is used."""
    seen: dict[str, set[str]] = {name: set() for name in TRACKERS}
    for name, (modules, loggers) in TRACKERS.items():
        for module in repo.python:
            if module.imports_any(*modules) is not None or module.calls_named(*loggers):
                seen[name].add(module.path)
        for notebook in repo.notebooks:
            imported = {m for source in notebook.sources for m in NOTEBOOK_IMPORT.findall(source)}
            if any(i == m or i.startswith(f"{m}.") for i in imported for m in modules):
                seen[name].add(notebook.path)
        for doc in repo.yaml_files:
            if any(logger in doc.text for logger in loggers):  # Hydra `_target_:` or LightningCLI `class_path:`
                seen[name].add(doc.path)
    for dependency, path in dependency_names(repo).items():
        for name in TRACKERS:
            if dependency in (name, "tensorboardx" if name == "tensorboard" else name):
                seen[name].add(path)
    return seen


def infer_tracker(repo: Repo) -> Answer:
    seen = tracker_evidence(repo)
    counts = Counter({name: len(paths) for name, paths in seen.items() if paths})
    if not counts:
        return Answer("mlflow", "no tracker found (the template's default)")
    best = max(TRACKERS, key=lambda name: counts[name])  # ties go to copier.yml's order
    files = sorted(seen[best])
    shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
    others = [f"{name} in {counts[name]}" for name in TRACKERS if name != best and counts[name]]
    return Answer(best, f"used in {shown}" + (f" (also {', '.join(others)})" if others else ""))


def infer_demo_app(repo: Repo) -> Answer:
    users = sorted(m.path for m in repo.python if m.imports_any("streamlit") is not None)
    if users:
        return Answer(True, f"streamlit imported in {users[0]}")
    return Answer(False, "no Streamlit app")


def remote_host(root: Path) -> str | None:
    url = (git_output(root, "remote", "get-url", "origin") or "").strip()
    if "github.com" in url:
        return "github"
    if "gitlab" in url:
        return "gitlab"
    return None


def infer_ci(repo: Repo) -> Answer:
    github = sorted(w.path for w in repo.workflows if w.provider == "github")
    if github:
        return Answer("github", f"GitHub Actions workflow {github[0]}")
    if repo.has(".gitlab-ci.yml"):
        return Answer("gitlab", ".gitlab-ci.yml")
    host = remote_host(repo.root)
    if host:
        return Answer(host, f"no CI yet; the origin remote is on {'GitHub' if host == 'github' else 'GitLab'}")
    return Answer("none", "no CI configuration and no GitHub or GitLab remote (-d ci=github to add one)")


def infer_container(repo: Repo) -> Answer:
    if not repo.dockerfiles:
        return Answer("none", "no Dockerfile")
    for dockerfile in repo.dockerfiles:
        for stage in dockerfile.stages:
            image = (stage.image or stage.base).lower()
            if "cuda" in image or image.startswith(("nvidia/", "nvcr.io/")):
                return Answer("cuda", f"{dockerfile.path} builds on {stage.base}")
    return Answer("cpu", f"{repo.dockerfiles[0].path} (no CUDA base image)")


def infer_slurm(repo: Repo) -> Answer:
    scripts = sorted(s.path for s in repo.sbatch_scripts)
    return Answer(True, f"sbatch script {scripts[0]}") if scripts else Answer(False, "no sbatch script")


def infer_kubernetes(repo: Repo, container: str) -> Answer:
    manifests = sorted({m.path for m in repo.kubernetes.full})
    if not manifests:
        return Answer(False, "no Kubernetes manifests")
    if container == "none":
        return Answer(False, f"{manifests[0]} is a manifest, but the template's pods need a container image")
    return Answer(True, f"Kubernetes manifest {manifests[0]}")


def infer_sweeps(repo: Repo, tracker: str) -> Answer:
    if tracker != "mlflow":
        return Answer(False, "asked with the MLflow tracker only")
    sweeps = [s for s in repo.sweeps if s.tool != "wandb"]
    if sweeps:
        return Answer(True, f"{sweeps[0].label} sweep in {sweeps[0].path}")
    return Answer(False, "no hyperparameter sweep")


def infer(repo: Repo) -> dict[str, Answer]:
    """Every answer of copier.yml, in its order, with its evidence."""
    slug = infer_project_slug(repo)
    author, email = infer_author(repo)
    tracker = infer_tracker(repo)
    container = infer_container(repo)
    answers = {
        "project_name": infer_project_name(repo, slug.value),
        "project_slug": slug,
        "package_name": infer_package_name(repo, slug.value),
        "description": infer_description(repo),
        "author_name": author,
        "author_email": email,
        "python_version": infer_python_version(repo),
        "license": infer_license(repo),
        "copyright_year": infer_copyright_year(repo),
        "tracker": tracker,
        "demo_app": infer_demo_app(repo),
        "ci": infer_ci(repo),
        "container": container,
        "slurm": infer_slurm(repo),
        "kubernetes": infer_kubernetes(repo, container.value),
        "sweeps": infer_sweeps(repo, tracker.value),
    }
    return {name: answers[name] for name in QUESTIONS}


# -- the template source ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    url: str
    ref: str | None
    evidence: str


def installed_source() -> Source | None:
    """Where this fsdl-check was installed from, when that is the fsdl-stack repository (PEP 610 direct_url.json):
    a git URL at the revision installed, or a local checkout that holds copier.yml."""
    try:
        raw = metadata.distribution("fsdl-check").read_text("direct_url.json")
        data = json.loads(raw) if raw else None
    except (metadata.PackageNotFoundError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        return None
    url: str = data["url"]
    vcs = data.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs") == "git":
        ref = vcs.get("requested_revision") or vcs.get("commit_id")
        return Source(f"git+{url}" if url.startswith("http") else url, ref, "where fsdl-check was installed from")
    parsed = urlparse(url)
    if parsed.scheme == "file" and isinstance(data.get("dir_info"), dict):
        folder = Path(unquote(parsed.path))
        if (folder / "copier.yml").is_file():
            return Source(str(folder), None, "the checkout fsdl-check was installed from")
    return None


def resolve_source(template: str | None, ref: str | None) -> Source:
    if template is None:
        found = installed_source()
        if found is None:
            raise AdoptError(
                "--template is required: this fsdl-check was not installed from an fsdl-stack repository "
                "(give its git URL, e.g. --template gh:OWNER/fsdl-stack, or a local clone)"
            )
        return Source(found.url, ref or found.ref, found.evidence)
    local = Path(template).expanduser()
    if local.exists():  # a local template: an absolute path, so that updates work from any directory (TP001)
        if not (local / "copier.yml").is_file():
            raise AdoptError(f"--template {template}: no copier.yml there")
        return Source(str(local.resolve()), pin_head(local.resolve(), ref), "--template")
    return Source(template, ref, "--template")


def pin_head(template: Path, ref: str | None) -> str | None:
    """`HEAD` of a local template as its commit. Copier renders a dirty checkout's HEAD with the uncommitted
    changes in a commit of its own, and records that commit, which no clone has: every later `copier update`
    would fail on it. The commit itself is what updates can find again (and both renders see the same one)."""
    if ref != "HEAD":
        return ref
    commit = (git_output(template, "rev-parse", "--verify", "HEAD^{commit}") or "").strip()
    if not commit:
        raise AdoptError(f"--template {template}: not a git repository with a commit (`copier update` needs one)")
    if (git_output(template, "status", "--porcelain", "--untracked-files=no") or "").strip():
        print(
            f"{PROG}: note: {template} has uncommitted changes; adopt renders its last commit, {commit[:12]}",
            file=sys.stderr,
        )
    return commit


# -- the plan -----------------------------------------------------------------------------------------------------


@dataclass
class Plan:
    answers: dict[str, Any]
    commit: str | None = None
    create: list[str] = field(default_factory=list)  # missing in the repository: rendered from the template
    identical: list[str] = field(default_factory=list)  # already there, byte for byte the template's
    adopted: list[str] = field(default_factory=list)  # already there in the user's version: excluded from renders
    clashes: dict[str, str] = field(default_factory=dict)  # missing, but a name clash: excluded, and why
    rendered: Path | None = None  # the final render, which holds `create` and the answers file

    @property
    def excluded(self) -> list[str]:
        """What the answers file lists under adopted_files: the template never renders these paths."""
        return sorted({*self.adopted, *self.clashes})


def render(source: Source, answers: dict[str, Any], destination: Path) -> Path:
    import copier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Copier's warnings about the template's git state; resolve_source says it
        try:
            copier.run_copy(
                source.url,
                str(destination),
                data=answers,
                vcs_ref=source.ref,
                defaults=True,
                unsafe=False,
                quiet=True,
                cleanup_on_error=True,
            )
        except Exception as exc:  # Copier's own errors: a validator, an unreachable template, a bad ref
            message = str(exc).strip().splitlines()
            raise AdoptError(f"copier: {message[0] if message else type(exc).__name__}") from exc
    return destination


def rendered_files(root: Path) -> list[str]:
    """Files (and links) under `root`, as POSIX paths relative to it, the answers file left out."""
    out = []
    for path in root.rglob("*"):
        if path.is_file() or path.is_symlink():
            rel = path.relative_to(root).as_posix()
            if rel != ANSWERS_FILE:
                out.append(rel)
    return sorted(out)


def same_file(a: Path, b: Path) -> bool:
    if a.is_symlink() or b.is_symlink():
        return a.is_symlink() and b.is_symlink() and a.readlink() == b.readlink()
    return b.is_file() and a.read_bytes() == b.read_bytes()


def python_package(folder: Path) -> bool:
    """A folder that `import` takes for a package: it holds Python files (an `__init__.py` or, namespace, any)."""
    try:
        return folder.is_dir() and not folder.is_symlink() and any(folder.glob("*.py"))
    except OSError:
        return False


def clash(root: Path, rel: str, creating: set[str]) -> str | None:
    """Why creating `rel` would give one import name two meanings, or None. In one folder a module `x.py` and a
    package `x/` are the same `import x` (the package wins, and the module is dead code, or the other way round);
    and the template's `src/<pkg>/` beside the repository's own top-level `<pkg>` is the same package twice (from
    the root, `import <pkg>` finds the top-level one)."""
    path = PurePosixPath(rel)
    if path.suffix == ".py" and python_package(root / path.parent / path.stem):
        return f"{(path.parent / path.stem).as_posix()}/ is your package of that name"
    for folder in list(path.parents)[:-1]:  # the folders on its way that adopt would make, innermost first
        if os.path.lexists(root / folder):
            continue
        module = folder.parent / f"{folder.name}.py"
        new_modules = any(PurePosixPath(other).parent == folder and other.endswith(".py") for other in creating)
        if new_modules and os.path.lexists(root / module):
            return f"{module.as_posix()} is your module, and {folder.as_posix()}/ would be a package of that name"
    group = hydra_group(root, path)
    if group is not None:
        option = f"{group}={path.stem}"
        return f"{path.parent.as_posix()}/ is a config group of your Hydra configuration: it would offer {option}"
    parts = path.parts
    if len(parts) > 2 and parts[0] == "src" and not os.path.lexists(root / "src" / "__init__.py"):
        name = parts[1]
        if python_package(root / name) or os.path.lexists(root / f"{name}.py"):
            mine = f"{name}/" if (root / name).is_dir() else f"{name}.py"
            return f"your top-level {mine} is the same import name as the template's src/{name}/"
    return None


#: A Hydra primary config: a YAML file with a top-level defaults list (`defaults:` then `- data: mnist`, ...).
HYDRA_DEFAULTS = lazy(r"^defaults:[ \t]*(?:#.*)?$", re.MULTILINE)


def hydra_config_root(folder: Path) -> bool:
    """Whether `folder` holds a Hydra primary config (so its subfolders are config groups)."""
    try:
        candidates = [p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()]
        return any(HYDRA_DEFAULTS.search(p.read_text(errors="replace")[:200_000]) for p in candidates)
    except OSError:
        return False


def hydra_group(root: Path, path: PurePosixPath) -> str | None:
    """The Hydra config group a template YAML file would join (`model` for configs/model/wide.yaml), when its
    folder is a group the repository already has below a Hydra config root; else None. The template's LightningCLI
    files there would be offered as options (`model=wide`) that Hydra cannot compose."""
    if path.suffix not in (".yaml", ".yml") or not (root / path.parent).is_dir():
        return None
    for depth in range(1, len(path.parts) - 1):  # the folders above the group, outermost first
        base = PurePosixPath(*path.parts[:depth])
        if hydra_config_root(root / base):
            return path.parent.relative_to(base).as_posix()
    return None


def hydra_roots(root: Path, created: Iterable[str]) -> list[str]:
    """Folders of Hydra configuration that the template's files are created in (beside the user's configs)."""
    folders = {PurePosixPath(rel).parts[0] for rel in created if "/" in rel and rel.endswith((".yaml", ".yml"))}
    return sorted(f for f in folders if (root / f).is_dir() and hydra_config_root(root / f))


def make_plan(root: Path, source: Source, answers: dict[str, Any], scratch: Path) -> Plan:
    plan = Plan(answers)
    full = render(source, answers, scratch / "full")
    missing: list[str] = []
    for rel in rendered_files(full):
        target = root / rel
        if not os.path.lexists(target):
            missing.append(rel)
        elif same_file(full / rel, target):
            plan.identical.append(rel)
        else:
            plan.adopted.append(rel)
    creating = set(missing)
    for rel in missing:
        reason = clash(root, rel, creating)
        if reason is None:
            plan.create.append(rel)
        else:
            plan.clashes[rel] = reason
    final = full
    if plan.excluded:
        final = render(source, {**answers, "adopted_files": plan.excluded}, scratch / "final")
        left = set(rendered_files(final))
        if left != set(plan.create) | set(plan.identical):  # the template's _exclude must leave out what is kept
            kept = sorted(left & set(plan.excluded)) or sorted(left ^ (set(plan.create) | set(plan.identical)))
            ref = f" at {source.ref}" if source.ref else ""
            raise AdoptError(
                f"the template{ref} predates fsdl-check adopt: it does not know adopted_files and would still "
                f"render {kept[0]} over yours (pick a later release with --vcs-ref)"
            )
    plan.rendered = final
    recorded = (final / ANSWERS_FILE).read_text() if (final / ANSWERS_FILE).is_file() else ""
    commit = re.search(r"^_commit:\s*(\S+)", recorded, re.MULTILINE)
    plan.commit = commit[1].strip("'\"") if commit else None
    return plan


# -- refusals -----------------------------------------------------------------------------------------------------


def require_git_work_tree(root: Path) -> None:
    if (git_output(root, "rev-parse", "--is-inside-work-tree") or "").strip() != "true":
        raise AdoptError(f"{root} is not a git work tree: `copier update` works on git repositories only (git init)")


def existing_answers(root: Path) -> str | None:
    for entry in sorted(path.name for path in root.iterdir()):
        if COPIER_ANSWERS_NAME.fullmatch(entry) or entry in (CRUFT_ANSWERS, COOKIECUTTER_ANSWERS):
            return entry
    return None


def uncommitted(root: Path, paths: Iterable[str]) -> list[str]:
    """Which of `paths` git has uncommitted changes to (a tracked file deleted but not committed, say)."""
    wanted = list(paths)
    if not wanted:
        return []
    out = git_output(root, "status", "--porcelain", "-z", "--untracked-files=all", "--", *wanted) or ""
    return sorted(entry[3:] for entry in out.split("\0") if len(entry) > 3)


def check_targets(root: Path, paths: Iterable[str]) -> None:
    """Every file to create lands inside the repository: no folder on its way is a file or a link out of it."""
    real_root = root.resolve()
    for rel in paths:
        parent = (root / rel).parent
        for folder in [parent, *parent.parents]:
            if folder == root or not folder.is_relative_to(root):
                break
            if os.path.lexists(folder) and not folder.is_dir():
                raise AdoptError(f"cannot create {rel}: {folder.relative_to(root)} is a file, not a folder")
        if os.path.lexists(parent) and not parent.resolve().is_relative_to(real_root):
            raise AdoptError(f"cannot create {rel}: {parent.relative_to(root)} links out of the repository")


# -- the command --------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description=(
            "Adopt the fsdl-stack template in an existing git repository: infer the template's answers from it, "
            "write .copier-answers.yml and render only the template files it lacks, so that `copier update` works "
            "from then on. No existing file is changed; files you already have are listed under adopted_files and "
            "never rendered by later updates."
        ),
        epilog="Exit status: 0 adopted (or planned, with --dry-run), 2 refused or failed. Needs fsdl-check[adopt].",
        allow_abbrev=False,
    )
    parser.add_argument("path", nargs="?", default=".", help="the repository (default: the current directory)")
    parser.add_argument(
        "--template",
        metavar="SRC",
        help="the fsdl-stack template: a git URL, gh:OWNER/REPO or a local clone (default: where this fsdl-check "
        "was installed from, when that is the template's repository)",
    )
    parser.add_argument("--vcs-ref", metavar="REF", help="the template's git tag, branch or commit (default: Copier's)")
    parser.add_argument("--dry-run", action="store_true", help="print the answers and the plan, write nothing")
    parser.add_argument(
        "-d",
        "--data",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override an inferred answer (repeatable), e.g. -d ci=github",
    )
    return parser


def overrides(items: Sequence[str]) -> dict[str, str]:
    """-d key=value pairs; values stay strings (Copier casts them by the question's type, as its own -d does)."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise AdoptError(f"-d {item!r}: expected KEY=VALUE")
        if key not in QUESTIONS:
            raise AdoptError(f"-d {key}: not a question of the template (one of {', '.join(QUESTIONS)})")
        out[key] = value
    return out


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _run(build_parser().parse_args(argv))
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    except AdoptError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return _fail("interrupted")
    except Exception as exc:  # a bug here: still one line
        return _fail(f"internal error: {type(exc).__name__}: {exc}")


def _fail(message: str) -> int:
    print(f"{PROG}: error: {' '.join(display(message).split())}", file=sys.stderr)
    return EXIT_ERROR


def _run(args: argparse.Namespace) -> int:
    root = Path(args.path).resolve()
    if not root.is_dir():
        raise AdoptError(f"{args.path}: not a directory")
    given = overrides(args.data)
    require_git_work_tree(root)
    if (found := existing_answers(root)) is not None:
        raise AdoptError(f"{found} exists: the repository already records a template (run `copier update` instead)")
    try:
        import copier  # noqa: F401  (the renderer; an optional dependency)
    except ImportError:
        raise AdoptError("copier is not installed: install fsdl-check[adopt]") from None
    source = resolve_source(args.template, args.vcs_ref)
    inferred = infer(Repo(root))
    answers: dict[str, Any] = {name: answer.value for name, answer in inferred.items()}
    answers.update(given)
    with tempfile.TemporaryDirectory(prefix="fsdl-adopt-") as scratch:
        plan = make_plan(root, source, answers, Path(scratch))
        dirty = uncommitted(root, [*plan.create, ANSWERS_FILE])
        if dirty:
            raise AdoptError(f"uncommitted changes to {dirty[0]}, which adopt would create: commit or restore it first")
        check_targets(root, [*plan.create, ANSWERS_FILE])
        _print_plan(root, source, inferred, given, plan, args.dry_run)
        if args.dry_run:
            return EXIT_OK
        assert plan.rendered is not None
        written = [write_new(plan.rendered, root, rel) for rel in [*plan.create, ANSWERS_FILE]]
    say(f"\nWrote {len(written)} new files. Review and commit them:")
    say(f'  git add {ANSWERS_FILE} {" ".join(_top_level(plan.create))} && git commit -m "Adopt fsdl-stack"')
    say("Then `copier update --defaults` brings in later template releases.")
    return EXIT_OK


def write_new(rendered: Path, root: Path, rel: str) -> str:
    """Copy one rendered file in; the exclusive create fails rather than write over anything that appeared."""
    source, target = rendered / rel, root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_symlink():
        target.symlink_to(source.readlink())
        return rel
    with source.open("rb") as src, target.open("xb") as dst:
        shutil.copyfileobj(src, dst)
    shutil.copymode(source, target)
    return rel


def _top_level(paths: Iterable[str]) -> list[str]:
    return sorted({p.split("/")[0] for p in paths})


def _print_plan(
    root: Path,
    source: Source,
    inferred: dict[str, Answer],
    given: dict[str, str],
    plan: Plan,
    dry_run: bool,
) -> None:
    ref = f" at {plan.commit}" if plan.commit else ""
    say(f"{'Plan: adopt' if dry_run else 'Adopting'} {root} from {source.url}{ref} ({source.evidence})")
    say("\nAnswers (inferred from the repository; override with -d KEY=VALUE):")
    width = max(map(len, QUESTIONS))
    for name, answer in inferred.items():
        if name in given:
            say(f"  {name:<{width}}  {given[name]!r:<22} -d {name}= (inferred {answer.value!r}: {answer.evidence})")
        else:
            say(f"  {name:<{width}}  {answer.value!r:<22} {answer.evidence}")
    sections: list[tuple[str, list[str], Callable[[str], str]]] = [
        ("create", plan.create, lambda rel: ""),
        ("keep", plan.adopted, lambda rel: "  (yours; listed under adopted_files, never rendered by updates)"),
        ("same", plan.identical, lambda rel: "  (already the template's)"),
        ("skip", sorted(plan.clashes), lambda rel: f"  (not created: {plan.clashes[rel]}; listed under adopted_files)"),
    ]
    counts = f"{len(plan.create) + 1} to create, {len(plan.adopted)} kept as yours, {len(plan.identical)} same"
    skipped = f", {len(plan.clashes)} not created (a name clash)" if plan.clashes else ""
    say(f"\nFiles ({counts}{skipped}):")
    for label, paths, note in sections:
        for rel in paths:
            say(f"  {label:<6}  {rel}{note(rel)}")
    say(f"  {'create':<6}  {ANSWERS_FILE}  (the answers, _src_path and _commit for `copier update`)")
    for created, used in runs_kept_files(plan):
        for rel in used:
            if rel in plan.clashes:
                say(
                    f"\nWarning: the template's {created} runs {rel}, which is not created here: the targets that "
                    "run it fail until the name is free and the path is taken off adopted_files."
                )
            else:
                say(
                    f"\nWarning: the template's {created} runs {rel}, which stays yours here: the targets that run "
                    "it run your file. Rename yours and take the path off adopted_files to get the template's."
                )
    for folder in hydra_roots(root, plan.create):
        slug = plan.answers.get("project_slug", "<slug>")
        say(
            f"\nNote: {folder}/ holds your Hydra configuration; the template's LightningCLI configs are created beside "
            f"it ({slug}-train --config {folder}/default.yaml reads them; Hydra composes only what its defaults "
            "lists name), and none goes into one of your config groups."
        )
    modules = sorted(rel for rel, why in plan.clashes.items() if "Hydra" not in why)
    if modules:
        say(
            f"\nNot created, to keep each import name one thing: {', '.join(modules)}. The template's "
            "other files may import them; take a path off adopted_files once the name is free."
        )


def runs_kept_files(plan: Plan) -> list[tuple[str, list[str]]]:
    """(created file, kept paths it names) for the template's task files that call a file the user keeps, such as
    a Makefile whose `setup` runs `tools/environment.py` where the repository has a script of that name."""
    if plan.rendered is None:
        return []
    out: list[tuple[str, list[str]]] = []
    for created in ("Makefile", ".pre-commit-config.yaml"):
        if created in plan.create and (plan.rendered / created).is_file():
            text = (plan.rendered / created).read_text()
            used = [rel for rel in plan.excluded if "/" in rel and rel.endswith(".py") and rel in text]
            if used:
                out.append((created, used))
    return out


def say(line: str = "") -> None:
    """One line of output. A reader that goes away (`fsdl-check adopt | head -1`) ends the output, not the
    command: stdout is silenced as `fsdl-check` silences it, adopt finishes and exits with its own status."""
    try:
        sys.stdout.write(f"{line}\n")
        sys.stdout.flush()
    except BrokenPipeError:
        from fsdl_check.cli import silence_closed_stdout

        silence_closed_stdout()
