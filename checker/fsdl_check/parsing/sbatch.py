"""SLURM batch scripts, read the way `sbatch` reads them (never submitted): the `#SBATCH` header and what the body
launches.

The header:

- `#SBATCH` directives count only in the leading comment block: `sbatch` stops at the first line that is neither
  blank nor a comment, so a directive after the first command is ignored (and so is `# SBATCH` or `##SBATCH`, the
  usual way to switch one off). A line may carry several options and a trailing `# comment`.
- Long options as `--time=1:00:00` or `--time 1:00:00`, short ones as `-t 60`, `-t60` or `-N2`; short options and
  the aliases sbatch accepts (`--tasks-per-node`) are stored under their long name. When an option is given twice
  the last one wins, as in sbatch.
- `--signal=[{R|B}:]SIG[@seconds]` (`B:USR1@90`, `USR1@90`, `SIGUSR1`, `10@120`): the signal by name, whether it
  goes to the batch shell only (`B:`) or to the job steps, and how long before the time limit (60 s by default).
- GPUs per node from `--gres=gpu[:type]:N`, `--gpus-per-node`, `--gpus`/`-G` (spread over the nodes) and
  `--gpus-per-task` (times the tasks per node).

The body: continuation lines are joined and comments dropped; each simple command (split at `;`, `&&`, `||`, `|`,
`&` and new lines) is classified as a launch when it starts a job step (`srun ...`) or a trainer (`python`,
`torchrun`, `accelerate launch`, `deepspeed`, ...), seen through `exec`, environment assignments and wrappers such
as `apptainer exec IMAGE`, `uv run` or `conda run -n ENV`. `trap ... USR1` lines and `scontrol requeue` are noted.

Bounds: only the first `MAX_SCRIPT` characters are read and at most `MAX_COMMANDS` commands classified.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass
from functools import cached_property

from fsdl_check.regex import lazy

#: Longest script read (real batch scripts are a few kilobytes).
MAX_SCRIPT = 200_000
#: Most commands of the body classified.
MAX_COMMANDS = 2_000
#: Suffixes of files that may hold `#SBATCH` lines without being batch scripts (documentation, code, data).
NOT_SCRIPT_SUFFIXES = frozenset({
    ".md", ".rst", ".txt", ".html", ".htm", ".tex", ".ipynb", ".py", ".pyi", ".json", ".yaml", ".yml", ".toml", ".cfg",
    ".ini", ".j2", ".jinja", ".jinja2", ".tmpl", ".tpl", ".template", ".rej", ".orig", ".bak", ".patch", ".diff",
    ".csv", ".log", ".out", ".err", ".c", ".h", ".go", ".rs", ".js", ".ts", ".xml", ".svg", ".r", ".jl", ".lua",
})  # fmt: skip
_DIRECTIVE = lazy(r"^#SBATCH(?:\s|$)")

#: Short options and their long names (sbatch's own table, less the ones that only print or exit).
SHORT = {
    "A": "account", "a": "array", "b": "begin", "c": "cpus-per-task", "C": "constraint", "d": "dependency",
    "D": "chdir", "e": "error", "G": "gpus", "H": "hold", "i": "input", "I": "immediate", "J": "job-name",
    "k": "no-kill", "L": "licenses", "M": "clusters", "m": "distribution", "N": "nodes", "n": "ntasks",
    "O": "overcommit", "o": "output", "p": "partition", "q": "qos", "Q": "quiet", "s": "oversubscribe",
    "S": "core-spec", "t": "time", "v": "verbose", "W": "wait", "w": "nodelist", "x": "exclude",
}  # fmt: skip
#: Short options that take no value.
SHORT_FLAGS = frozenset("HIkOQsvW")
#: Long options that take no value (or only an optional `=value`, which sbatch never reads from the next word).
LONG_FLAGS = frozenset({
    "requeue", "no-requeue", "exclusive", "hold", "wait", "overcommit", "oversubscribe", "contiguous", "no-kill",
    "parsable", "test-only", "spread-job", "use-min-nodes", "ignore-pbs", "get-user-env", "quiet", "verbose",
    "immediate", "reboot", "kill-on-invalid-dep", "nice", "propagate", "export-file", "mail-user", "x11",
})  # fmt: skip
#: Options that take a value only after `=` (optional arguments in sbatch's getopt table).
OPTIONAL_VALUE = frozenset({"exclusive", "no-kill", "get-user-env", "nice", "propagate", "kill-on-invalid-dep"})
ALIASES = {
    "tasks-per-node": "ntasks-per-node",
    "job_name": "job-name",
    "share": "oversubscribe",
    "cpus": "cpus-per-task",
}
#: Signal numbers as Linux numbers them.
SIGNAL_NUMBERS = {
    1: "HUP", 2: "INT", 3: "QUIT", 6: "ABRT", 9: "KILL", 10: "USR1", 12: "USR2", 14: "ALRM", 15: "TERM", 18: "CONT",
    19: "STOP", 20: "TSTP", 23: "URG", 28: "WINCH", 30: "PWR",
}  # fmt: skip
_SIGNAL = lazy(r"^(?:(?P<flags>[RB]{1,2}):)?(?P<sig>[A-Za-z0-9]+)(?:@(?P<time>\d+))?$")
#: Programs that train (or start processes that train).
TRAINERS = frozenset({"python", "python3", "torchrun", "accelerate", "deepspeed", "lightning", "horovodrun", "mpirun"})
_PYTHON = lazy(r"^python(?:\d+(?:\.\d+)?)?$")
#: Wrappers that run the rest of the command line: (program, number of words they consume after their options).
_WRAPPERS = {"exec", "nohup", "time", "stdbuf", "nice", "ionice", "numactl", "taskset", "env", "command", "xargs"}
_RUNNERS = {("uv", "run"), ("poetry", "run"), ("pixi", "run"), ("pdm", "run"), ("hatch", "run"), ("rye", "run")}
_CONTAINERS = {"apptainer", "singularity"}
_TRAP = lazy(r"^\s*trap\s+(?P<rest>.+)$")
_REQUEUE = lazy(r"\bscontrol\s+requeue\b")
_ASSIGNMENT = lazy(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass(frozen=True)
class Option:
    """One `#SBATCH` option: its long name without dashes, its value ("" for a flag), the line, and as written."""

    name: str
    value: str
    line: int
    written: str


@dataclass(frozen=True)
class Signal:
    """A `--signal`: the signal's name without `SIG` (`USR1`), whether only the batch shell gets it (`B:`), and how
    many seconds before the time limit it comes."""

    name: str
    batch_only: bool
    seconds: int
    line: int

    @classmethod
    def parse(cls, value: str, line: int) -> Signal | None:
        match = _SIGNAL.match(value.strip())
        if match is None:
            return None
        sig = match["sig"].upper()
        if sig.isdigit():
            sig = SIGNAL_NUMBERS.get(int(sig), sig)
        sig = sig.removeprefix("SIG")
        seconds = int(match["time"]) if match["time"] else 60
        return cls(sig, "B" in (match["flags"] or ""), seconds, line)


@dataclass(frozen=True)
class Launch:
    """A command of the body that starts a job step or a trainer: `argv` is the trainer's command line (after
    `srun` and its options, `exec`, wrappers and environment assignments), `program` its first word's base name."""

    line: int
    argv: tuple[str, ...]
    srun: bool  # started as a job step
    exec_: bool  # the shell replaces itself with it
    background: bool  # ended with `&`

    @property
    def program(self) -> str:
        return posixpath.basename(self.argv[0]) if self.argv else ""

    @property
    def trains(self) -> bool:
        """Whether it runs a trainer (Python, a distributed launcher), not `srun hostname` or `srun mkdir`."""
        program = self.program
        if _PYTHON.match(program):
            return not any(word in ("-c", "--version", "-V") for word in self.argv[1:2]) and self.argv[1:3] != (
                "-m",
                "pip",
            )
        return program in TRAINERS or bool(self.trainer_arguments)

    @cached_property
    def trainer_arguments(self) -> dict[str, tuple[str, int]]:
        """`--trainer.devices 4`, `--trainer.devices=$SLURM_NTASKS_PER_NODE`, `trainer.devices=4` (Hydra) and
        `--devices 4` as {"devices": (value, line)}, and the same for `num_nodes`; the last one given wins."""
        found: dict[str, tuple[str, int]] = {}
        args = self.argv
        for index, word in enumerate(args):
            key, equals, value = word.lstrip("+").partition("=")
            name = key.removeprefix("--").removeprefix("trainer.")
            if name not in ("devices", "num_nodes", "nodes"):
                continue
            if name == "nodes" and not key.startswith(("--trainer.", "trainer.")):
                continue  # `--nodes` belongs to srun or torchrun, not to the trainer
            if not (key.startswith("--") or key.startswith("trainer.")):
                continue
            if not equals:
                if not key.startswith("--") or index + 1 >= len(args):
                    continue
                value = args[index + 1]
            found["num_nodes" if name == "nodes" else name] = (value, self.line)
        return found

    @cached_property
    def configs(self) -> tuple[str, ...]:
        """Files given with `--config X` / `--config=X` / `-c X` (LightningCLI reads them in order)."""
        out = []
        args = self.argv
        for index, word in enumerate(args):
            if word in ("--config", "-c") and index + 1 < len(args):
                out.append(args[index + 1])
            elif word.startswith("--config="):
                out.append(word.partition("=")[2])
        return tuple(out)


