"""The Kubernetes reader: objects among YAML documents, pod templates by kind, TrainJob's trainer pod, kustomize
images and patches."""

from __future__ import annotations

import pytest

from fsdl_check.parsing.kubernetes import Manifests, job_specs, read_manifests
from fsdl_check.parsing.yamlfile import parse_yaml

POD = "spec:\n  containers:\n    - name: a\n      image: x:1\n"


def read(files: dict[str, str], charts: tuple[str, ...] = ()) -> Manifests:
    return read_manifests([parse_yaml(path, text) for path, text in files.items()], charts)


def roles(text: str) -> list[tuple[str, list[str], int]]:
    [manifest] = read({"m.yaml": text}).objects
    return [(t.role, [c.name for c in t.containers], t.line) for t in manifest.pod_templates]


def indent(text: str, spaces: int) -> str:
    return "".join(" " * spaces + line + "\n" for line in text.splitlines())


def test_only_mappings_with_api_version_and_kind_are_objects() -> None:
    files = {
        "k8s/all.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n" + POD + "---\n- a list\n---\nkind: Job\n",
        "config.yaml": "trainer: {devices: 2}\n",
        "chart/templates/job.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: '{{ .Values.name }}'}\n",
        "chart/values.yaml": "image: x\n",
        "helm/broken.yaml": "apiVersion: v1\nkind: Pod\n{{- if .Values.x }}\n",
    }
    manifests = read(files, ("chart",))
    assert [(m.path, m.kind, m.name, m.line) for m in manifests.objects] == [("k8s/all.yaml", "Pod", "p", 1)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("apiVersion: v1\nkind: Pod\n" + POD, [("", ["a"], 4)]),
        (
            "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n" + indent(POD, 4),
            [("", ["a"], 6)],
        ),
        (
            "apiVersion: batch/v1\nkind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n" + indent(POD, 8),
            [("", ["a"], 8)],
        ),
        (
            "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n" + indent(POD, 4),
            [("", ["a"], 6)],
        ),
        (
            "apiVersion: kubeflow.org/v1\nkind: PyTorchJob\nspec:\n  pytorchReplicaSpecs:\n    Master:\n"
            "      template:\n" + indent(POD, 8) + "    Worker:\n      template:\n" + indent(POD, 8),
            [("Master replica", ["a"], 8), ("Worker replica", ["a"], 14)],
        ),
        (
            "apiVersion: jobset.x-k8s.io/v1alpha2\nkind: JobSet\nspec:\n  replicatedJobs:\n    - name: node\n"
            "      template:\n        spec:\n          template:\n" + indent(POD, 12),
            [("replicated job node", ["a"], 10)],
        ),
        (
            "apiVersion: trainer.kubeflow.org/v1alpha1\nkind: ClusterTrainingRuntime\nspec:\n  template:\n    spec:\n"
            "      replicatedJobs:\n        - name: node\n          template:\n            spec:\n"
            "              template:\n" + indent(POD, 16),
            [("replicated job node", ["a"], 12)],
        ),
        (
            "apiVersion: ray.io/v1\nkind: RayJob\nspec:\n  rayClusterSpec:\n    headGroupSpec:\n      template:\n"
            + indent(POD, 8)
            + "    workerGroupSpecs:\n      - groupName: gpu\n        template:\n"
            + indent(POD, 10)
            + "  submitterPodTemplate:\n"
            + indent(POD, 4),
            [("head group", ["a"], 8), ("worker group gpu", ["a"], 15), ("submitter", ["a"], 20)],
        ),
        ("apiVersion: v1\nkind: Service\nspec:\n  ports: []\n", []),
    ],
    ids=["Pod", "Job", "CronJob", "Deployment", "PyTorchJob", "JobSet", "runtime", "RayJob", "Service"],
)
def test_pod_templates_by_kind(text: str, expected: list[tuple[str, list[str], int]]) -> None:
    assert roles(text) == expected


