"""DK rules: each fires, at the right place, on a small bad repository and stays quiet on good ones.

Secrets in this file are assembled at run time so that the file itself holds nothing a scanner would report.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fsdl_check.engine import audit
from fsdl_check.model import REGISTRY, Finding, ProjectKind, all_rules
from fsdl_check.testing import run_rule as run

MakeRepo = Callable[..., Path]

HF_TOKEN = "hf" + "_" + "Zq8vLk2Xw9Rt4Yp7Nm3Bc6Hd1Jf5Gs0Ua"
WANDB_KEY = "3f9a" + "0c41d27e8b65f1a9" * 2 + "4e7b"
#: A Dockerfile that does everything right (what the template's docker/Dockerfile is meant to look like).
GOOD = """\
# syntax=docker/dockerfile:1
ARG PYTHON_VERSION=3.12
FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_NO_CACHE_DIR=1
RUN apt-get update \\
    && apt-get install -y --no-install-recommends build-essential \\
    && rm -rf /var/lib/apt/lists/*
COPY requirements-lock.txt .
RUN pip install -r requirements-lock.txt
COPY . /src
RUN pip install --no-deps /src

FROM python:${PYTHON_VERSION}-slim
RUN useradd --create-home --uid 1000 app
COPY --from=build /usr/local /usr/local
USER app
WORKDIR /srv/app
ENTRYPOINT ["python", "-m", "pkg"]
CMD ["fit", "--config", "configs/default.yaml"]
"""
NO_TAG = "has no tag (Docker pulls `latest`)"
LISTS = "apt lists left in the layer (no `rm -rf /var/lib/apt/lists/*` in this RUN)"
NO_CACHE = "pip install without --no-cache-dir"
DOCKERIGNORE = ".git\n.venv\ndata\nmlruns\nmlartifacts\nmlflow.db\nwandb\nlightning_logs\noutputs\n**/*.ckpt\n"


def where(findings: list[Finding]) -> list[tuple[str, int | None]]:
    return [(f.path, f.line) for f in findings]


def test_the_good_dockerfile_passes_every_rule(make_repo: MakeRepo) -> None:
    root = make_repo({"Dockerfile": GOOD, ".dockerignore": DOCKERIGNORE, ".gitignore": ".venv/\ndata/\n"})
    for code in ("DK001", "DK002", "DK003", "DK004", "DK005", "DK006", "DK007"):
        assert run(code, root) == [], code


# -- DK001 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("dockerfile", "line", "message"),
    [
        ("FROM python:latest\n", 1, "base image python:latest uses the floating tag `latest`"),
        ("FROM python\n", 1, "base image python has no tag (Docker pulls `latest`)"),
        ("FROM python:3.12 AS build\nFROM nvidia/cuda\n", 2, f"base image nvidia/cuda {NO_TAG}"),
        (
            "ARG BASE=pytorch/pytorch\nFROM ${BASE}\n",
            2,
            "base image pytorch/pytorch (FROM ${BASE}) has no tag (Docker pulls `latest`)",
        ),
        (
            "FROM python:3.12\nCOPY --from=ghcr.io/astral-sh/uv:latest /uv /bin/\n",
            2,
            "COPY --from image ghcr.io/astral-sh/uv:latest uses the floating tag `latest`",
        ),
        ("from registry.example:5000/team/base\n", 1, f"base image registry.example:5000/team/base {NO_TAG}"),
    ],
)  # fmt: skip
def test_unpinned_base_images(make_repo: MakeRepo, dockerfile: str, line: int, message: str) -> None:
    findings = run("DK001", make_repo({"docker/Dockerfile": dockerfile}))
    assert [(f.path, f.line, f.message) for f in findings] == [("docker/Dockerfile", line, message)]


@pytest.mark.parametrize(
    "dockerfile",
    [
        "FROM python:3.12-slim\n",
        "FROM python@sha256:" + "a" * 64 + "\n",
        "FROM scratch\n",
        "FROM python:3.12 AS build\nFROM build\nCOPY --from=build /a /b\nCOPY --from=0 /a /b\n",
        "ARG BASE\nFROM $BASE\n",  # only known with --build-arg: not this rule's to say
        "ARG TAG\nFROM python:${TAG}\n",
        "ARG CUDA=12.4.1\nFROM nvidia/cuda:${CUDA}-runtime-ubuntu22.04\n",
        "# hadolint ignore=DL3007\nFROM python:latest\n",
        "# hadolint global ignore=DL3006\nFROM python:3.12 AS a\nFROM python\n",
        "FROM {{ base_image }}\n",
    ],
)
def test_pinned_base_images(make_repo: MakeRepo, dockerfile: str) -> None:
    assert run("DK001", make_repo({"Dockerfile": dockerfile})) == []


def test_base_images_in_tests_and_examples_are_not_reported(make_repo: MakeRepo) -> None:
    files = {"tests/fixtures/Dockerfile": "FROM python\n", "examples/serve/Dockerfile": "FROM python:latest\n"}
    assert run("DK001", make_repo(files)) == []


