"""Safe fixes for `fsdl-check --fix` and `--diff`: files created where none exists, or lines added to one.

A fix never rewrites what the user wrote: it creates a missing file, appends lines to the end of one, or inserts a
block at one place the parse makes unambiguous, and checks that the file then parses to what it held before plus the
addition. Every change is planned in memory first (`plan`), so `--diff` shows exactly what `--fix` writes. Nothing
is written through a symbolic link, outside the audited root, or into a file that changed since it was read.

Fixers are keyed by rule code (`FIXERS`); a rule has a fix when its code is there. Each fixer looks at the
repository as the earlier fixers left it (the `Workspace`), so a second run finds nothing left to do.
"""

from __future__ import annotations

import difflib
import os
import posixpath
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from fsdl_check import from_template
from fsdl_check.engine import Report
from fsdl_check.model import Finding, Status
from fsdl_check.parsing.dockerfile import exec_array, parse_dockerignore
from fsdl_check.parsing.yamlfile import parse_yaml
from fsdl_check.regex import lazy
from fsdl_check.repo import Options, Repo, gitignore_spec
from fsdl_check.rules import ci, containers, tracking, vcs

NBSTRIPOUT_REPO = "https://github.com/kynan/nbstripout"
NBSTRIPOUT_REV = "0.8.1"


class Refused(Exception):
    """A file a fix may not touch (a link, outside the root, not UTF-8, changed meanwhile); the message says why."""


@dataclass
class FileChange:
    path: str
    before: str | None  # None: the fix creates the file
    after: str
    what: list[str] = field(default_factory=list)  # "CODE: what was done", one per fix


class Workspace:
    """The audited root's files as the fixes so far have left them, in memory."""

    def __init__(self, root: Path, renderer: from_template.Renderer | None = None) -> None:
        self.root = root
        self.renderer = renderer or from_template.Renderer(None)  # the template, for fixes that add its files
        self.changes: dict[str, FileChange] = {}
        self.notes: list[str] = []  # fixes not made, and why
        self._read: dict[str, str | None] = {}

    def target(self, rel: str) -> Path:
        """The path of `rel` under the root; Refused when it leaves the root or passes through a symbolic link."""
        parts = rel.split("/")
        if rel.startswith("/") or any(part in ("", ".", "..") for part in parts):
            raise Refused(f"{rel}: not a plain path inside the repository")
        current = self.root
        for part in parts:
            current = current / part
            try:
                mode = os.lstat(current).st_mode
            except FileNotFoundError:
                break
            except OSError as exc:
                raise Refused(f"{rel}: cannot be read ({exc.strerror or exc})") from None
            if stat.S_ISLNK(mode):
                raise Refused(f"{rel}: {current.relative_to(self.root).as_posix()} is a symbolic link")
        return self.root / rel

    def original(self, rel: str) -> str | None:
        """The file's text on disk (None: it does not exist)."""
        if rel not in self._read:
            path = self.target(rel)
            try:
                mode = os.lstat(path).st_mode
            except FileNotFoundError:
                self._read[rel] = None
                return None
            if not stat.S_ISREG(mode):
                raise Refused(f"{rel}: not a regular file")
            try:
                self._read[rel] = path.read_bytes().decode("utf-8")
            except UnicodeDecodeError:
                raise Refused(f"{rel}: not UTF-8 text") from None
            except OSError as exc:
                raise Refused(f"{rel}: cannot be read ({exc.strerror or exc})") from None
        return self._read[rel]

    def read(self, rel: str) -> str | None:
        change = self.changes.get(rel)
        return change.after if change is not None else self.original(rel)

    def exists(self, rel: str) -> bool:
        return self.read(rel) is not None

    def _record(self, rel: str, after: str, what: str) -> None:
        change = self.changes.setdefault(rel, FileChange(rel, self.original(rel), after))
        change.after = after
        change.what.append(what)

    def create(self, rel: str, text: str, what: str) -> None:
        if self.exists(rel):
            raise Refused(f"{rel}: exists; a fix never overwrites a file")
        self._record(rel, text, what)

    def append(self, rel: str, lines: list[str], what: str, comment: str) -> None:
        """Add `lines` under `comment` at the end of an existing file, in its own line endings."""
        current = self.read(rel)
        if current is None:
            raise Refused(f"{rel}: does not exist")
        newline = "\r\n" if "\r\n" in current else "\n"
        separator = newline if current and not current.endswith("\n") else ""
        separator += newline if current.strip() else ""  # a blank line before the added block
        block = separator + newline.join([f"# {comment}", *lines]) + newline
        self._record(rel, current + block, what)

    def insert(self, rel: str, offset: int, text: str, what: str) -> None:
        current = self.read(rel)
        if current is None or not (offset == 0 or current[offset - 1] == "\n"):
            raise Refused(f"{rel}: no line starts at the insertion point")
        if "\r\n" in current:
            text = text.replace("\n", "\r\n")
        self._record(rel, current[:offset] + text + current[offset:], what)


