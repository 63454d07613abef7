"""Secrets from each cloud's secret manager (External Secrets Operator) and the graph scaled by KEDA.

Sources: the graph consumes `paper.processed` as group `graph-builder` (app-src
services/graph-service/app/main.py:150-151) from the earliest offset (kafka_consumer.py:45); the
guide's bounds and behaviour (kubernetes-deployment-guide.md:320-324) and queue-depth target 30
(:614-629); ESO v2.9.0 provider docs and CRDs; KEDA v2.20.2 kafka scaler and CRDs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from archivist_infra.__main__ import run_stack
from archivist_infra.config.load import load_settings
from archivist_infra.config.problems import ConfigError
from archivist_infra.offline import engine, mock_outputs
from archivist_infra.offline.render import manifests
from tests.conftest import ROOT, VALID_IMAGES, find, pod_spec, run_config
from tests.crd_schema import validate as validate_crd

# The batch worker is a CronJob, search a StatefulSet (per-replica index volume), graph a Deployment.
APPS = {"archivist-worker": "CronJob", "archivist-search": "StatefulSet", "archivist-graph": "Deployment"}
APP_KEYS = {"GEMINI_API_KEY", "NEO4J_PASSWORD", "NEO4J_AUTH"}
SECRET = "archivist-secrets"
RELEASE = "kubernetes:helm.sh/v3:Release"
CRD_KINDS = ("ExternalSecret", "SecretStore", "ScaledObject")


def settings(raw: dict[str, Any], platform_cluster: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    return load_settings({"images": VALID_IMAGES, **(platform_cluster or {}), **raw}, project="archivist",
                         stack="t", secrets_present={"geminiApiKey"})


def problems(raw: dict[str, Any], platform_cluster: dict[str, Any] | None = None) -> dict[str, str]:
    with pytest.raises(ConfigError) as err:
        settings(raw, platform_cluster)
    return {p.key: p.message for p in err.value.problems}


# Created clusters name the API server's allowed ranges (a documentation address here).
API_ACCESS = {"allowedCidrs": ["203.0.113.7/32"]}
GKE = {"platform": "gke", "cluster": {"project": "my-gcp-project", "region": "europe-west1", "apiAccess": API_ACCESS}}


@pytest.fixture(scope="module")
def eks_run() -> engine.Run:
    path = ROOT / "examples" / "stacks" / "eks.yaml"
    return run_stack("eks", path)


@pytest.fixture(scope="module")
def aks_run() -> engine.Run:
    path = ROOT / "examples" / "stacks" / "aks.yaml"
    return run_stack("aks", path)


def plain(value: Any) -> Any:
    return value.get("value") if engine.is_secret_value(value) else value


def workload_pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"] if obj["kind"] == "CronJob" else pod_spec(obj)


def secret_key_refs(objects: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(Secret name, key) of every secretKeyRef in every workload."""
    refs = set()
    for obj in objects:
        if obj["kind"] in ("Deployment", "StatefulSet", "CronJob"):
            spec = workload_pod_spec(obj)
            for c in spec["containers"] + (spec.get("initContainers") or []):
                for e in c.get("env", []):
                    ref = (e.get("valueFrom") or {}).get("secretKeyRef")
                    if ref:
                        refs.add((ref["name"], ref["key"]))
    return refs


def produced_keys(external: dict[str, Any]) -> set[str]:
    spec = external["spec"]
    template = spec["target"].get("template", {})
    return {d["secretKey"] for d in spec["data"]} | set(template.get("data", {}))


# -- config ---------------------------------------------------------------------------------


def test_each_cloud_defaults_to_its_own_secret_manager_and_local_keeps_kubernetes() -> None:
    assert settings({}).secrets.backend == "kubernetes"
    assert settings({}, GKE).secrets.backend == "gcpSecretManager"
    assert settings({"platform": "eks", "cluster": {"region": "eu-west-1", "apiAccess": API_ACCESS}}).secrets.backend == "awsSecretsManager"
    assert settings({"platform": "aks", "cluster": {"location": "westeurope", "apiAccess": API_ACCESS}}).secrets.backend == "azureKeyVault"
    assert settings({"secrets": {"backend": "kubernetes"}}, GKE).secrets.external is False