def test_hadolint_configuration_waives_its_rules(make_repo: MakeRepo) -> None:
    files = {"Dockerfile": "FROM python\nRUN pip install torch\n", ".hadolint.yaml": "ignored:\n  - DL3006\n"}
    root = make_repo(files)
    assert run("DK001", root) == []
    assert [f.message for f in run("DK002", root)] == ["pip install without --no-cache-dir; unpinned packages: torch"]


# -- DK002 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("run_line", "message"),
    [
        (
            "RUN apt-get update && apt-get install -y git",
            "apt-get install without --no-install-recommends; "
            "apt lists left in the layer (no `rm -rf /var/lib/apt/lists/*` in this RUN)",
        ),
        ("RUN apt-get update && apt-get install -y --no-install-recommends git",
         "apt lists left in the layer (no `rm -rf /var/lib/apt/lists/*` in this RUN)"),
        ("RUN apt install -y git && rm -rf /var/lib/apt/lists/*", "apt-get install without --no-install-recommends"),
        ("RUN pip install torch lightning==2.4.0", "pip install without --no-cache-dir; unpinned packages: torch"),
        ("RUN python -m pip install --no-cache-dir 'numpy>=1.26' torch", "unpinned packages: numpy, torch"),
        ("RUN pip install -r requirements.txt", "pip install without --no-cache-dir"),
        ("RUN uv pip install --system torch==2.4.1", "uv pip install without --no-cache"),
        ('RUN ["pip", "install", "torch"]', "pip install without --no-cache-dir; unpinned packages: torch"),
        ("RUN <<EOF\nset -e\npip install --no-cache-dir wandb\nEOF", "unpinned packages: wandb"),
        ("RUN bash -e <<EOF\napt-get update\nEOF", LISTS),
        ("RUN sudo -E pip3 install a b c d e f g", f"{NO_CACHE}; unpinned packages: a, b, c, d, e and 2 more"),
    ],
)  # fmt: skip
def test_package_hygiene_problems(make_repo: MakeRepo, run_line: str, message: str) -> None:
    root = make_repo({"Dockerfile": f"FROM python:3.12-slim\n{run_line}\nUSER app\n"})
    findings = run("DK002", root)
    assert [(f.path, f.line, f.message) for f in findings] == [("Dockerfile", 2, message)]


@pytest.mark.parametrize(
    "body",
    [
        "RUN apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*",
        "RUN --mount=type=cache,target=/var/cache/apt --mount=type=cache,target=/var/lib/apt \\\n"
        "    apt-get update && apt-get install -y --no-install-recommends git",
        "RUN pip install --no-cache-dir -r requirements-lock.txt",
        "RUN pip install --no-cache-dir -c constraints.txt torch",
        "RUN pip install --no-cache-dir . && pip install --no-cache-dir -e .",
        "RUN pip install --no-cache-dir torch==2.4.1 'lightning~=2.4' protobuf==3.20.*",
        "RUN pip install --no-cache-dir git+https://github.com/org/repo@v1 ./wheels/pkg.whl",
        "ENV PIP_NO_CACHE_DIR=1\nRUN pip install -r requirements.txt",
        "RUN PIP_NO_CACHE_DIR=1 pip install -r requirements.txt",
        "RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt",
        "RUN --mount=type=cache,target=/root/.cache/uv uv pip install --system -r requirements.txt",
        "RUN pip install -r requirements.txt && rm -rf /root/.cache/pip",
        "RUN pip install --upgrade pip setuptools wheel",  # the installer's own tools
        "RUN pip install --no-cache-dir ${PACKAGES}",
        "RUN echo 'APT::Install-Recommends \"false\";' > /etc/apt/apt.conf.d/00-no-recommends\n"
        "RUN apt-get update && apt-get install -y git && rm -rf /var/lib/apt/lists/*",
        "RUN python <<EOF\nimport subprocess\nprint('pip install torch')\nEOF",  # a heredoc fed to Python is data
        "# hadolint ignore=DL3013,DL3042\nRUN pip install torch",
    ],
)
def test_lean_and_pinned_installs(make_repo: MakeRepo, body: str) -> None:
    assert run("DK002", make_repo({"Dockerfile": f"FROM python:3.12-slim\n{body}\n"})) == []


def test_builder_stages_are_checked_for_pins_only(make_repo: MakeRepo) -> None:
    dockerfile = (
        "FROM python:3.12 AS build\n"
        "RUN apt-get update && apt-get install -y gcc\n"  # 2: its layers stay behind
        "RUN pip install -r requirements.txt\n"
        "RUN pip install torch\n"  # 4: still a different torch on every build
        "FROM python:3.12-slim\n"
        "COPY --from=build /venv /venv\n"
    )
    findings = run("DK002", make_repo({"Dockerfile": dockerfile}))
    assert [(f.line, f.message) for f in findings] == [(4, "unpinned packages: torch")]


