"""The training loop end to end, through the same command line users run."""

import csv
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - the conventional alias
from lightning.pytorch.callbacks import ModelCheckpoint
from PIL import Image

from {{ cookiecutter.package_name }}.cli import run_cli
from {{ cookiecutter.package_name }}.data import ClassificationData
from {{ cookiecutter.package_name }}.model import Classifier

pytestmark = pytest.mark.slow
NO_LOGGER = ("--trainer.logger", "false")


def test_debug_run_fits_and_tests_one_batch(configs: Path) -> None:
    cli = run_cli(["fit", "--config", str(configs / "debug.yaml")])

    assert cli.trainer.state.finished
    assert cli.trainer.global_step == 1
    assert cli.trainer.checkpoint_callback is None  # a smoke run keeps no checkpoints
    assert 0.0 <= float(cli.trainer.callback_metrics["test/acc"]) <= 1.0


def test_command_line_trains_on_a_csv_file_and_sizes_the_model_from_it(configs: Path, tmp_path: Path) -> None:
    rows = ["a,b,c,label", *(f"{i % 7},{i % 5},{i % 3},{'xyz'[i % 3]}" for i in range(60))]
    (tmp_path / "table.csv").write_text("\n".join(rows))

    table = str(tmp_path / "table.csv")
    cli = run_cli(["fit", "--config", str(configs / "debug.yaml"), "--data.csv_path", table])

    assert isinstance(cli.model, Classifier)
    assert (cli.model.input_dim, cli.model.class_names) == (3, ["x", "y", "z"])


def test_command_line_trains_on_an_image_folder(configs: Path, tmp_path: Path) -> None:
    for class_name, grey in (("circle", 60), ("square", 200)):
        (tmp_path / "images" / class_name).mkdir(parents=True)
        for i in range(10):
            Image.new("L", (20, 20), grey + i).save(tmp_path / "images" / class_name / f"{i}.png")

    debug, images = str(configs / "debug.yaml"), str(tmp_path / "images")
    cli = run_cli(["fit", "--config", debug, "--data.image_dir", images, "--data.image_size", "6"])

    assert isinstance(cli.model, Classifier)
    assert (cli.model.input_dim, cli.model.class_names) == (36, ["circle", "square"])


def test_model_can_overfit_a_single_batch(configs: Path) -> None:
    cli = run_cli(["fit", "--config", str(configs / "overfit.yaml")])

    assert isinstance(cli.datamodule, ClassificationData)
    # With overfit_batches, Lightning trains on the first batch of the training split, unshuffled.
    features, labels = cli.datamodule.splits["train"][: cli.datamodule.batch_size]
    logits = cli.model.eval()(features)
    assert F.cross_entropy(logits, labels).item() < 0.05


def test_checkpoint_restores_weights_and_hyperparameters(configs: Path) -> None:
    cli = run_cli(["fit", "--config", str(configs / "overfit.yaml"), "--trainer.max_epochs", "3"])
    checkpoint = cli.trainer.checkpoint_callback
    assert isinstance(checkpoint, ModelCheckpoint)
    assert isinstance(cli.model, Classifier)

    restored = Classifier.load_from_checkpoint(checkpoint.best_model_path, map_location="cpu")

    features = torch.rand(6, restored.input_dim)
    assert torch.equal(restored.predict_proba(features), cli.model.predict_proba(features))
    for name in ("input_dim", "num_classes", "lr", "dropout", "class_names"):
        assert restored.hparams[name] == cli.model.hparams[name]
    assert restored.class_names == [str(digit) for digit in range(10)]


def test_overfit_config_runs_no_validation(configs: Path) -> None:
    cli = run_cli(["fit", "--config", str(configs / "overfit.yaml"), "--trainer.max_epochs", "2"])

    assert cli.trainer.num_training_batches == 1
    assert not [name for name in cli.trainer.callback_metrics if name.startswith("val/")]


def test_fit_resumes_the_newest_run_from_its_last_checkpoint(configs: Path) -> None:
    default = str(configs / "default.yaml")
    first = run_cli(["fit", "--config", default, "--trainer.max_epochs", "2", *NO_LOGGER])
    assert first.trainer.current_epoch == 2

    resumed = run_cli(["fit", "--config", default, "--trainer.max_epochs=3", *NO_LOGGER, "--ckpt_path=last"])

    # Restored at the end of epoch 2 (its step count included), so one more epoch ran, not three.
    assert resumed.trainer.current_epoch == 3
    assert resumed.trainer.global_step == first.trainer.global_step * 3 // 2


def test_validate_and_test_score_a_checkpoint(configs: Path) -> None:
    default = str(configs / "default.yaml")
    trained = run_cli(["fit", "--config", default, "--trainer.max_epochs", "2", *NO_LOGGER])
    checkpoint = trained.trainer.checkpoint_callback
    assert isinstance(checkpoint, ModelCheckpoint)

    for subcommand, metric in (("validate", "val/acc"), ("test", "test/acc")):
        best = f"--ckpt_path={checkpoint.best_model_path}"
        cli = run_cli([subcommand, "--config", default, *NO_LOGGER, best])
        assert float(cli.trainer.callback_metrics[metric]) > 0.5


def test_predict_writes_one_row_per_image_with_the_class_probabilities(configs: Path, tmp_path: Path) -> None:
    default, predict = str(configs / "default.yaml"), str(configs / "predict.yaml")
    trained = run_cli(["fit", "--config", default, "--trainer.max_epochs", "2", *NO_LOGGER])
    checkpoint = trained.trainer.checkpoint_callback
    assert isinstance(checkpoint, ModelCheckpoint)
    (tmp_path / "new" / "more").mkdir(parents=True)
    for name, grey in (("new/a.png", 0), ("new/more/b.png", 255)):
        Image.new("L", (8, 8), grey).save(tmp_path / name)

    inputs = [f"--data.predict_path={tmp_path / 'new'}", f"--ckpt_path={checkpoint.best_model_path}"]
    run_cli(["predict", "--config", default, "--config", predict, *inputs])

    with (tmp_path / "predictions.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert [row["input"] for row in rows] == ["a.png", "more/b.png"]
    for row in rows:
        probabilities = [float(row[str(digit)]) for digit in range(10)]
        assert abs(sum(probabilities) - 1.0) < 1e-4
        assert row["prediction"] == str(max(range(10), key=probabilities.__getitem__))
