"""SL: SLURM — batch scripts that ask for what they use (time, GPUs), keep one log per job, survive their time limit
(a warning signal the trainer receives, a requeue, a resume) and start as many tasks per node as the trainer has
devices.

Which scripts count: every file whose leading comment block has `#SBATCH` lines (see `parsing.sbatch`), except test,
documentation, example and benchmark code and project-template sources (`kind.is_auxiliary`). sbatch reads only
that leading block; options given on the command line (`sbatch --time=... job.sbatch`) or by `SBATCH_*`
environment variables are not seen.

What a "launch" is: a command of the script's body that starts a job step (`srun ...`) or a trainer (`python`,
`torchrun`, ...), seen through `exec`, wrappers and containers (`apptainer exec IMAGE python ...`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fsdl_check.kind import is_auxiliary
from fsdl_check.model import Finding, Rule, Severity
from fsdl_check.parsing.python import PythonModule
from fsdl_check.parsing.sbatch import Launch, SbatchScript
from fsdl_check.parsing.yamlfile import LineDict
from fsdl_check.regex import lazy
from fsdl_check.repo import Repo

SBATCH = "launch/slurm/train.sbatch"
#: Partition names that say the nodes have GPUs.
GPU_PARTITION = lazy(r"gpu|cuda|a100|h100|h200|v100|a40|l40|rtx|tesla", re.IGNORECASE)
#: Log-file patterns that make the name unique per job (`%j` job id, `%J` job.step, `%A` array master job id).
JOB_ID_PATTERNS = ("%j", "%J", "%A")
#: Values of `trainer.devices` that follow the allocation by construction.
FOLLOWS_SLURM = lazy(r"\$\{?SLURM_(?:NTASKS_PER_NODE|GPUS_ON_NODE|GPUS_PER_NODE|TASKS_PER_NODE)\b")
#: Launchers that start the per-device processes themselves (one task per node starts them all).
SPAWNING = frozenset({"torchrun", "accelerate", "deepspeed", "horovodrun", "mpirun"})


def project_scripts(scripts: list[SbatchScript]) -> list[SbatchScript]:
    return [s for s in scripts if not is_auxiliary(s.path)]


def first_line(script: SbatchScript) -> int:
    return script.options[0].line if script.options else 1


# -- SL001 --------------------------------------------------------------------------------------------------------
def gpu_job(script: SbatchScript) -> str | None:
    """Why the job looks like a GPU job without asking for one (a GPU partition, a GPU accelerator), else None."""
    partition = script.option("partition")
    if partition is not None and any(GPU_PARTITION.search(p) for p in partition.value.split(",")):
        return f"partition {partition.value}"
    for launch in script.trainer_launches:
        for index, word in enumerate(launch.argv):
            key, _, value = word.partition("=")
            if key in ("--trainer.accelerator", "--accelerator", "trainer.accelerator"):
                value = value or (launch.argv[index + 1] if index + 1 < len(launch.argv) else "")
                if value.lower() in ("gpu", "cuda"):
                    return f"{key} {value} (line {launch.line})"
    return None


class SlurmRequests(Rule):
    """Batch scripts set a time limit, ask for the GPUs they use, and log to a file per job (`%j`)

    Without `--time` the job gets the partition's default limit, often its maximum: the scheduler cannot backfill it
    into a gap, so it waits longer, and a hung run burns the whole allowance. A job on a GPU partition (or a
    trainer told to use a GPU) that asks for no GPU (`--gres=gpu:N`, `--gpus-per-node=N`) gets none: the trainer
    falls back to the CPU or fails. An `--output`/`--error` file without `%j` (or `%A` for arrays) is shared by
    every job: each run truncates the last one's log, and two jobs running at once write into the same file. CPU
    jobs are not asked for GPUs; sbatch's default log name (`slurm-%j.out`) is per job already.
    """

    code, severity = "SL001", Severity.WARNING
    fix = f"Add `#SBATCH --time=`, `--gpus-per-node=` and `--output=logs/%x-%j.out`; see the template's `{SBATCH}`."
    template_file = SBATCH
    example = "#!/bin/bash\n#SBATCH --partition=gpu\n#SBATCH --output=train.log\npython train.py"

    def check(self, sbatch_scripts: list[SbatchScript]) -> Iterator[Finding]:
        for script in project_scripts(sbatch_scripts):
            if script.option("time") is None:
                message = "no --time: the job gets the partition's default limit and cannot be backfilled"
                yield self.finding(script.path, first_line(script), message)
            if script.gpu_option is None and (why := gpu_job(script)) is not None:
                message = f"a GPU job ({why}) that asks for no GPU (--gres=gpu:N or --gpus-per-node=N)"
                yield self.finding(script.path, (script.option("partition") or script.options[0]).line, message)
            for name in ("output", "error"):
                option = script.option(name)
                if (
                    option is None
                    or option.value in ("/dev/null", "")
                    or any(p in option.value for p in JOB_ID_PATTERNS)
                ):
                    continue
                message = f"--{name}={option.value} has no %j: every job overwrites the same log"
                yield self.finding(script.path, option.line, message)


# -- SL002 --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)  # mutation: equivalent (never assigned to or hashed)
class Resume:
    """What the repository's code does about preemption: Lightning (which requeues itself on SIGUSR1 under SLURM
    and restores the saved state), or its own signal handler and checkpoint loading."""

    lightning: bool
    handles_signal: bool
    loads_checkpoint: bool
    has_code: bool

    @property
    def resumes(self) -> bool:
        return self.lightning or (self.handles_signal and self.loads_checkpoint) or not self.has_code


CHECKPOINT_LOADS = frozenset({"load_from_checkpoint", "load_state_dict", "load_checkpoint", "restore", "load"})


def resume_support(python: list[PythonModule]) -> Resume:
    modules = [m for m in python if m.parsed and not is_auxiliary(m.path)]
    lightning = any(m.imports_any("lightning", "pytorch_lightning") for m in modules)
    handles = any(
        c.name in ("signal.signal", "signal") and ("SIGUSR1" in m.text or "SIGTERM" in m.text)
        for m in modules
        for c in m.calls
    )
    loads = any(
        (c.last in CHECKPOINT_LOADS and ("ckpt" in m.text or "checkpoint" in m.text)) or "ckpt_path" in c.keywords
        for m in modules
        for c in m.calls
    )
    return Resume(lightning, handles, loads, bool(modules))


def signal_problem(script: SbatchScript) -> str | None:
    """Why the `--signal` never reaches the trainer, or None when it does (or the launches are not recognised)."""
    signal = script.signal
    launches = script.trainer_launches
    if signal is None or not launches:
        return None
    written = script.value("signal")
    if signal.batch_only:
        if any(launch.exec_ for launch in launches):
            return None
        if script.trapped(signal.name) is None:
            return (
                f"--signal={written} goes to the batch shell only, which does not trap SIG{signal.name}: the trainer "
                "never receives it, and the shell is killed"
            )
        foreground = [launch for launch in launches if not launch.background]
        # `srun python train.py & wait` waits on the launch's own line
        waited = any(line >= launch.line for launch in launches if launch.background for line in script.waits)
        if foreground or not waited:
            launch = foreground[0] if foreground else launches[0]
            return (
                f"the batch shell traps SIG{signal.name}, but `{launch.program}` (line {launch.line}) runs in the "
                "foreground: bash runs a trap only after the command it waits for exits, too late (start it with "
                "`&` and `wait`)"
            )
        return None
    if any(launch.srun for launch in launches):
        return None
    launch = launches[0]
    return (
        f"--signal={written} goes to job steps only, and `{launch.program}` (line {launch.line}) is not started "
        f"with srun: it never receives SIG{signal.name}, and the job just times out"
    )


class SlurmPreemption(Rule):
    """Batch jobs get a warning signal their trainer receives, are requeued, and resume

    A job that reaches its time limit or is preempted is killed: without a warning signal (`--signal=USR1@90`)
    nothing saves a checkpoint, without `--requeue` nothing runs it again, and without a resume the rerun starts
    over. sbatch sends the signal to the job steps (processes started with `srun`) unless it is written
    `B:SIG`, which goes to the batch shell only: a plain `--signal=USR1@90` never reaches a `python` started without
    `srun`, and `B:USR1` reaches a trainer only if the script traps and forwards it (or `exec`s the trainer).
    Lightning's SLURM environment handles SIGUSR1 by saving its state and requeueing the job, and restores that state
    when the job runs again; other code needs a signal handler and a checkpoint it loads. A `scontrol requeue` in
    the script counts as a requeue. A trap in the batch shell runs only once the foreground command exits, so a
    trainer the trap should reach runs in the background (`python train.py & wait`). Scripts that start no trainer
    this rule recognises (`python`, `torchrun`, ... directly or through `srun`) are not checked.
    """

    code, severity = "SL002", Severity.INFO
    fix = (
        "Add `#SBATCH --signal=USR1@90` and `#SBATCH --requeue`, start the trainer with `srun` and resume from the "
        f"last checkpoint; see the template's `{SBATCH}`."
    )
    template_file = SBATCH
    example = "#!/bin/bash\n#SBATCH --time=4:00:00\n#SBATCH --signal=USR1@90\npython train.py"

    def check(self, sbatch_scripts: list[SbatchScript], python: list[PythonModule]) -> Iterator[Finding]:
        scripts = project_scripts(sbatch_scripts)
        if not scripts:
            return
        resume = resume_support(python)
        for script in scripts:
            if not script.trainer_launches:
                continue  # it starts no trainer this rule can see (a runner, a service, `bash run.sh`)
            if (problem := signal_problem(script)) is not None and script.signal is not None:
                yield self.finding(script.path, script.signal.line, problem)
            missing = []
            if script.signal is None:
                missing.append("no --signal (the trainer is killed without warning)")
            if script.requeue is False:
                missing.append("--no-requeue")
            elif script.requeue is None and script.requeue_line is None and not resume.lightning:
                missing.append("no --requeue")
            if script.signal is not None and not resume.resumes:
                missing.append("the code neither handles the signal nor loads a checkpoint (a rerun starts over)")
            if missing:
                message = f"the job does not survive its time limit or a preemption: {'; '.join(missing)}"
                yield self.finding(script.path, first_line(script), message)


# -- SL003 --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)  # mutation: equivalent (never assigned to or hashed)
class Setting:
    value: Any
    where: str  # "line 12" or "configs/ddp.yaml line 9"


def trainer_setting(launch: Launch, key: str, repo: Repo, script: SbatchScript) -> Setting | None:
    """`trainer.<key>` as the launch sets it: the last `--config` that sets it, overridden by the command line."""
    found: Setting | None = None
    directory = script.path.rpartition("/")[0]
    for config in launch.configs:
        doc = None
        for candidate in (config.removeprefix("./"), f"{directory}/{config}" if directory else config):
            doc = repo.yaml(candidate) if candidate in repo.paths else None
            if doc is not None:
                break
        data = doc.first if doc is not None else None
        trainer = data.get("trainer") if isinstance(data, dict) else None
        if isinstance(trainer, LineDict) and key in trainer:
            found = Setting(trainer[key], f"{doc.path} line {trainer.line_of(key)}" if doc else config)
    if key in launch.trainer_arguments:
        value, line = launch.trainer_arguments[key]
        found = Setting(value, f"line {line}")
    return found


def as_int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


class SlurmTasksMatchDevices(Rule):
    """Tasks per node match the trainer's devices, and the GPUs per node

    Under SLURM, Lightning runs one process per task: `--ntasks-per-node` must equal `trainer.devices` (and
    `--nodes` `trainer.num_nodes`) or it stops with a mismatch error, and on a GPU job the tasks per node must equal
    the GPUs per node, or GPUs stay idle (or tasks share one). Tasks beyond the first start only under `srun`: a
    `python` run directly by the batch script starts once, and a trainer that reads the SLURM variables waits for
    the others forever. The devices are read from the trainer's command line (`--trainer.devices 4`) and the configs
    it is given (`--config x.yaml`, the last one wins); `--trainer.devices "$SLURM_NTASKS_PER_NODE"` follows the
    allocation by construction. Launchers that start the per-device processes themselves (`torchrun`, `accelerate`,
    `deepspeed`) are not checked.
    """

    code, severity = "SL003", Severity.WARNING
    fix = (
        "Set `--ntasks-per-node` to the trainer's devices per node (or pass `--trainer.devices "
        f'"$SLURM_NTASKS_PER_NODE"`) and start the trainer with `srun`; see the template\'s `{SBATCH}`.'
    )
    template_file = SBATCH
    example = "#SBATCH --ntasks-per-node=1\n#SBATCH --gpus-per-node=4\nsrun python train.py --trainer.devices 4"

    def check(self, sbatch_scripts: list[SbatchScript], repo: Repo) -> Iterator[Finding]:
        for script in project_scripts(sbatch_scripts):
            launches = [launch for launch in script.trainer_launches if launch.program not in SPAWNING]
            if not launches or any(launch.program in SPAWNING for launch in script.trainer_launches):
                continue
            yield from self._check(script, launches, repo)

    def _check(self, script: SbatchScript, launches: list[Launch], repo: Repo) -> Iterator[Finding]:
        tasks_option = script.option("ntasks-per-node") or script.option("ntasks")
        tasks = script.tasks_per_node
        line = tasks_option.line if tasks_option is not None else first_line(script)
        srun = [launch for launch in launches if launch.srun]
        if tasks is not None and tasks > 1 and not srun:
            launch = launches[0]
            message = (
                f"{tasks} tasks per node, but `{launch.program}` (line {launch.line}) is not started with srun: it "
                "runs once, and a trainer that reads the SLURM variables waits for the other processes forever"
            )
            yield self.finding(script.path, line, message)
            return
        launch = (srun or launches)[0]
        devices = trainer_setting(launch, "devices", repo, script)
        gpus = script.gpus_per_node
        reported = False
        if devices is not None and not FOLLOWS_SLURM.search(str(devices.value)):
            count = as_int(devices.value)
            if count is not None and tasks is not None and count != tasks:
                message = (
                    f"{tasks} task(s) per node, but the trainer runs with devices={devices.value} ({devices.where}): "
                    "Lightning stops with a mismatch error"
                )
                yield self.finding(script.path, line, message)
                reported = True
        num_nodes = trainer_setting(launch, "num_nodes", repo, script)
        nodes = script.nodes
        count = as_int(num_nodes.value) if num_nodes is not None else None
        if num_nodes is not None and count is not None and nodes is not None and count != nodes:
            option = script.option("nodes")
            message = f"{nodes} node(s), but the trainer runs with num_nodes={count} ({num_nodes.where})"
            yield self.finding(script.path, option.line if option else first_line(script), message)
        if reported or gpus is None or script.option("gpus-per-task") is not None:
            return
        per_node = tasks
        if per_node is not None and gpus != per_node:
            gpu_line = script.gpu_option.line if script.gpu_option is not None else line
            idle = gpus > per_node  # mutation: equivalent (`>=` alike: gpus != per_node here)
            message = f"{gpus} GPU(s) per node but {per_node} task(s) per node: " + (
                "GPUs stay idle" if idle else "tasks share a GPU"
            )
            yield self.finding(script.path, gpu_line, message)
