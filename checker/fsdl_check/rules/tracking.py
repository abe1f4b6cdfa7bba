"""EX: experiment tracking — a tracker is used, reached by configuration, logs the run's settings, keeps its files
out of git, and never holds credentials in the code.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from fsdl_check.kind import EntryPoint, is_auxiliary
from fsdl_check.model import Finding, Rule, Severity
from fsdl_check.parsing.lines import LineIndex
from fsdl_check.parsing.python import Call, PythonModule, dotted_name
from fsdl_check.parsing.yamlfile import YamlDoc
from fsdl_check.regex import lazy
from fsdl_check.repo import Repo
from fsdl_check.rules.vcs import is_credential_file, looks_like_placeholder, mask, mentions_tracker_sdk

#: Tracker name -> modules whose import means the tracker is used.
TRACKER_MODULES = {
    "mlflow": ("mlflow",),
    "wandb": ("wandb",),
    "tensorboard": ("tensorboard", "torch.utils.tensorboard", "tensorboardX", "tensorflow.summary"),
    "comet": ("comet_ml",),
    "neptune": ("neptune",),
    "clearml": ("clearml",),
    "aim": ("aim",),
    "dvclive": ("dvclive",),
}
#: Lightning logger classes (or names in configs) -> tracker. `CSVLogger` writes files nobody compares: not a tracker.
LOGGER_CLASSES = {
    "MLFlowLogger": "mlflow",
    "WandbLogger": "wandb",
    "TensorBoardLogger": "tensorboard",
    "CometLogger": "comet",
    "NeptuneLogger": "neptune",
}
#: Where each tracker writes in the working tree unless told otherwise: (label, a path inside it for probes).
#: MLflow 3 defaults to a `sqlite:///mlflow.db` store with artifacts under `./mlruns`; `mlflow server` adds
#: `./mlartifacts`.
DEFAULT_OUTPUT = {
    "mlflow": (
        ("mlruns/", "mlruns/0/meta.yaml"),
        ("mlartifacts/", "mlartifacts/0/model.pkl"),
        ("mlflow.db", "mlflow.db"),
    ),
    "wandb": (("wandb/", "wandb/latest-run/files"),),
    "neptune": ((".neptune/", ".neptune/run/data"),),
    "aim": ((".aim/", ".aim/run/data"),),
}
#: TensorBoard writes wherever its logger says; Lightning's default and `SummaryWriter()`'s: either one will do.
TENSORBOARD_DEFAULTS = ("lightning_logs/", "runs/")
#: Arguments that say where a tracker writes, by callee (final attribute, or `wandb.init`):
#: (tracker, keyword, position or None, how to read it: "uri" an MLflow store URI, "dir" the directory itself,
#: "parent" a directory W&B creates `wandb/` in).
LOCATION_ARGUMENTS: dict[str, tuple[tuple[str, str, int | None, str], ...]] = {
    "MLFlowLogger": (("mlflow", "tracking_uri", 2, "uri"), ("mlflow", "save_dir", None, "dir")),
    "set_tracking_uri": (("mlflow", "uri", 0, "uri"),),
    "WandbLogger": (("wandb", "save_dir", 1, "parent"), ("wandb", "dir", None, "parent")),
    "wandb.init": (("wandb", "dir", None, "parent"),),
    "TensorBoardLogger": (("tensorboard", "save_dir", 0, "dir"),),
    "SummaryWriter": (("tensorboard", "log_dir", 0, "dir"),),
}
SQLITE = "sqlite:///"
MAX_CONFIG_DEPTH = 40


@dataclass
class TrackerUse:
    """Which trackers the project's own code and configs use, and where they write."""

    trackers: set[str] = field(default_factory=set)
    #: tracker -> relative paths it writes to, from literal arguments and config values (`mlflow.db`, `logs/tb`).
    locations: dict[str, set[str]] = field(default_factory=dict)
    #: Trackers pointed somewhere this audit cannot resolve (a variable, `${...}`, a server): no default applies.
    configured: set[str] = field(default_factory=set)

    def record(self, tracker: str, how: str, value: Any) -> None:
        """Note where `tracker` writes, given an argument's literal `value` (None when it is not a literal)."""
        path = local_store(value) if how == "uri" else value if isinstance(value, str) and relative(value) else None
        if path is None:
            self.configured.add(tracker)
            return
        path = posixpath.normpath(path)
        if how == "parent":
            path = posixpath.join(path, "wandb")
        self.locations.setdefault(tracker, set()).add(path)


