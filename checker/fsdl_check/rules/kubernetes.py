"""KS: Kubernetes jobs — pods that say what they need (CPU, memory, GPUs the device plugin serves), run pinned images
as a non-root user without privileges, get a memory-backed `/dev/shm` when data loaders use workers, take secrets
by reference, and jobs that give up, time out and clean up after themselves.

Which manifests count: Kubernetes objects in the repository's YAML (see `parsing.kubernetes`), except test,
documentation, example and benchmark files and project-template sources (`kind.is_auxiliary`); secrets (KS005)
are reported wherever they are. Helm chart templates are not read. With kustomize, a patch file (referenced only
from a kustomization's `patches:`) names only what it changes: a field missing there is not reported, and a field
that a patch adds to a base object counts as set (`Manifests.variants`); `images:` entries with a `newTag` or
`digest` pin the images they name.
"""

from __future__ import annotations

import ast
import base64
import binascii
from collections.abc import Callable, Iterator
from typing import Any

from fsdl_check.kind import is_auxiliary
from fsdl_check.model import Finding, Rule, Severity
from fsdl_check.parsing.dockerfile import ImageRef
from fsdl_check.parsing.kubernetes import (
    TRAINJOB,
    Container,
    Manifest,
    Manifests,
    PodTemplate,
    job_specs,
)
from fsdl_check.parsing.lines import LineIndex
from fsdl_check.parsing.python import PythonModule
from fsdl_check.parsing.yamlfile import LineDict, YamlDoc, line_of
from fsdl_check.repo import Repo
from fsdl_check.rules.vcs import literal_secret, mask, secret_variable, secrets_in

JOB = "launch/k8s/job/job.yaml"
#: Resource names of GPUs that device plugins serve.
VENDOR_GPUS = ("nvidia.com/gpu", "amd.com/gpu", "gpu.intel.com/i915", "gpu.intel.com/xe")
#: Resource names people write for a GPU that no device plugin serves.
BARE_GPU = frozenset({"gpu", "gpus", "nvidia/gpu", "nvidia.com/gpus", "nvidia.com/GPU"})
#: Kinds that run to completion (training workloads, where /dev/shm matters).
BATCH_KINDS = frozenset({"Job", "CronJob", "JobSet", TRAINJOB, "TrainingRuntime", "ClusterTrainingRuntime"})


def own(manifests: list[Manifest]) -> list[Manifest]:
    return [m for m in manifests if not is_auxiliary(m.path)]


def true(value: Any) -> bool:
    # the YAML loader leaves booleans as text, so a manifest's `true` is a string, never True
    return isinstance(value, str) and value.strip().lower() == "true"


def where(template: PodTemplate, container: Container) -> str:
    if template.role == "trainer":
        return "its trainer"
    kind = "init container" if container.init else "container"
    return f"{template.role}: {kind} {container.name}" if template.role else f"{kind} {container.name}"


def missing_everywhere(
    manifests: Manifests, manifest: Manifest, problems: Callable[[Manifest], dict[tuple[str, str], list[str]]]
) -> dict[tuple[str, str], list[str]]:
    """The problems `problems` finds in the object and in every variant an overlay's patch makes of it (a field
    one patch adds counts as there). Keys are (pod template role, container name)."""
    variants = manifests.variants(manifest)
    found = problems(variants[0])
    for variant in variants[1:]:
        other = problems(variant)
        found = {key: [p for p in parts if p in other.get(key, [])] for key, parts in found.items()}
    return {key: parts for key, parts in found.items() if parts}


def containers_of(manifest: Manifest) -> Iterator[tuple[PodTemplate, Container]]:
    for template in manifest.pod_templates:
        for container in template.containers:
            yield template, container


# -- KS001 --------------------------------------------------------------------------------------------------------
def limit_range_defaults(manifests: list[Manifest]) -> set[str]:
    """`requests.cpu`, `limits.memory`, ... that a LimitRange in the manifests gives every container by default."""
    out: set[str] = set()
    for manifest in manifests:
        if manifest.kind != "LimitRange":
            continue
        for item in manifest.spec.get("limits") or []:
            if not isinstance(item, dict) or item.get("type") not in ("Container", None):
                continue
            for source, targets in (("default", ("limits", "requests")), ("defaultRequest", ("requests",))):
                values = item.get(source)
                for resource in values if isinstance(values, dict) else {}:
                    out.update(f"{t}.{resource}" for t in targets)
    return out


