"""Kubernetes manifests, read from YAML documents already loaded (with their lines) by `parsing.yamlfile`.

- An object is a YAML document that is a mapping with a string `apiVersion` and `kind`; every other document
  (configuration, CI files, a Helm template that did not load) is not one. Documents of a Helm chart's
  `templates/` directory are left out: their values come from `values.yaml` at install time.
- `kustomization.yaml` (and `.yml`, `Kustomization`) is not an object; it marks a kustomize directory, and its
  `images:` entries (`newTag`, `digest`) are read, and so are its patches: a file referenced only from `patches:`,
  `patchesStrategicMerge:` or `patchesJson6902:` holds partial objects (a strategic-merge patch names only the fields
  it changes), marked `partial`. `Manifests.variants` merges an object with the patches that target it, so that a
  field an overlay adds counts as there.
- Pod templates are found by kind: Pod; PodTemplate; Deployment, StatefulSet, DaemonSet, ReplicaSet, Job
  (`spec.template`); CronJob (`spec.jobTemplate`); Kubeflow v1 jobs (PyTorchJob, TFJob, MPIJob, ...:
  `spec.<kind>ReplicaSpecs.<role>.template`); JobSet and Kubeflow Trainer's (Cluster)TrainingRuntime
  (`replicatedJobs[].template.spec.template`); KubeRay's RayCluster, RayJob (`rayClusterSpec`, and its submitter pod)
  and RayService (`rayClusterConfig`): `headGroupSpec.template` and `workerGroupSpecs[].template`. A Trainer v2
  `TrainJob` has no pod template of its own: its `spec.trainer` (image, env, `resourcesPerNode`) and the pod patches
  of its API release (`runtimePatches` from v2.2, earlier `podTemplateOverrides` and `podSpecOverrides`) are put
  together as one pod with one container, `node`, the trainer's.
"""

from __future__ import annotations

import copy
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from fsdl_check.parsing.yamlfile import LineDict, LineList, YamlDoc, line_of, parse_yaml

KUSTOMIZATION_NAMES = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})
TEMPLATE_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"})
RAY_KINDS = frozenset({"RayCluster", "RayJob", "RayService"})
JOBSET_KINDS = frozenset({"JobSet", "TrainingRuntime", "ClusterTrainingRuntime"})
TRAINJOB = "TrainJob"
#: Most objects read from one repository (a real one has a few hundred at most).
MAX_OBJECTS = 20_000
#: Most patched variants made of one object (real overlays patch an object a handful of times).
MAX_VARIANTS = 16


def is_kustomization_name(name: str) -> bool:
    return name in KUSTOMIZATION_NAMES


@dataclass(frozen=True)
class Container:
    """A container (or init container) of a pod template: its mapping, name and line."""

    data: LineDict
    name: str
    line: int
    init: bool = False

    def get(self, key: str) -> Any:
        return self.data.get(key)


@dataclass(frozen=True)
class PodTemplate:
    """A pod spec inside an object: `role` says which one for messages ("" for the only one, "Worker replica",
    "worker group gpu", ...)."""

    spec: LineDict
    role: str
    line: int

    @property
    def containers(self) -> list[Container]:
        out: list[Container] = []
        for key, init in (("initContainers", True), ("containers", False)):
            items = self.spec.get(key)
            for item in items if isinstance(items, list) else []:
                if isinstance(item, LineDict):
                    out.append(Container(item, str(item.get("name") or "?"), item.line, init))
        return out

    @property
    def volumes(self) -> list[LineDict]:
        items = self.spec.get("volumes")
        return [v for v in items if isinstance(v, LineDict)] if isinstance(items, list) else []


@dataclass(frozen=True)
class Manifest:
    """One Kubernetes object. `partial` marks a kustomize patch, which names only the fields it changes."""

    path: str
    data: LineDict
    kind: str
    api_version: str
    name: str
    partial: bool = False

    @property
    def line(self) -> int:
        return self.data.line

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}" if self.name else self.kind

    @property
    def spec(self) -> LineDict:
        spec = self.data.get("spec")
        return spec if isinstance(spec, LineDict) else _empty(self.line)

    @property
    def pod_templates(self) -> list[PodTemplate]:
        return list(pod_templates(self))

    @property
    def trainjob_api(self) -> str | None:
        """For a TrainJob, the Trainer API release its pod patches belong to: "v2.2" (`runtimePatches`), "v2.0"
        (`podTemplateOverrides` or `podSpecOverrides`), or None when it uses neither."""
        if self.kind != TRAINJOB:
            return None
        if "runtimePatches" in self.spec:
            return "v2.2"
        if "podTemplateOverrides" in self.spec or "podSpecOverrides" in self.spec:
            return "v2.0"
        return None