# -- the plan ---------------------------------------------------------------------------------------------------
@dataclass
class Plan:
    root: Path
    changes: list[FileChange]
    notes: list[str]  # fixes that were not made, and why

    def diff(self) -> str:
        return "".join(unified_diff(c.path, c.before, c.after) for c in self.changes)

    def write(self) -> list[str]:
        """Write every change; returns what was done. A file that changed since it was read is left alone."""
        done: list[str] = []
        for change in self.changes:
            path = Workspace(self.root).target(change.path)
            try:
                _write(path, change)
            except Refused as exc:
                self.notes.append(f"not written: {exc}")
                continue
            done.extend(change.what)
        return done


def _write(path: Path, change: FileChange) -> None:
    data = change.after.encode("utf-8")
    if change.before is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
        except FileExistsError:
            raise Refused(f"{change.path}: appeared since it was read") from None
    else:
        try:
            fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW)
        except OSError as exc:
            raise Refused(f"{change.path}: {exc.strerror or exc}") from None
        with os.fdopen(os.dup(fd), "rb") as current:
            if current.read() != change.before.encode("utf-8"):
                os.close(fd)
                raise Refused(f"{change.path}: changed since it was read")
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def insertions_only(before: str, after: str) -> bool:
    """Whether `after` is `before` with lines added and nothing removed or changed (a last line without its newline
    may gain one)."""

    def lines(text: str) -> list[str]:
        return (text if text.endswith("\n") or not text else text + "\n").splitlines(keepends=True)

    matcher = difflib.SequenceMatcher(None, lines(before), lines(after), autojunk=False)
    return all(tag in ("equal", "insert") for tag, *_ in matcher.get_opcodes())


def unified_diff(path: str, before: str | None, after: str) -> str:
    """A unified diff `patch -p1` applies, with `\\ No newline at end of file` where a side lacks one."""
    old = (before or "").splitlines(keepends=True)
    new = after.splitlines(keepends=True)
    head = f"--- {'/dev/null' if before is None else 'a/' + path}\n+++ b/{path}\n"
    out = [head]
    for group in difflib.SequenceMatcher(None, old, new, autojunk=False).get_grouped_opcodes(3):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        out.append(f"@@ -{_range(i1, i2)} +{_range(j1, j2)} @@\n")
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                out.extend(_lines(" ", old[a1:a2]))
                continue
            if tag in ("replace", "delete"):
                out.extend(_lines("-", old[a1:a2]))
            if tag in ("replace", "insert"):
                out.extend(_lines("+", new[b1:b2]))
    return "".join(out) if len(out) > 1 else ""


def _range(start: int, stop: int) -> str:
    length = stop - start
    first = start + 1 if length else start
    return f"{first}" if length == 1 else f"{first},{length}"


