"""The production manifests (deploy/k8s) and Dockerfiles, checked without a cluster.

Kubernetes objects are validated against the official schemas (kubernetes-validate, strict: unknown fields
fail); kustomizations are rendered by a small resolver that applies what our overlays use (resources,
nameSuffix, labels, JSON 6902 patches), so a patch to a path that does not exist fails here, not at deploy."""

from __future__ import annotations

import copy
import pathlib
import subprocess
import sys
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
K8S_VERSION = "1.30"
SERVICES = ("intake", "radar", "verwijsindex", "notifier")


def _pointer(doc: Any, path: str) -> tuple[Any, str | int]:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in path.strip("/").split("/")]
    for part in parts[:-1]:
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    last = parts[-1]
    return doc, int(last) if isinstance(doc, list) else last


def render(directory: pathlib.Path) -> list[dict[str, Any]]:
    """Resolve a kustomization the way `kustomize build` would for the features we use."""
    spec = yaml.safe_load((directory / "kustomization.yaml").read_text())
    docs: list[dict[str, Any]] = []
    for resource in spec.get("resources", []):
        target = (directory / resource).resolve()
        assert target.exists(), f"{directory}: resource {resource} does not exist"
        docs += render(target) if target.is_dir() else [d for d in yaml.safe_load_all(target.read_text()) if d]
    docs = copy.deepcopy(docs)
    for patch in spec.get("patches", []):
        matched = [d for d in docs if all(d.get("kind") == v if k == "kind" else d["metadata"].get(k) == v
                                          for k, v in patch["target"].items())]
        assert matched, f"{directory}: patch target {patch['target']} matches nothing"
        for doc in matched:
            for op in yaml.safe_load(patch["patch"]):
                parent, key = _pointer(doc, op["path"])
                assert op["op"] == "replace" and (key in parent if isinstance(parent, dict) else key < len(parent)), \
                    f"{directory}: {op['path']} does not exist in {doc['metadata']['name']}"
                parent[key] = op["value"]
    for doc in docs:
        if spec.get("nameSuffix") and doc["kind"] != "Namespace":
            doc["metadata"]["name"] += spec["nameSuffix"]
        for label in spec.get("labels", []):
            doc["metadata"].setdefault("labels", {}).update(label["pairs"])
            template = doc.get("spec", {}).get("template")
            if label.get("includeSelectors") and template:
                template["metadata"]["labels"].update(label["pairs"])
                doc["spec"]["selector"]["matchLabels"].update(label["pairs"])
        if spec.get("namespace") and doc["kind"] != "Namespace":
            doc["metadata"]["namespace"] = spec["namespace"]
    return docs


KUSTOMIZATIONS = ["national", "region", "overlays/region-utrecht"]


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_kubernetes_objects_validate_against_the_official_schemas(name: str) -> None:
    for doc in render(K8S / name):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_every_workload_has_grpc_probes_resources_a_pdb_and_runs_as_non_root(name: str) -> None:
    docs = render(K8S / name)
    pdbs = {d["metadata"]["name"] for d in docs if d["kind"] == "PodDisruptionBudget"}
    workloads = [d for d in docs if d["kind"] == "StatefulSet"]
    assert workloads
    for workload in workloads:
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in pod["containers"]:
            # mTLS: an exec probe presenting the server certificate (kubelet's gRPC probe has no client cert).
            for probe in (container["readinessProbe"], container["livenessProbe"]):
                assert probe["exec"]["command"][:6] == ["python", "-m", "vtkit.grpcserver", "check", "127.0.0.1:50051",
                                                        container["name"]]
            pki = [s["secret"] for v in pod["volumes"] if "projected" in v for s in v["projected"]["sources"]
                   if s["secret"]["name"].startswith("vt-pki-")]
            assert [i["path"] for i in pki[0]["items"]][:3] == [
                "pki/ca.pem", f"pki/servers/{container['name']}.pem", f"pki/servers/{container['name']}.key"]
            assert container["resources"]["requests"]
        assert workload["metadata"]["name"] in pdbs


def test_a_region_overlay_is_its_own_tenant() -> None:
    base, = [d for d in render(K8S / "region") if d["kind"] == "StatefulSet"]
    utrecht, = [d for d in render(K8S / "overlays/region-utrecht") if d["kind"] == "StatefulSet"]
    env = {e["name"]: e.get("value") for e in utrecht["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["VT_TENANT"] == "utrecht" and utrecht["metadata"]["name"] == "intake-utrecht"
    assert utrecht["spec"]["selector"]["matchLabels"]["vt.tenant"] == "utrecht"
    assert base["spec"]["selector"]["matchLabels"]["vt.tenant"] == "amsterdam-amstelland"


def test_strimzi_cluster_replicates_three_times_with_two_in_sync() -> None:
    kafka, = [d for d in render(K8S / "kafka") if d["kind"] == "Kafka"]
    config = kafka["spec"]["kafka"]["config"]
    assert kafka["spec"]["kafka"]["replicas"] == 3
    assert config["default.replication.factor"] == 3 and config["min.insync.replicas"] == 2
    assert config["auto.create.topics.enable"] is False
    topics = [d for d in render(K8S / "kafka") if d["kind"] == "KafkaTopic"]
    assert all(t["spec"]["replicas"] == 3 and t["spec"]["config"]["min.insync.replicas"] == 2 for t in topics)


def test_each_intake_user_may_write_only_its_own_prefix() -> None:
    users = {d["metadata"]["name"]: d for d in render(K8S / "kafka") if d["kind"] == "KafkaUser"}
    acls = users["intake-utrecht"]["spec"]["authorization"]["acls"]
    writable = {a["resource"]["name"] for a in acls if "Write" in a["operations"]}
    assert writable == {"vt.utrecht.", "vt.national.deadletter.v1"}
    assert all("quotas" in u["spec"] for u in users.values())


def test_kafka_topics_and_users_are_generated_from_the_code() -> None:
    result = subprocess.run([sys.executable, "scripts/gen_k8s_kafka.py", "--check"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_a_multi_stage_non_root_dockerfile(service: str) -> None:
    lines = (ROOT / "services" / service / "Dockerfile").read_text().splitlines()
    assert sum(line.startswith("FROM ") for line in lines) >= 2
    user = [line for line in lines if line.startswith("USER ")]
    assert user and user[-1] not in ("USER root", "USER 0")
    assert f'ENTRYPOINT ["python", "-m", "{service}"]' in lines