def _empty(line: int) -> LineDict:
    empty = LineDict()
    empty.line = line
    empty.key_lines = {}
    return empty


def _dict(value: Any) -> LineDict | None:
    return value if isinstance(value, LineDict) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _template_spec(holder: Any) -> LineDict | None:
    """`holder.template.spec` (a pod template inside a controller's spec)."""
    template = _dict(holder.get("template")) if isinstance(holder, dict) else None
    return _dict(template.get("spec")) if template is not None else None


def _ray_cluster(spec: LineDict | None, prefix: str) -> Iterator[PodTemplate]:
    if spec is None:
        return
    head = _dict(spec.get("headGroupSpec"))
    if head is not None and (pod := _template_spec(head)) is not None:
        yield PodTemplate(pod, f"{prefix}head group", pod.line)
    for group in _list(spec.get("workerGroupSpecs")):
        if isinstance(group, dict) and (pod := _template_spec(group)) is not None:
            yield PodTemplate(pod, f"{prefix}worker group {group.get('groupName') or '?'}", pod.line)


def _replicated_jobs(spec: LineDict | None) -> Iterator[PodTemplate]:
    for job in _list(spec.get("replicatedJobs")) if spec is not None else []:
        template = _dict(job.get("template")) if isinstance(job, dict) else None
        pod = _template_spec(_dict(template.get("spec"))) if template is not None else None
        if pod is not None:
            yield PodTemplate(pod, f"replicated job {job.get('name') or '?'}", pod.line)


def pod_templates(manifest: Manifest) -> Iterator[PodTemplate]:
    """The pod specs of an object (see the module docstring)."""
    kind, data, spec = manifest.kind, manifest.data, manifest.spec
    if kind == "Pod":
        if "containers" in spec or "initContainers" in spec or manifest.partial:
            yield PodTemplate(spec, "", spec.line)
    elif kind == "PodTemplate":
        if (pod := _template_spec(data)) is not None:
            yield PodTemplate(pod, "", pod.line)
    elif kind in TEMPLATE_KINDS:
        if (pod := _template_spec(spec)) is not None:
            yield PodTemplate(pod, "", pod.line)
    elif kind == "CronJob":
        job = _dict(spec.get("jobTemplate"))
        if job is not None and (pod := _template_spec(_dict(job.get("spec")))) is not None:
            yield PodTemplate(pod, "", pod.line)
    elif kind in JOBSET_KINDS:
        holder = spec if kind == "JobSet" else _dict((_dict(spec.get("template")) or _empty(0)).get("spec"))
        yield from _replicated_jobs(holder)
    elif kind in RAY_KINDS:
        if kind == "RayJob":
            yield from _ray_cluster(_dict(spec.get("rayClusterSpec")), "")
            submitter = _dict(spec.get("submitterPodTemplate"))
            if submitter is not None and (pod := _dict(submitter.get("spec"))) is not None:
                yield PodTemplate(pod, "submitter", pod.line)
        else:
            yield from _ray_cluster(_dict(spec.get("rayClusterConfig")) if kind == "RayService" else spec, "")
    elif kind == TRAINJOB:
        if (pod := trainjob_pod(manifest)) is not None:
            yield PodTemplate(pod, "trainer", pod.line)
    else:
        for key, replicas in spec.items():
            if isinstance(key, str) and key.endswith("ReplicaSpecs") and isinstance(replicas, dict):
                for role, replica in replicas.items():
                    if (pod := _template_spec(replica)) is not None:
                        yield PodTemplate(pod, f"{role} replica", pod.line)


def _trainjob_patches(spec: LineDict) -> Iterator[LineDict]:
    """The pod spec patches of a TrainJob that reach the trainer's pods (those for the `node` job, or for all)."""
    for patch in _list(spec.get("runtimePatches")):
        runtime = _dict(patch.get("trainingRuntimeSpec")) if isinstance(patch, dict) else None
        template = _dict(runtime.get("template")) if runtime is not None else None
        jobs = _replicated_jobs(_dict(template.get("spec")) if template is not None else None)
        yield from (job.spec for job in jobs if job.role in ("replicated job node", "replicated job ?"))
    for override in _list(spec.get("podTemplateOverrides")) + _list(spec.get("podSpecOverrides")):
        if not isinstance(override, LineDict):
            continue
        targets = {str(t.get("name")) for t in _list(override.get("targetJobs")) if isinstance(t, dict)}
        if targets and "node" not in targets:
            continue
        body = _dict(override.get("spec"))
        yield body if body is not None else override