@dataclass(frozen=True)
class SbatchScript:
    """A batch script: its header options in order, and its body's launches, traps and requeues."""

    path: str
    text: str
    options: tuple[Option, ...]
    #: Line of the first command (where sbatch stopped reading directives); None for a header-only script.
    body_line: int | None
    launches: tuple[Launch, ...]
    #: Trapped signal names (without `SIG`) and the line of the first trap for each.
    traps: tuple[tuple[str, int], ...]
    #: Line of the first `scontrol requeue` in the body, if any.
    requeue_line: int | None
    #: `#SBATCH` lines after the first command: sbatch never reads them.
    ignored_directives: tuple[int, ...] = ()
    #: Lines of `wait` commands (a shell that waits for a background trainer can run its traps meanwhile).
    waits: tuple[int, ...] = ()

    def option(self, *names: str) -> Option | None:
        """The option sbatch uses for any of `names` (the last one given)."""
        found = [o for o in self.options if o.name in names]
        return found[-1] if found else None

    def value(self, *names: str) -> str | None:
        option = self.option(*names)
        return option.value if option is not None else None

    @property
    def signal(self) -> Signal | None:
        option = self.option("signal")
        return Signal.parse(option.value, option.line) if option is not None else None

    @property
    def requeue(self) -> bool | None:
        """True for `--requeue`, False for `--no-requeue`, None when neither is given (the cluster decides)."""
        option = self.option("requeue", "no-requeue")
        return None if option is None else option.name == "requeue"

    @property
    def nodes(self) -> int | None:
        """The (minimum) number of nodes when it is a number (`-N 2`, `--nodes=2-4`); 1 when not given."""
        value = self.value("nodes")
        if value is None:
            return 1
        return _int(value.split("-", 1)[0])

    @property
    def tasks_per_node(self) -> int | None:
        """`--ntasks-per-node`, or `--ntasks` spread evenly over a known number of nodes; None when not known."""
        per_node = self.value("ntasks-per-node")
        if per_node is not None:
            return _int(per_node)
        ntasks = self.value("ntasks")
        nodes = self.nodes
        if ntasks is not None and (count := _int(ntasks)) is not None and nodes and count % nodes == 0:
            return count // nodes
        return None

    @property
    def gpu_option(self) -> Option | None:
        """The option that asks for GPUs (the first of gres, gpus-per-node, gpus, gpus-per-task, ... given)."""
        for option in self.options:
            if option.name == "gres" and any(part.startswith("gpu") for part in _gres_parts(option.value)):
                return option
            if option.name in ("gpus", "gpus-per-node", "gpus-per-task", "gpus-per-socket") and option.value:
                return option
        return None

    @property
    def gpus_per_node(self) -> int | None:
        """GPUs each node gets, when the script says it in a way that can be counted."""
        if (gres := self.value("gres")) is not None:
            for part in _gres_parts(gres):
                if part.startswith("gpu"):
                    return _count(part)
        if (per_node := self.value("gpus-per-node")) is not None:
            return _count(per_node)
        if (total := self.value("gpus")) is not None:
            count, nodes = _count(total), self.nodes
            return count // nodes if count is not None and nodes and count % nodes == 0 else None
        if (per_task := self.value("gpus-per-task")) is not None:
            count, tasks = _count(per_task), self.tasks_per_node
            return count * tasks if count is not None and tasks is not None else None
        return None

    def trapped(self, signal: str) -> int | None:
        return next((line for name, line in self.traps if name == signal), None)

    @property
    def trainer_launches(self) -> list[Launch]:
        return [launch for launch in self.launches if launch.trains]