def _lines(prefix: str, lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        out.append(prefix + line)
        if not line.endswith("\n"):
            out.append("\n\\ No newline at end of file\n")
    return out


#: A fix: the repository as audited, the files as the fixes so far left them, the rule's findings (maybe none).
Fix = Callable[[Repo, Workspace, list[Finding]], None]


@dataclass(frozen=True)
class Fixer:
    code: str
    summary: str  # what the fix does, for --list-rules and --explain
    apply: Fix
    #: Run only when the rule reported a finding (otherwise also after other fixes, which may make it apply).
    on_findings_only: bool = True


FIXERS: dict[str, Fixer] = {}


def fixer(code: str, summary: str, on_findings_only: bool = True) -> Callable[[Fix], Fix]:
    def register(function: Fix) -> Fix:
        FIXERS[code] = Fixer(code, summary, function, on_findings_only)
        return function

    return register


def has_fix(code: str) -> bool:
    return code in FIXERS


def fix_summary(code: str) -> str | None:
    found = FIXERS.get(code)
    return found.summary if found else None


def plan(report: Report, template: str | None = None) -> Plan:
    """The changes the fixes of the report's evaluated rules would make, in rule order. A rule whose findings were
    suppressed somewhere keeps its fix to itself: the user decided about it. `template`: where fixes that add the
    template's files render it from (default: where fsdl-check was installed from)."""
    repo = Repo(report.root, Options(large_file_mb=report.config.large_file_mb, exclude=report.config.exclude))
    workspace = Workspace(report.root, from_template.Renderer(template))
    notes: list[str] = []
    try:
        for result in sorted(report.results, key=lambda r: ORDER.index(r.code) if r.code in ORDER else len(ORDER)):
            found = FIXERS.get(result.code)
            if found is None or result.status is Status.SKIP or result.suppressed:
                continue
            if found.on_findings_only and not result.findings:
                continue
            try:
                found.apply(repo, workspace, result.findings)
            except Refused as exc:
                notes.append(f"{result.code}: not fixed: {exc}")
    finally:
        workspace.renderer.close()
    notes.extend(workspace.notes)
    changes = [c for c in workspace.changes.values() if c.before is None or c.after != c.before]
    for change in changes:
        if change.before is not None and not insertions_only(change.before, change.after):
            raise AssertionError(f"a fix would change existing lines of {change.path}")  # a bug, never written
    return Plan(report.root, sorted(changes, key=lambda c: c.path), notes)


#: The template's pre-commit configuration before the nbstripout hook, which it has.
#: .gitignore before .dockerignore: what git ignores decides what the build context must leave out; the template's
#: image (with its own .dockerignore) before both, so that they see it.
ORDER = ["DK007", "QA004", "VC003", "EX004", "DK005", "NB002", "GA001", "GA003"]


# -- .gitignore (VC003) -----------------------------------------------------------------------------------------
#: Patterns that cover each of VC003's labels (`vcs.ARTIFACT_DIRS`).
GITIGNORE_PATTERNS = {
    "mlruns/": ["mlruns/"],
    "wandb/": ["wandb/"],
    "lightning_logs/": ["lightning_logs/"],
    "outputs/": ["outputs/"],
    "multirun/": ["multirun/"],
    "checkpoints (*.ckpt or checkpoints/)": ["checkpoints/", "*.ckpt"],
}
#: A new `.gitignore`: the template's own, less what only the generated project writes.
NEW_GITIGNORE = """\
# Python
__pycache__/
*.py[cod]
*.egg-info/
build/
dist/
.venv/
venv/

# Tool caches
.mypy_cache/
.ruff_cache/
.pytest_cache/
.hypothesis/
.coverage
.coverage.*
htmlcov/
.ipynb_checkpoints/

# Experiment tracking and training output (never commit runs, logs or weights)
mlruns/
mlartifacts/
mlflow.db
mlflow.db.lock
wandb/
lightning_logs/
outputs/
multirun/
checkpoints/
*.ckpt
*.pt
*.pth
*.safetensors
*.onnx

# Secrets and local settings
.env
.env.*
!.env.example
.DS_Store
"""


def _hides_code(repo: Repo, pattern: str) -> bool:
    """Whether an ignore pattern would match a Python file of the repository (new files beside it would vanish)."""
    spec = gitignore_spec([pattern])
    return any(f.suffix in (".py", ".ipynb") and spec.match_file(f.path) for f in repo.files)


@fixer("VC003", "creates `.gitignore` (the template's) or appends the missing run-artifact patterns")
def fix_gitignore(repo: Repo, workspace: Workspace, findings: list[Finding]) -> None:
    current = workspace.read(".gitignore")
    if current is None:
        kept = [line for line in NEW_GITIGNORE.splitlines() if not _dropped(repo, line)]
        workspace.create(".gitignore", "\n".join(kept) + "\n", "VC003: created .gitignore")
        return
    lines = current.splitlines()
    spec = gitignore_spec(lines)
    negated = gitignore_spec([line[1:] for line in lines if line.startswith("!")])
    reported = " ".join(f.message for f in findings)
    missing: list[str] = []
    for label, probes in vcs.ARTIFACT_DIRS:
        if (
            label not in reported
            or any(spec.match_file(p) for p in probes)
            or any(negated.match_file(p) for p in probes)
        ):
            continue  # covered, or un-ignored on purpose
        missing.extend(p for p in GITIGNORE_PATTERNS[label] if not _hides_code(repo, p))
    if missing:
        workspace.append(
            ".gitignore",
            missing,
            f"VC003: added {', '.join(missing)} to .gitignore",
            "ML run artifacts (added by fsdl-check --fix)",
        )


def _dropped(repo: Repo, line: str) -> bool:
    pattern = line.strip()
    if not pattern or pattern.startswith("#"):
        return False
    return _hides_code(repo, pattern.removeprefix("!"))


# -- tracker output in .gitignore (EX004) -----------------------------------------------------------------------
@fixer("EX004", "appends the experiment tracker's output folders to `.gitignore` (or creates it)")
def fix_tracker_output(repo: Repo, workspace: Workspace, findings: list[Finding]) -> None:
    current = workspace.read(".gitignore")
    if current is None:
        fix_gitignore(repo, workspace, [])  # the new file lists every tracker's default output
        current = workspace.read(".gitignore") or ""
    spec = gitignore_spec(current.splitlines())
    use = tracking.tracker_use(repo.python, repo.yaml_files)
    missing = tracking.unignored_tracker_output(use, spec.match_file)
    if tracking.TENSORBOARD_EITHER in missing:  # the folder the code writes to: a SummaryWriter's, or Lightning's
        writer = any(m.imports_any("torch.utils.tensorboard", "tensorboardX") for m in repo.python)
        missing[missing.index(tracking.TENSORBOARD_EITHER)] = "runs/" if writer else "lightning_logs/"
    missing = [p for p in dict.fromkeys(missing) if not _hides_code(repo, p)]
    if missing:
        workspace.append(
            ".gitignore",
            missing,
            f"EX004: added {', '.join(missing)} to .gitignore",
            "experiment tracker output (added by fsdl-check --fix)",
        )


# -- .dockerignore (DK005) --------------------------------------------------------------------------------------
#: Patterns for each of DK005's labels (`containers.CONTEXT_ENTRIES`), tried in order until the probes are covered.
DOCKERIGNORE_PATTERNS = {
    ".git/": [".git"],
    ".venv/": [".venv", "venv"],
    "data/": ["data/"],
    "datasets/": ["datasets/"],
    "checkpoints": ["checkpoints/", "*.ckpt", "*.pt", "*.pth", "*.safetensors"],
}


class _Ignores:
    """What `containers.must_stay_out` asks of a repository, answered from the `.gitignore` the fixes left."""

    def __init__(self, text: str) -> None:
        self.spec = gitignore_spec(text.splitlines())

    def ignores(self, path: str) -> bool:
        return self.spec.match_file(path)


@fixer(
    "DK005",
    "creates `.dockerignore` or appends what the build context must leave out",
    on_findings_only=False,
)
def fix_dockerignore(repo: Repo, workspace: Workspace, findings: list[Finding]) -> None:
    images = [d for d in containers.project_images(repo.dockerfiles) if containers.copies_whole_context(d)]
    if not images:
        return
    ignores = cast(Repo, _Ignores(workspace.read(".gitignore") or ""))
    trackers = containers.tracker_outputs(repo.python, repo.yaml_files)
    sources = {s for d in images for s in _copied_sources(d)}
    contexts: dict[tuple[str, str], None] = {}
    for dockerfile in images:
        own = dockerfile.path + ".dockerignore"
        directory = posixpath.dirname(dockerfile.path)
        local = (directory + "/" if directory else "") + containers.DOCKERIGNORE
        if workspace.exists(own):
            contexts.setdefault((own, ""))
        elif workspace.exists(containers.DOCKERIGNORE) or not workspace.exists(local):
            contexts.setdefault((containers.DOCKERIGNORE, ""))
        else:
            contexts.setdefault((local, directory))
    for path, context in contexts:
        text = workspace.read(path)
        ignore = parse_dockerignore(path, text or "")
        patterns: list[str] = []
        for label, probes in containers.must_stay_out(ignores, context, trackers):
            candidates = DOCKERIGNORE_PATTERNS.get(label, [label])
            for pattern in candidates:
                if all(ignore.excludes(p) for p in probes):
                    break
                single = parse_dockerignore(path, pattern)
                if any(single.excludes(p) for p in probes if not ignore.excludes(p)) and not any(
                    single.excludes(s) for s in sources
                ):
                    patterns.append(pattern)
                    ignore = parse_dockerignore(path, (text or "") + "\n" + "\n".join(patterns))
        if not patterns:
            continue
        what = f"DK005: added {', '.join(patterns)} to {path}"
        if text is None:
            header = "# What `docker build` may not read: history, environments, data, runs (fsdl-check --fix)\n"
            workspace.create(path, header + "\n".join(patterns) + "\n", what)
        else:
            workspace.append(path, patterns, what, "kept out of the build context (added by fsdl-check --fix)")


def _copied_sources(dockerfile: Any) -> list[str]:
    """Paths COPY and ADD name explicitly (a pattern that excludes them would break the build)."""
    out: list[str] = []
    for instruction in dockerfile.instructions:
        if instruction.keyword not in ("COPY", "ADD") or instruction.flag("from") or instruction.heredocs:
            continue
        sources = exec_array(instruction.value) or tuple(instruction.value.split())
        out.extend(s.removeprefix("./").rstrip("/") for s in sources[:-1] if s not in containers.WHOLE_CONTEXT)
    return [s for s in out if s and not s.startswith("-")]


# -- the nbstripout hook (NB002) --------------------------------------------------------------------------------
NEW_PRECOMMIT = f"""\
# pre-commit hooks: `pip install pre-commit && pre-commit install`, then they run on every commit.
repos:
  - repo: {NBSTRIPOUT_REPO}
    rev: {NBSTRIPOUT_REV}
    hooks:
      - id: nbstripout
"""
NBSTRIPOUT_ENTRY = {"repo": NBSTRIPOUT_REPO, "rev": NBSTRIPOUT_REV, "hooks": [{"id": "nbstripout"}]}
TOP_LEVEL_KEY = lazy(r"^[^\s#\-][^\n]*$")


@fixer("NB002", "adds the nbstripout hook to `.pre-commit-config.yaml` (or creates the file)")
def fix_nbstripout(repo: Repo, workspace: Workspace, findings: list[Finding]) -> None:
    path = next((p for p in (".pre-commit-config.yaml", ".pre-commit-config.yml") if workspace.exists(p)), None)
    if path is None:
        workspace.create(".pre-commit-config.yaml", NEW_PRECOMMIT, "NB002: created .pre-commit-config.yaml")
        return
    text = workspace.read(path) or ""
    before = _single_document(path, text)
    if not isinstance(before, dict) or not isinstance(before.get("repos"), list) or not before["repos"]:
        raise Refused(f"{path}: no block list of `repos:` at the top level to add to")
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if re.match(r"^repos:[ \t]*(?:#.*)?\r?$", line)]
    if len(starts) != 1:
        raise Refused(f"{path}: `repos:` is not one block key at the top level")
    end = len(lines)
    for i in range(starts[0] + 1, len(lines)):
        if TOP_LEVEL_KEY.match(lines[i].rstrip("\r\n")):
            end = i
            break
    last = max(i for i in range(starts[0], end) if lines[i].strip() and not lines[i].startswith("#"))
    item = next((line for line in lines[starts[0] + 1 : end] if line.lstrip().startswith("- ")), None)
    if item is None:
        raise Refused(f"{path}: the `repos:` list has no block items")
    indent = item[: len(item) - len(item.lstrip())]
    block = (
        f"{indent}- repo: {NBSTRIPOUT_REPO}\n{indent}  rev: {NBSTRIPOUT_REV}\n"
        f"{indent}  hooks:\n{indent}    - id: nbstripout\n"
    )
    offset = sum(len(line) for line in lines[: last + 1])
    if not lines[last].endswith("\n"):
        block = "\n" + block
    expected = {**before, "repos": [*before["repos"], NBSTRIPOUT_ENTRY]}
    _insert_checked(workspace, path, offset, block, expected, f"NB002: added the nbstripout hook to {path}")


