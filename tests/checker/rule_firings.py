"""A pytest plugin that records which rules produce findings in which passing tests (used by test_rule_coverage).

Loaded with ``-p rule_firings`` in a separate pytest run. Every registered rule's `check` is wrapped to note the
codes of the findings it returns, and the engine's evaluation to note what it reports (FC001's findings come from the
engine, not from a `check`). A test's notes count only if the test passes; they are written as JSON
(``{code: [test ids]}``) to the file named by the environment variable below when the session ends.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from fsdl_check import engine
from fsdl_check.model import Finding, Rule, all_rules

OUTPUT_VARIABLE = "FSDL_RULE_FIRINGS_OUTPUT"

_pending: set[str] = set()
_fired: dict[str, set[str]] = {}


def _recording_check(original: Callable[..., Iterable[Finding]]) -> Callable[..., list[Finding]]:
    @functools.wraps(original)  # keeps the signature: the engine injects inputs by parameter name
    def check(self: Rule, *args: Any, **kwargs: Any) -> list[Finding]:
        findings = list(original(self, *args, **kwargs))
        _pending.update(f.code for f in findings)
        return findings

    return check


def pytest_configure(config: pytest.Config) -> None:
    for rule in all_rules():
        rule.check = _recording_check(rule.check)  # type: ignore[method-assign]
    evaluate = engine._Evaluation.run

    def run(self: engine._Evaluation) -> list[engine.RuleResult]:
        results = evaluate(self)
        _pending.update(f.code for result in results for f in result.findings)
        return results

    engine._Evaluation.run = run  # type: ignore[method-assign]


def pytest_runtest_setup(item: pytest.Item) -> None:
    _pending.clear()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed:
        for code in _pending:
            _fired.setdefault(code, set()).add(report.nodeid)
        _pending.clear()


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get(OUTPUT_VARIABLE)
    if target:
        data = {code: sorted(tests) for code, tests in sorted(_fired.items())}
        Path(target).write_text(json.dumps(data, indent=1), encoding="utf-8")
