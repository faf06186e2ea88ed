"""Who may read and write which Kafka topic: the generated KafkaUsers (deploy/k8s/kafka/users.yaml, from the
table deploy/k8s/kafka/access.yaml) evaluated the way Kafka's StandardAuthorizer does (allow rules only:
literal or prefix match, Read/Write imply Describe), and held against what the services' code consumes."""

from __future__ import annotations

import tempfile
from typing import Any

import pytest
from vtkit import topics
from vtkit.tenants import all_tenants
from vttest import k8s

IMPLIES_DESCRIBE = {"Read", "Write", "Delete", "Alter"}


def _users() -> dict[str, list[dict[str, Any]]]:
    return {d["metadata"]["name"]: d["spec"]["authorization"]["acls"]
            for d in k8s.render("kafka") if d["kind"] == "KafkaUser"}


USERS = _users()


def allowed(user: str, operation: str, resource: str, name: str = "kafka-cluster") -> bool:
    for acl in USERS[user]:
        res = acl["resource"]
        if res["type"] != resource or acl.get("type", "allow") != "allow":
            continue
        if resource != "cluster":
            pattern = res.get("patternType", "literal")
            if not (res["name"] == "*" or (name == res["name"] if pattern == "literal" else name.startswith(res["name"]))):
                continue
        ops = set(acl["operations"])
        if operation in ops or "All" in ops or (operation == "Describe" and ops & IMPLIES_DESCRIBE):
            return True
    return False


def reads(user: str) -> set[str]:
    return {t for t in ALL_TOPICS if allowed(user, "Read", "topic", t)}


def writes(user: str) -> set[str]:
    return {t for t in ALL_TOPICS if allowed(user, "Write", "topic", t)}


ALL_TOPICS = {s.name for s in topics.all_topics()}
TENANTS = list(all_tenants())


def test_the_users_are_the_table_one_intake_per_region_and_all_use_mtls() -> None:
    assert set(USERS) == {f"intake-{t}" for t in TENANTS} | {
        "radar", "notifier", "verwijsindex", "ops-readonly", "ops-redrive", "rvdk-feed", "brp-feed"}
    for doc in k8s.render("kafka"):
        if doc["kind"] == "KafkaUser":
            assert doc["spec"]["authentication"] == {"type": "tls"} and doc["spec"]["quotas"]


@pytest.mark.parametrize("tenant", TENANTS)
def test_an_intake_writes_its_own_intake_topic_and_the_audit_trail_only(tenant: str) -> None:
    user = f"intake-{tenant}"
    assert writes(user) == {topics.intake(tenant), topics.NATIONAL_AUDIT}
    assert reads(user) == set()
    assert not allowed(user, "Read", "group", "vt-radar") and not allowed(user, "Describe", "cluster")
    assert not allowed(user, "Write", "topic", topics.DEAD_LETTERS)  # it consumes nothing: no dead letters


def test_region_a_cannot_write_region_b() -> None:
    a, b = "utrecht", "groningen"
    assert allowed(f"intake-{a}", "Write", "topic", topics.intake(a))
    assert not allowed(f"intake-{a}", "Write", "topic", topics.intake(b))
    assert not allowed(f"intake-{a}", "Write", "topic", topics.register(a))  # radar's output, not the region's
    assert not allowed(f"intake-{a}", "Describe", "topic", topics.intake(b))


def test_the_verwijsindex_writes_only_its_own_topic_and_reads_only_the_brp_feed() -> None:
    from verwijsindex.bootstrap import BRP_GROUP

    assert not allowed("verwijsindex", "Write", "topic", topics.NATIONAL_ASSESSMENTS)
    assert writes("verwijsindex") == {topics.NATIONAL_VERWIJSINDEX, topics.DEAD_LETTERS, topics.NATIONAL_AUDIT}
    assert reads("verwijsindex") == {topics.NATIONAL_BRP}
    assert allowed("verwijsindex", "Read", "group", BRP_GROUP)


