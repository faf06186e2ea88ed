"""Data keys: the interface a KMS/HSM implements, and the embedded default (files wrapped under a master key).

Key ids (carried in every vtkit.crypto.Ciphertext, so a reader always knows which key opens a field):
  "<owner>:<n>"               generation n of a tenant's (or national owner's) field key; `rotate` adds n+1,
                              new data uses the newest, old generations keep decrypting.
  "<tenant>/dossier/<id>"     the data key of one dossier (a household, see services/intake/README.md).
                              Destroying it is crypto-shredding: every copy of that dossier's fields, in
                              SQLite, in Kafka history, in backups, stops opening (Wmo 5.3.5). The key
                              records the dossier's last change, so the 20-year retention (Wmo 5.3.4) is
                              the same destruction, applied to `expired_dossier_keys`.

`DataKeyStore` is the whole contract; `LocalDataKeyStore` keeps each key in its own file under
`<key_dir>/data-keys/`, wrapped (AES-256-GCM, associated data = the key id, so a file cannot be renamed
into another key) under a master key read from VT_MASTER_KEY_FILE (default `<key_dir>/master.key`, created
by `python -m vtkit.keystore init` for development). A production deployment implements the same five
operations on its KMS/HSM (a data key there is typically wrapped by a KMS key and unwrapped per call).
libs/vtkit/tests/test_data_key_stores.py runs one contract suite against every implementation.

What a file store cannot promise: unlinking a file does not scrub the disk block on every file system
(copy-on-write, SSD wear levelling) and a backup of the key directory keeps old keys. Keep backups of
data-keys/ shorter-lived than the 3-month destruction deadline, or let a KMS hold the keys.
"""

from __future__ import annotations

import abc
import collections
import datetime as dt
import json
import os
import pathlib
import re
import secrets
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MASTER_KEY_ENV = "VT_MASTER_KEY_FILE"
RETENTION_YEARS = 20  # Wmo 5.3.4: twenty years from the last change
# Unwrapped keys a process keeps (LocalDataKeyStore): about 1 MiB, the dossiers of a few days' meldingen nationally.
CACHED_KEYS = 4096
_SAFE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


class UnknownKey(KeyError):
    """No key with this id was ever made here."""


class KeyDestroyed(KeyError):
    """The key existed and was destroyed: what it protected can no longer be read."""


def dossier_key_id(tenant: str, dossier_id: str) -> str:
    return f"{tenant}/dossier/{dossier_id}"


def parse_dossier_key_id(key_id: str) -> tuple[str, str] | None:
    """(tenant, dossier id) of a dossier key id, None for a tenant key id."""
    tenant, sep, dossier = key_id.partition("/dossier/")
    return (tenant, dossier) if sep and tenant and dossier else None


def key_owner(key_id: str) -> str:
    """The tenant (or national owner) a key id belongs to."""
    dossier = parse_dossier_key_id(key_id)
    return dossier[0] if dossier else key_id.rpartition(":")[0]


