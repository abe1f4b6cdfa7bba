"""HP: hyperparameter search — the search space lives in config, weak trials are stopped early, the search knows
its metric, mode and seed, trials ask for the resources they use, and every trial is recorded in a tracker.

Which sweeps count (see `parsing.sweeps`): Ray Tune (`Tuner`, `tune.run`), Optuna (`create_study`) and Hyperopt
(`fmin`) in Python, W&B sweep configurations (YAML, or a literal dict given to `wandb.sweep`), Hydra's Optuna
sweeper, and the generated project's sweep files. Hydra's basic sweeper (`--multirun` over a grid) is a launcher, not
a search, and is not judged. A repository without sweeps gets no HP findings. Test, documentation, example and
benchmark code and project-template sources (`kind.is_auxiliary`) are left out. A setting the sweep takes from
somewhere the reader cannot follow (a config loaded at run time, a factory, `**kwargs`) is never reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from fsdl_check.kind import import_closure, is_auxiliary
from fsdl_check.model import Finding, Rule, Severity
from fsdl_check.parsing.sweeps import Sweep
from fsdl_check.parsing.yamlfile import YamlDoc
from fsdl_check.repo import Repo
from fsdl_check.rules.tracking import LOGGER_CLASSES, TRACKER_MODULES, tracker_use

SWEEP_FILE = "configs/sweeps/default.yaml"
#: What trials train with when their resources matter (a plain function of a few numbers runs fine on 1 CPU).
TRAINING_FRAMEWORKS = (
    "torch", "lightning", "pytorch_lightning", "tensorflow", "keras", "jax", "flax", "transformers", "xgboost",
    "lightgbm", "catboost",
)  # fmt: skip


def project_sweeps(sweeps: list[Sweep]) -> list[Sweep]:
    return [s for s in sweeps if not is_auxiliary(s.path)]


class SpaceInConfig(Rule):
    """The search space is declared in a config file, not written into the code

    A space written as literal distributions in Python (`param_space={"lr": tune.loguniform(1e-4, 1e-1)}`,
    `hp.uniform(...)` given to `fmin`, a dict given to `wandb.sweep`) changes only by editing code: the next sweep
    needs a commit, and the space a result came from is whatever the code said that day. A file next to the training
    configs is reviewed, versioned and logged with the sweep. A space built from a loaded file's contents is in
    config; Optuna's `trial.suggest_*` calls are its define-by-run design and are not reported.
    """

    code, severity = "HP001", Severity.INFO
    fix = (
        "Move the space to a YAML file (one distribution per training-config key) and build it from the file; "
        f"see the template's `{SWEEP_FILE}`."
    )
    template_file = SWEEP_FILE
    example = 'tuner = tune.Tuner(train, param_space={"lr": tune.loguniform(1e-4, 1e-1)})'

    def check(self, sweeps: list[Sweep]) -> Iterator[Finding]:
        for sweep in project_sweeps(sweeps):
            if sweep.space_in_code is not None:
                count = f"{sweep.parameters} distribution{'s' if sweep.parameters != 1 else ''}"
                message = f"the search space of {sweep.label} ({count}) is written in the code"
                yield self.finding(sweep.path, sweep.space_in_code, message)


class EarlyStopping(Rule):
    """Weak trials are stopped early by a scheduler or pruner

    Most trials of a search are worse than the best early on. Without an early-stopping scheduler (Ray Tune's ASHA,
    HyperBand, PBT, a median stopping rule), an Optuna pruner the objective reports to (`trial.report` and
    `trial.should_prune`), or W&B's `early_terminate`, every trial trains to its last epoch and the search costs
    several times the compute for the same best result. A Ray trial that reports once is told to report every epoch
    as well; one that fits an estimator once (`model.fit`) has nothing to cut short and is not asked, nor are
    Hyperopt and Hydra's sweepers, which cannot stop a trial.
    """

    code, severity = "HP002", Severity.INFO
    fix = (
        "Use an early-stopping scheduler (`scheduler: {name: asha, grace_period: 2}`), an Optuna pruner with "
        f"`trial.report`/`should_prune`, or W&B's `early_terminate`; see the template's `{SWEEP_FILE}`."
    )
    template_file = SWEEP_FILE
    example = 'tune.Tuner(train, tune_config=tune.TuneConfig(metric="loss", mode="min", num_samples=50))'

    def check(self, sweeps: list[Sweep]) -> Iterator[Finding]:
        for sweep in project_sweeps(sweeps):
            fact = sweep.early_stopping
            if fact is not None and fact.missing:
                why = f": {fact.note}" if fact.note else ""
                message = f"{sweep.label} stops no trial early{why}"
                yield self.finding(sweep.path, fact.line, message)


class MetricModeSeed(Rule):
    """The search names its metric and mode, and seeds its sampler

    Without a metric and mode the search cannot rank its trials: schedulers and searchers need them, and "the best
    trial" is picked by hand. A mode left to a default that minimizes an accuracy optimizes backwards. An unseeded
    search draws different configurations on every run, so a sweep cannot be repeated or compared with a change.
    Where the tool fixes a setting (Hyperopt minimizes the objective's loss; Optuna and W&B minimize unless told,
    which is only reported when the metric reads as higher-is-better; W&B's search takes no seed), it is not asked.
    """

    code, severity = "HP003", Severity.WARNING
    fix = (
        "Set the metric and mode (`TuneConfig(metric=, mode=)`, `create_study(direction=)`, `metric: {name, goal}`) "
        f"and a seed for the searcher or sampler; see the template's `{SWEEP_FILE}`."
    )
    template_file = SWEEP_FILE
    example = "study = optuna.create_study()  # objective returns accuracy\nstudy.optimize(objective, n_trials=50)"

    def check(self, sweeps: list[Sweep]) -> Iterator[Finding]:
        for sweep in project_sweeps(sweeps):
            metric, mode, seed = sweep.metric, sweep.mode, sweep.seed
            if metric is not None and metric.missing:
                what = "no metric and mode" if mode is not None and mode.missing else "no metric"
                yield self.finding(sweep.path, metric.line, f"{sweep.label} has {what}: its trials cannot be ranked")
            elif mode is not None and mode.missing:
                if mode.note:
                    message = f"{sweep.label} minimizes by default, and {mode.note!r} reads as higher-is-better"
                else:
                    value = metric.value if metric is not None else None
                    name = f" {value!r}" if value else ""
                    message = f"{sweep.label} sets the metric{name} but no mode (min or max)"
                yield self.finding(sweep.path, mode.line, message)
            if seed is not None and seed.missing:
                what = seed.note or "the sweep file"
                message = f"{sweep.label}: {what} has no seed, so every run draws different configurations"
                yield self.finding(sweep.path, seed.line, message)


class TrialsTracked(Rule):
    """Every trial is recorded in an experiment tracker

    A search's value is the comparison of its trials: their parameters, curves and final state side by side. Kept
    only in a driver's memory (an in-memory Optuna study, Hyperopt's `Trials`) or in a scheduler's local result
    folder (Ray's `~/ray_results` on one node), they are lost with the process or the node and never meet the
    ordinary training runs. Trials count as tracked when the trial's code (or what it imports) uses a tracker,
    a tracker callback records them (`MLflowLoggerCallback`, `setup_mlflow`, Optuna's `MLflowCallback`), an
    Optuna study has a storage, or the sweep is a W&B sweep.
    """

    code, severity = "HP004", Severity.INFO
    fix = (
        "Log each trial as a run (MLflow child runs, `MLflowLoggerCallback`, Optuna's `MLflowCallback`, or a "
        f"storage for the study); see the template's `{SWEEP_FILE}`."
    )
    template_file = SWEEP_FILE
    example = "best = fmin(objective, space, algo=tpe.suggest, max_evals=100)"

    def check(self, sweeps: list[Sweep], repo: Repo, yaml_files: list[YamlDoc]) -> Iterator[Finding]:
        for sweep in project_sweeps(sweeps):
            if sweep.tracked_by is not None:
                continue
            if sweep.tool == "hydra":
                if not tracker_use(repo.python, yaml_files).trackers:
                    yield self.finding(sweep.path, sweep.line, "the sweep's trials are tracked nowhere")
                continue
            if sweep.module is None or self._trial_code_tracks(repo, sweep):
                continue
            where = {
                "ray": "in Ray's result folder on the driver's node",
                "optuna": "in memory (no storage): they are lost when the process ends",
                "hyperopt": "in memory (a Trials object): they are lost when the process ends",
            }.get(sweep.tool, "in memory")
            message = f"{sweep.label} records its trials in no experiment tracker, only {where}"
            yield self.finding(sweep.path, sweep.line, message)

    @staticmethod
    def _trial_code_tracks(repo: Repo, sweep: Sweep) -> bool:
        assert sweep.module is not None
        modules = [sweep.module, *import_closure(repo, [sweep.module])]
        tracker_modules = [m for names in TRACKER_MODULES.values() for m in names]
        for module in modules:
            if module.imports_any(*tracker_modules) is not None or module.calls_named(*LOGGER_CLASSES):
                return True
        return False


class TrialResources(Rule):
    """Each trial declares the CPUs and GPUs it needs

    Ray Tune gives a trial one CPU and no GPU unless told: a trial that trains on a GPU gets none (it runs on the
    CPU, or fails to find CUDA), and CPU trials are packed one per core while each one's threads contend for all of
    them. Declare them with `tune.with_resources(trainable, {"cpu": 2, "gpu": 1})`, a Ray Train `ScalingConfig`, or
    `resources_per_trial` (the generated project's sweep file and `tune.run`). Only trials that train with a
    framework (PyTorch, TensorFlow, JAX, XGBoost, ...) are asked: a function of a few numbers runs well on one CPU.
    """

    code, severity = "HP005", Severity.INFO
    fix = (
        'Wrap the trainable in `tune.with_resources(train, {"cpu": 2, "gpu": 1})` or set `resources_per_trial`; '
        f"see the template's `{SWEEP_FILE}`."
    )
    template_file = SWEEP_FILE
    example = 'tuner = tune.Tuner(train, tune_config=tune.TuneConfig(metric="loss", mode="min"))'

    def check(self, sweeps: list[Sweep], repo: Repo) -> Iterator[Finding]:
        for sweep in project_sweeps(sweeps):
            fact = sweep.resources
            if fact is None or not fact.missing:
                continue
            modules = [sweep.module, *import_closure(repo, [sweep.module])] if sweep.module is not None else []
            if sweep.tool == "project" or any(m.imports_any(*TRAINING_FRAMEWORKS) for m in modules):
                message = f"{sweep.label} declares no resources per trial: each trial gets 1 CPU and no GPU"
                yield self.finding(sweep.path, fact.line, message)
