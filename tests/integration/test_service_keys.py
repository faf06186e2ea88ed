"""A service whose key store cannot serve it does not start: no SERVING health, no acknowledged melding it
cannot protect. Before, an intake started, answered SERVING and failed every melding with a message showing a path,
and radar started without its master key and met it only at the first melding of a dossier."""

from __future__ import annotations

import asyncio
import os
import pathlib
import shutil

import pytest
from devstack.processes import ServiceProcess
from vtkit import pki
from vtkit.keys import MASTER_KEY_ENV
from vtkit.keystore import KeyStore


def intake_with_master_key(tmp_path: pathlib.Path, kafka: str, keys: KeyStore, master_key: pathlib.Path) -> ServiceProcess:
    env = {"VT_TENANT": "ijsselland", "VT_KEY_DIR": str(keys.root), "VT_DATA_DIR": str(tmp_path / "data"),
           "KAFKA_BOOTSTRAP_SERVERS": kafka, MASTER_KEY_ENV: str(master_key)}
    return ServiceProcess("intake-keys", "intake", env=env, log_path=tmp_path / "intake.log")


@pytest.mark.parametrize("master", ["missing", "wrong"])
async def test_intake_without_a_usable_master_key_refuses_to_start(
        tmp_path: pathlib.Path, kafka: str, keys: KeyStore, master: str) -> None:
    master_key = tmp_path / "master.key"
    if master == "wrong":
        master_key.write_text(os.urandom(32).hex())  # well-formed, but not the key the data keys are wrapped under
    process = intake_with_master_key(tmp_path, kafka, keys, master_key).start()
    try:
        code = await asyncio.to_thread(process.proc.wait, 60)  # type: ignore[union-attr]
    finally:
        process.kill()
    log = process.log_text()
    assert code != 0 and "configuration error" in log, log[-2000:]
    assert '"msg": "listening"' not in log  # no gRPC server, so never SERVING
    expected = "is missing" if master == "missing" else "does not open the data keys of ijsselland"
    assert expected in log, log[-2000:]


async def test_radar_without_its_master_key_refuses_to_start(tmp_path: pathlib.Path, kafka: str, keys: KeyStore) -> None:
    env = {"VT_KEY_DIR": str(keys.root), "VT_DATA_DIR": str(tmp_path / "data"), "KAFKA_BOOTSTRAP_SERVERS": kafka,
           MASTER_KEY_ENV: str(tmp_path / "no-such-master.key"), "RADAR_TABLE_STORE": "memory"}
    process = ServiceProcess("radar-keys", "radar", env=env, log_path=tmp_path / "radar.log").start()
    try:
        code = await asyncio.to_thread(process.proc.wait, 60)  # type: ignore[union-attr]
    finally:
        process.kill()
    log = process.log_text()
    assert code != 0 and "configuration error: radar's keys cannot be used" in log and "is missing" in log, log[-2000:]
    assert "Traceback" not in log


@pytest.mark.parametrize("service", ["notifier", "verwijsindex"])
async def test_the_national_services_without_a_usable_master_key_refuse_to_start(
        tmp_path: pathlib.Path, kafka: str, keys: KeyStore, service: str) -> None:
    """Before waiting for the broker: letters, notices and registrants' contacts need the data keys."""
    env = {"VT_KEY_DIR": str(keys.root), "VT_DATA_DIR": str(tmp_path / "data"), "KAFKA_BOOTSTRAP_SERVERS": kafka,
           MASTER_KEY_ENV: str(tmp_path / "no-such-master.key")}
    process = ServiceProcess(f"{service}-keys", service, env=env, log_path=tmp_path / f"{service}.log").start()
    try:
        code = await asyncio.to_thread(process.proc.wait, 60)  # type: ignore[union-attr]
    finally:
        process.kill()
    log = process.log_text()
    assert code != 0 and f"configuration error: {service}'s keys cannot be used" in log and "is missing" in log, (
        log[-2000:])
    assert '"msg": "listening"' not in log and "Traceback" not in log


@pytest.mark.parametrize(("service", "where"), [("intake", "pki/ca.key"), ("radar", "pki/ca.key"),
                                                ("notifier", "ca.key"), ("verwijsindex", "old-backup.key")])
async def test_a_service_with_the_ca_private_key_in_its_key_dir_refuses_to_start(
        tmp_path: pathlib.Path, kafka: str, keys: KeyStore, service: str, where: str) -> None:
    """Whoever reads a service's key dir must not be able to issue certificates: the CA key lives in the CA dir only
    (vtkit.pki). Found by name or, under another name, by its public key (the CA certificate's)."""
    key_dir = tmp_path / "keys"
    shutil.copytree(keys.root, key_dir)
    shutil.copyfile(pki.ca_dir(keys.root) / "ca.key", key_dir / where)
    env = {"VT_KEY_DIR": str(key_dir), "VT_DATA_DIR": str(tmp_path / "data"), "KAFKA_BOOTSTRAP_SERVERS": kafka,
           "VT_TENANT": "ijsselland", "RADAR_TABLE_STORE": "memory"}
    process = ServiceProcess(f"{service}-ca-key", service, env=env, log_path=tmp_path / f"{service}.log").start()
    try:
        code = await asyncio.to_thread(process.proc.wait, 60)  # type: ignore[union-attr]
    finally:
        process.kill()
    log = process.log_text()
    assert code != 0 and f"configuration error: {service} refuses to start" in log and "CA private key" in log, log[-2000:]
    assert str(key_dir / where) in log  # names the file, so the operator knows what to move
    assert '"msg": "listening"' not in log and "Traceback" not in log
