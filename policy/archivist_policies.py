"""Archivist CrossGuard rules for Kubernetes resources.

Every rule is a pure function ``check_xxx(resource_type, props, ...) -> list[str]``
that returns one message per violation (naming the container or object, the field,
and the fix). The functions read the camelCase resource inputs Pulumi hands to a
policy pack (``spec.template.spec.containers`` and so on) and accept plain dicts as
well as the read-only ``Mapping``/``Sequence`` proxies ``pulumi_policy`` passes in,
so they can be tested without the Pulumi engine.

``POLICIES`` wraps each rule in a ``ResourceValidationPolicy``; ``__main__.py``
hands that list to ``PolicyPack``.

Unknown values: during ``pulumi preview`` a property computed from another resource
(say an image reference built by ``docker-build``) is unknown. Reading it raises
``pulumi_policy``'s ``UnknownValueError``, which the SDK turns into an advisory
"can't run policy during preview" note; the rules deliberately never swallow it, so
the value is checked on ``pulumi up``.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

PACK_NAME = "archivist-k8s-policies"
PACK_DESCRIPTION = (
    "Guardrails for the Archivist Kubernetes deployment: resources, probes, pinned "
    "images, Pod Security 'restricted', no unapproved external Services, and "
    "protected stateful stores on production stacks."
)

# --------------------------------------------------------------------------------------
# Resource kinds
# --------------------------------------------------------------------------------------

LONG_RUNNING_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"})
"""Controllers whose pods are expected to run forever (probes required)."""

BATCH_KINDS = frozenset({"Job", "CronJob"})
WORKLOAD_KINDS = LONG_RUNNING_KINDS | BATCH_KINDS | frozenset({"Pod"})

EXTERNAL_SERVICE_TYPES = ("LoadBalancer", "NodePort")
ALLOW_EXTERNAL_SERVICE_ANNOTATION = "archivist.dev/allow-external-service"

PROTECTED_STORE_KINDS = {
    # kind -> API group ("core" for the legacy group)
    "Namespace": "core",
    "StatefulSet": "apps",
    "PersistentVolumeClaim": "core",
    "StorageClass": "storage.k8s.io",
}

DEFAULT_PRODUCTION_STACKS: tuple[str, ...] = ("prod", "prod-*", "production")
PRODUCTION_STACKS_KEY = "productionStacks"

ALLOWED_SECCOMP_TYPES = ("RuntimeDefault", "Localhost")
ALLOWED_ADDED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
HOST_NAMESPACE_FIELDS = ("hostNetwork", "hostPID", "hostIPC")

_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


def parse_resource_type(resource_type: str) -> tuple[str, str] | None:
    """Split ``kubernetes:<group>/<version>:<Kind>`` into ``(group, kind)``.

    Returns ``None`` for anything that is not a pulumi-kubernetes resource type
    (other providers, components, the provider resource itself).
    """
    parts = resource_type.split(":")
    if len(parts) != 3 or parts[0] != "kubernetes":
        return None
    group = parts[1].split("/", 1)[0]
    return group, parts[2]


def resource_kind(resource_type: str) -> str | None:
    """The Kubernetes kind of a pulumi-kubernetes resource type, else ``None``.

    ``*Patch`` and ``*List`` kinds come back as such and so match no rule: a patch
    carries only the fields it changes, checking it as a whole object would be wrong.
    """
    parsed = parse_resource_type(resource_type)
    return parsed[1] if parsed else None


# --------------------------------------------------------------------------------------
# Property helpers (work on dicts and on pulumi_policy's Mapping/Sequence proxies)
# --------------------------------------------------------------------------------------


def _get(obj: Any, *path: str) -> Any:
    """Follow ``path`` through nested mappings; ``None`` when any step is missing."""
    current = obj
    for key in path:
        if not isinstance(current, Mapping) or key not in current:
            return None
        current = current[key]
    return current


def _items(value: Any) -> list[Any]:
    """A list from a sequence value; ``[]`` for ``None`` or a non-sequence."""
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [value[i] for i in range(len(value))]
    return []


def _is_true(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() == "true"


def _is_false(value: Any) -> bool:
    if isinstance(value, bool):
        return not value
    return isinstance(value, str) and value.strip().lower() == "false"


def _is_zero(value: Any) -> bool:
    # Pulumi numbers arrive as floats; bool is an int subclass and must not count.
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0


def _present(value: Any) -> bool:
    return value is not None and value != ""


def _object_name(props: Mapping[str, Any]) -> str:
    name = _get(props, "metadata", "name")
    return str(name) if _present(name) else "<auto-named>"


@dataclass(frozen=True)
class ContainerRef:
    """One container of a pod spec, with a label used in messages."""

    label: str
    spec: Mapping[str, Any]
    is_init: bool

    @property
    def is_sidecar(self) -> bool:
        """A native sidecar: an init container that keeps running (K8s 1.28+)."""
        return self.is_init and _get(self.spec, "restartPolicy") == "Always"


def pod_spec(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The pod spec of a workload resource, or ``None`` for other resources."""
    kind = resource_kind(resource_type)
    if kind == "Pod":
        spec = _get(props, "spec")
    elif kind == "CronJob":
        spec = _get(props, "spec", "jobTemplate", "spec", "template", "spec")
    elif kind in WORKLOAD_KINDS:
        spec = _get(props, "spec", "template", "spec")
    else:
        return None
    return spec if isinstance(spec, Mapping) else None