def test_one_finding_per_dockerfile_naming_every_offending_run(make_repo: MakeRepo) -> None:
    dockerfile = (
        "FROM python:3.12-slim\n"
        "RUN apt-get update && apt-get install -y git && rm -rf /var/lib/apt/lists/*\n"  # 2
        "COPY . /app\n"
        "RUN apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"  # 4
        "RUN pip install torch numpy==1.26.4\n"  # 5
        "USER app\n"
    )
    findings = run("DK002", make_repo({"Dockerfile": dockerfile, "docker/Dockerfile.gpu": dockerfile}))
    assert where(findings) == [("Dockerfile", 2), ("docker/Dockerfile.gpu", 2)]
    assert findings[0].message == (
        "apt-get install without --no-install-recommends; also line 4 (apt-get install without "
        f"--no-install-recommends), line 5 ({NO_CACHE}; unpinned packages: torch)"
    )


def test_other_offending_runs_are_grouped_by_problem(make_repo: MakeRepo) -> None:
    runs = "".join(f"RUN pip install --no-cache-dir pkg{n}\n" for n in range(8))
    dockerfile = f"FROM python:3.12-slim\nRUN apt-get update\n{runs}RUN uv pip install --system -r r.txt\n"
    [finding] = run("DK002", make_repo({"Dockerfile": dockerfile}))
    assert (finding.line, finding.message) == (
        2,
        f"{LISTS}; also lines 3, 4, 5, 6, 7, 8 and 2 more "
        "(unpinned packages: pkg0, pkg1, pkg2, pkg3, pkg4 and 3 more), line 11 (uv pip install without --no-cache)",
    )


def test_a_suppression_above_a_run_waives_that_run_alone(make_repo: MakeRepo) -> None:
    dockerfile = (
        "FROM python:3.12-slim\n"
        "# fsdl: ignore[DK002] the build tools are pinned by the base image\n"
        "RUN pip install --no-cache-dir build\n"  # 3
        "RUN pip install torch\n"  # 4
        "RUN pip install --no-cache-dir numpy\n"  # 5
    )
    root = make_repo({"Dockerfile": dockerfile})
    result = next(r for r in audit(root).results if r.code == "DK002")
    assert [(f.line, f.message) for f in result.suppressed] == [(3, "unpinned packages: build")]
    assert [(f.line, f.message) for f in result.findings] == [
        (4, f"{NO_CACHE}; unpinned packages: torch; also line 5 (unpinned packages: numpy)")
    ]
    assert not [r for r in audit(root).results if r.code == "FC001" and r.findings]  # the suppression was used


def test_a_file_suppression_waives_the_whole_dockerfile(make_repo: MakeRepo) -> None:
    dockerfile = (
        "# fsdl: ignore-file[DK002] a scratch image\nFROM python:3.12-slim\nRUN pip install a\nRUN pip install b\n"
    )
    result = next(r for r in audit(make_repo({"Dockerfile": dockerfile})).results if r.code == "DK002")
    assert result.findings == [] and [f.line for f in result.suppressed] == [3]


# -- DK003 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("dockerfile", "line", "message"),
    [
        ("FROM python:3.12\nCOPY . /app\n", 1, "final stage runs as root: no USER instruction"),
        ("FROM python:3.12\nUSER app\nRUN make\nUSER root\n", 4, "final stage runs as root (USER root)"),
        ("FROM python:3.12\nUSER 0:0\n", 2, "final stage runs as root (USER 0:0)"),
        ("FROM python:3.12 AS base\nFROM base\nRUN make\n", 2, "final stage runs as root: no USER instruction"),
        (
            "FROM python:3.12 AS build\nUSER app\nFROM python:3.12-slim\nCOPY --from=build /a /a\n",
            3,
            "final stage runs as root: no USER instruction",
        ),
        (
            "FROM python:3.12\nRUN useradd -m app && echo 'app ALL=(ALL) NOPASSWD: ALL' >> /etc/sudoers\nUSER app\n",
            3,
            "USER app has passwordless sudo (NOPASSWD, line 2): root in all but name",
        ),
        (
            "FROM python:3.12\nRUN useradd -m -G sudo app\nRUN echo '%sudo ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers\n"
            "USER app\n",
            4,
            "USER app has passwordless sudo (NOPASSWD, line 3): root in all but name",
        ),
    ],
)
def test_final_stage_runs_as_root(make_repo: MakeRepo, dockerfile: str, line: int, message: str) -> None:
    findings = run("DK003", make_repo({"Dockerfile": dockerfile}))
    assert [(f.path, f.line, f.message) for f in findings] == [("Dockerfile", line, message)]


