"""The report cache: a whole audit remembered for a repository whose listing has not changed since.

The fact cache (`fsdl_check.cache`) spares parsing an unchanged module, but an audit still reads every file, runs
every rule and builds the report. When nothing the audit reads has changed, none of that can come out differently,
so the report is kept too: one entry per audited root and configuration, holding a signature of the listing and the
report's results. An audit reads only listed files (`Repo.text` refuses any other path), so the signature is what
git's index keeps to tell a changed file without reading it: each listed file's path, tracked flag, size, and
`lstat` modification time, inode-change time, inode number and mode, plus what could not be listed. A later audit
whose signature is the same returns the stored results, timed afresh.

Like git, the signature trusts a time stamp only once the file has been quiet for a while: a file written in the
same clock tick as the audit read it could change again without its stamp changing. A repository with any file
modified (or its inode changed) in the last `QUIET_S` seconds is audited and not stored. The inode-change time is
set by the kernel on every write, rename and permission change, and cannot be set back, so a tool that restores a
modification time (`cp -p`, `touch -r`) still changes the signature.

The key covers everything else a report depends on: the checker's own code (every module of the package, hashed),
the Python version, the resolved root and the resolved configuration (command-line options included). Entries live
in the fact cache's directory, written the same atomic way; a damaged or foreign entry is a miss. `--no-cache`
neither reads nor writes them.

A stored report also keeps what the reports read of each rule (its title, rationale, fix, severity...), so that a
run it answers need not import the rule modules, which is a good part of a warm run's start-up: the results then
name `StoredRule` stand-ins, or the rule classes themselves where they were imported already.
"""

from __future__ import annotations

# hashlib is imported where a digest is made: loading OpenSSL is 2 ms, a 70th of a small audit
import stat
import time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from fsdl_check.cache import FactCache
from fsdl_check.model import Area, Severity

if TYPE_CHECKING:
    from fsdl_check.config import Config
    from fsdl_check.engine import Report
    from fsdl_check.model import Rule
    from fsdl_check.repo import Repo

#: Seconds a repository's files must have been left alone for its report to be stored.
QUIET_S = 3.0
SHAPE = 3  # the entry's layout: bump when `encode` changes