def containers_of(pod: Mapping[str, Any]) -> list[ContainerRef]:
    """Init containers first (in order), then the app containers."""
    refs: list[ContainerRef] = []
    for field, word, is_init in (("initContainers", "init container", True),
                                 ("containers", "container", False)):
        for index, container in enumerate(_items(_get(pod, field))):
            if not isinstance(container, Mapping):
                continue
            name = _get(container, "name")
            label = f"{word} '{name}'" if _present(name) else f"{word} #{index}"
            refs.append(ContainerRef(label=label, spec=container, is_init=is_init))
    return refs


# --------------------------------------------------------------------------------------
# Rule 1: resource requests and limits
# --------------------------------------------------------------------------------------


def check_resources(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Every container (init containers too) sets requests and limits for cpu and memory."""
    pod = pod_spec(resource_type, props)
    if pod is None:
        return []
    violations: list[str] = []
    for container in containers_of(pod):
        for section in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                if not _present(_get(container.spec, "resources", section, resource)):
                    violations.append(
                        f"{container.label}: resources.{section}.{resource} is missing; set it"
                    )
    return violations


# --------------------------------------------------------------------------------------
# Rule 2: health probes on long-running workloads
# --------------------------------------------------------------------------------------


def check_probes(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Long-running containers have a livenessProbe plus a readinessProbe or startupProbe.

    Applies to Deployments, StatefulSets, DaemonSets and ReplicaSets; Jobs, CronJobs and
    bare Pods are exempt. Init containers run to completion and cannot have probes,
    except native sidecars (``restartPolicy: Always``), which are checked too.
    """
    if resource_kind(resource_type) not in LONG_RUNNING_KINDS:
        return []
    pod = pod_spec(resource_type, props)
    if pod is None:
        return []
    violations: list[str] = []
    for container in containers_of(pod):
        if container.is_init and not container.is_sidecar:
            continue
        has = {probe: isinstance(_get(container.spec, probe), Mapping)
               for probe in ("livenessProbe", "readinessProbe", "startupProbe")}
        if not has["livenessProbe"]:
            violations.append(
                f"{container.label}: livenessProbe is missing; add one so the kubelet "
                "restarts a hung process"
            )
        if not has["readinessProbe"] and not has["startupProbe"]:
            violations.append(
                f"{container.label}: readinessProbe is missing; add a readinessProbe "
                "(or a startupProbe next to the livenessProbe) so traffic and rollouts "
                "wait for the container to be ready"
            )
    return violations


# --------------------------------------------------------------------------------------
# Rule 3: pinned images
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageRef:
    repository: str
    tag: str | None
    digest: str | None


def parse_image(image: str) -> ImageRef:
    """Split ``[registry[:port]/]path[:tag][@digest]``.

    The tag is looked for only after the last ``/`` so a registry port
    (``registry:5000/app``) is not mistaken for a tag.
    """
    reference, _, digest = image.partition("@")
    slash = reference.rfind("/")
    colon = reference.rfind(":")
    if colon > slash:
        repository, tag = reference[:colon], reference[colon + 1:]
    else:
        repository, tag = reference, None
    return ImageRef(repository=repository, tag=tag, digest=digest or None)


def check_image_pinning(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Images carry an explicit, non-``latest`` tag or an ``@sha256:`` digest.

    ``imagePullPolicy: Always`` is fine with a version tag; it does not rescue ``latest``.
    """
    pod = pod_spec(resource_type, props)
    if pod is None:
        return []
    fix = "pin it to a version tag (e.g. 'redis:7.2.5') or an @sha256: digest"
    violations: list[str] = []
    for container in containers_of(pod):
        image = _get(container.spec, "image")
        if not isinstance(image, str) or not image.strip():
            violations.append(f"{container.label}: image is missing; set an image and {fix}")
            continue
        ref = parse_image(image.strip())
        if ref.digest is not None:
            if not _DIGEST_RE.match(ref.digest):
                violations.append(
                    f"{container.label}: image '{image}' has digest '{ref.digest}', which is "
                    "not a sha256 digest; use '@sha256:<64 hex characters>'"
                )
            continue
        if not ref.tag:
            violations.append(
                f"{container.label}: image '{image}' has no tag (it resolves to 'latest'); {fix}"
            )
        elif ref.tag.lower() == "latest":
            always = _get(container.spec, "imagePullPolicy") == "Always"
            note = " (imagePullPolicy: Always does not make it reproducible)" if always else ""
            violations.append(
                f"{container.label}: image '{image}' uses the mutable 'latest' tag{note}; {fix}"
            )
    return violations


# --------------------------------------------------------------------------------------
# Rule 4: Pod Security Standard "restricted"
# --------------------------------------------------------------------------------------


def check_pod_security(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """The pod template meets the Pod Security Standard "restricted" profile.

    Checked: runAsNonRoot (pod or every container), runAsUser != 0,
    allowPrivilegeEscalation: false, capabilities drop ALL / add only NET_BIND_SERVICE,
    seccompProfile RuntimeDefault or Localhost (pod or every container), no privileged,
    no hostNetwork/hostPID/hostIPC, no hostPath volumes. Init containers included.
    """
    pod = pod_spec(resource_type, props)
    if pod is None:
        return []
    violations: list[str] = []
    pod_sc = _get(pod, "securityContext")
    pod_sc = pod_sc if isinstance(pod_sc, Mapping) else {}

    # Pod-level host namespaces and volumes.
    for field in HOST_NAMESPACE_FIELDS:
        if _is_true(_get(pod, field)):
            violations.append(f"pod spec: {field} is true; remove it (or set it to false)")
    for index, volume in enumerate(_items(_get(pod, "volumes"))):
        if isinstance(volume, Mapping) and _get(volume, "hostPath") is not None:
            name = _get(volume, "name")
            label = f"'{name}'" if _present(name) else f"#{index}"
            violations.append(
                f"pod spec: volume {label} uses hostPath; use a PersistentVolumeClaim, "
                "emptyDir, configMap, secret or projected volume instead"
            )

    # Pod-level identity and seccomp.
    pod_non_root = _get(pod_sc, "runAsNonRoot")
    if _is_false(pod_non_root):
        violations.append(
            "pod spec: securityContext.runAsNonRoot is false; set it to true"
        )
    if _is_zero(_get(pod_sc, "runAsUser")):
        violations.append(
            "pod spec: securityContext.runAsUser is 0 (root); set a non-zero uid"
        )
    pod_seccomp = _get(pod_sc, "seccompProfile", "type")
    if _present(pod_seccomp) and pod_seccomp not in ALLOWED_SECCOMP_TYPES:
        violations.append(
            f"pod spec: securityContext.seccompProfile.type is '{pod_seccomp}'; "
            "set it to RuntimeDefault (or Localhost)"
        )
    pod_seccomp_ok = pod_seccomp in ALLOWED_SECCOMP_TYPES

    for container in containers_of(pod):
        label = container.label
        sc = _get(container.spec, "securityContext")
        sc = sc if isinstance(sc, Mapping) else {}

        if _is_true(_get(sc, "privileged")):
            violations.append(f"{label}: securityContext.privileged is true; remove it")

        ape = _get(sc, "allowPrivilegeEscalation")
        if not _is_false(ape):
            state = "is missing" if ape is None else "is true"
            violations.append(
                f"{label}: securityContext.allowPrivilegeEscalation {state}; set it to false"
            )

        non_root = _get(sc, "runAsNonRoot")
        if _is_false(non_root):
            violations.append(f"{label}: securityContext.runAsNonRoot is false; set it to true")
        elif not _is_true(non_root) and not _is_true(pod_non_root):
            violations.append(
                f"{label}: securityContext.runAsNonRoot is not set here or on the pod; "
                "set securityContext.runAsNonRoot: true on the pod (or on this container)"
            )

        if _is_zero(_get(sc, "runAsUser")):
            violations.append(
                f"{label}: securityContext.runAsUser is 0 (root); set a non-zero uid"
            )

        drop = [str(c) for c in _items(_get(sc, "capabilities", "drop"))]
        if "ALL" not in drop:
            violations.append(
                f"{label}: securityContext.capabilities.drop does not contain 'ALL'; "
                "set capabilities.drop: ['ALL']"
            )
        for capability in _items(_get(sc, "capabilities", "add")):
            if str(capability) not in ALLOWED_ADDED_CAPABILITIES:
                violations.append(
                    f"{label}: securityContext.capabilities.add contains '{capability}'; "
                    "only 'NET_BIND_SERVICE' may be added; remove it"
                )

        seccomp = _get(sc, "seccompProfile", "type")
        if _present(seccomp):
            if seccomp not in ALLOWED_SECCOMP_TYPES:
                violations.append(
                    f"{label}: securityContext.seccompProfile.type is '{seccomp}'; "
                    "set it to RuntimeDefault (or Localhost)"
                )
        elif not pod_seccomp_ok:
            violations.append(
                f"{label}: securityContext.seccompProfile.type is not set here or on the pod; "
                "set securityContext.seccompProfile.type: RuntimeDefault on the pod "
                "(or on this container)"
            )
    return violations


# --------------------------------------------------------------------------------------
# Rule 5: no unapproved external Services
# --------------------------------------------------------------------------------------


def check_external_services(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """No LoadBalancer/NodePort Service without the explicit opt-in annotation."""
    parsed = parse_resource_type(resource_type)
    if parsed is None or parsed != ("core", "Service"):
        return []
    service_type = _get(props, "spec", "type")
    if service_type not in EXTERNAL_SERVICE_TYPES:
        return []
    if _is_true(_get(props, "metadata", "annotations", ALLOW_EXTERNAL_SERVICE_ANNOTATION)):
        return []
    message = (
        f"service '{_object_name(props)}': spec.type is '{service_type}', which exposes "
        "it outside the cluster; use ClusterIP behind the cluster's ingress or gateway, "
        "or, if the exposure is intended, add the annotation "
        f"{ALLOW_EXTERNAL_SERVICE_ANNOTATION}: \"true\""
    )
    return [message]


# --------------------------------------------------------------------------------------
# Rule 6: protected stateful stores on production stacks
# --------------------------------------------------------------------------------------


def production_patterns_from_config(config: Mapping[str, Any] | None) -> list[str]:
    """The ``productionStacks`` glob list from the policy config (default if unset)."""
    value = _get(config, PRODUCTION_STACKS_KEY) if config is not None else None
    if value is None:
        return list(DEFAULT_PRODUCTION_STACKS)
    if isinstance(value, str):
        return [value]
    items = _items(value)
    if not isinstance(value, Sequence) or not all(isinstance(p, str) for p in items):
        raise TypeError(
            f"policy config '{PRODUCTION_STACKS_KEY}' must be a list of glob strings, "
            f"got {value!r}"
        )
    return items


def is_production_stack(stack_name: str | None, patterns: Sequence[str]) -> bool:
    """Whether ``stack_name`` matches one of the globs (case-insensitive).

    A fully qualified ``org/project/stack`` is matched on its last segment as well.
    An unknown stack (``None``) counts as production: the rule fails closed.
    """
    if stack_name is None or not stack_name.strip():
        return True
    candidates = {stack_name.lower(), stack_name.rsplit("/", 1)[-1].lower()}
    return any(fnmatch.fnmatchcase(candidate, pattern.lower())
               for candidate in candidates for pattern in patterns)


def current_stack_name() -> str | None:
    """The stack being previewed or updated, as the Pulumi CLI tells the policy pack.

    The CLI starts a policy pack with ``PULUMI_STACK`` in its environment (and the
    SDK configures ``pulumi.get_stack()`` from the same variable). ``pulumi.get_stack()``
    is not used directly: without that variable it returns the placeholder ``"stack"``,
    which would silently classify a production stack as non-production.
    """
    stack = os.environ.get("PULUMI_STACK", "").strip()
    return stack or None


def check_protected_stores(
    resource_type: str,
    props: Mapping[str, Any],
    protect: bool,
    stack_name: str | None,
    production_patterns: Sequence[str] = DEFAULT_PRODUCTION_STACKS,
) -> list[str]:
    """On production stacks, stateful stores carry ``protect`` and retain their data.

    Namespaces, StatefulSets, PersistentVolumeClaims and StorageClasses must have the
    ``protect`` resource option; StorageClasses must set ``reclaimPolicy: Retain``;
    StatefulSets must not delete their claims (``persistentVolumeClaimRetentionPolicy``).
    """
    parsed = parse_resource_type(resource_type)
    if parsed is None or PROTECTED_STORE_KINDS.get(parsed[1]) != parsed[0]:
        return []
    if not is_production_stack(stack_name, production_patterns):
        return []
    kind = parsed[1]
    name = _object_name(props)
    stack_label = (f"production stack '{stack_name}'" if stack_name
                   else "an unknown (so production) stack")
    violations: list[str] = []
    if not protect:
        violations.append(
            f"{kind} '{name}': the 'protect' resource option is not set on {stack_label}; "
            "pass opts=pulumi.ResourceOptions(protect=True) so Pulumi refuses to delete it"
        )
    if kind == "StorageClass":
        reclaim = _get(props, "reclaimPolicy")
        if reclaim != "Retain":
            current = f"'{reclaim}'" if _present(reclaim) else "not set (defaults to Delete)"
            violations.append(
                f"StorageClass '{name}': reclaimPolicy is {current}; set reclaimPolicy: Retain "
                "so a deleted claim keeps its volume"
            )
    if kind == "StatefulSet":
        retention = _get(props, "spec", "persistentVolumeClaimRetentionPolicy")
        for field in ("whenDeleted", "whenScaled"):
            if _get(retention, field) == "Delete":
                violations.append(
                    f"StatefulSet '{name}': spec.persistentVolumeClaimRetentionPolicy.{field} "
                    "is 'Delete'; set it to Retain (the default) so its volumes survive"
                )
    return violations


# --------------------------------------------------------------------------------------
# Policy wiring
# --------------------------------------------------------------------------------------

Check = Callable[[str, Mapping[str, Any]], list[str]]


def _validator(check: Check) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for message in check(args.resource_type, args.props):
            report_violation(message, None)

    validate.__name__ = f"validate_{check.__name__}"
    return validate


def validate_protected_stores(args: ResourceValidationArgs,
                              report_violation: ReportViolation) -> None:
    """Validation callback of the production-protection policy."""
    patterns = production_patterns_from_config(args.get_config())
    for message in check_protected_stores(args.resource_type, args.props,
                                          bool(args.opts.protect), current_stack_name(),
                                          patterns):
        report_violation(message, None)


PRODUCTION_STACKS_SCHEMA = PolicyConfigSchema(
    properties={
        PRODUCTION_STACKS_KEY: {
            "type": "array",
            "items": {"type": "string"},
            "default": list(DEFAULT_PRODUCTION_STACKS),
            "description": "Glob patterns (fnmatch, case-insensitive) of the stack names "
                           "treated as production.",
        },
    },
)


def build_policies() -> list[ResourceValidationPolicy]:
    """The pack's policies, all mandatory."""
    mandatory = EnforcementLevel.MANDATORY
    return [
        ResourceValidationPolicy(
            name="archivist-resource-requests-limits",
            description="Every container (init containers too) sets resources.requests "
                        "and resources.limits for cpu and memory.",
            validate=_validator(check_resources),
            enforcement_level=mandatory,
            severity=Severity.MEDIUM,
        ),
        ResourceValidationPolicy(
            name="archivist-health-probes",
            description="Containers of Deployments, StatefulSets, DaemonSets and ReplicaSets "
                        "have a livenessProbe and a readinessProbe (or a startupProbe); "
                        "Jobs, CronJobs and bare Pods are exempt.",
            validate=_validator(check_probes),
            enforcement_level=mandatory,
            severity=Severity.MEDIUM,
        ),
        ResourceValidationPolicy(
            name="archivist-pinned-images",
            description="Container images carry an explicit tag other than 'latest', "
                        "or an @sha256: digest.",
            validate=_validator(check_image_pinning),
            enforcement_level=mandatory,
            severity=Severity.HIGH,
        ),
        ResourceValidationPolicy(
            name="archivist-pod-security-restricted",
            description="Pod templates meet the Pod Security Standard 'restricted': "
                        "non-root, no privilege escalation, capabilities drop ALL, "
                        "seccomp RuntimeDefault/Localhost, no privileged, no host "
                        "namespaces, no hostPath volumes.",
            validate=_validator(check_pod_security),
            enforcement_level=mandatory,
            severity=Severity.HIGH,
        ),
        ResourceValidationPolicy(
            name="archivist-no-external-services",
            description="No Service of type LoadBalancer or NodePort unless it carries "
                        f"the annotation {ALLOW_EXTERNAL_SERVICE_ANNOTATION}: \"true\".",
            validate=_validator(check_external_services),
            enforcement_level=mandatory,
            severity=Severity.HIGH,
        ),
        ResourceValidationPolicy(
            name="archivist-protected-stores-in-production",
            description="On production stacks (config productionStacks), Namespaces, "
                        "StatefulSets, PersistentVolumeClaims and StorageClasses have the "
                        "'protect' resource option, and StorageClasses reclaimPolicy Retain.",
            validate=validate_protected_stores,
            enforcement_level=mandatory,
            config_schema=PRODUCTION_STACKS_SCHEMA,
            severity=Severity.CRITICAL,
        ),
    ]


POLICIES: list[ResourceValidationPolicy] = build_policies()
