"""The sweep reader: each tool's sweeps found where they are declared, their settings read as the tool reads them,
and what it cannot follow left unknown (never judged)."""

from __future__ import annotations

from fsdl_check.parsing.python import PythonModule
from fsdl_check.parsing.sweeps import Fact, Sweep, find_sweeps, iter_facts
from fsdl_check.parsing.yamlfile import parse_yaml


def python(text: str, path: str = "sweep.py") -> list[Sweep]:
    return find_sweeps([PythonModule(path, text)], [])


def yaml(text: str, path: str = "sweep.yaml") -> list[Sweep]:
    return find_sweeps([], [parse_yaml(path, text)])


def test_a_tuner_is_read_through_names_and_wrappers() -> None:
    (sweep,) = python(
        "from ray import tune\nfrom ray.tune.search import ConcurrencyLimiter\n"
        "from ray.tune.search.hyperopt import HyperOptSearch\nfrom ray.tune.schedulers import ASHAScheduler\n"
        "def train(config):\n    for i in range(3):\n        tune.report({'loss': i})\n"
        "algo = HyperOptSearch(random_state_seed=1)\nalgo = ConcurrencyLimiter(algo, max_concurrent=2)\n"
        "config = tune.TuneConfig(search_alg=algo, scheduler=ASHAScheduler(metric='loss', mode='min'))\n"
        "tuner = tune.Tuner(tune.with_resources(train, {'gpu': 1}), tune_config=config)\n"
    )
    assert (sweep.tool, sweep.label, sweep.line, sweep.space_in_code) == ("ray", "tune.Tuner", 11, None)
    assert dict(iter_facts(sweep)) == {
        "early_stopping": Fact(True, "ASHAScheduler", 10),
        "metric": Fact(True, "loss", 10),
        "mode": Fact(True, "min", 10),
        "seed": Fact(True, "random_state_seed", 8),
        "resources": Fact(True, "declared", 11),
    }


def test_tune_run_and_its_keywords() -> None:
    (sweep,) = python(
        "import numpy as np\nfrom ray import tune\nnp.random.seed(0)\n"
        "tune.run(train, config={'x': tune.grid_search([1, 2]), 'y': tune.uniform(0, 1)}, metric='acc', mode='max',"
        " resources_per_trial={'cpu': 2})\n"
    )
    assert (sweep.label, sweep.space_in_code, sweep.parameters) == ("tune.run", 4, 2)
    assert sweep.seed == Fact(True, "np.random.seed", 3)
    assert sweep.resources is not None and sweep.resources.value == "resources_per_trial"
    assert sweep.early_stopping is None  # `train` is not defined here: whether it reports repeatedly is unknown


def test_spaces_built_from_config_are_not_in_code() -> None:
    (sweep,) = python(
        "from ray import tune\ncfg = load()\n"
        "space = {'lr': tune.loguniform(cfg.low, cfg.high), **{k: tune.choice(v) for k, v in cfg.choices.items()}}\n"
        "tune.Tuner(train, param_space=space)\n"
    )
    assert sweep.space_in_code is None


def test_unknown_settings_stay_unknown() -> None:
    (sweep,) = python("from ray import tune\ntune.Tuner(train, tune_config=settings(), **extra)\n")
    facts = dict(iter_facts(sweep))
    assert all(not fact.known for name, fact in facts.items() if name != "resources"), facts


def test_optuna_defaults() -> None:
    (sweep,) = python(
        "import optuna\ndef objective(trial):\n    return trial.suggest_float('x', 0, 1) ** 2\n"
        "study = optuna.create_study(pruner=optuna.pruners.NopPruner())\n"
    )
    assert sweep.early_stopping is None  # the objective returns once: there is nothing to prune on
    assert sweep.mode == Fact(True, "minimize (Optuna's default)", 4)
    assert sweep.seed is not None and sweep.seed.missing
    assert sweep.tracked_by is None


def test_hyperopt_machinery_is_not_a_sweep() -> None:
    modules = [
        PythonModule("hyperopt/fmin.py", "def fmin(fn, space):\n    pass\n"),
        PythonModule("hyperopt/other.py", "import hyperopt\nhyperopt.fmin(f, s)\n"),
    ]
    assert find_sweeps(modules, []) == []
    # The same call in a project is one.
    assert [s.tool for s in python("from hyperopt import fmin\nfmin(f, s, trials=MongoTrials('mongo://x'))\n")] == [
        "hyperopt"
    ]


def test_yaml_formats() -> None:
    (wandb,) = yaml("method: grid\nparameters: {a: {values: [1, 2]}}\nmetric: {name: loss}\n")
    assert (wandb.tool, wandb.metric, wandb.seed) == ("wandb", Fact(True, "loss", 3), None)
    assert wandb.mode is not None and wandb.mode.value == "minimize (W&B's default)"
    (project,) = yaml("metric: val/acc\nmode: max\nspace:\n  model.lr: {loguniform: [0.001, 0.1]}\n")
    assert project.tool == "project" and project.seed is not None and project.seed.known
    assert yaml("space: {a: 1}\nmetric: x\n") == []  # not a distribution per key
    assert yaml("method: [1]\nparameters: 3\n") == []
    (hydra,) = yaml("_target_: hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper\ndirection: max\n")
    assert hydra.tool == "hydra" and hydra.seed is not None and hydra.seed.missing


def test_broken_inputs_give_no_sweeps() -> None:
    assert python("from ray import tune\ntune.Tuner(\n") == []
    assert yaml("method: [\n") == []
