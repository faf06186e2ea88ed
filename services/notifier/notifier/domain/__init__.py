"""The notifier's domain: pure Python, no I/O and no grpc/aiokafka/protobuf imports."""

from notifier.domain.backoff import BackoffPolicy
from notifier.domain.delivery import AttemptOutcome, Delivery, DeliveryKind, DeliveryState, Verdict, judge_attempt
from notifier.domain.idempotency import delivery_key

__all__ = ["AttemptOutcome", "BackoffPolicy", "Delivery", "DeliveryKind", "DeliveryState", "Verdict", "delivery_key",
           "judge_attempt"]
