"""`fsdl-check adopt` on a repository shaped like a single-script research project: answers, files, update."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import warnings
from pathlib import Path

import copier
import pytest

from fsdl_check import adopt
from fsdl_check.cli import main as cli_main
from fsdl_check.repo import Repo

REPO_ROOT = Path(__file__).resolve().parents[2]
AUTHOR = {"GIT_AUTHOR_NAME": "Ada Lovelace", "GIT_AUTHOR_EMAIL": "ada@example.org"}

SCRIPT_REPO = {
    "train.py": (
        "import argparse\n\nimport torch\nfrom torch import nn\n\n\ndef main() -> None:\n"
        "    parser = argparse.ArgumentParser()\n    parser.add_argument('--lr', type=float, default=0.01)\n"
        "    args = parser.parse_args()\n    torch.manual_seed(0)\n    model = nn.Linear(784, 10)\n"
        "    torch.optim.SGD(model.parameters(), lr=args.lr)\n\n\nif __name__ == '__main__':\n    main()\n"
    ),
    "requirements.txt": "torch==2.3.1\nnumpy==1.26.4\n",
    "README.md": "# MNIST baseline\n\nA linear model.\n",
}


def git(root: Path, *args: str) -> str:
    env = {**os.environ, **AUTHOR, "GIT_COMMITTER_NAME": "Ada Lovelace", "GIT_COMMITTER_EMAIL": "ada@example.org"}
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True, env=env).stdout


def make(tmp_path: Path, name: str, files: dict[str, str]) -> Path:
    root = tmp_path / name
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "initial")
    return root


def sums(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def findings(root: Path, tmp_path: Path) -> int:
    out = tmp_path / f"{root.name}-{len(list(tmp_path.glob('*.json')))}.json"
    cli_main(["--format", "json", "--no-cache", "--exit-zero", "-o", str(out), str(root)])
    return int(json.loads(out.read_text())["summary"]["findings"])


def test_single_script_repo_is_adopted_and_updates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make(tmp_path, "mnist-baseline", SCRIPT_REPO)
    inferred = {k: a.value for k, a in adopt.infer(Repo(root)).items()}
    assert inferred["project_slug"] == "mnist-baseline" and inferred["package_name"] == "mnist_baseline"
    assert inferred["project_name"] == "MNIST baseline" and inferred["author_email"] == "ada@example.org"
    assert (inferred["tracker"], inferred["ci"], inferred["container"]) == ("mlflow", "none", "none")
    assert (inferred["slurm"], inferred["kubernetes"], inferred["sweeps"]) == (False, False, False)
    assert (inferred["python_version"], inferred["license"]) == ("3.11", "proprietary")

    before, found_before = sums(root), findings(root, tmp_path)
    assert adopt.main([str(root), "--template", str(REPO_ROOT), "--vcs-ref", "HEAD", "--dry-run"]) == 0
    assert sums(root) == before  # a dry run writes nothing
    assert adopt.main([str(root), "--template", str(REPO_ROOT), "--vcs-ref", "HEAD"]) == 0
    after = sums(root)
    assert {k: after[k] for k in before} == before  # no existing file changed
    assert (root / "Makefile").is_file() and (root / "src/mnist_baseline/cli.py").is_file()
    answers = (root / ".copier-answers.yml").read_text()
    assert "adopted_files:\n- README.md" in answers
    assert findings(root, tmp_path) < found_before
    capsys.readouterr()

    git(root, "add", "-A")
    git(root, "commit", "-qm", "adopt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copier.run_update(
            str(root),
            defaults=True,
            overwrite=True,
            unsafe=False,
            quiet=True,
            vcs_ref=git(REPO_ROOT, "rev-parse", "HEAD").strip(),
        )
    assert not list(root.rglob("*.rej"))
    assert {k: sums(root)[k] for k in before} == before
    assert not any("<<<<<<<" in (root / k).read_text() for k in before)


def test_refusals_are_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert adopt.main([str(plain), "--template", str(REPO_ROOT)]) == 2
    assert "not a git work tree" in capsys.readouterr().err
    root = make(tmp_path, "made", {**SCRIPT_REPO, ".copier-answers.yml": "_commit: v0.1.0\n"})
    assert adopt.main([str(root), "--template", str(REPO_ROOT)]) == 2
    assert "already records a template" in capsys.readouterr().err
    assert adopt.main([str(root), "-d", "colour=blue"]) == 2
    assert "not a question" in capsys.readouterr().err
    assert adopt.main(["--help"]) == 0