def test_the_notifier_reads_what_it_subscribes_to_and_writes_deliveries_dead_letters_and_audit() -> None:
    from notifier.consumer import source_topics
    from notifier.settings import Settings

    assert reads("notifier") == set(source_topics())
    assert allowed("notifier", "Read", "group", Settings.__dataclass_fields__["group_id"].default)
    assert writes("notifier") == {topics.NATIONAL_DELIVERIES, topics.DEAD_LETTERS, topics.NATIONAL_AUDIT}


def test_radar_reads_what_its_agents_subscribe_to_and_owns_its_changelogs() -> None:
    from radar.app import RadarStreams
    from radar.settings import Settings as RadarSettings
    from vtkit.kafka import KafkaSettings
    from vtkit.pki import init_pki

    directory = tempfile.mkdtemp()
    init_pki(directory)  # radar trusts the signer certificates of the suite's CA (vtkit.signing)
    kafka = KafkaSettings(bootstrap_servers="127.0.0.1:1")
    streams = RadarStreams(RadarSettings(key_dir=directory, data_dir=directory, kafka=kafka, table_store="memory"),
                           kafka, None, None)  # type: ignore[arg-type]
    subscribed = {t for agent in streams.app.agents.values() for t in agent.channel.topics}
    assert reads("radar") == subscribed
    assert writes("radar") == {topics.NATIONAL_ASSESSMENTS, topics.NATIONAL_RADAR_PERSON, topics.DEAD_LETTERS,
                               topics.NATIONAL_AUDIT, *(topics.register(t) for t in TENANTS)}
    group = streams.app.conf.id
    assert allowed("radar", "Read", "group", group)
    # Radar creates its tables' changelog topics itself, before its worker joins (faust declares none).
    created = {spec.name for spec in streams.changelog_topics}
    assert created == {table.changelog_topic.get_topic_name()
                       for table in (streams.persons, streams.cases, streams.open_index, streams.recent_index)}
    for changelog in created:
        assert all(allowed("radar", op, "topic", changelog) for op in ("Create", "Read", "Write"))
    assert not allowed("radar", "Create", "topic", topics.NATIONAL_ASSESSMENTS)


def test_dead_letters_are_written_by_the_consumers_only() -> None:
    assert {u for u in USERS if allowed(u, "Write", "topic", topics.DEAD_LETTERS)} == {"radar", "notifier", "verwijsindex"}


def test_the_ops_dashboard_user_reads_everything_and_writes_nothing() -> None:
    assert reads("ops-readonly") == ALL_TOPICS and writes("ops-readonly") == set()
    assert allowed("ops-readonly", "Describe", "group", "vt-radar")  # committed offsets: lag
    assert not allowed("ops-readonly", "Read", "group", "vt-radar")  # may not join (and disturb) a service's group
    assert allowed("ops-readonly", "Describe", "cluster")


def test_re_driving_dead_letters_is_a_separate_user_that_writes_only_consumed_topics() -> None:
    consumed = reads("radar") | reads("notifier") | reads("verwijsindex")
    # it re-reads the original record a dead letter names, from the topic it was consumed from
    assert reads("ops-redrive") == {topics.DEAD_LETTERS} | consumed
    assert writes("ops-redrive") == consumed
    assert topics.NATIONAL_AUDIT not in writes("ops-redrive")  # nobody rewrites the audit trail


def test_every_topic_has_a_writer_and_no_rule_spans_the_whole_namespace() -> None:
    for topic in ALL_TOPICS:
        assert [u for u in USERS if u != "ops-redrive" and allowed(u, "Write", "topic", topic)], topic
    for user, acls in USERS.items():
        for acl in acls:
            if acl["resource"].get("patternType") == "prefix":
                assert acl["resource"]["name"] not in ("vt.", "vt", "vt.national.", "*"), user