#: What every container sets. A CPU limit is left to the project: CPU over the request is throttled, not killed,
#: and many clusters leave CPU limits unset on purpose.
REQUIRED_RESOURCES = (("requests", "cpu"), ("requests", "memory"), ("limits", "memory"))


def resource_gaps(container: Container, defaults: set[str]) -> list[str]:
    resources = container.get("resources")
    resources = resources if isinstance(resources, dict) else {}
    gaps = []
    for group, name in REQUIRED_RESOURCES:
        values = resources.get(group)
        if not (isinstance(values, dict) and name in values) and f"{group}.{name}" not in defaults:
            gaps.append(f"{group}.{name}")
    return gaps


def gpu_problems(container: Container) -> list[str]:
    resources = container.get("resources")
    if not isinstance(resources, dict):
        return []
    requests: dict[Any, Any] = resources["requests"] if isinstance(resources.get("requests"), dict) else {}
    limits: dict[Any, Any] = resources["limits"] if isinstance(resources.get("limits"), dict) else {}
    out = []
    for name in sorted({str(k) for k in [*requests, *limits]}):
        if name in BARE_GPU or name.lower() in BARE_GPU:
            out.append(f"`{name}` is not a resource any device plugin serves (use nvidia.com/gpu in limits)")
        elif name in VENDOR_GPUS and name not in limits:
            out.append(f"{name} only in requests (GPUs go in limits; the API rejects requests alone)")
    return out


class KubernetesResources(Rule):
    """Every container requests CPU and memory and limits memory, and asks for GPUs as `nvidia.com/gpu` limits

    A pod without requests is scheduled as if it needed nothing: it lands on a full node and is the first evicted
    under memory pressure (QoS class BestEffort), killing a training run hours in; without a memory limit one leaky
    loader can take the node down with it. (A CPU limit is optional: CPU over the request is throttled, not
    killed.) GPUs are an extended resource served by the device plugin under its
    own name (`nvidia.com/gpu`, `amd.com/gpu`) and given in `limits` (the request follows): a bare `gpu` key, or
    a GPU only in `requests`, is rejected or ignored. A TrainJob's trainer takes them as `resourcesPerNode`. A
    LimitRange in the manifests that sets defaults counts.
    """

    code, severity = "KS001", Severity.WARNING
    fix = (
        "Give every container `resources.requests` for cpu and memory and `resources.limits` for memory, and GPUs as "
        f"`limits: {{nvidia.com/gpu: N}}`; see the template's `{JOB}`."
    )
    template_file = JOB
    example = "containers:\n  - name: train\n    image: trainer:1.0\n    resources:\n      requests: {gpu: 1}"

    def check(self, kubernetes: Manifests) -> Iterator[Finding]:
        defaults = limit_range_defaults(kubernetes.full)
        for manifest in own(kubernetes.objects):
            for _, container in containers_of(manifest):
                for problem in gpu_problems(container):
                    yield self.finding(manifest.path, container.line, f"{manifest.label}: {problem}")
            if manifest.partial:
                continue

            def gaps(variant: Manifest) -> dict[tuple[str, str], list[str]]:
                return {(t.role, c.name): resource_gaps(c, defaults) for t, c in containers_of(variant)}

            found = missing_everywhere(kubernetes, manifest, gaps)
            for template, container in containers_of(manifest):
                parts = found.get((template.role, container.name))
                if not parts:
                    continue
                everything = len(parts) == len(REQUIRED_RESOURCES)
                if manifest.kind == TRAINJOB:
                    text = "no resourcesPerNode" if everything else f"resourcesPerNode sets no {', '.join(parts)}"
                    message = f"{manifest.label}: its trainer has {text}"
                elif everything:
                    message = f"{manifest.label}: {where(template, container)} has no resource requests or limits"
                else:
                    message = f"{manifest.label}: {where(template, container)} sets no {', '.join(parts)}"
                yield self.finding(manifest.path, container.line, message)