@pytest.mark.parametrize(
    "dockerfile",
    [
        "FROM python:3.12\nRUN useradd app\nUSER app\n",
        "FROM python:3.12\nUSER 1000:1000\n",
        'FROM python:3.12 AS base\nUSER app\nFROM base\nCMD ["x"]\n',  # inherited from the stage it builds on
        "ARG UID=1000\nFROM python:3.12\nARG UID\nUSER ${UID}\n",
        "FROM python:3.12\nARG USER_NAME\nUSER $USER_NAME\n",  # only known at build time
        "FROM quay.io/jupyter/pytorch-notebook:2024-10-07\nRUN pip install x\n",  # runs as jovyan
        "FROM gcr.io/distroless/python3-debian12:nonroot\n",
        "ARG BASE\nFROM $BASE\n",
        "FROM scratch\nCOPY app /app\n",
        "FROM python:3.12\nRUN useradd -m app && echo 'other ALL=(ALL) NOPASSWD: ALL' >> /etc/sudoers\nUSER app\n",
        "FROM python:3.12\n# hadolint ignore=DL3002\nUSER root\n",
    ],
)
def test_final_stage_runs_as_a_user(make_repo: MakeRepo, dockerfile: str) -> None:
    assert run("DK003", make_repo({"Dockerfile": dockerfile})) == []


def test_dev_container_and_ci_images_may_run_as_root(make_repo: MakeRepo) -> None:
    files = {
        ".devcontainer/Dockerfile": "FROM mcr.microsoft.com/devcontainers/python:3.12\nCMD bash\n",
        ".github/actions/build/Dockerfile": "FROM python:3.12\n",
        "ci/docker/Dockerfile": "FROM ubuntu:24.04\n",
    }
    root = make_repo(files)
    assert run("DK003", root) == []
    assert run("DK004", root) == []


# -- DK004 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("dockerfile", "line", "message"),
    [
        ("FROM python:3.12\nCMD python train.py\n", 2,
         "CMD in shell form: PID 1 is /bin/sh, which does not pass SIGTERM on to `python train.py`"),
        ("FROM python:3.12\nENTRYPOINT python -m pkg\nCMD [\"fit\"]\n", 2,
         "ENTRYPOINT in shell form: PID 1 is /bin/sh, which does not pass SIGTERM on to `python -m pkg`"),
        ("FROM python:3.12\nENTRYPOINT [\"/entrypoint.sh\"]\nCMD python train.py\n", 3,
         "CMD in shell form: PID 1 is /bin/sh, which does not pass SIGTERM on to `python train.py`"),
        ("FROM python:3.12\nCMD ['python', 'train.py']\n", 2,
         "CMD in shell form (a JSON array needs double quotes): PID 1 is /bin/sh, which does not pass SIGTERM on to "
         "`['python', 'train.py']`"),
        ("FROM python:3.12 AS base\nCMD python serve.py\nFROM base\nUSER app\n", 2,
         "CMD in shell form: PID 1 is /bin/sh, which does not pass SIGTERM on to `python serve.py`"),
    ],
)  # fmt: skip
def test_shell_form_commands(make_repo: MakeRepo, dockerfile: str, line: int, message: str) -> None:
    findings = run("DK004", make_repo({"Dockerfile": dockerfile}))
    assert [(f.path, f.line, f.message) for f in findings] == [("Dockerfile", line, message)]


@pytest.mark.parametrize(
    "dockerfile",
    [
        'FROM python:3.12\nCMD ["python", "train.py"]\n',
        "FROM python:3.12\nCMD exec python train.py\n",
        "FROM python:3.12\nRUN make\n",  # the base image's command
        'FROM python:3.12 AS build\nCMD make\nFROM python:3.12-slim\nCMD ["app"]\n',  # only the final stage counts
        'FROM python:3.12 AS base\nCMD python serve.py\nFROM base\nENTRYPOINT ["tini", "--", "app"]\n',  # CMD reset
        "FROM python:3.12\n# hadolint ignore=DL3025\nCMD python train.py\n",
    ],
)
def test_exec_form_commands(make_repo: MakeRepo, dockerfile: str) -> None:
    assert run("DK004", make_repo({"Dockerfile": dockerfile})) == []


# -- DK005 --------------------------------------------------------------------------------------------------------
COPIES_ALL = "FROM python:3.12\nCOPY . /app\nUSER app\n"


def test_no_dockerignore(make_repo: MakeRepo) -> None:
    findings = run("DK005", make_repo({"docker/Dockerfile": COPIES_ALL, "Dockerfile.gpu": COPIES_ALL}))
    assert where(findings) == [(".dockerignore", None)]
    assert findings[0].message == (
        "no .dockerignore: Dockerfile.gpu copies the whole build context into the image (line 2); "
        "so does 1 more Dockerfile"
    )


