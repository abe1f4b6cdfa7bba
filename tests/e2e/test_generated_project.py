"""End to end: generated projects on their users' path, from `copier copy` to an audit, nothing injected.

For three representative answer sets, each project is made and driven exactly as its README says, in a shell
that has only the system's directories on PATH (no virtual environment of ours, nothing activated):

    copier copy --vcs-ref HEAD <template repository> <project>
    git init; make setup; git add -A; git commit   (through the project's own pre-commit hooks)
    make lint; make test; make audit; <slug>-train ...

The template repository is a git snapshot of this working tree: a user copies from the repository's URL, and
copying from a git repository is what records the source and commit that `make setup` takes fsdl-check from.
Packages come from the package index as pip is configured on this machine, as they would for a user.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from mlflow.tracking import MlflowClient
from slurm_cluster import SlurmCluster, missing_programs, start_cluster

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
COPIER = Path(sysconfig.get_path("scripts")) / "copier"
BASE_ANSWERS: dict[str, Any] = {
    "project_name": "Digits Classifier",
    "author_name": "E2E Test",
    "author_email": "e2e@example.com",
    "python_version": "3.11",  # the floor
}
COMBINATIONS: dict[str, dict[str, Any]] = {
    "mlflow-github-app": {"tracker": "mlflow", "ci": "github", "demo_app": True, "license": "MIT", "container": "cpu"},
    "tensorboard-gitlab": {
        "tracker": "tensorboard",
        "ci": "gitlab",
        "demo_app": False,
        "license": "Apache-2.0",
        "container": "cuda",
    },
    "wandb-no-ci": {"tracker": "wandb", "ci": "none", "demo_app": False, "license": "proprietary", "container": "none"},
}
#: The project's multi-process and preemption tests start a dozen trainings; their code does not depend on the tracker
#: (the tracker's resume arguments aside), so they run in the MLflow project only, to keep this suite's time in bounds.
MULTI_PROCESS_TESTS = ("tests/test_parallel.py", "tests/test_preemption.py")
SLUG = "digits-classifier"
STEP_TIMEOUT_S = 1200


def canonical(name: str) -> str:
    """A distribution name as PEP 503 normalises it (PyYAML -> pyyaml), as the lock writes it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def users_path() -> str:
    """PATH as a user's plain shell has it: this test run's virtual environment (and any other) left out."""
    ours = {Path(sys.prefix).resolve(), (REPO_ROOT / ".venv").resolve()}
    entries = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    kept = [p for p in entries if not any(Path(p).resolve().is_relative_to(venv) for venv in ours)]
    return os.pathsep.join(kept or ["/usr/local/bin", "/usr/bin", "/bin"])


def users_environment(workspace: Path) -> dict[str, str]:
    # Also make's own variables: under this repository's `make test` they would make the project's make a sub-make.
    leftovers = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "MLFLOW_", "WANDB_", "TORCH_INDEX", "FSDL_CHECK")
    leftovers += ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")
    env = {name: value for name, value in os.environ.items() if not name.startswith(leftovers)}
    env["PATH"] = users_path()
    env["PRE_COMMIT_HOME"] = str(workspace / "pre-commit-cache")  # pre-commit's cache, per project
    return env


@dataclass(frozen=True)
class Project:
    root: Path
    answers: Mapping[str, Any]
    env: Mapping[str, str]

    def run(self, *command: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a command in the project; a failure shows the command's output."""
        result = subprocess.run(
            [str(part) for part in command],
            cwd=self.root,
            env=dict(self.env),
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT_S,
            check=False,
        )
        if check:
            assert result.returncode == 0, (
                f"`{' '.join(map(str, command))}` exited {result.returncode} in {self.root}\n"
                f"--- stdout ---\n{result.stdout[-12000:]}\n--- stderr ---\n{result.stderr[-4000:]}"
            )
        return result

    def make(self, target: str, *variables: str) -> subprocess.CompletedProcess[str]:
        return self.run("make", target, *variables)

    @property
    def bin(self) -> Path:
        return self.root / ".venv" / "bin"


@pytest.fixture(scope="session")
def template_repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This working tree committed into a fresh git repository: the stand-in for the template's URL."""
    snapshot = tmp_path_factory.mktemp("fsdl-stack")
    listed = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        source, target = REPO_ROOT / rel, snapshot / rel
        if not (source.exists() or source.is_symlink()):
            continue  # deleted in the working tree
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(source.readlink())
        else:
            shutil.copy2(source, target)
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "snapshot of the working tree"]):
        subprocess.run(["git", "-C", str(snapshot), *command], check=True)
    return snapshot


