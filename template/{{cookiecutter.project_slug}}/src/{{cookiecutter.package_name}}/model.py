"""The classifier: a small multilayer perceptron trained with cross-entropy and scored by accuracy."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F  # noqa: N812 - the conventional alias
from lightning.pytorch import LightningModule
from torch import Tensor, nn
from torchmetrics.classification import MulticlassAccuracy

Batch = tuple[Tensor, Tensor]


class Classifier(LightningModule):
    """Maps a flat feature vector to class logits.

    A perceptron, not a CNN, because the same model then serves all three data sources: 8x8 digits,
    resized images from a folder, and rows of a CSV file.

    Args:
        input_dim: Features per example; the command line fills it in from the data.
        num_classes: Number of classes; the command line fills it in from the data.
        hidden_dims: Width of each hidden layer.
        dropout: Dropout probability after each hidden layer.
        lr: AdamW learning rate.
        weight_decay: AdamW weight decay.
        class_names: Label names, kept in checkpoints so predictions can be shown by name.
    """

    def __init__(
        self,
        input_dim: int,
        num_classes: int,
        hidden_dims: tuple[int, ...] = (128, 64),
        dropout: float = 0.1,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        class_names: Sequence[str] | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.input_dim = input_dim
        self.lr = lr
        self.weight_decay = weight_decay
        self.class_names = list(class_names) if class_names else [str(i) for i in range(num_classes)]
        layers: list[nn.Module] = []
        width = input_dim
        for hidden in hidden_dims:
            layers += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden
        layers.append(nn.Linear(width, num_classes))
        self.net = nn.Sequential(*layers)
        # One metric object per split, each accumulating its own epoch. average="micro" is the share
        # of correct predictions; torchmetrics' default ("macro") would average per-class recalls.
        self.train_acc = MulticlassAccuracy(num_classes, average="micro")
        self.val_acc = MulticlassAccuracy(num_classes, average="micro")
        self.test_acc = MulticlassAccuracy(num_classes, average="micro")

    def forward(self, features: Tensor) -> Tensor:
        """Class logits for a batch of feature vectors."""
        logits: Tensor = self.net(features)
        return logits

    @torch.inference_mode()
    def predict_proba(self, features: Tensor) -> Tensor:
        """Class probabilities for a batch; switches the model to evaluation mode (no dropout)."""
        self.eval()
        return F.softmax(self(features.to(self.device)), dim=-1)

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        """Cross-entropy on one batch, logged every step and averaged per epoch."""
        features, labels = batch
        logits = self(features)
        loss = F.cross_entropy(logits, labels)
        # Accumulate only: accuracy is computed and logged once per epoch, which keeps per-step
        # logging (the trainer's main overhead on a model this small) to the loss.
        self.train_acc.update(logits, labels)
        self.log("train/loss", loss, on_step=True, on_epoch=True, prog_bar=True)
        return loss

    def on_train_epoch_end(self) -> None:
        """Training accuracy over the epoch."""
        self.log("train/acc", self.train_acc.compute())
        self.train_acc.reset()

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        """Validation loss and accuracy, per epoch; ``val/acc`` drives checkpointing."""
        self._evaluate(batch, "val", self.val_acc)

    def test_step(self, batch: Batch, batch_idx: int) -> None:
        """Test loss and accuracy of the final (best) model."""
        self._evaluate(batch, "test", self.test_acc)

    def _evaluate(self, batch: Batch, split: str, accuracy: MulticlassAccuracy) -> None:
        features, labels = batch
        logits = self(features)
        accuracy.update(logits, labels)
        self.log(f"{split}/loss", F.cross_entropy(logits, labels), prog_bar=True)
        self.log(f"{split}/acc", accuracy, prog_bar=True)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        """AdamW with the configured learning rate and weight decay."""
        return torch.optim.AdamW(self.parameters(), lr=self.lr, weight_decay=self.weight_decay)
