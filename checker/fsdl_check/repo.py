"""A read-only view of a repository: its files, listed once, and each input parsed at most once, on first use.

Nothing here imports, executes or builds the audited code. Files are listed with `git ls-files` in a git work tree
(tracked plus untracked-but-not-ignored), otherwise by a walk that honours `.gitignore`. Symbolic links are listed
but never read or followed, and files over the size cap or with NUL bytes are never read as text.
"""

from __future__ import annotations

import configparser
import os
import stat
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import TypeVar

import pathspec

from fsdl_check.model import ProjectKind
from fsdl_check.parsing.notebook import Notebook, parse_notebook
from fsdl_check.parsing.python import PythonModule
from fsdl_check.parsing.requirements import RequirementsFile, parse_requirements
from fsdl_check.parsing.tomlfile import TomlDoc, parse_toml
from fsdl_check.parsing.workflow import Workflow
from fsdl_check.parsing.yamlfile import YamlDoc, parse_yaml

# Directories a walk never enters (a git listing already leaves them out through .gitignore).
SKIP_DIRS = {
    ".git", ".hg", ".svn", "__pycache__", "node_modules", ".venv", "venv", ".tox", ".nox", ".mypy_cache",
    ".ruff_cache", ".pytest_cache", ".ipynb_checkpoints", ".eggs",
}  # fmt: skip
BINARY_SNIFF = 8192
T = TypeVar("T")


@dataclass(frozen=True)
class Options:
    """Thresholds that shape what the repository view reads and what rules flag."""

    large_file_mb: float = 10.0
    max_read_bytes: int = 5_000_000
    project_kind: ProjectKind | None = None  # None: detect
    type_hint_share: float = 0.8
    exclude: tuple[str, ...] = ()  # gitwildmatch patterns of paths the audit leaves out entirely


@dataclass(frozen=True)
class RepoFile:
    path: str  # POSIX, relative to the root
    size: int
    tracked: bool  # in the git index (False for untracked files and for walks without git)
    symlink: bool = False

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.path).suffix.lower()


@dataclass(frozen=True)
class ParseError:
    path: str
    line: int | None
    message: str


@dataclass(frozen=True)
class PreCommitHook:
    repo: str
    id: str
    line: int
    entry: str = ""


