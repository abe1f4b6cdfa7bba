"""Inline suppressions in every file type with `#` comments, whole-file suppressions, and unused ones (FC001)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fsdl_check.engine import audit
from fsdl_check.suppressions import _python_comments, scan
from fsdl_check.testing import run_rule as check_rule

pytestmark = pytest.mark.usefixtures("marker_rules")

MakeRepo = Callable[..., Path]


def audit_json(run_cli, root: Path) -> tuple[int, dict[str, Any]]:
    code, out, err = run_cli("--select", "FC", "--format", "json", root)
    assert err == ""
    return code, json.loads(out)


def rule(report: dict[str, Any], code: str) -> dict[str, Any]:
    return next(r for r in report["rules"] if r["code"] == code)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("pkg/mod.py", 'token = "MARK-ERROR"  # fsdl: ignore[FC901] test fixture, not a secret\nx = "MARK-ERROR"\n'),
        ("configs/train.yml", "a: MARK-ERROR  # fsdl: ignore[FC901] test fixture, not a secret\nb: MARK-ERROR\n"),
        ("settings.toml", 'a = "MARK-ERROR"  # fsdl: ignore[FC901] test fixture, not a secret\nb = "MARK-ERROR"\n'),
        ("Dockerfile", "RUN echo MARK-ERROR  # fsdl: ignore[FC901] test fixture, not a secret\nRUN echo MARK-ERROR\n"),
        (
            "docker/Dockerfile.cuda",
            "ENV A=MARK-ERROR # fsdl: ignore[FC901] test fixture, not a secret\nENV B=MARK-ERROR\n",
        ),
        ("scripts/run.sh", "echo MARK-ERROR  # fsdl: ignore[FC901] test fixture, not a secret\necho MARK-ERROR\n"),
    ],
)
def test_inline_suppression_hides_only_its_line(make_repo: MakeRepo, run_cli, path: str, text: str) -> None:
    root = make_repo({path: text})
    code, report = audit_json(run_cli, root)
    assert code == 1  # line 2 still fails
    result = rule(report, "FC901")
    assert [(f["path"], f["line"]) for f in result["findings"]] == [(path, 2)]
    assert [(f["path"], f["line"], f["suppressed_by"]) for f in result["suppressed"]] == [
        (path, 1, "ignore[FC901] test fixture, not a secret")
    ]
    assert report["summary"]["suppressed"] == 1
    assert rule(report, "FC001")["status"] == "pass"  # the suppression was used


def test_suppressed_findings_do_not_fail_the_run(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo({"a.py": 'x = "MARK-ERROR"  # fsdl: ignore[FC901, FC902] both are fine here\n'})
    code, _, _ = run_cli("--select", "FC", root)
    assert code == 0


def test_a_prefix_suppresses_every_code_it_starts(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo({"a.py": 'x = "MARK-ERROR MARK-WARNING"  # fsdl: ignore[FC90] markers are the point\n'})
    code, report = audit_json(run_cli, root)
    assert code == 0
    assert {f["code"] for r in report["rules"] for f in r["suppressed"]} == {"FC901", "FC902"}


def test_ignore_file_hides_the_code_in_the_whole_file(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo(
        {
            "gen/big.py": '# fsdl: ignore-file[FC901] generated file\nx = "MARK-ERROR"\ny = "MARK-ERROR"\n'
            'z = "MARK-WARNING"\n',
            "other.py": 'x = "MARK-ERROR"\n',
        }
    )
    code, report = audit_json(run_cli, root)
    assert code == 1
    errors = rule(report, "FC901")
    assert [(f["path"], f["line"]) for f in errors["findings"]] == [("other.py", 1)]
    assert {f["suppressed_by"] for f in errors["suppressed"]} == {"ignore-file[FC901] generated file"}
    assert [f["line"] for f in errors["suppressed"]] == [2, 3]
    assert [f["path"] for f in rule(report, "FC902")["findings"]] == ["gen/big.py"]  # other codes still report


def test_unused_suppression_is_reported_as_fc001(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo(
        {"pkg/a.py": "x = 1\ny = 2  # fsdl: ignore[FC901] stale\n", "ci.yml": "a: 1 # fsdl: ignore[FC9]\n"}
    )
    code, report = audit_json(run_cli, root)
    assert code == 0  # FC001 is info, below the default threshold
    unused = rule(report, "FC001")["findings"]
    assert [(f["path"], f["line"], f["severity"]) for f in unused] == [("ci.yml", 1, "info"), ("pkg/a.py", 2, "info")]
    assert unused[1]["message"] == "suppression of FC901 matches no finding"
    _, text, _ = run_cli("--select", "FC", root)
    assert "pkg/a.py:2  FC001 info  suppression of FC901 matches no finding" in text


def test_unused_suppression_can_fail_the_run(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo({"a.py": "x = 1  # fsdl: ignore[FC901]\n"})
    code, _, _ = run_cli("--select", "FC", "--fail-on", "info", root)
    assert code == 1


def test_a_suppression_that_only_hid_a_finding_elsewhere_is_unused(make_repo: MakeRepo, run_cli) -> None:
    # line 1's comment names FC902, but the finding on line 1 is FC901: nothing is hidden, and both are reported
    root = make_repo({"a.py": 'x = "MARK-ERROR"  # fsdl: ignore[FC902] wrong code\n'})
    code, report = audit_json(run_cli, root)
    assert code == 1
    assert [f["line"] for f in rule(report, "FC901")["findings"]] == [1]
    assert [f["line"] for f in rule(report, "FC001")["findings"]] == [1]


def test_python_strings_that_mention_the_syntax_are_not_suppressions(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo({"a.py": 'HELP = "write # fsdl: ignore[FC901] to hide MARK-ERROR"\n'})
    code, report = audit_json(run_cli, root)
    assert code == 1
    assert rule(report, "FC901")["suppressed"] == []
    assert rule(report, "FC001")["findings"] == []


def test_fc001_itself_can_be_ignored_in_configuration(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo(
        {".fsdl-check.toml": "ignore = {FC001 = 'we keep them'}\n", "a.py": "x = 1  # fsdl: ignore[FC9]\n"}
    )
    _, report = audit_json(run_cli, root)
    assert rule(report, "FC001")["status"] == "skip"


@pytest.mark.parametrize(
    ("line", "codes", "reason", "whole_file"),
    [
        ("x = 1  # fsdl: ignore[PK001] reason here", ("PK001",), "reason here", False),
        ("# fsdl:ignore[pk, qa00]", ("PK", "QA00"), "", False),
        ("#fsdl: ignore-file[VC005]   a fixture  ", ("VC005",), "a fixture", True),
    ],
)
def test_scan_reads_codes_and_reason(line: str, codes: tuple[str, ...], reason: str, whole_file: bool) -> None:
    [found] = scan("x.sh", line + "\n")
    assert (found.line, found.codes, found.reason, found.whole_file) == (1, codes, reason, whole_file)


def test_the_readmes_inline_suppression_example_suppresses_its_finding(make_repo: Callable[..., Path]) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    example = re.search(r"`(x = load\(.*?# fsdl: ignore\[RP003\][^`]*)`", readme)
    assert example is not None, "README no longer shows the inline suppression example"
    root = make_repo({"train.py": f"import torch\n{example.group(1)}\n"}, git=True)
    assert [f.code for f in check_rule("RP003", root)] == ["RP003"]  # the example's path is flagged ...
    reported = {f.code for f in audit(root).findings if f.suppressed_by is None}
    assert not reported & {"RP003", "FC001"}  # ... and suppressed, by a suppression that is used


def test_in_a_dockerfile_a_suppression_above_an_instruction_applies_to_it(make_repo: MakeRepo, run_cli) -> None:
    # `FROM x # comment` would make the comment an argument of FROM, so the comment goes on the line above.
    dockerfile = (
        "# fsdl: ignore[FC901] test fixture, not a secret\n# another comment\nFROM MARK-ERROR\n"
        "RUN echo MARK-ERROR\n# fsdl: ignore[FC902] nothing below warns\nUSER app\n"
    )
    root = make_repo({"docker/Dockerfile": dockerfile})
    _, report = audit_json(run_cli, root)
    assert [(f["path"], f["line"]) for f in rule(report, "FC901")["findings"]] == [("docker/Dockerfile", 4)]
    assert [f["line"] for f in rule(report, "FC901")["suppressed"]] == [3]
    assert [(f["line"], f["message"]) for f in rule(report, "FC001")["findings"]] == [
        (5, "suppression of FC902 matches no finding")
    ]


def test_a_dockerfile_suppression_hides_a_container_finding(make_repo: MakeRepo) -> None:
    root = make_repo({"Dockerfile": "# fsdl: ignore[DK001] our own image, rebuilt nightly\nFROM team/base\n"})
    assert [f.code for f in check_rule("DK001", root)] == ["DK001"]
    report = audit(root)
    result = next(r for r in report.results if r.code == "DK001")
    assert result.findings == [] and [f.line for f in result.suppressed] == [2]


def test_a_batch_script_without_a_suffix_takes_suppressions(make_repo: MakeRepo, run_cli) -> None:
    # `launch/train` is recognised by its #SBATCH header, not by a name: its `#` comments are comments too.
    script = "#!/bin/bash\n#SBATCH --nodes=1  # fsdl: ignore[SL001] the partition's default time limit is ours\n"
    root = make_repo({"launch/train": script + "srun python train.py\n"})
    code, out, err = run_cli("--select", "SL001", "--format", "json", root)
    assert err == "" and code == 0, out
    result = rule(json.loads(out), "SL001")
    assert result["status"] == "pass" and result["suppressed"], result


def test_suppressions_naming_unknown_or_malformed_codes_are_reported(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo(
        {
            "a.py": (
                "x = 1  # fsdl: ignore[ZZ999] no such rule\n"
                "y = 1  # fsdl: ignore[RP0030] one digit too many\n"
                "z = 1  # fsdl: ignore[] nothing\n"
                "w = 1  # fsdl: ignore[FC9, 9X] half of it\n"
            )
        }
    )
    _, report = audit_json(run_cli, root)
    messages = [(f["line"], f["message"]) for f in rule(report, "FC001")["findings"]]
    assert messages == [
        (1, "suppression names ZZ999, which is no rule code or prefix (see fsdl-check --list-rules)"),
        (2, "suppression names RP0030, which is no rule code or prefix (see fsdl-check --list-rules)"),
        (3, "suppression names no rule code"),
        (4, "suppression names 9X, which is no rule code or prefix (see fsdl-check --list-rules)"),
        (4, "suppression of FC9 matches no finding"),
    ]


def test_a_partly_unused_suppression_reports_the_unused_codes(make_repo: MakeRepo, run_cli) -> None:
    root = make_repo({"a.py": 'x = "MARK-ERROR"  # fsdl: ignore[FC901, FC902] only the first is here\n'})
    code, report = audit_json(run_cli, root)
    assert code == 0
    assert [f["line"] for f in rule(report, "FC901")["suppressed"]] == [1]
    assert [(f["line"], f["message"]) for f in rule(report, "FC001")["findings"]] == [
        (1, "suppression of FC902 matches no finding (FC901 does)")
    ]


def _tokenize_comments(text: str) -> dict[int, str] | None:
    """The reference: comments with the marker as Python's tokenizer finds them."""
    import io
    import tokenize

    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    return {t.start[0]: t.string for t in tokens if t.type == tokenize.COMMENT and "fsdl:" in t.string}