def test_unknown_or_foreign_secret_backend_is_refused_by_name() -> None:
    assert "is not one of" in problems({"secrets": {"backend": "vault"}}, GKE)["archivist:secrets.backend"]
    found = problems({"secrets": {"backend": "awsSecretsManager"}}, GKE)
    assert "not the secret manager of platform 'gke'" in found["archivist:secrets.backend"]
    assert "archivist:secrets.backend" in problems({"secrets": {"backend": "gcpSecretManager"}})


def test_bad_refresh_interval_and_vault_name_are_refused_by_name() -> None:
    assert "duration" in problems({"secrets": {"refreshInterval": "soon"}}, GKE)["archivist:secrets.refreshInterval"]
    assert "shorter than a minute" in problems({"secrets": {"refreshInterval": "30s"}}, GKE)[
        "archivist:secrets.refreshInterval"]
    aks = {"platform": "aks", "cluster": {"location": "westeurope", "apiAccess": API_ACCESS}}
    assert "Key Vault name" in problems({"secrets": {"keyVaultName": "9-bad--name"}}, aks)[
        "archivist:secrets.keyVaultName"]
    assert "only to backend" in problems({"secrets": {"keyVaultName": "kv-ok"}}, GKE)["archivist:secrets.keyVaultName"]


def test_lag_scaling_is_on_wherever_kafka_has_more_than_one_partition() -> None:
    assert settings({}).keda.enabled  # kafka.partitions defaults to max(3, graph maxReplicas)
    one = {"kafka": {"partitions": 1}, "graph": {"autoscaling": {"minReplicas": 1, "maxReplicas": 1}}}
    assert not settings(one).keda.enabled


def test_lag_scaling_keeps_the_graph_bounds_and_the_default_partitions_cover_them() -> None:
    s = settings({})
    assert (s.keda.min_replicas, s.keda.max_replicas) == (2, 10)  # the guide's 2-10
    assert s.kafka.partitions == 10  # defaults to max(3, graph maxReplicas): no replica left without a partition
    s = settings({"graph": {"autoscaling": {"maxReplicas": 4}}})
    assert (s.keda.min_replicas, s.keda.max_replicas, s.kafka.partitions) == (2, 4, 4)
    s = settings({"kafka": {"partitions": 12}})
    assert (s.keda.min_replicas, s.keda.max_replicas) == (2, 10)
    # Fewer partitions than the graph's maximum is refused, not silently capped.
    assert "below archivist:graph.autoscaling.maxReplicas (10)" in problems({"kafka": {"partitions": 4}})[
        "archivist:kafka.partitions"]


def test_bounds_above_the_partitions_are_refused_by_name() -> None:
    found = problems({"kafka": {"partitions": 3}, "graph": {"autoscaling": {"minReplicas": 4, "maxReplicas": 6}}})
    assert "above archivist:kafka.partitions 3" in found["archivist:graph.autoscaling.maxReplicas"]
    assert "above archivist:kafka.partitions 3" in found["archivist:graph.autoscaling.minReplicas"]
    one = problems({"kafka": {"partitions": 1}, "keda": {"enabled": True}})
    assert "more than one partition" in one["archivist:keda.enabled"]


def test_bad_lag_thresholds_are_refused_by_name() -> None:
    found = problems({"keda": {"lagThreshold": 0, "activationLagThreshold": -1, "pollingIntervalSeconds": 1,
                               "lagTreshold": 5}})
    assert "at least 1" in found["archivist:keda.lagThreshold"]
    assert "at least 0" in found["archivist:keda.activationLagThreshold"]
    assert "at least 5" in found["archivist:keda.pollingIntervalSeconds"]
    assert "did you mean 'lagThreshold'" in found["archivist:keda.lagTreshold"]
    assert "must be a whole number" in problems({"keda": {"lagThreshold": "lots"}})["archivist:keda.lagThreshold"]


def test_bad_settings_register_nothing() -> None:
    with pytest.raises(ConfigError):
        run_config({"images": VALID_IMAGES, "keda": {"lagThreshold": 0}})


# -- local: unchanged -----------------------------------------------------------------------


