"""SL rules: each fires, at the right place, on a small bad repository and stays quiet on good ones.

Tried on real repositories (SL, fsdl-check 0.1.0): pytorch/examples (distributed/*/slurm/sbatch_run.sh: no --time,
no signal or requeue: reported), pytorch/torchtitan (multinode_trainer.slurm: the same; its `srun torchrun` is
not checked for tasks per node), mila-iqia/ResearchTemplate (.github/launch_actions_runner.sh starts a CI runner,
no trainer: not reported after the first try, which asked it for a signal), lightning-hydra-template and
pytorch-lightning (no batch scripts), and public scripts found by their `#SBATCH --signal` lines: a `B:USR1` with
a trap and a trainer in the foreground (the trap runs too late: reported, which led to the foreground check), a
`USR1@600` to `srun ${PYTHON} ...` (a launch through a variable: not judged), two `--signal` lines (the last one
wins, as in sbatch).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fsdl_check.config import Config
from fsdl_check.engine import audit
from fsdl_check.model import Finding, ProjectKind, Status
from fsdl_check.testing import run_rule as run

MakeRepo = Callable[..., Path]

LIGHTNING = "import lightning as L\n\ntrainer = L.Trainer()\ntrainer.fit(model)\n"
#: A batch script that does everything right (what the template's launch/slurm script is meant to look like).
GOOD = """\
#!/bin/bash
#SBATCH --job-name=train
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=2
#SBATCH --gpus-per-node=2
#SBATCH --cpus-per-task=4
#SBATCH --time=04:00:00
#SBATCH --output=logs/%x-%j.out
#SBATCH --signal=USR1@90
#SBATCH --requeue
set -euo pipefail
srun python -m pkg fit --config configs/default.yaml --trainer.devices "$SLURM_NTASKS_PER_NODE"
"""


def where(findings: list[Finding]) -> list[tuple[str, int | None, str]]:
    return [(f.path, f.line, f.message) for f in findings]


def test_the_good_script_passes_every_rule(make_repo: MakeRepo) -> None:
    root = make_repo({"launch/slurm/train.sbatch": GOOD, "train.py": LIGHTNING})
    for code in ("SL001", "SL002", "SL003"):
        assert run(code, root) == [], code


def test_the_bad_script_of_the_acceptance_check(make_repo: MakeRepo) -> None:
    # No Python at all: the rules still apply (they are not for training projects only).
    root = make_repo({"train.sbatch": "#!/bin/bash\n#SBATCH --job-name=x\n#SBATCH --nodes=1\npython train.py\n"})
    report = audit(root, Config(select=("SL",), project_kind=ProjectKind.LIBRARY))
    status = {r.code: r.status for r in report.results if r.code.startswith("SL")}
    assert status == {"SL001": Status.FAIL, "SL002": Status.FAIL, "SL003": Status.PASS}


# -- SL001 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "line", "message"),
    [
        (
            "#SBATCH -N 1\n",
            2,
            "no --time: the job gets the partition's default limit and cannot be backfilled",
        ),
        (
            "#SBATCH -t 60\n#SBATCH -p gpu-a100\n",
            3,
            "a GPU job (partition gpu-a100) that asks for no GPU (--gres=gpu:N or --gpus-per-node=N)",
        ),
        (
            "#SBATCH -t 60\n#SBATCH -o train.log\n",
            3,
            "--output=train.log has no %j: every job overwrites the same log",
        ),
        (
            "#SBATCH -t 60\n#SBATCH --error logs/err.txt\n",
            3,
            "--error=logs/err.txt has no %j: every job overwrites the same log",
        ),
    ],
)
def test_sl001_fires(make_repo: MakeRepo, header: str, line: int, message: str) -> None:
    root = make_repo({"job.sh": "#!/bin/bash\n" + header + "srun python train.py\n"})
    assert where(run("SL001", root)) == [("job.sh", line, message)]


def test_sl001_a_gpu_accelerator_on_the_command_line_needs_a_gpu_request(make_repo: MakeRepo) -> None:
    root = make_repo({"job": "#SBATCH -t 5\nsrun python train.py --trainer.accelerator gpu\n"})
    assert [f.message for f in run("SL001", root)] == [
        "a GPU job (--trainer.accelerator gpu (line 2)) that asks for no GPU (--gres=gpu:N or --gpus-per-node=N)"
    ]


@pytest.mark.parametrize(
    "header",
    [
        "#SBATCH -t 60 -p cpu\n",  # a CPU job is not asked for GPUs
        "#SBATCH -t 60 -p gpu --gres=gpu:1\n",
        "#SBATCH -t 60 -p gpu -G 1 -o logs/%A_%a.out -e /dev/null\n",
        "#SBATCH --time=1-00:00:00 --output=slurm-%J.out\n",
    ],
)
def test_sl001_quiet(make_repo: MakeRepo, header: str) -> None:
    assert run("SL001", make_repo({"job.sh": header + "srun python train.py\n"})) == []


def test_sl001_leaves_docs_tests_and_template_sources_alone(make_repo: MakeRepo) -> None:
    files = {"docs/job.sh": "#SBATCH -N 1\n", "tests/data/job.sbatch": "#SBATCH -N 1\n", "{{x}}/j.sh": "#SBATCH -N 1\n"}
    assert run("SL001", make_repo(files)) == []


# -- SL002 --------------------------------------------------------------------------------------------------------
HEADER = "#!/bin/bash\n#SBATCH --time=1:00:00\n#SBATCH --requeue\n"


@pytest.mark.parametrize(
    ("script", "line", "message"),
    [
        (
            HEADER + "#SBATCH --signal=USR1@90\npython train.py\n",
            4,
            "--signal=USR1@90 goes to job steps only, and `python` (line 5) is not started with srun: it never "
            "receives SIGUSR1, and the job just times out",
        ),
        (
            HEADER + "#SBATCH --signal=B:USR1@90\nsrun python train.py\n",
            4,
            "--signal=B:USR1@90 goes to the batch shell only, which does not trap SIGUSR1: the trainer never "
            "receives it, and the shell is killed",
        ),
        (
            HEADER + "#SBATCH --signal=B:USR1@90\ntrap 'kill -USR1 $pid' USR1\ntorchrun train.py\n",
            4,
            "the batch shell traps SIGUSR1, but `torchrun` (line 6) runs in the foreground: bash runs a trap only "
            "after the command it waits for exits, too late (start it with `&` and `wait`)",
        ),
        (
            "#!/bin/bash\n#SBATCH -t 5\nsrun python train.py\n",
            2,
            "the job does not survive its time limit or a preemption: no --signal (the trainer is killed without "
            "warning)",
        ),
        (
            "#!/bin/bash\n#SBATCH -t 5 --no-requeue --signal=USR1@60\nsrun python train.py\n",
            2,
            "the job does not survive its time limit or a preemption: --no-requeue",
        ),
    ],
)
def test_sl002_fires(make_repo: MakeRepo, script: str, line: int, message: str) -> None:
    root = make_repo({"launch/train.sbatch": script, "train.py": LIGHTNING})
    assert where(run("SL002", root)) == [("launch/train.sbatch", line, message)]


def test_sl002_without_lightning_asks_for_a_requeue_and_a_resume(make_repo: MakeRepo) -> None:
    files = {
        "job.sbatch": "#!/bin/bash\n#SBATCH -t 5 --signal=USR1@60\nsrun python train.py\n",
        "train.py": "import torch\nfor batch in loader:\n    loss.backward()\n    opt.step()\n",
    }
    assert [f.message for f in run("SL002", make_repo(files))] == [
        "the job does not survive its time limit or a preemption: no --requeue; the code neither handles the "
        "signal nor loads a checkpoint (a rerun starts over)"
    ]


@pytest.mark.parametrize(
    "body",
    [
        "#SBATCH --signal=B:USR1@90\ntrap 'kill -USR1 $pid' USR1\nsrun python train.py &\npid=$!\nwait\n",
        "#SBATCH --signal=B:USR1@90\nexec python train.py\n",
        "#SBATCH --signal=SIGUSR1@90\nsrun --container-image=img python -m pkg fit\n",
        "#SBATCH --signal=USR1@90\nbash run.sh\n",  # no trainer it can see: not judged
    ],
)
def test_sl002_quiet(make_repo: MakeRepo, body: str) -> None:
    root = make_repo({"job.sh": HEADER + body, "train.py": LIGHTNING})
    assert run("SL002", root) == []


def test_sl002_own_signal_handler_and_checkpoint_count_as_resume(make_repo: MakeRepo) -> None:
    files = {
        "job.sh": HEADER + "#SBATCH --signal=USR1@90\nsrun python train.py\n",
        "train.py": (
            "import signal, torch\nsignal.signal(signal.SIGUSR1, save)\nmodel.load_state_dict(torch.load('ckpt.pt'))\n"
        ),
    }
    assert run("SL002", make_repo(files)) == []


# -- SL003 --------------------------------------------------------------------------------------------------------
def test_sl003_tasks_against_the_devices_of_the_config(make_repo: MakeRepo) -> None:
    files = {
        "job.sh": "#SBATCH -t 5 --ntasks-per-node=2\nsrun python -m pkg fit --config configs/ddp.yaml\n",
        "configs/ddp.yaml": "trainer:\n  accelerator: cpu\n  devices: 4\n",
    }
    assert where(run("SL003", make_repo(files))) == [
        (
            "job.sh",
            1,
            "2 task(s) per node, but the trainer runs with devices=4 (configs/ddp.yaml line 3): Lightning stops with "
            "a mismatch error",
        )
    ]


def test_sl003_the_command_line_overrides_the_config(make_repo: MakeRepo) -> None:
    files = {
        "job.sh": "#SBATCH -t 5\n#SBATCH -N 2 --ntasks-per-node=2\n"
        "srun python -m pkg fit -c c.yaml --trainer.devices=2\n",
        "c.yaml": "trainer:\n  devices: 4\n  num_nodes: 1\n",
    }
    assert where(run("SL003", make_repo(files))) == [
        ("job.sh", 2, "2 node(s), but the trainer runs with num_nodes=1 (c.yaml line 3)")
    ]


def test_sl003_several_tasks_without_srun(make_repo: MakeRepo) -> None:
    root = make_repo({"job.sh": "#SBATCH -t 5\n#SBATCH --ntasks-per-node=4\npython train.py\n"})
    assert where(run("SL003", root)) == [
        (
            "job.sh",
            2,
            "4 tasks per node, but `python` (line 3) is not started with srun: it runs once, and a trainer that reads "
            "the SLURM variables waits for the other processes forever",
        )
    ]


def test_sl003_gpus_per_node_against_tasks_per_node(make_repo: MakeRepo) -> None:
    root = make_repo({"job.sh": "#SBATCH -t 5\n#SBATCH --ntasks-per-node=1\n#SBATCH --gres=gpu:4\nsrun python t.py\n"})
    assert where(run("SL003", root)) == [("job.sh", 3, "4 GPU(s) per node but 1 task(s) per node: GPUs stay idle")]


@pytest.mark.parametrize(
    "script",
    [
        GOOD,
        "#SBATCH --ntasks-per-node=1 --gpus-per-node=8\nsrun torchrun --nproc-per-node 8 train.py\n",
        "#SBATCH --ntasks-per-node=4 --gpus-per-task=1\nsrun python train.py --trainer.devices 4\n",
        "#SBATCH -N 2\nsrun python train.py --trainer.devices auto\n",
        "#SBATCH --ntasks-per-node=2\nsrun python train.py --trainer.num_nodes $SLURM_NNODES\n",
    ],
)
def test_sl003_quiet(make_repo: MakeRepo, script: str) -> None:
    assert run("SL003", make_repo({"job.sh": script})) == []


# -- boundaries (each test pins a behaviour a small slip in the rule would change) ---------------------------------
def test_sl001_a_header_without_options_is_reported_on_line_1(make_repo: MakeRepo) -> None:
    root = make_repo({"job.sh": "#SBATCH\nsrun python train.py\n"})
    assert where(run("SL001", root)) == [
        ("job.sh", 1, "no --time: the job gets the partition's default limit and cannot be backfilled")
    ]


def test_sl001_an_accelerator_option_without_a_value_is_no_gpu_job(make_repo: MakeRepo) -> None:
    assert run("SL001", make_repo({"job.sh": "#SBATCH -t 5\nsrun python train.py --accelerator\n"})) == []


NO_RESUME = (
    "the job does not survive its time limit or a preemption: the code neither handles the signal nor loads a "
    "checkpoint (a rerun starts over)"
)


@pytest.mark.parametrize(
    "code",
    [
        "import signal\nsignal.signal(signal.SIGUSR1, save)\n",  # a handler, but nothing to resume from
        "import torch\nprint('send SIGUSR1 to save')\nmodel.load_state_dict(torch.load('ckpt.pt'))\n",  # no handler
        "import signal, torch\nsignal.signal(signal.SIGINT, stop)\nmodel.load_state_dict(torch.load('ckpt.pt'))\n",
        "import signal, torch\nsignal.signal(signal.SIGUSR1, save)\ntorch.save(model, 'ckpt.pt')\n",  # saves only
        "import signal\nsignal.signal(signal.SIGUSR1, save)\nmodel.load_state_dict(pretrained)\n",  # weights, no ckpt
    ],
)
def test_sl002_resume_needs_a_handler_for_the_signal_and_a_checkpoint_load(make_repo: MakeRepo, code: str) -> None:
    files = {"job.sh": HEADER + "#SBATCH --signal=USR1@90\nsrun python train.py\n", "train.py": code}
    assert where(run("SL002", make_repo(files))) == [("job.sh", 2, NO_RESUME)]


@pytest.mark.parametrize(
    "code",
    [
        "import signal, torch\nsignal.signal(signal.SIGTERM, save)\nmodel.load_state_dict(torch.load(path))\n"
        "# resumes from the last checkpoint\n",
        "import signal\nsignal.signal(signal.SIGUSR1, save)\nfit(model, ckpt_path=last)\n",
    ],
)
def test_sl002_a_sigterm_handler_and_a_checkpoint_load_count_as_resume(make_repo: MakeRepo, code: str) -> None:
    files = {"job.sh": HEADER + "#SBATCH --signal=USR1@90\nsrun python train.py\n", "train.py": code}
    assert run("SL002", make_repo(files)) == []


def test_sl002_lightning_in_the_tests_does_not_make_the_code_resume(make_repo: MakeRepo) -> None:
    files = {
        "job.sh": HEADER + "#SBATCH --signal=USR1@90\nsrun python train.py\n",
        "train.py": "import torch\nfor batch in loader:\n    opt.step()\n",
        "tests/test_fit.py": LIGHTNING,
    }
    assert where(run("SL002", make_repo(files))) == [("job.sh", 2, NO_RESUME)]


def test_sl002_a_background_trainer_that_is_never_waited_for_is_reported(make_repo: MakeRepo) -> None:
    script = HEADER + "#SBATCH --signal=B:USR1@90\ntrap 'kill -USR1 $pid' USR1\nsrun python train.py &\n"
    assert where(run("SL002", make_repo({"job.sh": script, "train.py": LIGHTNING}))) == [
        (
            "job.sh",
            4,
            "the batch shell traps SIGUSR1, but `python` (line 6) runs in the foreground: bash runs a trap only "
            "after the command it waits for exits, too late (start it with `&` and `wait`)",
        )
    ]


def test_sl002_a_trainer_started_with_and_wait_on_one_line_gets_the_trap(make_repo: MakeRepo) -> None:
    # the form the rule's own fix names (`python train.py & wait`); it was once reported as a foreground trainer
    script = HEADER + "#SBATCH --signal=B:USR1@90\ntrap 'kill -USR1 $pid' USR1\nsrun python train.py & wait\n"
    assert run("SL002", make_repo({"job.sh": script, "train.py": LIGHTNING})) == []


def test_sl002_a_script_without_a_trainer_does_not_end_the_check(make_repo: MakeRepo) -> None:
    files = {"a.sh": HEADER + "bash run.sh\n", "b.sh": HEADER + "srun python train.py\n", "train.py": LIGHTNING}
    assert where(run("SL002", make_repo(files))) == [
        ("b.sh", 2, "the job does not survive its time limit or a preemption: no --signal (the trainer is killed "
         "without warning)")
    ]  # fmt: skip


def test_sl003_a_config_beside_the_script(make_repo: MakeRepo) -> None:
    files = {
        "launch/job.sh": "#SBATCH -t 5 --ntasks-per-node=2\nsrun python -m pkg fit --config ddp.yaml\n",
        "launch/ddp.yaml": "trainer:\n  devices: 4\n",
    }
    assert where(run("SL003", make_repo(files))) == [
        (
            "launch/job.sh",
            1,
            "2 task(s) per node, but the trainer runs with devices=4 (launch/ddp.yaml line 2): Lightning stops with "
            "a mismatch error",
        )
    ]


def test_sl003_a_config_path_from_the_root_for_a_script_in_a_directory(make_repo: MakeRepo) -> None:
    files = {
        "launch/job.sh": "#SBATCH -t 5 --ntasks-per-node=2\nsrun python -m pkg fit --config configs/ddp.yaml\n",
        "configs/ddp.yaml": "trainer:\n  devices: 4\n",
    }
    assert [f.message for f in run("SL003", make_repo(files))] == [
        "2 task(s) per node, but the trainer runs with devices=4 (configs/ddp.yaml line 2): Lightning stops with "
        "a mismatch error"
    ]


def test_sl003_devices_on_the_command_line_against_tasks(make_repo: MakeRepo) -> None:
    root = make_repo({"job.sh": "#SBATCH --ntasks-per-node=2\nsrun python train.py --trainer.devices 4\n"})
    assert where(run("SL003", root)) == [
        ("job.sh", 1, "2 task(s) per node, but the trainer runs with devices=4 (line 2): Lightning stops with a "
         "mismatch error")
    ]  # fmt: skip


def test_sl003_a_devices_mismatch_is_reported_without_the_gpu_count(make_repo: MakeRepo) -> None:
    script = "#SBATCH --ntasks-per-node=2 --gpus-per-node=4\nsrun python train.py --trainer.devices 4\n"
    assert [f.message for f in run("SL003", make_repo({"job.sh": script}))] == [
        "2 task(s) per node, but the trainer runs with devices=4 (line 2): Lightning stops with a mismatch error"
    ]


def test_sl003_two_tasks_without_srun_are_reported_one_is_fine(make_repo: MakeRepo) -> None:
    two = make_repo({"job.sh": "#SBATCH --ntasks-per-node=2\npython train.py\n"})
    assert [f.message.split(",")[0] for f in run("SL003", two)] == ["2 tasks per node"]
    one = make_repo({"job.sh": "#SBATCH --ntasks-per-node=1\npython train.py\n"})
    assert run("SL003", one) == []


@pytest.mark.parametrize(
    "script",
    [
        "#SBATCH -t 5\nbash run.sh\n",  # no trainer at all
        # a spawning launcher starts the per-device processes, whatever else the script runs
        "#SBATCH --ntasks-per-node=1 --gpus-per-node=8\nsrun python prep.py\nsrun torchrun --nproc-per-node 8 t.py\n",
    ],
)
def test_sl003_scripts_it_does_not_judge(make_repo: MakeRepo, script: str) -> None:
    assert run("SL003", make_repo({"job.sh": script})) == []


def test_sl003_a_torchrun_script_does_not_end_the_check(make_repo: MakeRepo) -> None:
    files = {
        "a.sh": "#SBATCH --ntasks-per-node=1 --gpus-per-node=8\nsrun torchrun --nproc-per-node 8 train.py\n",
        "b.sh": "#SBATCH --ntasks-per-node=1 --gpus-per-node=4\nsrun python train.py\n",
    }
    assert where(run("SL003", make_repo(files))) == [
        ("b.sh", 1, "4 GPU(s) per node but 1 task(s) per node: GPUs stay idle")
    ]
