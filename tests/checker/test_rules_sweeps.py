"""HP rules: each fires, at the right place, on a small bad repository and stays quiet on good ones.

Tried on real repositories (HP, fsdl-check 0.1.0):
- Ray Tune's own examples (ray 2.60, `ray/tune/examples`, audited from a non-example folder): spaces written in
  code (HP001, every example), FIFO with trials that report every epoch (HP002: tune_basic_example, logging_example,
  mlflow_ptl...), no seed for the default random search or for OptunaSearch/HyperOptSearch/TuneBOHB/BayesOptSearch
  (HP003), no tracker but in mlflow_example and mlflow_ptl (HP004), torch trials without resources (HP005). After the
  first try: AxSearch and NevergradSearch, which take no seed, are no longer asked for one; a function of a few
  numbers is not asked for resources (only trials that train with a framework are); a multi-objective search is not
  asked for a scheduler; `algo = ConcurrencyLimiter(algo)` resolves to the searcher assigned before it.
- optuna/optuna-examples: unseeded samplers and in-memory studies (HP003, HP004); objectives that train over epochs
  without `trial.report`/`should_prune` (HP002: tfkeras_simple, tensorflow_eager_simple). After the first try:
  Ignite's `PyTorchIgnitePruningHandler` counts as pruning (any `*Pruning*` integration), multi-objective studies
  (Optuna cannot prune them) and sklearn objectives that fit once are not asked to prune; the objectives are the
  functions given to `study.optimize`, so ask-and-tell loops (dashboard/hitl: `study.ask()` in a `while True`) and
  optuna_dashboard's own `create_study` are not asked either.
- hyperopt/hyperopt: its own `fmin` calls inside the library were reported (HP004) on the first try; a repository
  that defines the tool's entry point in the tool's package (`hyperopt/`, `optuna/`, `ray/tune/`) is now skipped.
- ashleve/lightning-hydra-template: its Optuna sweeper (configs/hparams_search/mnist_optuna.yaml) sets direction and
  a seeded TPE sampler, and its loggers are declared in configs: no findings.
- wandb/examples (sweep YAMLs and `wandb.sweep` dicts, audited outside `examples/`): sweeps without `early_terminate`
  whose program logs every epoch (HP002), a grid sweep without a metric (HP003), dicts given to `wandb.sweep`
  (HP001). After the first try: `early_terminate` is asked only where the sweep's `program` (or the module calling
  `wandb.sweep`) logs repeatedly (an evaluation sweep of LLM prompts logs once); `tune.run` is labelled as written.
- A rendered template project (examples/default.yml): its sweep file and `tune.py` driver report nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fsdl_check.config import Config
from fsdl_check.engine import audit
from fsdl_check.model import Finding, ProjectKind, Status
from fsdl_check.testing import run_rule as run

MakeRepo = Callable[..., Path]
CODES = ("HP001", "HP002", "HP003", "HP004", "HP005")

#: The generated project's sweep file, as the template writes it.
PROJECT_SWEEP = """\
name: default
train_configs: [configs/default.yaml]
metric: val/acc
mode: max
seed: 42
trials: 12
resources_per_trial: {cpu: 1, gpu: 0}
search: random
scheduler:
  name: asha
  grace_period: 2
space:
  model.lr: {loguniform: [1.0e-4, 3.0e-2]}
  data.batch_size: {choice: [32, 64]}
"""
#: A driver like the template's: every value comes from the loaded sweep file.
DRIVER = """\
import mlflow
import yaml
from ray import tune
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler
from ray.tune.search import BasicVariantGenerator


def param_space(sweep):
    return {key: getattr(tune, kind)(*args) for key, (kind, args) in sweep["space"].items()}


def scheduler(sweep):
    return FIFOScheduler() if sweep["scheduler"] == "fifo" else ASHAScheduler(grace_period=2)


def train(config):
    for epoch in range(10):
        tune.report({"val_acc": 0.5})


def main(path):
    sweep = yaml.safe_load(open(path))
    trainable = tune.with_resources(train, {"cpu": sweep["cpu"], "gpu": sweep["gpu"]})
    tuner = tune.Tuner(
        trainable,
        param_space=param_space(sweep),
        tune_config=tune.TuneConfig(
            metric=sweep["metric"],
            mode=sweep["mode"],
            search_alg=BasicVariantGenerator(random_state=sweep["seed"]),
            scheduler=scheduler(sweep),
            num_samples=sweep["trials"],
        ),
    )
    tuner.fit()
