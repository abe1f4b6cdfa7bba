"""The fact cache: what was gathered from a Python file, remembered by the hash of its content.

An audit of an unchanged repository should not parse its modules again. Each module's facts (`PythonModule.facts`)
are kept as one small JSON file named by the hash of the module's text, in a directory named by the checker's
version, the Python version (what parses depends on it) and a hash of the code that gathers the facts, so a change to
any of them starts a fresh directory instead of reading facts of another shape. Content-addressed entries need no
invalidation: a changed file has another name, and identical files (in two clones, or two repositories) share one.

The cache is an optimisation and never a reason for an audit to fail or differ: an entry that cannot be read, does
not decode or has the wrong shape is a miss (and is written again); a directory that cannot be created or written
leaves the audit uncached, silently. Concurrent audits are safe: an entry is written to a temporary file beside it
and renamed into place, which is atomic, so a reader sees a whole entry or none.

Where: `$FSDL_CHECK_CACHE_DIR` when set, else `$XDG_CACHE_HOME/fsdl-check`, else `%LOCALAPPDATA%\\fsdl-check` on
Windows and `~/.cache/fsdl-check` elsewhere. Deleting the directory at any time is safe.
"""

from __future__ import annotations

# hashlib is imported where a digest is made: loading OpenSSL is 2 ms, a 70th of a small audit
import contextlib
import json
import os
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fsdl_check import __version__

if TYPE_CHECKING:  # imported where used: the report cache reads entries without parsing anything
    from fsdl_check.parsing.python import PythonModule

#: Overrides the cache directory (the directory is created when missing).
CACHE_DIR_VARIABLE = "FSDL_CHECK_CACHE_DIR"


def default_directory() -> Path:
    """The user's cache directory for fsdl-check (see the module's docstring)."""
    explicit = os.environ.get(CACHE_DIR_VARIABLE)
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and Path(xdg).is_absolute():  # the XDG spec: a relative value is invalid and ignored
        return Path(xdg) / "fsdl-check"
    local = os.environ.get("LOCALAPPDATA")
    if sys.platform == "win32" and local:
        return Path(local) / "fsdl-check"
    return Path.home() / ".cache" / "fsdl-check"


@cache
def generation() -> str:
    """What the cached facts depend on besides the file: checker version, Python version, the gathering code."""
    from hashlib import blake2b

    code = (Path(__file__).parent / "parsing" / "python.py").read_bytes()  # its path: importing it costs a warm run
    digest = blake2b(code, digest_size=6).hexdigest()
    return f"{__version__}-py{sys.version_info[0]}{sys.version_info[1]}-{digest}"


def content_key(text: str) -> str:
    from hashlib import blake2b

    return blake2b(text.encode("utf-8", "surrogatepass"), digest_size=20).hexdigest()


class FactCache:
    """Facts of Python modules by the hash of their text, under `directory` (see the module's docstring)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = (directory or default_directory()) / generation()
        self.writable = True  # until a write fails: then the rest of the audit does not try again
        self.hits = 0
        self.misses = 0

    def _entry(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key[2:]}.json"

    def get(self, key: str) -> list[Any] | None:
        """The facts stored under `key`, or None (absent, unreadable or damaged: all the same to the caller)."""
        try:
            with open(self._entry(key), "rb") as fh:
                entry = json.loads(fh.read())
        except (OSError, ValueError, RecursionError):  # not JSON, not UTF-8, nested too deep to decode
            entry = None
        if type(entry) is list and len(entry) == 2 and entry[0] == key and type(entry[1]) is list:
            self.hits += 1
            return entry[1]
        self.misses += 1
        return None

    def put(self, key: str, facts: list[Any]) -> None:
        """Store `facts` under `key`: written beside the entry, then renamed over it (atomic on POSIX and Windows)."""
        if not self.writable:
            return
        path = self._entry(key)
        try:
            data = json.dumps([key, facts], separators=(",", ":")).encode()
            path.parent.mkdir(parents=True, exist_ok=True)
            import tempfile  # here: a run answered from the caches writes nothing

            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                Path(temporary).replace(path)
            except BaseException:
                with contextlib.suppress(OSError):
                    Path(temporary).unlink()
                raise
        except (OSError, ValueError):  # read-only, full, or not ours: the audit goes on without the cache
            self.writable = False


def parse_cached(
    sources: list[tuple[str, str]], cache: FactCache | None, lazy: frozenset[str] = frozenset()
) -> list[PythonModule]:
    """`parse_modules(sources, lazy)`, but modules whose text `cache` knows are rebuilt from their facts, and the
    facts of the others are stored once they are parsed. The same modules, facts and order as without a cache (an
    entry holds what was gathered: a module of `lazy` may come back with its facts, another without them, to be
    gathered on first use)."""
    from fsdl_check.parsing.parallel import parse_modules
    from fsdl_check.parsing.python import PythonModule

    if cache is None:
        return parse_modules(sources, lazy)
    keys = [content_key(text) for _, text in sources]
    found: list[PythonModule | None] = []
    for (path, text), key in zip(sources, keys, strict=True):
        facts = cache.get(key)
        module = None
        if facts is not None:
            try:
                module = PythonModule.from_facts(path, text, facts)
            except (TypeError, ValueError):  # an entry of the wrong shape: parsed again and written over
                cache.hits, cache.misses = cache.hits - 1, cache.misses + 1
        found.append(module)
    missing = [i for i, module in enumerate(found) if module is None]
    for i, module in zip(missing, parse_modules([sources[i] for i in missing], lazy), strict=True):
        found[i] = module
        cache.put(keys[i], module.facts())
    return [module for module in found if module is not None]