def _single_document(path: str, text: str) -> Any:
    doc = parse_yaml(path, text)
    if doc.error or len(doc.documents) != 1:
        raise Refused(f"{path}: does not parse as one YAML document")
    return doc.first


def _insert_checked(workspace: Workspace, path: str, offset: int, block: str, expected: Any, what: str) -> None:
    """Insert `block` and keep it only if the file then parses (with the audit's own loader) to `expected`: what it
    held, plus the addition."""
    text = workspace.read(path) or ""
    if offset and text[offset - 1] != "\n":
        raise Refused(f"{path}: no line starts at the insertion point")
    after = text[:offset] + (block.replace("\n", "\r\n") if "\r\n" in text else block) + text[offset:]
    parsed = parse_yaml(path, after)
    if parsed.error or len(parsed.documents) != 1 or parsed.first != expected:
        raise Refused(f"{path}: the addition would not parse as intended")
    workspace.insert(path, offset, block, what)


# -- restricted CI permissions (GA001) --------------------------------------------------------------------------
#: A workflow that may need more than read access: left for a person to decide what to grant.
NEEDS_WRITE = lazy(
    r"GITHUB_TOKEN|github\.token|id-token|\bgit\s+push\b|\bgh\s+(?:release|pr|issue|api|workflow|repo|secret|label)\b"
    r"|uses:\s*[\"']?(?:peaceiris/|softprops/|actions/(?:create-release|upload-release-asset|deploy-pages|"
    r"github-script|labeler|stale)|stefanzweifel/|peter-evans/|github/codeql-action|pypa/gh-action-pypi-publish|"
    r"docker/login-action|\./|[\w.-]+/[\w.-]+/\.github/workflows/)"
)


