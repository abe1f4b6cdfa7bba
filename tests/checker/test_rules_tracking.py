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


# -- boundaries the mutation run found untested -------------------------------------------------------------------
def nested(depth: int, brackets: str) -> str:
    """A YAML flow document holding an MLflow logger `depth` containers down (`{a: {...}}` or `[[...]]`)."""
    opening = "{a: " if brackets == "{}" else "["
    return opening * depth + "{class_path: MLFlowLogger}" + brackets[1] * depth + "\n"


KERAS = "from tensorflow import keras\n\n"
LOGGERS = "from lightning.pytorch.loggers import MLFlowLogger, TensorBoardLogger, WandbLogger\n"


@pytest.mark.parametrize("brackets", ["{}", "[]"])
def test_ex001_a_logger_is_looked_for_forty_levels_deep_and_no_deeper(make_repo: MakeRepo, brackets: str) -> None:
    # the depth limit guards against recursive aliases; 40 levels are read whether the nesting is maps or lists
    within = make_repo({"src/pkg/train.py": train(), "configs/deep.yaml": nested(40, brackets)})
    assert run("EX001", within) == []
    beyond = make_repo({"src/pkg/train.py": train(), "configs/deep.yaml": nested(41, brackets)})
    assert where(run("EX001", beyond)) == [("src/pkg/train.py", 7)]


@pytest.mark.parametrize(
    "files",
    [
        {"src/pkg/train.py": train(), "src/pkg/cb.py": KERAS + "cb = keras.callbacks.CSVLogger('l')\n"},
        {"src/pkg/train.py": train(), "src/pkg/cb.py": "from mylib import TensorBoard\n\ncb = TensorBoard('logs')\n"},
        {"src/pkg/train.py": train(), ".github/logger.yaml": "logger:\n  class_path: MLFlowLogger\n"},
        {"src/pkg/train.py": train(), "tests/configs/logger.yaml": "logger:\n  class_path: MLFlowLogger\n"},
    ],
)  # fmt: skip
def test_ex001_keras_without_its_tensorboard_callback_or_a_logger_in_a_hidden_or_test_config_is_no_tracker(
    make_repo: MakeRepo, files: dict[str, str]
) -> None:
    assert where(run("EX001", make_repo(files))) == [("src/pkg/train.py", 7)]


@pytest.mark.parametrize(
    "files",
    [
        {"src/pkg/train.py": train(), "src/pkg/cb.py": KERAS + "cb = keras.callbacks.TensorBoard('l')\n"},
        {"src/pkg/a.py": "def (:\n", "src/pkg/train.py": train("import mlflow")},  # a broken file ends no search
    ],
)  # fmt: skip
def test_ex001_the_keras_tensorboard_callback_counts_and_a_broken_file_is_passed_over(
    make_repo: MakeRepo, files: dict[str, str]
) -> None:
    assert run("EX001", make_repo(files)) == []


def test_ex001_is_skipped_outside_training_projects(make_repo: MakeRepo) -> None:
    from fsdl_check.config import Config
    from fsdl_check.engine import audit
    from fsdl_check.model import Status

    files = {"pyproject.toml": '[project]\nname = "t"\n', "src/t/__init__.py": "def f() -> int:\n    return 1\n"}
    result = next(r for r in audit(make_repo(files), Config(select=("EX001",))).results if r.code == "EX001")
    assert result.status is Status.SKIP


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ('import mlflow\n\nmlflow.set_registry_uri("http://registry:5000")\n', 3),
        (LOGGERS + "log = MLFlowLogger('e', 'run', 'http://mlflow:5000')\n", 2),
    ],
)  # fmt: skip
def test_ex002_a_registry_host_and_a_positional_logger_host_are_hard_coded(
    make_repo: MakeRepo, content: str, line: int
) -> None:
    assert where(run("EX002", make_repo({"src/pkg/tracking.py": content}))) == [("src/pkg/tracking.py", line)]


def test_ex002_both_uri_variables_are_checked_and_a_broken_file_ends_no_scan(make_repo: MakeRepo) -> None:
    content = (
        'import os\nos.environ["MLFLOW_TRACKING_URI"] = "http://mlflow:5000"\n'
        'os.environ["WANDB_BASE_URL"] = "https://wandb.corp.example"\n'
    )
    findings = run("EX002", make_repo({"src/pkg/a.py": "def (:\n", "src/pkg/tracking.py": content}))
    assert where(findings) == [("src/pkg/tracking.py", 2), ("src/pkg/tracking.py", 3)]


