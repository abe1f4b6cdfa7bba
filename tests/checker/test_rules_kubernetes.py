"""KS rules: each fires, at the right place, on a small bad repository and stays quiet on good ones.

Secrets in this file are assembled at run time so that the file itself holds nothing a scanner would report.

Tried on real repositories (KS, fsdl-check 0.1.0): kubeflow/trainer (manifests/, examples/: runtimes without
resources or a security context, images whose overlay sets `newTag: latest` — now named as such, TrainJobs without
`resourcesPerNode`), kubeflow/training-operator, ray-project/kuberay (ray-operator/config/samples, historyserver/:
RayClusters and RayJobs without security contexts or deadlines; `AWS_ACCESS_KEY_ID: minioadmin` was reported as a
literal credential on the first try — an access key's ID and a service's well-known default are no longer
credentials; `newTag: nightly` counts as floating). After that run CPU limits stopped being required: CPU over the
request is throttled, not killed, and many clusters leave CPU limits unset on purpose.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest

from fsdl_check.model import Finding
from fsdl_check.testing import run_rule as run

MakeRepo = Callable[..., Path]

PASSWORD = "hunter2-" + "Xk9qLm3vPz7RtY"
GOOD_JOB = """\
apiVersion: batch/v1
kind: Job
metadata: {name: train}
spec:
  backoffLimit: 2
  activeDeadlineSeconds: 86400
  ttlSecondsAfterFinished: 3600
  template:
    spec:
      restartPolicy: Never
      securityContext: {runAsNonRoot: true, runAsUser: 1000}
      volumes:
        - name: dshm
          emptyDir: {medium: Memory, sizeLimit: 2Gi}
      containers:
        - name: train
          image: ghcr.io/org/trainer:1.2.0
          env:
            - name: MLFLOW_TRACKING_PASSWORD
              valueFrom: {secretKeyRef: {name: mlflow, key: password}}
          resources:
            requests: {cpu: "2", memory: 8Gi}
            limits: {memory: 8Gi, nvidia.com/gpu: 1}
          securityContext: {allowPrivilegeEscalation: false}
          volumeMounts:
            - {name: dshm, mountPath: /dev/shm}
"""
BAD_JOB = """\
apiVersion: batch/v1
kind: Job
metadata: {name: train}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: t
          image: trainer:latest
          securityContext: {privileged: true}
