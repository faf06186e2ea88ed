"""The Grafana dashboard (deploy/k8s/monitoring/grafana-dashboard.json), checked without a Grafana or a Prometheus.

- It parses; every panel has a unique id and title, and every panel but a row has PromQL targets.
- Every metric name a PromQL expression uses is one the code exports (found by reading every Counter/Gauge/
  Histogram/Summary declaration in libs/vtkit and services/*, cross-checked against prometheus_client's REGISTRY
  for vtkit.metrics) or a Kafka Exporter / Prometheus metric listed below; every label a selector matches on is
  one that metric has (or one the Prometheus Operator adds to every target).
- A selector of a metric with a tenant label filters on the $region variable.
- Every figure of the ops page (its tiles, tables, broker banner and chart series, services/ops/ops/dashboard.html
  and observer.SERIES) has a panel, and every metric the ops page scrapes from the services is on the dashboard.
- The ConfigMap that Kustomize generates from it (deploy/k8s/monitoring) carries the Grafana sidecar's label and
  the file unchanged (the schema check of the rendered objects is test_deploy.py's, which renders monitoring too).
"""

from __future__ import annotations

import ast
import json
import pathlib
import re
from typing import Any

import pytest
from vttest import k8s

ROOT, K8S = k8s.ROOT, k8s.K8S
DASHBOARD = K8S / "monitoring" / "grafana-dashboard.json"
OPS_PAGE = ROOT / "services" / "ops" / "ops" / "dashboard.html"

# Metrics that come from outside the code, with the labels the dashboard may match on.
KNOWN_EXTERNAL = {
    # Kafka Exporter (Strimzi's `kafkaExporter` in deploy/k8s/kafka/kafka.yaml; PodMonitor vt-kafka-exporter).
    "kafka_consumergroup_lag": {"consumergroup", "topic", "partition"},  # end offset minus the group's committed
    "kafka_topic_partition_current_offset": {"topic", "partition"},  # end offset per partition
    "kafka_topic_partition_oldest_offset": {"topic", "partition"},  # first offset still held
    "kafka_topic_partition_under_replicated_partition": {"topic", "partition"},  # 1 when ISR < replicas
    "kafka_brokers": set(),  # brokers in the cluster the exporter sees
    # Prometheus itself: 1 when a scrape target answered, 0 when not.
    "up": set(),
}
# Labels the Prometheus Operator puts on every series of a PodMonitor's targets.
TARGET_LABELS = {"namespace", "pod", "container", "endpoint", "job", "instance"}
METRIC_KINDS = {"Counter", "Gauge", "Histogram", "Summary"}