def tracker_use(python: list[PythonModule], yaml_files: list[YamlDoc]) -> TrackerUse:
    use = TrackerUse()
    for module in python:
        if not module.parsed or is_auxiliary(module.path):
            continue
        for tracker, modules in TRACKER_MODULES.items():
            if module.imports_any(*modules):
                use.trackers.add(tracker)
        for definition in module.classes:  # a project's own logger subclass (class WandbTracker(WandbLogger)) counts
            for base in definition.bases:
                name = base.rpartition(".")[2]
                if name in LOGGER_CLASSES:
                    use.trackers.add(LOGGER_CLASSES[name])
        for call in module.calls_named(*LOGGER_CLASSES):
            use.trackers.add(LOGGER_CLASSES[call.last])
        if module.imports_any("keras", "tensorflow", "tf_keras") and module.calls_named("TensorBoard"):
            use.trackers.add("tensorboard")  # Keras's callback: `model.fit(..., callbacks=[TensorBoard(log_dir)])`
        for call in module.calls_named(*LOCATION_ARGUMENTS):
            for tracker, keyword, position, how in LOCATION_ARGUMENTS.get(
                call.name if call.name == "wandb.init" else call.last, ()
            ):
                node = argument_node(call, position, keyword)
                if node is not None and not (isinstance(node, ast.Constant) and node.value is None):
                    use.record(tracker, how, literal(node))
        for call in module.calls if "report_to" in module.text else ():  # Hugging Face TrainingArguments
            report_to = literal(argument_node(call, None, "report_to"))
            for name in [report_to] if isinstance(report_to, str) else report_to if isinstance(report_to, list) else []:
                if name in TRACKER_MODULES:
                    use.trackers.add(name)
        if SQLITE in module.text:  # e.g. the fallback of os.environ.get("MLFLOW_TRACKING_URI", "sqlite:///...")
            for each in module.walk():  # parsed again: the few modules that name such a store
                value = each.value if type(each) is ast.Constant else None
                if isinstance(value, str) and value.startswith(SQLITE):
                    use.record("mlflow", "uri", value)
    for doc in yaml_files:
        if not is_auxiliary(doc.path) and not doc.path.startswith("."):
            for data in doc.documents:
                _config_trackers(data, use)
    return use


#: What :func:`unignored_tracker_output` names for TensorBoard at its defaults: either folder would do.
TENSORBOARD_EITHER = " or ".join(TENSORBOARD_DEFAULTS)


def unignored_tracker_output(use: TrackerUse, ignores: Callable[[str], bool]) -> list[str]:
    """The tracker output folders and store files in use that ``ignores`` (a path test) does not cover.

    Shared by EX004 and its fix, which tests a ``.gitignore`` it is about to write instead of the repository's.
    """
    missing: list[str] = []
    for tracker in sorted(use.trackers):
        if tracker in use.locations:
            for path in sorted(use.locations[tracker]):
                is_file = posixpath.splitext(path)[1] != ""
                if not ignores(path if is_file else path + "/run/data"):
                    missing.append(path if is_file else path + "/")
        elif tracker in use.configured:
            continue  # written where a variable or a config interpolation says: not checkable here
        elif tracker == "tensorboard":
            if not any(ignores(d + "version_0/events.out.tfevents") for d in TENSORBOARD_DEFAULTS):
                missing.append(TENSORBOARD_EITHER)
        else:
            missing.extend(label for label, probe in DEFAULT_OUTPUT.get(tracker, ()) if not ignores(probe))
    return missing