"""
#: A Ray Tune sweep that gets everything wrong.
RAY_BAD = """\
import torch
from ray import tune


def train(config):
    for epoch in range(10):
        tune.report({"loss": 1.0})


tuner = tune.Tuner(
    train,
    param_space={"lr": tune.loguniform(1e-4, 1e-1), "bs": tune.choice([32, 64])},
    tune_config=tune.TuneConfig(num_samples=10),
)
tuner.fit()
"""
RAY_GOOD = """\
import mlflow
import torch
from ray import tune
from ray.tune.schedulers import ASHAScheduler
from ray.tune.search.optuna import OptunaSearch

SPACE = load_space("configs/sweep.yaml")


def train(config):
    for epoch in range(10):
        mlflow.log_metric("loss", 1.0)
        tune.report({"loss": 1.0})


tuner = tune.Tuner(
    tune.with_resources(train, {"cpu": 2, "gpu": 1}),
    param_space=SPACE,
    tune_config=tune.TuneConfig(
        metric="loss", mode="min", scheduler=ASHAScheduler(), search_alg=OptunaSearch(seed=0), num_samples=10
    ),
)
"""
OPTUNA_BAD = """\
import optuna


def objective(trial):
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    for epoch in range(10):
        accuracy = train_one_epoch(lr)
    return accuracy


study = optuna.create_study()
study.optimize(objective, n_trials=20)
"""
OPTUNA_GOOD = """\
import optuna


def objective(trial):
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    for epoch in range(10):
        accuracy = train_one_epoch(lr)
        trial.report(accuracy, epoch)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return accuracy


study = optuna.create_study(
    direction="maximize", sampler=optuna.samplers.TPESampler(seed=0), storage="sqlite:///optuna.db"
)
study.optimize(objective, n_trials=20)
"""
HYPEROPT_BAD = """\
from hyperopt import fmin, hp, tpe

best = fmin(lambda x: x**2, hp.uniform("x", -10, 10), algo=tpe.suggest, max_evals=100)
"""
WANDB_BAD = """\
program: train.py
method: bayes
metric:
  name: val_acc
parameters:
  lr: {min: 0.0001, max: 0.1}
"""
WANDB_GOOD = """\
program: train.py
method: bayes
metric: {name: val_acc, goal: maximize}
early_terminate: {type: hyperband, min_iter: 3}
parameters:
  lr: {min: 0.0001, max: 0.1}
"""
WANDB_PROGRAM = "import wandb\n\nwandb.init()\nfor epoch in range(10):\n    wandb.log({'val_acc': 0.5})\n"
HYDRA_BAD = """\
# @package _global_
defaults:
  - override /hydra/sweeper: optuna
optimized_metric: val/acc_best
hydra:
  sweeper:
    n_trials: 20
    params:
      model.lr: interval(0.0001, 0.1)
"""
HYDRA_GOOD = """\
# @package _global_
defaults:
  - override /hydra/sweeper: optuna
optimized_metric: val/acc_best
hydra:
  sweeper:
    _target_: hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper
    direction: maximize
    n_trials: 20
    sampler:
      _target_: optuna.samplers.TPESampler
      seed: 1234
    params:
      model.lr: interval(0.0001, 0.1)
