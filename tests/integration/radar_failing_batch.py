"""Helper process of test_radar_offsets.py (not a test): radar's faust app in-process, with a producer whose
send_batch (radar publishes record batches: vtkit.kafka.send_batched) fails once (not a KafkaError) after the first
AssessmentDue of the given cases. Writes the case ids it
saw an AssessmentDue for to OUT and leaves with os._exit: faust's in-process shutdown leaves tasks behind
that keep the event loop from closing.

    python radar_failing_batch.py BOOTSTRAP KEY_DIR DATA_DIR APP_ID CASES_FILE OUT"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pathlib
import sys
from typing import Any

from radar.adapters import proto
from radar.app import RadarStreams
from radar.handlers import Radar
from radar.settings import Settings as RadarSettings
from vt.radar.v1 import events_pb2
from vtkit import topics
from vtkit.kafka import KafkaSettings, ensure_topics, make_producer
from vtkit.keystore import KeyStore
from vttest.radar import Watcher


async def main(bootstrap: str, key_dir: str, data_dir: str, app_id: str, cases_file: str, out: str) -> None:
    ours = set(json.loads(pathlib.Path(cases_file).read_text()))
    keys = KeyStore(key_dir)
    kafka_settings = KafkaSettings(bootstrap_servers=bootstrap)
    settings = RadarSettings(key_dir=key_dir, data_dir=data_dir, kafka=kafka_settings, app_id=app_id,
                             table_store="memory", session_timeout=6.0)

    def ours_due(s: Any) -> bool:
        return isinstance(s.message, events_pb2.AssessmentDue) and s.message.case_id in ours

    watcher = await Watcher(bootstrap, topics.NATIONAL_ASSESSMENTS).start()
    producer = make_producer(kafka_settings, linger_ms=0)
    await producer.start()
    failing, failed = False, False
    send_batch = producer.send_batch

    async def send_or_fail(*args: Any, **kwargs: Any) -> Any:
        nonlocal failing, failed
        if failing:
            failing, failed = False, True
            raise RuntimeError("injected: a failure that is not a KafkaError")
        return await send_batch(*args, **kwargs)

    producer.send_batch = send_or_fail  # type: ignore[method-assign]
    radar = Radar(keys.seal_opener("radar"), keys.pseudonymizer(), settings.monitoring_days, keys.tenant_cipher,
                  case_cipher=keys.case_cipher, encoding=proto)
    streams = RadarStreams(settings, kafka_settings, radar, producer)
    await ensure_topics(kafka_settings, streams.changelog_topics)  # radar's bootstrap creates them (faust does not)
    app = streams.app
    app.in_worker = True
    asyncio.ensure_future(app.start())
    await asyncio.wait_for(streams.ready.wait(), 60)
    await watcher.wait_for(ours_due, what="first assessment")
    await app.consumer.commit()  # what is handled so far
    failing = True  # the next batch fails while publishing
    await asyncio.sleep(4)
    with contextlib.suppress(Exception):  # the worker may be stopping (the fix): then this commits nothing more
        await asyncio.wait_for(app.consumer.commit(), 10)
    await asyncio.sleep(1)
    due = sorted({s.message.case_id for s in watcher.matching(ours_due)})
    pathlib.Path(out).write_text(json.dumps({"due": due, "failed": failed}))
    os._exit(0)  # what faust committed is all that counts; its in-process shutdown does not finish


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:7]))