TRAINJOB_V22 = """\
apiVersion: trainer.kubeflow.org/v1alpha1
kind: TrainJob
metadata: {name: t}
spec:
  runtimeRef: {name: torch-distributed}
  trainer:
    image: trainer:1.0
    resourcesPerNode:
      requests: {cpu: 1}
  runtimePatches:
    - manager: fsdl
      trainingRuntimeSpec:
        template:
          spec:
            replicatedJobs:
              - name: node
                template:
                  spec:
                    template:
                      spec:
                        securityContext: {runAsNonRoot: true}
                        volumes: [{name: dshm, emptyDir: {medium: Memory}}]
                        containers:
                          - name: node
                            securityContext: {allowPrivilegeEscalation: false}
                            volumeMounts: [{name: dshm, mountPath: /dev/shm}]
"""


def test_a_trainjob_is_one_pod_made_of_its_trainer_and_its_patches() -> None:
    [manifest] = read({"t.yaml": TRAINJOB_V22}).objects
    [template] = manifest.pod_templates
    [node] = template.containers
    assert (template.role, node.name, node.get("image")) == ("trainer", "node", "trainer:1.0")
    assert node.get("resources") == {"requests": {"cpu": 1}}
    assert node.get("securityContext") == {"allowPrivilegeEscalation": "false"}  # booleans load as text
    assert template.spec["securityContext"] == {"runAsNonRoot": "true"}
    assert [v["name"] for v in template.volumes] == ["dshm"]
    assert manifest.trainjob_api == "v2.2"
    assert [(label, keys) for label, _, keys in job_specs(manifest)] == [("", ("activeDeadlineSeconds",))]


def test_older_trainjob_overrides_for_the_node_job_are_read() -> None:
    text = (
        "apiVersion: trainer.kubeflow.org/v1alpha1\nkind: TrainJob\nspec:\n  trainer: {image: t:1}\n"
        "  podTemplateOverrides:\n    - targetJobs: [{name: dataset-initializer}]\n"
        "      spec: {securityContext: {runAsUser: 0}}\n    - targetJobs: [{name: node}]\n"
        "      spec: {securityContext: {runAsUser: 1000}}\n"
    )
    [manifest] = read({"t.yaml": text}).objects
    assert manifest.pod_templates[0].spec["securityContext"] == {"runAsUser": 1000}
    assert manifest.trainjob_api == "v2.0"
    assert list(job_specs(manifest)) == []  # that API has no deadline field


JOB = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: train}\nspec:\n  template:\n" + indent(POD, 4)


def test_kustomize_patches_are_partial_and_apply_to_their_targets() -> None:
    files = {
        "k8s/base/kustomization.yaml": "resources: [job.yaml]\nimages:\n  - name: x\n    newTag: '2.0'\n",
        "k8s/base/job.yaml": JOB,
        "k8s/gpu/kustomization.yaml": (
            "resources: [../base]\npatches:\n  - path: gpu.yaml\n"
            "  - target: {kind: Job, name: train}\n    patch: |\n      - op: add\n        path: /spec/backoffLimit\n"
            "        value: 2\n"
        ),
        "k8s/gpu/gpu.yaml": (
            "apiVersion: batch/v1\nkind: Job\nmetadata: {name: train}\nspec:\n  template:\n    spec:\n"
            "      containers:\n        - name: a\n          resources: {limits: {nvidia.com/gpu: 1}}\n"
        ),
    }
    manifests = read(files)
    assert [(m.path, m.partial) for m in manifests.objects] == [
        ("k8s/base/job.yaml", False),
        ("k8s/gpu/gpu.yaml", True),
    ]
    assert manifests.image_overrides["x"].new_tag == "2.0"
    base = manifests.objects[0]
    variants = manifests.variants(base)
    assert len(variants) == 3
    merged = variants[1].pod_templates[0].containers[0]
    assert merged.get("image") == "x:1"  # kept from the base
    assert merged.get("resources") == {"limits": {"nvidia.com/gpu": 1}}
    assert variants[2].spec["backoffLimit"] == 2


def test_a_file_listed_as_a_resource_and_a_patch_is_a_full_object() -> None:
    files = {
        "k/kustomization.yaml": "resources: [job.yaml]\npatchesStrategicMerge: [job.yaml]\n",
        "k/job.yaml": JOB,
    }
    assert [m.partial for m in read(files).objects] == [False]


def test_secret_generator_literals_are_read() -> None:
    files = {"k/kustomization.yaml": "secretGenerator:\n  - name: s\n    literals:\n      - PASSWORD=abc\n"}
    [kustomization] = read(files).kustomizations
    assert kustomization.secret_literals == (("PASSWORD", "abc", 4),)