def trainjob_pod(manifest: Manifest) -> LineDict | None:
    """A TrainJob's trainer pod as one pod spec: the `node` container made of `spec.trainer` (image, env,
    `resourcesPerNode` as its resources) and the patches' `node` container (security context, mounts); the
    patches' volumes and pod security context."""
    spec = manifest.spec
    trainer = _dict(spec.get("trainer"))
    pod = _empty(trainer.line if trainer is not None else spec.line)
    node = _empty(pod.line)
    node["name"] = "node"
    if trainer is not None:
        for source, target in (("image", "image"), ("env", "env"), ("resourcesPerNode", "resources")):
            if source in trainer:
                node[target] = trainer[source]
                node.key_lines[target] = trainer.line_of(source)
    volumes = LineList()
    volumes.line = pod.line
    for patch in _trainjob_patches(spec):
        if "securityContext" in patch:
            pod["securityContext"] = patch["securityContext"]
        volumes.extend(v for v in _list(patch.get("volumes")) if isinstance(v, LineDict))
        for container in _list(patch.get("containers")):
            if isinstance(container, LineDict) and container.get("name") == "node":
                for key in ("securityContext", "volumeMounts"):
                    if key in container:
                        node[key] = container[key]
                        node.key_lines[key] = container.line_of(key)
                if "env" in container:
                    node["env"] = _list(node.get("env")) + _list(container["env"])
    if volumes:
        pod["volumes"] = volumes
    containers = LineList([node])
    containers.line = node.line
    pod["containers"] = containers
    return pod


JOB_FIELDS = ("backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished")


def job_specs(manifest: Manifest) -> Iterator[tuple[str, LineDict, tuple[str, ...]]]:
    """(what it is, the mapping, the fields it takes of `backoffLimit`, `activeDeadlineSeconds` and
    `ttlSecondsAfterFinished`) for each run-to-completion workload of an object."""
    kind, spec = manifest.kind, manifest.spec
    if kind == "Job":
        yield "", spec, JOB_FIELDS
    elif kind == "CronJob":
        job = _dict(spec.get("jobTemplate"))
        if job is not None:
            yield "job template", _dict(job.get("spec")) or _empty(job.line), JOB_FIELDS[:2]
    elif kind == "JobSet":
        yield "", spec, JOB_FIELDS[2:]
        for job in _list(spec.get("replicatedJobs")):
            template = _dict(job.get("template")) if isinstance(job, dict) else None
            job_spec = _dict(template.get("spec")) if template is not None else None
            if job_spec is not None:
                yield f"replicated job {job.get('name') or '?'}", job_spec, JOB_FIELDS[:2]
    elif kind == "RayJob" or (kind == TRAINJOB and manifest.trainjob_api == "v2.2"):
        yield "", spec, JOB_FIELDS[1:2]
    elif kind.endswith("Job") and any(isinstance(k, str) and k.endswith("ReplicaSpecs") for k in spec):
        yield "runPolicy", _dict(spec.get("runPolicy")) or _empty(spec.line), JOB_FIELDS


# -- kustomize ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImageOverride:
    """A kustomization `images:` entry: the image name it matches and whether it pins a tag or digest."""

    name: str
    new_tag: str | None
    digest: str | None
    line: int
    path: str = ""


@dataclass(frozen=True)
class Patch:
    """A patch from a kustomization: its documents, the target it names (kind, name; either may be None), and whether
    it is a JSON 6902 patch (a list of operations)."""

    documents: tuple[Any, ...]
    kind: str | None
    name: str | None
    json6902: bool = False

    def targets(self, manifest: Manifest) -> bool:
        return (self.kind in (None, manifest.kind)) and (self.name in (None, manifest.name))


@dataclass(frozen=True)
class Kustomization:
    path: str
    directory: str
    resources: tuple[str, ...]
    patch_files: tuple[str, ...]
    images: tuple[ImageOverride, ...]
    #: `secretGenerator` literals as (name, value, line).
    secret_literals: tuple[tuple[str, str, int], ...] = ()