@pytest.mark.parametrize(
    ("files", "let_in"),
    [
        ({".dockerignore": "__pycache__\n"}, ".git/"),
        ({".dockerignore": "src/.git\n"}, ".git/"),  # anchored: does not match the root's .git
        ({".dockerignore": ".git\n", ".gitignore": "data/\n.venv/\n"}, ".venv/, data/"),
        ({".dockerignore": ".git\n", ".gitignore": "*.ckpt\ncheckpoints/\n"}, "checkpoints"),
        ({".dockerignore": ".git\n*.ckpt\n", ".gitignore": "*.ckpt\ncheckpoints/\n"}, "checkpoints"),
        ({".dockerignore": ".git\n", "src/pkg/track.py": "import mlflow\n"}, "mlruns/, mlartifacts/, mlflow.db"),
        (
            {
                ".dockerignore": ".git\n",
                "src/pkg/track.py": "import mlflow\nmlflow.set_tracking_uri('file:./runs/ml')\n",
            },
            "runs/ml/",
        ),
        ({".dockerignore": "*\n!src\n!.git\n"}, ".git/"),
    ],
)
def test_dockerignore_lets_things_into_the_context(make_repo: MakeRepo, files: dict[str, str], let_in: str) -> None:
    findings = run("DK005", make_repo({"Dockerfile": COPIES_ALL, **files}))
    assert [(f.path, f.line, f.message) for f in findings] == [
        (".dockerignore", None, f"the build context takes in {let_in}")
    ]


@pytest.mark.parametrize(
    "files",
    [
        {".dockerignore": DOCKERIGNORE, ".gitignore": ".venv/\ndata/*\n*.ckpt\n", "src/pkg/t.py": "import mlflow\n"},
        {".dockerignore": "*\n!src\n!pyproject.toml\n!requirements-lock.txt\n", ".gitignore": "data/\n"},
        {".dockerignore": "**\n!src/**\n"},
        {"Dockerfile.dockerignore": ".git\n", ".dockerignore": ""},  # BuildKit's own ignore file wins
        {".gitignore": "data/\n", ".dockerignore": ".git\ndata/**\n"},
    ],
)
def test_dockerignore_covers_the_context(make_repo: MakeRepo, files: dict[str, str]) -> None:
    assert run("DK005", make_repo({"Dockerfile": COPIES_ALL, **files})) == []


def test_a_dockerignore_beside_the_dockerfile_is_for_that_directory_as_context(make_repo: MakeRepo) -> None:
    files = {"docker/Dockerfile": COPIES_ALL, "docker/.dockerignore": "*.tmp\n", ".gitignore": "/data/\n"}
    assert run("DK005", make_repo(files)) == []  # .git and data/ are not inside docker/
    files = {"docker/Dockerfile": COPIES_ALL, "docker/.dockerignore": "*.tmp\n", ".gitignore": "docker/data/\n"}
    assert [f.message for f in run("DK005", make_repo(files))] == ["the build context takes in data/"]


def test_dockerfiles_that_copy_only_what_they_name_need_no_dockerignore(make_repo: MakeRepo) -> None:
    # BuildKit sends the builder only the files the instructions use.
    dockerfile = "FROM python:3.12\nCOPY requirements.txt pyproject.toml /app/\nCOPY src /app/src\n"
    assert run("DK005", make_repo({"Dockerfile": dockerfile})) == []
    assert run("DK005", make_repo({".devcontainer/Dockerfile": COPIES_ALL})) == []


# -- DK006 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "name"),
    [
        (f"ENV HF_TOKEN={HF_TOKEN}", "HF_TOKEN"),
        (f'ARG WANDB_API_KEY="{WANDB_KEY}"', "WANDB_API_KEY"),
        (f"ENV MODE=prod AWS_SECRET_ACCESS_KEY={WANDB_KEY}", "AWS_SECRET_ACCESS_KEY"),
        ("ENV DB_PASSWORD hunter2-but-longer", "DB_PASSWORD"),
    ],
)
def test_secrets_in_env_and_arg(make_repo: MakeRepo, line: str, name: str) -> None:
    root = make_repo({"Dockerfile": f"FROM python:3.12\n{line}\n"})
    findings = run("DK006", root)
    assert where(findings) == [("Dockerfile", 2)]
    assert findings[0].message.startswith(f"{line.split()[0]} {name} holds a literal secret ")
    assert findings[0].message.endswith(", stored in the image")
    assert HF_TOKEN not in findings[0].message and WANDB_KEY not in findings[0].message
    assert run("VC005", root) == []  # the same value, reported once


@pytest.mark.parametrize(
    "line",
    [
        "ARG HF_TOKEN",
        "ENV TOKENIZERS_PARALLELISM=false",
        "ENV MAX_TOKENS=4096",
        "ENV HF_TOKEN=$HF_TOKEN",
        "ENV HF_TOKEN=${HF_TOKEN:-}",
        'ENV WANDB_API_KEY="<your-key>"',
        "ENV HF_TOKEN_PATH=/run/secrets/hf_token",
        "ENV WANDB_API_KEY=",
        "ENV GITHUB_TOKEN=changeme",
    ],
)
def test_no_secrets_in_env_and_arg(make_repo: MakeRepo, line: str) -> None:
    assert run("DK006", make_repo({"Dockerfile": f"FROM python:3.12\n{line}\n"})) == []


