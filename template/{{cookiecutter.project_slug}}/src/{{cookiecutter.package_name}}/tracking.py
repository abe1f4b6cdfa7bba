{%- if cookiecutter.tracker == "mlflow" -%}
"""Experiment tracking with MLflow: where runs are stored, what each run records, where models are.

Runs go to ``mlflow.db``, a SQLite file in the project, with artifacts under ``mlartifacts/``, so
tracking works offline without a server. Set ``MLFLOW_TRACKING_URI`` (or ``tracking_uri`` in the
logger's config) to send runs to a tracking server instead. ``make ui`` browses the local store.
"""
{%- elif cookiecutter.tracker == "wandb" -%}
"""Experiment tracking with Weights & Biases: what each run records and where models are.

Runs are written offline under ``outputs/wandb/``, so training needs no account and no network;
``make ui`` uploads them with ``wandb sync``. Set ``WANDB_MODE=online`` to stream runs live.
"""
{%- elif cookiecutter.tracker == "tensorboard" -%}
"""Experiment tracking with TensorBoard: what each run records and where models are.

Each run is a ``lightning_logs/version_<n>/`` folder with event files, the resolved config and the
run's checkpoints; ``make ui`` opens TensorBoard on that folder.
"""
{%- endif %}

from __future__ import annotations

{% if cookiecutter.tracker in ("mlflow", "wandb") -%}
import os
{% endif -%}
import subprocess
from pathlib import Path

from lightning.pytorch import LightningModule, Trainer
{%- if cookiecutter.tracker == "mlflow" %}
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import SaveConfigCallback
from lightning.pytorch.loggers import MLFlowLogger
from lightning.pytorch.utilities import rank_zero_only
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_GIT_COMMIT

EXPERIMENT_NAME = "{{ cookiecutter.project_slug }}"
LOCAL_STORE_URI = "sqlite:///mlflow.db"  # relative to the working directory, as `make ui` opens it
LOCAL_ARTIFACT_DIR = Path("mlartifacts")
MODEL_ARTIFACT_DIR = "model"  # where each run keeps its best checkpoint
{%- elif cookiecutter.tracker == "wandb" %}
from lightning.pytorch.cli import SaveConfigCallback
from lightning.pytorch.loggers import WandbLogger

PROJECT = "{{ cookiecutter.project_slug }}"
RUNS_DIR = Path("outputs")
RUN_CONFIG_FILE = "run_config.yaml"
{%- elif cookiecutter.tracker == "tensorboard" %}
from lightning.pytorch.cli import SaveConfigCallback
from lightning.pytorch.loggers import TensorBoardLogger

RUNS_DIR = Path("lightning_logs")
{%- endif %}


def git_commit() -> str | None:
    """The checked-out commit, or None where there is no git work tree (an unpacked sdist, say)."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607 - git from PATH, as a developer would run it
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip()
{%- if cookiecutter.tracker == "mlflow" %}


def local_tracking_uri() -> str:
    """``LOCAL_STORE_URI`` by absolute path.

    MLflow caches stores by URI: a relative one would keep pointing into the first working directory.
    """
    return f"sqlite:///{Path(LOCAL_STORE_URI.removeprefix('sqlite:///')).resolve()}"


def resolve_tracking_uri(configured: str | None = None) -> str:
    """The configured URI, else ``MLFLOW_TRACKING_URI``, else the project's own SQLite store."""
    return configured or os.environ.get("MLFLOW_TRACKING_URI") or local_tracking_uri()


class MLflowTracker(MLFlowLogger):
    """Lightning's MLflow logger that finds its store at run time and keeps the best checkpoint.

    Each run records the hyperparameters saved by the model and data, metrics per step and per
    epoch, the resolved config (``config.yaml``, from :class:`RunConfigLogger`), the git commit
    (the tag MLflow shows as the source version) and the best checkpoint under ``model/``.

    Args:
        experiment_name: MLflow experiment the run belongs to.
        run_name: Display name of the run; MLflow picks one when unset.
        tracking_uri: Tracking store; see :func:`resolve_tracking_uri`.
    """

    def __init__(
        self,
        experiment_name: str = EXPERIMENT_NAME,
        run_name: str | None = None,
        tracking_uri: str | None = None,
    ) -> None:
        uri = resolve_tracking_uri(tracking_uri)
        commit = git_commit()
        super().__init__(
            experiment_name=experiment_name,
            run_name=run_name,
            tracking_uri=uri,
            tags={MLFLOW_GIT_COMMIT: commit} if commit else None,
            # A server decides where artifacts go; the local store keeps them beside its database.
            artifact_location=LOCAL_ARTIFACT_DIR.resolve().as_uri() if uri == local_tracking_uri() else None,
        )
        self._best_checkpoint = ""
        self._logged_checkpoint = ""

    def after_save_checkpoint(self, checkpoint_callback: ModelCheckpoint) -> None:
        """Remember the best checkpoint so far; it is uploaded once, when the run ends."""
        self._best_checkpoint = checkpoint_callback.best_model_path

    @rank_zero_only
    def finalize(self, status: str = "success") -> None:
        """Upload the best checkpoint, then close the run."""
        if self._best_checkpoint != self._logged_checkpoint and self.run_id is not None:
            self.experiment.log_artifact(self.run_id, self._best_checkpoint, MODEL_ARTIFACT_DIR)
            self._logged_checkpoint = self._best_checkpoint
        super().finalize(status)


