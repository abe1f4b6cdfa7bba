"""`python -m fsdl_check.deadline SECONDS [fsdl-check arguments]`: fsdl-check with a bound on its run time.

The pre-commit hook and the GitHub Action run through this, so an input that makes an audit slow (however it does)
costs the user a bounded wait and a one-line error, never a hung commit or a job that runs until CI kills it.
A timer thread ends the process: it works on every platform, unlike SIGALRM, and needs no second process.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence

EXIT_ERROR = 2
#: The timer thread's name: parsing workers are forked beside it (see `fsdl_check.parsing.parallel`), since it only
#: sleeps and holds no lock a forked child could need.
THREAD_NAME = "fsdl-check deadline"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        seconds = float(args[0])
        if not 0 < seconds < 1e7:
            raise ValueError
    except (IndexError, ValueError):
        print("fsdl-check: error: usage: python -m fsdl_check.deadline SECONDS [ARGS...]", file=sys.stderr)
        return EXIT_ERROR

    def expire() -> None:
        sys.stderr.write(
            f"fsdl-check: error: the audit took longer than its time limit of {seconds:g} s and was stopped"
            " (report the repository that caused it; --exclude can leave the slow files out meanwhile)\n"
        )
        sys.stderr.flush()
        os._exit(EXIT_ERROR)

    timer = threading.Timer(seconds, expire)
    timer.name, timer.daemon = THREAD_NAME, True
    timer.start()
    from fsdl_check.cli import main as audit  # after the timer: importing the rules is part of the run

    try:
        return audit(args[1:])
    finally:
        timer.cancel()


if __name__ == "__main__":
    sys.exit(main())
