"""What every run records or leaves on disk, whatever the tracker: the git commit and the checkpoints."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git_commit() -> str | None:
    """The checked-out commit, or None where there is no git work tree (an unpacked sdist, say)."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607 - git from PATH, as a developer would run it
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip()


def newest_checkpoint(root: Path, *, last: bool) -> Path | None:
    """The newest ``last.ckpt`` (``last``) or best checkpoint (any other) under ``root``; None if none."""
    found = root.glob("**/checkpoints/*.ckpt")
    checkpoints = [path for path in found if path.stem.startswith("last") == last]
    return max(checkpoints, key=lambda path: path.stat().st_mtime, default=None)
