"""An S3-protocol server on loopback for tests (moto's, in a thread of the test process), and buckets on it."""

from __future__ import annotations

import itertools
import logging

import pytest

from tests.services import require_service

ACCESS_KEY, SECRET_KEY = "rtcc-test-access", "rtcc-test-secret-DO-NOT-LOG-8f3k"
_names = itertools.count(1)


def _moto():
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        return None
    return ThreadedMotoServer


@pytest.fixture(scope="session")
def s3_endpoint():
    """The endpoint URL of a real HTTP server speaking the S3 protocol, for the session."""
    server_class = _moto()
    require_service(server_class is not None, "an S3-protocol server (moto)", "uv sync (moto[s3] is a dev dependency)")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = server_class(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def client(endpoint: str):
    from openrtcc.adapters.storage.s3_media import s3_client

    return s3_client(endpoint, "us-east-1", ACCESS_KEY, SECRET_KEY)


@pytest.fixture
def s3_bucket(s3_endpoint) -> str:
    """A new, empty bucket for one test."""
    name = f"rtcc-media-{next(_names)}"
    client(s3_endpoint).create_bucket(Bucket=name)
    return name


def objects(endpoint: str, bucket: str) -> dict[str, bytes]:
    """Every object in the bucket, read straight from the server (not through the store under test)."""
    c = client(endpoint)
    found = c.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: c.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in found}


def uploads(endpoint: str, bucket: str) -> list[str]:
    return [u["Key"] for u in client(endpoint).list_multipart_uploads(Bucket=bucket).get("Uploads", [])]
