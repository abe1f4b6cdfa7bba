"""The audit's score, checked against a calculation of its own, and what an audit leaves behind in the process."""

from __future__ import annotations

import gc
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import pytest

from fsdl_check.config import Config
from fsdl_check.engine import Report, RuleResult, audit
from fsdl_check.model import REGISTRY, Area, ProjectKind, Severity, Status, all_rules

MakeRepo = Callable[..., Path]
#: Secret-looking values, built here so that this file holds none (the repository audits itself).
FAKE_KEY = "sk-" + "live-0123456789abcdefghijklmnopqrstuv"
FAKE_TOKEN = "ghp_" + "0123456789abcdefghijklmnopqrstuvwxyzAB"
#: The score's weights, as the report's reader is told them: an error counts three times an info.
WEIGHT = {Severity.ERROR: 3, Severity.WARNING: 2, Severity.INFO: 1}


def result(code: str, status: Status, severity: Severity | None = None) -> RuleResult:
    all_rules()  # the registry fills as the rule modules are imported
    rule = REGISTRY[code]
    return RuleResult(rule, status, severity or rule.severity)


def report(*results: RuleResult) -> Report:
    return Report(Path("."), ProjectKind.TRAINING, Config(), list(results), files=1, duration_s=0.0)


def expected_score(results: list[tuple[Severity, Status]]) -> float | None:
    counted = [(WEIGHT[severity], status) for severity, status in results if status is not Status.SKIP]
    total = sum(w for w, _ in counted)
    return float(Fraction(sum(w for w, s in counted if s is Status.PASS), total)) if total else None


def test_the_score_weighs_rules_by_severity_and_leaves_skipped_ones_out() -> None:
    # An error that passes outweighs a warning that fails: (3 + 1) / (3 + 2 + 1); the skipped error counts nowhere.
    results = [
        result("QA006", Status.PASS, Severity.ERROR),
        result("QA002", Status.FAIL, Severity.WARNING),
        result("QA007", Status.PASS, Severity.INFO),
        result("QA001", Status.SKIP, Severity.ERROR),
    ]
    got = report(*results)
    assert got.score == pytest.approx(4 / 6)
    assert got.score == pytest.approx(expected_score([(r.severity, r.status) for r in results]))


def test_the_severity_that_counts_is_the_configured_one() -> None:
    # QA007 is an info rule; configured as an error, its failure weighs 3 against the passing warning's 2.
    got = report(result("QA007", Status.FAIL, Severity.ERROR), result("QA002", Status.PASS, Severity.WARNING))
    assert got.score == pytest.approx(2 / 5)


def test_no_applicable_rule_means_no_score() -> None:
    assert report(result("QA001", Status.SKIP), result("TS001", Status.SKIP)).score is None
    assert report().score is None


def test_area_scores_count_each_status_and_weigh_within_the_area() -> None:
    results = [
        result("QA006", Status.PASS),  # error
        result("QA002", Status.FAIL),  # warning
        result("QA001", Status.SKIP),
        result("TS001", Status.FAIL),  # error: another area, which does not change QA's score
        result("TS003", Status.PASS),
    ]
    scores = {s.area: s for s in report(*results).area_scores()}
    assert set(scores) == {Area.QA, Area.TS}  # areas with no result are left out
    qa, ts = scores[Area.QA], scores[Area.TS]
    assert (qa.passed, qa.failed, qa.skipped) == (1, 1, 1)
    assert qa.score == pytest.approx(3 / 5)
    assert (ts.passed, ts.failed, ts.skipped) == (1, 1, 0)
    assert ts.score == pytest.approx(1 / 4)


@pytest.mark.parametrize("was_enabled", [True, False])
def test_an_audit_leaves_the_garbage_collector_as_it_found_it(make_repo: MakeRepo, was_enabled: bool) -> None:
    root = make_repo({"train.py": "import torch\n"})
    (gc.enable if was_enabled else gc.disable)()
    try:
        audit(root)
        assert gc.isenabled() is was_enabled
    finally:
        gc.enable()


def test_suppressions_are_read_from_every_file_not_only_the_first(make_repo: MakeRepo) -> None:
    """A file without `#` comments (a notebook, JSON) sits between two that suppress: both are still read."""
    files = {
        "a.py": f"API_KEY = '{FAKE_KEY}'  # fsdl: ignore[VC005]\n",
        "b.json": '{"x": 1}\n',
        "c.py": f"TOKEN = '{FAKE_TOKEN}'  # fsdl: ignore[VC005]\n",
    }
    got = audit(make_repo(files), Config(select=("VC005", "FC001")))
    vc005 = next(r for r in got.results if r.code == "VC005")
    assert vc005.findings == [] and len(vc005.suppressed) == 2, vc005
    assert next(r for r in got.results if r.code == "FC001").findings == []


def test_a_linked_file_is_not_read_for_suppressions_a_second_time(make_repo: MakeRepo) -> None:
    root = make_repo({"a.py": f"API_KEY = '{FAKE_KEY}'  # fsdl: ignore[VC005]\n"})
    (root / "link.py").symlink_to("a.py")
    got = audit(root, Config(select=("VC005", "FC001")))
    assert [f for r in got.results for f in r.findings] == []


def test_a_file_wide_and_a_line_suppression_of_one_finding(make_repo: MakeRepo) -> None:
    """The first in the file hides the finding; the other hid nothing, and FC001 says so."""
    text = f"# fsdl: ignore-file[VC005]\nAPI_KEY = '{FAKE_KEY}'  # fsdl: ignore[VC005]\n"
    got = audit(make_repo({"a.py": text}), Config(select=("VC005", "FC001")))
    vc005 = next(r for r in got.results if r.code == "VC005")
    assert vc005.findings == [] and len(vc005.suppressed) == 1
    unused = next(r for r in got.results if r.code == "FC001").findings
    assert [(f.path, f.line) for f in unused] == [("a.py", 2)]