def test_a_token_elsewhere_in_a_dockerfile_is_still_vc005s(make_repo: MakeRepo) -> None:
    root = make_repo({"Dockerfile": f"FROM python:3.12\nRUN huggingface-cli login --token {HF_TOKEN}\n"})
    assert run("DK006", root) == []
    assert where(run("VC005", root)) == [("Dockerfile", 2)]


# -- DK007 --------------------------------------------------------------------------------------------------------
TRAIN = "import torch\n\nfor x in loader:\n    loss.backward()\n    optimizer.step()\n"


def test_ships_container_image_is_for_training_projects() -> None:
    all_rules()
    assert REGISTRY["DK007"].training_only


@pytest.mark.parametrize(
    "files",
    [
        {"train.py": TRAIN},
        {"train.py": TRAIN, ".devcontainer/Dockerfile": "FROM python:3.12\n"},
        {"train.py": TRAIN, "tests/fixtures/Dockerfile": "FROM python:3.12\n"},
    ],
)
def test_training_project_without_an_image(make_repo: MakeRepo, files: dict[str, str]) -> None:
    findings = run("DK007", make_repo(files))
    assert [(f.path, f.line, f.message) for f in findings] == [
        (".", None, "no Dockerfile or Containerfile: the training environment cannot be rebuilt")
    ]


@pytest.mark.parametrize(
    "extra",
    [
        {"docker/Dockerfile": "FROM python:3.12\n"},
        {"Containerfile": "FROM python:3.12\n"},
        {"docker/train.Dockerfile": "FROM python:3.12\n"},
        {"apptainer/train.def": "Bootstrap: docker\nFrom: python:3.12\n"},
    ],
)
def test_training_project_with_an_image(make_repo: MakeRepo, extra: dict[str, str]) -> None:
    assert run("DK007", make_repo({"train.py": TRAIN, **extra})) == []


def test_libraries_are_not_asked_for_an_image(make_repo: MakeRepo) -> None:
    root = make_repo({"src/lib/core.py": "def f() -> int:\n    return 1\n"})
    report = audit(root)
    assert report.kind is ProjectKind.LIBRARY
    assert next(r for r in report.results if r.code == "DK007").status.value == "skip"


# -- boundaries (each test pins a behaviour a small slip in the rule would change) ---------------------------------
def test_dk001_a_hadolint_ignore_covers_its_own_instruction_only(make_repo: MakeRepo) -> None:
    dockerfile = "# hadolint ignore=DL3007\nFROM python:latest AS a\nFROM python:latest\n"
    findings = run("DK001", make_repo({"Dockerfile": dockerfile}))
    assert [(f.line, f.message) for f in findings] == [(3, "base image python:latest uses the floating tag `latest`")]


#: A Dockerfile that each rule skips for its own reason, sorted before the one it reports.
@pytest.mark.parametrize(
    ("code", "skipped", "reported"),
    [
        ("DK001", {"docs/Dockerfile": "FROM python\n"}, "FROM python\n"),
        ("DK002", {"docs/Dockerfile": "FROM python:3.12\nRUN pip install a\n"},
         "FROM python:3.12\nRUN pip install a\n"),
        ("DK003", {"a/Dockerfile": "RUN make\n"}, "FROM python:3.12\n"),  # no stage at all
        ("DK003", {"a/Dockerfile": "FROM python:3.12\n# hadolint ignore=DL3002\nUSER root\n"}, "FROM python:3.12\n"),
        ("DK003", {"a/Dockerfile": "FROM scratch\n"}, "FROM python:3.12\n"),
        ("DK003", {"a/Dockerfile": "FROM python:3.12\nARG U\nUSER $U\n"}, "FROM python:3.12\n"),
        ("DK004", {"a/Dockerfile": "RUN make\n"}, "FROM python:3.12\nCMD python train.py\n"),
        ("DK006", {"a/{{x}}/Dockerfile": f"FROM python:3.12\nENV HF_TOKEN={HF_TOKEN}\n"},
         f"FROM python:3.12\nENV HF_TOKEN={HF_TOKEN}\n"),
    ],
)  # fmt: skip
def test_a_skipped_dockerfile_does_not_end_the_check(
    make_repo: MakeRepo, code: str, skipped: dict[str, str], reported: str
) -> None:
    assert [f.path for f in run(code, make_repo({**skipped, "src/Dockerfile": reported}))] == ["src/Dockerfile"]