@dataclass
class Manifests:
    """Every Kubernetes object and kustomization of a repository."""

    objects: list[Manifest] = field(default_factory=list)
    kustomizations: list[Kustomization] = field(default_factory=list)
    patches: list[Patch] = field(default_factory=list)
    _variants: dict[int, list[Manifest]] = field(default_factory=dict, repr=False)

    @property
    def full(self) -> list[Manifest]:
        return [m for m in self.objects if not m.partial]

    @property
    def image_overrides(self) -> dict[str, ImageOverride]:
        return {image.name: image for k in self.kustomizations for image in k.images}

    def variants(self, manifest: Manifest) -> list[Manifest]:
        """The object, and the object with each patch that targets it applied (what overlays build); at most
        `MAX_VARIANTS`, computed once per object."""
        key = id(manifest)
        if key not in self._variants:
            self._variants[key] = self._make_variants(manifest)
        return self._variants[key]

    def _make_variants(self, manifest: Manifest) -> list[Manifest]:
        out = [manifest]
        for patch in self.patches:
            if len(out) >= MAX_VARIANTS:
                break
            if not patch.targets(manifest):
                continue
            for document in patch.documents:
                if patch.json6902 and isinstance(document, list):
                    data = apply_json6902(manifest.data, document)
                elif isinstance(document, dict) and not patch.json6902:
                    if patch.kind is None and document.get("kind") not in (None, manifest.kind):
                        continue
                    meta = document.get("metadata")
                    if patch.name is None and isinstance(meta, dict) and meta.get("name") not in (None, manifest.name):
                        continue
                    data = strategic_merge(manifest.data, document)
                else:
                    continue
                if isinstance(data, LineDict):
                    out.append(Manifest(manifest.path, data, manifest.kind, manifest.api_version, manifest.name))
        return out


