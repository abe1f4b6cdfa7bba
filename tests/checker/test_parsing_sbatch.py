"""The sbatch reader: the `#SBATCH` header read the way sbatch reads it, and what the script's body launches."""

from __future__ import annotations

from pathlib import Path

import pytest

from fsdl_check.parsing.sbatch import Signal, has_directives, is_candidate, parse_sbatch
from fsdl_check.repo import Repo


def options(text: str) -> list[tuple[str, str, int]]:
    return [(o.name, o.value, o.line) for o in parse_sbatch("job.sbatch", text).options]


def test_long_and_short_options_with_lines() -> None:
    text = (
        "#!/bin/bash\n"
        "#SBATCH --job-name=x --time 1:00:00  # one hour\n"
        "#SBATCH -N2 -n 8 -o logs/%x-%j.out\n"
        "#SBATCH -t60 -G 2 --requeue\n"
        '#SBATCH --tasks-per-node=4 --comment "a b"\n'
    )
    assert options(text) == [
        ("job-name", "x", 2),
        ("time", "1:00:00", 2),
        ("nodes", "2", 3),
        ("ntasks", "8", 3),
        ("output", "logs/%x-%j.out", 3),
        ("time", "60", 4),
        ("gpus", "2", 4),
        ("requeue", "", 4),
        ("ntasks-per-node", "4", 5),
        ("comment", "a b", 5),
    ]


def test_directives_stop_at_the_first_command_and_commented_ones_do_not_count() -> None:
    text = "#!/bin/bash\n# SBATCH --time=5\n##SBATCH --mem=1G\n\n#SBATCH -N 1\nset -e\n#SBATCH --time=9\n"
    script = parse_sbatch("job.sh", text)
    assert [(o.name, o.value) for o in script.options] == [("nodes", "1")]
    assert script.body_line == 6
    assert script.ignored_directives == (7,)


def test_the_last_option_wins() -> None:
    script = parse_sbatch("j", "#SBATCH --signal=B:SIGTERM@30\n#SBATCH --signal=SIGTERM@60\n#SBATCH --no-requeue\n")
    assert script.signal == Signal("TERM", False, 60, 2)
    assert script.requeue is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("B:USR1@90", ("USR1", True, 90)),
        ("USR1@90", ("USR1", False, 90)),
        ("SIGUSR1", ("USR1", False, 60)),
        ("10@120", ("USR1", False, 120)),
        ("RB:TERM@5", ("TERM", True, 5)),
        ("R:usr2", ("USR2", False, 60)),
    ],
)
def test_signal_forms(value: str, expected: tuple[str, bool, int]) -> None:
    signal = Signal.parse(value, 3)
    assert signal is not None
    assert (signal.name, signal.batch_only, signal.seconds) == expected


def test_an_unreadable_signal_is_none() -> None:
    assert Signal.parse("B:USR1@soon", 1) is None


@pytest.mark.parametrize(
    ("header", "gpus"),
    [
        ("--gres=gpu:2", 2),
        ("--gres=gpu:a100:4", 4),
        ("--gres=gpu", 1),
        ("--gres=mps:50,gpu:2(S:0-1)", 2),
        ("--gpus-per-node=a100:8", 8),
        ("-N 2 --gpus=8", 4),
        ("--ntasks-per-node=4 --gpus-per-task=1", 4),
        ("--mem=4G", None),
    ],
)
def test_gpus_per_node(header: str, gpus: int | None) -> None:
    assert parse_sbatch("j", f"#SBATCH {header}\n").gpus_per_node == gpus


def test_tasks_per_node_from_ntasks_and_nodes() -> None:
    assert parse_sbatch("j", "#SBATCH -N 2 -n 8\n").tasks_per_node == 4
    assert parse_sbatch("j", "#SBATCH -n 3 -N 2\n").tasks_per_node is None
    assert parse_sbatch("j", "#SBATCH --nodes=2-4\n").nodes == 2


def test_launches_through_srun_exec_wrappers_and_containers() -> None:
    text = (
        "#!/bin/bash\n#SBATCH -t 1\n"
        "export X=1\n"
        "srun --ntasks-per-node=4 --container-image=$IMG python -m pkg fit --config configs/a.yaml \\\n"
        "    --trainer.devices=4 2>&1 &\n"
        "wait\n"
        "exec apptainer exec --nv -B /data img.sif python3 train.py --trainer.num_nodes 2\n"
        "OMP_NUM_THREADS=1 uv run torchrun --nproc-per-node 4 train.py\n"
        "srun hostname\n"
        'python -c "import torch\nprint(torch.__version__)\n"\n'
    )
    script = parse_sbatch("job.sbatch", text)
    launches = [(la.line, la.program, la.srun, la.exec_, la.background, la.trains) for la in script.launches]
    assert launches == [
        (4, "python", True, False, True, True),
        (7, "python3", False, True, False, True),
        (8, "torchrun", False, False, False, True),
        (9, "hostname", True, False, False, False),
    ]
    first, second = script.trainer_launches[:2]
    assert first.configs == ("configs/a.yaml",)
    assert first.trainer_arguments == {"devices": ("4", 4)}
    assert second.trainer_arguments == {"num_nodes": ("2", 7)}
    assert script.waits == (6,)


def test_traps_and_requeue() -> None:
    text = "#SBATCH -t 1\ntrap 'kill -USR1 $pid; scontrol requeue $SLURM_JOB_ID' SIGUSR1 15\ntrap - INT\n"
    script = parse_sbatch("j", text)
    assert script.trapped("USR1") == 2
    assert script.trapped("TERM") == 2
    assert script.requeue_line == 2


@pytest.mark.parametrize(
    ("name", "suffix", "expected"),
    [("train.sbatch", ".sbatch", True), ("job", "", True), ("run.sh", ".sh", True), ("README.md", ".md", False)],
)
def test_candidate_names(name: str, suffix: str, expected: bool) -> None:
    assert is_candidate(name, suffix) is expected


def test_directives_must_be_in_the_leading_block() -> None:
    assert has_directives("#!/bin/bash\n\n#SBATCH -t 1\n")
    assert not has_directives("echo hi\n#SBATCH -t 1\n")
    assert not has_directives("# notes: use #SBATCH lines\n")


def test_the_repo_finds_batch_scripts_by_content(tmp_path: Path) -> None:
    for name, text in {
        "launch/train.sbatch": "#!/bin/bash\n#SBATCH -t 1\nsrun python train.py\n",
        "scripts/job": "#SBATCH -N 1\n",
        "run.slurm": "#SBATCH -N 1\n",
        "docs/slurm.md": "#SBATCH -N 1\n",
        "tools/build.sh": "#!/bin/sh\necho '#SBATCH'\n",
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert sorted(s.path for s in Repo(tmp_path).sbatch_scripts) == ["launch/train.sbatch", "run.slurm", "scripts/job"]


def test_srun_held_in_a_variable() -> None:
    text = '#SBATCH -t 1\nlaunch=(srun --kill-on-bad-exit=1)\nSRUN="srun -l"\n'
    text += '"${launch[@]}" python t.py\n$SRUN python t.py\n'
    assert [la.srun for la in parse_sbatch("j", text).trainer_launches] == [True, True]