@fixer("GA001", "inserts `permissions: contents: read` at the top of a workflow that sets none")
def fix_permissions(repo: Repo, workspace: Workspace, findings: list[Finding]) -> None:
    for workflow in repo.workflows:
        if workflow.provider != "github" or not isinstance(workflow.data, dict) or "permissions" in workflow.data:
            continue
        jobs = workflow.jobs
        if not any("permissions" not in job for job in jobs.values()):
            continue
        path = workflow.path
        text = workspace.read(path) or ""
        if NEEDS_WRITE.search(text):
            workspace.notes.append(f"GA001: not fixed: {path} may need more than read access; set it by hand")
            continue
        try:
            _restrict(workspace, path, text)
        except Refused as exc:
            workspace.notes.append(f"GA001: not fixed: {exc}")


def _restrict(workspace: Workspace, path: str, text: str) -> None:
    data = _single_document(path, text)
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if re.match(r"^jobs:[ \t]*(?:#.*)?\r?$", line)]
    if len(starts) != 1 or not isinstance(data, dict):
        raise Refused(f"{path}: `jobs:` is not one block key at the top level")
    at = starts[0]
    while at > 0 and lines[at - 1].startswith("#"):
        at -= 1  # the comments above `jobs:` belong to it
    block = "permissions:\n  contents: read\n" + ("\n" if at > 0 and not lines[at - 1].strip() else "")
    offset = sum(len(line) for line in lines[:at])
    expected = {**data, "permissions": {"contents": "read"}}
    _insert_checked(workspace, path, offset, block, expected, f"GA001: set `permissions: contents: read` in {path}")


