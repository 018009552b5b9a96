"""Each decision of protocol/storage.py pinned: passphrase strength (docs/operating-a-registry.md:
at least 12 characters), the passphrase source, the lock, atomic writes and key files."""

from __future__ import annotations

import fcntl
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

import protocol.storage as storage
from protocol.errors import MalformedInputError, SecretError
from protocol.keys import SigningKey
from protocol.storage import (
    DEMO_PASSPHRASE,
    check_passphrase,
    exclusive,
    load_key,
    passphrase,
    read_json,
    save_key,
    write_atomic,
    write_json,
)


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


# -- passphrases ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "correct-horse",  # 13
        "abcdefghijkl",  # exactly 12
        "abcdeabcdeab",  # 12, exactly 5 distinct, not a whole repetition of "abcde"
        "abcdefabcdefg",  # a repetition plus one more character
    ],
)
def test_strong_passphrases_accepted(text: str) -> None:
    assert check_passphrase(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "abcdefghijk",  # 11 characters
        "",
        "aaaaaaaaaaaa",  # one character repeated
        "abcdefabcdef",  # "abcdef" twice: 6 distinct, 12 characters
        "abcdeabcdeabcde",  # "abcde" three times
        "abcdabcdabcd",  # 4 distinct
        "aabbccddaabbccdd",  # 4 distinct, and a repetition
    ],
)
def test_weak_passphrases_refused(text: str) -> None:
    with pytest.raises(SecretError, match="the passphrase is too weak: use at least 12 characters"):
        check_passphrase(text)


def test_passphrase_comes_from_the_environment_then_the_demo_fallback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("YILU_KEY_PASSPHRASE", "from the environment")
    assert passphrase() == "from the environment"
    assert passphrase(demo=True) == "from the environment"
    monkeypatch.setenv("YILU_KEY_PASSPHRASE", "")
    assert passphrase(demo=True) == DEMO_PASSPHRASE == "yilu-demo-only-not-secret"
    with pytest.raises(SecretError, match="set YILU_KEY_PASSPHRASE"):
        passphrase()
    monkeypatch.delenv("YILU_KEY_PASSPHRASE")
    with pytest.raises(SecretError, match="set YILU_KEY_PASSPHRASE"):
        passphrase()


# -- the lock ------------------------------------------------------------------------------------


def _locked_elsewhere(path: Path) -> bool:
    """True if another open file description cannot take the lock now."""
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return False


def test_exclusive_holds_the_lock_and_makes_its_folders(tmp_path: Path) -> None:
    lock = tmp_path / "a" / "b" / "state.lock"
    with exclusive(lock):
        assert _locked_elsewhere(lock)
    assert not _locked_elsewhere(lock)
    with exclusive(lock):  # the folders exist now: fine again
        assert _locked_elsewhere(lock)


def test_exclusive_releases_the_lock_even_while_a_forked_child_keeps_the_file_open(tmp_path: Path) -> None:
    """Closing the file would not release the lock while a child forked inside the block
    still holds a copy of the descriptor: the lock is released explicitly."""
    lock = tmp_path / "state.lock"
    read_end, write_end = os.pipe()
    with exclusive(lock):
        child = os.fork()
        if child == 0:  # pragma: no cover - the child only waits for the parent
            os.close(write_end)
            os.read(read_end, 1)
            os._exit(0)
    try:
        assert not _locked_elsewhere(lock)
    finally:
        os.close(write_end)
        os.close(read_end)
        os.waitpid(child, 0)


# -- atomic writes -------------------------------------------------------------------------------


def test_write_atomic_writes_the_bytes_with_the_default_mode_and_keeps_the_umask(
    tmp_path: Path, umask_022: None
) -> None:
    path = tmp_path / "new" / "dir" / "list.json"
    write_atomic(path, "héllo")
    assert path.read_bytes() == "héllo".encode()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert os.umask(0o022) == 0o022  # unchanged by the write
    write_atomic(path, b"\x00\x01", mode=0o640)
    assert path.read_bytes() == b"\x00\x01"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in path.parent.iterdir()) == ["list.json"]


def test_write_atomic_syncs_the_whole_content_before_replacing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "f.txt"
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.fstat(fd).st_size)
        assert not path.exists()  # before the new file takes the name
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    write_atomic(path, b"x" * 1000)
    assert synced == [1000]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "f.txt"
    path.write_text("old")

    def replace(src: str, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(path, "new")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]


def test_write_json_writes_utf8_indented_by_two_with_a_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    write_json(path, {"name": "中国", "n": [1]})
    assert path.read_text(encoding="utf-8") == '{\n  "name": "中国",\n  "n": [\n    1\n  ]\n}\n'
    assert read_json(path) == {"name": "中国", "n": [1]}


def test_read_json_refuses_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(MalformedInputError, match="does not exist"):
        read_json(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(MalformedInputError, match="is not a readable JSON file"):
        read_json(bad)
    (tmp_path / "null.json").write_text(json.dumps(None))
    assert read_json(tmp_path / "null.json") is None


# -- key files -----------------------------------------------------------------------------------


def test_a_key_is_saved_encrypted_readable_by_its_owner_only_and_loads_back(tmp_path: Path) -> None:
    key = SigningKey.generate("EdDSA")
    path = tmp_path / "keys" / "key.pem"
    save_key(path, key, "correct horse battery")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"ENCRYPTED" in path.read_bytes()
    loaded = load_key(path, "correct horse battery")
    assert loaded.public.kid == key.public.kid
    with pytest.raises(SecretError, match="cannot read the private key"):
        load_key(tmp_path / "missing.pem", "correct horse battery")


def test_the_storage_module_keeps_the_documented_minimum() -> None:
    assert storage.MIN_PASSPHRASE_CHARS == 12
