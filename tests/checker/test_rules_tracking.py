"""EX rules: each fires, at the right place, on a small bad repository and stays quiet on good ones.

Credentials in this file are assembled at run time so that the file itself holds nothing a scanner would report.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fsdl_check.model import REGISTRY, Finding, ProjectKind, all_rules
from fsdl_check.testing import run_rule as run

MakeRepo = Callable[..., Path]

WANDB_KEY = "3f9a" + "0c41d27e8b65f1a9" * 2 + "4e7b"  # 40 hex characters, the shape of a W&B key
PASSWORD = "Tr0ub4dor" + "-and-3"

TRAIN = """\
import lightning as L

{imports}

def main() -> None:
    model = Model()
    trainer = L.Trainer(max_epochs=3{logger})
    trainer.fit(model)
"""
TENSORBOARD = "from torch.utils.tensorboard import SummaryWriter\n"
SAVES_HPARAMS = "class Model(L.LightningModule):\n    def __init__(self):\n        self.save_hyperparameters()\n"
CLI = "from lightning.pytorch.cli import LightningCLI\n\n\ndef main() -> None:\n    LightningCLI()\n"


def where(findings: list[Finding]) -> list[tuple[str, int | None]]:
    return [(f.path, f.line) for f in findings]


def train(imports: str = "", logger: str = "") -> str:
    return TRAIN.format(imports=imports, logger=logger)


def env_assignment(name: str, value: str) -> str:
    return f'import os\n\nos.environ["{name}"] = "{value}"\n'


# -- EX001 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "files",
    [
        {"src/pkg/train.py": train()},
        {"src/pkg/train.py": train("from lightning.pytorch.loggers import CSVLogger", ", logger=CSVLogger('logs')")},
        {"src/pkg/train.py": train(), "tests/test_train.py": "import mlflow\n"},
        {"src/pkg/train.py": train(), "configs/x.yaml": "trainer:\n  logger:\n    class_path: CSVLogger\n"},
    ],
)
def test_no_tracker(make_repo: MakeRepo, files: dict[str, str]) -> None:
    findings = run("EX001", make_repo(files))
    assert where(findings) == [("src/pkg/train.py", 7)]


@pytest.mark.parametrize(
    "files",
    [
        {"src/pkg/train.py": train("import mlflow")},
        {"src/pkg/train.py": train("from torch.utils.tensorboard import SummaryWriter")},
        {"src/pkg/train.py": train(), "src/pkg/track.py": "import wandb\n"},
        {"src/pkg/train.py": train("from lightning.pytorch.loggers import MLFlowLogger", ", logger=MLFlowLogger()")},
        {
            "src/pkg/cli.py": CLI,
            "configs/default.yaml": "trainer:\n  logger:\n    class_path: lightning.pytorch.loggers.MLFlowLogger\n",
        },
        {
            "src/pkg/train.py": train(),
            "configs/logger/wandb.yaml": "wandb:\n  _target_: lightning.pytorch.loggers.wandb.WandbLogger\n",
        },
        {"src/pkg/train.py": train("args = TrainingArguments(output_dir='o', report_to=['wandb'])")},
    ],
)
def test_tracker_used(make_repo: MakeRepo, files: dict[str, str]) -> None:
    assert run("EX001", make_repo(files)) == []


# -- EX002 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "line", "shown"),
    [
        ('import mlflow\n\nmlflow.set_tracking_uri("http://10.0.0.5:5000")\n', 3, "http://10.0.0.5:5000"),
        ("from lightning.pytorch.loggers import MLFlowLogger\n\nlogger = MLFlowLogger(\n    'exp',\n"
         "    tracking_uri='https://mlflow.example.com',\n)\n", 3, "https://mlflow.example.com"),
        ('import mlflow\n\nclient = mlflow.MlflowClient("mlflow.internal:5000")\n', 3, "mlflow.internal:5000"),
        ("import wandb\n\nwandb.login(host='https://wandb.corp.example')\n", 3, "https://wandb.corp.example"),
        (env_assignment("MLFLOW_TRACKING_URI", "http://tracking:5000"), 3, "http://tracking:5000"),
        (f'import mlflow\nmlflow.set_tracking_uri("https://bob:{PASSWORD}@mlflow.example")\n', 2, "https://mlflow.example"),
    ],
)  # fmt: skip
def test_hard_coded_tracking_hosts(make_repo: MakeRepo, content: str, line: int, shown: str) -> None:
    findings = run("EX002", make_repo({"src/pkg/tracking.py": content}))
    assert where(findings) == [("src/pkg/tracking.py", line)]
    assert findings[0].message == f"hard-coded tracking host {shown}"
    assert PASSWORD not in findings[0].message


@pytest.mark.parametrize(
    "content",
    [
        'import mlflow\nmlflow.set_tracking_uri("file:./mlruns")\n',
        'import mlflow\nmlflow.set_tracking_uri("sqlite:///mlflow.db")\n',
        'import mlflow\nmlflow.set_tracking_uri("mlruns")\n',
        'import mlflow\nmlflow.set_tracking_uri("databricks")\n',
        'import mlflow, os\nmlflow.set_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db"))\n',
        "import mlflow\n\n\ndef setup(uri: str = 'http://localhost:5000') -> None:\n    mlflow.set_tracking_uri(uri)\n",
        "from lightning.pytorch.loggers import MLFlowLogger\nlogger = MLFlowLogger(tracking_uri=cfg.tracking_uri)\n",
        env_assignment("MLFLOW_TRACKING_URI", "file:/tmp/mlruns"),
    ],
)
def test_tracking_uri_from_environment_config_or_local(make_repo: MakeRepo, content: str) -> None:
    assert run("EX002", make_repo({"src/pkg/tracking.py": content})) == []


def test_tests_and_configs_may_name_hosts(make_repo: MakeRepo) -> None:
    files = {
        "tests/test_tracking.py": 'import mlflow\nmlflow.set_tracking_uri("http://127.0.0.1:5000")\n',
        "configs/default.yaml": "trainer:\n  logger:\n    init_args:\n      tracking_uri: http://mlflow:5000\n",
    }
    assert run("EX002", make_repo(files)) == []


# -- EX003 --------------------------------------------------------------------------------------------------------
def test_hyperparameter_logging_requires_a_tracker() -> None:
    all_rules()
    assert REGISTRY["EX003"].requires == ("EX001",)
    assert REGISTRY["EX003"].training_only


def test_hyperparameters_not_logged(make_repo: MakeRepo) -> None:
    root = make_repo({"src/pkg/train.py": train("import mlflow"), "src/pkg/model.py": "class Model:\n    pass\n"})
    findings = run("EX003", root)
    assert where(findings) == [("src/pkg/train.py", 7)]


@pytest.mark.parametrize(
    "extra",
    [
        {"src/pkg/model.py": SAVES_HPARAMS},
        {"src/pkg/log.py": "import mlflow\n\nmlflow.log_params({'lr': 0.1})\n"},
        {"src/pkg/log.py": "import mlflow\n\nmlflow.pytorch.autolog()\n"},
        {"src/pkg/log.py": "import wandb\n\nrun = wandb.init(project='p', config={'lr': 0.1})\n"},
        {"src/pkg/log.py": "import wandb\n\nwandb.config.lr = 0.1\n"},
        {"src/pkg/log.py": "def log(logger, cfg):\n    logger.log_hyperparams(cfg)\n"},
        {"src/pkg/cli.py": CLI},
    ],
)  # fmt: skip
def test_hyperparameters_logged(make_repo: MakeRepo, extra: dict[str, str]) -> None:
    assert run("EX003", make_repo({"src/pkg/train.py": train("import mlflow"), **extra})) == []


# -- EX004 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("files", "missing"),
    [
        ({"src/pkg/t.py": "import mlflow\n"}, "mlruns/, mlartifacts/, mlflow.db"),
        ({"src/pkg/t.py": "import mlflow\n", ".gitignore": "mlruns/\n*.db\n"}, "mlartifacts/"),
        ({"src/pkg/t.py": "import wandb\n", ".gitignore": "mlruns/\n"}, "wandb/"),
        ({"src/pkg/t.py": TENSORBOARD}, "lightning_logs/ or runs/"),
        ({"src/pkg/t.py": TENSORBOARD + "w = SummaryWriter('tb/logs')\n"}, "tb/logs/"),
        (
            {"src/pkg/t.py": "import mlflow, os\nuri = os.environ.get('MLFLOW_TRACKING_URI', 'sqlite:///store/runs.db')\n"},
            "store/runs.db",
        ),
        (
            {"configs/c.yaml": "trainer:\n  logger:\n    class_path: lightning.pytorch.loggers.WandbLogger\n"
             "    init_args:\n      save_dir: logs\n"},
            "logs/wandb/",
        ),
        ({"src/pkg/t.py": "import wandb\n", ".gitignore": "wandb/\n", "nb.ipynb": "{}", "b.ipynb": "{}"}, None),
    ],
)  # fmt: skip
def test_tracker_output_not_ignored(make_repo: MakeRepo, files: dict[str, str], missing: str | None) -> None:
    findings = run("EX004", make_repo(files))
    if missing is None:
        assert findings == []
    else:
        assert where(findings) == [(".gitignore", None)]
        assert findings[0].message == f"tracker output not ignored: {missing}"


@pytest.mark.parametrize(
    "files",
    [
        {"src/pkg/t.py": "import mlflow\n", ".gitignore": "mlruns/\nmlartifacts/\nmlflow.db\n"},
        {"src/pkg/t.py": "import wandb\nimport mlflow\n", ".gitignore": "/mlruns\n/mlartifacts\n*.db\nwandb\n"},
        {"src/pkg/t.py": "from tensorboardX import SummaryWriter\n", ".gitignore": "runs/\n"},
        {"src/pkg/t.py": "import mlflow\nmlflow.set_tracking_uri(settings.uri)\n"},  # where is not knowable here
        {"src/pkg/t.py": TENSORBOARD + "w = SummaryWriter(log_dir='./tb')\n", ".gitignore": "tb/\n"},
        {
            "configs/logger.yaml": "mlflow:\n  _target_: lightning.pytorch.loggers.MLFlowLogger\n"
            "  tracking_uri: ${paths.log_dir}/mlflow/mlruns\n",
        },
        {"tests/test_t.py": "import mlflow\n"},
        {"src/pkg/t.py": "import csv\n"},
    ],
)  # fmt: skip
def test_tracker_output_ignored(make_repo: MakeRepo, files: dict[str, str]) -> None:
    assert run("EX004", make_repo(files)) == []


# -- EX005 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "content", "line", "what"),
    [
        ("src/pkg/t.py", env_assignment("WANDB_API_KEY", WANDB_KEY), 3, "WANDB_API_KEY"),
        ("src/pkg/t.py", f"import wandb\n\nwandb.login(key='{WANDB_KEY}')\n", 3, "wandb.login key"),
        ("src/pkg/t.py", f'import os\nos.environ.setdefault("MLFLOW_TRACKING_PASSWORD", "{PASSWORD}")\n', 2,
         "MLFLOW_TRACKING_PASSWORD"),
        ("configs/env.yaml", f"env:\n  MLFLOW_TRACKING_TOKEN: {PASSWORD}\n", 2, "MLFLOW_TRACKING_TOKEN"),
        ("scripts/run.sh", f"#!/bin/sh\nexport WANDB_API_KEY={WANDB_KEY}\n", 2, "WANDB_API_KEY"),
        ("configs/logger.yaml", f"logger:\n  tracking_uri: https://bob:{PASSWORD}@mlflow.example.com\n", 2,
         "password in tracking URI"),
        ("src/pkg/t.py", f"import comet_ml\n\nexp = comet_ml.Experiment(api_key='{WANDB_KEY}')\n", 3,
         "Comet/Neptune API key"),
        ("nb.ipynb", '{"cells": [{"cell_type": "code", "source": ["wandb.login(key=\\"' + WANDB_KEY + '\\")"]}]}',
         1, "wandb.login key"),
    ],
)  # fmt: skip
def test_tracker_credentials(make_repo: MakeRepo, path: str, content: str, line: int, what: str) -> None:
    root = make_repo({path: content})
    findings = run("EX005", root)
    assert where(findings) == [(path, line)]
    assert findings[0].message.startswith(what)
    assert WANDB_KEY[6:] not in findings[0].message and PASSWORD not in findings[0].message
    assert run("VC005", root) == []  # reported once, here


@pytest.mark.parametrize(
    ("path", "content"),
    [
        ("src/pkg/t.py", 'import os\n\nkey = os.environ["WANDB_API_KEY"]\n'),
        ("src/pkg/t.py", 'import os\n\nkey = os.getenv("WANDB_API_KEY", "")\n'),
        ("src/pkg/t.py", "WANDB_API_KEY: str | None = None\n"),
        ("src/pkg/t.py", 'NAMES = ("WANDB_API_KEY", "MLFLOW_TRACKING_PASSWORD")\n'),
        ("src/pkg/t.py", 'cmd = f"WANDB_API_KEY={key} python train.py"\n'),
        (".github/workflows/ci.yml", "env:\n  WANDB_API_KEY: ${{ secrets.WANDB_API_KEY }}\n"),
        (".env.example", "WANDB_API_KEY=<your-key>\nMLFLOW_TRACKING_PASSWORD=\n"),
        (".env", f"WANDB_API_KEY={WANDB_KEY}\n"),  # a credential file: VC004 reports the whole file
        ("configs/c.yaml", "tracking_uri: postgresql://mlflow:${PASSWORD}@db/mlflow\n"),
        ("docker-compose.yml", "command: mlflow server --backend-store-uri sqlite:///mlflow.db\n"),
        ("src/pkg/t.py", "import wandb\n\nwandb.login(key=os.environ['WANDB_API_KEY'])\n"),
        ("src/pkg/db.py", f"DB = 'postgresql://app:{PASSWORD}@db/app'\n"),  # not a tracker: left to other checks
    ],
)
def test_no_tracker_credentials(make_repo: MakeRepo, path: str, content: str) -> None:
    assert run("EX005", make_repo({path: content})) == []


def test_odd_configs_and_arguments_are_treated_as_unknown(make_repo: MakeRepo) -> None:
    code = (
        "import mlflow, os, wandb\nfrom lightning.pytorch.loggers import MLFlowLogger, TensorBoardLogger\n"
        "L = MLFlowLogger(*args, **kw)\nT = TensorBoardLogger(save_dir=[1], name=None)\n"
        "mlflow.set_tracking_uri(b'http://x')\nmlflow.set_tracking_uri()\nwandb.init(host=3, dir=None)\n"
        "os.environ[1] = 'http://x'\nos.environ['MLFLOW_TRACKING_URI'] = 5\n"
        "TrainingArguments(report_to=5)\nTrainingArguments(report_to=[1, None])\n"
    )
    root = make_repo(
        {
            "src/pkg/t.py": code,
            "configs/a.yaml": "trainer: 1\nmodel: 2\nlogger: {class_path: 5}\n",
            "configs/b.yaml": "logger:\n  _target_: MLFlowLogger\n  tracking_uri: 5\n  save_dir: [1]\n",
            "configs/c.yaml": "trainer:\n  logger:\n    class_path: WandbLogger\n    init_args: 5\n",
            "configs/d.yaml": "a: &x [*x]\n",
            ".gitignore": "wandb/\n",
        }
    )
    assert [run(code, root) for code in ("EX001", "EX002", "EX005")] == [[], [], []]
    # MLflow and TensorBoard were pointed somewhere not knowable (5, [1], *args): only W&B's default is checked
    assert run("EX004", root) == []


def test_ex001_counts_a_project_logger_subclass_named_in_config(make_repo: Callable[..., Path]) -> None:
    # The template's W&B tracker: a subclass of Lightning's WandbLogger, chosen by class_path in the YAML config.
    root = make_repo(
        {
            "src/pkg/tracking.py": (
                "from lightning.pytorch.loggers import WandbLogger\n\n\nclass Tracker(WandbLogger):\n    pass\n"
            ),
            "src/pkg/cli.py": (
                "from lightning.pytorch.cli import LightningCLI\n\n\ndef main() -> None:\n    LightningCLI()\n"
            ),
            "configs/default.yaml": "trainer:\n  logger:\n    class_path: pkg.tracking.Tracker\nmodel: {}\n",
        }
    )
    assert run("EX001", root, project_kind=ProjectKind.TRAINING) == []
