"""The production manifests (deploy/k8s) and Dockerfiles, checked without a cluster.

Every kustomization is rendered by the real kustomize (libs/vttest/k8s.py) and every object validated: the
Kubernetes kinds against the official schemas (kubernetes-validate, strict), Strimzi's and the Prometheus
Operator's against their vendored CRD schemas (jsonschema, strict). Then what the manifests promise: all 25
regions, metrics scraped, native gRPC probes, the edge, KRaft Kafka replicated over zones."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import yaml
from vtkit import topics
from vtkit.tenants import all_tenants
from vttest import k8s

ROOT, K8S = k8s.ROOT, k8s.K8S
SERVICES = ("intake", "radar", "verwijsindex", "notifier", "ops")
# What an SRE applies: the Kafka cluster (with or without Cruise Control), the national services, the regions, the
# Grafana dashboard.
KUSTOMIZATIONS = ["kafka", "kafka-cruise-control", "national", "regions", "monitoring"]
WORKLOAD_KINDS = ("StatefulSet", "Deployment")


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def everything() -> list[dict[str, Any]]:
    return k8s.render("national") + k8s.render("regions")


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_every_object_validates_against_kubernetes_strimzi_and_prometheus_operator_schemas(name: str) -> None:
    docs = k8s.render(name)
    assert docs
    for doc in docs:
        k8s.validate(doc)


def test_the_schema_check_is_strict() -> None:
    """A misspelt field fails, in a core kind and in a custom resource alike (not silently pruned)."""
    monitor, = [d for d in k8s.render("national") if d["kind"] == "PodMonitor" and d["metadata"]["name"] == "radar"]
    monitor["spec"]["podMetricsEndpoints"][0]["prot"] = "metrics"
    with pytest.raises(AssertionError, match="prot"):
        k8s.validate(monitor)
    kafka, = by_kind(k8s.render("kafka"), "Kafka")
    kafka["spec"]["zookeeper"] = {"replicas": 3}
    with pytest.raises(AssertionError, match="zookeeper"):
        k8s.validate(kafka)
    service, = [d for d in k8s.render("national") if d["kind"] == "Service" and d["metadata"]["name"] == "radar"]
    service["spec"]["portz"] = []
    with pytest.raises(Exception, match="portz"):
        k8s.validate(service)


def test_generated_parts_are_current() -> None:
    """topics.yaml, users.yaml (from the ACL table) and the region overlays (from tenants.toml)."""
    result = subprocess.run([sys.executable, "scripts/gen_k8s.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_region_has_its_overlay_namespace_and_tenant() -> None:
    tenants = set(all_tenants())
    assert {p.name for p in (K8S / "regions").iterdir() if p.is_dir()} == tenants
    docs = k8s.render("regions")
    for tenant in tenants:
        overlay = (K8S / "regions" / tenant / "kustomization.yaml").read_text()
        assert "patches" not in overlay and len(overlay.splitlines()) < 20  # small, and no patches by list index
        mine = [d for d in docs if d["metadata"].get("namespace") == f"vt-{tenant}"]
        statefulset, = by_kind(mine, "StatefulSet")
        assert statefulset["metadata"]["name"] == f"intake-{tenant}"
        assert statefulset["spec"]["selector"]["matchLabels"]["vt.tenant"] == tenant
        region, = [d for d in by_kind(mine, "ConfigMap") if d["metadata"]["name"].startswith("vt-region-")]
        assert region["data"]["VT_TENANT"] == tenant
        env = {e["name"]: e for e in statefulset["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["VT_TENANT"]["valueFrom"]["configMapKeyRef"]["name"] == region["metadata"]["name"]
        ingress, = by_kind(mine, "Ingress")
        assert ingress["spec"]["rules"][0]["host"] == f"meldformulier.{tenant}.veiligthuis.example"
    assert {d["metadata"]["name"] for d in by_kind(docs, "Namespace")} == {f"vt-{t}" for t in tenants}
    assert "MELDFORMULIER_HOST" not in k8s._rendered(str(K8S / "regions")).replace("MELDFORMULIER_HOST:", "")


def _containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    return list(workload["spec"]["template"]["spec"]["containers"])


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def test_every_workload_serves_metrics_on_a_named_port_that_a_pod_monitor_scrapes() -> None:
    docs = everything()
    workloads = [d for d in docs if d["kind"] in WORKLOAD_KINDS]
    assert {w["metadata"]["name"] for w in workloads} >= {"radar", "verwijsindex", "notifier", "ops-dashboard",
                                                          "intake-utrecht"}
    monitors = by_kind(docs, "PodMonitor")
    for workload in workloads:
        labels = workload["spec"]["template"]["metadata"]["labels"]
        for container in _containers(workload):
            env = {e["name"]: e.get("value") for e in container["env"]}
            ports = {p["name"]: p["containerPort"] for p in container["ports"]}
            assert int(env["METRICS_PORT"]) == ports["metrics"], workload["metadata"]["name"]
            assert env["METRICS_HOST"] == "0.0.0.0"  # vtkit.service binds loopback otherwise
        monitor, = [m for m in monitors if m["metadata"]["namespace"] == workload["metadata"]["namespace"]
                    and _selects(m["spec"]["selector"], labels)]
        assert "metrics" in [e["port"] for e in monitor["spec"]["podMetricsEndpoints"]]


def test_grpc_services_have_native_grpc_probes_on_the_plaintext_health_port() -> None:
    """kubelet's `grpc:` probe has no TLS; GRPC_HEALTH_PORT (vtkit.grpcserver) serves health alone in plaintext."""
    for workload in [d for d in everything() if d["kind"] == "StatefulSet"]:
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in pod["containers"]:
            env = {e["name"]: e.get("value") for e in container["env"]}
            ports = {p["name"]: p["containerPort"] for p in container["ports"]}
            assert int(env["GRPC_HEALTH_PORT"]) == ports["grpc-health"] != ports["grpc"]
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                assert container[probe]["grpc"] == {"port": ports["grpc-health"]}, (workload["metadata"]["name"], probe)
                assert "exec" not in container[probe]
            assert container["resources"]["requests"]
            assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_every_statefulset_has_a_pdb() -> None:
    docs = everything()
    for workload in by_kind(docs, "StatefulSet"):
        ns, labels = workload["metadata"]["namespace"], workload["spec"]["template"]["metadata"]["labels"]
        assert [p for p in by_kind(docs, "PodDisruptionBudget")
                if p["metadata"]["namespace"] == ns and _selects(p["spec"]["selector"], labels)]


