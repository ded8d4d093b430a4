"""The box over real TLS: a hub certificate signed by a CA generated here, trusted through hub_ca_file for
enrolment and the link; the same hub refused when the box does not trust that CA."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from openrtcc.domain.errors import InvalidInput
from tests.edge_hub import EdgeHub, serve, start_box, wait_for


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject, issuer, public_key, signer, *, ca: bool, san=None) -> x509.Certificate:
    now = datetime.now(UTC)
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
         .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
         .not_valid_after(now + timedelta(days=1))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if san:
        b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return b.sign(signer, hashes.SHA256())


def _pki(where):
    """A CA and a certificate for 127.0.0.1 signed by it; returns (ca file, cert file, key file)."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _cert(_name("rtcc test CA"), _name("rtcc test CA"), ca_key.public_key(), ca_key, ca=True)
    leaf = _cert(_name("127.0.0.1"), ca.subject, key.public_key(), ca_key, ca=False,
                 san=[x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    files = where / "ca.pem", where / "hub.pem", where / "hub.key"
    files[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    files[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return files


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # TLS is the subject here, not the database
def test_box_trusts_the_hub_through_its_ca_file_and_refuses_an_untrusted_one(app, hub, world, tmp_path, backend):
    ca, cert, key = _pki(tmp_path)
    server, thread, port = serve(app, ssl_certfile=str(cert), ssl_keyfile=str(key))
    try:
        tls_hub = EdgeHub(f"https://127.0.0.1:{port}", hub, world)
        owner = world.owner("Olga")
        untrusted = tls_hub.config(tmp_path / "untrusted")
        from openrtcc.edge.enrolment import enrol
        with pytest.raises(InvalidInput) as refused:
            enrol(untrusted, tls_hub.code(owner))
        assert refused.value.code == "hub_untrusted" and "hub_ca_file" in refused.value.message

        box = start_box(tls_hub, owner, tmp_path / "trusted", [], hub_ca_file=str(ca))
        try:
            assert owner.get("/api/owner/edges").json()[-1]["connected"]
            from openrtcc.edge.alarms import Alarms
            from openrtcc.edge.hub_link import HubLink
            # The same key from a box that does not trust the CA: the link is never opened.
            stranger = HubLink(untrusted, box.creds, box.gate, clock=box.clock, alarms=Alarms(box.clock.now),
                               min_backoff_s=0.2, max_backoff_s=0.5)
            stranger.start()
            try:
                wait_for(lambda: "CERTIFICATE" in (stranger.last_close_reason or "").upper(), 5.0,
                         "the certificate refusal")
                assert not stranger.connected.is_set()
            finally:
                stranger.stop()
        finally:
            box.stop()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