def test_ex003_wandb_config_set_on_a_wandb_passed_in_counts(make_repo: MakeRepo) -> None:
    for log in ("    wandb.config.lr = cfg.lr\n", "    wandb.config.update(cfg)\n"):
        files = {"src/pkg/train.py": train("import mlflow"), "src/pkg/log.py": "def log_config(wandb, cfg):\n" + log}
        assert run("EX003", make_repo(files)) == []


def test_ex003_wandb_config_named_only_in_a_comment_is_not_logging(make_repo: MakeRepo) -> None:
    log = "import wandb\n\n# TODO: log wandb.config\nrun = wandb.init(project='p')\n"
    findings = run("EX003", make_repo({"src/pkg/train.py": train("import mlflow"), "src/pkg/log.py": log}))
    assert where(findings) == [("src/pkg/train.py", 7)]


@pytest.mark.parametrize(
    ("code", "missing"),
    [
        ("import wandb\n\nwandb.init(project='p')\n", "wandb/"),  # no `dir`: the default
        ("import mlflow\nmlflow.set_tracking_uri('file:./store')\n", "store/"),
        (LOGGERS + "log = MLFlowLogger('exp', None, 'file:./store')\n", "store/"),
        (LOGGERS + "log = WandbLogger('run', 'logs')\n", "logs/wandb/"),
        (LOGGERS + "log = TensorBoardLogger('tb_logs')\n", "tb_logs/"),
        ("import mlflow, wandb\nmlflow.set_tracking_uri(settings.uri)\n", "wandb/"),  # MLflow not knowable, W&B is
    ],
)
def test_ex004_where_positional_and_file_uri_arguments_point_the_tracker(
    make_repo: MakeRepo, code: str, missing: str
) -> None:
    findings = run("EX004", make_repo({"src/pkg/t.py": code}))
    assert [f.message for f in findings] == [f"tracker output not ignored: {missing}"]


@pytest.mark.parametrize(
    "code",
    [
        "import mlflow\nmlflow.set_tracking_uri('file:///srv/mlruns')\n",
        TENSORBOARD + "w = SummaryWriter('/tmp/tb')\n",
    ],
)
def test_ex004_a_store_outside_the_working_tree_needs_no_ignore(make_repo: MakeRepo, code: str) -> None:
    assert run("EX004", make_repo({"src/pkg/t.py": code})) == []


def test_ex005_only_code_and_config_files_are_scanned_and_none_ends_the_scan(make_repo: MakeRepo) -> None:
    files = {
        ".env": f"WANDB_API_KEY={WANDB_KEY}\n",  # VC004's
        "Dockerfile": f"FROM python:3.12\nENV WANDB_API_KEY={WANDB_KEY}\n",  # the container rules'
        "src/pkg/__init__.py": "",
        "src/pkg/t.py": env_assignment("WANDB_API_KEY", WANDB_KEY),
    }
    assert where(run("EX005", make_repo(files))) == [("src/pkg/t.py", 3)]


@pytest.mark.parametrize(
    ("path", "content", "lines"),
    [
        ("Makefile", f"train:\n\tWANDB_API_KEY={WANDB_KEY} python train.py\n", [2]),
        ("scripts/env.sh", f"export WANDB_API_KEY={WANDB_KEY}\nexport MLFLOW_TRACKING_PASSWORD={PASSWORD}\n"
         f"export COMET_API_KEY={WANDB_KEY}\nexport NEPTUNE_API_TOKEN={WANDB_KEY}\n", [1, 2, 3, 4]),
        ("src/pkg/t.py", f'WANDB_API_KEY: str\nos.environ["WANDB_API_KEY"] = "{WANDB_KEY}"\n', [2]),
        ("src/pkg/t.py", f'NAMES = ("WANDB_API_KEY", "X")\nos.environ["WANDB_API_KEY"] = "{WANDB_KEY}"\n', [2]),
        ("src/pkg/t.py", f'import os\n\n\ndef setup() -> None:\n    os.environ.setdefault(\n'
         f'        "WANDB_API_KEY", "{WANDB_KEY}"\n    )\n', [6]),  # the default on its own, indented line
        ("configs/c.yaml", f"experiment: demo\nmlflow_uri: https://bob:{PASSWORD}@10.0.0.5:5000\n", [2]),
    ],
)  # fmt: skip
def test_ex005_credentials_in_makefiles_in_every_variable_and_after_names_that_are_not_values(
    make_repo: MakeRepo, path: str, content: str, lines: list[int]
) -> None:
    assert where(run("EX005", make_repo({path: content}))) == [(path, line) for line in lines]


def test_ex005_an_api_key_of_a_service_that_is_no_tracker_is_not_a_tracker_credential(make_repo: MakeRepo) -> None:
    content = f"from service import Client\n\nclient = Client(api_key='{WANDB_KEY}')\n"
    assert run("EX005", make_repo({"src/pkg/t.py": content})) == []