def test_local_stack_keeps_the_pulumi_managed_secret_and_no_operator(dev_run: engine.Run,
                                                                     dev_objects: list[dict[str, Any]]) -> None:
    secret = find(dev_objects, "Secret", SECRET)
    assert set(secret["stringData"]) == APP_KEYS
    assert not [o for o in dev_objects if o["kind"] in ("ExternalSecret", "SecretStore")]
    charts = {r.inputs["chart"] for r in dev_run.by_type(RELEASE)}
    assert "external-secrets" not in charts and "reloader" not in charts
    assert not any(r.type.startswith(("gcp:", "aws:", "azure-native:")) for r in dev_run.resources)
    for app, kind in APPS.items():
        assert "annotations" not in find(dev_objects, kind, app)["metadata"]


# -- clouds: the Secret comes from the secret manager ---------------------------------------


@pytest.mark.parametrize("stack", ["prod", "eks", "aks"])
def test_cloud_stack_renders_an_external_secret_and_no_plain_secret(stack: str, request: pytest.FixtureRequest) -> None:
    run: engine.Run = request.getfixturevalue(f"{stack}_run")
    objects = manifests(run)
    # The stack writes no app secret itself: no Secret of that name, and no Secret it writes carries the app keys.
    # (The Redis password's config Secret and redis-auth stay Pulumi-managed on every platform: a documented gap.)
    written = [o for o in objects if o["kind"] == "Secret"]
    assert SECRET not in {o["metadata"]["name"] for o in written}, "the stack must not write the values itself"
    for obj in written:
        assert not APP_KEYS & (set(obj.get("stringData") or {}) | set(obj.get("data") or {})), obj["metadata"]["name"]
    external = find(objects, "ExternalSecret", SECRET)
    # Exactly the keys the workloads consume, under the same Secret name: the workloads do not change.
    # (The Redis password's Pulumi-managed Secrets are referenced too; they are not the app Secret.)
    consumed = {ref for ref in secret_key_refs(objects) if ref[0] == SECRET}
    assert consumed == {(SECRET, key) for key in produced_keys(external)}
    assert external["spec"]["target"]["name"] == SECRET
    assert external["spec"]["target"]["template"]["data"] == {"NEO4J_AUTH": "neo4j/{{ .NEO4J_PASSWORD }}"}
    assert external["spec"]["target"]["template"]["mergePolicy"] == "Merge"
    assert external["spec"]["secretStoreRef"] == {"kind": "SecretStore", "name": "archivist-secret-manager"}
    assert external["spec"]["refreshInterval"] == "15m"
    store = find(objects, "SecretStore", "archivist-secret-manager")
    reader = find(objects, "ServiceAccount", "archivist-secret-reader")
    assert reader["automountServiceAccountToken"] is False
    [provider] = store["spec"]["provider"].values()
    account_ref = provider.get("serviceAccountRef") or next(iter(provider["auth"].values()))["serviceAccountRef"]
    assert account_ref == {"name": "archivist-secret-reader"}  # the same namespace: a namespaced store
    for obj in (external, store):
        validate_crd(obj)


@pytest.mark.parametrize("stack", ["prod", "eks", "aks"])
def test_workloads_restart_when_the_secret_rotates(stack: str, request: pytest.FixtureRequest) -> None:
    run: engine.Run = request.getfixturevalue(f"{stack}_run")
    objects = manifests(run)
    for app in ("archivist-search", "archivist-graph"):
        annotations = find(objects, APPS[app], app)["metadata"]["annotations"]
        assert annotations["secret.reloader.stakater.com/reload"] == SECRET
    # The batch worker reads the Secret at every run's start: nothing to restart.
    worker = find(objects, "CronJob", "archivist-worker")["metadata"]
    assert "secret.reloader.stakater.com/reload" not in (worker.get("annotations") or {})
    [reloader] = [r for r in run.by_type(RELEASE) if r.inputs["chart"] == "reloader"]
    assert reloader.inputs["version"] == "2.2.16"
    assert reloader.inputs["repositoryOpts"]["repo"] == "https://stakater.github.io/stakater-charts"
    values = reloader.inputs["values"]["reloader"]
    assert values["watchGlobally"] is False and values["namespaces"] == ["archivist"]
    assert values["reloadStrategy"] == "annotations"