class Repo:
    def __init__(self, root: str | os.PathLike[str], options: Options | None = None) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise NotADirectoryError(f"not a directory: {root}")
        self.options = options or Options()
        self._text: dict[str, str | None] = {}

    # -- listing --------------------------------------------------------------------------------------------------
    @cached_property
    def git(self) -> bool:
        """Whether the files came from git (the root is a git work tree and `git ls-files` answered)."""
        return self._git_listing is not None

    @cached_property
    def _git_listing(self) -> tuple[set[str], set[str]] | None:
        if not (self.root / ".git").exists():
            return None
        try:

            def ls(*args: str) -> set[str]:
                out = subprocess.run(
                    ["git", "-c", "core.quotepath=off", "-C", str(self.root), "ls-files", "-z", *args],
                    capture_output=True, check=True, timeout=60,
                ).stdout  # fmt: skip
                return {os.fsdecode(p) for p in out.split(b"\0") if p}

            return ls("--cached"), ls("--others", "--exclude-standard")
        except (OSError, subprocess.SubprocessError):
            return None

    @cached_property
    def files(self) -> list[RepoFile]:
        """Every file, sorted by path (computed once)."""
        listing = self._git_listing
        if listing is not None:
            tracked, untracked = listing
            candidates: Iterable[tuple[str, bool]] = [(p, True) for p in tracked] + [
                (p, False) for p in untracked - tracked
            ]
        else:
            candidates = ((p, False) for p in self._walk())
        result = []
        for rel, is_tracked in candidates:
            try:
                st = os.lstat(self.root / rel)
            except (OSError, ValueError):
                continue  # in the index but gone from disk, or an unrepresentable name
            if stat.S_ISLNK(st.st_mode):
                result.append(RepoFile(rel, 0, is_tracked, symlink=True))
            elif stat.S_ISREG(st.st_mode):
                result.append(RepoFile(rel, st.st_size, is_tracked))
        if self.options.exclude:
            excluded = pathspec.GitIgnoreSpec.from_lines(self.options.exclude)
            result = [f for f in result if not excluded.match_file(f.path)]
        return sorted(result, key=lambda f: f.path)

    def _walk(self) -> Iterable[str]:
        specs: list[tuple[str, pathspec.GitIgnoreSpec]] = []  # (directory prefix, its .gitignore)
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            rel_dir = os.path.relpath(dirpath, self.root)
            prefix = "" if rel_dir == "." else PurePosixPath(Path(rel_dir)).as_posix() + "/"
            if ".gitignore" in filenames:
                try:
                    lines = (Path(dirpath) / ".gitignore").read_text(errors="replace").splitlines()
                    specs.append((prefix, pathspec.GitIgnoreSpec.from_lines(lines)))
                except OSError:
                    pass

            def ignored(rel: str, is_dir: bool) -> bool:
                probe = rel + "/" if is_dir else rel
                return any(probe.startswith(p) and s.match_file(probe[len(p) :]) for p, s in specs)

            keep = []
            for d in sorted(dirnames):
                full = Path(dirpath) / d
                if d in SKIP_DIRS or full.is_symlink() or (full / "pyvenv.cfg").exists() or ignored(prefix + d, True):
                    continue
                keep.append(d)
            dirnames[:] = keep
            for f in filenames:
                if not ignored(prefix + f, False):
                    yield prefix + f

    @cached_property
    def paths(self) -> frozenset[str]:
        return frozenset(f.path for f in self.files)

    def has(self, *paths: str) -> str | None:
        """The first of `paths` that exists as a file, else None."""
        return next((p for p in paths if p in self.paths), None)

    def glob(self, *patterns: str) -> list[RepoFile]:
        """Files matching gitwildmatch `patterns` (``*.py``, ``.github/workflows/*.yml``, ``**/Dockerfile*``)."""
        spec = pathspec.GitIgnoreSpec.from_lines(patterns)
        return [f for f in self.files if spec.match_file(f.path)]

    # -- reading --------------------------------------------------------------------------------------------------
    def text(self, path: str) -> str | None:
        """The file's text, or None when it is missing, a link, binary or over the size cap (read once)."""
        if path not in self._text:
            self._text[path] = self._read(path)
        return self._text[path]

    def _read(self, path: str) -> str | None:
        full = self.root / path
        try:
            st = os.lstat(full)
            if not stat.S_ISREG(st.st_mode) or st.st_size > self.options.max_read_bytes:
                return None
            with open(full, "rb") as fh:
                data = fh.read(self.options.max_read_bytes + 1)
        except (OSError, ValueError):
            return None
        if b"\0" in data[:BINARY_SNIFF]:
            return None
        return data.decode("utf-8", errors="replace")

    def _parse_all(self, patterns: list[str], parse: Callable[[str, str], T]) -> list[T]:
        out: list[T] = []
        for f in self.glob(*patterns):
            if f.symlink:
                continue
            text = self.text(f.path)
            if text is not None:
                out.append(parse(f.path, text))
        return out

    # -- parsed inputs (fixtures: rules name these as `check` parameters) ---------------------------------------
    @cached_property
    def pyproject(self) -> TomlDoc | None:
        text = self.text("pyproject.toml")
        return parse_toml("pyproject.toml", text) if text is not None else None

    @cached_property
    def setup_cfg(self) -> configparser.ConfigParser | None:
        text = self.text("setup.cfg")
        if text is None:
            return None
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read_string(text)
        except configparser.Error:
            return None
        return parser

    @cached_property
    def requirements(self) -> list[RequirementsFile]:
        return self._parse_all(
            ["requirements*.txt", "requirements/*.txt", "requirements*.in", "requirements/*.in"], parse_requirements
        )

    @cached_property
    def python(self) -> list[PythonModule]:
        return self._parse_all(["*.py"], PythonModule)

    @cached_property
    def notebooks(self) -> list[Notebook]:
        return self._parse_all(["*.ipynb"], parse_notebook)

    @cached_property
    def yaml_files(self) -> list[YamlDoc]:
        return self._parse_all(["*.yml", "*.yaml"], parse_yaml)

    def yaml(self, path: str) -> YamlDoc | None:
        return next((d for d in self.yaml_files if d.path == path), None)

    @cached_property
    def toml_files(self) -> list[TomlDoc]:
        others: list[TomlDoc] = self._parse_all(["*.toml", "!/pyproject.toml"], parse_toml)
        return ([self.pyproject] if self.pyproject else []) + others

    @cached_property
    def precommit(self) -> YamlDoc | None:
        path = self.has(".pre-commit-config.yaml", ".pre-commit-config.yml")
        return self.yaml(path) if path else None

    @cached_property
    def precommit_hooks(self) -> list[PreCommitHook]:
        doc = self.precommit
        data = doc.first if doc else None
        hooks: list[PreCommitHook] = []
        repos = data.get("repos") if isinstance(data, dict) else None
        for repo in repos if isinstance(repos, list) else []:
            if not isinstance(repo, dict):
                continue
            for hook in repo.get("hooks") or []:
                if isinstance(hook, dict) and hook.get("id"):
                    hooks.append(
                        PreCommitHook(
                            str(repo.get("repo", "")),
                            str(hook["id"]),
                            getattr(hook, "line", 1),
                            str(hook.get("entry", "")),
                        )
                    )
        return hooks

    @cached_property
    def workflows(self) -> list[Workflow]:
        out = [Workflow(d.path, "github", d) for d in self.yaml_files if d.path.startswith(".github/workflows/")]
        gitlab = self.yaml(".gitlab-ci.yml") or self.yaml(".gitlab-ci.yaml")
        if gitlab:
            out.append(Workflow(gitlab.path, "gitlab", gitlab))
        return out

    @cached_property
    def gitignore(self) -> pathspec.GitIgnoreSpec:
        """The root `.gitignore` (empty when there is none)."""
        return pathspec.GitIgnoreSpec.from_lines((self.text(".gitignore") or "").splitlines())

    def ignores(self, path: str) -> bool:
        """Whether the root .gitignore ignores `path` (give directories a trailing slash)."""
        return self.gitignore.match_file(path)

    @cached_property
    def parse_errors(self) -> list[ParseError]:
        """Every input that failed to parse, across all parsers that were or can be used."""
        errors: list[ParseError] = []
        docs: list[TomlDoc | YamlDoc | Notebook] = [*self.toml_files, *self.yaml_files, *self.notebooks]
        for doc in docs:
            text = doc.text if not isinstance(doc, Notebook) else ""
            if doc.error and not ("{{" in text or "{%" in text):  # a Jinja/Helm template, not data
                errors.append(ParseError(doc.path, doc.error_line, doc.error))
        return errors

    @cached_property
    def kind(self) -> ProjectKind:
        if self.options.project_kind is not None:
            return self.options.project_kind
        from fsdl_check.kind import detect_kind

        return detect_kind(self)