# Figure of the ops page -> the dashboard panel that shows it and the metrics that panel must use. Keys are the page's
# elements: tiles (id="tile-<x>"), tables (<table id="<x>">), the broker banner and the chart's series
# (ops.observer.SERIES). A figure added to the page fails test_every_ops_page_figure_has_a_panel until it has one.
FIGURES: dict[str, tuple[str, set[str]]] = {
    "tile:rate": ("Berichten per seconde", {"kafka_topic_partition_current_offset"}),
    "tile:lag": ("Achterstand", {"kafka_consumergroup_lag"}),
    "tile:overdue": ("Termijnen verlopen", {"vt_deadlines"}),
    "tile:dead": ("Onverwerkbare berichten", {"vt_dead_letters"}),
    "tile:quarantine": ("Outbox in quarantaine", {"vt_outbox_quarantined"}),
    "tile:down": ("Diensten onbereikbaar", {"up"}),
    "table:services": ("Diensten: versie, outbox", {"vt_build_info", "vt_outbox_backlog", "vt_outbox_quarantined"}),
    "table:dead": ("Onverwerkbare berichten per bron-topic", {"vt_dead_letters"}),
    "table:deadlines": ("Termijnen per regio", {"vt_deadlines"}),
    # The page lists each overdue case; Prometheus labels never carry a case id, so the panel counts them per region.
    "table:overdue": ("Verlopen termijnen per regio", {"vt_deadlines"}),
    "table:lag": ("Achterstand per verwerkersgroep", {"kafka_consumergroup_lag", "vt_consumer_lag"}),
    "table:topics": ("Topics", {"vt_topic_messages", "vt_topic_rate"}),
    "table:norms": ("Normen per regio (laatste 365 dagen)", {"vt_norm_share"}),
    "table:inbox": ("Inbox per regio", {"vt_inbox_unacknowledged", "vt_inbox_acknowledged_total",
                                        "vt_inbox_escalations_total", "vt_household_not_informed_late"}),
    "banner:broker-banner": ("Broker-herstel (outbox publiceert opnieuw)", {"vt_broker_recoveries_total"}),
    "banner:broker-progress": ("Intake-berichten op de broker", {"kafka_topic_partition_current_offset"}),
    "chart:rate": ("Doorvoer per topic", {"kafka_topic_partition_current_offset"}),
    "chart:lag": ("Achterstand per verwerkersgroep", {"kafka_consumergroup_lag"}),
    "chart:dead_letters": ("Onverwerkbare berichten (verloop)", {"vt_dead_letters", "vt_dead_letters_total"}),
    "chart:overdue": ("Verlopen termijnen", {"vt_deadlines"}),
    "chart:backlog": ("Outbox wachtend en in quarantaine", {"vt_outbox_backlog"}),
    "chart:quarantined": ("Outbox wachtend en in quarantaine", {"vt_outbox_quarantined"}),
    "household-not-informed-late": ("Huishouden te laat geïnformeerd", {"vt_household_not_informed_late"}),
}
# gRPC, server and client side (vtkit.grpcobs): request rate, error ratio and p99 latency.
GRPC = {
    "Server: aanroepen per seconde": "vt_grpc_server_handled_total",
    "Server: aandeel fouten": "vt_grpc_server_handled_total",
    "Server: p99 duur": "vt_grpc_server_handling_seconds_bucket",
    "Client: aanroepen per seconde": "vt_grpc_client_handled_total",
    "Client: aandeel fouten": "vt_grpc_client_handled_total",
    "Client: p99 duur": "vt_grpc_client_handling_seconds_bucket",
}


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def all_panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, those inside collapsed rows too."""
    out = []
    for panel in board["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def query_panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in all_panels(board) if p["type"] != "row"]


# --- what the code exports ------------------------------------------------------------------------------------------

def _declared() -> list[tuple[str, str, set[str], pathlib.Path]]:
    """(kind, name, label names, file) of every prometheus_client metric declared in libs/vtkit and the services."""
    files = sorted((ROOT / "libs" / "vtkit").rglob("*.py")) + sorted((ROOT / "services").glob("*/*/**/*.py"))
    out = []
    for path in files:
        if "tests" in path.relative_to(ROOT).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in METRIC_KINDS):
                continue
            if not (node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                continue
            labels_node = node.args[2] if len(node.args) > 2 else next(
                (k.value for k in node.keywords if k.arg == "labelnames"), None)
            labels = {e.value for e in labels_node.elts} if isinstance(labels_node, (ast.List, ast.Tuple)) else set()
            out.append((node.func.id, node.args[0].value, labels, path))
    return out


def exported() -> dict[str, set[str]]:
    """Sample name as Prometheus stores it -> its label names (prometheus_client's naming: a Counter's samples end in
    _total whether or not its name does; a Histogram has _bucket (with le), _sum and _count)."""
    names: dict[str, set[str]] = {}
    for kind, name, labels, _ in _declared():
        base = name.removesuffix("_total") if kind == "Counter" else name
        samples = {"Counter": {f"{base}_total": labels, f"{base}_created": labels},
                   "Gauge": {base: labels},
                   "Histogram": {f"{base}_bucket": labels | {"le"}, f"{base}_sum": labels, f"{base}_count": labels},
                   "Summary": {base: labels | {"quantile"}, f"{base}_sum": labels, f"{base}_count": labels}}[kind]
        for sample, sample_labels in samples.items():
            names.setdefault(sample, set()).update(sample_labels)
    return names


def test_the_source_scan_finds_what_prometheus_client_registers() -> None:
    """The AST scan is not blind: every family vtkit.metrics registers is found, with its labels."""
    from prometheus_client import REGISTRY
    from vtkit import metrics

    declared = {name.removesuffix("_total") if kind == "Counter" else name: labels
                for kind, name, labels, path in _declared() if path.name == "metrics.py"}
    registered = {family.name for family in REGISTRY.collect() if family.name.startswith("vt_")}
    assert registered and registered <= set(declared)
    assert declared["vt_grpc_server_handled"] == set(metrics.GRPC_SERVER_HANDLED._labelnames)
    names = exported()
    assert {"vt_dead_letters", "vt_dead_letters_total", "vt_topic_rate", "vt_broker_recoveries_total",
            "vt_grpc_server_handling_seconds_bucket"} <= set(names)
    assert names["vt_deadlines"] >= {"kind", "area", "tenant", "state"}  # radar's and the ops page's


# --- PromQL ------------------------------------------------------------------------------------------------------------

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset",
            "inf", "nan"}
SELECTOR = re.compile(r"([a-zA-Z_:][\w:]*)?\s*\{([^}]*)\}")
MATCHER = re.compile(r'([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')


def _grafana_free(expr: str) -> str:
    return expr.replace("$__rate_interval", "5m").replace("$__range", "1h").replace("$__interval", "1m")


def metric_names(expr: str) -> set[str]:
    """The metric names of a PromQL expression: selector names, {__name__=...} alternatives and bare identifiers that
    are no function, aggregation, keyword or label."""
    expr = _grafana_free(expr)
    names = set()
    for match in SELECTOR.finditer(expr):
        if match.group(1):
            names.add(match.group(1))
        for label, _, value in MATCHER.findall(match.group(2)):
            if label == "__name__":
                names |= set(value.split("|"))
    rest = SELECTOR.sub(" ", expr)
    rest = re.sub(r'"(?:[^"\\]|\\.)*"', " ", rest)
    rest = re.sub(r"\[[^\]]*\]", " ", rest)
    rest = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", rest)
    for match in re.finditer(r"(?<![\w.])([a-zA-Z_:][\w:]*)\b(?!\s*\()", rest):
        if match.group(1).lower() not in KEYWORDS:
            names.add(match.group(1))
    return names


def selectors(expr: str) -> list[tuple[str, dict[str, tuple[str, str]]]]:
    """(metric name, {label: (operator, value)}) of every selector that names its metric."""
    return [(m.group(1), {label: (op, value) for label, op, value in MATCHER.findall(m.group(2))})
            for m in SELECTOR.finditer(_grafana_free(expr)) if m.group(1)]


def test_the_promql_reader_finds_names_and_leaves_functions_and_labels() -> None:
    expr = ('histogram_quantile(0.99, sum by (le, grpc_service) (rate(vt_grpc_server_handling_seconds_bucket'
            '{grpc_code!="OK", namespace=~"vt-($region)"}[$__rate_interval]))) / ignoring(le) sum(up) or vector(0) '
            '+ sum(kafka_brokers) * on (topic) group_left kafka_topic_partition_current_offset')
    assert metric_names(expr) == {"vt_grpc_server_handling_seconds_bucket", "up", "kafka_brokers",
                                  "kafka_topic_partition_current_offset"}
    (name, matchers), = selectors(expr)
    assert name == "vt_grpc_server_handling_seconds_bucket" and matchers["namespace"] == ("=~", "vt-($region)")


def expressions(board: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, expr) of every target, and the $region variable's query."""
    out = [(p["title"], t["expr"]) for p in query_panels(board) for t in p["targets"]]
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
            out.append((f"${variable['name']}", re.sub(r"^label_values\((.*),\s*\w+\)$", r"\1", query)))
    return out


