"""Training on several processes, as a user starts it: the console script with a strategy config.

Each test starts real processes that talk over gloo on this machine's CPUs: the code path of NCCL on GPUs.
"""

import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - the conventional alias

from {{ cookiecutter.package_name }}.data import ClassificationData
from {{ cookiecutter.package_name }}.model import Classifier

pytestmark = pytest.mark.slow
TRAIN = str(Path(sys.executable).with_name("{{ cookiecutter.project_slug }}-train"))
CONSOLIDATE = str(Path(sys.executable).with_name("{{ cookiecutter.project_slug }}-consolidate"))
# Five optimizer steps of a global batch of 128 examples, without dropout (whose masks depend on how a batch
# is split across processes); no tracker, so that only the checkpoints are compared.
SHORT_RUN = (
    "--trainer.accelerator=cpu",
    "--trainer.logger=false",
    "--trainer.max_epochs=1",
    "--trainer.limit_train_batches=5",
    "--trainer.limit_val_batches=2",
    "--trainer.num_sanity_val_steps=0",
    "--model.dropout=0.0",
)


def train(configs: Path, root: Path, *options: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``{{ cookiecutter.project_slug }}-train fit`` on the default config, writing under ``root``."""
    command = [TRAIN, "fit", "--config", str(configs / "default.yaml"), *options]
    command.append(f"--trainer.default_root_dir={root}")
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603


def train_loss(checkpoint: Path) -> float:
    """Cross-entropy of a checkpoint's model on the whole training split."""
    model = Classifier.load_from_checkpoint(checkpoint, map_location="cpu").eval()
    data = ClassificationData()
    data.setup("fit")
    features, labels = data.splits["train"].tensors
    with torch.no_grad():
        return float(F.cross_entropy(model(features), labels))


def weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    """The model's weights in a (whole) checkpoint file."""
    checkpoint_data = torch.load(checkpoint, map_location="cpu", weights_only=False)
    state: dict[str, torch.Tensor] = checkpoint_data["state_dict"]
    return state


@pytest.fixture(scope="module")
def single_process(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The baseline: one process, a batch of 128."""
    configs = Path(__file__).resolve().parents[1] / "configs"
    root = tmp_path_factory.mktemp("single")
    done = train(configs, root, *SHORT_RUN, "--data.batch_size=128")
    assert done.returncode == 0, done.stderr[-3000:]
    return root / "checkpoints" / "last.ckpt"


# Why these tolerances: the processes average their gradients with an all-reduce, which adds in another
# order than one process summing a batch of 128, so gradients differ in the last float32 bits. AdamW divides
# each gradient by its running magnitude, which can turn those bits into visible steps for weights whose
# gradient is nearly zero: weights may differ by a fraction of the learning rate (3e-3), the loss far less.
WEIGHT_TOLERANCE = 1e-3
LOSS_TOLERANCE = 1e-4


def test_ddp_on_two_processes_matches_one_process_over_the_same_global_batch(
    configs: Path, tmp_path: Path, single_process: Path
) -> None:
    ddp = (f"--config={configs / 'strategy' / 'ddp.yaml'}", "--data.batch_size=64")  # 2 x 64 = 128

    done = train(configs, tmp_path, *SHORT_RUN, *ddp)

    assert done.returncode == 0, done.stderr[-3000:]
    parallel = tmp_path / "checkpoints" / "last.ckpt"
    assert torch.load(parallel, weights_only=False)["global_step"] == 5
    assert abs(train_loss(parallel) - train_loss(single_process)) < LOSS_TOLERANCE
    for name, value in weights(single_process).items():
        assert torch.allclose(weights(parallel)[name], value, atol=WEIGHT_TOLERANCE), name


def test_fsdp_saves_sharded_checkpoints_that_consolidate_resume_and_match_one_process(
    configs: Path, tmp_path: Path, single_process: Path
) -> None:
    fsdp = (f"--config={configs / 'strategy' / 'fsdp.yaml'}", "--data.batch_size=64")

    done = train(configs, tmp_path, *SHORT_RUN, *fsdp)

    assert done.returncode == 0, done.stderr[-3000:]
    sharded = tmp_path / "checkpoints" / "last.ckpt"
    assert sharded.is_dir()
    assert sorted(path.name for path in sharded.glob("*.distcp")) == ["__0_0.distcp", "__1_0.distcp"]
    gathered = tmp_path / "last-full.ckpt"
    consolidated = subprocess.run(  # noqa: S603
        [CONSOLIDATE, str(sharded), "--output", str(gathered)], capture_output=True, text=True, check=False
    )
    assert consolidated.returncode == 0, consolidated.stderr
    assert abs(train_loss(gathered) - train_loss(single_process)) < LOSS_TOLERANCE
    for name, value in weights(single_process).items():
        assert torch.allclose(weights(gathered)[name], value, atol=WEIGHT_TOLERANCE), name

    resumed = train(configs, tmp_path, *SHORT_RUN, *fsdp, "--trainer.max_epochs=2", f"--ckpt_path={sharded}")

    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Restored all states from the checkpoint" in resumed.stdout + resumed.stderr
    again = tmp_path / "again.ckpt"
    subprocess.run([CONSOLIDATE, str(sharded), "--output", str(again)], check=True)  # noqa: S603
    assert torch.load(again, weights_only=False)["global_step"] == 10  # five more steps, not ten


def test_fsdp_debug_run_hands_the_tracker_the_whole_model(configs: Path, tmp_path: Path) -> None:
    # The debug config keeps no checkpoint: the sharded weights are gathered in memory for the tracker.
    debug, fsdp = configs / "debug.yaml", configs / "strategy" / "fsdp.yaml"
    command = [TRAIN, "fit", f"--config={debug}", f"--config={fsdp}", "--trainer.accelerator=cpu"]

    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)  # noqa: S603

    assert done.returncode == 0, done.stderr[-3000:]
    assert "test/acc" in done.stdout


def test_consolidating_refuses_to_overwrite_and_names_what_is_wrong(tmp_path: Path) -> None:
    existing = tmp_path / "model.ckpt"
    existing.write_bytes(b"keep me")
    (tmp_path / "shards").mkdir()
    (tmp_path / "shards" / ".metadata").write_bytes(b"")

    not_sharded = subprocess.run([CONSOLIDATE, str(existing)], capture_output=True, text=True, check=False)  # noqa: S603
    command = [CONSOLIDATE, str(tmp_path / "shards"), "--output", str(existing)]
    occupied = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603

    assert not_sharded.returncode != 0
    assert not_sharded.stderr.strip().splitlines() == [
        f"error: {existing}: not a sharded checkpoint (a folder holding .metadata)"
    ]
    assert occupied.returncode != 0
    assert "exists already" in occupied.stderr
    assert existing.read_bytes() == b"keep me"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ("--trainer.strategy=dpp",),
            "error: --trainer: You selected an invalid strategy name: `strategy='dpp'`",
        ),
        (
            ("--config={fsdp}", "--trainer.devices=3"),
            "error: --trainer.strategy.init_args.data_parallel_size (2) x tensor_parallel_size (1) "
            "must equal --trainer.devices (3) x --trainer.num_nodes (1)",
        ),
        (("--ckpt_path={missing}",), "error: --ckpt_path {missing}: no such checkpoint"),
        (
            ("--ckpt_path={corrupt}",),
            "error: --ckpt_path {corrupt}: not a readable checkpoint (truncated or corrupt?)",
        ),
    ],
    ids=["unknown strategy", "devices do not cover the mesh", "missing checkpoint", "corrupt checkpoint"],
)
def test_bad_parallel_or_resume_options_are_one_line_errors(
    configs: Path, tmp_path: Path, options: tuple[str, ...], message: str
) -> None:
    corrupt = tmp_path / "corrupt.ckpt"
    corrupt.write_bytes(b"PK\x03\x04 cut off")
    names = {
        "fsdp": configs / "strategy" / "fsdp.yaml",
        "missing": tmp_path / "nope.ckpt",
        "corrupt": corrupt,
    }
    filled = [option.format(**names) for option in options]

    done = train(configs, tmp_path, "--trainer.logger=false", *filled, timeout=120)

    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith(message.format(**names))
    assert "Traceback" not in done.stderr
    assert corrupt.read_bytes() == b"PK\x03\x04 cut off"  # nothing overwritten
