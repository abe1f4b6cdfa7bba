"""Project-kind detection: training projects, libraries (pytorch-lightning among them) and notebook collections."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from fsdl_check.config import Config
from fsdl_check.engine import audit
from fsdl_check.kind import classify, is_auxiliary
from fsdl_check.model import ProjectKind
from fsdl_check.repo import Options, Repo
from fsdl_check.reports.json import as_dict
from fsdl_check.reports.text import render as render_text
from fsdl_check.testing import run_rule

MakeRepo = Callable[..., Path]

LIGHTNING_FIT = """\
import lightning as L

from pkg.model import Model


def main() -> None:
    trainer = L.Trainer(max_epochs=3)
    trainer.fit(Model())
"""
RAW_LOOP = """\
import torch


def train(model, loader, optimizer):
    model.train()
    for epoch in range(10):
        for x, y in loader:
            loss = torch.nn.functional.mse_loss(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
"""
HF_TRAINER = """\
from transformers import Trainer, TrainingArguments

args = TrainingArguments(output_dir="out")
trainer = Trainer(model=model, args=args, train_dataset=dataset)
trainer.train()
"""
KERAS_FIT = """\
from tensorflow import keras

model = keras.Sequential([keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(x, y, epochs=5)
"""
SKLEARN_FIT = """\
from sklearn.linear_model import LinearRegression

model = LinearRegression()
model.fit(x, y)
"""
LIGHTNING_CLI = """\
from lightning.pytorch.cli import LightningCLI


def main() -> None:
    LightningCLI(save_config_kwargs={"overwrite": True})
"""
CLI_SUBCLASS = """\
from lightning.pytorch.cli import LightningCLI


class TrainCLI(LightningCLI):
    pass


def train() -> None:
    cli = TrainCLI(run=False)
    cli.trainer.fit(cli.model)
"""
CLI_CONFIG = "seed_everything: 1\ntrainer:\n  max_epochs: 3\nmodel:\n  lr: 0.01\n"
HYDRA_CONFIG = "defaults:\n  - _self_\n  - model: mnist\n  - trainer: default\n\nseed: 1\n"
SCRIPT_ONLY = "import torch\n\nprint(torch.__version__)\n"
NOTEBOOK = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
COURSE = {
    "01-intro/intro.ipynb": NOTEBOOK,
    "04-deployment/web/predict.py": "import pickle\n\ndef predict(x):\n    return x\n",
    "04-deployment/batch/score.py": "import pandas as pd\n",
    "cohorts/2024/homework/hw1.py": "print(1)\n",
    "cohorts/2024/homework/hw2.py": "print(2)\n",
}

# A miniature pytorch-lightning: it defines the Trainer and calls `Trainer(...)` + `.fit(` inside its own package
# (as its tuner does), while the only scripts that train live under examples/ and tests/.
FRAMEWORK = {
    "src/lightning/pytorch/trainer/trainer.py": "class Trainer:\n    def fit(self, model):\n        pass\n",
    "src/lightning/pytorch/tuner/tuning.py": (
        "from lightning.pytorch.trainer.trainer import Trainer\n\n\ndef tune(model):\n"
        "    trainer = Trainer()\n    trainer.fit(model)\n"
    ),
    "src/lightning/pytorch/cli.py": "class LightningCLI:\n    pass\n",
    "examples/pytorch/train.py": LIGHTNING_FIT,
    "tests/tests_pytorch/test_trainer.py": LIGHTNING_FIT,
    "pyproject.toml": "[tool.ruff]\nline-length = 120\n",
}


def entry_points(root: Path) -> list[tuple[str, int, str]]:
    return [(e.path, e.line, e.how) for e in Repo(root).entry_points]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"src/pkg/train.py": LIGHTNING_FIT}, [("src/pkg/train.py", 7, "Trainer.fit")]),
        ({"src/pkg/cli.py": LIGHTNING_CLI}, [("src/pkg/cli.py", 5, "LightningCLI")]),
        ({"src/pkg/cli.py": CLI_SUBCLASS}, [("src/pkg/cli.py", 9, "LightningCLI")]),
        ({"pkg/loop.py": RAW_LOOP}, [("pkg/loop.py", 6, "training loop")]),
        ({"finetune.py": HF_TRAINER}, [("finetune.py", 5, "Trainer.train")]),
        ({"fit_keras.py": KERAS_FIT}, [("fit_keras.py", 5, "Keras fit")]),
        ({"scripts/train_resnet.py": SCRIPT_ONLY}, [("scripts/train_resnet.py", 1, "training script")]),
        ({"configs/default.yaml": CLI_CONFIG}, [("configs/default.yaml", 2, "config")]),
        ({"configs/train.yaml": HYDRA_CONFIG}, [("configs/train.yaml", 4, "config")]),
    ],
)
def test_training_entry_points_make_a_training_project(
    make_repo: MakeRepo, files: dict[str, str], expected: list[tuple[str, int, str]]
) -> None:
    root = make_repo(files)
    assert entry_points(root) == expected
    assert Repo(root).kind is ProjectKind.TRAINING


@pytest.mark.parametrize(
    "files",
    [
        pytest.param({"src/pkg/__init__.py": "", "src/pkg/core.py": "def f() -> int:\n    return 1\n"}, id="plain"),
        pytest.param({"src/pkg/regress.py": SKLEARN_FIT}, id="sklearn-fit-is-not-keras"),
        pytest.param({"src/pkg/util.py": SCRIPT_ONLY}, id="torch-import-alone"),
        pytest.param(
            {"tests/test_train.py": LIGHTNING_FIT, "examples/train.py": LIGHTNING_FIT, "docs/conf.py": RAW_LOOP},
            id="training-only-in-tests-examples-docs",
        ),
        pytest.param({"src/pkg/a.py": "x = 1\n", "benchmarks/train.py": SCRIPT_ONLY}, id="benchmarks"),
        pytest.param({".github/workflows/ci.yml": "on: push\ntrainer: {}\nmodel: {}\n"}, id="tool-config-yaml"),
        pytest.param(FRAMEWORK, id="pytorch-lightning-itself"),
        pytest.param({"broken.py": "def (:\n", "src/pkg/ok.py": "x = 1\n"}, id="unparsable-module"),
        pytest.param({}, id="empty"),
    ],
)
def test_libraries(make_repo: MakeRepo, files: dict[str, str]) -> None:
    root = make_repo(files)
    assert entry_points(root) == []
    assert Repo(root).kind is ProjectKind.LIBRARY


def test_a_framework_repository_with_its_own_training_script_is_a_training_project(make_repo: MakeRepo) -> None:
    """Defining a Trainer class does not hide a real entry point: a research repo's `train.py` still counts."""
    script = "from mypkg.trainer import Trainer\n\nif __name__ == '__main__':\n    Trainer().fit(model)\n"
    root = make_repo({**FRAMEWORK, "train.py": script, "configs/default.yaml": CLI_CONFIG})
    assert entry_points(root) == [("train.py", 4, "Trainer.fit")]  # configs count only for non-frameworks
    assert Repo(root).kind is ProjectKind.TRAINING


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({f"nb{i}.ipynb": NOTEBOOK for i in range(3)}, ProjectKind.NOTEBOOKS),
        (
            {"a.ipynb": NOTEBOOK, "b.ipynb": NOTEBOOK, "src/pkg/__init__.py": "", "src/pkg/io.py": "x = 1\n"},
            ProjectKind.NOTEBOOKS,
        ),
        ({"a.ipynb": NOTEBOOK, "src/pkg/io.py": "x = 1\n", "src/pkg/plot.py": "y = 2\n"}, ProjectKind.LIBRARY),
        ({"a.ipynb": NOTEBOOK, "b.ipynb": NOTEBOOK, "train.py": LIGHTNING_FIT}, ProjectKind.TRAINING),
        ({"docs/a.ipynb": NOTEBOOK, "docs/b.ipynb": NOTEBOOK, "src/pkg/io.py": "x = 1\n"}, ProjectKind.LIBRARY),
        # a course (mlops-zoomcamp): folders of notebooks and more scripts than notebooks, nothing to install
        ({**COURSE, "02-tracking/b.ipynb": NOTEBOOK}, ProjectKind.NOTEBOOKS),
        # the same scripts with packaging metadata, or as an import package, are a library
        ({**COURSE, "setup.py": "from setuptools import setup\nsetup()\n"}, ProjectKind.LIBRARY),
        ({**COURSE, "pyproject.toml": '[project]\nname = "course"\nversion = "0"\n'}, ProjectKind.LIBRARY),
        ({**COURSE, "course/__init__.py": "", "course/io.py": "x = 1\n"}, ProjectKind.LIBRARY),
        # a pyproject.toml that only configures tools is not packaging
        ({**COURSE, "pyproject.toml": "[tool.ruff]\nline-length = 100\n"}, ProjectKind.NOTEBOOKS),
    ],
)
def test_notebook_collections(make_repo: MakeRepo, files: dict[str, str], expected: ProjectKind) -> None:
    assert Repo(make_repo(files)).kind is expected


def test_configured_kind_wins_over_detection(make_repo: MakeRepo) -> None:
    root = make_repo({"src/pkg/train.py": LIGHTNING_FIT})
    assert Repo(root, Options(project_kind=ProjectKind.LIBRARY)).kind is ProjectKind.LIBRARY


@pytest.mark.parametrize(
    ("path", "auxiliary"),
    [
        ("tests/test_x.py", True),
        ("src/pkg/tests/helpers.py", True),
        ("docs/conf.py", True),
        ("Examples/demo.py", True),
        ("src/pkg/test_utils.py", True),
        ("src/pkg/model_test.py", True),
        ("conftest.py", True),
        ("src/pkg/testing_utils.py", False),
        ("src/pkg/train.py", False),
    ],
)
def test_auxiliary_paths(path: str, auxiliary: bool) -> None:
    assert is_auxiliary(path) is auxiliary


# -- the training path -------------------------------------------------------------------------------------------
def training_path(root: Path) -> list[str]:
    return [m.path for m in Repo(root).training_path]


def test_the_training_path_follows_the_entry_points_imports(make_repo: MakeRepo) -> None:
    files = {
        "src/pkg/__init__.py": "",
        "src/pkg/train.py": RAW_LOOP + "from pkg.model import Net\nfrom .data import load\nfrom . import utils as u\n",
        "src/pkg/model.py": "import torch\nfrom pkg import layers\n",
        "src/pkg/layers.py": "from pkg.model import Net  # a cycle\n",
        "src/pkg/data.py": "import numpy\n",
        "src/pkg/utils.py": "from ..pkg import nothing_here\n",
        "src/pkg/unused.py": "import torch\n",
        "tests/test_train.py": "from pkg import train\n",
    }
    assert training_path(make_repo(files)) == [
        "src/pkg/__init__.py",  # importing a package's module runs the package
        "src/pkg/data.py",
        "src/pkg/layers.py",
        "src/pkg/model.py",
        "src/pkg/train.py",
        "src/pkg/utils.py",
    ]


def test_a_script_imports_from_its_own_directory(make_repo: MakeRepo) -> None:
    files = {
        "tools/train.py": RAW_LOOP + "import helpers\nfrom models import resnet\n",
        "tools/helpers.py": "x = 1\n",
        "models/resnet.py": "import torch\n",
        "models/__init__.py": "",
        "tools/other.py": "y = 2\n",
    }
    expected = ["models/__init__.py", "models/resnet.py", "tools/helpers.py", "tools/train.py"]
    assert training_path(make_repo(files)) == expected


def test_no_entry_point_no_training_path(make_repo: MakeRepo) -> None:
    assert training_path(make_repo({"src/pkg/core.py": "import torch\n"})) == []


# -- issue 10: training loops that came out as libraries, notebook helpers, and the reason ------------------------
DEEPSPEED_LOOP = """\
import deepspeed

engine, optimizer, _, _ = deepspeed.initialize(model=model, model_parameters=params)
for step, batch in enumerate(loader):
    loss = engine(batch)
    engine.backward(loss)
    engine.step()
"""
FLASH_FINETUNE = """\
import flash
from flash.image import ImageClassifier

trainer = flash.Trainer(max_epochs=3)
trainer.finetune(ImageClassifier(num_classes=2), datamodule=datamodule, strategy="freeze")
"""
ACCELERATE = """\
from accelerate import Accelerator

accelerator = Accelerator()
model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
with accelerator.accumulate(model):
    accelerator.backward(loss)
"""
SFT_TRAINER = """\
from trl import SFTTrainer

SFTTrainer(model=model, train_dataset=dataset).train()
"""
TF_KERAS_FIT = """\
from tensorflow.keras import layers, models

model = models.Sequential([layers.Dense(1)])
model.fit(x, y, epochs=2)
"""


@pytest.mark.parametrize(
    ("source", "how", "line"),
    [
        pytest.param(DEEPSPEED_LOOP, "training loop", 4, id="deepspeed-engine-backward-and-step"),
        pytest.param(FLASH_FINETUNE, "Trainer.finetune", 5, id="lightning-flash-finetune"),
        pytest.param(ACCELERATE, "Accelerate loop", 6, id="accelerate-backward-without-a-visible-loop"),
        pytest.param(SFT_TRAINER, "Trainer.train", 3, id="trl-trainer-train-on-a-fresh-instance"),
        pytest.param(TF_KERAS_FIT, "Keras fit", 4, id="tensorflow-keras-model-fit"),
    ],
)
def test_training_loops_of_other_frameworks_are_training_projects_not_libraries(
    make_repo: MakeRepo, source: str, how: str, line: int
) -> None:
    root = make_repo({"src/pkg/run.py": source})
    assert entry_points(root) == [("src/pkg/run.py", line, how)]
    assert Repo(root).kind is ProjectKind.TRAINING


def test_an_engine_step_without_backward_is_not_a_training_loop(make_repo: MakeRepo) -> None:
    root = make_repo({"src/pkg/sim.py": "for t in range(10):\n    engine.step()\n"})
    assert Repo(root).kind is ProjectKind.LIBRARY


def notebook(*sources: str) -> str:
    cells: list[dict[str, object]] = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "source": s, "execution_count": None} for s in sources
    ]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_a_helper_module_that_notebooks_import_is_not_an_entry_point(make_repo: MakeRepo) -> None:
    files = {
        "lessons/helpers.py": RAW_LOOP,
        "lessons/01.ipynb": notebook("from helpers import train\n", "train(model, loader, opt)"),
        "lessons/02.ipynb": notebook("import helpers"),
    }
    root = make_repo(files)
    assert entry_points(root) == []
    assert Repo(root).kind is ProjectKind.NOTEBOOKS


