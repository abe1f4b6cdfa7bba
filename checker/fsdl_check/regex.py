"""Regular expressions compiled on first use.

The rule and parser modules hold over a hundred patterns as module constants. Compiled at import, they cost about
13 ms of every run, a tenth of a small repository's audit, although most runs use a fraction of them (a repository
without Dockerfiles, Kubernetes manifests or batch scripts never needs those parsers' patterns). `lazy` returns a
stand-in that compiles its pattern the first time it is used and from then on hands out the compiled pattern's own
methods, so a call costs what it costs on the pattern itself.
"""

from __future__ import annotations

import re
from typing import Any, cast

#: What a stand-in copies from its pattern once compiled: after that, attribute lookups find them directly.
_ATTRIBUTES = (
    "search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split",
    "pattern", "flags", "groups", "groupindex",
)  # fmt: skip


class _Deferred:
    __slots__ = ("__dict__", "_source")

    def __init__(self, pattern: str, flags: int) -> None:
        self._source = (pattern, flags)

    def __getattr__(self, name: str) -> Any:  # only for what is not there yet: the first use
        compiled = re.compile(*self._source)
        for attribute in _ATTRIBUTES:
            setattr(self, attribute, getattr(compiled, attribute))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazy({self._source[0]!r})"


def lazy(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """`re.compile(pattern, flags)`, done when the pattern is first used. An invalid pattern raises there, so every
    pattern is compiled once by the tests (`tests/checker/test_regex.py`)."""
    return cast("re.Pattern[str]", _Deferred(pattern, flags))
