"""benchmarks/mutation.py: each mutant is one real change of the module, marked equivalents are left out, and a
mutant the tests notice is reported killed while the module on disk stays as it was."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
import mutation  # noqa: E402


def test_every_mutant_changes_the_code_and_equivalents_are_listed_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    found, equivalent = mutation.mutants("engine.py")
    assert found and any("engine.py:" in e and "nothing assigns" in e for e in equivalent)
    original = (mutation.PACKAGE / "engine.py").read_text()
    weights = [m for m in found if m.what == "3 -> 4"]
    assert len(weights) == 1  # the error weight of the score
    module = types.ModuleType("fsdl_check.engine_mutant")
    monkeypatch.setitem(sys.modules, module.__name__, module)  # dataclasses look their module up
    exec(mutation.apply(weights[0]), module.__dict__)
    assert [int(w) for w in module.WEIGHTS.values()] == [4, 2, 1]
    assert (mutation.PACKAGE / "engine.py").read_text() == original  # the source on disk is never touched


def test_a_mutant_the_tests_notice_is_killed() -> None:
    found, _ = mutation.mutants("engine.py")
    weight = next(m for m in found if m.what == "3 -> 4")
    status, _ = mutation.run(weight, ["tests/checker/test_engine.py"], 120)
    assert status == "killed"
    assert mutation.run(None, ["tests/checker/test_engine.py"], 120)[0] == "survived"  # the tests pass unmutated
