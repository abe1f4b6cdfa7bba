"""Shell commands that CI runs, followed through the indirections projects put in between.

A workflow step rarely says `pytest` outright: it says `make test`, `tox -e lint`, `nox -s tests`, `hatch test`,
`uv run pytest`, `bash scripts/ci.sh`, or hands the command to an action (`with: {pytest_command: ...}`) or to a
reusable workflow. Three layers answer "does any command run pytest?" without knowing how the project wires it:

- `lexer`: shell text to simple commands, environment wrappers removed (`uv run`, `python -m`, `coverage run`);
- `runners`: the task-runner files (Makefile, justfile, tox, nox, hatch/pdm/pixi scripts) read into recipes;
- `resolver`: follows each call into what it runs, through one depth and budget check.

Nothing is executed; what cannot be found is reported as not expanded.
"""

from fsdl_check.rules.ci_commands.lexer import Command, split_shell, unwrap
from fsdl_check.rules.ci_commands.resolver import ci_commands, project_commands, resolve, workflow_commands

__all__ = ["Command", "ci_commands", "project_commands", "resolve", "split_shell", "unwrap", "workflow_commands"]
