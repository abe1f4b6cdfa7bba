"""The classifier: a multilayer perceptron trained with cross-entropy and scored by accuracy.

It trains as it is on one process, replicated on every process under DDP, or sharded across processes
under FSDP2 (``configs/strategy/fsdp.yaml``): :meth:`Classifier.configure_model` shards each layer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import torch
import torch.nn.functional as F  # noqa: N812 - the conventional alias
from lightning.pytorch import LightningModule
from torch import Tensor, nn
from torch.distributed.fsdp import FSDPModule, fully_shard
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
        lr: Peak learning rate.
        weight_decay: Decoupled weight decay (AdamW) or L2 penalty (SGD).
        optimizer: ``adamw``, or ``sgd`` with Nesterov momentum 0.9.
        scheduler: Learning-rate schedule per optimizer step: ``cosine`` decay to zero after a linear
            warm-up, ``onecycle`` (Smith's one-cycle policy), or ``constant``.
        warmup_fraction: Share of the training steps spent warming up (``cosine``) or rising (``onecycle``).
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
        optimizer: Literal["adamw", "sgd"] = "adamw",
        scheduler: Literal["cosine", "onecycle", "constant"] = "cosine",
        warmup_fraction: float = 0.05,
        class_names: Sequence[str] | None = None,
    ) -> None:
        super().__init__()
        if not 0.0 <= warmup_fraction < 1.0:
            raise ValueError(f"warmup_fraction must lie in [0, 1): got {warmup_fraction}")
        self.save_hyperparameters()
        self.input_dim = input_dim
        self.lr = lr
        self.weight_decay = weight_decay
        self.optimizer_name = optimizer
        self.scheduler_name = scheduler
        self.warmup_fraction = warmup_fraction
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

    def configure_model(self) -> None:
        """Shard the weights, gradients and optimizer state across the data-parallel processes (FSDP2).

        Lightning calls this on every process before the optimizer is made. Under ``ModelParallelStrategy``
        (``configs/strategy/fsdp.yaml``) each linear layer becomes its own shard group, so a process holds
        only its slice of every layer and gathers a whole layer just while computing it; under any other
        strategy there is no device mesh and the model stays whole.
        """
        if self.device_mesh is None or isinstance(self.net, FSDPModule):
            return  # not sharding, or sharded already (Lightning calls this again for the final test)
        mesh = self.device_mesh["data_parallel"]
        for layer in self.net:
            if isinstance(layer, nn.Linear):
                fully_shard(layer, mesh=mesh)
        fully_shard(self.net, mesh=mesh)

    def forward(self, features: Tensor) -> Tensor:
        """Class logits for a batch of feature vectors."""
        logits: Tensor = self.net(features)
        return logits

    def predict_proba(self, features: Tensor) -> Tensor:
        """Class probabilities for a batch, computed in evaluation mode (no dropout).

        The model's own mode is restored afterwards, so this is safe to call in the middle of training.
        """
        was_training = self.training
        self.eval()
        try:
            with torch.inference_mode():
                return F.softmax(self(features.to(self.device)), dim=-1)
        finally:
            self.train(was_training)

    def predict_step(self, batch: Tensor | Batch, batch_idx: int) -> Tensor:
        """Class probabilities for a batch of features (``predict``); labels, if any, are ignored."""
        features = batch[0] if isinstance(batch, list | tuple) else batch
        return F.softmax(self(features), dim=-1)

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        """Cross-entropy on one batch, logged every step and averaged per epoch."""
        features, labels = batch
        logits = self(features)
        loss = F.cross_entropy(logits, labels)
        # sync_dist: under DDP the epoch value is the mean over every process, not rank zero's share.
        self.log("train/loss", loss, on_step=True, on_epoch=True, prog_bar=True, sync_dist=True)
        # Accuracy is accumulated every step and computed (synchronised across processes) once per epoch.
        # Logging the metric object lets Lightning do that sync at the same point on every process; calling
        # compute() in an epoch-end hook would not, and DDP would hang waiting for rank zero's progress bar.
        self.train_acc.update(logits, labels)
        self.log("train/acc", self.train_acc, on_step=False, on_epoch=True)
        return loss

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
        self.log(f"{split}/loss", F.cross_entropy(logits, labels), prog_bar=True, sync_dist=True)
        self.log(f"{split}/acc", accuracy, prog_bar=True)

    def configure_optimizers(self) -> Any:  # Lightning accepts several shapes
        """The configured optimizer, and its learning-rate schedule stepped after every optimizer step."""
        optimizer: torch.optim.Optimizer
        if self.optimizer_name == "sgd":
            optimizer = torch.optim.SGD(
                self.parameters(), lr=self.lr, momentum=0.9, nesterov=True, weight_decay=self.weight_decay
            )
        else:
            optimizer = torch.optim.AdamW(self.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        if self.scheduler_name == "constant":
            return optimizer
        total = max(1, int(self.trainer.estimated_stepping_batches))
        scheduler: torch.optim.lr_scheduler.LRScheduler
        if self.scheduler_name == "onecycle":
            scheduler = torch.optim.lr_scheduler.OneCycleLR(
                optimizer, max_lr=self.lr, total_steps=total, pct_start=max(self.warmup_fraction, 1e-3)
            )
        else:
            warmup = int(total * self.warmup_fraction)

            def cosine_with_warmup(step: int) -> float:
                if step < warmup:
                    return (step + 1) / warmup
                progress = (step - warmup) / max(1, total - warmup)
                return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

            scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, cosine_with_warmup)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