@pytest.mark.parametrize("stack", ["prod", "eks", "aks"])
def test_external_secrets_operator_is_a_pinned_chart_serving_only_namespaced_stores(
        stack: str, request: pytest.FixtureRequest) -> None:
    run: engine.Run = request.getfixturevalue(f"{stack}_run")
    [eso] = [r for r in run.by_type(RELEASE) if r.inputs["chart"] == "external-secrets"]
    assert eso.inputs["version"] == "2.9.0"
    assert eso.inputs["repositoryOpts"]["repo"] == "https://charts.external-secrets.io"
    assert eso.inputs["namespace"] == "external-secrets"
    values = eso.inputs["values"]
    assert values["processClusterStore"] is False and values["crds"]["createClusterSecretStore"] is False
    assert "serviceAccount" not in values, "the controller holds no cloud identity"
    assert eso.provider == "cluster-k8s"


def _one(run: engine.Run, type_token: str) -> engine.Recorded:
    [found] = run.by_type(type_token)
    return found


def _named(run: engine.Run, type_token: str, name: str) -> engine.Recorded:
    [found] = [r for r in run.by_type(type_token) if r.name == name]
    return found


def test_gke_entries_are_readable_only_by_the_reader_account(prod_run: engine.Run,
                                                             prod_objects: list[dict[str, Any]]) -> None:
    secrets = prod_run.by_type("gcp:secretmanager/secret:Secret")
    assert {s.inputs["secretId"] for s in secrets} == {"archivist-prod-gemini-api-key", "archivist-prod-neo4j-password"}
    versions = prod_run.by_type("gcp:secretmanager/secretVersion:SecretVersion")
    assert len(versions) == 2 and all(engine.is_secret_value(v.inputs["secretData"]) for v in versions)
    gsa = next(r for r in prod_run.by_type("gcp:serviceaccount/account:Account") if r.name == "secret-reader-gsa")
    email = f"{gsa.inputs['accountId']}@my-gcp-project.iam.gserviceaccount.com"
    grants = prod_run.by_type("gcp:secretmanager/secretIamMember:SecretIamMember")
    assert {(g.inputs["secretId"], g.inputs["role"], g.inputs["member"]) for g in grants} == {
        (s.inputs["secretId"], "roles/secretmanager.secretAccessor", f"serviceAccount:{email}") for s in secrets}
    # Nothing grants Secret Manager access project-wide.
    assert not [m for m in prod_run.by_type("gcp:projects/iAMMember:IAMMember") if "secretmanager" in m.inputs["role"]]
    # Exactly one binding on the reader account (the backups' Velero binding is on its own account).
    [binding] = [m for m in prod_run.by_type("gcp:serviceaccount/iAMMember:IAMMember")
                 if m.inputs.get("serviceAccountId") == f"projects/my-gcp-project/serviceAccounts/{email}"]
    assert binding.inputs["role"] == "roles/iam.workloadIdentityUser"
    assert binding.inputs["member"] == "serviceAccount:my-gcp-project.svc.id.goog[archivist/archivist-secret-reader]"
    assert binding.inputs["serviceAccountId"] == f"projects/my-gcp-project/serviceAccounts/{email}"
    pools = [r.urn for r in prod_run.by_type("gcp:container/nodePool:NodePool")]
    assert pools and set(pools) <= set(binding.dependencies)
    reader = find(prod_objects, "ServiceAccount", "archivist-secret-reader")
    assert reader["metadata"]["annotations"] == {"iam.gke.io/gcp-service-account": email}
    store = find(prod_objects, "SecretStore", "archivist-secret-manager")["spec"]["provider"]["gcpsm"]
    assert store["projectID"] == "my-gcp-project" and "secretRef" not in store["auth"]
    identity = store["auth"]["workloadIdentity"]
    assert (identity["clusterProjectID"], identity["clusterLocation"], identity["clusterName"]) == (
        "my-gcp-project", "europe-west1", "archivist")  # Pulumi.prod.yaml: a regional cluster


