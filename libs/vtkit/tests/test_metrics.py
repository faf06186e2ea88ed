"""vtkit.metrics.child: a labelled child looked up once counts in the same series as `labels()`."""

from __future__ import annotations

from prometheus_client import REGISTRY, Counter
from vtkit import metrics


def test_child_is_the_labelled_series_and_is_remembered() -> None:
    labels = {"topic": "vt.test-metrics-child.v1", "tenant": "twente"}
    before = REGISTRY.get_sample_value("vt_events_published_total", labels) or 0.0

    first = metrics.child(metrics.EVENTS_PUBLISHED, labels["topic"], labels["tenant"])
    first.inc()
    metrics.child(metrics.EVENTS_PUBLISHED, labels["topic"], labels["tenant"]).inc(2)
    metrics.EVENTS_PUBLISHED.labels(labels["topic"], labels["tenant"]).inc()

    assert metrics.child(metrics.EVENTS_PUBLISHED, labels["topic"], labels["tenant"]) is first
    assert REGISTRY.get_sample_value("vt_events_published_total", labels) == before + 4


def test_label_values_beyond_the_bound_still_count(monkeypatch) -> None:
    """Label values come from records: past the bound a child is made each time and not kept, and still counts."""
    counter = Counter("vt_test_metrics_child_bound", "test only", ["value"], registry=None)
    monkeypatch.setattr(metrics, "_CHILDREN", {})
    monkeypatch.setattr(metrics, "_MAX_CHILDREN", 2)

    for value in ("a", "b", "c", "c"):
        metrics.child(counter, value).inc()

    assert len(metrics._CHILDREN) == 2
    assert counter.labels("c")._value.get() == 2
