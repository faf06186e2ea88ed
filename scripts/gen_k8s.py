"""Write the generated parts of deploy/k8s from their single sources, or with --check fail when they are stale:

- deploy/k8s/kafka/topics.yaml   a Strimzi KafkaTopic per topic of libs/vtkit/topics.py
- deploy/k8s/kafka/users.yaml    a Strimzi KafkaUser (mTLS) per line of the ACL table deploy/k8s/kafka/access.yaml
- deploy/k8s/regions/<id>/kustomization.yaml and deploy/k8s/regions/kustomization.yaml
                                 one small overlay per region of libs/vtkit/tenants.toml

`acls_of(table)` expands the table the same way for the tests (tests/contract/test_kafka_acls.py)."""

from __future__ import annotations

import pathlib
import sys
from typing import Any

import yaml
from vtkit import topics
from vtkit.tenants import all_tenants

ROOT = pathlib.Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
ACCESS = K8S / "kafka" / "access.yaml"
CLUSTER = "vt-kafka"
KAFKA_NAMESPACE = "kafka"
DOMAIN = "veiligthuis.example"  # the public domain; change it here and regenerate (deploy/k8s/README.md)
TWENTY_YEARS_MS = 20 * 365 * 24 * 3600 * 1000 + 5 * 24 * 3600 * 1000  # Wmo 5.3.4, leap days included
NATIONAL_PARTITIONS = 12  # a region scales by partitions x workers; national topics carry all regions

NATIONAL = {"rvdk": topics.NATIONAL_RVDK, "assessments": topics.NATIONAL_ASSESSMENTS,
            "radar-person": topics.NATIONAL_RADAR_PERSON, "verwijsindex": topics.NATIONAL_VERWIJSINDEX,
            "brp": topics.NATIONAL_BRP, "deliveries": topics.NATIONAL_DELIVERIES, "audit": topics.NATIONAL_AUDIT,
            "deadletter": topics.DEAD_LETTERS}
REGIONAL = {"intake": topics.intake, "register": topics.register}


def topic_names(symbol: str, tenant: str | None) -> list[str]:
    """`intake:*` -> every region's intake topic, `intake:{tenant}` -> the user's own, `audit` -> the national one."""
    kind, _, region = symbol.partition(":")
    if not region:
        if kind not in NATIONAL:
            raise ValueError(f"{ACCESS.name}: unknown topic {symbol!r}")
        return [NATIONAL[kind]]
    if kind not in REGIONAL:
        raise ValueError(f"{ACCESS.name}: unknown regional topic {symbol!r}")
    if region == "*":
        return [REGIONAL[kind](t) for t in all_tenants()]
    if region == "{tenant}" and tenant:
        return [REGIONAL[kind](tenant)]
    raise ValueError(f"{ACCESS.name}: {symbol!r}: the region is * or {{tenant}} (in a per-region user only)")


def load_table(path: pathlib.Path = ACCESS) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text()))


def acls_of(entry: dict[str, Any], tenant: str | None = None) -> list[dict[str, Any]]:
    """The Strimzi ACL rules of one table entry: literal topics, Describe with every Read/Write."""
    ops: dict[str, set[str]] = {}
    for verb, operation in (("read", "Read"), ("write", "Write")):
        for symbol in entry.get(verb, []):
            for name in topic_names(symbol, tenant):
                ops.setdefault(name, {"Describe"}).add(operation)
    order = ["Describe", "Read", "Write", "Create"]
    rules = [{"resource": {"type": "topic", "name": name, "patternType": "literal"},
              "operations": sorted(found, key=order.index)} for name, found in ops.items()]
    if prefix := entry.get("internal"):
        rules.append({"resource": {"type": "topic", "name": prefix, "patternType": "prefix"},
                      "operations": ["Describe", "Read", "Write", "Create"]})
    for group in entry.get("groups", []):
        rules.append({"resource": {"type": "group", "name": group, "patternType": "literal"},
                      "operations": ["Describe", "Read"]})
    if prefix := entry.get("describe_groups"):
        rules.append({"resource": {"type": "group", "name": prefix, "patternType": "prefix"},
                      "operations": ["Describe"]})
    if cluster := entry.get("cluster"):
        rules.append({"resource": {"type": "cluster"}, "operations": list(cluster)})
    return rules


