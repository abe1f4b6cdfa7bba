"""The training loop end to end, through the same command line users run."""

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - the conventional alias
from lightning.pytorch.callbacks import ModelCheckpoint
from PIL import Image

from {{ cookiecutter.package_name }}.cli import train
from {{ cookiecutter.package_name }}.data import ClassificationData
from {{ cookiecutter.package_name }}.model import Classifier

pytestmark = pytest.mark.slow


def test_fast_dev_run_fits_and_tests_one_batch(configs: Path) -> None:
    cli = train(["--config", str(configs / "debug.yaml")])

    assert cli.trainer.state.finished
    assert cli.trainer.global_step == 1
    assert 0.0 <= float(cli.trainer.callback_metrics["test/acc"]) <= 1.0


def test_command_line_trains_on_a_csv_file_and_sizes_the_model_from_it(configs: Path, tmp_path: Path) -> None:
    rows = ["a,b,c,label", *(f"{i % 7},{i % 5},{i % 3},{'xyz'[i % 3]}" for i in range(60))]
    (tmp_path / "table.csv").write_text("\n".join(rows))

    cli = train(["--config", str(configs / "debug.yaml"), "--data.csv_path", str(tmp_path / "table.csv")])

    assert isinstance(cli.model, Classifier)
    assert (cli.model.input_dim, cli.model.class_names) == (3, ["x", "y", "z"])


def test_command_line_trains_on_an_image_folder(configs: Path, tmp_path: Path) -> None:
    for class_name, grey in (("circle", 60), ("square", 200)):
        (tmp_path / "images" / class_name).mkdir(parents=True)
        for i in range(10):
            Image.new("L", (20, 20), grey + i).save(tmp_path / "images" / class_name / f"{i}.png")

    debug, images = str(configs / "debug.yaml"), str(tmp_path / "images")
    cli = train(["--config", debug, "--data.image_dir", images, "--data.image_size", "6"])

    assert isinstance(cli.model, Classifier)
    assert (cli.model.input_dim, cli.model.class_names) == (36, ["circle", "square"])


def test_model_can_overfit_a_single_batch(configs: Path) -> None:
    cli = train(["--config", str(configs / "overfit.yaml")])

    assert isinstance(cli.datamodule, ClassificationData)
    # With overfit_batches, Lightning trains on the first batch of the training split, unshuffled.
    features, labels = cli.datamodule.splits["train"][: cli.datamodule.batch_size]
    logits = cli.model.eval()(features)
    assert F.cross_entropy(logits, labels).item() < 0.05


def test_checkpoint_restores_weights_and_hyperparameters(configs: Path) -> None:
    cli = train(["--config", str(configs / "overfit.yaml"), "--trainer.max_epochs", "3"])
    checkpoint = cli.trainer.checkpoint_callback
    assert isinstance(checkpoint, ModelCheckpoint)
    assert isinstance(cli.model, Classifier)

    restored = Classifier.load_from_checkpoint(checkpoint.best_model_path, map_location="cpu")

    features = torch.rand(6, restored.input_dim)
    assert torch.equal(restored.predict_proba(features), cli.model.predict_proba(features))
    for name in ("input_dim", "num_classes", "lr", "dropout", "class_names"):
        assert restored.hparams[name] == cli.model.hparams[name]
    assert restored.class_names == [str(digit) for digit in range(10)]
