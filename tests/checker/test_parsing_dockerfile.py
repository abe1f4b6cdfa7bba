"""The Dockerfile reader: each construct BuildKit understands, read the way BuildKit reads it, and `.dockerignore`
patterns matched the way BuildKit matches them."""

from __future__ import annotations

import pytest

from fsdl_check.parsing.dockerfile import (
    ImageRef,
    Instruction,
    expand,
    is_dockerfile_name,
    key_values,
    parse_dockerfile,
    parse_dockerignore,
)


def keywords(text: str) -> list[tuple[str, int]]:
    return [(i.keyword, i.line) for i in parse_dockerfile("Dockerfile", text).instructions]


def only(text: str) -> Instruction:
    [instruction] = parse_dockerfile("Dockerfile", text).instructions
    return instruction


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Dockerfile", True),
        ("dockerfile", True),
        ("Containerfile", True),
        ("Dockerfile.gpu", True),
        ("Dockerfile-cpu", True),
        ("Dockerfile_amd", True),
        ("train.Dockerfile", True),
        ("app.containerfile", True),
        ("Dockerfile.dockerignore", False),  # BuildKit's per-Dockerfile ignore file
        ("Dockerfile.j2", False),  # a template rendered into one
        ("Dockerfile.md", False),
        ("Dockerfiles", False),
        ("docker-compose.yml", False),
        ("README.md", False),
    ],
)
def test_dockerfile_names(name: str, expected: bool) -> None:
    assert is_dockerfile_name(name) is expected


def test_instructions_are_case_insensitive_and_keep_their_lines() -> None:
    text = 'from python:3.12\n\nRun echo hi\n  WorkDir /app\ncmd ["python"]\n'
    assert keywords(text) == [("FROM", 1), ("RUN", 3), ("WORKDIR", 4), ("CMD", 5)]


def test_line_continuations_join_lines_and_drop_comments_and_blank_lines_inside() -> None:
    text = (
        "FROM x\nRUN apt-get update && \\\n    # why we need git\n\n    apt-get install -y git  \\  \n    curl\n"
        "USER app\n"
    )
    run = parse_dockerfile("Dockerfile", text).instructions[1]
    assert (run.line, run.end_line) == (2, 6)
    assert run.value.split() == ["apt-get", "update", "&&", "apt-get", "install", "-y", "git", "curl"]
    assert keywords(text)[-1] == ("USER", 7)


def test_comments_are_lines_starting_with_a_hash_and_stay_with_the_next_instruction() -> None:
    text = (
        "# base\nFROM x\n   # indented comment\n# hadolint ignore=DL3013\nRUN pip install y\n\n# far away\n\nUSER a\n"
    )
    df = parse_dockerfile("Dockerfile", text)
    assert [i.keyword for i in df.instructions] == ["FROM", "RUN", "USER"]
    assert df.instructions[1].comments == ("indented comment", "hadolint ignore=DL3013")
    assert df.instructions[2].comments == ()  # a blank line separates the comment from the instruction
    assert only("RUN echo hi # a shell comment\n").value == "echo hi # a shell comment"


def test_parser_directives_only_at_the_top() -> None:
    df = parse_dockerfile("Dockerfile", "# syntax=docker/dockerfile:1\n# escape=`\nFROM x\n")
    assert df.directives == {"syntax": "docker/dockerfile:1", "escape": "`"}
    assert df.escape == "`"
    late = parse_dockerfile("Dockerfile", "# a comment first\n# escape=`\nFROM x\n")
    assert late.directives == {} and late.escape == "\\"
    after_blank = parse_dockerfile("Dockerfile", "\n# escape=`\nFROM x\n")
    assert after_blank.escape == "\\"
    unknown = parse_dockerfile("Dockerfile", "# foo=bar\n# escape=`\nFROM x\n")
    assert unknown.directives == {}  # an unknown directive is a comment, and ends the directives


