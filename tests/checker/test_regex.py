"""Patterns compiled on first use: each of the checker's compiles, and a stand-in behaves as its pattern."""

from __future__ import annotations

import gc
import importlib
import pkgutil
import re

import pytest

import fsdl_check
from fsdl_check.regex import _Deferred, lazy


def test_every_deferred_pattern_of_the_checker_compiles() -> None:
    # An invalid pattern would raise only when a rule first uses it: compile them all here instead.
    for info in pkgutil.walk_packages(fsdl_check.__path__, "fsdl_check."):
        importlib.import_module(info.name)
    deferred = [o for o in gc.get_objects() if isinstance(o, _Deferred)]
    assert len(deferred) > 100  # the rule and parser modules' constants
    for stand_in in deferred:
        assert isinstance(re.compile(stand_in.pattern, stand_in.flags), re.Pattern), stand_in


def test_a_stand_in_answers_as_its_pattern_and_then_hands_out_the_patterns_methods() -> None:
    stand_in = lazy(r"(?P<key>[a-z]+)=(\d+)", re.IGNORECASE)
    compiled = re.compile(r"(?P<key>[a-z]+)=(\d+)", re.IGNORECASE)
    text = "A=1 b=22 c=x"

    assert stand_in.search(text)[0] == compiled.search(text)[0] == "A=1"  # type: ignore[index]
    assert [m.span() for m in stand_in.finditer(text)] == [m.span() for m in compiled.finditer(text)]
    assert stand_in.sub("-", text) == compiled.sub("-", text)
    assert stand_in.fullmatch("b=2") is not None and stand_in.match(" b=2") is None
    assert (stand_in.pattern, stand_in.flags, stand_in.groups) == (compiled.pattern, compiled.flags, 2)
    assert stand_in.groupindex == {"key": 1}
    assert isinstance(stand_in.search.__self__, re.Pattern)  # the compiled pattern's own method, no stand-in between


def test_an_invalid_pattern_raises_when_first_used() -> None:
    broken = lazy("(unclosed")  # no error yet
    with pytest.raises(re.error):
        broken.search("x")
