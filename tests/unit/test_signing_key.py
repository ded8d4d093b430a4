"""The hub's signing key file: made once with mode 0600 and kept; refused when others can read it or when it
is not an Ed25519 private key; public keys from outside parties must be Ed25519 PEM."""

from __future__ import annotations

import hashlib
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from openrtcc.adapters.signing import SigningKeyError, load_or_create_signer, public_key_from_pem
from openrtcc.domain.errors import InvalidInput


def test_the_key_is_made_once_0600_and_its_id_is_the_sha256_of_the_raw_public_key(tmp_path):
    path = tmp_path / "keys" / "hub-signing.key"
    made = load_or_create_signer(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in path.read_bytes()
    again = load_or_create_signer(path)
    assert again.key_id == made.key_id
    raw = serialization.load_pem_public_key(made.public_key_pem).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert made.key_id == hashlib.sha256(raw).hexdigest() and len(raw) == 32
    signature = made.sign(b"statement")
    assert again.verify(b"statement", signature) and not again.verify(b"statement!", signature)
    assert public_key_from_pem(made.public_key_pem).verify(b"statement", signature)
    assert not list(path.parent.glob(".*tmp"))  # no half-written key left beside it


def test_a_key_others_can_read_or_that_is_not_ed25519_is_refused(tmp_path):
    path = tmp_path / "hub-signing.key"
    load_or_create_signer(path)
    path.chmod(0o644)
    with pytest.raises(SigningKeyError, match="open to other users.*chmod 600"):
        load_or_create_signer(path)
    other = tmp_path / "ec.key"
    other.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    other.chmod(0o600)
    with pytest.raises(SigningKeyError, match="not an Ed25519 key"):
        load_or_create_signer(other)
    other.write_bytes(b"garbage")
    with pytest.raises(SigningKeyError, match="not an unencrypted PEM private key"):
        load_or_create_signer(other)


def test_public_keys_from_outside_must_be_ed25519_pem():
    ec_pub = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    for pem, message in ((ec_pub, "not an Ed25519 key"), (b"hello", "not a PEM public key"),
                         (b"-" * 20_000, "far too large")):
        with pytest.raises(InvalidInput, match=message):
            public_key_from_pem(pem)