def _config_trackers(node: Any, use: TrackerUse, depth: int = 0) -> None:
    """Loggers a config declares (`class_path:`/`_target_:` of a Lightning logger, `logger: MLFlowLogger`), where
    their arguments (`init_args:` for LightningCLI, sibling keys for Hydra) point them, and sqlite store URIs."""
    if depth > MAX_CONFIG_DEPTH:  # a recursive YAML alias, or absurd nesting
        return
    if isinstance(node, dict):
        for key in ("class_path", "_target_", "logger"):
            name = node.get(key)
            logger = name.rpartition(".")[2] if isinstance(name, str) else ""
            if logger not in LOGGER_CLASSES:
                continue
            use.trackers.add(LOGGER_CLASSES[logger])
            if key == "logger":
                # `logger: MLFlowLogger` names the class and nothing else
                continue  # mutation: equivalent (the last key: break ends the loop just the same)
            init_args = node.get("init_args")
            arguments: dict[Any, Any] = init_args if isinstance(init_args, dict) else node
            for tracker, keyword, _, how in LOCATION_ARGUMENTS.get(logger, ()):
                if arguments.get(keyword) is not None:
                    use.record(tracker, how, arguments[keyword])
        for value in node.values():
            _config_trackers(value, use, depth + 1)
    elif isinstance(node, list):
        for item in node:
            _config_trackers(item, use, depth + 1)
    elif isinstance(node, str) and node.startswith(SQLITE):
        use.record("mlflow", "uri", node)


def argument_node(call: Call, position: int | None, keyword: str) -> ast.expr | None:
    """A call's argument by keyword, or by position when given; None when absent. The call's facts say whether the
    argument is there; only then is its node looked up (which parses the module again)."""
    if keyword in call.keywords:
        return next(k.value for k in call.node.keywords if k.arg == keyword)
    if position is not None and call.positional > position:
        arg = call.node.args[position]
        return None if isinstance(arg, ast.Starred) else arg
    return None


def literal(node: ast.expr | None) -> Any:
    """The value of a literal expression (a string, a list of strings...), else None."""
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def local_store(uri: Any) -> str | None:
    """The relative path a local MLflow store URI writes to (`file:./mlruns`, `sqlite:///mlflow.db`, `mlruns`);
    None for servers, absolute paths, templates and non-strings."""
    if not isinstance(uri, str) or "{" in uri:
        return None
    if uri.startswith(SQLITE):
        path = uri[len(SQLITE) :]
    elif uri.startswith("file:"):
        path = uri[len("file:") :]
        path = path[2:] if path.startswith("//") else path
    else:
        path = uri
    return path if relative(path) else None


def relative(path: str) -> bool:
    return bool(path) and not path.startswith(("/", "~", "$")) and ":" not in path and ".." not in path


def first_entry(entry_points: list[EntryPoint]) -> tuple[str, int | None]:
    return (entry_points[0].path, entry_points[0].line) if entry_points else (".", None)


class TrackerUsed(Rule):
    """Training runs are recorded by an experiment tracker

    Metrics printed to a terminal are gone when it closes: without a tracker (MLflow, W&B, TensorBoard, ...)
    nobody can compare runs, find the checkpoint behind a number, or tell which code and settings produced it.
    A tracker used in code, or a Lightning logger declared in the config, counts; `CSVLogger` does not.
    """

    code, severity = "EX001", Severity.WARNING
    training_only = True
    fix = "Log to MLflow (local store by default, any server by URI); see the template's `src/<package>/tracking.py`."
    template_file = "src/<package>/tracking.py"
    example = "trainer = L.Trainer(max_epochs=10)  # default CSV/print logging only"

    def check(
        self, entry_points: list[EntryPoint], python: list[PythonModule], yaml_files: list[YamlDoc]
    ) -> Iterator[Finding]:
        if not tracker_use(python, yaml_files).trackers:
            path, line = first_entry(entry_points)
            yield self.finding(path, line, "no experiment tracker (MLflow, W&B, TensorBoard, ...) in code or config")