TRICKY_PYTHON = [
    "x = 1  # fsdl: ignore[FC901] a\n",
    "s = '# fsdl: ignore[FC901]'  # fsdl: ignore[FC902] b\n",
    's = "it\'s # fsdl: no"\nt = 1  # fsdl: yes\n',
    "doc = '''\n# fsdl: inside\n'''  # fsdl: after\n",
    'doc = """a \\""" # fsdl: still inside\n"""\ny = 2  # fsdl: outside\n',
    "r = r'\\'  # fsdl: raw string with an escaped quote'\n",
    "f = f'{x}'  # fsdl: after an f-string\nb = rb\"#\"  # fsdl: after bytes\n",
    "x = (1,  # fsdl: in brackets\n     2)\n",
    "s = 'a\\\n# fsdl: continued string'\n",
    "x = 1 \\\n    + 2  # fsdl: after a continuation\n",
    "x = ''''''  # fsdl: empty triple\ny = ''  # fsdl: empty\n",
    "\r\nx = 1  # fsdl: crlf\r\n",
]


@pytest.mark.parametrize("text", TRICKY_PYTHON)
def test_python_comments_are_found_as_the_tokenizer_finds_them(text: str) -> None:

    assert _python_comments(text) == _tokenize_comments(text)


def test_python_comments_match_the_tokenizer_on_this_repositorys_python() -> None:
    """Every `#` made a marker comment (strings change alike), over every Python file of this repository."""

    root = Path(__file__).resolve().parents[2]
    files = [p for folder in ("checker", "tests", "benchmarks", "hooks") for p in sorted((root / folder).rglob("*.py"))]
    assert len(files) > 50
    for path in files:
        text = path.read_text(encoding="utf-8").replace("#", "#fsdl:")
        if (expected := _tokenize_comments(text)) is not None:
            assert _python_comments(text) == expected, path


def test_a_module_with_fifty_thousand_suppressions_is_scanned_in_a_moment() -> None:

    text = "".join(
        f"v{i} = f(a, 's')  # fsdl: ignore[VC005] r\n" if i % 2 else f"def g{i}(x): return '# fsdl: ignore[QA007]'\n"
        for i in range(100_000)
    )
    started = time.perf_counter()
    found = scan("big.py", text)
    assert time.perf_counter() - started < 3  # tokenize took 1.6 s here, the regex scan 0.4 s
    assert len(found) == 50_000
    assert (found[0].line, found[-1].line) == (2, 100_000)