@pytest.mark.parametrize(
    ("run_line", "message"),
    [
        ('RUN ["sh", "-c", "pip install torch"]', f"{NO_CACHE}; unpinned packages: torch"),
        ("RUN pip install --no-cache-dir a b c d e", "unpinned packages: a, b, c, d, e"),
        ("RUN pip install --no-cache-dir a b c d e f", "unpinned packages: a, b, c, d, e and 1 more"),
        ("RUN pip install wheel -e .", NO_CACHE),  # an editable install is more than the installer's tools
        ("RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cu124 torch",
         "unpinned packages: torch"),
        ("RUN pip install --no-cache-dir --index-url=https://download.pytorch.org/whl/cu124 torch",
         "unpinned packages: torch"),  # an option's value given with `=` is no requirements file
        ("RUN TZ=UTC && pip install torch", f"{NO_CACHE}; unpinned packages: torch"),
        ("RUN pip -q install torch", f"{NO_CACHE}; unpinned packages: torch"),
        ("RUN pip --log /tmp/pip.log install torch", f"{NO_CACHE}; unpinned packages: torch"),
        ("RUN pip --version && pip install torch", f"{NO_CACHE}; unpinned packages: torch"),
        ("RUN apt-get -y -o Acquire::Retries=3 update", LISTS),
        ("RUN echo 'APT::Install-Recommends \"true\";' > /etc/apt/apt.conf.d/01\n"
         "RUN apt-get install -y git && rm -rf /var/lib/apt/lists/*",
         "apt-get install without --no-install-recommends"),
    ],
)  # fmt: skip
def test_dk002_more_problems(make_repo: MakeRepo, run_line: str, message: str) -> None:
    findings = run("DK002", make_repo({"Dockerfile": f"FROM python:3.12-slim\n{run_line}\nUSER app\n"}))
    assert [f.message for f in findings] == [message]


@pytest.mark.parametrize(
    "body",
    [
        "RUN pip install --no-cache-dir torch-2.4.1-cp312-cp312-linux_x86_64.whl",
        "RUN pip install -r requirements.txt setuptools",
        "RUN pip install --no-cache-dir --constraint=constraints.txt torch",
        "RUN pip --no-cache-dir install -r requirements.txt",
        "RUN uv tool install ruff",
        "RUN cat <<EOF > setup.sh\npip install torch\nEOF",  # a script written, not run
    ],
)
def test_dk002_more_lean_installs(make_repo: MakeRepo, body: str) -> None:
    assert run("DK002", make_repo({"Dockerfile": f"FROM python:3.12-slim\n{body}\n"})) == []


def test_dk002_apt_recommends_turned_off_in_the_stage_built_on(make_repo: MakeRepo) -> None:
    dockerfile = (
        "FROM python:3.12 AS base\nRUN echo 'APT::Install-Recommends \"false\";' > /etc/apt/apt.conf.d/00\n"
        "FROM base\nRUN apt-get update && apt-get install -y git && rm -rf /var/lib/apt/lists/*\n"
    )
    assert run("DK002", make_repo({"Dockerfile": dockerfile})) == []


def test_dk002_a_stage_only_built_on_by_a_builder_leaves_its_layers_behind(make_repo: MakeRepo) -> None:
    dockerfile = (
        "FROM python:3.12 AS base\nRUN apt-get update && apt-get install -y gcc\nFROM base AS build\nRUN make\n"
        "FROM python:3.12-slim\nCOPY --from=build /venv /venv\n"
    )
    assert run("DK002", make_repo({"Dockerfile": dockerfile})) == []


@pytest.mark.parametrize(
    ("others", "listed"),
    [
        ("RUN pip install --no-cache-dir a b c\nRUN pip install --no-cache-dir d e\n",
         "lines 3, 4 (unpinned packages: a, b, c, d, e)"),
        ("RUN pip install --no-cache-dir a b c\nRUN pip install --no-cache-dir d e f\n",
         "lines 3, 4 (unpinned packages: a, b, c, d, e and 1 more)"),
    ],
)  # fmt: skip
def test_dk002_the_other_runs_named(make_repo: MakeRepo, others: str, listed: str) -> None:
    dockerfile = f"FROM python:3.12-slim\nRUN apt-get update\n{others}"
    [finding] = run("DK002", make_repo({"Dockerfile": dockerfile}))
    assert finding.message == f"{LISTS}; also {listed}"


def test_dk002_a_suppression_for_another_rule_does_not_split_the_finding(make_repo: MakeRepo) -> None:
    dockerfile = "FROM python:3.12-slim\n# fsdl: ignore[DK003] why\nRUN pip install a\nRUN pip install b\n"
    findings = run("DK002", make_repo({"Dockerfile": dockerfile}))
    assert [f.line for f in findings] == [3]


@pytest.mark.parametrize(
    ("dockerfile", "line"),
    [
        ("FROM python:3.12\nRUN apt-get update && useradd -m -G sudo app\n"
         "RUN echo '%sudo ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers\nUSER app\n", 3),
        ("FROM python:3.12\nRUN useradd --groups=sudo --create-home app\n"
         "RUN echo '%sudo ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers\nUSER app\n", 3),
    ],
)  # fmt: skip
def test_dk003_a_user_added_to_a_sudo_group(make_repo: MakeRepo, dockerfile: str, line: int) -> None:
    findings = run("DK003", make_repo({"Dockerfile": dockerfile}))
    assert [f.message for f in findings] == [
        f"USER app has passwordless sudo (NOPASSWD, line {line}): root in all but name"
    ]