def hard_coded_host(value: str) -> bool:
    """Whether a tracking URI names a server: `http(s)://`, a database URL, `host:port`. Files, sqlite and
    relative paths are local; `databricks` names a profile."""
    lower = value.strip().lower()
    if not lower or lower.startswith(("file:", "sqlite:")) or lower in ("databricks", "databricks-uc"):
        return False
    if "://" in lower:
        return bool(lower.partition("://")[2].strip("/"))
    return re.fullmatch(r"[\w.-]+:\d+(/.*)?", lower) is not None


#: Calls that take a tracking server address: (final attribute, keyword, position of the argument or None).
URI_ARGUMENTS = (
    ("set_tracking_uri", "uri", 0),
    ("set_registry_uri", "uri", 0),
    ("MlflowClient", "tracking_uri", 0),
    ("MLFlowLogger", "tracking_uri", 2),
)
URI_CALLEES = tuple(last for last, _, _ in URI_ARGUMENTS)
URI_VARIABLES = ("MLFLOW_TRACKING_URI", "WANDB_BASE_URL")


class TrackingUriFromConfig(Rule):
    """The tracking server's address comes from the environment or configuration

    A host written into the code (`mlflow.set_tracking_uri("http://10.0.0.5:5000")`) ties every run to one
    network: the same code cannot log locally on a laptop, to a team server in CI and to another on the cluster.
    Read `MLFLOW_TRACKING_URI` (or a config value) and default to a local store. Local `file:` and `sqlite:`
    URIs and values from variables, parameters or configs are fine.
    """

    code, severity = "EX002", Severity.WARNING
    fix = "Read the URI from `MLFLOW_TRACKING_URI` or the config; see the template's `src/<package>/tracking.py`."
    template_file = "src/<package>/tracking.py"
    example = 'mlflow.set_tracking_uri("http://mlflow.internal:5000")'

    def check(self, python: list[PythonModule]) -> Iterator[Finding]:
        for module in python:
            if not module.parsed or is_auxiliary(module.path):
                continue
            for call in module.calls_named("wandb.init", "wandb.login", *URI_CALLEES):
                value = self._uri_argument(call)
                if isinstance(value, str) and hard_coded_host(value):
                    yield self.finding(module.path, call.line, f"hard-coded tracking host {display_uri(value)}")
            if any(variable in module.text for variable in URI_VARIABLES):
                yield from self._environment_assignments(module)

    @staticmethod
    def _uri_argument(call: Call) -> Any:
        if call.name in ("wandb.init", "wandb.login"):
            return literal(argument_node(call, None, "host"))
        for last, keyword, position in URI_ARGUMENTS:
            if call.last == last:
                return literal(argument_node(call, position, keyword))
        return None

    def _environment_assignments(self, module: PythonModule) -> Iterator[Finding]:
        """`os.environ["MLFLOW_TRACKING_URI"] = "http://..."` hard-codes the host just the same."""
        for node in module.walk():
            if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Constant):
                continue
            value = node.value.value
            for target in node.targets:
                if (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.slice, ast.Constant)
                    and target.slice.value in URI_VARIABLES
                    and isinstance(value, str)
                    and hard_coded_host(value)
                ):
                    yield self.finding(module.path, node.lineno, f"hard-coded tracking host {display_uri(value)}")


def display_uri(uri: str) -> str:
    """The URI without any `user:password@` part (EX005 reports those)."""
    return re.sub(r"//[^/@\s]*@", "//", uri)


#: Calls that record a run's hyperparameters or configuration (final attribute).
PARAM_LOGGING = frozenset({"save_hyperparameters", "log_params", "log_param", "log_hyperparams", "add_hparams"})


