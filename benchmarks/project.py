"""A generated project for the benchmarks that run its own commands (slurm.py, sweeps.py).

The default answers (examples/default.yml) rendered with Copier from this working tree, and a `.venv` in it whose
packages are this repository's own: a stand-in for the project's `make setup`, which the end-to-end tests
exercise; the benchmarks measure what comes after it.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import copier
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]


def render(destination: Path) -> dict[str, Any]:
    """Render the default answers into `destination` with a stand-in `.venv`; the answers."""
    answers = yaml.safe_load((REPO_ROOT / "examples" / "default.yml").read_text())
    assert isinstance(answers, dict)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Copier warns that a working copy with local changes is rendered
        copier.run_copy(str(REPO_ROOT), destination, data=answers, defaults=True, vcs_ref="HEAD", quiet=True)
    venv = destination / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (site,) = venv.glob("lib/python*/site-packages")
    paths = [*(p for p in sys.path if p.endswith("site-packages")), str(destination / "src")]
    (site / "benchmark.pth").write_text("\n".join(paths) + "\n")
    scripts = {"train": "cli", "tune": "tune"}
    for name, module in scripts.items():
        script = venv / "bin" / f"{answers['project_slug']}-{name}"
        script.write_text(f"#!{venv / 'bin' / 'python'}\nfrom {answers['package_name']}.{module} import main\nmain()\n")
        script.chmod(0o755)
    return answers
