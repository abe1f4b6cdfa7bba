from typing import Literal

import pytest
import torch

from {{ cookiecutter.package_name }}.model import Classifier


def test_logits_have_one_column_per_class() -> None:
    model = Classifier(input_dim=64, num_classes=10, hidden_dims=(32, 16))

    assert model(torch.randn(5, 64)).shape == (5, 10)
    linear_widths = [layer.out_features for layer in model.net if isinstance(layer, torch.nn.Linear)]
    assert linear_widths == [32, 16, 10]


def test_probabilities_sum_to_one_and_are_deterministic() -> None:
    model = Classifier(input_dim=8, num_classes=3, dropout=0.5)
    features = torch.randn(4, 8)

    first, second = model.predict_proba(features), model.predict_proba(features)

    assert torch.allclose(first.sum(dim=1), torch.ones(4))
    assert torch.equal(first, second)


def test_class_names_default_to_indices() -> None:
    assert Classifier(input_dim=2, num_classes=3).class_names == ["0", "1", "2"]
    assert Classifier(input_dim=2, num_classes=2, class_names=["cat", "dog"]).class_names == ["cat", "dog"]


# Outside a Trainer, self.log() has nowhere to log to; the step itself is what is under test here.
@pytest.mark.filterwarnings("ignore:You are trying to `self.log\\(\\)`")
def test_training_steps_reduce_the_loss_on_a_batch() -> None:
    torch.manual_seed(0)
    model = Classifier(input_dim=16, num_classes=4, dropout=0.0, lr=1e-2, scheduler="constant")
    batch = (torch.randn(32, 16), torch.randint(0, 4, (32,)))
    optimizer = model.configure_optimizers()

    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = model.training_step(batch, 0)
        torch.autograd.backward(loss)
        optimizer.step()
        losses.append(loss.item())

    assert loss.ndim == 0
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize(("name", "kind"), [("adamw", torch.optim.AdamW), ("sgd", torch.optim.SGD)])
def test_optimizer_option_chooses_the_optimizer_with_the_models_learning_rate(
    name: Literal["adamw", "sgd"], kind: type[torch.optim.Optimizer]
) -> None:
    model = Classifier(
        input_dim=4, num_classes=2, lr=0.05, weight_decay=0.01, optimizer=name, scheduler="constant"
    )
    optimizer = model.configure_optimizers()
    assert type(optimizer) is kind
    assert optimizer.param_groups[0]["lr"] == 0.05
    assert optimizer.param_groups[0]["weight_decay"] == 0.01


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_predict_proba_leaves_the_models_mode_as_it_was(mode: str) -> None:
    model = Classifier(input_dim=4, num_classes=3, dropout=0.5)
    model.train(mode == "train")
    features = torch.rand(5, 4)

    first, second = model.predict_proba(features), model.predict_proba(features)

    assert model.training == (mode == "train")
    assert torch.equal(first, second)  # evaluation mode inside: no dropout
