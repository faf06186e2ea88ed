"""Key directories are the owner's only: every directory under a key dir is 0700 and every private key file 0600,
also directories made later (a dossier's key) and those of an installation made before this rule."""

from __future__ import annotations

import datetime as dt
import os
import pathlib
import stat

from vtkit.keystore import KeyStore, init_keys


def modes(root: pathlib.Path) -> dict[str, int]:
    return {str(p.relative_to(root)) or ".": stat.S_IMODE(p.stat().st_mode) for p in (root, *root.rglob("*"))}


def test_every_key_directory_is_the_owners_only(tmp_path: pathlib.Path) -> None:
    old = os.umask(0o022)  # what most machines have: 0755 directories unless told otherwise
    try:
        root = tmp_path / "keys"
        keys = init_keys(root)
        keys.data_keys.create_dossier_key("utrecht", "d-1", dt.datetime(2026, 12, 6, tzinfo=dt.UTC))
    finally:
        os.umask(old)
    found = modes(root)
    assert {name: mode for name, mode in found.items() if (root / name if name != "." else root).is_dir()
            and mode != 0o700} == {}
    secrets = [n for n in found if n.endswith(".key") or n.endswith(".json") and "data-keys" in n]
    assert secrets and all(found[n] == 0o600 for n in secrets), {n: oct(found[n]) for n in secrets}


def test_an_older_installation_is_tightened_by_init(tmp_path: pathlib.Path) -> None:
    root = tmp_path / "keys"
    init_keys(root)
    (root / "data-keys").chmod(0o755)
    (root / "seal").chmod(0o755)
    KeyStore(root)  # reading changes nothing
    assert stat.S_IMODE((root / "seal").stat().st_mode) == 0o755
    init_keys(root)
    assert stat.S_IMODE((root / "seal").stat().st_mode) == 0o700
    assert stat.S_IMODE((root / "data-keys").stat().st_mode) == 0o700