# -- KS002 --------------------------------------------------------------------------------------------------------
#: Tags that name whatever was pushed last.
FLOATING_TAGS = frozenset({"latest", "nightly", "main", "master", "dev", "edge"})


def unpinned(image: Any, overrides: Manifests) -> str | None:
    """Why an image reference is not pinned, or None (pinned, templated, or pinned by a kustomization)."""
    if not isinstance(image, str) or not image.strip() or "{{" in image or "$" in image:
        return None
    ref = ImageRef.parse(image.strip())
    override = overrides.image_overrides.get(ref.name)
    if override is not None and override.digest:
        return None
    if override is not None and override.new_tag:
        if override.new_tag in FLOATING_TAGS:
            return f"gets the floating tag `{override.new_tag}` from {override.path} line {override.line}"
        return None
    if ref.digest:
        return None
    if ref.tag is None:
        return "has no tag (the node pulls `latest`)"
    if ref.tag in FLOATING_TAGS:
        return f"uses the floating tag `{ref.tag}`"
    return None


class KubernetesImagePinned(Rule):
    """Images are pinned to a version tag or a digest, never `latest`

    `image: trainer` and `image: trainer:latest` run whatever the registry serves when the pod starts: two workers
    of one job can run different code, a restarted pod picks up a new release mid-run, and nothing says which
    version produced a model. (`latest` also makes the default pull policy `Always`.) A version tag pins the release,
    a digest (`@sha256:...`) the bytes; a kustomization's `images:` entry with `newTag` or `digest` pins the image
    it names.
    """

    code, severity = "KS002", Severity.WARNING
    fix = f"Name a version tag or digest (`trainer:1.2.0`), or set `newTag` in kustomization `images:`; see `{JOB}`."
    template_file = JOB
    example = "containers:\n  - name: train\n    image: ghcr.io/org/trainer:latest"

    def check(self, kubernetes: Manifests) -> Iterator[Finding]:
        for manifest in own(kubernetes.objects):
            for template, container in containers_of(manifest):
                image = container.get("image")
                if (why := unpinned(image, kubernetes)) is not None:
                    line = container.data.line_of("image")
                    message = f"{manifest.label}: {where(template, container)} image {image} {why}"
                    yield self.finding(manifest.path, line, message)


# -- KS003 --------------------------------------------------------------------------------------------------------
def loader_workers(python: list[PythonModule], yaml_files: list[YamlDoc]) -> str | None:
    """Where the project's data loaders use worker processes (a literal `num_workers` above 0 in a `DataLoader`
    call or a config), or None."""
    for module in python:
        if not module.parsed or is_auxiliary(module.path) or "num_workers" not in module.text:
            continue
        for call in module.calls:
            if call.last == "DataLoader" and "num_workers" in call.keywords:
                try:
                    node = call.node
                except (LookupError, IndexError):
                    continue  # mutation: equivalent (the loop holds the module, so its calls find their nodes)
                value = next((k.value for k in node.keywords if k.arg == "num_workers"), None)
                if isinstance(value, ast.Constant) and isinstance(value.value, int) and value.value > 0:
                    return f"num_workers={value.value}, {module.path} line {call.line}"
    for doc in yaml_files:
        if is_auxiliary(doc.path) or doc.path.startswith(".") or "num_workers" not in doc.text:
            continue
        for document in doc.documents:
            if isinstance(document, dict) and "apiVersion" in document and "kind" in document:
                continue
            if (found := _workers_in(document, 0)) is not None:
                return f"num_workers: {found[0]}, {doc.path} line {found[1]}"
    return None


def _workers_in(value: Any, depth: int) -> tuple[int, int] | None:
    if depth > 20:
        return None
    if isinstance(value, LineDict):
        for key, item in value.items():
            if key == "num_workers" and isinstance(item, int) and not isinstance(item, bool) and item > 0:
                return item, value.line_of(key)
            if isinstance(item, dict | list) and (found := _workers_in(item, depth + 1)) is not None:
                return found
    elif isinstance(value, list):
        for item in value:
            if (found := _workers_in(item, depth + 1)) is not None:
                return found
    return None


SHM = "/dev/shm"  # noqa: S108  (the path a container's shared memory lives at, not a temporary file)


