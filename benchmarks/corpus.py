"""Per-rule precision and recall of fsdl-check on a corpus of real repositories.

    python benchmarks/corpus.py DIR [--area PK,QA] [--repo NAME ...] [--show]

DIR holds one local checkout per repository, named as in benchmarks/corpus/repos.toml (this script never
downloads; a repository missing from DIR is skipped with a note). Each checkout is audited once
(`fsdl-check CHECKOUT --format json --exit-zero --no-cache`); a finding of rule R on repository X counts as "fail",
and is compared with the verdicts in benchmarks/corpus/expected/<AREA>.toml (format: benchmarks/corpus/README.md).
"n/a" verdicts, and rules a repository's table does not name, are not scored. `--show` lists each wrong verdict with
the first finding's message, so a false positive can be read at once.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"


@dataclass
class Score:
    tp: list[str] = field(default_factory=list)
    fp: list[str] = field(default_factory=list)
    fn: list[str] = field(default_factory=list)
    tn: list[str] = field(default_factory=list)

    def precision(self) -> float | None:
        found = len(self.tp) + len(self.fp)
        return len(self.tp) / found if found else None

    def recall(self) -> float | None:
        expected = len(self.tp) + len(self.fn)
        return len(self.tp) / expected if expected else None


def load_expected(areas: set[str] | None) -> dict[str, dict[str, str]]:
    """repository -> rule -> "fail" | "pass" (n/a dropped), from every expected/<AREA>.toml."""
    verdicts: dict[str, dict[str, str]] = {}
    for path in sorted((CORPUS / "expected").glob("*.toml")):
        if path.stem == "kind" or (areas is not None and path.stem not in areas):
            continue
        for repo, rules in tomllib.loads(path.read_text(encoding="utf-8")).items():
            if not isinstance(rules, dict):
                continue
            for rule, verdict in rules.items():
                if verdict in ("fail", "pass"):
                    verdicts.setdefault(repo, {})[rule] = verdict
    return verdicts


def audit(checkout: Path) -> tuple[dict[str, list[str]], str]:
    """rule -> messages of its findings on one checkout (an empty list: the rule ran and passed or was skipped),
    and the project kind it detected."""
    done = subprocess.run(
        [sys.executable, "-m", "fsdl_check", str(checkout), "--format", "json", "--exit-zero", "--no-cache"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"fsdl-check failed on {checkout}: {done.stderr.strip().splitlines()[-1:]}")
    report = json.loads(done.stdout)
    findings = {rule["code"]: [f["message"] for f in rule["findings"]] for rule in report["rules"]}
    return findings, str(report["project_kind"])


def fmt(value: float | None) -> str:
    return "  -  " if value is None else f"{value:.2f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("dir", type=Path, help="directory with one checkout per repository name")
    parser.add_argument("--area", help="comma-separated rule areas to score (default: every expected file)")
    parser.add_argument("--repo", action="append", help="only this repository (repeatable)")
    parser.add_argument("--show", action="store_true", help="list wrong verdicts with the finding's message")
    args = parser.parse_args(argv)
    if not args.dir.is_dir():
        print(f"error: {args.dir} is not a directory", file=sys.stderr)
        return 2
    areas = set(args.area.split(",")) if args.area else None
    expected = load_expected(areas)
    scores: dict[str, Score] = {}
    wrong: list[str] = []
    kinds = tomllib.loads((CORPUS / "expected" / "kind.toml").read_text(encoding="utf-8"))
    kind_right = kind_scored = 0
    for repo in sorted(expected):
        if args.repo and repo not in args.repo:
            continue
        checkout = args.dir / repo
        if not checkout.is_dir():
            print(f"note: no checkout of {repo} in {args.dir}, skipped", file=sys.stderr)
            continue
        found, kind = audit(checkout)
        if repo in kinds:
            kind_right += kind == kinds[repo]
            kind_scored += 1
            if kind != kinds[repo]:
                wrong.append(f"KIND {repo}: {kind}, expected {kinds[repo]}")
        for rule, verdict in sorted(expected[repo].items()):
            messages = found.get(rule, [])
            score = scores.setdefault(rule, Score())
            if verdict == "fail":
                (score.tp if messages else score.fn).append(repo)
                if not messages:
                    wrong.append(f"FN {rule} {repo}")
            else:
                (score.fp if messages else score.tn).append(repo)
                if messages:
                    wrong.append(f"FP {rule} {repo}: {messages[0][:160]} ({len(messages)} findings)")
    print(f"{'rule':6} {'prec':>5} {'recall':>6} {'TP':>3} {'FP':>3} {'FN':>3} {'TN':>3}")
    for rule, score in sorted(scores.items()):
        print(
            f"{rule:6} {fmt(score.precision()):>5} {fmt(score.recall()):>6} {len(score.tp):3} {len(score.fp):3}"
            f" {len(score.fn):3} {len(score.tn):3}"
        )
    tp = sum(len(s.tp) for s in scores.values())
    fp = sum(len(s.fp) for s in scores.values())
    fn = sum(len(s.fn) for s in scores.values())
    print(f"{'all':6} {fmt(tp / (tp + fp) if tp + fp else None):>5} {fmt(tp / (tp + fn) if tp + fn else None):>6}")
    if kind_scored:
        print(f"project kind: {kind_right} of {kind_scored} as expected")
    if args.show:
        print("\n".join(wrong))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