def test_eks_entries_are_readable_only_through_irsa_for_the_reader(eks_run: engine.Run) -> None:
    secrets = eks_run.by_type("aws:secretsmanager/secret:Secret")
    assert {s.inputs["name"] for s in secrets} == {"archivist-eks-gemini-api-key", "archivist-eks-neo4j-password"}
    versions = eks_run.by_type("aws:secretsmanager/secretVersion:SecretVersion")
    assert len(versions) == 2 and all(engine.is_secret_value(v.inputs["secretString"]) for v in versions)
    role = next(r for r in eks_run.by_type("aws:iam/role:Role") if r.name == "secret-reader-role")
    [statement] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    conditions = statement["Condition"]["StringEquals"]
    assert sorted(conditions.values()) == ["sts.amazonaws.com", "system:serviceaccount:archivist:archivist-secret-reader"]
    assert "StringLike" not in statement["Condition"]  # no wildcard subjects
    policy = next(r for r in eks_run.by_type("aws:iam/rolePolicy:RolePolicy") if r.name == "secret-reader-policy")
    [allow] = json.loads(policy.inputs["policy"])["Statement"]
    assert set(allow["Action"]) == {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
    assert all(arn.split(":secret:")[1].rsplit("-", 1)[0] in {s.inputs["name"] for s in secrets}
               for arn in allow["Resource"]) and len(allow["Resource"]) == 2
    for r in [*secrets, *versions, role, policy]:
        assert r.provider == "cluster-aws", r.name  # the EKS stack's explicit AWS provider
    reader = find(manifests(eks_run), "ServiceAccount", "archivist-secret-reader")
    role_arn = mock_outputs.computed_outputs(role.type, role.name, role.inputs)["arn"]
    assert reader["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": role_arn}


def test_aks_entries_are_readable_only_by_the_federated_identity(aks_run: engine.Run) -> None:
    vault = _one(aks_run, "azure-native:keyvault:Vault")
    assert vault.inputs["properties"]["enableRbacAuthorization"] is True
    secrets = aks_run.by_type("azure-native:keyvault:Secret")
    assert {s.inputs["secretName"] for s in secrets} == {"archivist-aks-gemini-api-key", "archivist-aks-neo4j-password"}
    assert all(engine.is_secret_value(s.inputs["properties"]) for s in secrets)
    identity = _named(aks_run, "azure-native:managedidentity:UserAssignedIdentity", "secret-reader-identity")
    federation = _named(aks_run, "azure-native:managedidentity:FederatedIdentityCredential", "secret-reader-federation")
    assert federation.inputs["subject"] == "system:serviceaccount:archivist:archivist-secret-reader"
    assert federation.inputs["audiences"] == ["api://AzureADTokenExchange"]
    assert federation.inputs["issuer"].startswith("https://")
    grants = [g for g in aks_run.by_type("azure-native:authorization:RoleAssignment") if g.name.startswith("secret-")]
    # One grant per entry, scoped to the entry (never the vault), of the read-only "Key Vault Secrets User".
    assert sorted(g.inputs["scope"] for g in grants) == sorted(f"{s.name}-id" for s in secrets)
    assert all(g.inputs["roleDefinitionId"].endswith("/4633458b-17de-408a-b874-0445c86b69e6") for g in grants)
    objects = manifests(aks_run)
    annotations = find(objects, "ServiceAccount", "archivist-secret-reader")["metadata"]["annotations"]
    assert set(annotations) == {"azure.workload.identity/client-id", "azure.workload.identity/tenant-id"}
    computed = mock_outputs.computed_outputs(identity.type, identity.name, identity.inputs)
    assert {g.inputs["principalId"] for g in grants} == {computed["principalId"]}
    assert annotations["azure.workload.identity/client-id"] == computed["clientId"]
    store = find(objects, "SecretStore", "archivist-secret-manager")["spec"]["provider"]["azurekv"]
    assert store["authType"] == "WorkloadIdentity"
    assert store["vaultUrl"] == f"https://{vault.inputs['vaultName']}.vault.azure.net/"


def test_opting_out_on_a_cloud_keeps_the_pulumi_managed_secret() -> None:
    run = run_config({**GKE, "images": VALID_IMAGES, "secrets": {"backend": "kubernetes"}})
    objects = manifests(run)
    assert find(objects, "Secret", SECRET)
    assert not [o for o in objects if o["kind"] in ("ExternalSecret", "SecretStore")]
    assert not run.by_type("gcp:secretmanager/secret:Secret")


# -- KEDA -----------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod", "eks", "aks"])
def test_graph_scales_on_its_queue_instead_of_cpu(stack: str, request: pytest.FixtureRequest) -> None:
    """The consumer commits before it works (kafka_consumer.py:46-48): the lag stays ~0, the queue moves."""
    run: engine.Run = request.getfixturevalue(f"{stack}_run")
    objects = manifests(run)
    scaled = find(objects, "ScaledObject", "archivist-graph")
    validate_crd(scaled)
    spec = scaled["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "archivist-graph"}
    [trigger] = spec["triggers"]
    assert (trigger["type"], trigger["metricType"]) == ("metrics-api", "AverageValue")
    meta = trigger["metadata"]
    graph_service = find(objects, "Service", "archivist-graph")
    [port] = graph_service["spec"]["ports"]
    # The pod's port (aggregateFromKubeServiceEndpoints calls every endpoint): the Service targets it by name.
    container = pod_spec(find(objects, "Deployment", "archivist-graph"))["containers"][0]
    assert port["targetPort"] == "http" and container["ports"] == [{"name": "http", "containerPort": port["port"]}]
    assert meta["url"] == f"http://archivist-graph.archivist.svc.cluster.local:{port['port']}/api/graph/queue-stats"
    # The JSON of main.py:329-341 has queue_size at the top level.
    assert (meta["format"], meta["valueLocation"]) == ("json", "queue_size")
    assert (meta["aggregateFromKubeServiceEndpoints"], meta["aggregationType"]) == ("true", "sum")
    assert meta["targetValue"] == "8" and meta["activationTargetValue"] == "0"
    hpas = [o for o in objects if o["kind"] == "HorizontalPodAutoscaler"]
    assert "archivist-graph" not in {h["spec"]["scaleTargetRef"]["name"] for h in hpas}
    [keda] = [r for r in run.by_type(RELEASE) if r.inputs["chart"] == "keda"]
    assert (keda.inputs["version"], keda.inputs["repositoryOpts"]["repo"]) == ("2.20.2", "https://kedacore.github.io/charts")


def test_the_lag_signal_stays_available() -> None:
    objects = manifests(run_config({"images": VALID_IMAGES, "keda": {"signal": "lag"}}))
    [trigger] = find(objects, "ScaledObject", "archivist-graph")["spec"]["triggers"]
    assert trigger["type"] == "kafka"
    meta = trigger["metadata"]
    kafka_service = find(objects, "Service", "kafka")
    port = next(p["port"] for p in kafka_service["spec"]["ports"] if p["name"] == "client")
    assert meta["bootstrapServers"] == f"kafka.archivist.svc.cluster.local:{port}"
    assert (meta["topic"], meta["consumerGroup"], meta["offsetResetPolicy"]) == ("paper.processed", "graph-builder",
                                                                                "earliest")
    assert meta["lagThreshold"] == "30" and meta["allowIdleConsumers"] == "false"
    kafka_ingress = find(objects, "NetworkPolicy", "kafka-ingress")["spec"]["ingress"]
    assert [peer for rule in kafka_ingress for peer in rule["from"] if "namespaceSelector" in peer]


def test_prod_lag_scaling_keeps_the_guides_bounds_and_behaviour_within_the_partitions(
        prod_objects: list[dict[str, Any]]) -> None:
    spec = find(prod_objects, "ScaledObject", "archivist-graph")["spec"]
    partitions = int(next(e["value"] for e in pod_spec(find(prod_objects, "StatefulSet", "kafka"))["containers"][0]["env"]
                          if e["name"] == "KAFKA_NUM_PARTITIONS"))
    assert spec["minReplicaCount"] == 2  # the guide's minimum
    assert spec["maxReplicaCount"] == min(10, partitions)  # the guide's 10, never above the partitions
    # The same fast-up, slow-down behaviour as search's CPU autoscaler (the guide's).
    search = find(prod_objects, "HorizontalPodAutoscaler", "archivist-search")["spec"]["behavior"]
    assert spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"] == search


def test_scaled_object_adopts_the_former_cpu_autoscaler_by_name(prod_objects: list[dict[str, Any]]) -> None:
    """KEDA's webhook refuses a ScaledObject while another HPA targets the Deployment unless it takes that HPA
    over by name (kedacore/keda v2.20.2 apis/keda/v1alpha1/scaledobject_webhook.go:297-312)."""
    scaled = find(prod_objects, "ScaledObject", "archivist-graph")
    assert scaled["metadata"]["annotations"] == {"scaledobject.keda.sh/transfer-hpa-ownership": "true"}
    search_hpa = find(prod_objects, "HorizontalPodAutoscaler", "archivist-search")
    # The CPU HPA's name follows the same rule as search's: the app's name.
    assert search_hpa["metadata"]["name"] == search_hpa["spec"]["scaleTargetRef"]["name"]
    assert scaled["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["name"] == "archivist-graph"


def test_threshold_and_bounds_follow_config() -> None:
    run = run_config({"images": VALID_IMAGES, "kafka": {"partitions": 12},
                      "graph": {"autoscaling": {"minReplicas": 3, "maxReplicas": 12}},
                      "keda": {"queueThreshold": 20, "activationQueueThreshold": 2, "pollingIntervalSeconds": 15}})
    spec = find(manifests(run), "ScaledObject", "archivist-graph")["spec"]
    assert (spec["minReplicaCount"], spec["maxReplicaCount"], spec["pollingInterval"]) == (3, 12, 15)
    meta = spec["triggers"][0]["metadata"]
    assert (meta["targetValue"], meta["activationTargetValue"]) == ("20", "2")
    lag = run_config({"images": VALID_IMAGES, "keda": {"signal": "lag", "lagThreshold": 100,
                                                       "activationLagThreshold": 5}})
    meta = find(manifests(lag), "ScaledObject", "archivist-graph")["spec"]["triggers"][0]["metadata"]
    assert (meta["lagThreshold"], meta["activationLagThreshold"]) == ("100", "5")


def test_single_partition_keeps_the_cpu_autoscaler() -> None:
    run = run_config({"images": VALID_IMAGES, "kafka": {"partitions": 1},
                      "graph": {"autoscaling": {"minReplicas": 1, "maxReplicas": 1}}})
    objects = manifests(run)
    assert not [o for o in objects if o["kind"] == "ScaledObject"]
    assert find(objects, "HorizontalPodAutoscaler", "archivist-graph")
    assert "keda" not in {r.inputs["chart"] for r in run.by_type(RELEASE)}
    kafka_ingress = find(objects, "NetworkPolicy", "kafka-ingress")["spec"]["ingress"]
    assert not [rule for rule in kafka_ingress for peer in rule["from"] if "namespaceSelector" in peer]


def test_only_kedas_operator_reaches_the_graph_pods_for_queue_stats(prod_objects: list[dict[str, Any]]) -> None:
    kafka = find(prod_objects, "NetworkPolicy", "kafka-ingress")["spec"]["ingress"]
    assert not [peer for rule in kafka for peer in rule["from"] if "namespaceSelector" in peer
                and peer["namespaceSelector"]["matchLabels"].get("kubernetes.io/metadata.name") == "keda"]
    graph = find(prod_objects, "NetworkPolicy", "archivist-graph-ingress")["spec"]["ingress"]
    keda = [(peer, rule["ports"]) for rule in graph for peer in rule["from"]
            if peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name") == "keda"]
    assert keda == [({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "keda"}},
                      "podSelector": {"matchLabels": {"app.kubernetes.io/name": "keda-operator"}}},
                     [{"protocol": "TCP", "port": 8081}])]


def test_capacity_and_quota_count_the_graph_at_its_lag_scaling_maximum() -> None:
    from archivist_infra.capacity.demands_from_settings import workload_demands

    s = settings({"kafka": {"partitions": 3}, "graph": {"autoscaling": {"maxReplicas": 3}}})
    graph = next(d for d in workload_demands(s) if d.name == "archivist-graph")
    assert s.keda.enabled and (s.keda.min_replicas, s.keda.max_replicas) == (2, 3)
    assert (graph.min_replicas, graph.max_replicas) == (2, 3)


_SDK_PROBE = """
import json, sys
from pathlib import Path
from archivist_infra.__main__ import run_stack
run_stack({stack!r}, {path!r} and Path({path!r}))
print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {{'pulumi_gcp', 'pulumi_aws', 'pulumi_azure_native'}})))
"""


@pytest.mark.parametrize(("stack", "path", "loaded"), [
    ("dev", None, []),
    ("aks", str(ROOT / "examples" / "stacks" / "aks.yaml"), ["pulumi_azure_native"]),
])
def test_whole_program_loads_only_its_platforms_sdk(stack: str, path: str | None, loaded: list[str]) -> None:
    """The secret backend and KEDA import a cloud SDK only for the stack's own platform (a fresh interpreter)."""
    out = subprocess.run([sys.executable, "-c", _SDK_PROBE.format(stack=stack, path=path)], cwd=ROOT,
                         capture_output=True, text=True, check=True, timeout=300)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == loaded