def has_memory_shm(template: PodTemplate) -> bool:
    memory_volumes = set()
    for volume in template.volumes:
        empty_dir = volume.get("emptyDir")
        if isinstance(empty_dir, dict) and str(empty_dir.get("medium", "")).lower() == "memory":
            memory_volumes.add(volume.get("name"))
    for container in template.containers:
        for mount in container.get("volumeMounts") or []:
            path = str(mount.get("mountPath", "")).rstrip("/") if isinstance(mount, dict) else ""
            if path == SHM and mount.get("name") in memory_volumes:
                return True
    return False


def is_batch(manifest: Manifest) -> bool:
    return manifest.kind in BATCH_KINDS or any(isinstance(k, str) and k.endswith("ReplicaSpecs") for k in manifest.spec)


class KubernetesSharedMemory(Rule):
    """Training pods mount a memory-backed `/dev/shm` when the data loaders use workers

    PyTorch's DataLoader workers hand batches to the trainer through shared memory, and a container's `/dev/shm`
    is 64 MiB: with `num_workers > 0` a training pod fails with "bus error" or "unable to write to file
    </torch_...>" at the first large batch. An `emptyDir` volume with `medium: Memory` mounted at `/dev/shm` gives
    the loaders room (set a `sizeLimit`; it counts against the memory limit). Checked for batch workloads (Job,
    CronJob, Kubeflow jobs, JobSet, TrainJob) when the project's code or configs set `num_workers` above zero.
    """

    code, severity = "KS003", Severity.WARNING
    fix = (
        "Add a volume `{name: dshm, emptyDir: {medium: Memory, sizeLimit: 2Gi}}` mounted at `/dev/shm`; see the "
        f"template's `{JOB}`."
    )
    template_file = JOB
    example = "# DataLoader(ds, num_workers=8) in the code\nspec:\n  containers:\n    - name: train\n      image: t:1.0"

    def check(self, kubernetes: Manifests, python: list[PythonModule], yaml_files: list[YamlDoc]) -> Iterator[Finding]:
        batch = [m for m in own(kubernetes.full) if is_batch(m)]
        if not batch:
            return
        workers = loader_workers(python, yaml_files)
        if workers is None:
            return
        for manifest in batch:

            def missing(variant: Manifest) -> dict[tuple[str, str], list[str]]:
                return {(t.role, ""): [] if has_memory_shm(t) else ["shm"] for t in variant.pod_templates}

            found = missing_everywhere(kubernetes, manifest, missing)
            for template in manifest.pod_templates:
                if (template.role, "") in found:
                    role = f" ({template.role})" if template.role else ""
                    message = (
                        f"{manifest.label}{role}: no memory-backed /dev/shm, but the data loaders use workers "
                        f"({workers}) and a container's /dev/shm is 64 MiB"
                    )
                    yield self.finding(manifest.path, template.line, message)


# -- KS004 --------------------------------------------------------------------------------------------------------
def security_problems(template: PodTemplate, container: Container, partial: bool) -> list[str]:
    """What makes a container run with privileges: present values always, missing settings unless `partial`."""
    pod = template.spec.get("securityContext")
    pod = pod if isinstance(pod, dict) else {}
    own_context = container.get("securityContext")
    own_context = own_context if isinstance(own_context, dict) else {}
    out = []
    if true(own_context.get("privileged")):
        out.append("privileged")
    escalation = own_context.get("allowPrivilegeEscalation")
    if true(escalation) or (escalation is None and not partial):
        out.append("allowPrivilegeEscalation is not false")
    non_root = own_context.get("runAsNonRoot", pod.get("runAsNonRoot"))
    user = own_context.get("runAsUser", pod.get("runAsUser"))
    positive = isinstance(user, int) and (
        user > 0  # mutation: equivalent (a user 0 is taken by the branch below first)
    )
    if user == 0 or user == "0":
        out.append("runs as root (runAsUser: 0)")
    elif not true(non_root) and not positive and not partial:
        out.append("may run as root (no runAsNonRoot: true or non-zero runAsUser)")
    return out


