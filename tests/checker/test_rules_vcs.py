"""VC rules: each fires, at the right place, on a small bad repository and stays quiet on good ones.

Secrets in this file are assembled at run time so that the file itself holds nothing a scanner would report.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from fsdl_check.model import Finding
from fsdl_check.testing import run_rule as run

MakeRepo = Callable[..., Path]

LFS_POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:" + "a" * 64 + "\nsize 123456789\n"
RANDOM_40 = "Zq8vLk2Xw9Rt4Yp7Nm3Bc6Hd1Jf5Gs0Ua8Ee2Ii4"  # 40 mixed characters, the shape of real tokens
HF_TOKEN = "hf" + "_" + RANDOM_40[:34]
GITHUB_TOKEN = "ghp" + "_" + RANDOM_40[:36]
AWS_KEY_ID = "AKIA" + "Q7XW2PLM9RTZ4KBN"
AWS_SECRET = RANDOM_40[:20] + "/" + RANDOM_40[21:]
SLACK_TOKEN = "xoxb" + "-1234567890-" + RANDOM_40[:24]
MB = 1024 * 1024
PRIVATE_KEY = "-----BEGIN " + "RSA PRIVATE KEY-----\n" + "MIIEow" + RANDOM_40 * 2 + "\n-----END RSA PRIVATE KEY-----\n"


def where(findings: list[Finding]) -> list[tuple[str, int | None]]:
    return [(f.path, f.line) for f in findings]


def assign(name: str, value: str, quote: str = '"') -> str:
    return f"{name} = {quote}{value}{quote}\n"


# -- VC001 --------------------------------------------------------------------------------------------------------
def test_large_committed_file_is_reported_with_its_size(make_repo: MakeRepo) -> None:
    root = make_repo({"data/big.bin": b"\0" * 300_000, "small.txt": "x"}, git=True)
    findings = run("VC001", root, large_file_mb=0.25)
    assert where(findings) == [("data/big.bin", None)]
    assert "0.3 MB" in findings[0].message and "0.25 MB" in findings[0].message


def test_untracked_large_file_is_not_committed(make_repo: MakeRepo) -> None:
    root = make_repo({"README.md": "x"}, git=True)
    (root / "scratch.bin").write_bytes(b"\0" * 300_000)  # created after `git add`: untracked
    assert run("VC001", root, large_file_mb=0.25) == []


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"model.ckpt": b"\0" * 300_000}, [("model.ckpt", None)]),  # no git: every listed file counts
        ({"model.ckpt": LFS_POINTER, "README.md": "x"}, []),  # an LFS pointer is small
        ({"model.ckpt": b"\0" * 300_000, ".gitignore": "*.ckpt\n"}, []),  # ignored: not part of the repository
    ],
)
def test_large_files_without_git(
    make_repo: MakeRepo, files: dict[str, str | bytes], expected: list[tuple[str, None]]
) -> None:
    assert where(run("VC001", make_repo(files), large_file_mb=0.25)) == expected


# -- VC002 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"models/best.pt": b"\0weights"}, [("models/best.pt", None)]),
        (
            {"data/train.parquet": b"PAR1", "data/x.npy": b"\x93NUMPY"},
            [("data/train.parquet", None), ("data/x.npy", None)],
        ),
        ({"data/big.csv": "a,b\n" * 300_000}, [("data/big.csv", None)]),
        ({"data/small.csv": "a,b\n1,2\n"}, []),
        ({"models/best.pt": b"\0w", ".gitattributes": "*.pt filter=lfs diff=lfs merge=lfs -text\n"}, []),
        ({"models/best.pt": b"\0w", "models/.gitattributes": "*.pt filter=lfs diff=lfs merge=lfs -text\n"}, []),
        (
            {"models/best.pt": b"\0w", "other/.gitattributes": "*.pt filter=lfs diff=lfs merge=lfs -text\n"},
            [("models/best.pt", None)],
        ),
        ({"models/best.pt": b"\0w", ".gitattributes": "*.pt -text\n"}, [("models/best.pt", None)]),
        ({"models/best.pt": LFS_POINTER}, []),
        ({"data/raw/train.parquet": b"PAR1", "data/raw.dvc": "outs:\n- md5: abc\n  path: raw\n"}, []),
        ({"data/x.parquet": b"PAR1", "data/x.parquet.dvc": "outs:\n- path: x.parquet\n"}, []),
        ({"out/model.onnx": b"\0", "dvc.yaml": "stages:\n  train:\n    cmd: python t.py\n    outs:\n    - out\n"}, []),
        (
            {
                "m/model.pkl": b"\0",
                "dvc.yaml": "stages:\n  t:\n    cmd: x\n    outs:\n    - m/model.pkl:\n        cache: false\n",
            },
            [],
        ),
        ({"data/x.parquet": b"PAR1", "data/x.dvc": "outs: 3\n"}, [("data/x.parquet", None)]),
    ],
)
def test_artifacts_outside_lfs_or_dvc(
    make_repo: MakeRepo, files: dict[str, str | bytes], expected: list[tuple[str, None]]
) -> None:
    assert where(run("VC002", make_repo(files))) == expected


def test_artifact_message_names_the_type_and_size(make_repo: MakeRepo) -> None:
    (finding,) = run("VC002", make_repo({"w.safetensors": b"\0" * 2048}))
    assert finding.message == ".safetensors file (2048 bytes) committed outside Git LFS or DVC"


def test_untracked_artifacts_are_not_committed(make_repo: MakeRepo) -> None:
    root = make_repo({"README.md": "x"}, git=True)
    (root / "model.pt").write_bytes(b"\0w")
    assert run("VC002", root) == []


@pytest.mark.parametrize("name", ["data/train.jsonl", "data/train.tsv", "data/shard.arrow", "data/x.parquet"])
def test_jsonl_tsv_arrow_parquet_data_are_artifacts(make_repo: MakeRepo, name: str) -> None:
    size = 2 * 1024 * 1024 if name.endswith((".jsonl", ".tsv")) else 10
    root = make_repo({name: "a" * size})
    assert [f.path for f in run("VC002", root)] == [name]


def test_small_jsonl_is_not_data_artifact(make_repo: MakeRepo) -> None:
    assert run("VC002", make_repo({"tests/fixture.jsonl": "{}\n"})) == []


def test_large_text_data_is_not_scanned_for_secrets(make_repo: MakeRepo) -> None:
    token = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
    big = make_repo({"data/rows.csv": ("x," * 600_000) + token + "\n", "small.csv": token + "\n"})
    assert [f.path for f in run("VC005", big)] == ["small.csv"]


# -- VC003 --------------------------------------------------------------------------------------------------------
FULL_GITIGNORE = "mlruns/\nwandb/\nlightning_logs/\noutputs/\nmultirun/\n*.ckpt\n"


def test_no_gitignore_names_the_full_list(make_repo: MakeRepo) -> None:
    findings = run("VC003", make_repo({"README.md": "x"}))
    assert where(findings) == [(".gitignore", None)]
    assert findings[0].message == (
        "no .gitignore; add mlruns/, wandb/, lightning_logs/, outputs/, multirun/, checkpoints (*.ckpt or checkpoints/)"
    )


LIGHTNING_HYDRA = (
    "import hydra\nimport lightning as L\nimport mlflow\nimport wandb\n\n"
    "@hydra.main(config_path='configs')\ndef main(cfg):\n    L.Trainer().fit(None)\n"
)


@pytest.mark.parametrize(
    ("gitignore", "message"),
    [
        (
            "__pycache__/\nmlruns\n/wandb/\n",
            "not ignored: lightning_logs/, outputs/, multirun/, checkpoints (*.ckpt or checkpoints/) (written by "
            "hydra, lightning, mlflow, wandb)",
        ),
        (FULL_GITIGNORE.replace("*.ckpt", "checkpoints/").replace("multirun/\n", ""), "not ignored: multirun/"),
    ],
)
def test_gitignore_missing_outputs_of_the_tools_in_use(make_repo: MakeRepo, gitignore: str, message: str) -> None:
    findings = run("VC003", make_repo({".gitignore": gitignore, "train.py": LIGHTNING_HYDRA}))
    assert where(findings) == [(".gitignore", None)]
    assert findings[0].message.startswith(message)


@pytest.mark.parametrize("gitignore", [FULL_GITIGNORE, FULL_GITIGNORE.replace("*.ckpt", "checkpoints/")])
def test_gitignore_covering_artifacts(make_repo: MakeRepo, gitignore: str) -> None:
    assert run("VC003", make_repo({".gitignore": gitignore, "train.py": LIGHTNING_HYDRA})) == []


def test_gitignore_asks_only_for_tools_in_use_nanogpt_wandb_only(make_repo: MakeRepo) -> None:
    # nanoGPT: `if wandb_log: import wandb` in train.py, *.pt ignored, no MLflow/Lightning/Hydra.
    train = "wandb_log = False\nif wandb_log:\n    import wandb\n    wandb.init(project='owt')\n"
    findings = run("VC003", make_repo({".gitignore": "*.pt\n", "train.py": train}))
    assert [f.message for f in findings] == ["not ignored: wandb/ (written by wandb)"]


def test_gitignore_without_ml_tools_passes_minimal_library(make_repo: MakeRepo) -> None:
    assert run("VC003", make_repo({".gitignore": "__pycache__/\n", "lib.py": "import torch\n"})) == []


def test_file_glob_does_not_ignore_a_directory(make_repo: MakeRepo) -> None:
    root = make_repo({".gitignore": "*.log\n*.yaml\n", "run.py": "import hydra\n@hydra.main()\ndef f(c): ...\n"})
    assert [f.message for f in run("VC003", root)] == ["not ignored: outputs/, multirun/ (written by hydra)"]


def test_ignored_parent_and_relocated_outputs_pass_lightning_hydra_template(make_repo: MakeRepo) -> None:
    # lightning-hydra-template: Hydra's run dir, Lightning's default_root_dir and the WandbLogger's save_dir all
    # point under ${paths.log_dir} = logs/, which .gitignore ignores.
    files = {
        ".gitignore": "/logs/\n",
        "src/train.py": LIGHTNING_HYDRA.replace("import mlflow\n", ""),
        "configs/hydra/default.yaml": "run:\n  dir: ${paths.log_dir}/runs\n",
        "configs/trainer/default.yaml": "default_root_dir: ${paths.output_dir}\n",
        "configs/logger/wandb.yaml": "wandb:\n  _target_: lightning.pytorch.loggers.wandb.WandbLogger\n"
        "  save_dir: ${paths.output_dir}\n",
    }
    assert run("VC003", make_repo(files)) == []


def test_optional_integration_import_is_not_use_trl_mlflow(make_repo: MakeRepo) -> None:
    # trl/extras/profiling.py: `if is_mlflow_available(): import mlflow`; detectron2: hydra imported in a helper.
    code = "if is_mlflow_available():\n    import mlflow\n\ndef parse():\n    from hydra.core import x\n"
    assert run("VC003", make_repo({".gitignore": "x/\n", "lib/profiling.py": code})) == []


def test_mlflow_sqlite_store_still_writes_mlruns_mlops_zoomcamp(make_repo: MakeRepo) -> None:
    code = "import mlflow\nmlflow.set_tracking_uri('sqlite:///mlflow.db')\n"
    assert [f.message for f in run("VC003", make_repo({".gitignore": "x/\n", "train.py": code}))] == [
        "not ignored: mlruns/ (written by mlflow)"
    ]
    moved = "import mlflow\nmlflow.set_tracking_uri('http://mlflow:5000')\n"
    assert run("VC003", make_repo({".gitignore": "x/\n", "train.py": moved})) == []


# -- VC004 --------------------------------------------------------------------------------------------------------
CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIB" + RANDOM_40 + "\n-----END CERTIFICATE-----\n"


@pytest.mark.parametrize(
    "path",
    [".env", "deploy/.env.production", "credentials.json", "keys/service-account-prod.json", "id_rsa", ".netrc",
     ".pypirc", "kaggle.json", "certs/client.p12"],
)  # fmt: skip
def test_credential_files_are_reported(make_repo: MakeRepo, path: str) -> None:
    findings = run("VC004", make_repo({path: "secret-ish\n", "README.md": "x"}))
    assert where(findings) == [(path, None)]
    assert findings[0].message.endswith("committed")


@pytest.mark.parametrize(
    "files",
    [
        {".env.example": "WANDB_API_KEY=\n", ".env.sample": "X=\n", ".env.template": "X=\n"},
        {"certs/ca.pem": CERTIFICATE},
        {"src/credentials.py": "def load():\n    pass\n"},
    ],
)
def test_templates_certificates_and_code_are_not_credentials(make_repo: MakeRepo, files: dict[str, str]) -> None:
    assert run("VC004", make_repo(files)) == []


def test_private_key_pem_is_a_credential(make_repo: MakeRepo) -> None:
    assert where(run("VC004", make_repo({"certs/server.pem": PRIVATE_KEY}))) == [("certs/server.pem", None)]


def test_env_file_in_git(make_repo: MakeRepo) -> None:
    root = make_repo({".env": "A=1\n"}, git=True)
    (root / "later").mkdir()
    (root / "later" / ".env").write_text("B=2\n")  # untracked and not ignored: one `git add .` away
    findings = run("VC004", root)
    assert [(f.path, f.message) for f in findings] == [
        (".env", "credential file .env committed"),
        ("later/.env", "credential file .env not git-ignored"),
    ]


def test_ignored_env_file_in_git_is_fine(make_repo: MakeRepo) -> None:
    root = make_repo({".gitignore": ".env\n", "README.md": "x"}, git=True)
    (root / ".env").write_text("A=1\n")
    assert run("VC004", root) == []


# -- VC005 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "content", "line", "what"),
    [
        ("src/pkg/hub.py", '"""Upload."""\n\n' + assign("HF", HF_TOKEN), 3, "Hugging Face token"),
        ("scripts/push.sh", "#!/bin/sh\nexport TOKEN_GH=" + GITHUB_TOKEN + "\n", 2, "GitHub token"),
        ("configs/aws.yaml", f"region: eu\naccess_key_id: {AWS_KEY_ID}\n", 2, "AWS access key"),
        ("configs/aws.ini", f"[default]\naws_secret_access_key = {AWS_SECRET}\n", 2, "AWS secret key"),
        ("notify.py", "import os\n\n\n" + assign("url_token", SLACK_TOKEN), 4, "Slack token"),
        ("deploy/key.txt", "note\n" + PRIVATE_KEY, 2, "private key block"),
        ("sa.json", '{\n  "private_key": "' + PRIVATE_KEY.replace("\n", "\\n") + '"\n}\n', 2, "private key block"),
        ("src/pkg/client.py", "import x\n" + assign("API_KEY", RANDOM_40), 2, "API_KEY literal"),
        ("config.json", '{\n  "client_secret": "' + RANDOM_40 + '"\n}\n', 2, "client_secret literal"),
    ],
)
def test_secrets_are_reported_masked(make_repo: MakeRepo, path: str, content: str, line: int, what: str) -> None:
    findings = run("VC005", make_repo({path: content}))
    assert where(findings) == [(path, line)]
    message = findings[0].message
    assert message.startswith(what)
    assert RANDOM_40[8:30] not in message and "MIIEow" not in message


@pytest.mark.parametrize(
    "content",
    [
        assign("HF_TOKEN", "hf_" + "x" * 34),
        assign("HF_TOKEN", "<your-token>"),
        'token = os.environ["HF_TOKEN"]\n',
        "env:\n  GH_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n",
        assign("api_key", "a" * 40),
        assign("api_key", "your_api_key_goes_here_1234"),
        assign("AWS_KEY", "AKIA" + "IOSFODNN7EXAMPLE"),
        assign("pad_token", "<|endoftext|>"),
        assign("secret", "short1A"),
        "-----BEGIN " + "PRIVATE KEY-----\n...\n",
        assign("tokenizer_name", "bert-base-uncased-whole-word-masking"),
        # tracker credentials are EX005's to report
        assign("WANDB_API_KEY", RANDOM_40),
        'comet_ml.init()\nexperiment = Experiment(api_key="' + RANDOM_40 + '")\n',
    ],
)
def test_placeholders_references_and_tracker_keys_are_not_reported(make_repo: MakeRepo, content: str) -> None:
    assert run("VC005", make_repo({"src/pkg/settings.py": content})) == []


def test_lock_and_binary_files_are_not_scanned(make_repo: MakeRepo) -> None:
    files = {"uv.lock": assign("token", RANDOM_40), "logo.png": assign("token", RANDOM_40), "README.md": "x"}
    assert run("VC005", make_repo(files)) == []


def test_odd_dvc_and_gitattributes_files_are_treated_as_absent(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "dvc.yaml": "stages: [1]\n",
            "other/dvc.yaml": "stages:\n  s:\n    wdir: 3\n    outs: {a: b}\n    metrics: [{}, 5, {a: 1, b: 2}]\n",
            "x.dvc": "- 1\n",
            "y.dvc": "outs: [{path: 3}, null]\n",
            "z.dvc": "::: not yaml [",
            ".gitattributes": "!x filter=lfs\n\\\n/ filter=lfs\n[z-a] filter=lfs\n*.pt\n# *.pkl filter=lfs\n",
            "m.pt": "x",
            "n.pkl": "x",
        }
    )
    assert where(run("VC002", root)) == [("m.pt", None), ("n.pkl", None)]


# -- the secret heuristics at their boundaries (mutation-run survivors) ------------------------------------------
@pytest.mark.parametrize(
    ("value", "placeholder"),
    [
        ("", True),
        ("changeme", True),
        ("${HF_TOKEN}", True),
        ("%TOKEN%", True),
        ("{token}", True),
        ("abababab", True),  # two characters, however long
        ("abcabcabc", False),
        ("os.environ['X']", True),
        ("getenv('X')", True),
        ("hf_Ab3dE6gH9jK2mN5pQ8sT", False),
    ],
)
def test_placeholder_values(value: str, placeholder: bool) -> None:
    from fsdl_check.rules.vcs import looks_like_placeholder

    assert looks_like_placeholder(value) is placeholder


@pytest.mark.parametrize(
    ("value", "random"),
    [
        ("Ab3dE6gH9jK2mN5pQ8sT", True),  # 20 characters: long enough
        ("Ab3dE6gH9jK2mN5pQ8s", False),  # 19: too short
        ("abcdefghijklmnopqrstuvwxyz", False),  # one character class
        ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaB", False),  # two classes, low entropy
    ],
)
def test_random_looking_values(value: str, random: bool) -> None:
    from fsdl_check.rules.vcs import looks_random

    assert looks_random(value) is random


def test_masks_show_four_characters_of_long_values_only() -> None:
    from fsdl_check.rules.vcs import mask

    assert mask("0123456789abcdef") == "0123********"
    assert mask("0123456789abcde") == "********"


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("s3cr", True),
        ("abc", False),  # a few characters
        ("true", False),
        ("1234", False),
        ("1.5", False),
        ("$OTHER", False),
        ("/run/secrets/hf", False),
        ("./token.txt", False),
        ("~/.hf", False),
        ("file:key", False),
        ("hf_live_value", True),
    ],
)
def test_literal_secret_values(value: str, literal: bool) -> None:
    from fsdl_check.rules.vcs import literal_secret

    assert literal_secret(value) is literal


@pytest.mark.parametrize(
    ("name", "secret"),
    [("HF_TOKEN", True), ("hf-token", True), ("HF_TOKEN_PATH", False), ("TOKENIZERS_PARALLELISM", False)],
)
def test_credential_variable_names(name: str, secret: bool) -> None:
    from fsdl_check.rules.vcs import secret_variable

    assert secret_variable(name) is secret


# -- boundaries and loop exits the mutation run found unguarded ------------------------------------------------
def test_size_limit_is_exclusive_and_counted_in_mebibytes(make_repo: MakeRepo) -> None:
    limit = MB // 4  # large_file_mb=0.25
    root = make_repo({"at.bin": b"\0" * limit, "over.bin": b"\0" * (limit + 1)})
    assert where(run("VC001", root, large_file_mb=0.25)) == [("over.bin", None)]


def test_text_data_counts_as_large_only_over_one_mebibyte(make_repo: MakeRepo) -> None:
    token = "ghp" + "_" + RANDOM_40[:36]
    at = token + "\n" + "a" * (MB - len(token) - 1)
    root = make_repo({"data/at.csv": at, "data/over.tsv": at + "b"})
    assert where(run("VC002", root)) == [("data/over.tsv", None)]
    assert where(run("VC005", root)) == [("data/at.csv", 1)]  # 1 MiB of rows is still scanned


def test_large_non_data_files_are_neither_artifacts_nor_skipped_by_the_secret_scan(make_repo: MakeRepo) -> None:
    root = make_repo({"src/big.py": assign("token", GITHUB_TOKEN) + "#\n" * MB})
    assert run("VC002", root) == []
    assert where(run("VC005", root)) == [("src/big.py", 1)]


def test_linked_checkpoint_is_not_an_artifact(make_repo: MakeRepo) -> None:
    root = make_repo({"ckpt/epoch=9.ckpt": b"\0w", ".gitattributes": "*.ckpt filter=lfs\n"})
    os.symlink("epoch=9.ckpt", root / "ckpt" / "last.ckpt")
    os.symlink("/nowhere/.env", root / ".env")
    assert run("VC002", root) == []
    assert run("VC004", root) == []


def test_two_field_lfs_line_and_lines_after_skipped_ones_count(make_repo: MakeRepo) -> None:
    attributes = "# weights\n*.bin -text\n!*.pt filter=lfs\n*.pt filter=lfs\n"
    files = {"README.md": "x", "models/.gitattributes": attributes, "models/best.pt": b"\0w", "top.pt": b"\0w"}
    assert where(run("VC002", make_repo(files))) == [("top.pt", None)]


def test_nested_lfs_patterns_match_below_their_directory(make_repo: MakeRepo) -> None:
    files = {
        "a/README.md": "x",
        "a/.gitattributes": "*.pt filter=lfs\nsub/*.onnx filter=lfs\n",
        "a/deep/x/best.pt": b"\0w",
        "a/sub/m.onnx": b"\0w",
        "a/deep/sub/m.onnx": b"\0w",
    }
    assert where(run("VC002", make_repo(files))) == [("a/deep/sub/m.onnx", None)]


def test_dvc_output_covers_only_its_own_paths(make_repo: MakeRepo) -> None:
    files = {
        "data/raw/train.parquet": b"PAR1",
        "data/rawer.parquet": b"PAR1",
        "data/raw.dvc": "outs:\n- path: raw\n",
    }
    assert where(run("VC002", make_repo(files))) == [("data/rawer.parquet", None)]


def test_dvc_outs_after_an_odd_entry_and_in_a_stage_wdir_count(make_repo: MakeRepo) -> None:
    stage = "stages:\n  t:\n    wdir: sub\n    cmd: x\n    outs:\n    - 5\n    - {a: 1, b: 2}\n    - m.pkl\n"
    files = {"p/dvc.yaml": stage, "p/sub/m.pkl": b"\0", "p/m.pkl": b"\0", "q/dvc.yaml": "- 1\n", "r/dvc.yml": "::: ["}
    assert where(run("VC002", make_repo(files))) == [("p/m.pkl", None)]


def test_only_small_files_can_be_lfs_pointers(make_repo: MakeRepo) -> None:
    files = {"a.pt": LFS_POINTER.ljust(1023, "x"), "b.pt": LFS_POINTER.ljust(1024, "x")}
    assert where(run("VC002", make_repo(files))) == [("b.pt", None)]


def test_artifact_size_is_given_in_megabytes_from_a_tenth_of_one(make_repo: MakeRepo) -> None:
    files = {"a.pt": b"\0" * 104_857, "b.pt": b"\0" * 104_858, "c.pt": b"\0" * 100_000}
    messages = [f.message for f in run("VC002", make_repo(files))]
    assert messages == [
        ".pt file (104857 bytes) committed outside Git LFS or DVC",
        ".pt file (0.1 MB) committed outside Git LFS or DVC",
        ".pt file (100000 bytes) committed outside Git LFS or DVC",
    ]


GITIGNORE_X = {".gitignore": "x/\n"}


def vc003(make_repo: MakeRepo, files: dict[str, str]) -> list[str]:
    return [f.message for f in run("VC003", make_repo({**GITIGNORE_X, **files}))]


def test_repeated_import_does_not_hide_the_next_tool(make_repo: MakeRepo) -> None:
    code = "import wandb\nfrom wandb import init\nimport mlflow\n"
    assert vc003(make_repo, {"train.py": code}) == ["not ignored: mlruns/, wandb/ (written by mlflow, wandb)"]


def test_module_level_import_after_a_function_is_use(make_repo: MakeRepo) -> None:
    code = "def f():\n    pass\nimport wandb\n"
    assert vc003(make_repo, {"train.py": code}) == ["not ignored: wandb/ (written by wandb)"]


@pytest.mark.parametrize(
    "code",
    [
        "\nif is_wandb_available():\n    import wandb\n",  # a leading blank line
        "if is_wandb_available():\n\n# optional\n    import wandb\n",  # blank and comment lines in between
        "def f():\n    if x:\n        import wandb\n",  # nested in a function
        "def f():\n if x:\n  import wandb\n",  # one-space indentation
    ],
)
def test_lazy_and_guarded_imports_are_optional(make_repo: MakeRepo, code: str) -> None:
    assert vc003(make_repo, {"lib/x.py": code}) == []


def test_test_code_and_unparsable_modules_do_not_count_but_the_rest_does(make_repo: MakeRepo) -> None:
    files = {"a.py": "import mlflow\ndef (:\n", "tests/test_x.py": "import mlflow\n", "train.py": "import wandb\n"}
    assert vc003(make_repo, files) == ["not ignored: wandb/ (written by wandb)"]


def test_lightning_wandb_logger_writes_wandb_dir(make_repo: MakeRepo) -> None:
    code = "from lightning.pytorch.loggers import WandbLogger\nlogger = WandbLogger(project='x')\n"
    assert vc003(make_repo, {"train.py": code}) == [
        "not ignored: wandb/, lightning_logs/, checkpoints (*.ckpt or checkpoints/) (written by lightning, wandb)"
    ]


def test_hydra_compose_api_writes_no_outputs(make_repo: MakeRepo) -> None:
    assert vc003(make_repo, {"app.py": "import hydra\ncfg = hydra.compose('config')\n"}) == []


def test_sqlite_mention_does_not_make_a_tool_of_mlflow(make_repo: MakeRepo) -> None:
    code = "import wandb\nDB = 'sqlite:///local.db'\n"
    assert vc003(make_repo, {"train.py": code}) == ["not ignored: wandb/ (written by wandb)"]


def test_hydra_config_without_a_run_dir_does_not_relocate_outputs(make_repo: MakeRepo) -> None:
    files = {
        "run.py": "import hydra\n@hydra.main()\ndef f(c): ...\n",
        "configs/config.yaml": "hydra:\n  job:\n    chdir: true\n",
        "configs/model.yaml": "lr: 0.1\n",
        "configs/list.yaml": "- 1\n",
        "configs/hydra/x.yaml": "run: 3\n",
    }
    assert vc003(make_repo, files) == ["not ignored: outputs/, multirun/ (written by hydra)"]


def test_relocated_tool_is_not_named_as_a_writer(make_repo: MakeRepo) -> None:
    code = "import mlflow\nimport wandb\nmlflow.set_tracking_uri('http://mlflow:5000')\n"
    assert vc003(make_repo, {"train.py": code}) == ["not ignored: wandb/ (written by wandb)"]


def test_uppercase_aws_secret_key_is_reported_with_its_value_masked(make_repo: MakeRepo) -> None:
    root = make_repo({"deploy.sh": f"export AWS_SECRET_ACCESS_KEY={AWS_SECRET}\n"})
    assert [f.message for f in run("VC005", root)] == [f"AWS secret key {AWS_SECRET[:4]}******** in source"]


def test_secret_on_the_first_line_is_reported(make_repo: MakeRepo) -> None:
    root = make_repo({"a.py": GITHUB_TOKEN + "\n", "b.py": assign("API_KEY", RANDOM_40) + "# key, secret, token\n"})
    assert where(run("VC005", root)) == [("a.py", 1), ("b.py", 1)]


@pytest.mark.parametrize("before", ["x", "_", "9"])
def test_token_inside_a_longer_word_is_not_reported(make_repo: MakeRepo, before: str) -> None:
    assert run("VC005", make_repo({"a.txt": "# " + before + GITHUB_TOKEN + "\n"})) == []


def test_shortest_hugging_face_token_is_reported(make_repo: MakeRepo) -> None:
    token = "hf" + "_" + RANDOM_40[:30]
    assert where(run("VC005", make_repo({"a.py": assign("HF", token)}))) == [("a.py", 1)]


def test_secret_after_a_dockerfile_env_secret_is_still_reported(make_repo: MakeRepo) -> None:
    dockerfile = f"FROM python:3.12\nENV HF_TOKEN={HF_TOKEN}\nRUN echo {GITHUB_TOKEN}\n"
    root = make_repo({"Dockerfile": dockerfile, "other/Dockerfile": "FROM python:3.12\n"})
    assert where(run("VC005", root)) == [("Dockerfile", 3)]


def test_credential_file_is_left_to_vc004_and_later_files_are_scanned(make_repo: MakeRepo) -> None:
    root = make_repo({".env": assign("token", GITHUB_TOKEN), "z.py": assign("token", GITHUB_TOKEN)})
    assert where(run("VC005", root)) == [("z.py", 1)]


@pytest.mark.parametrize(("value", "random"), [("abcd1234" * 3, True), ("ab3de6gh9jk2mn5pq8st", True)])
def test_random_at_the_class_and_entropy_thresholds(value: str, random: bool) -> None:
    from fsdl_check.rules.vcs import looks_random

    assert looks_random(value) is random