@pytest.fixture(scope="module", params=list(COMBINATIONS), ids=list(COMBINATIONS))
def project(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, template_repository: Path
) -> Project:
    """A project made as its README says: copied, `git init`, `make setup`, first commit through the hooks."""
    answers = {**BASE_ANSWERS, **COMBINATIONS[request.param]}
    workspace = tmp_path_factory.mktemp(request.param)
    data = [f"--data={key}={value}" for key, value in answers.items()]
    copied = subprocess.run(
        [COPIER, "copy", "--defaults", "--vcs-ref", "HEAD", *data, str(template_repository), str(workspace / "p")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert copied.returncode == 0, copied.stderr
    made = Project(root=workspace / "p", answers=answers, env=users_environment(workspace))
    made.run("git", "init", "-q")
    made.make("setup")
    made.run("git", "add", "--all")
    committed = made.run("git", "commit", "-q", "-m", "first commit, through the project's own hooks")
    ran = committed.stdout + committed.stderr
    assert all(hook in ran for hook in ("ruff check --fix...", "mypy --strict...", "fsdl-check (FSDL")), ran
    return made


def test_setup_locks_the_environment_and_the_first_commit_passes_the_hooks(project: Project) -> None:
    # The lock was written on the first setup and committed by the first commit, with every hook passing.
    assert project.run("git", "ls-files", "requirements-lock.txt").stdout.split() == ["requirements-lock.txt"]
    assert project.run("git", "status", "--porcelain").stdout == ""
    lock = (project.root / "requirements-lock.txt").read_text()
    pins = dict(line.split("==") for line in lock.splitlines() if "==" in line and not line.startswith("#"))
    assert pins["torch"] and "+" not in pins["torch"]  # the build (CPU, CUDA) is TORCH_INDEX's choice
    assert "fsdl-check" not in pins and SLUG not in pins
    assert "file:" not in lock and "/" not in "".join(pins.values())  # nothing that only this machine has
    # What was installed is what the lock says.
    listed = project.run(project.bin / "python", "-m", "pip", "list", "--format=json", "--exclude-editable").stdout
    installed = {canonical(package["name"]): package["version"] for package in json.loads(listed)}
    assert {name: installed.get(name, "").split("+")[0] for name in pins} == pins
    # The hooks are installed and run the project's tools by path: the commit needed no activated environment.
    # It staged every file, so every hook ran on every file (as `pre-commit run --all-files` would).
    assert (project.root / ".git" / "hooks" / "pre-commit").is_file()


def test_setup_is_repeatable_and_ci_setup_insists_on_a_current_lock(project: Project) -> None:
    before = (project.root / "requirements-lock.txt").read_text()
    project.run("python3", "tools/environment.py", "setup", "--locked")  # what the generated CI runs
    assert (project.root / "requirements-lock.txt").read_text() == before
    pyproject = project.root / "pyproject.toml"
    original = pyproject.read_text()
    try:
        pyproject.write_text(original.replace('"pyyaml>=6",', '"pyyaml>=6",\n  "tomli-w>=1",'))
        stale = project.run("python3", "tools/environment.py", "setup", "--locked", check=False)
        assert stale.returncode == 1
        assert stale.stderr.strip().splitlines() == [
            "error: requirements-lock.txt is older than pyproject.toml's dependencies: run `make lock`"
        ]
    finally:
        pyproject.write_text(original)


def test_the_ci_audit_job_installs_only_fsdl_check_and_writes_its_report(project: Project, tmp_path: Path) -> None:
    # What the generated CI's audit job runs, in an environment of its own: no PyTorch, no lock needed.
    audit_env = dict(project.env) | {"VENV": str(tmp_path / "audit-venv")}
    done = subprocess.run(
        ["python3", "tools/environment.py", "checker"],
        cwd=project.root,
        env=audit_env,
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT_S,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert not list((tmp_path / "audit-venv").glob("lib/python*/site-packages/torch"))
    report = tmp_path / "fsdl.sarif"
    project.run(tmp_path / "audit-venv" / "bin" / "fsdl-check", "--format", "sarif", "--output", report)
    assert json.loads(report.read_text())["runs"][0]["results"] == []


def test_lint_format_and_strict_types_pass(project: Project) -> None:
    project.make("lint")


def test_audit_finds_nothing_with_every_rule_selected(project: Project) -> None:
    result = project.make("audit")
    assert "All selected checks passed" in result.stdout
    every = project.run(project.bin / "fsdl-check", "--select", "ALL", "--fail-on", "info", "--format", "concise")
    assert every.stdout.strip() == "All selected checks passed."  # exit 0, and not one finding at any severity


def test_project_test_suite_passes_without_skips(project: Project) -> None:
    options = ["-p no:cacheprovider --tb=short -rs"]
    if project.answers["container"] != "none":
        options.append("-m 'not container'")  # as the generated CI runs it: its image job runs these (Docker engine)
    if project.answers["tracker"] != "mlflow":
        options += [f"--deselect {path}" for path in MULTI_PROCESS_TESTS]
    result = project.make("test", f"ARGS={' '.join(options)}")
    summary = [line for line in result.stdout.splitlines() if re.match(r"^=+ .* in [0-9.]+s", line)][-1]
    assert " passed" in summary and "failed" not in summary and "skipped" not in summary, summary


def mlflow_run_is_recorded(project: Project) -> None:
    client = MlflowClient(f"sqlite:///{project.root / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(SLUG)
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.metrics["val/acc"] > 0.8
    assert run.data.params["lr"] == "0.003"
    artifacts = {artifact.path for artifact in client.list_artifacts(run.info.run_id)}
    assert {"config.yaml", "checkpoints"} <= artifacts
    checkpoints = {a.path for a in client.list_artifacts(run.info.run_id, "checkpoints")}
    assert checkpoints == {"checkpoints/best.ckpt", "checkpoints/last.ckpt"}
    # Where configs/default.yaml says checkpoints land: outputs/<experiment id>/<run id>/checkpoints/.
    assert (
        project.root / "outputs" / experiment.experiment_id / run.info.run_id / "checkpoints" / "last.ckpt"
    ).is_file()
    (logged,) = client.search_logged_models([experiment.experiment_id])
    assert logged.source_run_id == run.info.run_id  # the MLflow model, with its signature


def tensorboard_run_is_recorded(project: Project) -> None:
    run_dir = project.root / "lightning_logs" / "version_0"
    assert (run_dir / "config.yaml").is_file()
    assert list(run_dir.glob("events.out.tfevents.*"))
    assert list((run_dir / "checkpoints").glob("epoch=*.ckpt"))


def wandb_run_is_recorded(project: Project) -> None:
    (run_dir,) = (project.root / "outputs" / "wandb").glob("offline-run-*")
    assert list(run_dir.glob("*.wandb"))
    assert (run_dir / "files" / "run_config.yaml").is_file()
    assert list((project.root / "outputs").glob("*/*/checkpoints/epoch=*.ckpt"))


RUN_IS_RECORDED: dict[str, Callable[[Project], None]] = {
    "mlflow": mlflow_run_is_recorded,
    "tensorboard": tensorboard_run_is_recorded,
    "wandb": wandb_run_is_recorded,
}


def test_console_script_trains_and_the_run_is_recorded(project: Project) -> None:
    project.run(project.bin / f"{SLUG}-train", "fit", "--config", "configs/default.yaml", "--trainer.max_epochs", "3")

    RUN_IS_RECORDED[project.answers["tracker"]](project)
    # Everything the run wrote is git-ignored: nothing new for git to pick up.
    assert project.run("git", "status", "--porcelain").stdout == ""


def test_evaluate_and_predict_use_the_trained_model(project: Project, tmp_path: Path) -> None:
    from PIL import Image

    if not list(project.root.glob("outputs/**/*.ckpt")) and not list(project.root.glob("lightning_logs/**/*.ckpt")):
        project.run(project.bin / f"{SLUG}-train", "fit", "--config", "configs/default.yaml", "--trainer.max_epochs=2")
    evaluated = project.make("evaluate")
    assert "test/acc" in evaluated.stdout
    images = tmp_path / "new"
    images.mkdir()
    for i in range(3):
        Image.new("L", (8, 8), 80 * i).save(images / f"{i}.png")
    project.make("predict", f"INPUT={images}")
    rows = (project.root / "predictions.csv").read_text().splitlines()
    assert rows[0].startswith("input,prediction,0,1,") and [row.split(",")[0] for row in rows[1:]] == [
        "0.png",
        "1.png",
        "2.png",
    ]
    (project.root / "predictions.csv").unlink()


# -- the demo app, in a real browser --------------------------------------------------------------------------------
# Debian's chromium and chromium-driver packages (.ci/run installs them), or Google Chrome with its driver.
CHROMIUM = shutil.which("chromium") or shutil.which("google-chrome") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = REPO_ROOT / "test-artifacts"  # screenshots the tests keep (git-ignored)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(url: str, server: subprocess.Popen[str], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, f"the app exited with {server.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {seconds} s")


@pytest.mark.parametrize("project", ["mlflow-github-app"], indirect=True)
def test_demo_app_serves_the_registered_champion_in_a_browser(project: Project, tmp_path: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    train = project.bin / f"{SLUG}-train"
    project.run(train, "fit", "--config", "configs/default.yaml", "--trainer.max_epochs", "4")
    project.run(train, "fit", "--config", "configs/default.yaml", "--trainer.max_epochs", "1")
    client = MlflowClient(f"sqlite:///{project.root / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(SLUG)
    assert experiment is not None
    newest = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"])[0].info.run_id
    registered = project.make("register", f"RUN={newest}")  # a chosen run, not the best one
    assert f"registered run {newest}" in registered.stdout

    # A digit drawn as a user would: dark ink on light paper, larger than the 8x8 training images.
    from PIL import Image, ImageDraw

    drawing = Image.new("L", (64, 64), 255)
    ImageDraw.Draw(drawing).line([(32, 8), (32, 56)], fill=0, width=8)  # a "1"
    upload = tmp_path / "one.png"
    drawing.save(upload)

    port = free_port()
    server = subprocess.Popen(
        ["make", "app", f"PORT={port}"],
        cwd=project.root,
        env=dict(project.env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # make, streamlit and its children stop together
    )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1200,1400",
    ):
        options.add_argument(flag)
    try:
        wait_for(f"http://127.0.0.1:{port}/_stcore/health", server)
        browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        try:
            browser.get(f"http://127.0.0.1:{port}/")
            wait = WebDriverWait(browser, 120)
            caption = wait.until(
                expected_conditions.presence_of_element_located((By.XPATH, "//*[contains(text(), 'Model:')]"))
            )
            assert newest in caption.text  # the champion's checkpoint is the one served
            wait.until(
                expected_conditions.element_to_be_clickable((By.XPATH, "//label[.//p[text()='An image of your own']]"))
            ).click()
            wait.until(
                expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "input[type='file']"))
            ).send_keys(str(upload))
            prediction = wait.until(
                expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid='stMetricValue']"))
            )
            assert prediction.text.strip() in [str(digit) for digit in range(10)]
            ARTIFACTS.mkdir(exist_ok=True)
            browser.save_screenshot(str(ARTIFACTS / "demo-app.png"))
        finally:
            browser.quit()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


# -- SLURM: the project's launch/slurm/ on a real single-node cluster ---------------------------------------------
# The node is this machine (2 CPUs in CI), so jobs ask for 1 CPU and 2 GB per task; everything else is the
# script's own defaults, submitted as the project's README says.
SLURM_RESOURCES = {"CPUS_PER_TASK": "1", "MEM": "2G"}
SLURM_JOB_TIMEOUT_S = 600


@pytest.fixture(scope="module")
def slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmCluster]:
    missing = missing_programs()
    assert not missing, f"SLURM is not installed (apt-get install slurmctld slurmd slurm-client munge): {missing}"
    cluster = start_cluster(tmp_path_factory.mktemp("slurm"))
    yield cluster
    cluster.stop()


def submit(project: Project, slurm: SlurmCluster, command: list[str], **settings: str) -> tuple[str, str]:
    """Run a submission command in the project with SLURM's client configured; its job id and its output."""
    env = {**project.env, **slurm.env, **SLURM_RESOURCES, **settings}
    done = subprocess.run(command, cwd=project.root, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    match = re.search(r"^submitted job (\d+)", done.stdout, re.MULTILINE)
    assert match, done.stdout
    return match.group(1), done.stdout


def slurm_run(project: Project, job: str) -> Any:
    """The MLflow run that a SLURM job recorded (runs carry the job id as a tag)."""
    client = MlflowClient(f"sqlite:///{project.root / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(SLUG)
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id], filter_string=f"tags.slurm_job_id = '{job}'")
    assert len(runs) == 1, f"job {job} recorded {len(runs)} MLflow runs"
    return runs[0]


@pytest.mark.parametrize("project", ["mlflow-github-app"], indirect=True)
def test_make_slurm_trains_a_two_task_ddp_job_to_completion(project: Project, slurm: SlurmCluster) -> None:
    job, printed = submit(
        project, slurm, ["make", "slurm", "CONFIG=configs/default.yaml", "STRATEGY=ddp"], TASKS_PER_NODE="2"
    )
    log = project.root / "outputs" / "slurm" / f"{SLUG}-{job}.out"
    assert f"log     {log}" in printed and f"slurm_job_id={job}" in printed
    record = slurm.wait_for_job(job, SLURM_JOB_TIMEOUT_S)
    output = log.read_text()
    assert record["JobState"] == "COMPLETED" and record["ExitCode"] == "0:0", output[-6000:]
    assert f"job {job} (restart 0) on {slurm.node}: 1 node(s) x 2 task(s)" in output
    assert "MEMBER: 1/2" in output and "MEMBER: 2/2" in output  # two ranks, one per SLURM task

    run = slurm_run(project, job)
    assert run.info.status == "FINISHED" and run.data.metrics["val/acc"] > 0.8
    client = MlflowClient(f"sqlite:///{project.root / 'mlflow.db'}")
    assert {a.path for a in client.list_artifacts(run.info.run_id, "checkpoints")} >= {"checkpoints/best.ckpt"}
    checkpoints = project.root / "outputs" / run.info.experiment_id / run.info.run_id / "checkpoints"
    assert (checkpoints / "last.ckpt").is_file()
    assert project.run("git", "status", "--porcelain").stdout == ""  # the log and the runs are git-ignored


@pytest.mark.parametrize("project", ["mlflow-github-app"], indirect=True)
def test_slurm_job_warned_before_its_end_requeues_and_resumes_the_same_run(
    project: Project, slurm: SlurmCluster
) -> None:
    # A slow learning rate and more epochs keep training going (early stopping waits for no gain) well past the
    # first checkpoint, so the warning reaches the job while it trains, not in its final test.
    command = ["launch/slurm/submit.sh", "fit", "--config", "configs/default.yaml", "--config"]
    command += ["configs/strategy/ddp.yaml", "--model.lr=0.0003", "--trainer.max_epochs=60"]
    job, _ = submit(project, slurm, command, TASKS_PER_NODE="2")
    # Once the first epoch is checkpointed, send what SLURM sends before a time limit: SIGUSR1 to the batch shell.
    deadline = time.monotonic() + SLURM_JOB_TIMEOUT_S
    while not list(project.root.glob("outputs/*/*/checkpoints/last.ckpt")) or not _job_has_run(project, job):
        assert time.monotonic() < deadline and slurm.job(job).get("JobState") in ("PENDING", "RUNNING")
        time.sleep(0.5)
    signalled = slurm.client("scancel", "--signal=USR1", "--batch", job)
    assert signalled.returncode == 0, signalled.stderr

    record = slurm.wait_for_job(job, SLURM_JOB_TIMEOUT_S)
    output = (project.root / "outputs" / "slurm" / f"{SLUG}-{job}.out").read_text()
    assert record["JobState"] == "COMPLETED" and record["Restarts"] == "1", output[-6000:]
    first, _, second = output.partition(f"job {job} (restart 1)")
    assert "Exited with exit code 75" in first and f"requeueing job {job}" in first
    assert "resuming the preempted run of this config" in second
    run = slurm_run(project, job)  # one run, continued after the restart, not a second one
    assert run.info.status == "FINISHED"
    assert not list(project.root.glob("outputs/preempted/*.json"))  # the record goes once the run is done


def _job_has_run(project: Project, job: str) -> bool:
    """Whether this job's training has written a checkpoint (the glob above may match an earlier job's)."""
    try:
        return slurm_run(project, job).info.run_id in {
            path.parts[-3] for path in project.root.glob("outputs/*/*/checkpoints/last.ckpt")
        }
    except AssertionError:
        return False


@pytest.mark.parametrize("project", ["mlflow-github-app"], indirect=True)
@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"PARTITION": "nowhere"}, "Invalid partition name specified"),
        # This cluster, like SLURM's default configuration, queues it (EnforcePartLimits=NO): submit.sh cancels it.
        ({"TASKS_PER_NODE": "64"}, "can never start (PartitionConfig"),
    ],
    ids=["unknown-partition", "more-tasks-than-the-node-has"],
)
def test_a_slurm_submission_the_scheduler_refuses_fails_at_once_with_its_message(
    project: Project, slurm: SlurmCluster, settings: dict[str, str], message: str
) -> None:
    env = {**project.env, **slurm.env, **SLURM_RESOURCES, **settings}
    started = time.monotonic()
    done = subprocess.run(["make", "slurm"], cwd=project.root, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and message in done.stderr, done.stdout + done.stderr
    assert time.monotonic() - started < 30
    assert slurm.client("squeue", "--noheader").stdout.strip() == ""  # nothing was queued


# A sweep that Ray spreads over the job: 3 trials of 2 epochs, 2 at a time, on a Ray node of 2 CPUs.
SLURM_SWEEP = {
    "name": "slurm-sweep",
    "train_configs": ["configs/default.yaml"],
    "metric": "val/acc",
    "mode": "max",
    "seed": 11,
    "trials": 3,
    "concurrency": 2,
    "resources_per_trial": {"cpu": 1, "gpu": 0},
    "time_budget_s": 600,
    "search": "random",
    "scheduler": {"name": "fifo"},
    "space": {"model.lr": {"loguniform": [0.001, 0.03]}, "model.hidden_dims": {"choice": [[32], [64, 32]]}},
    "overrides": {"trainer.max_epochs": 2, "trainer.enable_progress_bar": False},
}


@pytest.mark.parametrize("project", ["mlflow-github-app"], indirect=True)
def test_slurm_sweep_starts_ray_over_the_job_and_completes(project: Project, slurm: SlurmCluster) -> None:
    name = "slurm-sweep"
    sweep = project.root / "configs" / "sweeps" / f"{name}.yaml"
    sweep.write_text(yaml.safe_dump(SLURM_SWEEP))
    try:
        job, printed = submit(
            project, slurm, ["launch/slurm/submit.sh", "tune", f"configs/sweeps/{name}.yaml"], CPUS_PER_TASK="2"
        )
        record = slurm.wait_for_job(job, SLURM_JOB_TIMEOUT_S)
    finally:
        sweep.unlink()
    log = project.root / "outputs" / "slurm" / f"{SLUG}-tune-{job}.out"
    assert f"log     {log}" in printed and f"outputs/sweeps/{name}/" in printed
    assert f"the parent run sweep-{name} in" in printed  # the name the driver gives it (looked up below)
    output = log.read_text()
    assert record["JobState"] == "COMPLETED" and record["ExitCode"] == "0:0", output[-8000:]
    assert f"job {job} (restart 0) on {slurm.node}: 1 Ray node(s) x 2 CPU(s)" in output
    assert "Ray cluster ready: 1 node(s), 2 CPU(s), 0 GPU(s)" in output
    assert "Connecting to existing Ray cluster" in output  # the driver joined the job's cluster, not a Ray of its own

    client = MlflowClient(f"sqlite:///{project.root / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(SLUG)
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id], filter_string=f"tags.sweep = '{name}'")
    (parent,) = [run for run in runs if run.info.run_name == f"sweep-{name}"]
    assert parent.info.status == "FINISHED"
    trials = client.search_runs(
        [experiment.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    assert len(trials) == 3
    assert all(run.info.status == "FINISHED" and run.data.tags["sweep_outcome"] == "completed" for run in trials)
    assert parent.data.tags["best_trial"] in {run.data.tags["ray_trial_id"] for run in trials}
    best = yaml.safe_load((project.root / "outputs" / "sweeps" / name / "best.yaml").read_text())
    assert 0.001 <= best["model"]["lr"] <= 0.03 and best["trainer"]["max_epochs"] == 2