class KubernetesSecurityContext(Rule):
    """Containers are not privileged, cannot escalate privileges, and run as a non-root user

    A privileged container has every capability and the host's devices: a bug or a malicious dependency in the
    training code owns the node, and with it other teams' jobs and credentials. `allowPrivilegeEscalation` defaults
    to true (setuid binaries gain root), and an image that does not set a user runs as root unless the pod says
    `runAsNonRoot: true` (or a non-zero `runAsUser`). GPUs need neither privileges nor root: the device plugin mounts
    them. Pod-level `runAsNonRoot`/`runAsUser` count for every container.
    """

    code, severity = "KS004", Severity.WARNING
    security_severity = 5.0  # code scanning's score (high at 7+, critical at 9+)
    fix = (
        "Set `securityContext: {runAsNonRoot: true, allowPrivilegeEscalation: false}` (and no `privileged`) on "
        f"every container; see the template's `{JOB}`."
    )
    template_file = JOB
    example = "containers:\n  - name: train\n    image: trainer:1.0\n    securityContext: {privileged: true}"

    def check(self, kubernetes: Manifests) -> Iterator[Finding]:
        for manifest in own(kubernetes.objects):

            def problems(variant: Manifest, partial: bool = manifest.partial) -> dict[tuple[str, str], list[str]]:
                return {(t.role, c.name): security_problems(t, c, partial) for t, c in containers_of(variant)}

            found = problems(manifest) if manifest.partial else missing_everywhere(kubernetes, manifest, problems)
            for template, container in containers_of(manifest):
                parts = found.get((template.role, container.name))
                if parts:
                    message = f"{manifest.label}: {where(template, container)}: {'; '.join(parts)}"
                    yield self.finding(manifest.path, container.line, message)


# -- KS005 --------------------------------------------------------------------------------------------------------
#: Secret keys that hold credentials by their conventional names (`kubernetes.io/*` secret types and common keys).
CREDENTIAL_KEYS = frozenset({
    "password", "passwd", "token", "tls.key", "ssh-privatekey", ".dockerconfigjson", ".dockercfg", "api-key",
    "apikey", "secret", "access-key", "secret-key", "accesskey", "secretkey", "credentials", "key",
})  # fmt: skip


#: Well-known default credentials of local services (MinIO, PostgreSQL, RabbitMQ, ...): demo values, not leaks.
KNOWN_DEFAULTS = frozenset({
    "minioadmin", "minio123", "admin", "root", "guest", "postgres", "mlflow", "demo", "password123", "secret123",
})  # fmt: skip


def credential_value(name: str, value: str) -> bool:
    """Whether a Secret/ConfigMap entry or env variable `name` holds a real-looking credential `value` (an access
    key's ID, a placeholder or a service's well-known default is not one)."""
    if value.strip().lower() in KNOWN_DEFAULTS:  # empty values and placeholders: literal_secret refuses them
        return False
    if name.upper().replace("-", "_").endswith("_ID"):
        return False
    named = secret_variable(name) or name.lower() in CREDENTIAL_KEYS or name.lower().endswith((".key", ".pem"))
    return named and literal_secret(value)


def decoded(value: str) -> str | None:
    try:
        return base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