@cache
def code_digest() -> str:
    """A hash of the name, size and modification time of every file of the checker's package: any change to a
    rule, a parser or a report is a new key. Stamps, not contents, for the reason the signature uses them: reading
    and hashing the package took longer than the rest of the check for a stored report."""
    from hashlib import blake2b

    package = Path(__file__).resolve().parent
    digest = blake2b(digest_size=16)
    for path in sorted(p for p in package.rglob("*") if p.suffix not in (".pyc", ".pyo")):
        st = path.lstat()
        if stat.S_ISREG(st.st_mode):
            digest.update(f"{path.relative_to(package).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def key(root: Path, config: Config) -> str:
    from hashlib import blake2b

    material = f"report\0{SHAPE}\0{code_digest()}\0{root}\0{config!r}"
    return blake2b(material.encode("utf-8", "surrogatepass"), digest_size=20).hexdigest()


def signature(repo: Repo, now_ns: int | None = None) -> str | None:
    """What the audit of `repo` reads, as one digest; None while a file is too recently changed to trust its stamp."""
    from hashlib import blake2b

    now = time.time_ns() if now_ns is None else now_ns
    quiet = int(QUIET_S * 1e9)
    digest = blake2b(digest_size=20)
    digest.update(f"{repo.git}\0{sorted(repo.unreadable.items())!r}\n".encode("utf-8", "surrogatepass"))
    for f in repo.files:
        if not f.stamp or now - max(f.stamp[0], f.stamp[1]) < quiet:
            return None  # changed just now, or in the future (a skewed clock): not to be trusted
        line = f"{f.path}\0{f.size}\0{f.tracked:d}{f.symlink:d}\0{f.stamp!r}\n"
        digest.update(line.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


class StoredRule:
    """A rule as a stored report remembers it: the metadata the reports read, without the rule's module."""

    code: ClassVar[str]
    severity: ClassVar[Severity]
    fix: ClassVar[str]
    requires: ClassVar[tuple[str, ...]]
    training_only: ClassVar[bool]
    example: ClassVar[str]
    template_file: ClassVar[str | None]
    security_severity: ClassVar[float | None]
    _title: ClassVar[str]
    _rationale: ClassVar[str]

    @classmethod
    def area(cls) -> Area:
        return Area[cls.code[:2]]

    @classmethod
    def title(cls) -> str:
        return cls._title

    @classmethod
    def rationale(cls) -> str:
        return cls._rationale


def _rule_metadata(rule: Any) -> list[Any]:
    return [
        rule.code, int(rule.severity), rule.fix, list(rule.requires), rule.training_only, rule.example,
        rule.template_file, rule.security_severity, rule.title(), rule.rationale(), rule.__name__,
    ]  # fmt: skip


def _stand_in(metadata: list[Any]) -> type[Rule]:
    code, severity, fix, requires, training_only, example, template_file, security, title, rationale, name = metadata
    texts = (code, fix, example, title, rationale, name)
    if not all(isinstance(v, str) for v in texts) or code[:2] not in Area.__members__ or not name.isidentifier():
        raise TypeError("not a stored rule")
    attributes = {
        "code": code, "severity": Severity(severity), "fix": fix, "requires": tuple(requires),
        "training_only": bool(training_only), "example": example, "template_file": template_file,
        "security_severity": security, "_title": title, "_rationale": rationale,
    }  # fmt: skip
    return cast("type[Rule]", type(name, (StoredRule,), attributes))  # the rule's class name: SARIF shows it


def encode(report: Report) -> list[Any]:
    def findings(items: list[Any]) -> list[list[Any]]:
        return [[f.path, f.line, f.code, f.message, int(f.severity), f.column, f.suppressed_by] for f in items]

    results = [
        [r.code, r.status.name, int(r.severity), findings(r.findings), findings(r.suppressed), r.reason]
        for r in report.results
    ]
    rules = [_rule_metadata(r.rule) for r in report.results]
    return [report.kind.name, report.files, report.kind_reason, results, rules]


def decode(entry: list[Any], root: Path, config: Config, duration_s: float) -> Report:
    """The report stored by `encode`, for `config` (the key guarantees it is the one it was made with). Raises
    KeyError, TypeError or ValueError for an entry of another shape."""
    from fsdl_check.engine import Report, RuleResult
    from fsdl_check.model import REGISTRY, Finding, ProjectKind, Status

    def findings(items: list[list[Any]]) -> list[Finding]:
        out = []
        for path, line, code, message, severity, column, suppressed_by in items:
            out.append(Finding(path, line, code, message, Severity(severity), column, suppressed_by))
        return out

    kind, files, kind_reason, stored, rules = entry
    classes = {m[0]: REGISTRY.get(m[0]) or _stand_in(m) for m in rules}  # the real class where it is imported
    results = [
        RuleResult(classes[code], Status[status], Severity(severity), findings(found), findings(hidden), reason)
        for code, status, severity, found, hidden, reason in stored
    ]
    if not isinstance(files, int) or not isinstance(kind_reason, str):
        raise TypeError("not a stored report")
    return Report(root, ProjectKind[kind], config, results, files, duration_s, kind_reason=kind_reason)


class ReportCache:
    """Reports by root and configuration, checked against the listing's signature (see the module's docstring)."""

    def __init__(self, store: FactCache | None = None) -> None:
        self.store = store or FactCache()

    def get(self, repo: Repo, config: Config, signed: str | None, duration_s: float) -> Report | None:
        if signed is None:
            return None
        entry = self.store.get(key(repo.root, config))
        if entry is None or len(entry) != 2 or entry[0] != signed:
            return None
        try:
            return decode(entry[1], repo.root, config, duration_s)
        except (KeyError, TypeError, ValueError):  # another shape, or a rule that is gone: audited again
            return None

    def put(self, repo: Repo, config: Config, signed: str | None, report: Report) -> None:
        if signed is not None:
            self.store.put(key(repo.root, config), [signed, encode(report)])
