"""Render deploy/k8s with the real kustomize and validate objects against real schemas (shared by the contract tests).

kustomize: `kustomize build`, else `kubectl kustomize` (kubectl ships kustomize; the python machine image has it).
Schemas: Kubernetes kinds through kubernetes-validate (the official OpenAPI schemas, strict: an unknown field
fails); Strimzi and Prometheus Operator kinds through the CRD schemas vendored in tests/contract/schemas, made
strict the same way (an object schema with properties and without x-kubernetes-preserve-unknown-fields admits
no other field), with jsonschema."""

from __future__ import annotations

import copy
import functools
import json
import pathlib
import shutil
import subprocess
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]  # libs/vttest/k8s.py -> the repository
K8S = ROOT / "deploy" / "k8s"
SCHEMAS = ROOT / "tests" / "contract" / "schemas"
# The oldest Kubernetes minor the manifests promise (deploy/k8s/README.md) and the newest kubernetes-validate knows.
K8S_VERSIONS = ("1.31", "1.35")
CRD_GROUPS = {"kafka.strimzi.io", "monitoring.coreos.com"}


def kustomize_command() -> list[str]:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    raise RuntimeError("neither kustomize nor kubectl (which ships kustomize) is installed: the manifests cannot be "
                       "rendered (apt-get install kubectl, or a kustomize binary on PATH)")


@functools.cache
def _rendered(directory: str) -> str:
    done = subprocess.run([*kustomize_command(), directory], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise AssertionError(f"kustomize {directory}: {done.stderr.strip()}")
    return done.stdout


def render(relative: str) -> list[dict[str, Any]]:
    """The objects `kustomize build deploy/k8s/<relative>` prints (a fresh copy per call)."""
    return [d for d in yaml.safe_load_all(_rendered(str(K8S / relative))) if d]


def _strict(node: Any) -> Any:
    """OpenAPI v3 (Kubernetes structural schema) -> JSON Schema that rejects unknown fields."""
    if isinstance(node, list):
        return [_strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _strict(v) for k, v in node.items() if not k.startswith("x-kubernetes-")}
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable"):
        out.pop("nullable")
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
    if "properties" in node and "additionalProperties" not in node \
            and not node.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


@functools.cache
def crd_validator(api_version: str, kind: str) -> jsonschema.protocols.Validator:
    group, _, version = api_version.partition("/")
    path = SCHEMAS / f"{kind.lower()}-{group.split('.')[0]}-{version}.json"
    if not path.exists():
        raise AssertionError(f"no vendored schema for {api_version} {kind} ({path.name})")
    schema = _strict(json.loads(path.read_text()))
    schema["properties"]["metadata"] = {"type": "object"}  # ObjectMeta: checked by the API server, not the CRD
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    return cls(schema)


def validate(doc: dict[str, Any]) -> None:
    """Raise when `doc` does not validate against its kind's schema (every Kubernetes version of K8S_VERSIONS)."""
    group = doc["apiVersion"].split("/")[0] if "/" in doc["apiVersion"] else ""
    if group in CRD_GROUPS:
        errors = sorted(crd_validator(doc["apiVersion"], doc["kind"]).iter_errors(doc), key=lambda e: list(e.path))
        if errors:
            raise AssertionError(f"{doc['kind']} {doc['metadata'].get('name')}: " + "; ".join(
                f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5]))
        return
    for version in K8S_VERSIONS:
        kubernetes_validate.validate(copy.deepcopy(doc), version, strict=True)
