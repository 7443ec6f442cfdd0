"""A real S3 API on loopback (moto's server mode), and a fresh bucket on it per test.

A test module imports s3_endpoint_fixture and s3_store_fixture to use the fixtures
s3_endpoint and s3_store: the functions have other names than the fixtures, so a test
taking a fixture does not redefine an imported name (ruff's F811).
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from flaskr.media.storage import S3Store, s3_client

REGION = "us-east-1"


def s3_settings(endpoint: str, bucket: str, **more: Any) -> dict[str, Any]:
    """The MEDIA_* settings that point flaskr at a bucket on the test server."""
    return {
        "MEDIA_STORE": "s3",
        "MEDIA_S3_ENDPOINT_URL": endpoint,
        "MEDIA_S3_BUCKET": bucket,
        "MEDIA_S3_REGION": REGION,
        # Given, so boto3 never looks for real credentials (or asks the EC2 metadata service).
        "MEDIA_S3_ACCESS_KEY_ID": "testing",
        "MEDIA_S3_SECRET_ACCESS_KEY": "testing",
        **more,
    }


def new_bucket_name() -> str:
    """A bucket name no other test uses."""
    return f"flaskr-test-{secrets.token_hex(8)}"


@pytest.fixture(scope="session", name="s3_endpoint")
def s3_endpoint_fixture() -> Iterator[str]:
    """The URL of an S3 server on loopback, for the whole run."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@functools.cache
def _client(endpoint: str) -> Any:
    # One client per server, built as flaskr builds its own: making one takes about
    # 0.1 s, and a client may be shared (its settings are the same for every bucket).
    return s3_client(s3_settings(endpoint, bucket="unused"))


@pytest.fixture(name="s3_store")
def s3_store_fixture(s3_endpoint: str) -> S3Store:
    """An S3Store on a new, empty bucket of the test server."""
    bucket = new_bucket_name()
    _client(s3_endpoint).create_bucket(Bucket=bucket)
    return S3Store(bucket, client=_client(s3_endpoint), public_url=f"{s3_endpoint}/{bucket}")
