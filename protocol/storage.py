"""Small file helpers every party uses: atomic JSON writes and encrypted key files.

Private keys are only ever written as encrypted PKCS#8 (docs/architecture.md,
"Secrets"); the passphrase comes from ``YILU_KEY_PASSPHRASE``.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from protocol.errors import MalformedInputError, SecretError
from protocol.keys import SigningKey

PASSPHRASE_ENV: Final = "YILU_KEY_PASSPHRASE"  # noqa: S105 -- the variable name, not a secret
#: Used only for directories made by ``yilu demo init`` (marked ``"demo": true``) when
#: YILU_KEY_PASSPHRASE is unset, so that the demo runs on a fresh machine. Never for real keys.
DEMO_PASSPHRASE: Final = "yilu-demo-only-not-secret"  # noqa: S105 -- public by design, demo only


#: The shortest passphrase :func:`check_passphrase` accepts for a new key.
MIN_PASSPHRASE_CHARS: Final = 12


def check_passphrase(text: str) -> str:
    """``text`` if it is strong enough to protect a new private key, else a one-line error:
    at least :data:`MIN_PASSPHRASE_CHARS` characters, not a short pattern repeated
    (``aaaaaaaaaaaa``, ``abcabcabcabc``) and not made of fewer than 5 distinct characters."""
    repeated = any(
        text == text[:size] * (len(text) // size)
        for size in range(1, len(text) // 2 + 1)
        if len(text) % size == 0
    )
    if len(text) < MIN_PASSPHRASE_CHARS or repeated or len(set(text)) < 5:
        raise SecretError(
            f"the passphrase is too weak: use at least {MIN_PASSPHRASE_CHARS} characters that are not "
            "a repeated pattern, e.g. four random words"
        )
    return text


def passphrase(*, demo: bool = False) -> str:
    """The key passphrase from the environment (the demo falls back to its fixed one)."""
    value = os.environ.get(PASSPHRASE_ENV, "")
    if value:
        return value
    if demo:
        return DEMO_PASSPHRASE
    raise SecretError(f"set {PASSPHRASE_ENV} to the passphrase that protects the private key")


@contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``lock_path`` so that two processes (two
    ``yilu issue`` runs, say) never interleave a read-modify-write of the same state."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: bytes | str, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    The file gets ``mode``, by default the usual permissions (0666 less the umask), not the
    0600 of a temporary file: lists and bundles are published; private keys pass 0600.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fchmod(fh.fileno(), (0o666 & ~_umask()) if mode is None else mode)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, obj: Any) -> None:
    write_atomic(path, json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def read_json(path: Path) -> Any:
    """Read a JSON file, turning every failure into a one-line :class:`MalformedInputError`."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise MalformedInputError(f"{path} does not exist") from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise MalformedInputError(f"{path} is not a readable JSON file") from exc


def save_key(path: Path, key: SigningKey, passphrase: str) -> None:
    write_atomic(path, key.to_encrypted_pem(passphrase), mode=0o600)


def load_key(path: Path, passphrase: str) -> SigningKey:
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise SecretError(f"cannot read the private key {path}") from exc
    return SigningKey.from_encrypted_pem(pem, passphrase)
