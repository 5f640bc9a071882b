"""Sealed cursors: what a listing cursor holds (the last gift's name or price
and id) is encrypted and authenticated with AES-GCM under a key the server
keeps, so a cursor in a URL or a browser's history shows nothing, and one
forged, altered or cut is refused (422), never decoded.

The key is the same in every worker and survives restarts, so a page's
cursor works on whichever worker serves the next page:

- ``CURSOR_KEY`` (any text of 32 characters or more; HKDF-SHA256 makes the
  AES key of it): set it, the same on every host, when more than one host
  serves the database;
- else ``instance/cursor.key``, 32 random bytes made on the first start,
  readable by its owner only (0600); every worker of the host reads it.

A new key makes earlier cursors a 422 (a client starts from the first page).
"""

from __future__ import annotations

import base64
import binascii
import os
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, current_app

from app.config import ConfigError

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # random per cursor: AES-GCM's standard nonce
TAG_BYTES = 16
MIN_KEY_TEXT = 32
KEY_FILE = "cursor.key"
HKDF_INFO = b"gifts-api listing cursors v1"


class Unsealable(Exception):
    """Not a cursor sealed with this server's key for this purpose."""


def sealed_length(plaintext_bytes: int) -> int:
    """Characters of the cursor that seals ``plaintext_bytes`` (unpadded)."""
    raw = NONCE_BYTES + plaintext_bytes + TAG_BYTES
    return (raw * 4 + 2) // 3


class Sealer:
    def __init__(self, key: bytes) -> None:
        self.aead = AESGCM(key)

    def seal(self, purpose: bytes, plaintext: bytes) -> str:
        nonce = os.urandom(NONCE_BYTES)
        raw = nonce + self.aead.encrypt(nonce, plaintext, purpose)
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def open(self, purpose: bytes, cursor: str) -> bytes:
        """The plaintext; Unsealable for anything this server did not seal
        for ``purpose`` (other characters, cut, altered, another key)."""
        try:
            raw = base64.b64decode(
                cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True
            )
        except (binascii.Error, ValueError) as error:  # ValueError: not ASCII
            raise Unsealable() from error
        if len(raw) < NONCE_BYTES + TAG_BYTES:
            raise Unsealable()
        try:
            return self.aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose)
        except InvalidTag as error:
            raise Unsealable() from error


def _derived(text: str) -> bytes:
    if len(text) < MIN_KEY_TEXT:
        raise ConfigError(
            f"CURSOR_KEY has {len(text)} characters; give at least {MIN_KEY_TEXT} "
            'random ones (python3 -c "import secrets; print(secrets.token_urlsafe())")'
        )
    kdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=HKDF_INFO)
    return kdf.derive(text.encode())


def _key_file(folder: Path) -> bytes:
    """The host's key in ``folder``, made once: written whole to a temporary
    file, then linked to its name, so two workers starting together agree on
    the first one linked and never read half a key."""
    path = folder / KEY_FILE
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists():
            descriptor, temporary = tempfile.mkstemp(dir=folder)  # 0600
            try:
                os.write(descriptor, os.urandom(KEY_BYTES))
                os.fsync(descriptor)
                os.close(descriptor)
                try:
                    os.link(temporary, path)
                except FileExistsError:
                    pass  # another worker's came first: use that one
            finally:
                os.unlink(temporary)
        key = path.read_bytes()
    except OSError as error:
        raise ConfigError(
            f"no cursor key: set CURSOR_KEY, or let the app write {path} ({error})"
        ) from error
    if len(key) != KEY_BYTES:
        raise ConfigError(
            f"{path} holds {len(key)} bytes, not a key of {KEY_BYTES}: delete it "
            "(earlier cursors then answer 422) or set CURSOR_KEY"
        )
    return key


def init_app(app: Flask) -> None:
    """The app's sealer, from CURSOR_KEY or the instance folder's key file."""
    text = app.config.get("CURSOR_KEY")
    key = _derived(text) if text else _key_file(Path(app.instance_path))
    app.extensions["cursor_sealer"] = Sealer(key)


def sealer() -> Sealer:
    found: Sealer = current_app.extensions["cursor_sealer"]
    return found
