"""The training loop end to end, through the same command line users run."""

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - the conventional alias
from lightning.pytorch.callbacks import ModelCheckpoint

from {{ cookiecutter.package_name }}.cli import train
from {{ cookiecutter.package_name }}.data import ClassificationData
from {{ cookiecutter.package_name }}.model import Classifier

pytestmark = pytest.mark.slow


def test_fast_dev_run_fits_and_tests_one_batch(configs: Path) -> None:
    cli = train(["--config", str(configs / "debug.yaml")])

    assert cli.trainer.state.finished
    assert cli.trainer.global_step == 1
    assert 0.0 <= float(cli.trainer.callback_metrics["test/acc"]) <= 1.0


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