def retention_cutoff(now: dt.datetime, years: int = RETENTION_YEARS) -> dt.datetime:
    """Dossiers whose last change is before this moment are past retention (29 February -> 28 February)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


@dataclass(frozen=True)
class DossierKeyWrite:
    """What `DataKeyStore.prepare_dossier_key` leaves for the caller to commit with the data (intake's
    dossier_keys table): a new key (`record`: wrapped, as a key file holds it) or only a later change (None)."""
    dossier_id: str
    last_change: dt.datetime
    record: str | None


class DataKeyStore(abc.ABC):
    """What the services need from a key store for personal data; a KMS/HSM adapter implements exactly this."""

    @abc.abstractmethod
    def data_key(self, key_id: str) -> bytes:
        """The 32-byte key `key_id`; UnknownKey or KeyDestroyed when it cannot be had."""

    @abc.abstractmethod
    def current_key_id(self, owner: str) -> str:
        """The newest generation of `owner`'s field key (what new data is encrypted under)."""

    @abc.abstractmethod
    def rotate(self, owner: str) -> str:
        """Make a new generation of `owner`'s field key and return its id; older generations stay readable."""

    @abc.abstractmethod
    def create_dossier_key(self, tenant: str, dossier_id: str, last_change: dt.datetime) -> str:
        """Make the dossier's key (idempotent: an existing one is kept); KeyDestroyed if it was destroyed."""

    @abc.abstractmethod
    def touch_dossier(self, key_id: str, last_change: dt.datetime) -> None:
        """Record a later change of the dossier: its retention runs from the last change."""

    def open_dossier_key(self, tenant: str, dossier_id: str, last_change: dt.datetime) -> tuple[str, bytes]:
        """(key id, key) of the dossier for new data changed at `last_change`: the key is made if the dossier has
        none (durable when this returns), and the change is recorded (its retention runs from it). What
        create_dossier_key, touch_dossier and data_key do one after the other; a store may do it in fewer steps."""
        key_id = self.create_dossier_key(tenant, dossier_id, last_change)
        self.touch_dossier(key_id, last_change)
        return key_id, self.data_key(key_id)

    def prepare_dossier_key(self, tenant: str, dossier_id: str,
                            last_change: dt.datetime) -> tuple[str, bytes, DossierKeyWrite | None]:
        """`open_dossier_key` for a caller that commits the data under the key in a transaction of its own: a store
        keeping keys in that database returns what is still to be written there with the data (DossierKeyWrite), and
        the key is durable with the data, not before. A store of its own makes the key durable now (None)."""
        return (*self.open_dossier_key(tenant, dossier_id, last_change), None)

    @abc.abstractmethod
    def destroy(self, key_id: str) -> bool:
        """Destroy a dossier key for good; False when it was already gone. Tenant keys are never destroyed."""

    @abc.abstractmethod
    def expired_dossier_keys(self, before: dt.datetime) -> list[str]:
        """Ids of live dossier keys whose last change is before `before`."""

    @abc.abstractmethod
    def key_ids(self) -> list[str]:
        """Every key id the store still holds (tests use it to show a shredded field opens under none)."""

    def ensure_owner(self, owner: str) -> str:
        """Generation 1 of `owner`'s key when it has none yet (init); the current id otherwise."""
        try:
            return self.current_key_id(owner)
        except UnknownKey:
            return self.rotate(owner)


def _check(part: str) -> str:
    if not _SAFE.match(part):
        raise ValueError(f"not a valid key name part: {part!r}")
    return part


def _iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("last_change must be timezone-aware")
    return moment.astimezone(dt.UTC).isoformat()


