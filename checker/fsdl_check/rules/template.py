"""TP: template drift — a project made from a template can still be updated from it, and its updates were finished.

A template-made project is one with an answers file: Copier's `.copier-answers.yml` (or another `.copier-answers*`
name the template chose), cruft's `.cruft.json`, or the `.cookiecutter.json` that fsdl-stack's cookiecutter hook
writes. A project that lost it is recognised by the layout only fsdl-stack generates (see `fsdl_stack_layout`);
any other repository gets no TP finding.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

import fsdl_check
from fsdl_check.model import Finding, Rule, Severity
from fsdl_check.parsing.lines import LineIndex
from fsdl_check.parsing.python import PythonModule
from fsdl_check.parsing.yamlfile import LineDict, parse_yaml
from fsdl_check.regex import lazy
from fsdl_check.repo import PreCommitHook, Repo, RepoFile
from fsdl_check.rules.vcs import BINARY_SUFFIXES

COPIER_ANSWERS = ".copier-answers.yml"
#: Copier's default answers file and the names templates give it with `_answers_file` (at the project's root).
COPIER_ANSWERS_NAME = lazy(r"\.copier-answers(?:[.-][\w.-]+)?\.ya?ml")
CRUFT_ANSWERS = ".cruft.json"
COOKIECUTTER_ANSWERS = ".cookiecutter.json"
#: A template source that is no local path: a URL, an SSH remote, or Copier's and cookiecutter's abbreviations.
REMOTE_SOURCE = lazy(r"^(?:[a-z][a-z0-9+.-]*://|git@|git\+|gh:|gl:|bb:)", re.IGNORECASE)
WINDOWS_ABSOLUTE = lazy(r"^[A-Za-z]:[\\/]|^\\\\")


@dataclass(frozen=True)  # mutation: equivalent (nothing assigns to an Answers)
class Answers:
    """One answers file: which tool wrote it, where the template came from, and the version it was made from."""

    path: str
    tool: str  # "copier", "cruft" or "cookiecutter"
    source: str | None  # None: the file records no template source
    source_key: str
    source_line: int | None
    commit: str | None
    commit_line: int | None


def answers_files(repo: Repo) -> list[Answers]:
    """The root's answers files that parse (a file that does not is FC002's finding, not a drift)."""
    found = []
    for path in sorted(repo.paths):
        if "/" in path:
            continue
        if COPIER_ANSWERS_NAME.fullmatch(path):
            answers = _copier_answers(path, repo.text(path))
        elif path in (CRUFT_ANSWERS, COOKIECUTTER_ANSWERS):
            answers = _json_answers(path, repo.text(path))
        else:
            continue
        if answers is not None:
            found.append(answers)
    return found


def _copier_answers(path: str, text: str | None) -> Answers | None:
    data = parse_yaml(path, text).first if text is not None else None
    if not isinstance(data, LineDict):
        return None
    source, commit = data.get("_src_path"), data.get("_commit")
    return Answers(
        path,
        "copier",
        str(source) if source is not None and str(source).strip() else None,  # `_src_path: ''` names no template
        "_src_path",
        data.line_of("_src_path") if "_src_path" in data else None,
        str(commit) if commit is not None else None,
        data.line_of("_commit") if "_commit" in data else None,
    )


def _json_answers(path: str, text: str | None) -> Answers | None:
    try:
        data = json.loads(text) if text is not None else None
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    lines = LineIndex(text or "")

    def line(key: str) -> int | None:
        match = re.search(rf'"{re.escape(key)}"\s*:', text or "")
        return lines.line(match.start()) if match else None

    if path == CRUFT_ANSWERS:
        source_key, commit_key = "template", "commit"
        source = data.get("template")
    else:
        # fsdl-stack's hook records the template as given (`_template`) and its folder made absolute (`_repo_dir`);
        # a local template is found again through the folder, a remote one through its address.
        template = data.get("_template")
        source_key, commit_key = "_template", "_commit"
        source = template
        if isinstance(template, str) and not REMOTE_SOURCE.match(template) and data.get("_repo_dir"):
            source, source_key = data["_repo_dir"], "_repo_dir"
    commit = data.get(commit_key)
    return Answers(
        path,
        "cruft" if path == CRUFT_ANSWERS else "cookiecutter",
        str(source) if isinstance(source, str) and source else None,
        source_key,
        line(source_key),
        str(commit) if isinstance(commit, str) and commit else None,
        line(commit_key),
    )


def relative_source(source: str) -> bool:
    """Whether a template source is a path relative to wherever the tool was started (`../fsdl-stack`, `.`)."""
    stripped = source.strip()
    if not stripped or REMOTE_SOURCE.match(stripped) or WINDOWS_ABSOLUTE.match(stripped):
        return False
    return not stripped.startswith(("/", "~"))


def fsdl_stack_layout(repo: Repo, precommit_hooks: list[PreCommitHook]) -> list[str] | None:
    """The marks of a project fsdl-stack generated, or None when any is missing: `tools/environment.py` that reads
    the answers file (the template's set-up script), YAML configs under `configs/`, and the `fsdl-check` pre-commit
    hook. Each on its own is common; together they are the template's layout."""
    script = repo.text("tools/environment.py") or ""
    if COPIER_ANSWERS not in script or COOKIECUTTER_ANSWERS not in script:
        return None
    if not any(p.startswith("configs/") and p.endswith((".yaml", ".yml")) for p in repo.paths):
        return None
    if not any(hook.id == "fsdl-check" for hook in precommit_hooks):
        return None
    return ["tools/environment.py", "configs/", "the fsdl-check pre-commit hook"]


class AnswersFileKept(Rule):
    """A template-made project keeps its answers file, and the template source in it is not a relative path

    `copier update` (and `cruft update`) read the answers file to know which template, at which version, with
    which answers, made the project: without it no update is possible, and the project silently stops receiving
    the template's fixes. A relative `_src_path` (`../fsdl-stack`, `.`), written when the template was copied from
    a neighbouring folder, is resolved against wherever the update is started: it works from one directory on one
    machine and breaks from anywhere else, in CI, and for every collaborator. Record the template's git URL.
    """

    code, severity = "TP001", Severity.WARNING
    fix = (
        "Keep `.copier-answers.yml` committed (restore it from history if it was deleted) and set `_src_path` to the "
        "template's git URL (`gh:owner/fsdl-stack`) or an absolute path; see the template's `.copier-answers.yml`."
    )
    template_file = ".copier-answers.yml"
    example = "# .copier-answers.yml\n_commit: v0.1.0\n_src_path: ../fsdl-stack"

    def check(self, repo: Repo, precommit_hooks: list[PreCommitHook]) -> Iterator[Finding]:
        present = [p for p in repo.paths if "/" not in p and _is_answers_name(p)]
        if not present:
            marks = fsdl_stack_layout(repo, precommit_hooks)
            if marks is not None:
                yield self.finding(
                    COPIER_ANSWERS,
                    None,
                    f"no answers file, though the project has fsdl-stack's layout ({', '.join(marks)}): "
                    "`copier update` cannot bring in the template's changes",
                )
            return
        for answers in answers_files(repo):
            if answers.source is None:
                yield self.finding(
                    answers.path,
                    None,
                    f"no `{answers.source_key}`: {_update_command(answers.tool)} cannot find the template",
                )
            elif relative_source(answers.source):
                yield self.finding(
                    answers.path,
                    answers.source_line,
                    f"`{answers.source_key}: {answers.source}` is relative to where the update is started: "
                    f"{_update_command(answers.tool)} from anywhere else cannot find the template",
                )


def _is_answers_name(path: str) -> bool:
    return COPIER_ANSWERS_NAME.fullmatch(path) is not None or path in (CRUFT_ANSWERS, COOKIECUTTER_ANSWERS)


def _update_command(tool: str) -> str:
    if tool == "cookiecutter":  # cookiecutter updates nothing; the project's `make setup` reads the source
        return "`make setup` (which installs fsdl-check from the template)"
    return "`cruft update`" if tool == "cruft" else "`copier update`"


#: Conflict markers as git and Copier write them, at the start of a line (seven characters, then a space or the end
#: of the line): `<<<<<<< HEAD`, `<<<<<<< before updating`, `|||||||` (diff3's base), `=======`, `>>>>>>> after
#: updating`. The separator alone is a Markdown or reST heading underline, so only an opener starts a conflict.
MARKER = lazy(r"^(?P<kind><{7}|\|{7}|={7}|>{7})(?: [^\n]*)?\r?$", re.MULTILINE)


def conflicts(text: str) -> list[tuple[int, int]]:
    """(opener, closer) offsets of complete conflicts: `<<<<<<<`, then `=======`, then `>>>>>>>`, in that order."""
    found: list[tuple[int, int]] = []
    opener: int | None = None
    separated = False  # mutation: equivalent (read only after an opener, which resets it)
    for match in MARKER.finditer(text):
        kind = match["kind"][0]  # mutation: equivalent (a marker is seven of one character)
        if kind == "<":
            opener, separated = match.start(), False
        elif kind == "=" and opener is not None:
            separated = True
        elif kind == ">" and opener is not None and separated:
            found.append((opener, match.start()))
            opener, separated = None, False  # mutation: equivalent (the next opener resets both)
    return found


FENCE = lazy(r"^ {0,3}(?:`{3,}|~{3,})", re.MULTILINE)


def fenced_blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of Markdown fenced code blocks (an unclosed fence runs to the end)."""
    marks = [m.start() for m in FENCE.finditer(text)]
    pairs = [(marks[i], marks[i + 1]) for i in range(0, len(marks) - 1, 2)]
    return pairs + ([(marks[-1], len(text))] if len(marks) % 2 else [])


def leftover_conflicts(path: str, text: str) -> list[int]:
    """Openers of the conflicts left in a file; in Markdown, one wholly inside a fenced code block is an example."""
    found = conflicts(text)
    if path.endswith((".md", ".markdown")):
        blocks = fenced_blocks(text)
        found = [(a, b) for a, b in found if not any(_within(block, a, b) for block in blocks)]
    return [opener for opener, _ in found]


def _within(block: tuple[int, int], opener: int, closer: int) -> bool:
    """Whether a conflict lies wholly inside a (start, end) block. Both ends are starts of lines that match
    different patterns (or the end of the text), so no two are equal: `<` and `<=` agree in both comparisons."""
    start, end = block
    after_start = start < opener  # mutation: equivalent (a fence's line is never a marker's)
    before_end = closer < end  # mutation: equivalent (a fence's line, or the text's end, is never a marker's start)
    return after_start and before_end


class NoConflictLeftovers(Rule):
    """No `.rej` files or conflict markers are left behind

    `copier update` and `cruft update` finish with exit status 0 even when the template's change overlaps a local
    edit: they leave `<<<<<<< before updating` ... `>>>>>>> after updating` in the file, or write the rejected hunk
    to a `.rej` file beside it. pre-commit's `check-merge-conflict` only looks while a git merge is in progress, so
    neither is caught on commit. A config with markers no longer parses; a README with them is published broken.
    Markers count at the start of a line, with an opener, a separator and a closer in that order (an `=======`
    heading underline is none); a Python file that still parses holds them in a string, and a conflict wholly inside
    a Markdown code block is an example, not a leftover (the generated project's pre-commit catches those too).
    """

    code, severity = "TP002", Severity.ERROR
    fix = (
        "Resolve each conflict (keep the right side, delete the marker lines), apply or delete the `.rej` files, then "
        "commit; the template's `.pre-commit-config.yaml` runs fsdl-check on every commit."
    )
    template_file = ".pre-commit-config.yaml"
    example = "<<<<<<< before updating\nlr: 0.01\n=======\nlr: 0.001\n>>>>>>> after updating"

    def check(self, repo: Repo, files: list[RepoFile], python: list[PythonModule]) -> Iterator[Finding]:
        parsed = {module.path for module in python if module.parsed}
        for file in files:
            if file.symlink:
                continue
            if file.suffix == ".rej":
                yield self.finding(file.path, None, "rejected hunk left by an update or a patch (`.rej` file)")
                continue
            if file.suffix in BINARY_SUFFIXES or file.path in parsed:
                continue
            text = repo.text(file.path)
            if not text or "<<<<<<<" not in text:
                continue
            openers = leftover_conflicts(file.path, text)
            if openers:
                count = len(openers)
                many = f"{count} unresolved conflicts" if count > 1 else "an unresolved conflict"
                yield self.finding(
                    file.path, LineIndex(text).line(openers[0]), f"{many} (conflict markers), the first here"
                )


#: `git describe` answers Copier records: `v0.1.0`, `v0.1.0-12-gabc1234`, optionally `-dirty`.
DESCRIBED = lazy(r"v?(?P<version>\d+(?:\.\d+)*(?:(?:a|b|rc)\d+)?)(?:-(?P<ahead>\d+)-g[0-9a-f]{4,40})?(?:-dirty)?")


def template_version(commit: str) -> Version | None:
    """The template release a recorded commit stands for, or None for a bare hash or another ref. Commits after a
    tag count as a post-release of it (`v0.1.0-12-g...` is past 0.1.0, not yet 0.2.0)."""
    match = DESCRIBED.fullmatch(commit.strip())
    if match is None or not (commit.startswith("v") or "." in match["version"]):
        return None  # `1234567` is a short hash made of digits, not release 1234567
    try:
        version = Version(match["version"])
        return Version(f"{version}.post{match['ahead']}") if match["ahead"] else version
    except InvalidVersion:
        return None


def installed_release() -> Version | None:
    """fsdl-check's own version when it is a final release; None between releases (a `.devN` or pre-release, or a
    local build), when no template release corresponds to it."""
    try:
        version = Version(fsdl_check.__version__)
    except InvalidVersion:
        return None
    return None if version.is_prerelease or version.is_devrelease or version.local else version


class TemplateVersionCurrent(Rule):
    """The project's template version is not behind the installed fsdl-check's

    The template and fsdl-check are released together under one version, so the checker knows, offline, which
    template release it belongs to. A project made from an older release misses that release's fixes — and is
    audited by rules its template did not yet satisfy. The message names the update command for the tool that made
    the project. Nothing is said between releases (the checker is a `.devN` build) or when the answers file records
    a commit hash rather than a release.
    """

    code, severity = "TP003", Severity.INFO
    fix = (
        "Update the project to the checker's release (`copier update --defaults --vcs-ref vX.Y.Z`, or "
        "`cruft update --checkout vX.Y.Z`) and resolve what it reports; see the template's `.copier-answers.yml`."
    )
    template_file = ".copier-answers.yml"
    example = "# .copier-answers.yml, audited by fsdl-check 0.3.0\n_commit: v0.1.0"

    def check(self, repo: Repo) -> Iterator[Finding]:
        installed = installed_release()
        if installed is None:
            return
        for answers in answers_files(repo):
            made_from = template_version(answers.commit) if answers.commit else None
            if made_from is None or made_from >= installed:
                continue
            tag = f"v{installed}"
            if answers.tool == "copier":
                answers_flag = f" --answers-file {answers.path}" if answers.path != COPIER_ANSWERS else ""
                command = f"`copier update --defaults{answers_flag} --vcs-ref {tag}`"
            elif answers.tool == "cruft":
                command = f"`cruft update --checkout {tag}`"
            else:  # cookiecutter updates nothing; cruft does, once the project is linked to its template
                command = f"`cruft link <template URL>`, then `cruft update --checkout {tag}`"
            yield self.finding(
                answers.path,
                answers.commit_line,
                f"made from template {answers.commit}, behind fsdl-check {installed}: run {command}",
            )
