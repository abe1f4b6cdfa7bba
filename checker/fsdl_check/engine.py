"""Runs the selected rules over a `Repo` and applies configuration and suppressions: the result is a `Report`.

Every registered rule ends with a status: PASS, FAIL, or SKIP with a reason (not selected, ignored in config, only for
training projects, or a prerequisite failed). Reports render that whole list, not only the failures.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from fsdl_check import __version__
from fsdl_check.cache import FactCache
from fsdl_check.config import Config, known_prefix
from fsdl_check.model import REGISTRY, Area, Finding, ProjectKind, Rule, Severity, Status, all_rules
from fsdl_check.repo import Options, Repo, gitignore_spec
from fsdl_check.report_cache import ReportCache, signature

if TYPE_CHECKING:  # what only evaluating the rules needs is imported there: a stored report needs none of it
    from fsdl_check.suppressions import Suppression

#: How much a rule counts in a score, by its severity.
WEIGHTS = {Severity.ERROR: 3, Severity.WARNING: 2, Severity.INFO: 1}


@dataclass
class RuleResult:
    rule: type[Rule]
    status: Status
    severity: Severity  # after configuration overrides
    findings: list[Finding] = field(default_factory=list)  # reported (not suppressed)
    suppressed: list[Finding] = field(default_factory=list)
    reason: str | None = None  # why it was skipped; the ignore reason when ignored in config

    @property
    def code(self) -> str:
        return self.rule.code


@dataclass(frozen=True)  # mutation: equivalent (nothing assigns to a score once made)
class AreaScore:
    area: Area
    passed: int
    failed: int
    skipped: int
    score: float | None  # weighted share of applicable rules that pass; None when none applies


@dataclass
class Report:
    root: Path
    kind: ProjectKind
    config: Config
    results: list[RuleResult]
    files: int
    duration_s: float
    version: str = __version__
    kind_reason: str = ""  # why the kind was chosen (`fsdl_check.kind.classify`)

    @property
    def findings(self) -> list[Finding]:
        return sorted(f for r in self.results for f in r.findings)

    def failing(self, threshold: Severity | None = None) -> list[Finding]:
        """Findings at or above `threshold` (the configured fail-on by default)."""
        level = threshold or self.config.fail_on
        return [f for f in self.findings if f.severity >= level]

    @property
    def exit_code(self) -> int:
        return 1 if self.failing() else 0

    def area_scores(self) -> list[AreaScore]:
        scores = []
        for area in Area:
            results = [r for r in self.results if r.rule.area() is area]
            if results:
                scores.append(_score(area, results))
        return scores

    @property
    def score(self) -> float | None:
        return _weighted(self.results)


def _weighted(results: Iterable[RuleResult]) -> float | None:
    applicable = [r for r in results if r.status is not Status.SKIP]
    total = sum(WEIGHTS[r.severity] for r in applicable)
    passed = sum(WEIGHTS[r.severity] for r in applicable if r.status is Status.PASS)
    return passed / total if total else None


def _score(area: Area, results: list[RuleResult]) -> AreaScore:
    count = {s: sum(r.status is s for r in results) for s in Status}
    return AreaScore(area, count[Status.PASS], count[Status.FAIL], count[Status.SKIP], _weighted(results))


def audit(
    root: str | Path,
    config: Config | None = None,
    cache: bool | FactCache = False,  # mutation: equivalent (the cache never changes a report; tests check it)
    before_rules: Callable[[], None] | None = None,
) -> Report:
    """Audit the repository at `root`. Raises NotADirectoryError for a path that is not a directory.

    `cache`: True keeps the facts of Python modules in the user's cache directory (see `fsdl_check.cache`), and the
    whole report for a repository left unchanged since (`fsdl_check.report_cache`); a `FactCache` keeps the facts
    there and no report. The report is the same either way. `before_rules` is called when the rules are about to
    run (not when a stored report answers): the command line checks there that its selection leaves a rule to run,
    which imports every rule module."""
    started = time.perf_counter()
    config = config or Config()
    options = Options(
        large_file_mb=config.large_file_mb,
        project_kind=config.project_kind,
        type_hint_share=config.type_hint_share,
        exclude=config.exclude,
        facts_cache=FactCache() if cache is True else cache or None,
    )
    reports = ReportCache(options.facts_cache) if cache is True else None
    with _cyclic_gc_paused():
        repo = Repo(root, options)
        signed = signature(repo) if reports is not None else None  # before anything is read
        if reports is not None and (known := reports.get(repo, config, signed, time.perf_counter() - started)):
            return known
        if before_rules is not None:
            before_rules()
        from fsdl_check.kind import classify

        results = _Evaluation(repo, config).run()
        elapsed, why = time.perf_counter() - started, classify(repo).reason
        report = Report(repo.root, repo.kind, config, results, len(repo.files), elapsed, kind_reason=why)
        if reports is not None:
            reports.put(repo, config, signed, report)
        del repo  # free the parsed inputs while the collector is off, or its next run would traverse them all once more
    return report


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cycle collector during an audit. An audit builds millions of objects (each syntax tree while its
    module is read, and the facts kept from it until the audit ends), and every collection would traverse all that
    is alive again: with it running, parsing a large repository takes several times longer. Nothing an audit builds
    needs the cycle collector (reference counting frees it), and the previous state is restored afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Evaluation:
    def __init__(self, repo: Repo, config: Config) -> None:
        self.repo = repo
        self.config = config
        self.raw: dict[str, list[Finding]] = {}  # findings as checked, before suppression (memo for prerequisites)
        self.skipped: dict[str, str] = {}
        self.path_ignores = [(gitignore_spec([pattern]), codes) for pattern, codes in config.per_path_ignores.items()]

    def run(self) -> list[RuleResult]:
        rules = all_rules()
        suppressions = self._suppressions()
        index = _SuppressionIndex(suppressions)
        self._work_out(rules)
        results = []
        for rule in rules:
            severity = self.config.effective_severity(rule.code, rule.severity)
            reason = self._skip_reason(rule)
            if reason is not None:
                results.append(RuleResult(rule, Status.SKIP, severity, reason=reason))
                continue
            findings = [_with_severity(f, severity) for f in self._evaluate(rule)]
            kept, hidden = self._apply_suppressions(findings, index)
            status = Status.FAIL if kept else Status.PASS
            results.append(RuleResult(rule, status, severity, kept, hidden))
        # FC001 last: only now is it known which suppressions were used.
        for result in results:
            if result.code == "FC001" and result.status is not Status.SKIP:
                unused = [_with_severity(f, result.severity) for s in suppressions for f in self._unused(s)]
                result.findings, result.suppressed = self._apply_suppressions(unused, _SuppressionIndex([]))
                result.status = Status.FAIL if result.findings else Status.PASS
        return results

    def _work_out(self, rules: list[type[Rule]]) -> None:
        """The findings of every rule that runs, into `raw`. Rules that report what the audit itself met (a file it
        could not read) come last, when every other rule has read what it needs. On a large repository the others
        are shared with a forked child (`fsdl_check.workers`): the same findings, on two cores."""
        from fsdl_check.parsing.parallel import MIN_CHARACTERS_FOR_WORKERS

        running = [rule for rule in rules if self._skip_reason(rule) is None]
        first = [rule for rule in running if "parse_errors" not in rule.inputs()]
        if sum(len(module.text) for module in self.repo.python) >= MIN_CHARACTERS_FOR_WORKERS:
            from fsdl_check.workers import shared_with_a_child

            for name in {name for rule in first for name in rule.inputs() if name != "repo"}:
                getattr(self.repo, name)  # inputs parsed before the fork, not once in each process
            # Handed out last code first: VC005's scan of every text file, the longest task, then comes early.
            tasks = first[::-1]
            shared = shared_with_a_child(len(tasks), lambda i: self._evaluate(tasks[i]), lambda: self.repo.unreadable)
            if shared is not None:
                found, unreadable = shared
                for i, findings in found.items():
                    self.raw.setdefault(tasks[i].code, findings)
                for path, why in unreadable.items():  # what the child's rules could not read
                    self.repo.unreadable.setdefault(path, why)
        # The rest: every rule without a child, what a failed child left, then the audit's own record.
        for rule in first + [rule for rule in running if rule not in first]:
            self._evaluate(rule)

    def _skip_reason(self, rule: type[Rule]) -> str | None:
        code = rule.code
        if not any(code.startswith(p) or p == "ALL" for p in (*self.config.select, *self.config.extend_select)):
            return "not selected"
        ignored = self.config.ignored_by(code)
        if ignored is not None:
            why = self.config.ignore[ignored]
            return f"ignored in configuration: {why}" if why else "ignored in configuration"
        if rule.training_only and self.repo.kind is not ProjectKind.TRAINING:
            return f"applies to training projects; this repository looks like a {self.repo.kind.value} project"
        for required in rule.requires:
            if self._evaluate_code(required):
                return f"requires {required}, which fails"
        return None

    def _evaluate_code(self, code: str) -> list[Finding]:
        return self._evaluate(REGISTRY[code])

    def _evaluate(self, rule: type[Rule]) -> list[Finding]:
        if rule.code not in self.raw:
            instance = rule()
            kwargs = {name: (self.repo if name == "repo" else getattr(self.repo, name)) for name in rule.inputs()}
            self.raw[rule.code] = sorted(set(instance.check(**kwargs)))
        return self.raw[rule.code]

    def _suppressions(self) -> list[Suppression]:
        from fsdl_check.suppressions import has_hash_comments, scan

        found: list[Suppression] = []
        # Batch scripts are shell whatever their name (`train`, `job.cmd`): `#` comments there too.
        scripts = {script.path for script in self.repo.sbatch_scripts}
        for file in self.repo.files:
            if file.symlink or not (has_hash_comments(file.path) or file.path in scripts):
                continue
            text = self.repo.text(file.path)
            if text:
                found.extend(scan(file.path, text))
        return found

    def _apply_suppressions(
        self, findings: list[Finding], suppressions: _SuppressionIndex
    ) -> tuple[list[Finding], list[Finding]]:
        kept: list[Finding] = []
        hidden: list[Finding] = []
        for f in findings:
            by = next((s.label for s in suppressions.candidates(f) if s.covers(f)), None)
            if by is None:
                by = next(
                    (
                        f"per-path-ignores: {', '.join(codes)}"
                        for spec, codes in self.path_ignores
                        if any(f.code.startswith(c) for c in codes) and spec.match_file(f.path)
                    ),
                    None,
                )
            if by is None:
                kept.append(f)
            else:
                hidden.append(replace(f, suppressed_by=by))
        return kept, hidden

    @staticmethod
    def _unused(s: Suppression) -> list[Finding]:
        """FC001's findings for one suppression: codes that are no rule code, and codes that hid nothing."""
        messages = [] if s.codes else ["suppression names no rule code"]
        unknown = [c for c in s.codes if not known_prefix(c)]
        messages += [
            f"suppression names {c}, which is no rule code or prefix (see fsdl-check --list-rules)" for c in unknown
        ]
        unused = [c for c in s.codes if c not in s.used and c not in unknown]
        if unused:
            used = [c for c in s.codes if c in s.used]
            does = f" ({', '.join(used)} {'does' if len(used) == 1 else 'do'})" if used else ""
            messages.append(f"suppression of {', '.join(unused)} matches no finding{does}")
        return [Finding(s.path, s.line, "FC001", message, Severity.INFO) for message in messages]


class _SuppressionIndex:
    """Suppressions by file and line, so a finding is checked against those of its own line and its file's
    `ignore-file` ones only (not every suppression of the repository: 50,000 of them would make that quadratic).
    Candidates come in file order, as the list was, so the first that covers a finding is still the one used."""

    def __init__(self, suppressions: list[Suppression]) -> None:
        self._by_place: dict[tuple[str, int | None], list[tuple[int, Suppression]]] = {}
        for order, s in enumerate(suppressions):
            line = None if s.whole_file else (s.line if s.target is None else s.target)
            self._by_place.setdefault((s.path, line), []).append((order, s))

    def candidates(self, finding: Finding) -> list[Suppression]:
        found = self._by_place.get((finding.path, None), [])
        if finding.line is not None and (on_line := self._by_place.get((finding.path, finding.line))):
            found = sorted(found + on_line, key=lambda pair: pair[0])
        return [s for _, s in found]


def _with_severity(finding: Finding, severity: Severity) -> Finding:
    return finding if finding.severity is severity else replace(finding, severity=severity)