class HyperparametersLogged(Rule):
    """Each run logs its hyperparameters and configuration to the tracker

    A tracked metric without the settings that produced it cannot be reproduced or compared: which learning rate
    was this? `self.save_hyperparameters()` in the LightningModule, `mlflow.log_params`, `wandb.config` or
    LightningCLI (which saves and logs its whole config) ties every run to its configuration.
    """

    code, severity = "EX003", Severity.INFO
    training_only = True
    requires = ("EX001",)
    fix = "Call `self.save_hyperparameters()` in the LightningModule; see the template's `src/<package>/model.py`."
    template_file = "src/<package>/model.py"
    example = "class Model(L.LightningModule):\n    def __init__(self, lr: float):\n        super().__init__()\n"

    def check(self, entry_points: list[EntryPoint], python: list[PythonModule]) -> Iterator[Finding]:
        if any(e.is_lightning_cli for e in entry_points):
            return
        for module in python:
            if module.parsed and not is_auxiliary(module.path) and logs_parameters(module):
                return
        path, line = first_entry(entry_points)
        yield self.finding(path, line, "hyperparameters are not logged (e.g. `self.save_hyperparameters()`)")


def logs_parameters(module: PythonModule) -> bool:
    if module.calls_named(*PARAM_LOGGING, "autolog", "LightningCLI"):
        return True
    if any("config" in call.keywords for call in module.calls_named("wandb.init")):
        return True
    if "wandb.config" in module.text:  # `wandb.config.update(cfg)`, `wandb.config.lr = ...`, wherever `wandb` is from
        return any(isinstance(n, ast.Attribute) and dotted_name(n) == "wandb.config" for n in module.walk())
    return False


class TrackerOutputIgnored(Rule):
    """The experiment tracker's local output is git-ignored

    Trackers write run stores next to the code: `mlruns/` and `mlartifacts/` (and a `*.db` store) for MLflow,
    `wandb/` for W&B, `lightning_logs/` or `runs/` for TensorBoard. Committed, they bloat the repository with
    binary artifacts and can leak what the runs logged. Checked whenever a tracker is used, whatever the kind.
    """

    code, severity = "EX004", Severity.INFO
    fix = "Add the tracker's directories to `.gitignore`; see the template's `.gitignore`."
    template_file = ".gitignore"
    example = "# .gitignore without mlruns/ while the code calls mlflow.start_run()"

    def check(self, repo: Repo, python: list[PythonModule], yaml_files: list[YamlDoc]) -> Iterator[Finding]:
        missing = unignored_tracker_output(tracker_use(python, yaml_files), repo.ignores)
        if missing:
            yield self.finding(".gitignore", None, f"tracker output not ignored: {', '.join(missing)}")


# -- EX005 --------------------------------------------------------------------------------------------------------
#: Credential variables assigned a literal, in any syntax: `X=v` (shell, .env), `X: v` (YAML), `"X": "v"` (JSON),
#: `os.environ["X"] = "v"`, `os.environ.setdefault("X", "v")`, `os.getenv("X", "v")`.
CREDENTIAL_VARIABLES = ("WANDB_API_KEY", "MLFLOW_TRACKING_", "COMET_API_KEY", "NEPTUNE_API_TOKEN")
CREDENTIAL_ASSIGNMENT = lazy(
    r"""\b(?P<name>WANDB_API_KEY|MLFLOW_TRACKING_(?:PASSWORD|TOKEN|USERNAME)|COMET_API_KEY|NEPTUNE_API_TOKEN)\b
    \\?["']?\s*\]?\s*(?P<separator>=(?!=)|:|,)[ \t]*(?P<quote>\\?["'])?(?P<value>[^\s"'\\,;)\]}#]+)""",
    re.VERBOSE,
)
#: The call in front of `NAME, value` that makes the value a default: `os.getenv(`, `os.environ.setdefault(`.
DEFAULT_CALL = lazy(r"""(?:getenv|setdefault|\.get)\(\s*\\?["']$""")
WANDB_LOGIN_KEY = lazy(r"""wandb\.login\([^)\n]*?\bkey\s*=\s*\\?["'](?P<value>[^"'\\\s]+)""")
SDK_API_KEY = lazy(r"""\bapi_(?:key|token)\s*=\s*\\?["'](?P<value>[^"'\\\s]{8,})""")
URI_CREDENTIALS = lazy(r"""://(?P<user>[^\s:/@"'${}<>]+):(?P<value>[^\s@/"'<>]+)@""")
TRACKING_CONTEXT = lazy(r"tracking[_-]?uri|backend[_-]store[_-]uri|registry[_-]?uri|mlflow|wandb", re.IGNORECASE)
CREDENTIAL_SCAN_SUFFIXES = frozenset(
    {".py", ".ipynb", ".yaml", ".yml", ".toml", ".cfg", ".ini", ".json", ".sh", ".bash", ".zsh", ".env", ".txt"}
)


