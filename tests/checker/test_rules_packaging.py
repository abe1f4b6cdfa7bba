"""PK rules: each fires, at the right place, on a small bad repository and stays quiet on good ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fsdl_check.model import Finding, ProjectKind, Severity
from fsdl_check.testing import run_rule as run

MakeRepo = Callable[..., Path]

BUILD = '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
PROJECT = '[project]\nname = "trainer"\nversion = "0.1"\nrequires-python = ">=3.11"\n'


def where(findings: list[Finding]) -> list[tuple[str, int | None]]:
    return [(f.path, f.line) for f in findings]


# -- PK001 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("files", "expected", "words"),
    [
        ({"README.md": "x"}, [("pyproject.toml", None)], "no pyproject.toml"),
        ({"pyproject.toml": '[tool.poetry]\nname = "x"\n\n' + BUILD}, [("pyproject.toml", 1)], "Poetry"),
        ({"pyproject.toml": BUILD + '[project]\nversion = "1"\n'}, [("pyproject.toml", 4)], "no name"),
        ({"pyproject.toml": BUILD + "[project]\nname = 3\n"}, [("pyproject.toml", 4)], "no name"),
        ({"pyproject.toml": PROJECT}, [("pyproject.toml", None)], "[build-system]"),
        ({"pyproject.toml": 'project = "x"\n' + BUILD}, [("pyproject.toml", None)], "no [project]"),
        ({"pyproject.toml": "[project\nname = 1\n"}, [("pyproject.toml", 1)], "does not parse"),
    ],
)
def test_pk001_fires(
    make_repo: MakeRepo, files: dict[str, str], expected: list[tuple[str, int | None]], words: str
) -> None:
    findings = run("PK001", make_repo(files))
    assert where(findings) == expected
    assert words in findings[0].message


def test_pk001_poetry_metadata_written_only_as_subtables_is_reported_at_the_first(make_repo: MakeRepo) -> None:
    pyproject = (
        BUILD + '[tool.poetry.dependencies]\ntorch = "^2"\n\n[tool.poetry.group.dev.dependencies]\npytest = "^8"\n'
    )
    findings = run("PK001", make_repo({"pyproject.toml": pyproject}))
    assert where(findings) == [("pyproject.toml", 4)]
    assert "Poetry's [tool.poetry]" in findings[0].message


def test_pk001_passes_with_project_and_build_system(make_repo: MakeRepo) -> None:
    assert run("PK001", make_repo({"pyproject.toml": BUILD + PROJECT})) == []


def test_pk001_setup_py_that_packages_passes_detectron2(make_repo: MakeRepo) -> None:
    setup = "from setuptools import setup, find_packages\n\nsetup(name='detectron2', packages=find_packages())\n"
    assert run("PK001", make_repo({"setup.py": setup, "pyproject.toml": "[tool.black]\nline-length = 100\n"})) == []


def test_pk001_tool_config_only_pyproject_is_one_finding_made_with_ml(make_repo: MakeRepo) -> None:
    findings = run("PK001", make_repo({"pyproject.toml": "[tool.ruff]\nline-length = 150\n"}))
    assert [f.message for f in findings] == [
        "pyproject.toml holds only tool configuration: no [project] table (PEP 621) and no [build-system]"
    ]


def test_pk001_is_a_warning_not_an_error_on_scripts_nanogpt(make_repo: MakeRepo) -> None:
    root = make_repo({"train.py": "print('train')\n"})
    [script] = run("PK001", root, project_kind=ProjectKind.TRAINING)
    assert script.severity is Severity.WARNING
    [library] = run("PK001", root, project_kind=ProjectKind.LIBRARY)
    assert library.severity is Severity.ERROR


# -- PK002 --------------------------------------------------------------------------------------------------------
DEPS = PROJECT + 'dependencies = [\n  "torch>=2.1",\n  "numpy",\n]\n' + BUILD  # "torch>=2.1" on line 6, numpy 7


@pytest.mark.parametrize(
    ("files", "expected", "words"),
    [
        # a different specifier: at the requirement in the second file
        ({"requirements.txt": "numpy\ntorch>=2.0\n"}, [("requirements.txt", 2)], "'torch>=2.0' here but 'torch>=2.1'"),
        # a package only in the second source
        ({"requirements.txt": "torch>=2.1\nnumpy\nrich\n"}, [("requirements.txt", 3)], "'rich' is not in"),
        # a package missing from the second source: at its start
        ({"requirements.txt": "torch>=2.1\n"}, [("requirements.txt", 1)], "'numpy' from pyproject.toml"),
        (
            {
                "setup.py": 'from setuptools import setup\nsetup(\n    install_requires=[\n        "torch>=2.1",\n'
                '        "numpy",\n        "pandas",\n    ],\n)\n'
            },
            [("setup.py", 6)],
            "'pandas'",
        ),
        (
            {
                "setup.py": 'from setuptools import setup\nREQS = ["torch>=2.1", "numpy", "scipy"]\n'
                "setup(install_requires=REQS)\n"
            },
            [("setup.py", 2)],
            "'scipy'",
        ),
        (
            {
                "setup.cfg": "[metadata]\nname = trainer\n\n[options]\ninstall_requires =\n    torch>=2.1\n"
                "    numpy\n    pandas\n"
            },
            [("setup.cfg", 8)],
            "'pandas'",
        ),
    ],
)
def test_pk002_fires_on_a_disagreeing_second_source(
    make_repo: MakeRepo, files: dict[str, str], expected: list[tuple[str, int | None]], words: str
) -> None:
    findings = run("PK002", make_repo({"pyproject.toml": DEPS, **files}))
    assert where(findings) == expected
    assert words in findings[0].message


def test_pk002_compares_poetry_names(make_repo: MakeRepo) -> None:
    pyproject = '[tool.poetry.dependencies]\npython = "^3.11"\ntorch = "^2.1"\n'
    root = make_repo({"pyproject.toml": pyproject, "requirements.txt": "torch>=2.1,<3\nlightning\n"})
    assert where(run("PK002", root)) == [("requirements.txt", 2)]


@pytest.mark.parametrize(
    "files",
    [
        # the same set, written differently (spacing, order of clauses)
        {"pyproject.toml": DEPS, "requirements.txt": "numpy\ntorch >= 2.1\n"},
        # a fully pinned file is a lock compiled from pyproject, not a second declaration
        {"pyproject.toml": DEPS, "requirements.txt": "torch==2.3.1\nnumpy==1.26.4\nfilelock==3.13.1\n"},
        # dev requirements are not the runtime set
        {"pyproject.toml": DEPS, "requirements-dev.txt": "pytest\nruff\n"},
        # pyproject reads its dependencies from requirements.txt: one source
        {
            "pyproject.toml": BUILD + '[project]\nname = "t"\ndynamic = ["dependencies"]\n',
            "requirements.txt": "torch\n",
        },
        # setup.py computes install_requires (from the requirements file): one literal source
        {
            "setup.py": "from setuptools import setup\nsetup(install_requires=open('r.txt').read().split())\n",
            "requirements.txt": "torch\n",
        },
        # odd types are treated as absent
        {"pyproject.toml": PROJECT + 'dependencies = "torch"\n', "requirements.txt": "torch\nnumpy\n"},
        {"pyproject.toml": DEPS},
        # PEP 440 pads versions with zeros: >=2.1 and >=2.1.0 are one requirement
        {"pyproject.toml": DEPS, "requirements.txt": "numpy\ntorch>=2.1.0\n"},
        # the README installs what a requirements file declares
        {"README.md": "```\npip install -r requirements.txt\n```\n", "requirements.txt": "torch\n"},
        # prose, an editable install, a conda environment
        {"README.md": "You can pip install this package from source.\n"},
        {"README.md": "```bash\npip install -e .\npip install -U pip\n```\n"},
        {"README.md": "```\npip install torch\n```\n", "environment.yml": "dependencies: [pytorch]\n"},
    ],
)
def test_pk002_passes(make_repo: MakeRepo, files: dict[str, str]) -> None:
    assert run("PK002", make_repo(files)) == []


def test_pk002_dependencies_named_only_in_the_readme(make_repo: MakeRepo) -> None:
    # nanoGPT: no requirements file, no pyproject; the README's install block is the only list
    readme = "# nanoGPT\n\n## install\n\n```\npip install torch numpy transformers datasets tiktoken wandb tqdm\n```\n"
    findings = run("PK002", make_repo({"README.md": readme, "train.py": "import torch\n"}))
    assert where(findings) == [("README.md", 6)]
    assert "named only in README.md (`pip install torch numpy transformers datasets tiktoken wandb ...`)" in (
        findings[0].message
    )


def test_pk002_names_the_difference_not_a_zero_padding(make_repo: MakeRepo) -> None:
    findings = run("PK002", make_repo({"pyproject.toml": DEPS, "requirements.txt": "numpy\ntorch>=2.1.0,<3\n"}))
    assert len(findings) == 1
    assert "'torch>=2.1.0,<3' here" in findings[0].message


# -- PK003 --------------------------------------------------------------------------------------------------------
def test_pk003_points_at_the_first_unpinned_requirement(make_repo: MakeRepo) -> None:
    root = make_repo({"pyproject.toml": DEPS, "requirements.txt": "# runtime\ntorch==2.3.1\nnumpy>=1.26\n"})
    findings = run("PK003", root)
    assert where(findings) == [("requirements.txt", 3)]
    assert "'numpy>=1.26' is not pinned" in findings[0].message


def test_pk003_without_lock_or_requirements(make_repo: MakeRepo) -> None:
    assert where(run("PK003", make_repo({"pyproject.toml": DEPS}))) == [("pyproject.toml", None)]


@pytest.mark.parametrize(
    "lock",
    ["uv.lock", "poetry.lock", "pdm.lock", "pylock.toml", "pylock.gpu.toml", "Pipfile.lock", "env.conda-lock.yml"],
)
def test_pk003_passes_with_a_lock_file(make_repo: MakeRepo, lock: str) -> None:
    assert run("PK003", make_repo({"pyproject.toml": DEPS, lock: "# lock\n"})) == []


def test_pk003_passes_with_fully_pinned_requirements(make_repo: MakeRepo) -> None:
    root = make_repo(
        {"pyproject.toml": DEPS, "requirements.txt": "torch==2.3.1 \\\n    --hash=sha256:abc\nnumpy==1.26.4\n"}
    )
    assert run("PK003", root) == []


def test_pk003_unpinned_requirements_txt_not_hidden_by_a_pinned_extra_file(make_repo: MakeRepo) -> None:
    files = {"requirements.txt": "torch>=2.0\n", "requirements-docs-extra.txt": "sphinx==7.2.6\n", "x.py": ""}
    files["requirements/base.txt"] = "numpy==1.26.4\n"
    assert where(run("PK003", make_repo(files))) == [("requirements.txt", 1)]


def test_pk003_empty_uv_lock_does_not_pass(make_repo: MakeRepo) -> None:
    assert where(run("PK003", make_repo({"pyproject.toml": DEPS, "uv.lock": "\n"}))) == [("pyproject.toml", None)]


def test_pk003_pip_tools_input_beside_its_compiled_file_and_extras_pins_fsdl_text_recognizer(
    make_repo: MakeRepo,
) -> None:
    files = {
        "requirements/prod.in": "torch\nmarkdown-it-py[linkify]\n",
        "requirements/prod.txt": "torch==2.0.1\nmarkdown-it-py[linkify,plugins]==2.1.0\n",
    }
    assert run("PK003", make_repo(files)) == []


# -- PK004 --------------------------------------------------------------------------------------------------------
def test_pk004_flags_test_tools_among_runtime_dependencies(make_repo: MakeRepo) -> None:
    pyproject = PROJECT + 'dependencies = [\n  "torch",\n  "pytest>=8",\n]\n[dependency-groups]\ndev = ["ruff"]\n'
    findings = run("PK004", make_repo({"pyproject.toml": pyproject}))
    assert where(findings) == [("pyproject.toml", 7)]
    assert "'pytest'" in findings[0].message


def test_pk004_a_dev_tool_not_found_as_written_is_reported_at_the_dependencies_key(make_repo: MakeRepo) -> None:
    # written with escaped quotes, the requirement is not found in the array's text; the same requirement in a later
    # table is not the runtime one
    pyproject = PROJECT + 'dependencies = ["pytest; python_version < \\"3.13\\""]\n'
    pyproject += "[dependency-groups]\ntest = ['pytest; python_version < \"3.13\"']\n"
    findings = run("PK004", make_repo({"pyproject.toml": pyproject}))
    assert where(findings) == [("pyproject.toml", 5)]
    assert "'pytest' is a runtime dependency" in findings[0].message


@pytest.mark.parametrize(
    "pyproject",
    [PROJECT + 'dependencies = ["torch"]\n', PROJECT + "dependency-groups = 3\n"],
)
def test_pk004_flags_missing_separation(make_repo: MakeRepo, pyproject: str) -> None:
    findings = run("PK004", make_repo({"pyproject.toml": pyproject}))
    assert where(findings) == [("pyproject.toml", 1)]
    assert "no dev/test dependency group" in findings[0].message


@pytest.mark.parametrize(
    "files",
    [
        {"pyproject.toml": PROJECT + '[dependency-groups]\ntest = ["pytest"]\n'},
        {"pyproject.toml": PROJECT + '[project.optional-dependencies]\ndev = ["ruff", "mypy"]\n'},
        {"pyproject.toml": PROJECT + '[tool.poetry.group.dev.dependencies]\npytest = "^8"\n'},
        {"pyproject.toml": PROJECT, "requirements-dev.txt": "pytest\n"},
        {"pyproject.toml": PROJECT, "requirements/test.txt": "pytest\n"},
        # a pytest plugin needs pytest at run time
        {
            "pyproject.toml": '[project]\nname = "pytest-gpu"\ndependencies = ["pytest>=8"]\n'
            '[dependency-groups]\ndev = ["ruff"]\n'
        },
    ],
)
def test_pk004_passes(make_repo: MakeRepo, files: dict[str, str]) -> None:
    assert run("PK004", make_repo(files)) == []


# -- PK005 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "words"),
    [
        ('"<4"', "no lower bound"),  # and a cap: two findings on the line
        ('"<4"', "caps the version with '<4'"),
        ('">=3.10,<3.13"', "caps the version with '<3.13'"),
        ('"~=3.11"', "'~=3.11' (which means <4)"),
        ('"==3.11.*"', "caps the version with '==3.11.*'"),
        ("3.11", "not a version specifier string"),
        ('"3.11"', "not a valid specifier"),
    ],
)
def test_pk005_fires_at_requires_python(make_repo: MakeRepo, value: str, words: str) -> None:
    pyproject = f'[project]\nname = "t"\nrequires-python = {value}\n'
    findings = run("PK005", make_repo({"pyproject.toml": pyproject}))
    assert set(where(findings)) == {("pyproject.toml", 3)}
    assert any(words in f.message for f in findings)


def test_pk005_fires_at_project_when_missing(make_repo: MakeRepo) -> None:
    findings = run("PK005", make_repo({"pyproject.toml": BUILD + '[project]\nname = "t"\n'}))
    assert where(findings) == [("pyproject.toml", 4)]


@pytest.mark.parametrize("value", [">=3.11", ">= 3.10, != 3.10.1", ">3.9"])
def test_pk005_passes_with_a_floor(make_repo: MakeRepo, value: str) -> None:
    pyproject = f'[project]\nname = "t"\nrequires-python = "{value}"\n'
    assert run("PK005", make_repo({"pyproject.toml": pyproject})) == []


# -- PK006 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("deps", "expected", "words"),
    [
        ("  - python=3.11\n  - pytorch\n  - pytorch-cuda=12.1\n", 5, "'pytorch' has no version"),
        ("  - python=3.11\n  - pytorch=2.3\n", 3, "CUDA build"),
        ("  - pytorch=2.3\n  - cpuonly\n", 3, "does not list python"),
        ("  - python\n  - pytorch::pytorch=2.3\n  - cpuonly\n", 4, "'python' has no version"),
        ("  - python=3.11\n  - pytorch=2.3\n  - cudatoolkit\n", 6, "'cudatoolkit' has no version"),
        ("  - python=3.11\n  - pip\n  - pip:\n    - torch\n", 7, "'torch' has no version"),
    ],
)
def test_pk006_fires(make_repo: MakeRepo, deps: str, expected: int, words: str) -> None:
    root = make_repo({"environment.yml": "name: train\nchannels: [pytorch, nvidia]\ndependencies:\n" + deps})
    findings = run("PK006", root)
    assert where(findings) == [("environment.yml", expected)]
    assert words in findings[0].message


def test_pk006_odd_dependencies_value(make_repo: MakeRepo) -> None:
    assert where(run("PK006", make_repo({"conda.yml": "name: x\ndependencies: 3\n"}))) == [("conda.yml", 2)]


@pytest.mark.parametrize(
    "files",
    [
        {"environment.yml": "dependencies:\n  - python=3.11\n  - pytorch=2.3.1\n  - pytorch-cuda=12.1\n"},
        {"environment.yaml": "dependencies:\n  - python=3.11\n  - pytorch==2.3.1\n  - cpuonly\n"},
        {"environment.yml": "dependencies:\n  - python=3.11\n  - pip:\n    - torch==2.3.0+cu121\n"},
        # PyPI has one build of torch 2.3.0 per platform: the version pins it
        {"environment.yml": "dependencies:\n  - python=3.11\n  - pip:\n    - torch==2.3.0\n"},
        # conda-lock platforms with macOS: there is no CUDA build to pin there
        {"environment.yml": "platforms: [linux-64, osx-arm64]\ndependencies:\n  - python=3.11\n  - pytorch=2.5\n"},
        {"environment.yml": "dependencies:\n  - python=3.12\n  - numpy\n"},  # not a PyTorch environment
        {"pyproject.toml": PROJECT},  # no conda environment at all
        {"environment.yml": "- not a mapping\n"},
    ],
)
def test_pk006_passes(make_repo: MakeRepo, files: dict[str, str]) -> None:
    assert run("PK006", make_repo(files)) == []


# -- PK007 --------------------------------------------------------------------------------------------------------
UV_LOCK_LOCAL_REGISTRY = """version = 1
requires-python = ">=3.11"