# --- the dashboard --------------------------------------------------------------------------------------------------------

def test_the_dashboard_parses_and_every_panel_has_a_unique_id_a_title_and_targets() -> None:
    board = dashboard()
    assert board["uid"] and board["title"] and isinstance(board["schemaVersion"], int)
    panels = all_panels(board)
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)) and all(isinstance(i, int) for i in ids)
    titles = [p["title"] for p in panels]
    assert all(titles) and len(titles) == len(set(titles)), [t for t in titles if titles.count(t) > 1]
    for panel in query_panels(board):
        assert panel["targets"], panel["title"]
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
        for t in panel["targets"]:
            assert t["expr"].strip() and t["datasource"] == panel["datasource"], panel["title"]
            assert t["expr"].count("(") == t["expr"].count(")") and t["expr"].count("{") == t["expr"].count("}")
        grid = panel["gridPos"]
        assert grid["w"] > 0 and grid["h"] > 0 and grid["x"] + grid["w"] <= 24, panel["title"]
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"


def test_every_metric_in_a_query_is_exported_by_the_code_or_a_known_external_one() -> None:
    names = exported()
    known = {**names, **KNOWN_EXTERNAL}
    used = set()
    for title, expr in expressions(dashboard()):
        found = metric_names(expr)
        assert found, (title, expr)
        unknown = found - set(known)
        assert not unknown, f"{title}: {sorted(unknown)} neither exported by the code nor a known Kafka Exporter metric"
        used |= found
        for name, matchers in selectors(expr):
            extra = set(matchers) - known[name] - TARGET_LABELS - {"__name__"}
            assert not extra, f"{title}: {name} has no label {sorted(extra)}"
    assert used >= {"vt_grpc_server_handled_total", "vt_grpc_client_handled_total", "kafka_consumergroup_lag"}