"""


def where(findings: list[Finding]) -> list[tuple[str, int | None, str]]:
    return [(f.path, f.line, f.message) for f in findings]


def codes(root: Path) -> dict[str, list[tuple[str, int | None, str]]]:
    return {code: where(found) for code in CODES if (found := run(code, root))}


def test_a_repository_without_sweeps_gets_no_hp_findings(make_repo: MakeRepo) -> None:
    root = make_repo({"train.py": "import torch\nimport mlflow\n", "configs/default.yaml": "trainer: {}\nmodel: {}\n"})
    report = audit(root, Config(select=("HP",), project_kind=ProjectKind.TRAINING))
    assert {r.code: r.status for r in report.results if r.code in CODES} == dict.fromkeys(CODES, Status.PASS)


def test_the_template_sweep_file_and_a_config_driven_driver_pass(make_repo: MakeRepo) -> None:
    root = make_repo({"configs/sweeps/default.yaml": PROJECT_SWEEP, "src/pkg/tune.py": DRIVER})
    assert codes(root) == {}


def test_the_ray_sweep_that_gets_everything_wrong(make_repo: MakeRepo) -> None:
    root = make_repo({"sweep.py": RAY_BAD})
    assert codes(root) == {
        "HP001": [("sweep.py", 12, "the search space of tune.Tuner (2 distributions) is written in the code")],
        "HP002": [
            ("sweep.py", 13, "tune.Tuner stops no trial early: no scheduler: every trial runs to the end (FIFO)")
        ],
        "HP003": [
            ("sweep.py", 13, "tune.Tuner has no metric and mode: its trials cannot be ranked"),
            (
                "sweep.py",
                13,
                "tune.Tuner: the default random search has no seed, so every run draws different configurations",
            ),
        ],
        "HP004": [
            (
                "sweep.py",
                10,
                "tune.Tuner records its trials in no experiment tracker, only in Ray's result folder on the "
                "driver's node",
            )
        ],
        "HP005": [("sweep.py", 10, "tune.Tuner declares no resources per trial: each trial gets 1 CPU and no GPU")],
    }


def test_a_ray_sweep_done_right_passes(make_repo: MakeRepo) -> None:
    assert codes(make_repo({"sweep.py": RAY_GOOD})) == {}


@pytest.mark.parametrize(
    ("change", "code", "expected"),
    [
        # A scheduler that stops nothing, directly or through a name.
        ("scheduler=ASHAScheduler()", "HP002", "tune.Tuner stops no trial early: FIFOScheduler runs every trial"),
        # A metric without its mode.
        ('metric="loss", mode="min"', "HP003", "tune.Tuner sets the metric 'loss' but no mode (min or max)"),
        # A known searcher without its seed.
        ("OptunaSearch(seed=0)", "HP003", "tune.Tuner: OptunaSearch has no seed"),
    ],
)
def test_ray_settings_one_at_a_time(make_repo: MakeRepo, change: str, code: str, expected: str) -> None:
    replacement = {
        "scheduler=ASHAScheduler()": "scheduler=sched",
        'metric="loss", mode="min"': 'metric="loss"',
        "OptunaSearch(seed=0)": "ConcurrencyLimiter(OptunaSearch(), max_concurrent=2)",
    }[change]
    text = RAY_GOOD.replace(change, replacement).replace("SPACE = ", "sched = FIFOScheduler()\nSPACE = ")
    messages = [f.message for f in run(code, make_repo({"sweep.py": text}))]
    assert len(messages) == 1 and messages[0].startswith(expected), messages


def test_ray_settings_it_cannot_follow_are_not_judged(make_repo: MakeRepo) -> None:
    text = RAY_BAD.replace("tune_config=tune.TuneConfig(num_samples=10)", "tune_config=make_config(args)")
    text = text.replace("param_space={", "param_space=space_from(cfg) or {")
    found = codes(make_repo({"sweep.py": text.replace("    train,\n", "    trainable,\n")}))
    assert set(found) == {"HP004"}  # the trainable and the settings come from elsewhere; the tracker is not there


def test_a_trial_that_reports_once_is_told_to_report_every_epoch(make_repo: MakeRepo) -> None:
    # Nothing for a scheduler to act on yet: the one finding says both what is missing and what it needs.
    text = RAY_BAD.replace("    for epoch in range(10):\n        tune.report", "    tune.report")
    (finding,) = run("HP002", make_repo({"sweep.py": text}))
    assert finding.message.endswith(
        "no scheduler: every trial runs to the end (FIFO); and each trial reports once: "
        "report every epoch for a scheduler to act on"
    )


def test_an_estimator_fitted_once_per_trial_is_not_asked_for_a_scheduler(make_repo: MakeRepo) -> None:
    # A scikit-learn style trial: one fit, one score; no scheduler could cut it short.
    text = RAY_BAD.replace(
        '    for epoch in range(10):\n        tune.report({"loss": 1.0})',
        '    model = make_model(config)\n    model.fit(X, y)\n    tune.report({"loss": model.score(X, y)})',
    )
    assert "model.fit(X, y)" in text
    assert run("HP002", make_repo({"sweep.py": text})) == []


def test_the_optuna_study_that_gets_everything_wrong(make_repo: MakeRepo) -> None:
    root = make_repo({"study.py": OPTUNA_BAD})
    assert codes(root) == {
        "HP002": [
            (
                "study.py",
                11,
                "optuna.create_study stops no trial early: the objective never calls trial.report and "
                "trial.should_prune",
            )
        ],
        "HP003": [
            ("study.py", 11, "optuna.create_study minimizes by default, and 'accuracy' reads as higher-is-better"),
            (
                "study.py",
                11,
                "optuna.create_study: the default sampler has no seed, so every run draws different configurations",
            ),
        ],
        "HP004": [
            (
                "study.py",
                11,
                "optuna.create_study records its trials in no experiment tracker, only in memory (no storage): "
                "they are lost when the process ends",
            )
        ],
    }


def test_an_optuna_study_done_right_passes(make_repo: MakeRepo) -> None:
    assert codes(make_repo({"study.py": OPTUNA_GOOD})) == {}


def test_optuna_defaults_that_are_right_are_not_reported(make_repo: MakeRepo) -> None:
    # A loss is minimized by default; an objective that fits once has nothing to prune; a tracker in the objective.
    text = (
        "import mlflow\nimport optuna\n\n\ndef objective(trial):\n    c = trial.suggest_float('c', 0.1, 10)\n"
        "    return cross_val_loss(SVC(C=c))\n\n\n"
        "study = optuna.create_study(sampler=optuna.samplers.GridSampler({'c': [1, 2]}))\n"
    )
    assert codes(make_repo({"study.py": text})) == {}


def test_hyperopt(make_repo: MakeRepo) -> None:
    root = make_repo({"search.py": HYPEROPT_BAD})
    assert codes(root) == {
        "HP001": [("search.py", 3, "the search space of hyperopt.fmin (1 distribution) is written in the code")],
        "HP003": [
            ("search.py", 3, "hyperopt.fmin: fmin's rstate has no seed, so every run draws different configurations")
        ],
        "HP004": [
            (
                "search.py",
                3,
                "hyperopt.fmin records its trials in no experiment tracker, only in memory (a Trials object): they "
                "are lost when the process ends",
            )
        ],
    }
    good = HYPEROPT_BAD.replace("max_evals=100", "max_evals=100, rstate=np.random.default_rng(0)")
    good = good.replace("hp.uniform", "load_space('space.yaml') or hp.uniform")
    assert codes(make_repo({"search.py": "import wandb\n" + good})) == {}


def test_wandb_sweep_files(make_repo: MakeRepo) -> None:
    root = make_repo({"sweeps/sweep.yaml": WANDB_BAD, "sweeps/train.py": WANDB_PROGRAM})
    assert codes(root) == {
        "HP002": [("sweeps/sweep.yaml", 2, "W&B sweep stops no trial early: no early_terminate")],
        "HP003": [("sweeps/sweep.yaml", 3, "W&B sweep minimizes by default, and 'val_acc' reads as higher-is-better")],
    }
    assert codes(make_repo({"sweeps/sweep.yaml": WANDB_GOOD, "sweeps/train.py": WANDB_PROGRAM})) == {}
    # A program that logs once (an evaluation) has nothing to terminate early.
    assert run("HP002", make_repo({"sweep.yaml": WANDB_BAD, "train.py": "import wandb\nwandb.log({})\n"})) == []


def test_a_wandb_sweep_written_in_code(make_repo: MakeRepo) -> None:
    text = (
        "import wandb\n\nconfig = {\n    'method': 'grid',\n    'parameters': {'layers': {'values': [32, 64]}},\n}\n"
        "sweep_id = wandb.sweep(config)\n"
    )
    assert codes(make_repo({"sweep.py": text})) == {
        "HP001": [("sweep.py", 3, "the search space of wandb.sweep (1 distribution) is written in the code")],
        "HP003": [("sweep.py", 7, "wandb.sweep has no metric: its trials cannot be ranked")],
    }


def test_hydra_optuna_sweeper(make_repo: MakeRepo) -> None:
    tracked = {"configs/logger/mlflow.yaml": "_target_: lightning.pytorch.loggers.MLFlowLogger\n"}
    root = make_repo({"configs/hparams_search/optuna.yaml": HYDRA_BAD})
    assert codes(root) == {
        "HP003": [
            (
                "configs/hparams_search/optuna.yaml",
                6,
                "Hydra Optuna sweeper minimizes by default, and 'val/acc_best' reads as higher-is-better",
            ),
            (
                "configs/hparams_search/optuna.yaml",
                6,
                "Hydra Optuna sweeper: the default TPE sampler has no seed, so every run draws different "
                "configurations",
            ),
        ],
        "HP004": [("configs/hparams_search/optuna.yaml", 6, "the sweep's trials are tracked nowhere")],
    }
    assert codes(make_repo({"configs/hparams_search/optuna.yaml": HYDRA_GOOD, **tracked})) == {}
    # The basic sweeper is a launcher over a grid, not a search.
    basic = "hydra:\n  sweeper:\n    params:\n      model.lr: 0.1,0.01\n"
    assert codes(make_repo({"configs/sweep.yaml": basic})) == {}


def test_hp004_reports_every_untracked_hydra_sweep(make_repo: MakeRepo) -> None:
    # One untracked Hydra search must not end the look at the others.
    root = make_repo({"configs/hparams_search/a.yaml": HYDRA_BAD, "configs/hparams_search/b.yaml": HYDRA_BAD})
    found = run("HP004", root)
    assert sorted(f.path for f in found) == ["configs/hparams_search/a.yaml", "configs/hparams_search/b.yaml"]


def test_project_sweep_files(make_repo: MakeRepo) -> None:
    text = PROJECT_SWEEP.replace("resources_per_trial: {cpu: 1, gpu: 0}\n", "").replace("name: asha", "name: fifo")
    text = text.replace("mode: max\n", "")
    root = make_repo({"configs/sweeps/fifo.yaml": text})
    assert codes(root) == {
        "HP002": [
            (
                "configs/sweeps/fifo.yaml",
                7,
                "sweep file stops no trial early: scheduler fifo runs every trial to the end",
            )
        ],
        "HP003": [("configs/sweeps/fifo.yaml", 3, "sweep file sets the metric 'val/acc' but no mode (min or max)")],
        "HP005": [
            (
                "configs/sweeps/fifo.yaml",
                1,
                "sweep file declares no resources per trial: each trial gets 1 CPU and no GPU",
            )
        ],
    }


def test_examples_tests_and_the_tools_own_code_are_left_out(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "examples/sweep.py": RAY_BAD,
            "tests/test_sweep.py": RAY_BAD,
            "{{cookiecutter.slug}}/sweep.py": RAY_BAD,
            "hyperopt/fmin.py": "def fmin(fn, space):\n    pass\n",
            "hyperopt/spark.py": "import hyperopt\n\nbest = hyperopt.fmin(fn, space)\n",
        }
    )
    assert codes(root) == {}


@pytest.mark.parametrize(
    ("good", "bad"),
    [
        ({"a_study.py": OPTUNA_GOOD}, {"b_study.py": OPTUNA_BAD}),
        ({"a_sweep.py": RAY_GOOD}, {"b_sweep.py": RAY_BAD}),
        ({"a_sweep.py": RAY_GOOD}, {"b_study.py": OPTUNA_BAD}),
    ],
)
def test_a_sweep_done_right_beside_one_done_wrong_hides_nothing(
    make_repo: MakeRepo, good: dict[str, str], bad: dict[str, str]
) -> None:
    """Each sweep is judged on its own: one that is tracked, seeded and resourced first does not end the check."""
    alone = codes(make_repo(bad))
    assert alone and codes(make_repo({**good, **bad})) == alone


def test_a_hydra_sweep_beside_a_tracked_optuna_study_is_still_judged(make_repo: MakeRepo) -> None:
    files = {"a_study.py": OPTUNA_GOOD, "configs/hparams_search/optuna.yaml": HYDRA_BAD}
    found = run("HP004", make_repo(files))
    assert where(found) == [("configs/hparams_search/optuna.yaml", 6, "the sweep's trials are tracked nowhere")]