def credential_scan_target(name: str, suffix: str) -> bool:
    """Code and config files (Dockerfiles are left to the container rules)."""
    return suffix in CREDENTIAL_SCAN_SUFFIXES or name.startswith(".env") or name in ("Makefile", "docker-compose.yml")


def tracker_credentials(text: str, code: bool) -> Iterator[tuple[int, str, str]]:
    """(line, what, value) for each tracker credential written as a literal in `text` (`code`: Python source).

    Each pattern runs only on files that contain its tell-tale substring, so most files cost a few `in` tests.
    """
    lines = LineIndex(text)
    line_at = lines.line
    if any(variable in text for variable in CREDENTIAL_VARIABLES):
        for match in CREDENTIAL_ASSIGNMENT.finditer(text):
            if code and not match["quote"]:
                continue  # in Python only a quoted string is a literal (`X: str = ...` is an annotation)
            if match["separator"] == "," and not DEFAULT_CALL.search(text, endpos=match.start()):
                continue  # `("WANDB_API_KEY", "OTHER")` lists names; only `getenv(NAME, default)` sets a value
            yield line_at(match.start()), match["name"], match["value"]
    if "wandb.login" in text:
        for match in WANDB_LOGIN_KEY.finditer(text):
            yield line_at(match.start()), "wandb.login key", match["value"]
    if "api_" in text and mentions_tracker_sdk(text):
        for match in SDK_API_KEY.finditer(text):
            yield line_at(match.start()), "Comet/Neptune API key", match["value"]
    for match in URI_CREDENTIALS.finditer(text) if "@" in text else ():
        newline = text.rfind("\n", 0, match.start())  # mutation: equivalent (from 1: a newline at 0 starts no word)
        end = text.find("\n", match.end())
        line_end = end if end >= 0 else len(text)  # mutation: equivalent (found after the match, never at 0)
        if TRACKING_CONTEXT.search(text, newline + 1, line_end):
            yield line_at(match.start()), "password in tracking URI", match["value"]


class TrackerCredentials(Rule):
    """No experiment-tracker credentials in code or configuration

    A W&B API key, an MLflow password or token, or a `user:password@` tracking URI committed to the repository
    gives anyone with a clone write access to every experiment, model and artifact of the team. Trackers read
    their credentials from the environment (`WANDB_API_KEY`, `MLFLOW_TRACKING_PASSWORD`): set them in the shell
    or the CI secret store, never in files under version control.
    """

    code, severity = "EX005", Severity.ERROR
    fix = (
        "Rotate the credential and let the tracker read it from the environment; "
        "see the template's `src/<package>/tracking.py`."
    )
    template_file = "src/<package>/tracking.py"
    example = 'os.environ["WANDB_API_KEY"] = "' + "0123456789abcdef" + "0123456789abcdef" + '01234567"'

    def check(self, repo: Repo) -> Iterator[Finding]:
        for file in repo.files:
            if file.symlink or not credential_scan_target(file.name, file.suffix):
                continue
            if is_credential_file(file, repo):
                continue  # the whole file is VC004's finding
            text = repo.text(file.path)
            if not text:
                continue
            for line, what, value in tracker_credentials(text, code=file.suffix in (".py", ".ipynb")):
                if not looks_like_placeholder(value):
                    yield self.finding(file.path, line, f"{what} {mask(value)} written in the file")
