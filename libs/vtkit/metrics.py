"""Prometheus metrics every service shares (prometheus-client).

The shared Kafka plumbing (vtkit.kafka.Publisher and consume) records events in and out per topic and
tenant, processing latency, dead letters and consumer lag, so a service gets them by using it; services add
their own (outbox backlog, deliveries by outcome, deadlines) with the helpers below. `vtkit.service.run`
serves /metrics on 127.0.0.1:$METRICS_PORT when that variable is set (METRICS_HOST to bind elsewhere).
Labels carry topics, tenants and groups only: never an id of a person or a case.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge, Histogram, start_http_server

EVENTS_PUBLISHED = Counter("vt_events_published", "Events published, per topic and tenant", ["topic", "tenant"])
EVENTS_CONSUMED = Counter("vt_events_consumed", "Events consumed, per topic, tenant and outcome",
                          ["topic", "tenant", "outcome"])
PROCESSING_SECONDS = Histogram("vt_event_processing_seconds", "Time to handle one consumed event", ["topic"],
                               buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
PUBLISH_SECONDS = Histogram("vt_event_publish_seconds", "Time from send to the broker's acknowledgement", ["topic"],
                            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
DEAD_LETTERS = Counter("vt_dead_letters", "Records sent to the dead-letter topic", ["topic", "consumer"])
CONSUMER_LAG = Gauge("vt_consumer_lag", "Records between the group's position and the end of the partition",
                     ["group", "topic", "partition"])
CONSUMER_REREADS = Counter("vt_consumer_rereads_total", "Times a consumer group found the broker replaced and read its "
                           "topics again from their start (vtkit.group_cluster)", ["group"])
OUTBOX_BACKLOG = Gauge("vt_outbox_backlog", "Outbox rows not yet acknowledged by the broker", ["service", "tenant"])
BROKER_RECOVERIES = Counter("vt_broker_recoveries_total", "Times an outbox found the broker had lost its history and "
                            "published every row again (vtkit.outbox)", ["service", "tenant"])
OUTBOX_QUARANTINED = Gauge("vt_outbox_quarantined", "Outbox rows that can never be sent, set aside (vtkit.outbox)",
                           ["service", "tenant"])
DELIVERIES = Counter("vt_deliveries", "Delivery attempts by kind and outcome", ["kind", "tenant", "outcome"])
HOUSEHOLD_LETTER_UNADDRESSED = Counter("vt_household_letter_unaddressed", "Directbetrokkenen the household letter "
                                       "cannot reach (reason: no_address, no_name, or no_adult for a child)",
                                       ["tenant", "reason"])
EMERGENCY_ACCESS = Counter("vt_emergency_access_total", "Break-glass reads of a region's contacts by another region",
                           ["tenant", "by"])
RECORDS_UNTRUSTED = Counter("vt_records_untrusted_total", "Records of a signed topic refused before acting (reason: "
                            "unsigned, unknown_signer, wrong_writer, bad_signature); each is dead-lettered",
                            ["topic", "reason"])
HOUSEHOLD_LETTER_MELDER_REMOVED = Counter("vt_household_letter_melder_removed", "Household letters whose household "
                                          "text named a melder who may not be named (removed before rendering)",
                                          ["tenant"])
HOUSEHOLD_LETTER_LATE_UNDECIDED = Counter("vt_household_letter_late_undecided", "Cases whose household was not "
                                          "informed within 4 weeks of recording (postponements included) while "
                                          "no decision exists yet", ["tenant"])
HOUSEHOLD_NOT_INFORMED_LATE = Gauge("vt_household_not_informed_late", "Households not informed by the due date of "
                                    "their letter (4 weeks after recording plus postponements), now, decided or not",
                                    ["tenant"])
INBOX_UNACKNOWLEDGED = Gauge("vt_inbox_unacknowledged", "Region inbox items not acknowledged (open), and of those the "
                             "ones past their acknowledgement deadline (late)", ["tenant", "state"])
INBOX_ACKNOWLEDGED = Counter("vt_inbox_acknowledged", "Region inbox items acknowledged, in time or not",
                             ["tenant", "in_time"])
INBOX_ESCALATIONS = Counter("vt_inbox_escalations", "Region inbox items escalated to the team lead", ["tenant"])
FORM_REFUSALS = Counter("vt_form_refusals", "Public form requests refused, per region and reason: rate_address, "
                        "rate_region, rate_address_unproven and rate_region_unproven (the stricter limits without a "
                        "solved proof of work), challenge_forged, challenge_replayed, connections (over the "
                        "connection cap), busy (no request slot), body_timeout", ["tenant", "reason"])
FORM_CONNECTIONS = Gauge("vt_form_connections", "Open HTTP connections of the public form, as last seen when one was "
                         "accepted", ["tenant"])
GRPC_UNAUTHENTICATED = Counter("vt_grpc_unauthenticated", "gRPC calls refused UNAUTHENTICATED, per service and reason "
                               "(no_identity: a CA-verified certificate that names no organisation; unknown_token: "
                               "dev plaintext mode; not_unary)", ["service", "reason"])
GRPC_TLS_HANDSHAKES = Counter("vt_grpc_tls_handshakes", "TLS handshakes a gRPC server started (one per new "
                              "connection; grpcio calls the server's certificate fetcher for each)", ["server"])
GRPC_TLS_PEERS = Counter("vt_grpc_tls_peers", "Connections whose handshake succeeded, counted at their first call "
                         "(the peer address seen for the first time). Started minus these = refused handshakes, "
                         "plus connections that never made a call", ["server"])
NORM_SHARE = Gauge("vt_norm_share", "Share on time over the last 365 days per region (sector norms): assessments "
                   "decided within 5 working days (norm 0.9), onderzoeken finished within 10 weeks (norm 0.8)",
                   ["tenant", "norm"])
BUILD_INFO = Gauge("vt_build_info", "1 for the running service, labelled with its version (the suite's release): the "
                   "ops dashboard shows it per service", ["service", "version"])
DEADLINES = Gauge("vt_deadlines", "Deadlines per region: pending, due today, overdue", ["kind", "tenant", "state"])


# (metric, label values) -> its child. A child never changes once made, and labels() validates, builds its key and
# takes a lock on every call (about 2 us): the per-record and per-call paths pay it several times per melding.
_CHILDREN: dict[tuple[Any, tuple[str, ...]], Any] = {}
_MAX_CHILDREN = 10_000  # label values come from records: remembering is bounded, counting is not


def child(metric: Any, *labels: str) -> Any:
    """`metric.labels(*labels)`, looked up once. Not for a metric that is cleared (`DEADLINES`): its old children
    would be kept here."""
    found = _CHILDREN.get((metric, labels))
    if found is None:
        found = metric.labels(*labels)
        if len(_CHILDREN) < _MAX_CHILDREN:
            _CHILDREN[(metric, labels)] = found
    return found


def serve(port: int, host: str = "127.0.0.1") -> int:
    """Start the /metrics endpoint in a background thread; returns the port it listens on."""
    server, _ = start_http_server(port, addr=host)
    return int(server.server_port)
# gRPC calls, server and client side (vtkit.grpcobs): by the callee's service, method and status code.
_GRPC_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
GRPC_SERVER_STARTED = Counter("vt_grpc_server_started", "gRPC calls a server started", ["grpc_service", "grpc_method"])
GRPC_SERVER_HANDLED = Counter("vt_grpc_server_handled", "gRPC calls a server completed, by status code",
                              ["grpc_service", "grpc_method", "grpc_code"])
GRPC_SERVER_SECONDS = Histogram("vt_grpc_server_handling_seconds", "Time a server took for one gRPC call, "
                                "interceptors (authentication) included", ["grpc_service", "grpc_method"],
                                buckets=_GRPC_BUCKETS)
GRPC_CLIENT_HANDLED = Counter("vt_grpc_client_handled", "Unary gRPC calls a client made, by the answer's status code",
                              ["grpc_service", "grpc_method", "grpc_code"])
GRPC_CLIENT_SECONDS = Histogram("vt_grpc_client_handling_seconds", "Time from a client's call to the answer",
                                ["grpc_service", "grpc_method"], buckets=_GRPC_BUCKETS)