def users(table: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """user name -> KafkaUser, one per table line and, for `{tenant}` lines, one per region."""
    out: dict[str, dict[str, Any]] = {}
    for pattern, entry in table["users"].items():
        tenants: list[str | None] = list(all_tenants()) if "{tenant}" in pattern else [None]
        for tenant in tenants:
            name = pattern.replace("{tenant}", tenant or "")
            out[name] = {
                "apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaUser",
                "metadata": {"name": name, "namespace": KAFKA_NAMESPACE, "labels": {"strimzi.io/cluster": CLUSTER}},
                "spec": {"authentication": {"type": "tls"},
                         "authorization": {"type": "simple", "acls": acls_of(entry, tenant)},
                         "quotas": dict(table["quotas"][entry["quota"]])}}
    return out


def _dump(header: str, docs: list[dict[str, Any]]) -> str:
    return header + "".join("---\n" + yaml.safe_dump(d, sort_keys=False, width=120, default_flow_style=None) for d in docs)


def topics_yaml() -> str:
    docs = []
    for spec in topics.all_topics():
        docs.append({
            "apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic",
            "metadata": {"name": spec.name.replace(".", "-"), "namespace": KAFKA_NAMESPACE,
                         "labels": {"strimzi.io/cluster": CLUSTER}},
            "spec": {"topicName": spec.name,
                     "partitions": NATIONAL_PARTITIONS if ".national." in spec.name else spec.partitions,
                     "replicas": 3,
                     # 20 years (Wmo 5.3.4); erasure is by destroying keys (crypto-shredding), not by retention
                     "config": {"min.insync.replicas": 2, "retention.ms": TWENTY_YEARS_MS}}})
    return _dump("# Generated by scripts/gen_k8s.py from libs/vtkit/topics.py: every topic of the suite (radar's faust\n"
                 "# changelogs vt-radar-*-changelog are created by radar itself, under its `internal` ACL).\n"
                 "# retention.ms is 20 years (Wmo 5.3.4): erasure is by destroying keys (crypto-shredding).\n", docs)


def users_yaml() -> str:
    return _dump("# Generated by scripts/gen_k8s.py from deploy/k8s/kafka/access.yaml (edit that table, not this file).\n"
                 "# mTLS: the User Operator issues each user a certificate (Secret <user>: ca.crt, user.crt,\n"
                 "# user.key) from the clients CA; principal CN=<user>.\n", list(users(load_table()).values()))


def region_yaml(tenant: str, name: str, region: int) -> str:
    return f"""# {name} (veiligheidsregio {region}). Generated by scripts/gen_k8s.py from libs/vtkit/tenants.toml.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: vt-{tenant}
nameSuffix: -{tenant}
resources: [../../region]
components: [../../components/region]
labels:
  - pairs: {{vt.tenant: {tenant}}}
    includeSelectors: true
configMapGenerator:
  - name: vt-region
    literals: [VT_TENANT={tenant}, MELDFORMULIER_HOST=meldformulier.{tenant}.{DOMAIN}]
"""


def render() -> dict[pathlib.Path, str]:
    files = {K8S / "kafka" / "topics.yaml": topics_yaml(), K8S / "kafka" / "users.yaml": users_yaml()}
    tenants = all_tenants()
    for tenant in tenants.values():
        files[K8S / "regions" / tenant.id / "kustomization.yaml"] = region_yaml(tenant.id, tenant.name, tenant.region)
    files[K8S / "regions" / "kustomization.yaml"] = (
        "# Every region at once (kubectl kustomize deploy/k8s/regions). Generated by scripts/gen_k8s.py.\n"
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
        + "".join(f"  - {t}\n" for t in tenants))
    return files


def main() -> None:
    files = render()
    stale = [str(p.relative_to(ROOT)) for p, text in files.items() if not p.exists() or p.read_text() != text]
    regions = K8S / "regions"
    extra = [str(p.relative_to(ROOT)) for p in regions.glob("*/kustomization.yaml") if p not in files]
    if "--check" in sys.argv:
        if stale or extra:
            sys.exit(f"stale: {', '.join(stale + extra)}: run `.venv/bin/python scripts/gen_k8s.py`")
        return
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for path in extra:  # a region that left tenants.toml
        (ROOT / path).unlink()
        (ROOT / path).parent.rmdir()


if __name__ == "__main__":
    main()
