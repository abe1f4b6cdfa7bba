"""`python -m fsdl_check`: the same command as `fsdl-check`."""

import sys

from fsdl_check.cli import main

if __name__ == "__main__":
    sys.exit(main())
