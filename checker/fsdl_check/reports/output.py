"""Writing a report to `--output FILE` without following a link and without leaving a half-written file.

The generated CI writes `--output fsdl.sarif` inside the checkout, where a pull request can commit
`fsdl.sarif -> ../anything`: writing through that link would overwrite a file outside the repository. So an existing
link is refused, and the report is written to a fresh temporary file in the same directory (created exclusively,
so it cannot be a link either) and renamed over the target, which replaces a directory entry and never follows one.
A device or a named pipe (`--output /dev/null`) is written in place: git cannot commit either.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


class OutputError(Exception):
    """The report could not be written (one line, naming the file)."""


def write_report(text: str, output: str) -> None:
    target = Path(output)
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise OutputError(f"cannot write {output}: {exc.strerror or exc}") from None
    if st is not None and stat.S_ISLNK(st.st_mode):
        raise OutputError(f"cannot write {output}: it is a symbolic link (remove it, or choose another file)")
    if st is not None and (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
        _write_stream(text, output)  # /dev/null, /dev/stdout, a pipe: the user's own, never in a repository
        return
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise OutputError(f"cannot write {output}: not a regular file")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"cannot write {output}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        # mkstemp makes the file private (0600); a report gets the mode a new file would get, or the old file's.
        Path(temporary).chmod(stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~_umask())
        Path(temporary).replace(target)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise OutputError(f"cannot write {output}: {exc.strerror or exc}") from None


def _write_stream(text: str, output: str) -> None:
    """A device or a pipe is written in place: it cannot be renamed over, and git cannot commit one."""
    try:
        fd = os.open(output, os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    except OSError as exc:
        raise OutputError(f"cannot write {output}: {exc.strerror or exc}") from None


def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it; restored at once
    os.umask(mask)
    return mask
