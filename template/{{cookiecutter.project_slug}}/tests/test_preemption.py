"""A run stopped by its cluster resumes where it stopped, into the same tracker run, to the same result.

The command line is started as a user starts it; the signal comes from outside, as `docker stop`, a Kubernetes
eviction or SLURM's warning (SIGUSR1) sends it.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
{%- if cookiecutter.tracker == "mlflow" %}
from mlflow.tracking import MlflowClient
{%- endif %}

from {{ cookiecutter.package_name }}.preemption import EXIT_PREEMPTED
{%- if cookiecutter.tracker == "mlflow" %}
from {{ cookiecutter.package_name }}.tracking import EXPERIMENT_NAME
{%- endif %}

pytestmark = pytest.mark.slow
TRAIN = str(Path(sys.executable).with_name("{{ cookiecutter.project_slug }}-train"))
# Small batches make epochs long enough for a signal to land in the middle of one.
OPTIONS = ("--trainer.max_epochs=3", "--data.batch_size=16")


def command(configs: Path, *options: str) -> list[str]:
    return [TRAIN, "fit", "--config", str(configs / "default.yaml"), *OPTIONS, *options]


def final_weights(root: Path) -> dict[str, torch.Tensor]:
    # Where the trainer writes it (a tracker may keep a copy of its own, under mlartifacts/).
    (last,) = (path for path in root.glob("**/checkpoints/last.ckpt") if "mlartifacts" not in path.parts)
    state: dict[str, torch.Tensor] = torch.load(last, map_location="cpu", weights_only=False)["state_dict"]
    return state


def preempt_and_resume(command: list[str], root: Path, signum: signal.Signals) -> None:
    """Train in ``root``, send ``signum`` in the middle of epoch two, then start the same command again."""
    root.mkdir()
    process = subprocess.Popen(command, cwd=root, stderr=subprocess.PIPE, text=True)  # noqa: S603
    deadline = time.monotonic() + 240
    while not any(root.glob("**/checkpoints/*.ckpt")):  # the first epoch's checkpoint: epoch two has begun
        assert process.poll() is None, "training ended before its first checkpoint"
        assert time.monotonic() < deadline, "no checkpoint after four minutes"
        time.sleep(0.05)
    process.send_signal(signum)
    _, log = process.communicate(timeout=300)
    assert process.returncode == EXIT_PREEMPTED, log[-2000:]
    (record,) = root.glob("**/preempted/*.json")
    saved = root / json.loads(record.read_text())["checkpoint"]  # relative to where training runs
    checkpoint = torch.load(saved, weights_only=False)
    stopped_at = checkpoint["ClassificationData"]
    assert stopped_at["batches"] > 0  # stopped in the middle of an epoch
    print(f"stopped at epoch {stopped_at['epoch']}, batch {stopped_at['batches']}")  # shown when a test fails

    resumed = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=600, check=False)  # noqa: S603

    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming the preempted run of this config" in resumed.stderr
    assert not list(root.glob("**/preempted/*"))  # the finished run cleared its record and checkpoint


# A callback, loaded by class path, that sends the process a stop signal at the first batch of the final test.
LATE_SIGNAL = """
import os
from lightning.pytorch import Callback


class SignalDuringTest(Callback):
    def __init__(self, signum: int) -> None:
        self.signum = signum

    def on_test_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0):
        if batch_idx == 0:
            os.kill(os.getpid(), self.signum)
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGUSR1], ids=["SIGTERM", "SIGUSR1"])
def test_a_stop_signal_after_training_lets_the_final_test_finish(
    configs: Path, tmp_path: Path, signum: signal.Signals
) -> None:
    # Training is over and its preemption record gone: exiting now would have the job requeued or restarted
    # to train again from scratch. The test takes seconds, inside the warning's lead or the grace period.
    (tmp_path / "late_signal.py").write_text(LATE_SIGNAL)
    signalled = [
        "--trainer.max_epochs=1",
        "--trainer.logger=false",
        "--trainer.callbacks+=late_signal.SignalDuringTest",
        f"--trainer.callbacks.signum={int(signum)}",
    ]
    done = subprocess.run(  # noqa: S603
        [TRAIN, "fit", "--config", str(configs / "default.yaml"), *signalled],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert f"{signum.name} after training: finishing the final test first" in done.stderr
    assert "test/acc" in done.stdout
    assert not list(tmp_path.glob("**/preempted/*"))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, torch.Tensor]:
    """The final weights of the same training, never stopped."""
    root = tmp_path_factory.mktemp("uninterrupted")
    configs = Path(__file__).resolve().parents[1] / "configs"
    never_stopped = command(configs, "--trainer.logger=false")
    subprocess.run(never_stopped, cwd=root, check=True, capture_output=True, timeout=600)  # noqa: S603
    return final_weights(root)


# Deterministic mode on one CPU process: the resumed run performs the same operations in the same order on the
# same data and random numbers as the uninterrupted one, so its weights are the very same bits.


def assert_same_weights(root: Path, expected: dict[str, torch.Tensor]) -> None:
    weights = final_weights(root)
    differ = {
        name: float((weights[name] - value).abs().max())
        for name, value in expected.items()
        if not torch.equal(weights[name], value)
    }
    assert not differ, f"weights differ from the uninterrupted run's (largest difference each): {differ}"


{% if cookiecutter.tracker == "mlflow" -%}
# SIGUSR1 is tried with the tracker on, below.
@pytest.mark.parametrize("signum", [signal.SIGTERM], ids=["SIGTERM"])
{%- else -%}
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGUSR1], ids=["SIGTERM", "SIGUSR1"])
{%- endif %}
def test_a_preempted_run_resumes_by_itself_to_the_same_weights(
    configs: Path, tmp_path: Path, uninterrupted: dict[str, torch.Tensor], signum: signal.Signals
) -> None:
    preempt_and_resume(command(configs, "--trainer.logger=false"), tmp_path / "run", signum)

    assert_same_weights(tmp_path / "run", uninterrupted)
{%- if cookiecutter.tracker == "mlflow" %}


def test_sigusr1_preempts_and_the_resumed_run_continues_the_same_mlflow_run(
    configs: Path, tmp_path: Path, uninterrupted: dict[str, torch.Tensor]
) -> None:
    preempt_and_resume(command(configs), tmp_path / "run", signal.SIGUSR1)

    client = MlflowClient(f"sqlite:///{tmp_path / 'run' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(EXPERIMENT_NAME)
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    steps = [metric.step for metric in client.get_metric_history(run.info.run_id, "train/loss_epoch")]
    assert len(steps) == 3  # one value per epoch, none twice
    assert steps == sorted(steps)
    assert_same_weights(tmp_path / "run", uninterrupted)
{%- endif %}