[[package]]
name = "fsdl-check"
version = "0.1.0"
source = { registry = "/home/me/wheels" }
wheels = [{ path = "/home/me/wheels/fsdl_check-0.1.0-py3-none-any.whl" }]

[[package]]
name = "rich"
version = "14.0.0"
source = { registry = "/home/me/wheels" }

[[package]]
name = "torch"
version = "2.13.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "demo"
version = "0.1.0"
source = { editable = "." }
"""


def test_pk007_reports_a_machine_local_registry_once_in_a_uv_lock(make_repo: MakeRepo) -> None:
    findings = run("PK007", make_repo({"pyproject.toml": DEPS, "uv.lock": UV_LOCK_LOCAL_REGISTRY}))
    assert where(findings) == [("uv.lock", 7)]
    # The registry and the wheel path under it are one fact: one finding, at the registry's first line.
    assert "'/home/me/wheels' is a location on one machine (3 entries)" in findings[0].message


@pytest.mark.parametrize(
    ("name", "text", "line", "location"),
    [
        ("requirements.txt", "numpy==2.1.0\n-e /home/me/src/mylib\n", 2, "/home/me/src/mylib"),
        ("requirements.txt", "--find-links /opt/wheels\ntorch==2.3.0\n", 1, "/opt/wheels"),
        ("requirements/base.txt", "mylib @ file:///tmp/mylib-1.0.whl\n", 1, "file:///tmp/mylib-1.0.whl"),
        ("requirements-dev.txt", "--extra-index-url=file:///srv/pypi/simple\n", 1, "file:///srv/pypi/simple"),
        ("requirements.txt", "../sibling/dist/sibling-1.0.tar.gz\n", 1, "../sibling/dist/sibling-1.0.tar.gz"),
        ("poetry.lock", '[package.source]\ntype = "directory"\nurl = "../shared-lib"\n', 3, "../shared-lib"),
        ("Pipfile.lock", '{"default": {"mylib": {"path": "/Users/me/mylib"}}}\n', 1, "/Users/me/mylib"),
        ("pdm.lock", '[[package]]\nname = "x"\nurl = "file:///C:/wheels/x.whl"\n', 3, "file:///C:/wheels/x.whl"),
    ],
)
def test_pk007_fires_on_local_sources(make_repo: MakeRepo, name: str, text: str, line: int, location: str) -> None:
    findings = run("PK007", make_repo({name: text}))
    assert where(findings) == [(name, line)]
    assert f"'{location}' is a location on one machine" in findings[0].message


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "uv.lock",
            '[[package]]\nname = "demo"\nsource = { editable = "." }\n[[package]]\nname = "lib"\n'
            'source = { directory = "packages/lib" }\n[[package]]\nname = "rich"\n'
            'source = { registry = "https://pypi.org/simple" }\n',
        ),
        ("requirements.txt", "torch==2.3.0\n-e .\n./packages/lib\nmylib @ git+https://github.com/o/mylib@v1\n"),
        ("requirements.txt", "# built with --find-links /opt/wheels\nnumpy==2.1.0  # see https://numpy.org\n"),
        ("requirements.txt", "--extra-index-url https://download.pytorch.org/whl/cpu\ntorch==2.3.0\n"),
    ],
)
def test_pk007_passes_on_sources_anyone_can_reach(make_repo: MakeRepo, name: str, text: str) -> None:
    assert run("PK007", make_repo({name: text})) == []


# -- boundaries found by mutation testing -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pyproject_dep", "requirement"),
    [("torch[ab]>=2.1", "torch[cb]>=2.1"), ("torch[cuda]>=2.1", "torch[cuda]<=2.1")],
)
def test_pk002_extras_and_versions_after_extras_are_compared_whole(
    make_repo: MakeRepo, pyproject_dep: str, requirement: str
) -> None:
    pyproject = PROJECT + f'dependencies = ["{pyproject_dep}"]\n' + BUILD
    findings = run("PK002", make_repo({"pyproject.toml": pyproject, "requirements.txt": requirement + "\n"}))
    assert where(findings) == [("requirements.txt", 1)]
    assert f"'{requirement}' here but '{pyproject_dep}'" in findings[0].message


def test_pk002_compatible_release_clauses_written_alike_agree(make_repo: MakeRepo) -> None:
    pyproject = PROJECT + 'dependencies = ["torch~=2.1"]\n' + BUILD
    assert run("PK002", make_repo({"pyproject.toml": pyproject, "requirements.txt": "torch ~= 2.1\n"})) == []


def test_pk002_an_unclosed_extras_bracket_is_compared_as_written(make_repo: MakeRepo) -> None:
    setup = 'from setuptools import setup\nsetup(install_requires=["torch[cuda", "numpy"])\n'
    findings = run("PK002", make_repo({"pyproject.toml": DEPS, "setup.py": setup}))
    assert where(findings) == [("setup.py", 2)]
    assert "'torch[cuda' here but 'torch>=2.1'" in findings[0].message


def test_pk002_setup_py_requirements_bound_to_a_name_among_other_assignments(make_repo: MakeRepo) -> None:
    setup = (
        'from setuptools import setup\nREQS = ["torch>=2.1", "numpy", "scipy"]\nVERSION = "1.0"\n'
        'setup(name="t", version=VERSION, install_requires=REQS)\n'
    )
    findings = run("PK002", make_repo({"pyproject.toml": DEPS, "setup.py": setup}))
    assert where(findings) == [("setup.py", 2)]
    assert "'scipy' is not in" in findings[0].message


def test_pk002_setup_py_requirements_with_a_computed_item_are_one_source(make_repo: MakeRepo) -> None:
    setup = 'from setuptools import setup\nEXTRA = "rich"\nsetup(install_requires=["torch>=2.1", EXTRA])\n'
    assert run("PK002", make_repo({"pyproject.toml": DEPS, "setup.py": setup})) == []


def test_pk002_setup_cfg_missing_a_dependency_is_reported_at_install_requires(make_repo: MakeRepo) -> None:
    setup_cfg = "[options]\ninstall_requires =\n    torch>=2.1\n"
    findings = run("PK002", make_repo({"pyproject.toml": DEPS, "setup.cfg": setup_cfg}))
    assert where(findings) == [("setup.cfg", 2)]
    assert "'numpy' from pyproject.toml [project].dependencies is missing here" in findings[0].message


def test_pk002_dev_requirements_sorted_first_do_not_hide_requirements_txt(make_repo: MakeRepo) -> None:
    files = {
        "pyproject.toml": DEPS,
        "requirements-dev.txt": "pytest\n",
        "requirements.txt": "torch>=2.1\nnumpy\nrich\n",
    }
    assert where(run("PK002", make_repo(files))) == [("requirements.txt", 3)]


def test_pk002_the_first_difference_by_line_and_the_count_of_the_others(make_repo: MakeRepo) -> None:
    files = {"pyproject.toml": DEPS, "requirements.txt": "torch>=2.1\nnumpy\nzzz\naaa\n"}
    assert [(f.line, f.message) for f in run("PK002", make_repo(files))] == [
        (
            3,
            "dependencies declared again and they disagree: 'zzz' is not in pyproject.toml [project].dependencies "
            "(and 1 more differences)",
        )
    ]
    one = run("PK002", make_repo({"pyproject.toml": DEPS, "requirements.txt": "torch>=2.1\nnumpy\nrich\n"}))
    assert one[0].message.endswith("'rich' is not in pyproject.toml [project].dependencies")


@pytest.mark.parametrize(
    ("readme", "line", "listed"),
    [
        ("Install:\n\n    pip install torch\n", 3, "torch"),  # README.rst alone
        ("```\nsudo pip install torch\n```\n", 2, "torch"),  # inside a fence, any command
        ("```\npip install -c constraints.txt torch numpy\n```\n", 2, "torch numpy"),
        ("```\npip install --upgrade torch https://example.org/x.whl\n```\n", 2, "torch"),
        ("```\npip install a b c d e f\n```\n", 2, "a b c d e f"),  # six names: no ellipsis
    ],
)
def test_pk002_readme_install_lines(make_repo: MakeRepo, readme: str, line: int, listed: str) -> None:
    name = "README.rst" if readme.startswith("Install") else "README.md"
    findings = run("PK002", make_repo({name: readme}))
    assert where(findings) == [(name, line)]
    assert f"(`pip install {listed}`)" in findings[0].message


def test_pk003_an_input_file_without_its_compiled_file_is_unpinned(make_repo: MakeRepo) -> None:
    assert where(run("PK003", make_repo({"requirements.in": "torch\n"}))) == [("requirements.in", 1)]


def test_pk003_a_pinned_runtime_file_locks_whatever_dev_files_say(make_repo: MakeRepo) -> None:
    files = {"requirements.txt": "torch==2.3.1\n", "requirements-dev.txt": "pytest\n"}
    assert run("PK003", make_repo(files)) == []


def test_pk003_the_runtime_file_is_reported_before_a_dev_file(make_repo: MakeRepo) -> None:
    files = {"requirements.txt": "torch>=2\n", "requirements-dev.txt": "pytest\n"}
    assert where(run("PK003", make_repo(files))) == [("requirements.txt", 1)]


def test_pk003_pinned_docs_requirements_lock_nothing(make_repo: MakeRepo) -> None:
    files = {
        "requirements-docs.txt": "sphinx==7.2.6\n",
        "requirements-ci.txt": "# none\n",
        "requirements-dev.txt": "pytest\n",
    }
    assert where(run("PK003", make_repo(files))) == [("requirements-dev.txt", 1)]


@pytest.mark.parametrize(
    "groups",
    [
        '[dependency-groups]\ngpu = ["torch"]\n',
        "[tool.poetry.group.dev]\noptional = true\n",
        '[tool.hatch.envs.default]\ntype = "virtual"\n',
    ],
)
def test_pk004_groups_without_dev_tools_do_not_separate(make_repo: MakeRepo, groups: str) -> None:
    findings = run("PK004", make_repo({"pyproject.toml": PROJECT + groups}))
    assert [f.message for f in findings] == ["no dev/test dependency group ([dependency-groups] or an extra)"]


@pytest.mark.parametrize(
    "groups",
    [
        '[dependency-groups]\nlint = ["mylinter"]\n',
        '[dependency-groups]\nextras = ["pytest"]\n',
        '[tool.hatch.envs.test]\ndependencies = ["pytest"]\n',
        '[tool.poetry.dev-dependencies]\npytest = "^8"\n',
    ],
)
def test_pk004_a_dev_named_group_or_a_group_of_dev_tools_separates(make_repo: MakeRepo, groups: str) -> None:
    assert run("PK004", make_repo({"pyproject.toml": PROJECT + groups})) == []


def test_pk004_a_plugins_host_tool_does_not_excuse_other_dev_tools(make_repo: MakeRepo) -> None:
    pyproject = (
        '[project]\nname = "pytest-gpu"\ndependencies = ["pytest>=8", "ruff"]\n[dependency-groups]\ndev = ["mypy"]\n'
    )
    findings = run("PK004", make_repo({"pyproject.toml": pyproject}))
    assert [(f.line, f.message) for f in findings] == [(3, "'ruff' is a runtime dependency; move it to a dev group")]


def test_pk005_an_exact_pin_gets_no_compatible_release_hint(make_repo: MakeRepo) -> None:
    findings = run("PK005", make_repo({"pyproject.toml": '[project]\nname = "t"\nrequires-python = "==3.11"\n'}))
    assert [f.message for f in findings] == ["requires-python caps the version with '==3.11'; drop the upper bound"]


def test_pk007_each_location_once_with_its_own_count(make_repo: MakeRepo) -> None:
    text = "# local wheels\n--find-links //host/wheels\n-e /home/me/a\n-f /opt/b\n--find-links /opt/b\n"
    findings = run("PK007", make_repo({"requirements.txt": text}))
    assert [(f.line, f.message.split(":")[0]) for f in findings] == [
        (3, "'/home/me/a' is a location on one machine"),
        (4, "'/opt/b' is a location on one machine (2 entries)"),
    ]


def test_pk006_only_conda_files_and_each_of_them(make_repo: MakeRepo) -> None:
    files = {
        "configs/default.yaml": "trainer: {max_epochs: 1}\n",  # not a conda environment, sorted first
        "conda.yml": "- not a mapping\n",
        "environment.yml": "dependencies:\n  - 42\n  - python=3.11\n  - pytorch\n  - cpuonly\n"
        "  - pip:\n    - ./vendor/pkg\n",
    }
    assert where(run("PK006", make_repo(files))) == [("environment.yml", 4)]


def test_pk006_linux_platforms_still_need_the_cuda_pin(make_repo: MakeRepo) -> None:
    env = "platforms: [linux-64]\ndependencies:\n  - python=3.11\n  - pytorch=2.5\n"
    findings = run("PK006", make_repo({"environment.yml": env}))
    assert where(findings) == [("environment.yml", 2)]
    assert "CUDA build" in findings[0].message


def test_pk001_poetry_metadata_without_a_build_system(make_repo: MakeRepo) -> None:
    findings = run("PK001", make_repo({"pyproject.toml": '[tool.poetry]\nname = "x"\n'}))
    assert findings[0].message.endswith("(Poetry 2 reads it) and name the build backend in [build-system]")


def test_pk001_a_setup_py_that_calls_no_setup_does_not_package(make_repo: MakeRepo) -> None:
    assert where(run("PK001", make_repo({"setup.py": "import os\nprint(os.name)\n"}))) == [("pyproject.toml", None)]


def test_pk002_reads_poetry_dependencies_when_project_lists_them_as_dynamic(make_repo: MakeRepo) -> None:
    # Poetry 2: with `dynamic = ["dependencies"]` in [project], [tool.poetry.dependencies] is the declaration
    pyproject = (
        '[project]\nname = "trainer"\nversion = "0.1"\ndynamic = ["dependencies"]\n\n'
        '[tool.poetry.dependencies]\ntorch = "^2.1"\n' + BUILD
    )
    root = make_repo({"pyproject.toml": pyproject, "requirements.txt": "torch>=2.1\nlightning\n"})
    findings = run("PK002", root)
    assert where(findings) == [("requirements.txt", 2)]
    assert "'lightning' is not in pyproject.toml [tool.poetry.dependencies]" in findings[0].message


def test_pk002_reports_the_first_difference_in_file_order(make_repo: MakeRepo) -> None:
    # numpy missing (said at the file's start, line 1) comes before the extra 'rich' on line 2
    findings = run("PK002", make_repo({"pyproject.toml": DEPS, "requirements.txt": "torch>=2.1\nrich\n"}))
    assert where(findings) == [("requirements.txt", 1)]
    assert "'numpy' from pyproject.toml" in findings[0].message
    assert "(and 1 more differences)" in findings[0].message


def test_pk002_setup_cfg_requirement_on_the_install_requires_line_is_found_there(make_repo: MakeRepo) -> None:
    # 'torch' is on the key's own line; the next line's 'torchvision' contains the text too but is not it
    pyproject = PROJECT + 'dependencies = ["torchvision"]\n' + BUILD
    setup_cfg = "[options]\ninstall_requires = torch\n    torchvision\n"
    findings = run("PK002", make_repo({"pyproject.toml": pyproject, "setup.cfg": setup_cfg}))
    assert where(findings) == [("setup.cfg", 2)]
    assert "'torch' is not in" in findings[0].message


@pytest.mark.parametrize("code", ["PK004", "PK005"])
def test_pk004_pk005_quiet_for_a_setup_py_project_whose_pyproject_holds_only_tool_config(
    make_repo: MakeRepo, code: str
) -> None:
    # setup.py packages the project (PK001 passes), so there is no [project] table to read
    setup = "from setuptools import setup, find_packages\n\nsetup(name='x', packages=find_packages())\n"
    root = make_repo({"setup.py": setup, "pyproject.toml": "[tool.black]\nline-length = 100\n"})
    assert run(code, root) == []


def test_pk007_a_protocol_relative_url_does_not_hide_a_local_path_later_on_its_line(make_repo: MakeRepo) -> None:
    lock = '[[package]]\nname = "x"\nsource = { url = "//mirror.example/simple", path = "/home/me/wheels" }\n'
    findings = run("PK007", make_repo({"uv.lock": lock}))
    assert where(findings) == [("uv.lock", 3)]
    assert "'/home/me/wheels' is a location on one machine" in findings[0].message