def test_a_notebook_helper_that_is_also_a_script_still_trains(make_repo: MakeRepo) -> None:
    script = RAW_LOOP + "\n\nif __name__ == '__main__':\n    train(None, [], None)\n"
    root = make_repo({"helpers.py": script, "a.ipynb": notebook("import helpers")})
    assert entry_points(root) == [("helpers.py", 6, "training loop")]


@pytest.mark.parametrize(
    ("files", "options", "reason"),
    [
        ({"src/pkg/train.py": LIGHTNING_FIT}, {}, "Trainer.fit at src/pkg/train.py:7"),
        ({"src/pkg/core.py": "x = 1\n"}, {}, "no training entry point"),
        ({f"nb{i}.ipynb": NOTEBOOK for i in range(3)}, {}, "no training entry point; 3 notebooks, 0 modules"),
        ({"src/pkg/train.py": LIGHTNING_FIT}, {"project_kind": ProjectKind.LIBRARY}, "set by project-kind"),
    ],
)
def test_the_kind_comes_with_its_reason_and_the_reports_show_it(
    make_repo: MakeRepo, files: dict[str, str], options: dict[str, ProjectKind], reason: str
) -> None:
    root = make_repo(files)
    verdict = classify(Repo(root, Options(**options)))  # type: ignore[arg-type]
    assert verdict.reason.startswith(reason)
    report = audit(root, Config(select=("TS001",), **options))  # type: ignore[arg-type]
    assert as_dict(report)["project_kind_reason"] == verdict.reason
    assert f"{verdict.kind.value} project ({verdict.reason})" in render_text(report)