# -- Dependabot (GA003) -----------------------------------------------------------------------------------------
PIP_MANIFESTS = lazy(r"(?:^|/)(?:pyproject\.toml|setup\.py|setup\.cfg|Pipfile|requirements[\w.-]*\.(?:txt|in))$")


def ecosystems(repo: Repo) -> list[tuple[str, str]]:
    """(package-ecosystem, directory) for what Dependabot can update here: Python manifests, workflows, images."""
    found: dict[tuple[str, str], None] = {}
    for path in sorted(repo.paths):
        if PIP_MANIFESTS.search(path) and not path.startswith(("tests/", "test/", "examples/", "docs/")):
            directory = "/" + posixpath.dirname(path)
            found.setdefault(("pip", directory.rstrip("/") or "/"))
    if any(p.startswith(".github/workflows/") for p in repo.paths):
        found.setdefault(("github-actions", "/"))
    for dockerfile in containers.project_images(repo.dockerfiles):
        found.setdefault(("docker", ("/" + posixpath.dirname(dockerfile.path)).rstrip("/") or "/"))
    return list(found)


@fixer(
    "GA003",
    "creates `.github/dependabot.yml` for the pip, github-actions and docker dependencies found (on GitLab, the "
    "template's `renovate.json`)",
)
def fix_dependabot(repo: Repo, workspace: Workspace, findings: list[Finding]) -> None:
    if any(workspace.exists(p) for p in ci.DEPENDENCY_BOTS):
        return
    if ".gitlab-ci.yml" in repo.paths and not any(p.startswith(".github/") for p in repo.paths):
        from_template.RENOVATE.apply(repo, workspace, workspace.renderer)  # Dependabot runs only on GitHub
        return
    found = ecosystems(repo)
    if not found:
        raise Refused("no Python manifest, workflow or Dockerfile for Dependabot to update")
    entries = []
    for ecosystem, directory in found:
        entry = (
            f"  - package-ecosystem: {ecosystem}\n    directory: {directory}\n    schedule:\n      interval: weekly\n"
        )
        if ecosystem in ("pip", "github-actions"):
            group = "python" if ecosystem == "pip" else "actions"
            entry += f'    groups:\n      {group}:\n        patterns: ["*"]\n'
        entries.append(entry)
    text = "# Weekly, grouped dependency updates (written by fsdl-check --fix).\nversion: 2\nupdates:\n" + "".join(
        entries
    )
    names = ", ".join(sorted({e for e, _ in found}))
    workspace.create(".github/dependabot.yml", text, f"GA003: created .github/dependabot.yml ({names})")


# -- the template's image (DK007) -------------------------------------------------------------------------------
@fixer(
    "DK007",
    "creates the template's `docker/` files and `.dockerignore` (CPU image), rendered for this repository, where it "
    "has the lock file, `src/` and console script they use",
)
def fix_image(repo: Repo, workspace: Workspace, findings: list[Finding]) -> None:
    from_template.IMAGE.apply(repo, workspace, workspace.renderer)


# -- the template's pre-commit configuration (QA004) ------------------------------------------------------------
@fixer(
    "QA004",
    "creates the template's `.pre-commit-config.yaml` (its hooks run the tools in `.venv/bin`) where the repository "
    "declares those tools among its dependencies",
)
def fix_precommit(repo: Repo, workspace: Workspace, findings: list[Finding]) -> None:
    if not any(f.message == "no pre-commit configuration" for f in findings):
        raise Refused("the configuration exists: its hooks are yours to edit")
    from_template.PRECOMMIT.apply(repo, workspace, workspace.renderer)