def _int(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() else None


def _gres_parts(value: str) -> list[str]:
    return [part.strip().lower() for part in value.split(",") if part.strip()]


def _count(value: str) -> int | None:
    """The count of `gpu:a100:2`, `a100:2`, `2`, `gpu` (1), `gpu:2(S:0-1)`."""
    value = value.split("(", 1)[0].strip().lower()
    parts = value.split(":")
    if parts[-1].isdigit():
        return int(parts[-1])
    return 1 if parts[0] == "gpu" and len(parts) <= 2 else None


def is_candidate(name: str, suffix: str) -> bool:
    """Whether a file so named may be a batch script (any name but documentation, code and data files)."""
    return suffix not in NOT_SCRIPT_SUFFIXES and not name.lower().startswith(("readme", "changelog", "license"))


def has_directives(text: str) -> bool:
    """Whether the text's leading comment block holds an `#SBATCH` line (a cheap test before parsing)."""
    if "#SBATCH" not in text[:MAX_SCRIPT]:
        return False
    for line in text[:MAX_SCRIPT].splitlines():
        stripped = line.strip()
        if _DIRECTIVE.match(line):
            return True
        if stripped and not stripped.startswith("#"):
            return False
    return False


def _words(text: str) -> list[str]:
    """Shell words of an option text or command (quotes honoured; unbalanced quotes fall back to plain splitting)."""
    try:
        return shlex.split(text, comments=True, posix=True)
    except ValueError:
        return text.split("#", 1)[0].split()


def _header_options(words: list[str], line: int) -> list[Option]:
    out: list[Option] = []
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word.startswith("--") and len(word) > 2:
            key, equals, value = word[2:].partition("=")
            key = ALIASES.get(key, key)
            if not equals and key not in LONG_FLAGS and index < len(words) and not words[index].startswith("-"):
                value = words[index]
                index += 1
            out.append(Option(key, value, line, word))
        elif word.startswith("-") and len(word) > 1 and word[1] in SHORT:
            letter, rest = word[1], word[2:]
            key = SHORT[letter]
            if letter in SHORT_FLAGS:
                out.append(Option(key, "", line, word))
                continue
            if not rest and index < len(words):
                rest = words[index]
                index += 1
            out.append(Option(key, rest.removeprefix("="), line, word))
    return out


#: Most physical lines joined into one logical line (a quote left open would otherwise swallow the whole script).
MAX_JOINED = 200


def _logical_lines(lines: list[str], start: int) -> list[tuple[int, str]]:
    """Lines from index `start` with `\\` continuations and quoted strings that span lines joined: (1-based line of
    the first, text)."""
    out: list[tuple[int, str]] = []
    index = start
    while index < len(lines):
        number = index + 1
        parts = [lines[index]]
        quote = _quote_after(lines[index], "")
        while index + 1 < len(lines) and len(parts) < MAX_JOINED and (parts[-1].endswith("\\") or quote):
            continued = parts[-1].endswith("\\") and not quote
            if continued:
                parts[-1] = parts[-1][:-1] + " "
            index += 1
            parts.append(lines[index] if continued else "\n" + lines[index])
            quote = _quote_after(lines[index], quote)
        out.append((number, "".join(parts)))
        index += 1
    return out


def _quote_after(text: str, quote: str) -> str:
    """The quote still open at the end of `text` when `quote` was open at its start ("" for none)."""
    index = 0
    while index < len(text):
        char = text[index]
        if quote:
            if char == quote:
                quote = ""
            elif char == "\\" and quote == '"':
                index += 1
        elif char in "'\"":
            quote = char
        elif char == "\\":
            index += 1
        elif char == "#" and (index == 0 or text[index - 1] in " \t;&|("):
            return ""
        index += 1
    return quote


def _strip_comment(text: str) -> str:
    """The line without a `#` comment (a `#` that starts a word, outside quotes)."""
    quote = ""
    for index, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or text[index - 1] in " \t;&|("):
            return text[:index]
    return text