def strategic_merge(base: Any, patch: Any) -> Any:
    """`patch` merged into `base` as kustomize's strategic merge does it for the common cases: mappings merge key by
    key, lists of mappings with a `name` merge by name, other lists are replaced, `null` deletes."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = LineDict(base)
        merged.line = getattr(base, "line", 0)
        merged.key_lines = dict(getattr(base, "key_lines", {}))
        for key, value in patch.items():
            if value is None or value == "null":
                merged.pop(key, None)
            else:
                merged[key] = strategic_merge(base.get(key), value)
        return merged
    if isinstance(base, list) and isinstance(patch, list):
        named = all(isinstance(item, dict) and "name" in item for item in [*base, *patch])
        if named and base:
            result = LineList(base)
            result.line = getattr(base, "line", 0)
            for item in patch:
                index = next((i for i, old in enumerate(result) if old.get("name") == item.get("name")), None)
                if index is None:
                    result.append(item)
                else:
                    result[index] = strategic_merge(result[index], item)
            return result
    return patch


def apply_json6902(base: LineDict, operations: list[Any]) -> LineDict:
    """`base` with the `add` and `replace` operations of a JSON 6902 patch applied (others are left out)."""
    result = copy.deepcopy(base)
    for operation in operations:
        if not isinstance(operation, dict) or operation.get("op") not in ("add", "replace"):
            continue
        path = str(operation.get("path") or "")
        parts = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
        if not parts:
            continue
        target: Any = result
        for part in parts[:-1]:
            if isinstance(target, dict):
                if part not in target:
                    target[part] = _empty(0)
                target = target[part]
            elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                target = target[int(part)]
            else:
                target = None
                break
        last = parts[-1]
        if isinstance(target, dict):
            target[last] = operation.get("value")
        elif isinstance(target, list):
            if last == "-":
                target.append(operation.get("value"))
            elif last.isdigit() and int(last) <= len(target):
                if operation.get("op") == "add":
                    target.insert(int(last), operation.get("value"))
                elif int(last) < len(target):
                    target[int(last)] = operation.get("value")
    return result


def _relative(directory: str, reference: str) -> str:
    return posixpath.normpath(posixpath.join(directory, reference)) if directory else posixpath.normpath(reference)


def _read_kustomization(doc: YamlDoc, data: LineDict) -> tuple[Kustomization, list[tuple[str | None, Any]]]:
    """The kustomization, and its patches as (file path or None, inline documents or the target) pairs."""
    directory = posixpath.dirname(doc.path)
    resources = tuple(
        _relative(directory, str(r)) for key in ("resources", "bases", "components") for r in _list(data.get(key))
    )
    images = []
    for entry in _list(data.get("images")):
        if isinstance(entry, LineDict) and entry.get("name"):
            tag, digest = entry.get("newTag"), entry.get("digest")
            images.append(
                ImageOverride(
                    str(entry["name"]), str(tag) if tag else None, str(digest) if digest else None, entry.line, doc.path
                )
            )
    patches: list[tuple[str | None, Any]] = []
    for key in ("patches", "patchesStrategicMerge", "patchesJson6902"):
        for entry in _list(data.get(key)):
            patches.append((key, entry))
    files = tuple(
        _relative(directory, str(entry["path"]))
        for _, entry in patches
        if isinstance(entry, dict) and entry.get("path")
    ) + tuple(
        _relative(directory, str(entry))
        for key, entry in patches
        if key == "patchesStrategicMerge" and isinstance(entry, str) and "\n" not in entry
    )
    literals = []
    for generator in _list(data.get("secretGenerator")):
        for literal in _list(generator.get("literals")) if isinstance(generator, dict) else []:
            name, equals, value = str(literal).partition("=")
            if equals:
                literals.append((name.strip(), value.strip(), line_of(literal, generator.line)))
    kustomization = Kustomization(doc.path, directory, resources, files, tuple(images), tuple(literals))
    return kustomization, patches


def read_manifests(docs: Iterable[YamlDoc], chart_dirs: Iterable[str] = ()) -> Manifests:
    """The Kubernetes objects and kustomizations among `docs` (see the module docstring). `chart_dirs` are the
    directories of Helm charts (those holding a `Chart.yaml`); their `templates/` are left out."""
    charts = tuple(d + "/templates/" if d else "templates/" for d in chart_dirs)
    out = Manifests()
    docs = [d for d in docs if not d.error and not d.path.startswith(charts)]
    raw_patches: list[tuple[Kustomization, str | None, Any]] = []
    for doc in docs:
        if not is_kustomization_name(doc.path.rsplit("/", 1)[-1]):
            continue
        data = doc.first
        if isinstance(data, LineDict):
            kustomization, patches = _read_kustomization(doc, data)
            out.kustomizations.append(kustomization)
            raw_patches.extend((kustomization, key, entry) for key, entry in patches)
    resources = {r for k in out.kustomizations for r in k.resources}
    patch_files = {p for k in out.kustomizations for p in k.patch_files} - resources
    by_path = {d.path: d for d in docs}
    for kustomization, key, entry in raw_patches:
        patch = _patch(kustomization, key, entry, by_path)
        if patch is not None:
            out.patches.append(patch)
    for doc in docs:
        if is_kustomization_name(doc.path.rsplit("/", 1)[-1]):
            continue
        for document in doc.documents:
            if len(out.objects) >= MAX_OBJECTS:
                return out
            manifest = _manifest(doc.path, document, doc.path in patch_files)
            if manifest is not None:
                out.objects.append(manifest)
    return out


def _manifest(path: str, document: Any, partial: bool) -> Manifest | None:
    if not isinstance(document, LineDict):
        return None
    kind, api = document.get("kind"), document.get("apiVersion")
    if not isinstance(kind, str) or not isinstance(api, str) or not kind or kind == "Kustomization":
        return None
    if kind == "List":
        return None
    meta = document.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return Manifest(path, document, kind, api, str(name) if name is not None else "", partial)


def _patch(kustomization: Kustomization, key: str | None, entry: Any, by_path: dict[str, YamlDoc]) -> Patch | None:
    target = _dict(entry.get("target")) if isinstance(entry, dict) else None
    kind = str(target["kind"]) if target is not None and target.get("kind") else None
    name = str(target["name"]) if target is not None and target.get("name") else None
    documents: tuple[Any, ...] = ()
    if isinstance(entry, dict) and entry.get("path"):
        doc = by_path.get(_relative(kustomization.directory, str(entry["path"])))
        documents = doc.documents if doc is not None else ()
    elif isinstance(entry, dict) and isinstance(entry.get("patch"), str):
        documents = parse_yaml(kustomization.path, str(entry["patch"])).documents
    elif isinstance(entry, str):
        if "\n" in entry:
            documents = parse_yaml(kustomization.path, entry).documents
        else:
            doc = by_path.get(_relative(kustomization.directory, entry))
            documents = doc.documents if doc is not None else ()
    if not documents:
        return None
    json6902 = key == "patchesJson6902" or all(isinstance(d, list) for d in documents)
    if kind is None and name is None and not json6902 and len(documents) == 1 and isinstance(documents[0], dict):
        meta = documents[0].get("metadata")
        kind = str(documents[0].get("kind")) if documents[0].get("kind") else None
        name = str(meta.get("name")) if isinstance(meta, dict) and meta.get("name") else None
    return Patch(documents, kind, name, json6902)


def value_line(holder: Any, key: str, default: int) -> int:
    """The line of `holder[key]` (its key's line for a mapping), or `default`."""
    if isinstance(holder, LineDict) and key in holder:
        return holder.line_of(key)
    return line_of(holder, default)