"""
WORKERS = {"src/pkg/data.py": "from torch.utils.data import DataLoader\nloader = DataLoader(ds, num_workers=4)\n"}


def where(findings: list[Finding]) -> list[tuple[str, int | None, str]]:
    return [(f.path, f.line, f.message) for f in findings]


def test_the_good_job_passes_every_rule(make_repo: MakeRepo) -> None:
    root = make_repo({"k8s/job.yaml": GOOD_JOB, **WORKERS})
    for code in ("KS001", "KS002", "KS003", "KS004", "KS005", "KS006"):
        assert run(code, root) == [], code


def test_the_bad_job_of_the_acceptance_check(make_repo: MakeRepo) -> None:
    secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\nstringData:\n"
    secret += f'  MLFLOW_TRACKING_PASSWORD: "{PASSWORD}"\n'
    root = make_repo({"k8s/job.yaml": secret + "---\n" + BAD_JOB})
    assert where(run("KS001", root)) == [
        ("k8s/job.yaml", 15, "Job train: container t has no resource requests or limits")
    ]
    assert where(run("KS002", root)) == [
        ("k8s/job.yaml", 16, "Job train: container t image trainer:latest uses the floating tag `latest`")
    ]
    assert where(run("KS004", root)) == [
        (
            "k8s/job.yaml",
            15,
            "Job train: container t: privileged; allowPrivilegeEscalation is not false; may run as root (no "
            "runAsNonRoot: true or non-zero runAsUser)",
        )
    ]
    assert where(run("KS005", root)) == [
        ("k8s/job.yaml", 5, "Secret creds holds a literal MLFLOW_TRACKING_PASSWORD (hunt********, stringData)")
    ]
    assert where(run("KS006", root)) == [
        ("k8s/job.yaml", 11, "Job train sets no backoffLimit, activeDeadlineSeconds or ttlSecondsAfterFinished")
    ]
    assert run("KS003", root) == []  # no data loader with workers


# -- KS001 --------------------------------------------------------------------------------------------------------
def test_ks001_partial_resources_and_gpu_forms(make_repo: MakeRepo) -> None:
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  initContainers:\n    - name: fetch\n"
        "      image: busybox:1.36\n      resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 64Mi}}\n"
        "  containers:\n    - name: train\n      image: t:1\n      resources:\n        requests: {cpu: 1, gpu: 1}\n"
        "    - name: side\n      image: t:1\n      resources:\n"
        "        requests: {cpu: 1, memory: 1Gi, nvidia.com/gpu: 1}\n        limits: {memory: 1Gi}\n"
    )
    assert where(run("KS001", make_repo({"pod.yaml": pod}))) == [
        ("pod.yaml", 10, "Pod p: `gpu` is not a resource any device plugin serves (use nvidia.com/gpu in limits)"),
        ("pod.yaml", 10, "Pod p: container train sets no requests.memory, limits.memory"),
        ("pod.yaml", 14, "Pod p: nvidia.com/gpu only in requests (GPUs go in limits; the API rejects requests alone)"),
    ]


def test_ks001_a_trainjob_takes_resources_per_node(make_repo: MakeRepo) -> None:
    job = (
        "apiVersion: trainer.kubeflow.org/v1alpha1\nkind: TrainJob\nmetadata: {name: t}\nspec:\n  trainer:\n"
        "    image: t:1\n"
    )
    assert where(run("KS001", make_repo({"t.yaml": job}))) == [
        ("t.yaml", 6, "TrainJob t: its trainer has no resourcesPerNode")
    ]


def test_ks001_an_overlay_patch_or_a_limit_range_supplies_them(make_repo: MakeRepo) -> None:
    files = {
        "k8s/base/kustomization.yaml": "resources: [job.yaml]\n",
        "k8s/base/job.yaml": BAD_JOB.replace("trainer:latest", "trainer:1"),
        "k8s/cpu/kustomization.yaml": "resources: [../base]\npatches:\n  - path: resources.yaml\n",
        "k8s/cpu/resources.yaml": (
            "apiVersion: batch/v1\nkind: Job\nmetadata: {name: train}\nspec:\n  template:\n    spec:\n"
            "      containers:\n        - name: t\n"
            "          resources: {requests: {cpu: 1, memory: 1Gi}, limits: {memory: 1Gi}}\n"
        ),
        "ns/limits.yaml": "apiVersion: v1\nkind: LimitRange\nspec:\n  limits:\n    - type: Container\n"
        "      default: {memory: 1Gi}\n",
    }
    assert run("KS001", make_repo(files)) == []


# -- KS002 --------------------------------------------------------------------------------------------------------
def test_ks002_images_and_kustomize_tags(make_repo: MakeRepo) -> None:
    files = {
        "k/kustomization.yaml": "resources: [d.yaml]\nimages:\n  - name: pinned\n    newTag: '1.0'\n"
        "  - name: nightly\n    newTag: nightly\n",
        "k/d.yaml": (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n"
            "      containers:\n"
            "        - {name: a, image: pinned}\n        - {name: b, image: nightly}\n"
            "        - {name: c, image: 'r.io/x'}\n"
            "        - {name: d, image: 'x@sha256:"
            + "a" * 64
            + "'}\n        - {name: e, image: '{{ .Values.image }}'}\n"
        ),
    }
    assert where(run("KS002", make_repo(files))) == [
        (
            "k/d.yaml",
            9,
            "Deployment d: container b image nightly gets the floating tag `nightly` from k/kustomization.yaml line 5",
        ),
        ("k/d.yaml", 10, "Deployment d: container c image r.io/x has no tag (the node pulls `latest`)"),
    ]


# -- KS003 --------------------------------------------------------------------------------------------------------
def test_ks003_fires_when_loaders_use_workers(make_repo: MakeRepo) -> None:
    root = make_repo({"k8s/job.yaml": GOOD_JOB.replace("mountPath: /dev/shm", "mountPath: /scratch"), **WORKERS})
    assert where(run("KS003", root)) == [
        (
            "k8s/job.yaml",
            10,
            "Job train: no memory-backed /dev/shm, but the data loaders use workers (num_workers=4, src/pkg/data.py "
            "line 2) and a container's /dev/shm is 64 MiB",
        )
    ]


def test_ks003_reads_workers_from_configs_and_leaves_services_alone(make_repo: MakeRepo) -> None:
    deployment = GOOD_JOB.replace("kind: Job", "kind: Deployment").replace("mountPath: /dev/shm", "mountPath: /x")
    files = {"configs/default.yaml": "data:\n  num_workers: 2\n", "k8s/serve.yaml": deployment}
    assert run("KS003", make_repo(files)) == []
    files["k8s/job.yaml"] = GOOD_JOB.replace("mountPath: /dev/shm", "mountPath: /x")
    assert [f.path for f in run("KS003", make_repo(files))] == ["k8s/job.yaml"]


def test_ks003_quiet_without_workers(make_repo: MakeRepo) -> None:
    files = {"k8s/job.yaml": BAD_JOB, "configs/default.yaml": "data:\n  num_workers: 0\n"}
    assert run("KS003", make_repo(files)) == []


# -- KS004 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pod_context", "container_context", "message"),
    [
        ("{runAsNonRoot: true}", "{allowPrivilegeEscalation: true}", "allowPrivilegeEscalation is not false"),
        ("{runAsUser: 0}", "{allowPrivilegeEscalation: false}", "runs as root (runAsUser: 0)"),
        (
            "{}",
            "{allowPrivilegeEscalation: false, runAsNonRoot: false}",
            "may run as root (no runAsNonRoot: true or non-zero runAsUser)",
        ),
    ],
)
def test_ks004_fires(make_repo: MakeRepo, pod_context: str, container_context: str, message: str) -> None:
    pod = f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  securityContext: {pod_context}\n  containers:\n"
    pod += f"    - name: a\n      image: x:1\n      securityContext: {container_context}\n"
    assert where(run("KS004", make_repo({"p.yaml": pod}))) == [("p.yaml", 7, f"Pod p: container a: {message}")]


def test_ks004_a_patch_reports_what_it_sets_not_what_it_leaves_out(make_repo: MakeRepo) -> None:
    files = {
        "k/kustomization.yaml": "resources: [job.yaml]\npatches:\n  - path: debug.yaml\n",
        "k/job.yaml": GOOD_JOB,
        "k/debug.yaml": (
            "apiVersion: batch/v1\nkind: Job\nmetadata: {name: train}\nspec:\n  template:\n    spec:\n"
            "      containers:\n        - name: train\n          securityContext: {privileged: true}\n"
        ),
    }
    assert where(run("KS004", make_repo(files))) == [("k/debug.yaml", 8, "Job train: container train: privileged")]


# -- KS005 --------------------------------------------------------------------------------------------------------
def test_ks005_base64_data_env_literals_and_generator_literals(make_repo: MakeRepo) -> None:
    encoded = base64.b64encode(PASSWORD.encode()).decode()
    files = {
        "k/secret.yaml": (
            f"apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\ndata:\n  password: {encoded}\n  username: YWRtaW4=\n"
            "stringData:\n  DB_PASSWORD: changeme\n  API_TOKEN: '<your token>'\n  AWS_ACCESS_KEY_ID: AKIDEXAMPLE\n"
        ),
        "k/job.yaml": BAD_JOB.replace(
            "          securityContext: {privileged: true}\n",
            f"          env:\n            - name: WANDB_API_KEY\n              value: {PASSWORD}\n"
            "            - name: TOKENIZERS_PARALLELISM\n              value: 'false'\n",
        ),
        "k/kustomization.yaml": "resources: [job.yaml]\nsecretGenerator:\n  - name: g\n    literals:\n"
        f"      - HF_TOKEN={PASSWORD}\n",
    }
    assert where(run("KS005", make_repo(files))) == [
        (
            "k/job.yaml",
            13,
            "Job train: container t sets WANDB_API_KEY to a literal (hunt********) instead of a secretKeyRef",
        ),
        (
            "k/kustomization.yaml",
            5,
            "secretGenerator literal HF_TOKEN (hunt********) is committed with the kustomization",
        ),
        ("k/secret.yaml", 5, "Secret s holds a literal password (hunt********, base64 in data, not encrypted)"),
    ]


def test_ks005_leaves_tokens_to_the_secret_scan(make_repo: MakeRepo) -> None:
    token = "hf_" + "Zq8vLk2Xw9Rt4Yp7Nm3Bc6Hd1Jf5Gs0Ua"
    secret = f"apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\nstringData:\n  HF_TOKEN: {token}\n"
    root = make_repo({"secret.yaml": secret})
    assert run("KS005", root) == []
    assert [f.line for f in run("VC005", root)] == [5]


# -- KS006 --------------------------------------------------------------------------------------------------------
def test_ks006_kinds(make_repo: MakeRepo) -> None:
    cron = (
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  jobTemplate:\n    spec:\n"
        "      backoffLimit: 1\n      template: {spec: {containers: []}}\n"
    )
    pytorch = (
        "apiVersion: kubeflow.org/v1\nkind: PyTorchJob\nmetadata: {name: p}\nspec:\n  runPolicy: {backoffLimit: 1}\n"
        "  pytorchReplicaSpecs:\n    Worker:\n      template: {spec: {containers: []}}\n"
    )
    old_trainjob = (
        "apiVersion: trainer.kubeflow.org/v1alpha1\nkind: TrainJob\nmetadata: {name: t}\nspec:\n  trainer: {}\n"
    )
    files = {"cron.yaml": cron, "pytorch.yaml": pytorch, "trainjob.yaml": old_trainjob}
    assert where(run("KS006", make_repo(files))) == [
        ("cron.yaml", 7, "CronJob c job template sets no activeDeadlineSeconds"),
        ("pytorch.yaml", 5, "PyTorchJob p runPolicy sets no activeDeadlineSeconds or ttlSecondsAfterFinished"),
    ]


def test_ks006_an_overlay_json_patch_sets_them(make_repo: MakeRepo) -> None:
    files = {
        "k/base/kustomization.yaml": "resources: [job.yaml]\n",
        "k/base/job.yaml": GOOD_JOB.replace("  backoffLimit: 2\n", ""),
        "k/prod/kustomization.yaml": (
            "resources: [../base]\npatches:\n  - target: {kind: Job}\n    patch: |\n      - op: add\n"
            "        path: /spec/backoffLimit\n        value: 1\n"
        ),
    }
    assert run("KS006", make_repo(files)) == []


def test_examples_and_docs_are_left_alone_but_secrets_are_not(make_repo: MakeRepo) -> None:
    secret = f"apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\nstringData:\n  PASSWORD: {PASSWORD}\n"
    root = make_repo({"examples/job.yaml": BAD_JOB, "docs/secret.yaml": secret})
    assert [run(code, root) for code in ("KS001", "KS002", "KS004", "KS006")] == [[], [], [], []]
    assert [f.path for f in run("KS005", root)] == ["docs/secret.yaml"]


# -- boundaries found by mutation testing -------------------------------------------------------------------------
def test_ks002_names_a_trainjobs_trainer(make_repo: MakeRepo) -> None:
    job = "apiVersion: trainer.kubeflow.org/v1alpha1\nkind: TrainJob\nmetadata: {name: t}\nspec:\n  trainer:\n"
    job += "    image: t:latest\n"
    assert [f.message for f in run("KS002", make_repo({"t.yaml": job}))] == [
        "TrainJob t: its trainer image t:latest uses the floating tag `latest`"
    ]


LIMIT_RANGE = "apiVersion: v1\nkind: LimitRange\nmetadata: {name: l}\nspec:\n  limits:\n"
NO_RESOURCES = BAD_JOB.replace("trainer:latest", "trainer:1")


def test_ks001_container_defaults_of_a_limit_range_after_other_objects_and_items(make_repo: MakeRepo) -> None:
    limits = LIMIT_RANGE + "    - {type: Pod, max: {cpu: '4'}}\n"
    limits += "    - {type: Container, default: {memory: 1Gi}, defaultRequest: {cpu: 100m, memory: 1Gi}}\n"
    assert run("KS001", make_repo({"a/job.yaml": NO_RESOURCES, "z/limits.yaml": limits})) == []


def test_ks001_pod_defaults_of_a_limit_range_are_not_a_containers(make_repo: MakeRepo) -> None:
    limits = LIMIT_RANGE + "    - {type: Pod, default: {memory: 1Gi}, defaultRequest: {cpu: 100m, memory: 1Gi}}\n"
    findings = run("KS001", make_repo({"a/job.yaml": NO_RESOURCES, "z/limits.yaml": limits}))
    assert [f.message for f in findings] == ["Job train: container t has no resource requests or limits"]


def test_ks001_an_upper_case_gpu_key_is_no_device_plugins(make_repo: MakeRepo) -> None:
    job = GOOD_JOB.replace("nvidia.com/gpu: 1", "GPU: 1")
    assert [f.message for f in run("KS001", make_repo({"k8s/job.yaml": job}))] == [
        "Job train: `GPU` is not a resource any device plugin serves (use nvidia.com/gpu in limits)"
    ]


NO_SHM = GOOD_JOB.replace("mountPath: /dev/shm", "mountPath: /scratch")


@pytest.mark.parametrize(
    "files",
    [
        {"tests/test_data.py": "from torch.utils.data import DataLoader\nDataLoader(ds, num_workers=2)\n"},
        {"src/pool.py": "pool = make_pool(num_workers=3)\n"},
        {"src/data.py": "from torch.utils.data import DataLoader\nDataLoader(ds, num_workers=0)\n"},
        {"src/data.py": "from torch.utils.data import DataLoader\nDataLoader(ds, num_workers=None)\n"},
        {".hydra/config.yaml": "data:\n  num_workers: 2\n"},
        {"k8s/config.yaml": "apiVersion: v1\nkind: Settings\nmetadata: {name: s}\nspec: {num_workers: 4}\n"},
        {"configs/deep.yaml": "{a: " * 21 + "{num_workers: 2}" + "}" * 21 + "\n"},  # past the depth read
    ],
)
def test_ks003_quiet_without_project_loaders_that_use_workers(make_repo: MakeRepo, files: dict[str, str]) -> None:
    assert run("KS003", make_repo({"k8s/job.yaml": NO_SHM, **files})) == []


@pytest.mark.parametrize(
    ("files", "workers"),
    [
        (
            {
                "src/a.py": "x = 1\n",
                "src/data.py": "from torch.utils.data import DataLoader\nDataLoader(d, num_workers=1)\n",
            },
            "num_workers=1, src/data.py line 2",
        ),
        (
            {"a/other.yaml": "x: 1\n", "configs/default.yaml": "data:\n  num_workers: 1\n"},
            "num_workers: 1, configs/default.yaml line 2",
        ),
        ({"configs/loaders.yaml": "loaders:\n  - {num_workers: 2}\n"}, "num_workers: 2, configs/loaders.yaml line 2"),
        (
            {"configs/all.yaml": "apiVersion: v1\nkind: Settings\nmetadata: {name: s}\n---\ndata: {num_workers: 3}\n"},
            "num_workers: 3, configs/all.yaml line 5",
        ),
        (
            {"configs/deep.yaml": "{a: " * 20 + "{num_workers: 2}" + "}" * 20 + "\n"},
            "num_workers: 2, configs/deep.yaml line 1",
        ),
    ],
)
def test_ks003_workers_found_in_code_and_configs(make_repo: MakeRepo, files: dict[str, str], workers: str) -> None:
    findings = run("KS003", make_repo({"k8s/job.yaml": NO_SHM, **files}))
    assert [f.message.split("workers (")[1] for f in findings] == [f"{workers}) and a container's /dev/shm is 64 MiB"]


def test_ks003_a_host_path_at_dev_shm_is_not_memory_backed(make_repo: MakeRepo) -> None:
    job = GOOD_JOB.replace("emptyDir: {medium: Memory, sizeLimit: 2Gi}", "hostPath: {path: /dev/shm}")
    assert [f.line for f in run("KS003", make_repo({"k8s/job.yaml": job, **WORKERS}))] == [10]


def test_ks004_a_non_zero_user_of_one_is_not_root(make_repo: MakeRepo) -> None:
    job = GOOD_JOB.replace("{runAsNonRoot: true, runAsUser: 1000}", "{runAsUser: 1}")
    assert run("KS004", make_repo({"k8s/job.yaml": job})) == []


def test_ks005_env_values_that_are_no_credentials_before_one_that_is(make_repo: MakeRepo) -> None:
    env = (
        "          env:\n            - name: HF_HOME\n              valueFrom: {configMapKeyRef: {name: c, key: h}}\n"
        "            - name: TOKENIZERS_PARALLELISM\n              value: 'false'\n"
        f"            - name: MLFLOW_CLIENT_ID\n              value: {PASSWORD}\n"
        f"            - name: GREETING\n              value: {PASSWORD}\n"
        f"            - name: WANDB_API_KEY\n              value: {PASSWORD}\n"
    )
    job = BAD_JOB.replace("          securityContext: {privileged: true}\n", env)
    assert [f.line for f in run("KS005", make_repo({"k/job.yaml": job}))] == [21]


def test_ks005_a_secret_whose_string_data_is_no_mapping_still_has_its_data_read(make_repo: MakeRepo) -> None:
    encoded = base64.b64encode(PASSWORD.encode()).decode()
    secret = f"apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\nstringData: x\ndata:\n  password: {encoded}\n"
    assert [f.line for f in run("KS005", make_repo({"secret.yaml": secret}))] == [6]


def test_ks003_finds_workers_nested_in_lists_down_to_the_depth_read(make_repo: MakeRepo) -> None:
    # a config may nest lists of stages; the search reads 20 levels deep
    config = "stages: " + "[" * 19 + "{num_workers: 2}" + "]" * 19 + "\n"
    files = {"configs/default.yaml": config, "k8s/job.yaml": GOOD_JOB.replace("mountPath: /dev/shm", "mountPath: /x")}
    assert [f.path for f in run("KS003", make_repo(files))] == ["k8s/job.yaml"]


def test_ks005_a_data_value_that_is_not_base64_is_not_decoded(make_repo: MakeRepo) -> None:
    # the API server refuses such a Secret; a lenient decode would drop the '!' and read a credential
    encoded = base64.b64encode(PASSWORD.encode()).decode() + "!"
    secret = f"apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\ndata:\n  password: '{encoded}'\n"
    assert run("KS005", make_repo({"k/secret.yaml": secret})) == []


def test_ks005_skips_an_env_entry_that_is_not_a_mapping(make_repo: MakeRepo) -> None:
    job = BAD_JOB.replace("          securityContext: {privileged: true}\n", "          env:\n            - value\n")
    assert run("KS005", make_repo({"k/job.yaml": job})) == []


def test_ks001_a_kustomize_patch_does_not_end_the_check_of_later_manifests(make_repo: MakeRepo) -> None:
    files = {
        "k/kustomization.yaml": "resources: [z-job.yaml]\npatches:\n  - path: a-patch.yaml\n",
        "k/a-patch.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: other}\nspec:\n  template:\n    spec:\n"
        "      containers:\n        - name: t\n          image: x\n",
        "k/z-job.yaml": BAD_JOB,
    }
    assert [f.path for f in run("KS001", make_repo(files))] == ["k/z-job.yaml"]