_SRUN_VARIABLE = lazy(r"^\s*(?:export\s+|local\s+|readonly\s+)?([A-Za-z_]\w*)=\(?[\"']?(?:\S*/)?srun\b", re.M)


def _launch(words: list[str], line: int, background: bool, srun_names: frozenset[str] = frozenset()) -> Launch | None:
    """The launch a command's words make, if any (see the module docstring); `srun_names` are variables that hold
    an srun command line (`launch=(srun --kill-on-bad-exit=1)` used as `"${launch[@]}"`)."""
    exec_ = srun = False
    index = 0
    while index < len(words):
        word = words[index]
        base = posixpath.basename(word)
        if _ASSIGNMENT.match(word):
            index += 1
        elif base == "srun" or base.endswith("srun}") or word in ("$SRUN", "${SRUN}") or _variable(word) in srun_names:
            srun = True
            index += 1
            while index < len(words) and words[index].startswith("-"):
                option = words[index]
                index += 1
                long_value = option.startswith("--") and "=" not in option and option[2:] not in SRUN_FLAGS
                takes_value = long_value or (len(option) == 2 and option[1] in SRUN_SHORT_VALUES)
                if takes_value and index < len(words):
                    index += 1
        elif base in _WRAPPERS:
            exec_ = exec_ or base == "exec"
            index += 1
            while index < len(words) and words[index].startswith("-"):
                index += 1
        elif (base, words[index + 1] if index + 1 < len(words) else "") in _RUNNERS:
            index += 2
            while index < len(words) and words[index].startswith("-"):
                index += 1
        elif base == "conda" and index + 1 < len(words) and words[index + 1] == "run":
            index += 2
            while index < len(words) and words[index].startswith("-"):
                index += 2 if words[index] in ("-n", "--name", "-p", "--prefix") else 1
        elif base in _CONTAINERS and index + 1 < len(words) and words[index + 1] in ("exec", "run"):
            index += 2
            while index < len(words) and words[index].startswith("-"):
                option = words[index]
                index += 2 if "=" not in option and option in CONTAINER_VALUE_OPTIONS else 1
            index += 1  # the image
        else:
            break
    argv = tuple(words[index:])
    if not srun and not argv:
        return None
    launch = Launch(line, argv, srun, exec_, background)
    return launch if srun or launch.trains else None


