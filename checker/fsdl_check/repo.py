"""A read-only view of a repository: its files, listed once, and each input parsed at most once, on first use.

Nothing here imports, executes or builds the audited code. Files are listed with `git ls-files` in a git work tree
(tracked plus untracked-but-not-ignored), otherwise by a walk that honours `.gitignore`. Symbolic links are listed
but never read or followed, and files over the size cap or with NUL bytes are never read as text.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, TypeVar

from fsdl_check.model import ProjectKind
from fsdl_check.regex import lazy

# The parsers are imported by the properties that use them: listing a repository needs none of them, and an audit
# answered from the report cache (`fsdl_check.report_cache`) lists the files and reads nothing else.
if TYPE_CHECKING:
    import configparser

    from pathspec import GitIgnoreSpec

    from fsdl_check.cache import FactCache
    from fsdl_check.kind import EntryPoint
    from fsdl_check.parsing.dockerfile import Dockerfile
    from fsdl_check.parsing.kubernetes import Manifests
    from fsdl_check.parsing.notebook import Notebook
    from fsdl_check.parsing.python import PythonModule
    from fsdl_check.parsing.requirements import RequirementsFile
    from fsdl_check.parsing.sbatch import SbatchScript
    from fsdl_check.parsing.sweeps import Sweep
    from fsdl_check.parsing.tomlfile import TomlDoc
    from fsdl_check.parsing.workflow import Workflow
    from fsdl_check.parsing.yamlfile import YamlDoc

# Directories a walk never enters (a git listing already leaves them out through .gitignore).
SKIP_DIRS = {
    ".git", ".hg", ".svn", "__pycache__", "node_modules", ".venv", "venv", ".tox", ".nox", ".mypy_cache",
    ".ruff_cache", ".pytest_cache", ".ipynb_checkpoints", ".eggs",
}  # fmt: skip
BINARY_SNIFF = 8192
# Environment variables that would make `git -C root` describe another repository, index or object store.
GIT_LOCATION_VARIABLES = {
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_PREFIX",
}  # fmt: skip
T = TypeVar("T")


def gitignore_spec(lines: Iterable[str]) -> GitIgnoreSpec:
    """Gitignore-style patterns compiled, leaving out any line pathspec cannot read (`\\`, `!`, `[z-a]`), as git does.

    Use it for patterns that come from the audited repository (.gitignore, .gitattributes, configuration).
    """
    from pathspec import GitIgnoreSpec  # imported on first use: a warm audit from the report cache needs none

    patterns = list(lines)
    try:
        return GitIgnoreSpec.from_lines(patterns)
    except (ValueError, re.error):  # pathspec's GitIgnorePatternError; a bad range such as `[z-a]`
        return GitIgnoreSpec.from_lines([p for p in patterns if valid_pattern(p)])


def valid_pattern(pattern: str) -> bool:
    """Whether pathspec accepts `pattern` (a lone `\\` or `/` is not a pattern; git ignores such lines too)."""
    from pathspec import GitIgnoreSpec

    try:
        GitIgnoreSpec.from_lines([pattern])
    except (ValueError, re.error):
        return False
    return True


def _read_regular(path: Path, limit: int, problems: dict[str, str] | None = None, rel: str = "") -> str | None:
    """Text of a regular file (not a link, FIFO or device) of at most `limit` bytes without NULs, else None.

    Why a regular file could not be read (an OS error such as permission denied, or the size cap) is recorded in
    `problems` under `rel`, when given; binary files are not a problem, just not text.
    """
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):
            return None
        if st.st_size > limit:
            if problems is not None:
                problems[rel] = f"not read: {st.st_size / 1e6:.1f} MB is over the {limit / 1e6:g} MB read limit"
            return None
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except ValueError:
        return None
    except OSError as exc:
        if problems is not None:
            problems[rel] = f"cannot read: {exc.strerror or exc}"
        return None
    if len(data) > limit or b"\0" in data[:BINARY_SNIFF]:
        return None
    return data.decode("utf-8", errors="replace")


def _git_unreadable_directories(stderr: bytes) -> dict[str, str]:
    """Directories `git ls-files --others` could not open, from its warnings, with the reason."""
    found = {}
    for line in os.fsdecode(stderr).splitlines():
        match = _GIT_CANNOT_OPEN.match(line)
        if match:
            found[match["path"].rstrip("/")] = f"cannot list directory: {match['reason']}"
    return found


_GIT_CANNOT_OPEN = lazy(r"^warning: could not open directory '(?P<path>[^']+)': (?P<reason>.+)$")


class UnreadableRoot(OSError):
    """The directory to audit cannot be listed, or is not a working tree (a bare git repository)."""


def check_root(root: Path) -> None:
    """Raise `UnreadableRoot` (a one-line message) when `root` cannot be audited: it cannot be listed or entered
    (mode 000, or 711: enterable but not listable), or it is a bare git repository, which has no files to audit."""
    try:
        with os.scandir(root) as entries:
            names = {entry.name for entry in entries}
        if names:  # listing needs read permission, looking at what is listed needs search (x) permission
            os.lstat(root / next(iter(names)))
    except OSError as exc:
        raise UnreadableRoot(f"cannot list the files of {root}: {exc.strerror or exc}") from None
    if ".git" not in names and {"HEAD", "config", "objects", "refs"} <= names and (root / "objects").is_dir():
        raise UnreadableRoot(f"{root} is a bare git repository (no working tree); audit a clone or worktree of it")


def _inside(rel: str) -> bool:
    """Whether a listed path names a place inside the root: relative, no `..`, `.` or empty component, no `.git`.

    git writes no such entry, but an index is a file anyone can hand-build, and `root / "../outside/x"` or
    `root / "/etc/passwd"` would leave the root.
    """
    if not rel or rel.startswith("/"):
        return False
    if sys.platform == "win32" and ("\\" in rel or ":" in rel):
        return False  # a drive, a stream or a backslash, which Windows reads as a separator
    return all(part not in ("", ".", "..") and part.lower() != ".git" for part in rel.split("/"))


def git_executable(root: Path) -> str | None:
    """git found on PATH, never in the audited repository or the current directory (Windows looks there first,
    so a committed `git.exe` would run); None when there is no git."""
    unsafe = {Path(root).resolve()}
    with contextlib.suppress(OSError):  # the current directory may have been removed: nothing to exclude then
        unsafe.add(Path.cwd().resolve())
    directories = []
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if not entry or entry == ".":
            continue  # an empty PATH entry means the current directory
        try:
            resolved = Path(entry).resolve()
        except (OSError, RuntimeError, ValueError):
            continue
        if resolved in unsafe or resolved.is_relative_to(Path(root).resolve()):
            continue
        directories.append(str(resolved))
    if not directories:
        return None
    # shutil.which on an explicit path list; on Windows it would also try the current directory unless told not to.
    found = shutil.which("git", path=os.pathsep.join(directories))
    if found is None or (sys.platform == "win32" and Path(found).resolve().parent in unsafe):
        return None
    return found


def _under_real_directories(root: Path, rel: str, memo: dict[str, bool]) -> bool:
    """Whether every directory above `rel` is a real directory inside `root` (no link on the way); memoized."""
    unknown = []
    parent = rel.rpartition("/")[0]
    while parent not in memo:  # memo always holds "" (the root)
        unknown.append(parent)
        parent = parent.rpartition("/")[0]
    for directory in reversed(unknown):  # from the top down
        try:
            real = memo[parent] and stat.S_ISDIR(os.lstat(root / directory).st_mode)
        except (OSError, ValueError):
            real = False
        memo[directory] = real
        parent = directory
    return memo[rel.rpartition("/")[0]]


def _without_virtualenvs(paths: set[str]) -> set[str]:
    """Drop untracked files inside a virtual environment (a directory holding `pyvenv.cfg`), whatever its name."""
    venvs = tuple(p[: -len("pyvenv.cfg")] for p in paths if p == "pyvenv.cfg" or p.endswith("/pyvenv.cfg"))
    if not venvs:
        return paths
    return {p for p in paths if not p.startswith(venvs)}


@dataclass(frozen=True)
class Options:
    """Thresholds that shape what the repository view reads and what rules flag."""

    large_file_mb: float = 10.0
    max_read_bytes: int = 5_000_000
    project_kind: ProjectKind | None = None  # None: detect
    type_hint_share: float = 0.8
    exclude: tuple[str, ...] = ()  # gitwildmatch patterns of paths the audit leaves out entirely
    facts_cache: FactCache | None = field(default=None, compare=False)  # None: every Python module is parsed


@dataclass(frozen=True)
class RepoFile:
    path: str  # POSIX, relative to the root
    size: int
    tracked: bool  # in the git index (False for untracked files and for walks without git)
    symlink: bool = False
    #: `lstat`'s (modification ns, inode change ns, inode, mode) at listing: how the report cache tells a change.
    stamp: tuple[int, ...] = field(default=(), repr=False, compare=False)
    #: The last path component, and its lower-case extension with the dot as `PurePosixPath.suffix` gives it:
    #: computed once, by string operations (rules ask for them on every file, many times over).
    name: str = field(init=False, repr=False, compare=False)
    suffix: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        name = self.path.rsplit("/", 1)[-1]
        dot = name.rfind(".")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "suffix", name[dot:].lower() if 0 < dot < len(name) - 1 else "")


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
        check_root(self.root)
        self.options = options or Options()
        self._text: dict[str, str | None] = {}
        self._globbed: dict[tuple[str, ...], list[RepoFile]] = {}
        #: Listed files and directories that could not be read (path -> why), as the audit found them.
        self.unreadable: dict[str, str] = {}

    # -- listing --------------------------------------------------------------------------------------------------
    @cached_property
    def git(self) -> bool:
        """Whether the files came from git (the root is a git work tree and `git ls-files` answered)."""
        return self._git_listing is not None

    @cached_property
    def _git_listing(self) -> tuple[set[str], set[str]] | None:
        if not (self.root / ".git").exists():
            return None
        # The audited repository's own git config must not run anything: core.fsmonitor names a command that
        # `git ls-files` would execute. Variables that point git at another repository or index are dropped.
        git = git_executable(self.root)
        if git is None:
            return None
        command = [git, "-c", "core.fsmonitor=false", "-c", "core.quotepath=off", "-C", str(self.root), "ls-files"]
        env = {k: v for k, v in os.environ.items() if k not in GIT_LOCATION_VARIABLES}
        try:

            def ls(*args: str) -> set[str]:
                done = subprocess.run([*command, "-z", *args], capture_output=True, check=True, timeout=60, env=env)
                self.unreadable.update(_git_unreadable_directories(done.stderr))
                return {os.fsdecode(p) for p in done.stdout.split(b"\0") if p}

            tracked = ls("--cached")
            untracked = ls("--others", "--exclude-standard", *(f"--exclude={d}/" for d in sorted(SKIP_DIRS)))
        except (OSError, subprocess.SubprocessError):
            return None
        return tracked, _without_virtualenvs(untracked - tracked)

    @cached_property
    def files(self) -> list[RepoFile]:
        """Every file, sorted by path (computed once)."""
        listing = self._git_listing
        if listing is not None:
            tracked, untracked = listing
            candidates: Iterable[tuple[str, bool]] = [(p, True) for p in tracked] + [(p, False) for p in untracked]
        else:
            candidates = ((p, False) for p in self._walk())
        real_dirs: dict[str, bool] = {"": True}
        result = []
        root = f"{self.root}{os.sep}"  # joined as strings: a `Path` per file costs more than its `lstat`
        for rel, is_tracked in candidates:
            if not _inside(rel):
                continue  # a hand-built index entry that names a path outside the root (`../x`, `/etc/x`)
            if not _under_real_directories(self.root, rel, real_dirs):
                continue  # the index names a path below a directory that is now a link: never look through it
            try:
                st = os.lstat(root + rel)
            except (OSError, ValueError):
                continue  # in the index but gone from disk, or an unrepresentable name
            stamp = (st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                result.append(RepoFile(rel, 0, is_tracked, symlink=True, stamp=stamp))
            elif stat.S_ISREG(st.st_mode):
                result.append(RepoFile(rel, st.st_size, is_tracked, stamp=stamp))
        if self.options.exclude:
            excluded = gitignore_spec(self.options.exclude)
            result = [f for f in result if not excluded.match_file(f.path)]
        return sorted(result, key=lambda f: f.path)

    def _walk(self) -> Iterable[str]:
        specs: list[tuple[str, GitIgnoreSpec]] = []  # (directory prefix, its .gitignore)

        def cannot_list(error: OSError) -> None:  # an unreadable directory is reported, and the walk goes on
            where = os.path.relpath(error.filename, self.root) if error.filename else "."
            self.unreadable[PurePosixPath(Path(where)).as_posix()] = f"cannot list directory: {error.strerror or error}"

        for dirpath, dirnames, filenames in os.walk(self.root, onerror=cannot_list, followlinks=False):
            rel_dir = os.path.relpath(dirpath, self.root)
            prefix = "" if rel_dir == "." else PurePosixPath(Path(rel_dir)).as_posix() + "/"
            if ".gitignore" in filenames:
                lines = _read_regular(Path(dirpath) / ".gitignore", self.options.max_read_bytes)
                if lines is not None:
                    specs.append((prefix, gitignore_spec(lines.splitlines())))

            def ignored(rel: str, is_dir: bool) -> bool:
                probe = rel + "/" if is_dir else rel
                return any(probe.startswith(p) and s.match_file(probe[len(p) :]) for p, s in specs)

            keep = []
            for d in sorted(dirnames):
                full = Path(dirpath) / d
                # os.path.islink and lexists, not Path's: a directory that cannot be entered raises no PermissionError
                if os.path.islink(full):  # noqa: PTH114 - listed like git lists it (a link), never entered
                    if not ignored(prefix + d, False):
                        yield prefix + d
                    continue
                if d in SKIP_DIRS or os.path.lexists(full / "pyvenv.cfg") or ignored(prefix + d, True):
                    continue
                keep.append(d)
            dirnames[:] = keep
            for f in filenames:
                if f != ".git" and not ignored(prefix + f, False):  # a `.git` file points at a worktree's git dir
                    yield prefix + f

    @cached_property
    def paths(self) -> frozenset[str]:
        return frozenset(f.path for f in self.files)

    def has(self, *paths: str) -> str | None:
        """The first of `paths` that exists as a file, else None."""
        return next((p for p in paths if p in self.paths), None)

    def glob(self, *patterns: str) -> list[RepoFile]:
        """Files matching gitwildmatch `patterns` (``*.py``, ``.github/workflows/*.yml``, ``**/Dockerfile*``).
        Remembered: rules ask the same patterns more than once, and matching every file costs milliseconds."""
        if patterns not in self._globbed:
            from pathspec import GitIgnoreSpec

            spec = GitIgnoreSpec.from_lines(patterns)
            self._globbed[patterns] = [f for f in self.files if spec.match_file(f.path)]
        return list(self._globbed[patterns])

    # -- reading --------------------------------------------------------------------------------------------------
    def text(self, path: str) -> str | None:
        """The file's text, or None when it is not listed, a link, binary or over the size cap (read once).

        Only listed files are read, so a path with `..`, an absolute path, an ignored or excluded file reads as None.
        """
        if path not in self._text:
            self._text[path] = (
                _read_regular(self.root / path, self.options.max_read_bytes, self.unreadable, path)
                if path in self.paths
                else None
            )
        return self._text[path]

    def _parse_all(
        self,
        suffixes: tuple[str, ...],
        parse: Callable[[str, str], T],
        name_prefix: str = "",
        where: Callable[[RepoFile], bool] | None = None,
    ) -> list[T]:
        """Parse every readable file with one of `suffixes` (whose name starts with `name_prefix`, if given, and
        for which `where` holds, if given)."""
        out: list[T] = []
        for f in self.files:
            if f.symlink or f.suffix not in suffixes or not f.name.startswith(name_prefix):
                continue
            if where is not None and not where(f):
                continue
            text = self.text(f.path)
            if text is not None:
                out.append(parse(f.path, text))
        return out

    # -- parsed inputs (fixtures: rules name these as `check` parameters) ---------------------------------------
    @cached_property
    def pyproject(self) -> TomlDoc | None:
        from fsdl_check.parsing.tomlfile import TomlDoc, parse_toml

        text = self.text("pyproject.toml")
        if text is None and "pyproject.toml" in self.unreadable:  # there, but unreadable: not "no pyproject.toml"
            return TomlDoc("pyproject.toml", "", {}, self.unreadable["pyproject.toml"], None)
        return parse_toml("pyproject.toml", text) if text is not None else None

    @cached_property
    def setup_cfg(self) -> configparser.ConfigParser | None:
        text = self.text("setup.cfg")
        if text is None:
            return None
        import configparser  # here: most repositories have no setup.cfg

        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read_string(text)
        except configparser.Error:
            return None
        return parser

    @cached_property
    def requirements(self) -> list[RequirementsFile]:
        from fsdl_check.parsing.requirements import parse_requirements

        # requirements*.txt anywhere, and any .txt/.in directly inside a requirements/ folder
        return self._parse_all(
            (".txt", ".in"),
            parse_requirements,
            where=lambda f: f.name.startswith("requirements") or f.path.endswith(f"requirements/{f.name}"),
        )

    @cached_property
    def python(self) -> list[PythonModule]:
        from fsdl_check.kind import is_auxiliary

        paths = [f.path for f in self.files if not f.symlink and f.suffix == ".py"]
        sources = [(path, text) for path in paths if (text := self.text(path)) is not None]
        # Tests, documentation and examples: few rules look into them, so their facts are gathered on first use.
        lazy = frozenset(path for path in paths if is_auxiliary(path))
        if self.options.facts_cache is None:
            from fsdl_check.parsing.parallel import parse_modules

            return parse_modules(sources, lazy)  # on several cores when there is much to parse
        from fsdl_check.cache import parse_cached

        return parse_cached(sources, self.options.facts_cache, lazy)  # known modules come from the fact cache

    @cached_property
    def notebooks(self) -> list[Notebook]:
        from fsdl_check.parsing.notebook import parse_notebook

        return self._parse_all((".ipynb",), parse_notebook)

    @cached_property
    def dockerfiles(self) -> list[Dockerfile]:
        """`Dockerfile`, `Dockerfile.*`, `*.Dockerfile`, `Containerfile`, ... anywhere (see `is_dockerfile_name`)."""
        from fsdl_check.parsing.dockerfile import is_dockerfile_name, parse_dockerfile

        out = []
        for f in self.files:
            if not f.symlink and is_dockerfile_name(f.name) and (text := self.text(f.path)) is not None:
                out.append(parse_dockerfile(f.path, text))
        return out

    @cached_property
    def sbatch_scripts(self) -> list[SbatchScript]:
        """SLURM batch scripts: files of any name but documentation, code and data (`.sh`, `.sbatch`, `.slurm`, none)
        whose leading comment block has `#SBATCH` lines (see `parsing.sbatch`)."""
        from fsdl_check.parsing.sbatch import has_directives, is_candidate, parse_sbatch

        out = []
        for f in self.files:
            if f.symlink or not is_candidate(f.name, f.suffix):
                continue
            text = self.text(f.path)
            if text is not None and has_directives(text):
                out.append(parse_sbatch(f.path, text))
        return out

    @cached_property
    def kubernetes(self) -> Manifests:
        """Kubernetes objects and kustomizations from the YAML files (see `parsing.kubernetes`)."""
        from fsdl_check.parsing.kubernetes import read_manifests

        charts = [p.rpartition("/")[0] for p in self.paths if p == "Chart.yaml" or p.endswith("/Chart.yaml")]
        return read_manifests(self.yaml_files, charts)

    @cached_property
    def yaml_files(self) -> list[YamlDoc]:
        from fsdl_check.parsing.yamlfile import parse_yaml

        return self._parse_all((".yml", ".yaml"), parse_yaml)

    def yaml(self, path: str) -> YamlDoc | None:
        return next((d for d in self.yaml_files if d.path == path), None)

    @cached_property
    def toml_files(self) -> list[TomlDoc]:
        from fsdl_check.parsing.tomlfile import parse_toml

        others = self._parse_all((".toml",), parse_toml, where=lambda f: f.path != "pyproject.toml")
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
            hook_list = repo.get("hooks")
            for hook in hook_list if isinstance(hook_list, list) else []:
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
        from fsdl_check.parsing.workflow import Workflow

        out = [Workflow(d.path, "github", d) for d in self.yaml_files if d.path.startswith(".github/workflows/")]
        gitlab = self.yaml(".gitlab-ci.yml") or self.yaml(".gitlab-ci.yaml")
        if gitlab:
            out.append(Workflow(gitlab.path, "gitlab", gitlab))
        return out

    @cached_property
    def gitignore(self) -> GitIgnoreSpec:
        """The root `.gitignore` (empty when there is none)."""
        return gitignore_spec((self.text(".gitignore") or "").splitlines())

    def ignores(self, path: str) -> bool:
        """Whether the root .gitignore ignores `path` (give directories a trailing slash)."""
        return self.gitignore.match_file(path)

    @cached_property
    def parse_errors(self) -> list[ParseError]:
        """Every input that failed to parse, across all parsers that were or can be used, and every file or directory
        the audit could not read (permission denied; a Python file over the read limit), as ruff's E902 does."""
        from fsdl_check.parsing.notebook import Notebook

        errors: list[ParseError] = []
        docs: list[TomlDoc | YamlDoc | Notebook] = [*self.toml_files, *self.yaml_files, *self.notebooks]
        for doc in docs:
            text = doc.text if not isinstance(doc, Notebook) else ""
            if doc.error and not ("{{" in text or "{%" in text) and doc.path not in self.unreadable:
                errors.append(ParseError(doc.path, doc.error_line, doc.error))
        self.python  # noqa: B018 - reads every Python file, so the unreadable ones are known
        for path, why in sorted(self.unreadable.items()):
            if why.startswith("cannot") or path.endswith(".py"):  # a large data file is VC001's, not a read error
                errors.append(ParseError(path, None, why))
        return errors

    @cached_property
    def kind(self) -> ProjectKind:
        if self.options.project_kind is not None:
            return self.options.project_kind
        from fsdl_check.kind import detect_kind

        return detect_kind(self)

    @cached_property
    def entry_points(self) -> list[EntryPoint]:
        """Where training starts (modules and configs; see `fsdl_check.kind`), whatever kind was configured."""
        from fsdl_check.kind import find_entry_points

        return find_entry_points(self)

    @cached_property
    def training_path(self) -> list[PythonModule]:
        """The entry points' modules and every module of the repository they import, directly or not (see
        `fsdl_check.kind.training_path`)."""
        from fsdl_check.kind import training_path

        return training_path(self)

    @cached_property
    def sweeps(self) -> list[Sweep]:
        """Hyperparameter sweeps: Ray Tune, Optuna and Hyperopt in Python, W&B sweep files, Hydra's Optuna sweeper,
        the generated project's sweep files (see `parsing.sweeps`)."""
        from fsdl_check.parsing.sweeps import find_sweeps

        return find_sweeps(self.python, self.yaml_files)