def private_dirs(directory: pathlib.Path) -> None:
    """Creates `directory` and its missing parents readable by the owner only (0700, whatever the umask): key
    directories are not listable by other users of the machine."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for created in reversed(missing):
        try:
            created.mkdir(mode=0o700)
        except FileExistsError:  # another process made it meanwhile
            pass
        created.chmod(0o700)


def _write_atomic(path: pathlib.Path, text: str) -> None:
    """Write, fsync, rename, fsync the directory: a key acknowledged to the caller survives a crash."""
    _write_file(path, text)
    _fsync_dir(path.parent)


def _write_file(path: pathlib.Path, text: str) -> None:
    """Write and fsync a new file, then rename it into place: durable once its directory is fsynced."""
    private_dirs(path.parent)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _fsync_dir(directory: pathlib.Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load_master_key(key_dir: pathlib.Path, create: bool = False) -> bytes:
    path = pathlib.Path(os.environ.get(MASTER_KEY_ENV) or key_dir / "master.key")
    if create and not path.exists():
        _write_atomic(path, secrets.token_hex(32))
    try:
        key = bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        raise FileNotFoundError(f"master key {path} is missing: set {MASTER_KEY_ENV} or run "
                                f"`python -m vtkit.keystore init {key_dir}`") from None
    if len(key) != 32:
        raise ValueError(f"master key {path} must be 32 bytes (64 hex digits)")
    return key


class LocalDataKeyStore(DataKeyStore):
    """The embedded default: one wrapped key per file.

      data-keys/owners/<owner>/<n>.json        {"nonce", "wrapped"} of "<owner>:<n>"
      data-keys/dossiers/<tenant>/<id>.json    {"nonce", "wrapped", "last_change"} of "<tenant>/dossier/<id>"
      data-keys/dossiers/<tenant>/<id>.destroyed   tombstone: when it was destroyed (no key material)

    A rotation or destruction by another process (the rotate command, intake) is seen by the next call of
    every process without a restart. Unwrapped keys are cached, because a key id's material never changes once
    written (rotation adds a generation, a dossier keeps its key until it is destroyed); what can change is
    checked on every call with one stat instead of a read, a JSON parse and an unwrap: a dossier key's
    tombstone (a destroyed one refuses at once) and, for the newest generation of an owner, whether the next
    generation's file exists (a rotation only ever adds n+1).
    """

    def __init__(self, key_dir: str | os.PathLike[str], master_key: bytes | None = None):
        self.key_dir = pathlib.Path(key_dir)
        self.root = self.key_dir / "data-keys"
        self._master = AESGCM(master_key if master_key is not None else load_master_key(self.key_dir))
        self._lock = threading.Lock()  # one rotation at a time within a process
        # key id -> unwrapped key (immutable once written), the most recently used last; bounded, because a
        # region makes a dossier key per household and radar reads every region's.
        self._keys: collections.OrderedDict[str, bytes] = collections.OrderedDict()
        self._cache_lock = threading.Lock()  # intake reads keys from worker threads
        self._newest: dict[str, int] = {}  # owner -> newest generation seen

    # -- paths --------------------------------------------------------------------------------

    def _owner_dir(self, owner: str) -> pathlib.Path:
        return self.root / "owners" / _check(owner)

    def _dossier_path(self, tenant: str, dossier_id: str, suffix: str = ".json") -> pathlib.Path:
        return self.root / "dossiers" / _check(tenant) / f"{_check(dossier_id)}{suffix}"

    def _generations(self, owner: str) -> list[int]:
        directory = self._owner_dir(owner)
        if not directory.is_dir():
            return []
        return sorted(int(p.stem) for p in directory.glob("*.json") if p.stem.isdigit())

    # -- wrapping -----------------------------------------------------------------------------

    def _wrap(self, key_id: str, key: bytes, **extra: str) -> str:
        nonce = os.urandom(12)
        wrapped = self._master.encrypt(nonce, key, f"vt-wrap-v1|{key_id}".encode())
        return json.dumps({"key_id": key_id, "nonce": nonce.hex(), "wrapped": wrapped.hex(), **extra})

    def _unwrap(self, key_id: str, path: pathlib.Path) -> bytes:
        return self._unwrap_record(key_id, json.loads(path.read_text()))

    def _unwrap_record(self, key_id: str, record: dict[str, str]) -> bytes:
        return self._master.decrypt(bytes.fromhex(record["nonce"]), bytes.fromhex(record["wrapped"]),
                                    f"vt-wrap-v1|{key_id}".encode())

    def _remember(self, key_id: str, key: bytes) -> None:
        with self._cache_lock:
            self._keys[key_id] = key
            self._keys.move_to_end(key_id)
            if len(self._keys) > CACHED_KEYS:
                self._keys.popitem(last=False)

    def _cached(self, key_id: str) -> bytes | None:
        with self._cache_lock:
            key = self._keys.get(key_id)
            if key is not None:
                self._keys.move_to_end(key_id)
            return key

    # -- DataKeyStore -------------------------------------------------------------------------

    def data_key(self, key_id: str) -> bytes:
        dossier = parse_dossier_key_id(key_id)
        if dossier is not None and self._dossier_path(*dossier, suffix=".destroyed").exists():
            self._forget(key_id)
            raise KeyDestroyed(key_id)
        key = self._cached(key_id)
        if key is not None:
            return key
        if dossier is not None:
            path = self._dossier_path(*dossier)
        else:
            owner, _, generation = key_id.rpartition(":")
            if not owner or not generation.isdigit():
                raise UnknownKey(key_id)
            path = self._owner_dir(owner) / f"{int(generation)}.json"
        try:
            key = self._unwrap(key_id, path)
        except FileNotFoundError:
            raise UnknownKey(key_id) from None
        self._remember(key_id, key)
        return key

    def _forget(self, key_id: str) -> None:
        with self._cache_lock:
            self._keys.pop(key_id, None)

    def current_key_id(self, owner: str) -> str:
        newest = self._newest.get(owner)
        if newest is None or (self._owner_dir(owner) / f"{newest + 1}.json").exists():
            generations = self._generations(owner)
            if not generations:
                raise UnknownKey(f"{owner}: no field key (run `python -m vtkit.keystore init {self.key_dir}`)")
            newest = self._newest[owner] = generations[-1]
        return f"{owner}:{newest}"

    def rotate(self, owner: str) -> str:
        with self._lock:
            generations = self._generations(owner)
            key_id = f"{owner}:{(generations[-1] if generations else 0) + 1}"
            path = self._owner_dir(owner) / f"{key_id.rpartition(':')[2]}.json"
            _write_atomic(path, self._wrap(key_id, AESGCM.generate_key(256)))
            return key_id

    def create_dossier_key(self, tenant: str, dossier_id: str, last_change: dt.datetime) -> str:
        key_id = dossier_key_id(tenant, dossier_id)
        if self._dossier_path(tenant, dossier_id, ".destroyed").exists():
            raise KeyDestroyed(key_id)
        path = self._dossier_path(tenant, dossier_id)
        if not path.exists():
            self._create_dossier_key(key_id, path, last_change)
        return key_id

    def _create_dossier_key(self, key_id: str, path: pathlib.Path, last_change: dt.datetime) -> bytes:
        key = AESGCM.generate_key(256)
        _write_atomic(path, self._wrap(key_id, key, last_change=_iso(last_change)))
        self._remember(key_id, key)  # written and fsynced: what data_key would read back and unwrap
        return key

    def open_dossier_key(self, tenant: str, dossier_id: str, last_change: dt.datetime) -> tuple[str, bytes]:
        """create_dossier_key, touch_dossier and data_key with one read of the key file (none for a new dossier,
        whose key was just written with this last change): the same checks, writes and fsyncs."""
        key_id = dossier_key_id(tenant, dossier_id)
        if self._dossier_path(tenant, dossier_id, ".destroyed").exists():
            raise KeyDestroyed(key_id)
        path = self._dossier_path(tenant, dossier_id)
        try:
            record = json.loads(path.read_text())
        except FileNotFoundError:
            return key_id, self._create_dossier_key(key_id, path, last_change)
        if dt.datetime.fromisoformat(record["last_change"]) < last_change:  # as touch_dossier
            record["last_change"] = _iso(last_change)
            _write_atomic(path, json.dumps(record))
        key = self._cached(key_id)
        if key is None:
            key = self._unwrap_record(key_id, record)
            self._remember(key_id, key)
        return key_id, key

    # -- the wrapped form, for a store that keeps dossier keys elsewhere and publishes them here ----------------

    def wrap_dossier_key(self, key_id: str, key: bytes, last_change: dt.datetime) -> str:
        """The key file's text for `key`, wrapped under the master key (associated data: the key id)."""
        return self._wrap(key_id, key, last_change=_iso(last_change))

    def unwrap_dossier_record(self, key_id: str, record: str) -> bytes:
        return self._unwrap_record(key_id, json.loads(record))

    def publish_dossier_records(self, records: Sequence[tuple[str, str]]) -> int:
        """Write (key id, wrapped record) pairs as key files, each fsynced, and each directory fsynced once: what
        every other process reads. A destroyed key (tombstone) is not written again. How many were written."""
        directories, written = set(), 0
        with self._lock:  # against `destroy` of the same key in another thread: its tombstone wins
            for key_id, record in records:
                dossier = parse_dossier_key_id(key_id)
                if dossier is None:
                    raise ValueError(f"{key_id} is not a dossier key")
                if self._dossier_path(*dossier, ".destroyed").exists():
                    continue
                path = self._dossier_path(*dossier)
                _write_file(path, record)
                directories.add(path.parent)
                written += 1
            for directory in directories:
                _fsync_dir(directory)
        return written

    def dossier_records(self, tenant: str) -> Iterator[tuple[str, str, dt.datetime]]:
        """(key id, wrapped record, last change) of every live dossier key of `tenant` here."""
        for path in sorted((self.root / "dossiers" / _check(tenant)).glob("*.json")):
            try:
                text = path.read_text()
            except FileNotFoundError:
                continue  # destroyed meanwhile
            record = json.loads(text)
            yield str(record["key_id"]), text, dt.datetime.fromisoformat(record["last_change"])

    def touch_dossier(self, key_id: str, last_change: dt.datetime) -> None:
        dossier = parse_dossier_key_id(key_id)
        if dossier is None:
            raise ValueError(f"{key_id} is not a dossier key")
        path = self._dossier_path(*dossier)
        try:
            record = json.loads(path.read_text())
        except FileNotFoundError:
            raise (KeyDestroyed if self._dossier_path(*dossier, ".destroyed").exists() else UnknownKey)(key_id) from None
        if dt.datetime.fromisoformat(record["last_change"]) < last_change:
            record["last_change"] = _iso(last_change)
            _write_atomic(path, json.dumps(record))

    def destroy(self, key_id: str) -> bool:
        dossier = parse_dossier_key_id(key_id)
        if dossier is None:
            raise ValueError(f"only dossier keys are destroyed, not {key_id}")
        with self._lock:  # one at a time with publish_dossier_records: a tombstone is never overtaken
            path = self._dossier_path(*dossier)
            self._forget(key_id)
            # The tombstone first: from here on every reader answers KeyDestroyed, even if the unlink is lost.
            _write_atomic(self._dossier_path(*dossier, ".destroyed"),
                          json.dumps({"key_id": key_id, "destroyed_at": dt.datetime.now(dt.UTC).isoformat()}))
            if not path.exists():
                return False
            # Overwrite the wrapped key before unlinking it (a best effort on journaling/COW file systems).
            size = path.stat().st_size
            with path.open("r+b") as handle:
                handle.write(b"\0" * size)
                handle.flush()
                os.fsync(handle.fileno())
            path.unlink()
            _fsync_dir(path.parent)
            return True

    def expired_dossier_keys(self, before: dt.datetime) -> list[str]:
        expired = []
        for path in sorted((self.root / "dossiers").glob("*/*.json")):
            try:
                record = json.loads(path.read_text())
            except (FileNotFoundError, ValueError):
                continue  # destroyed (or being written) meanwhile
            if dt.datetime.fromisoformat(record["last_change"]) < before:
                expired.append(str(record["key_id"]))
        return expired

    def key_ids(self) -> list[str]:
        ids = [str(json.loads(p.read_text())["key_id"]) for p in sorted(self.root.glob("owners/*/*.json"))]
        for path in sorted(self.root.glob("dossiers/*/*.json")):
            try:
                ids.append(str(json.loads(path.read_text())["key_id"]))
            except (FileNotFoundError, ValueError):
                continue
        return ids