def _variable(word: str) -> str:
    """`NAME` for `$NAME`, `${NAME}` and `${NAME[@]}`; "" for any other word."""
    match = re.fullmatch(r"\$\{?([A-Za-z_]\w*)(?:\[[@*]\])?\}?", word)
    return match[1] if match else ""


#: srun's long options without a value (the others take one, after `=` or as the next word).
SRUN_FLAGS = frozenset({
    "exclusive", "overlap", "exact", "unbuffered", "label", "kill-on-bad-exit", "no-kill", "quiet", "verbose",
    "mpi-ignore", "pty", "container-remap-root", "no-container-remap-root", "container-mount-home",
    "no-container-mount-home", "container-writable", "container-readonly", "no-container-entrypoint",
    "container-entrypoint", "export-file", "multi-prog", "oversubscribe", "contiguous", "disable-status", "test-only",
    "overcommit", "spread-job", "use-min-nodes", "preserve-env", "hold", "immediate", "wait",
})  # fmt: skip
SRUN_SHORT_VALUES = frozenset("ACDGJLMNTWcdeimnoptwx")
CONTAINER_VALUE_OPTIONS = frozenset({"-B", "--bind", "--env", "--env-file", "-H", "--home", "-W", "--workdir", "--pwd"})


def parse_sbatch(path: str, text: str) -> SbatchScript:
    """Read a batch script (see the module docstring); it never fails, whatever the text."""
    lines = text[:MAX_SCRIPT].splitlines()
    options: list[Option] = []
    body_start: int | None = None
    for index, line in enumerate(lines):
        stripped = line.strip()
        if _DIRECTIVE.match(line):
            options.extend(_header_options(_words(line[len("#SBATCH") :]), index + 1))
        elif stripped and not stripped.startswith("#"):
            body_start = index
            break
    launches: list[Launch] = []
    traps: dict[str, int] = {}
    ignored: list[int] = []
    requeue_line: int | None = None
    waits: list[int] = []
    srun_names = frozenset(_SRUN_VARIABLE.findall(text[:MAX_SCRIPT])) if "srun" in text else frozenset()
    if body_start is not None:
        for number, logical in _logical_lines(lines, body_start):
            if len(launches) >= MAX_COMMANDS:
                break
            if _DIRECTIVE.match(logical):
                ignored.append(number)
                continue
            code = _strip_comment(logical)
            if not code.strip():
                continue
            if requeue_line is None and _REQUEUE.search(code):
                requeue_line = number
            if (trap := _TRAP.match(code)) is not None:
                for word in [w for w in _words(trap["rest"]) if not w.startswith("-")][1:]:
                    name = word.upper().removeprefix("SIG")
                    name = SIGNAL_NUMBERS.get(int(name), name) if name.isdigit() else name
                    traps.setdefault(name, number)
                continue
            for match_end, piece in _pieces(code):
                background = match_end == "&"
                words = _words(piece.strip().lstrip("({").strip())
                if words and words[0] == "wait":
                    waits.append(number)
                found = _launch(words, number, background, srun_names)
                if found is not None:
                    launches.append(found)
    return SbatchScript(
        path,
        text,
        tuple(options),
        body_start + 1 if body_start is not None else None,
        tuple(launches),
        tuple(traps.items()),
        requeue_line,
        tuple(ignored),
        tuple(waits),
    )


def _pieces(code: str) -> list[tuple[str, str]]:
    """(the separator that ends it, the command) for each simple command of a line: split at `;`, `&&`, `||`, `|`
    and `&` outside quotes (`2>&1`, `&>` and `|&` are redirections, not separators)."""
    out: list[tuple[str, str]] = []
    quote = ""
    start = index = 0
    while index < len(code):
        char = code[index]
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "\\":
            index += 1
        elif char in ";&|":
            pair = code[index : index + 2]
            redirect = char == "&" and (code[index - 1 : index] in (">", "<") or pair == "&>")
            if not redirect:
                separator = pair if pair in ("&&", "||", "|&") else char
                out.append((separator, code[start:index]))
                index += len(separator)
                start = index
                continue
        index += 1
    out.append(("", code[start:]))
    return [(end, piece) for end, piece in out if piece.strip()]
