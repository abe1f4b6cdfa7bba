"""A Python module made with `gather=False` (tests, documentation, examples): its syntax verdict at once, its facts
on first use, and no parse at all for a question its text cannot answer yes to."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fsdl_check.parsing.python import PythonModule

TRAIN = "import torch\nfrom lightning import Trainer\n\n\ndef main(model):\n    Trainer(max_epochs=1).fit(model)\n"


def test_the_verdict_comes_without_the_facts() -> None:
    module = PythonModule("tests/train.py", TRAIN, gather=False)
    assert module.parsed and not module.gathered


def test_a_question_the_text_can_answer_yes_to_gathers_the_facts() -> None:
    module = PythonModule("tests/train.py", TRAIN, gather=False)
    assert module.imports_any("torch") == 1
    assert module.gathered
    assert [c.name for c in module.calls_named("fit")] == ["Trainer.fit"]  # `Trainer(...).fit` as a dotted name


@pytest.mark.parametrize(
    "ask",
    [
        lambda m: m.imports_any("mlflow", "wandb"),  # never named
        lambda m: m.imports_any("ray"),  # only inside a word ("array")
        lambda m: m.calls_named("seed_everything"),
        lambda m: m.calls_named("L.seed_everything"),  # a dotted name: its last part is what the text must hold
    ],
)
def test_a_question_the_text_cannot_answer_yes_to_parses_nothing(ask: Callable[[PythonModule], object]) -> None:
    module = PythonModule("tests/t.py", TRAIN + "x = torch.array([1])\n", gather=False)
    assert not ask(module)
    assert not module.gathered


def test_a_non_ascii_name_that_normalises_to_the_asked_one_is_found() -> None:
    # Python reads identifiers in NFKC form: `import` of "ray" in fullwidth letters imports ray, and the text never
    # spells "ray"
    module = PythonModule("tests/t.py", "import \uff52\uff41\uff59\n", gather=False)
    assert (
        module.imports_any("ray") == 1 == PythonModule("tests/t.py", "import \uff52\uff41\uff59\n").imports_any("ray")
    )


def test_what_only_the_symbol_table_rejects_gets_the_parsers_verdict() -> None:
    # `nonlocal` at module level parses (ast.parse takes it) but fails the symbol table pass the quick check runs
    text = "nonlocal x\nimport os\n"
    module = PythonModule("tests/t.py", text, gather=False)
    eager = PythonModule("tests/t.py", text)
    assert (module.parsed, module.error) == (eager.parsed, eager.error) == (True, None)
    assert module.imports_any("os") == 2


def test_a_syntax_error_is_the_same_either_way() -> None:
    text = "import os\n\ndef f(:\n    pass\n"
    module = PythonModule("tests/t.py", text, gather=False)
    eager = PythonModule("tests/t.py", text)
    assert not module.parsed
    assert (module.error, module.error_line) == (eager.error, eager.error_line)
    assert module.imports_any("os") is None and module.facts() == eager.facts()  # no facts from a broken module


def test_the_cache_keeps_only_the_verdict_of_an_ungathered_module() -> None:
    module = PythonModule("tests/train.py", TRAIN, gather=False)
    assert module.facts() == [None, None]
    again = PythonModule.from_facts("tests/train.py", TRAIN, module.facts())
    assert again.parsed and not again.gathered
    assert again.facts() == [None, None]
    assert [c.name for c in again.calls] == [c.name for c in PythonModule("tests/train.py", TRAIN).calls]