@pytest.mark.parametrize(
    "dockerfile",
    [
        "FROM python:3.12\nRUN useradd -m app && echo '%wheel ALL=(ALL) NOPASSWD: ALL' >> /etc/sudoers\nUSER app\n",
        "FROM python:3.12\nRUN useradd -m -G sudo admin && useradd -m app\n"
        "RUN echo '%sudo ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers\nUSER app\n",  # another user is in the group
    ],
)
def test_dk003_a_group_grant_the_user_is_not_in(make_repo: MakeRepo, dockerfile: str) -> None:
    assert run("DK003", make_repo({"Dockerfile": dockerfile})) == []


@pytest.mark.parametrize(
    ("command", "shown"),
    [("python train.py --config " + "x" * 35, "python train.py --config " + "x" * 35),
     ("python train.py --config " + "x" * 36, "python train.py --config " + "x" * 32 + "...")],
)  # fmt: skip
def test_dk004_a_long_command_is_shortened_past_60_characters(make_repo: MakeRepo, command: str, shown: str) -> None:
    findings = run("DK004", make_repo({"Dockerfile": f"FROM python:3.12\nCMD {command}\n"}))
    assert [f.message for f in findings] == [
        f"CMD in shell form: PID 1 is /bin/sh, which does not pass SIGTERM on to `{shown}`"
    ]


@pytest.mark.parametrize(
    "dockerfile",
    [
        "FROM python:3.12 AS build\nFROM python:3.12-slim\nCOPY --from=build . /app\n",  # another stage's root
        "FROM python:3.12\nCOPY src /src\nRUN cp -r . /app\n",
    ],
)
def test_dk005_only_copying_the_build_context_counts(make_repo: MakeRepo, dockerfile: str) -> None:
    assert run("DK005", make_repo({"Dockerfile": dockerfile})) == []


def test_dk005_names_the_first_dockerfile_and_its_line_and_counts_the_others(make_repo: MakeRepo) -> None:
    later = "FROM python:3.12\nUSER app\nCOPY . /app\n"
    files = {"a/Dockerfile": COPIES_ALL, "b/Dockerfile": later, "c/Dockerfile": later}
    assert [f.message for f in run("DK005", make_repo(files))] == [
        "no .dockerignore: a/Dockerfile copies the whole build context into the image (line 2); "
        "so do 2 more Dockerfiles"
    ]
    files = {"a/Dockerfile": later, "b/Dockerfile": COPIES_ALL}
    assert [f.message for f in run("DK005", make_repo(files))] == [
        "no .dockerignore: a/Dockerfile copies the whole build context into the image (line 3); "
        "so does 1 more Dockerfile"
    ]


def test_dk005_tracker_output_outside_a_subdirectory_context_is_not_asked_for(make_repo: MakeRepo) -> None:
    files = {"docker/Dockerfile": COPIES_ALL, "docker/.dockerignore": "*.tmp\n", "src/pkg/t.py": "import mlflow\n"}
    assert run("DK005", make_repo(files)) == []


def test_dk005_tracker_output_inside_a_subdirectory_context(make_repo: MakeRepo) -> None:
    # wandb's default wandb/ lies outside the context z/ (and sorts before z/mlstore): only the store inside counts
    track = "import mlflow\nimport wandb\nmlflow.set_tracking_uri('file:./z/mlstore')\n"
    files = {"z/Dockerfile": COPIES_ALL, "z/.dockerignore": "*.tmp\n", "src/pkg/t.py": track}
    assert [f.message for f in run("DK005", make_repo(files))] == ["the build context takes in mlstore/"]


DK007 = [(".", None, "no Dockerfile or Containerfile: the training environment cannot be rebuilt")]
BOOTSTRAP = "Bootstrap: docker\nFrom: python:3.12\n"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"tests/fixtures/train.def": BOOTSTRAP}, DK007),
        ({"docs/example.def": BOOTSTRAP, "src/train.def": BOOTSTRAP}, []),
        ({"configs/model.def": "layers: 4\n"}, DK007),  # a .def that is no Apptainer definition
        ({"train.def": "#" * 4085 + "\n" + BOOTSTRAP}, []),  # the header within the first 4 KiB
        ({"train.def": "#" * 4086 + "\n" + BOOTSTRAP}, DK007),  # read no further
    ],
)
def test_dk007_apptainer_definitions(make_repo: MakeRepo, extra: dict[str, str], expected: list[object]) -> None:
    findings = run("DK007", make_repo({"train.py": TRAIN, **extra}))
    assert [(f.path, f.line, f.message) for f in findings] == expected


def test_dk002_reads_a_run_script_up_to_its_50000th_character(make_repo: MakeRepo) -> None:
    # the analysis reads at most MAX_SCRIPT characters: a name cut there is read as far as the cut
    prefix = "pip install --no-cache-dir "
    script = prefix + "p" * (50_000 - len(prefix)) + "q"
    findings = run("DK002", make_repo({"Dockerfile": f"FROM python:3.11-slim@sha256:{'0' * 64}\nRUN {script}\n"}))
    assert [f.message for f in findings] == ["unpinned packages: " + "p" * (50_000 - len(prefix))]
