"""The operator tools reach a production cluster with the same SASL/TLS settings as the services."""

from __future__ import annotations

import argparse

import pytest
from ops.cli import kafka_from
from ops.observer import Observer


def test_vt_ops_takes_the_security_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "vt-ops")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "secret")
    settings = kafka_from(argparse.Namespace(kafka="kafka-1:9093", var_dir="/nonexistent"))
    kwargs = settings.client_kwargs()
    assert kwargs["bootstrap_servers"] == "kafka-1:9093"
    assert kwargs["security_protocol"] == "SASL_SSL"
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512"
    assert kwargs["sasl_plain_username"] == "vt-ops"


def test_an_unknown_security_protocol_stops_vt_ops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSLL")
    with pytest.raises(SystemExit, match="KAFKA_SECURITY_PROTOCOL"):
        kafka_from(argparse.Namespace(kafka="kafka-1:9093", var_dir="/nonexistent"))


async def test_the_dashboard_observer_keeps_the_cluster_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "PLAIN")
    settings = kafka_from(argparse.Namespace(kafka="kafka-1:9093", var_dir="/nonexistent"))
    assert Observer(settings).kafka.security_protocol == "SASL_PLAINTEXT"