def test_metrics_with_a_tenant_label_are_filtered_by_region() -> None:
    names = exported()
    board = dashboard()
    region = {v["name"]: v for v in board["templating"]["list"]}["region"]
    assert region["multi"] and region["includeAll"] and region["allValue"] == ".*"
    checked = 0
    for title, expr in expressions(board):
        if title == "$region":
            continue
        for name, matchers in selectors(expr):
            if "tenant" in names.get(name, set()):
                assert matchers.get("tenant") == ("=~", "$region"), f"{title}: {name} not filtered by $region"
                checked += 1
        bare = [n for n in metric_names(expr) if "tenant" in names.get(n, set())
                and re.search(rf"(?<![\w:]){n}(?![\w:])(?!\s*\{{)", _grafana_free(expr))]
        assert not bare, f"{title}: {bare} without a selector on $region"
    assert checked >= 20
    # The variable's own choices come from metrics that carry the label.
    _, query = [e for e in expressions(board) if e[0] == "$region"][0]
    assert all("tenant" in names[n] for n in metric_names(query))


def _page_figures() -> set[str]:
    from ops.observer import SERIES

    html = OPS_PAGE.read_text(encoding="utf-8")
    figures = {f"tile:{t}" for t in re.findall(r'class="tile" id="tile-([\w-]+)"', html)}
    figures |= {f"table:{t}" for t in re.findall(r'<table id="([\w-]+)"', html)}
    figures |= {f"banner:{b}" for b in re.findall(r'id="(broker-[\w-]+)"', html) if b != "broker-text"}
    figures |= {f"chart:{s}" for s in SERIES}
    return figures


def test_every_ops_page_figure_has_a_panel() -> None:
    page = _page_figures()
    assert {"tile:rate", "table:inbox", "table:norms", "banner:broker-banner", "chart:quarantined"} <= page
    missing = page - set(FIGURES)
    assert not missing, f"ops page figures without a Grafana panel (add one and a row in FIGURES): {sorted(missing)}"
    panels = {p["title"]: p for p in query_panels(dashboard())}
    for figure, (title, metrics) in {**FIGURES, **{f"grpc:{t}": (t, {m}) for t, m in GRPC.items()}}.items():
        assert title in panels, f"{figure}: no panel {title!r}"
        used = set().union(*(metric_names(t["expr"]) for t in panels[title]["targets"]))
        assert metrics <= used, f"{figure}: panel {title!r} does not use {sorted(metrics - used)}"
    p99 = [t["expr"] for title in ("Server: p99 duur", "Client: p99 duur") for t in panels[title]["targets"]]
    assert all(e.startswith("histogram_quantile(0.99,") for e in p99)


def test_every_metric_the_ops_page_scrapes_from_the_services_is_on_the_dashboard() -> None:
    from ops.observer import INBOX_SAMPLES, OUTBOX_FAMILIES

    used = set().union(*(metric_names(e) for _, e in expressions(dashboard())))
    families = {n.removesuffix("_total") for n in used} | {n.removesuffix("_bucket") for n in used}
    scraped = set(OUTBOX_FAMILIES) | {name for name, _ in INBOX_SAMPLES} | {"vt_norm_share", "vt_build_info"}
    assert not {n.removesuffix("_total") for n in scraped} - families


# --- the ConfigMap ------------------------------------------------------------------------------------------------------------

def test_kustomize_ships_the_dashboard_as_a_configmap_for_the_grafana_sidecar() -> None:
    docs = k8s.render("monitoring")
    configmap, = docs
    assert configmap["kind"] == "ConfigMap" and configmap["metadata"]["namespace"] == "monitoring"
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert configmap["metadata"]["name"] == "vt-exchange-grafana-dashboard"  # fixed: no hash suffix to leave behind
    assert configmap["data"] == {"grafana-dashboard.json": DASHBOARD.read_text(encoding="utf-8")}
    # kubectl apply keeps the whole object in an annotation, which may not exceed 256 KiB.
    assert len(json.dumps(configmap).encode()) < 200_000
    k8s.validate(configmap)


@pytest.mark.parametrize("name", ["national", "regions"])
def test_the_scrape_targets_of_the_dashboard_exist(name: str) -> None:
    """The namespaces its `up` and gRPC panels select (veilig-thuis, vt-<region>) are the ones the overlays create."""
    namespaces = {d["metadata"]["name"] for d in k8s.render(name) if d["kind"] == "Namespace"}
    assert namespaces and all(re.fullmatch(r"veilig-thuis|vt-.*", n) for n in namespaces)