class KubernetesSecretsByReference(Rule):
    """Secrets are referenced, never written into the manifests

    A `Secret` whose `data` or `stringData` holds the real value puts the credential in git, in every fork and
    clone, and in the CI logs of whoever applies it; base64 in `data` is an encoding, not encryption. The same goes
    for a credential-named `env` value (`*_PASSWORD`, `*_TOKEN`, `*_API_KEY`) or ConfigMap entry written as a
    literal, and for kustomize `secretGenerator` literals. Create the Secret outside the repository (`kubectl create
    secret`, External Secrets, Sealed Secrets, SOPS) and refer to it with `secretKeyRef`/`envFrom`. Placeholders
    (`changeme`, `<token>`, empty values) are not reported; tokens the secret scan (VC005) already reports are not
    reported twice.
    """

    code, severity = "KS005", Severity.ERROR
    security_severity = 8.0  # code scanning's score (high at 7+, critical at 9+)
    fix = (
        "Delete the value (rotate it), create the Secret out of band, and use `valueFrom.secretKeyRef`; see the "
        f"template's `{JOB}`."
    )
    template_file = JOB
    example = "kind: Secret\nstringData:\n  MLFLOW_TRACKING_PASSWORD: hunter2-Xk9qLm3vPz7RtY"

    def check(self, kubernetes: Manifests, repo: Repo) -> Iterator[Finding]:
        scanned: dict[str, set[int]] = {}

        def reported_by_vc005(path: str, line: int) -> bool:
            if path not in scanned:
                text = repo.text(path) or ""
                lines = LineIndex(text)
                scanned[path] = {lines.line(offset) for offset, _ in secrets_in(text)}
            return line in scanned[path]

        for finding in self._findings(kubernetes):
            line = finding.line or 0  # mutation: equivalent (every KS005 finding has a line; 0 is for the type)
            if "{{" not in finding.path and not reported_by_vc005(finding.path, line):
                yield finding

    def _findings(self, kubernetes: Manifests) -> Iterator[Finding]:
        for manifest in kubernetes.objects:
            if manifest.kind in ("Secret", "ConfigMap"):
                for field in ("stringData", "data") if manifest.kind == "Secret" else ("data",):
                    values = manifest.data.get(field)
                    if not isinstance(values, LineDict):
                        continue
                    for name, value in values.items():
                        text = str(value) if value is not None else ""
                        if manifest.kind == "Secret" and field == "data":
                            text = decoded(text) or ""
                        if credential_value(str(name), text):
                            what = "base64 in data, not encrypted" if field == "data" else field
                            message = f"{manifest.label} holds a literal {name} ({mask(text)}, {what})"
                            yield self.finding(manifest.path, values.line_of(name), message)
            for template, container in containers_of(manifest):
                for variable in container.get("env") or []:
                    if not isinstance(variable, LineDict) or "value" not in variable:
                        continue
                    name, value = str(variable.get("name", "")), variable.get("value")
                    text = str(value) if value is not None else ""
                    if text.startswith("$(") or not credential_value(name, text):
                        continue
                    message = (
                        f"{manifest.label}: {where(template, container)} sets {name} to a literal ({mask(text)}) "
                        "instead of a secretKeyRef"
                    )
                    yield self.finding(manifest.path, line_of(variable.get("value"), variable.line), message)
        for kustomization in kubernetes.kustomizations:
            for name, value, line in kustomization.secret_literals:
                if credential_value(name, value):
                    message = f"secretGenerator literal {name} ({mask(value)}) is committed with the kustomization"
                    yield self.finding(kustomization.path, line, message)


# -- KS006 --------------------------------------------------------------------------------------------------------
def job_gaps(manifest: Manifest) -> dict[tuple[str, str], list[str]]:
    return {(label, ""): [key for key in keys if key not in spec] for label, spec, keys in job_specs(manifest)}


class KubernetesJobLimits(Rule):
    """Jobs set a retry limit, a deadline and a time to live

    Without `backoffLimit` a failing Job is retried six times, each retry a full start of a training pod on
    expensive nodes; without `activeDeadlineSeconds` a hung run (a deadlock in a collective, a stuck data loader)
    holds its GPUs forever; without `ttlSecondsAfterFinished` finished Jobs and their pods pile up until someone
    deletes them. Kubeflow jobs take these in `runPolicy`; a CronJob's job template needs the first two (its
    history limits clean up); a JobSet takes the time to live itself and the others in its jobs; a RayJob and a
    Trainer v2.2 TrainJob take `activeDeadlineSeconds` (older TrainJob releases have none of these fields).
    """

    code, severity = "KS006", Severity.INFO
    fix = f"Set `backoffLimit`, `activeDeadlineSeconds` and `ttlSecondsAfterFinished` in the job spec; see `{JOB}`."
    template_file = JOB
    example = "kind: Job\nspec:\n  template:\n    spec:\n      containers: [...]"

    def check(self, kubernetes: Manifests) -> Iterator[Finding]:
        for manifest in own(kubernetes.full):
            found = missing_everywhere(kubernetes, manifest, job_gaps)
            for label, spec, _ in job_specs(manifest):
                parts = found.get((label, ""))
                if parts:
                    listed = ", ".join(parts[:-1]) + (" or " if len(parts) > 1 else "") + parts[-1]
                    where_ = f" {label}" if label else ""
                    message = f"{manifest.label}{where_} sets no {listed}"
                    yield self.finding(manifest.path, spec.line or manifest.line, message)
