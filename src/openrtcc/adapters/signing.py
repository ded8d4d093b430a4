"""The hub's Ed25519 signing key (audit anchors, evidence packages): loaded, or made once and kept 0600."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from openrtcc.domain.errors import InvalidInput

MAX_PEM_BYTES = 16 * 1024


class SigningKeyError(RuntimeError):
    """The signing key file cannot be used (unreadable, not Ed25519, readable by others)."""


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """sha256 (hex) of the raw 32-byte public key: short enough to compare by eye, stable across encodings."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


class Ed25519PublicVerifier:
    """A public key: the hub's own, or one an outside party fetched from /api/public/audit/public-key."""

    def __init__(self, public_key: Ed25519PublicKey):
        self._public = public_key
        self.key_id = key_id_of(public_key)
        self.public_key_pem = public_key.public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)

    def verify(self, data: bytes, signature: bytes) -> bool:
        try:
            self._public.verify(signature, data)
            return True
        except InvalidSignature:
            return False


class Ed25519Signer(Ed25519PublicVerifier):
    def __init__(self, private_key: Ed25519PrivateKey):
        super().__init__(private_key.public_key())
        self._private = private_key

    def sign(self, data: bytes) -> bytes:
        return self._private.sign(data)


def public_key_from_pem(pem: bytes) -> Ed25519PublicVerifier:
    """A PEM public key (SubjectPublicKeyInfo) that must be Ed25519; InvalidInput otherwise."""
    if len(pem) > MAX_PEM_BYTES:
        raise InvalidInput("the public key file is far too large to be a PEM key", code="bad_public_key")
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError):
        raise InvalidInput("not a PEM public key", code="bad_public_key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInput("the public key is not an Ed25519 key", code="bad_public_key")
    return Ed25519PublicVerifier(key)


def load_or_create_signer(path: Path) -> Ed25519Signer:
    """The key at `path`, made (PKCS#8 PEM, mode 0600) when the file does not exist yet."""
    try:
        return _load(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # fails if another process made the key first: then theirs is the key
        except FileExistsError:
            return _load(path)
    finally:
        tmp.unlink(missing_ok=True)
    return Ed25519Signer(key)


def _load(path: Path) -> Ed25519Signer:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningKeyError(f"the signing key {path} is open to other users (mode {stat.S_IMODE(mode):o}): "
                              f"chmod 600 it (and consider the key exposed)")
    data = path.read_bytes()
    try:
        key = serialization.load_pem_private_key(data[:MAX_PEM_BYTES], password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"the signing key {path} is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"the signing key {path} is not an Ed25519 key")
    return Ed25519Signer(key)
