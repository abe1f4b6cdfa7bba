"""Render time of a full-option project: Copier against cookiecutter, same answers, same run.

    python benchmarks/render.py [--runs 7]

Copier renders from this git checkout with `vcs_ref="HEAD"` (uncommitted changes included), as `make demo` and the
README do, so the figure includes its clone of the template; cookiecutter renders the same checkout in place. The
median of N runs is reported for each engine, with the ratio. The target for Copier is 2 s or less.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import copier
import yaml
from cookiecutter.main import cookiecutter

REPO_ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 2.0


def full_answers() -> dict[str, Any]:
    answers = yaml.safe_load((REPO_ROOT / "examples" / "full.yml").read_text())
    assert isinstance(answers, dict)
    return answers


def render_with_copier(answers: dict[str, Any], workdir: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copier.run_copy(
            str(REPO_ROOT),
            str(workdir / "copier"),
            data=answers,
            defaults=True,
            unsafe=False,
            quiet=True,
            vcs_ref="HEAD",
        )


def render_with_cookiecutter(answers: dict[str, Any], workdir: Path) -> None:
    cookiecutter(
        str(REPO_ROOT),
        directory="template",
        no_input=True,
        extra_context=answers,
        output_dir=str(workdir / "cookiecutter"),
        default_config={"replay_dir": str(workdir / "replay"), "cookiecutters_dir": str(workdir / "cache")},
    )


def median_seconds(render: Callable[[dict[str, Any], Path], None], answers: dict[str, Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as workdir:
            started = time.perf_counter()
            render(answers, Path(workdir))
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=7, help="renders per engine (default 7)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    answers = full_answers()
    for render in (render_with_copier, render_with_cookiecutter):  # warm-up: imports and caches, not measured
        with tempfile.TemporaryDirectory() as workdir:
            render(answers, Path(workdir))
    copier_s = median_seconds(render_with_copier, answers, args.runs)
    cookiecutter_s = median_seconds(render_with_cookiecutter, answers, args.runs)

    print(f"full-option render, median of {args.runs} runs")
    verdict = "met" if copier_s <= TARGET_S else "MISSED"
    print(f"  copier        {copier_s:6.3f} s   (target <= {TARGET_S:.1f} s: {verdict})")
    print(f"  cookiecutter  {cookiecutter_s:6.3f} s")
    print(f"  ratio copier / cookiecutter: {copier_s / cookiecutter_s:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