def test_the_keras_tensorboard_callback_is_a_tracker_not_only_an_import(make_repo: MakeRepo) -> None:
    callback = "from tensorflow.keras.callbacks import TensorBoard\n" + TF_KERAS_FIT.replace(
        "epochs=2)", "epochs=2, callbacks=[TensorBoard(log_dir='logs')])"
    )
    assert run_rule("EX001", make_repo({"train_keras.py": callback})) == []
    assert len(run_rule("EX001", make_repo({"train_keras.py": TF_KERAS_FIT}))) == 1


def test_a_sentencepiece_trainer_is_not_a_training_entry_point(make_repo: MakeRepo) -> None:
    source = "import sentencepiece as spm\n\nspm.SentencePieceTrainer.Train('--input=x --model_prefix=m')\n"
    assert entry_points(make_repo({"scripts/spm_train.py": source})) == []


def test_a_packages_train_loop_module_is_imported_not_run(make_repo: MakeRepo) -> None:
    files = {"lib/engine/__init__.py": "", "lib/engine/train_loop.py": SCRIPT_ONLY}
    assert entry_points(make_repo(files)) == []
    guarded = SCRIPT_ONLY + "\nif __name__ == '__main__':\n    pass\n"
    assert entry_points(make_repo({**files, "lib/engine/train_loop.py": guarded})) == [
        ("lib/engine/train_loop.py", 5, "training script")
    ]