class RunConfigLogger(SaveConfigCallback):
    """Stores the resolved config (files, defaults and command-line overrides merged) with the run.

    With it, any run can be repeated from its own record: ``--config config.yaml``.
    """

    def save_config(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        """Log the config as the run's ``config.yaml`` artifact."""
        config = self.parser.dump(self.config)
        for logger in trainer.loggers:
            if isinstance(logger, MLFlowLogger) and logger.run_id is not None:
                logger.experiment.log_text(logger.run_id, config, "config.yaml")


def latest_checkpoint(experiment_name: str = EXPERIMENT_NAME) -> Path | None:
    """The best checkpoint of the newest finished run, downloaded; None before the first run."""
    client = MlflowClient(resolve_tracking_uri())
    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is None:
        return None
    runs = client.search_runs(
        [experiment.experiment_id],
        filter_string="attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        max_results=50,
    )
    for run in runs:
        artifacts = client.list_artifacts(run.info.run_id, MODEL_ARTIFACT_DIR)
        checkpoints = [artifact.path for artifact in artifacts if artifact.path.endswith(".ckpt")]
        if checkpoints:
            return Path(client.download_artifacts(run.info.run_id, checkpoints[0]))
    return None
{%- elif cookiecutter.tracker == "wandb" %}


class WandbTracker(WandbLogger):
    """Lightning's W&B logger, offline unless ``WANDB_MODE`` says otherwise.

    Each run records the hyperparameters saved by the model and data, metrics per step and per
    epoch, the resolved config (``run_config.yaml``, from :class:`RunConfigLogger`), the git commit
    and its checkpoints as a W&B model artifact whose best version carries the alias ``best``.

    Args:
        project: W&B project the run belongs to.
        name: Display name of the run; W&B picks one when unset.
        save_dir: Folder for the run files and checkpoints.
    """

    def __init__(self, project: str = PROJECT, name: str | None = None, save_dir: Path = RUNS_DIR) -> None:
        os.environ.setdefault("WANDB_MODE", "offline")
        save_dir.mkdir(parents=True, exist_ok=True)
        commit = git_commit()
        super().__init__(
            project=project,
            name=name,
            # Absolute: W&B resolves relative paths against the folder of its first run in the process.
            save_dir=str(save_dir.resolve()),
            log_model=True,
            config={"git_commit": commit} if commit else None,
        )


class RunConfigLogger(SaveConfigCallback):
    """Stores the resolved config (files, defaults and command-line overrides merged) with the run.

    With it, any run can be repeated from its own record: ``--config run_config.yaml``.
    """

    def save_config(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        """Write the config into the run's folder, which W&B uploads with the run."""
        config = self.parser.dump(self.config)
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                # W&B keeps its own config.yaml in that folder.
                (Path(logger.experiment.dir) / RUN_CONFIG_FILE).write_text(config)


def latest_checkpoint(runs_dir: Path = RUNS_DIR) -> Path | None:
    """The newest best checkpoint on disk (``last.ckpt`` excluded); None before the first run."""
    checkpoints = [
        path for path in runs_dir.glob("**/checkpoints/*.ckpt") if not path.stem.startswith("last")
    ]
    return max(checkpoints, key=lambda path: path.stat().st_mtime, default=None)
{%- elif cookiecutter.tracker == "tensorboard" %}


class RunConfigLogger(SaveConfigCallback):
    """Stores the resolved config (files, defaults and command-line overrides merged) with the run.

    Lightning writes it as ``config.yaml`` into the run's folder; this also shows it, with the git
    commit, on TensorBoard's text tab. Any run can be repeated with ``--config config.yaml``.
    """

    def save_config(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        """Add the config and the git commit to the run's event file."""
        config = self.parser.dump(self.config)
        for logger in trainer.loggers:
            if isinstance(logger, TensorBoardLogger):
                logger.experiment.add_text("config", f"```yaml\n{config}\n```")
                logger.experiment.add_text("git_commit", git_commit() or "unknown")


def latest_checkpoint(runs_dir: Path = RUNS_DIR) -> Path | None:
    """The newest best checkpoint on disk (``last.ckpt`` excluded); None before the first run."""
    checkpoints = [
        path for path in runs_dir.glob("**/checkpoints/*.ckpt") if not path.stem.startswith("last")
    ]
    return max(checkpoints, key=lambda path: path.stat().st_mtime, default=None)
{%- endif %}