def test_backtick_escape_continues_lines_and_leaves_backslashes_alone() -> None:
    text = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir C:\\ `\n    && echo done\n"
    run = parse_dockerfile("Dockerfile", text).instructions[1]
    assert run.value.split() == ["dir", "C:\\", "&&", "echo", "done"]
    assert (run.line, run.end_line) == (3, 4)


def test_heredocs_hold_their_bodies_and_are_not_read_as_instructions() -> None:
    text = (
        "FROM x\n"
        "RUN <<EOF\napt-get update\nUSER root\nEOF\n"
        'COPY <<-"CONF" /etc/app.conf\n\tkey=$VALUE\n\tCONF\n'
        "RUN <<A cat > /a && <<'B' cat > /b\none\nA\ntwo\nB\n"
        "USER app\n"
    )
    df = parse_dockerfile("Dockerfile", text)
    assert [(i.keyword, i.line, i.end_line) for i in df.instructions] == [
        ("FROM", 1, 1),
        ("RUN", 2, 5),
        ("COPY", 6, 8),
        ("RUN", 9, 13),
        ("USER", 14, 14),
    ]
    run, copy, both = df.instructions[1:4]
    assert [(h.delimiter, h.body, h.line) for h in run.heredocs] == [("EOF", "apt-get update\nUSER root", 3)]
    assert run.script == "<<EOF\napt-get update\nUSER root"
    assert [(h.body, h.expands) for h in copy.heredocs] == [("key=$VALUE", False)]  # tabs stripped by <<-
    assert [(h.delimiter, h.body) for h in both.heredocs] == [("A", "one"), ("B", "two")]
    assert df.error is None


def test_heredoc_markers_inside_quotes_or_words_are_not_heredocs() -> None:
    assert only("RUN echo '<<EOF' && x=$((1<<2))\n").heredocs == ()
    assert only("RUN cat <<<word\n").heredocs == ()


def test_an_unterminated_heredoc_reads_to_the_end_and_is_an_error() -> None:
    df = parse_dockerfile("Dockerfile", 'FROM x\nRUN <<EOF\necho one\nCMD ["x"]\n')
    assert [i.keyword for i in df.instructions] == ["FROM", "RUN"]
    assert df.instructions[1].heredocs[0].body == 'echo one\nCMD ["x"]'
    assert not df.instructions[1].heredocs[0].terminated
    assert (df.error, df.error_line) == ("unterminated heredoc <<EOF", 2)


def test_exec_form_and_shell_form() -> None:
    assert only('CMD ["python", "-m", "pkg"]\n').exec_form == ("python", "-m", "pkg")
    assert only("CMD python -m pkg\n").exec_form is None
    assert only("CMD ['python', '-m', 'pkg']\n").exec_form is None  # not JSON: Docker runs it in a shell
    assert only('ENTRYPOINT ["tini", "--"]\n').exec_form == ("tini", "--")
    assert only('RUN ["pip", "install", "x"]\n').exec_form == ("pip", "install", "x")
    assert only('HEALTHCHECK --interval=5s CMD ["curl", "-f", "localhost"]\n').exec_form == ("curl", "-f", "localhost")
    assert only('CMD ["python", 3]\n').exec_form is None


def test_flags_are_split_from_the_arguments() -> None:
    run = only("RUN --mount=type=cache,target=/root/.cache/pip --network=none pip install -r r.txt\n")
    assert run.flags == (("mount", "type=cache,target=/root/.cache/pip"), ("network", "none"))
    assert run.value == "pip install -r r.txt"
    assert run.mounts == [{"type": "cache", "target": "/root/.cache/pip"}]
    copy = only("COPY --from=build --chown=app:app /out /app\n")
    assert (copy.flag("from"), copy.flag("chown"), copy.value) == ("build", "app:app", "/out /app")
    assert only("RUN --mount=type=secret,id=hf echo\n").mounts == [{"type": "secret", "id": "hf"}]
    assert only("CMD --not-a-flag\n").flags == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ENV A=1 B=\"two words\" C='x y'\n", [("A", "1"), ("B", "two words"), ("C", "x y")]),
        ("ENV OLD value with spaces\n", [("OLD", "value with spaces")]),
        ("ARG A\n", [("A", None)]),
        ("ARG A=1 B\n", [("A", "1"), ("B", None)]),
        ("ENV PATH=/opt/bin:$PATH\n", [("PATH", "/opt/bin:$PATH")]),
        ("ENV A=with\\ space\n", [("A", "with space")]),
    ],
)
def test_env_and_arg_pairs(text: str, expected: list[tuple[str, str | None]]) -> None:
    assert key_values(only(text)) == expected


def test_stages_names_and_references_to_earlier_stages() -> None:
    text = (
        "FROM python:3.12 AS Build\nRUN make\n"
        "FROM build AS test\nRUN pytest\n"
        "FROM python:3.12-slim\nCOPY --from=build /out /app\nCOPY --from=0 /x /y\n"
    )
    df = parse_dockerfile("Dockerfile", text)
    assert [(s.index, s.name, s.image, s.parent, s.line) for s in df.stages] == [
        (0, "build", "python:3.12", None, 1),
        (1, "test", "build", 0, 3),
        (2, None, "python:3.12-slim", None, 5),
    ]
    assert df.final_stage is df.stages[2]
    assert [s.index for s in df.chain(df.stages[1])] == [1, 0]
    assert df.stage_named("BUILD") is df.stages[0] and df.stage_named("0") is df.stages[0]
    assert df.stage_named("python:3.12") is None
    assert [i.keyword for i in df.stages[2].instructions] == ["COPY", "COPY"]


def test_global_args_are_substituted_in_from() -> None:
    text = (
        "ARG PY=3.12\nARG BASE=python:${PY}-slim\nARG REGISTRY\nARG CUDA\n"
        "FROM ${BASE} AS one\nFROM $REGISTRY/app:1 AS two\nFROM nvidia/cuda:${CUDA:-12.4.1}-runtime AS three\n"
        "ARG LATE=x\nFROM python:${LATE}\n"
    )
    df = parse_dockerfile("Dockerfile", text)
    assert df.global_args == {"PY": "3.12", "BASE": "python:3.12-slim", "REGISTRY": None, "CUDA": None}
    assert [s.image for s in df.stages] == ["python:3.12-slim", None, "nvidia/cuda:12.4.1-runtime", None]
    assert df.stages[0].base == "${BASE}"


def test_instructions_before_the_first_from_other_than_arg_are_an_error() -> None:
    df = parse_dockerfile("Dockerfile", "ARG A=1\nRUN echo\nFROM x\n")
    assert (df.error, df.error_line) == ("RUN before the first FROM (only ARG may come before it)", 2)
    assert len(df.stages) == 1


@pytest.mark.parametrize(
    ("word", "variables", "expected"),
    [
        ("$A", {"A": "1"}, "1"),
        ("${A}b", {"A": "1"}, "1b"),
        ("${A:-d}", {}, "d"),
        ("${A:-d}", {"A": ""}, "d"),
        ("${A-d}", {"A": ""}, ""),
        ("${A:-d}", {"A": None}, "d"),  # no default: the fallback is what a plain build uses
        ("${A:+alt}", {"A": "1"}, "alt"),
        ("${A:+alt}", {}, ""),
        ("${A:-${B:-x}}", {}, "x"),
        ("$A", {"A": None}, None),
        ("$A", {}, None),
        ("${A#pre}", {"A": "prefix"}, None),  # not followed
        ("${A", {"A": "1"}, None),
        ("\\$A", {"A": "1"}, "$A"),
        ("cost: 5$", {}, "cost: 5$"),
        ("plain", {}, "plain"),
    ],
)
def test_variable_substitution(word: str, variables: dict[str, str | None], expected: str | None) -> None:
    assert expand(word, variables) == expected


def test_substitution_stops_at_absurd_sizes_and_depths() -> None:
    args = "ARG A0=xxxxxxxxxxxxxxxx\n" + "".join(f"ARG A{i}=$A{i - 1}$A{i - 1}\n" for i in range(1, 40))
    df = parse_dockerfile("Dockerfile", args + "FROM python:$A39\n")
    assert df.stages[0].image is None
    assert max(len(v or "") for v in df.global_args.values()) <= 4096
    assert expand("${A:-" * 50 + "x" + "}" * 50, {}) is None


def test_stage_variables_inherit_env_and_global_arg_defaults() -> None:
    text = "ARG UID=1000\nFROM x AS base\nENV HOME=/srv/app\nFROM base\nARG UID\nENV APP=$HOME/app\nUSER $UID\n"
    df = parse_dockerfile("Dockerfile", text)
    assert df.variables(df.stages[1]) == {"HOME": "/srv/app", "UID": "1000", "APP": "/srv/app/app"}


@pytest.mark.parametrize(
    ("reference", "name", "tag", "digest"),
    [
        ("python", "python", None, None),
        ("python:3.12-slim", "python", "3.12-slim", None),
        ("localhost:5000/team/app", "localhost:5000/team/app", None, None),
        ("localhost:5000/team/app:1.0", "localhost:5000/team/app", "1.0", None),
        ("python@sha256:abc", "python", None, "sha256:abc"),
        ("python:3.12@sha256:abc", "python", "3.12", "sha256:abc"),
    ],
)
def test_image_references(reference: str, name: str, tag: str | None, digest: str | None) -> None:
    assert ImageRef.parse(reference) == ImageRef(name, tag, digest)


def test_empty_and_comment_only_files() -> None:
    for text in ("", "\n\n", "# only a comment\n", "\ufeffFROM x\n"):
        df = parse_dockerfile("Dockerfile", text)
        assert df.error is None
    assert parse_dockerfile("Dockerfile", "\ufeffFROM x\n").stages[0].image == "x"


# -- .dockerignore ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("patterns", "path", "excluded"),
    [
        (".git", ".git/HEAD", True),  # a directory excludes everything below it
        ("mlruns", "mlruns/0/meta", True),
        ("mlruns", "src/mlruns/0/meta", False),  # anchored at the context's root, unlike .gitignore
        ("/mlruns/", "mlruns/0/meta", True),  # a leading or trailing slash changes nothing
        ("**/mlruns", "src/mlruns/0/meta", True),
        ("**/mlruns", "mlruns/0/meta", True),
        ("*.ckpt", "model.ckpt", True),
        ("*.ckpt", "checkpoints/last.ckpt", False),  # `*` stays within one segment
        ("**/*.ckpt", "checkpoints/last.ckpt", True),
        ("data/*", "data/raw/train.csv", True),
        ("data/**", "data/raw/train.csv", True),
        ("*\n!src\n!pyproject.toml", "src/pkg/a.py", False),  # an allowlist
        ("*\n!src\n!pyproject.toml", ".git/HEAD", True),
        ("*\n!src\n!pyproject.toml", "pyproject.toml", False),
        ("data\n!data/README.md", "data/README.md", False),
        ("data\n!data/README.md", "data/train.csv", True),
        ("!data\ndata", "data/x", True),  # the last match wins
        ("# .git\n", ".git/HEAD", False),
        ("  .git  \n", ".git/HEAD", True),
        ("?ata", "data/x", True),
        ("[a-d]ata", "data/x", True),
        ("[!a]ata", "data/x", False),  # `!` is not negation in Go's patterns
        ("[^d]ata", "data/x", False),
        ("data\\*", "data*/x", True),
        ("./outputs", "outputs/run", True),
        ("outputs/../logs", "logs/run", True),
    ],
)
def test_dockerignore_matching(patterns: str, path: str, excluded: bool) -> None:
    assert parse_dockerignore(".dockerignore", patterns).excludes(path) is excluded


def test_dockerignore_skips_patterns_that_cannot_match() -> None:
    ignore = parse_dockerignore(".dockerignore", "[unclosed\n.git\n!\n[z-a]\n")
    assert ignore.invalid == (1, 4)
    assert ignore.excludes(".git/HEAD")