def test_every_workload_talks_to_kafka_with_its_own_kafka_user_certificate() -> None:
    users = {d["metadata"]["name"] for d in by_kind(k8s.render("kafka"), "KafkaUser")}
    common = {d["metadata"]["namespace"]: d["data"] for d in everything()
              if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("vt-common")}
    for workload in [d for d in everything() if d["kind"] in WORKLOAD_KINDS]:
        assert common[workload["metadata"]["namespace"]]["KAFKA_SECURITY_PROTOCOL"] == "SSL"  # mTLS, no SASL
        volume, = [v for v in workload["spec"]["template"]["spec"]["volumes"] if v["name"] == "kafka"]
        secrets = [s["secret"]["name"] for s in volume["projected"]["sources"]]
        assert secrets[1] == "kafka-cluster-ca"
        name = workload["metadata"]["name"]
        user = f"intake-{workload['metadata']['labels']['vt.tenant']}" if name.startswith("intake-") \
            else "ops-readonly" if name == "ops-dashboard" else name
        assert user in users and secrets[0] == ("kafka-user-intake" if user.startswith("intake-") else f"kafka-user-{user}")


def test_the_meldformulier_has_a_tls_ingress_per_region_and_only_the_edge_may_reach_it() -> None:
    docs = k8s.render("regions")
    for tenant in all_tenants():
        mine = [d for d in docs if d["metadata"].get("namespace") == f"vt-{tenant}"]
        service, = by_kind(mine, "Service")
        ports = {p["name"]: p for p in service["spec"]["ports"]}
        assert ports["http"]["targetPort"] == "http" and "grpc" in ports
        ingress, = by_kind(mine, "Ingress")
        assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"]
        rule, = ingress["spec"]["rules"]
        assert ingress["spec"]["tls"] == [{"hosts": [rule["host"]], "secretName": "meldformulier-tls"}]
        backend = rule["http"]["paths"][0]["backend"]["service"]
        assert backend == {"name": service["metadata"]["name"], "port": {"name": "http"}}
        policies = {p["metadata"]["name"]: p["spec"] for p in by_kind(mine, "NetworkPolicy")}
        assert policies[f"default-deny-{tenant}"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        http_from = [rule.get("from") for p in policies.values() for rule in p.get("ingress", [])
                     if {"port": "http", "protocol": "TCP"} in rule["ports"]]
        assert http_from == [[{"namespaceSelector": {"matchLabels": {"vt-exchange/edge": "public"}}}]]


def test_the_ops_dashboard_has_an_internal_tls_ingress() -> None:
    docs = k8s.render("national")
    ingress, = by_kind(docs, "Ingress")
    assert ingress["spec"]["ingressClassName"] == "vt-internal"
    assert ingress["spec"]["tls"][0]["hosts"] == [ingress["spec"]["rules"][0]["host"]]
    assert ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == "ops-dashboard"
    policy, = [p for p in by_kind(docs, "NetworkPolicy") if p["metadata"]["name"] == "ops-dashboard"]
    assert {"namespaceSelector": {"matchLabels": {"vt-exchange/edge": "internal"}}} in policy["spec"]["ingress"][0]["from"]


def test_strimzi_kraft_cluster_replicates_three_times_over_zones_with_two_in_sync() -> None:
    docs = k8s.render("kafka")
    kafka, = by_kind(docs, "Kafka")
    assert kafka["apiVersion"] == "kafka.strimzi.io/v1" and "zookeeper" not in kafka["spec"]
    config = kafka["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == 3 and config["min.insync.replicas"] == 2
    assert config["auto.create.topics.enable"] is False and config["unclean.leader.election.enable"] is False
    assert kafka["spec"]["kafka"]["rack"]["topologyKey"] == "topology.kubernetes.io/zone"
    assert "kafkaExporter" in kafka["spec"]  # consumer lag
    listener, = kafka["spec"]["kafka"]["listeners"]
    assert listener["tls"] is True and listener["authentication"]["type"] == "tls"
    pools = by_kind(docs, "KafkaNodePool")
    roles = {role: sum(p["spec"]["replicas"] for p in pools if role in p["spec"]["roles"]) for role in ("controller", "broker")}
    assert roles["controller"] >= 3 and roles["broker"] >= 3
    for pool in pools:
        spread = pool["spec"]["template"]["pod"]["topologySpreadConstraints"]
        assert any(c["topologyKey"] == "topology.kubernetes.io/zone" and c["whenUnsatisfiable"] == "DoNotSchedule"
                   for c in spread)
    kafka_topics = by_kind(docs, "KafkaTopic")
    assert {t["spec"]["topicName"] for t in kafka_topics} == {s.name for s in topics.all_topics()}
    assert all(t["spec"]["replicas"] == 3 and t["spec"]["config"]["min.insync.replicas"] == 2 for t in kafka_topics)
    assert all(d["apiVersion"] != "kafka.strimzi.io/v1beta2" for d in docs)


def test_cruise_control_is_an_optional_component() -> None:
    plain, = by_kind(k8s.render("kafka"), "Kafka")
    with_cc, = by_kind(k8s.render("kafka-cruise-control"), "Kafka")
    assert "cruiseControl" not in plain["spec"] and "cruiseControl" in with_cc["spec"]


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_a_multi_stage_non_root_dockerfile(service: str) -> None:
    lines = (ROOT / "services" / service / "Dockerfile").read_text().splitlines()
    assert sum(line.startswith("FROM ") for line in lines) >= 2
    user = [line for line in lines if line.startswith("USER ")]
    assert user and user[-1] not in ("USER root", "USER 0")
    assert f'ENTRYPOINT ["python", "-m", "{service}"]' in lines


@pytest.mark.parametrize("service", SERVICES)
def test_each_image_holds_only_its_runtime_set_vtkit_the_protos_and_its_service(service: str) -> None:
    """No tools, no test support, no other service, and only the packages of requirements/<service>.txt."""
    lines = (ROOT / "services" / service / "Dockerfile").read_text().splitlines()
    copies = [line.split()[1:] for line in lines if line.startswith("COPY ") and "--from=" not in line]
    assert copies == [[f"requirements/{service}.txt", "requirements.txt"], ["libs/vtkit", "/app/libs/vtkit"],
                      ["libs/vtproto", "/app/libs/vtproto"],
                      [f"services/{service}/{service}", f"/app/services/{service}/{service}"]]
    assert [line for line in lines if "pip install" in line] == [
        "RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt"]


def test_the_ops_dashboard_and_the_redrive_job_run_the_ops_image() -> None:
    dashboard, = [d for d in k8s.render("national") if d["kind"] == "Deployment" and d["metadata"]["name"] == "ops-dashboard"]
    job = yaml.safe_load((K8S / "jobs" / "ops-redrive.yaml").read_text())
    for pod, command in ((dashboard["spec"]["template"]["spec"], ["python", "-m", "ops"]),
                         (job["spec"]["template"]["spec"], ["python", "-m", "ops.cli"])):
        container, = pod["containers"]
        assert container["image"].startswith("ghcr.io/vt-exchange/ops:")
        assert container["command"] == command


def test_the_redrive_job_validates_and_runs_as_ops_redrive() -> None:
    job = yaml.safe_load((K8S / "jobs" / "ops-redrive.yaml").read_text())
    k8s.validate(job)
    sources = job["spec"]["template"]["spec"]["volumes"][0]["projected"]["sources"]
    assert sources[0]["secret"]["name"] == "kafka-user-ops-redrive"
    assert job["spec"]["template"]["spec"]["containers"][0]["args"][0] == "redrive"


# What a service's vt-pki-<service> Secret may give it (deploy/k8s/README.md): the CA certificate, its server
# certificate and key, and the notifier and radar their client certificates. Never a CA private key (vtkit.pki).
PKI_ITEMS = {"ca.pem", "server.pem", "server.key", "client.pem", "client.key"}


def test_no_workload_mounts_the_ca_private_key() -> None:
    """Whoever holds the CA key can issue any organisation's certificate: no Secret a pod mounts names it. A key
    Secret mounted whole (vt-keys-<service>) is filled by the platform's secret store, which must not put a CA key
    there either: the service would refuse to start (vtkit.keystore.refuse_ca_key)."""
    jobs = [d for d in k8s.render("national") if d["kind"] == "Job"]
    jobs += [yaml.safe_load(p.read_text()) for p in sorted((K8S / "jobs").glob("*.yaml"))]
    workloads = [d for d in everything() if d["kind"] in WORKLOAD_KINDS] + jobs
    assert workloads
    seen_pki = 0
    for workload in workloads:
        name = workload["metadata"].get("name") or workload["metadata"]["generateName"]
        for volume in workload["spec"]["template"]["spec"].get("volumes", []):
            secrets = [s["secret"] for s in volume.get("projected", {}).get("sources", []) if "secret" in s]
            if "secret" in volume:
                secrets.append({"name": volume["secret"]["secretName"], "items": volume["secret"].get("items")})
            for secret in secrets:
                items = secret.get("items")
                assert "ca-key" not in secret["name"] and not secret["name"].startswith("vt-ca"), (name, secret)
                if items is None:
                    assert secret["name"].startswith("vt-keys-"), (name, secret["name"])  # only the key files, whole
                    continue
                for item in items:
                    assert item["key"] != "ca.key" and not item["path"].endswith("ca.key"), (name, item)
                if secret["name"].startswith("vt-pki-"):
                    seen_pki += 1
                    assert {i["key"] for i in items} <= PKI_ITEMS, (name, items)
    assert seen_pki >= 4  # radar, verwijsindex, notifier and every region's intake
