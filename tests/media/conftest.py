"""Every media test runs on both stores: a local folder and an S3 bucket on moto's server."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from s3server import (  # noqa: F401 - the *_fixture functions are the fixtures s3_endpoint, s3_store
    s3_endpoint_fixture,
    s3_settings,
    s3_store_fixture,
)


@pytest.fixture(params=["local", "s3"])
def store_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The MEDIA_* settings of one store: a folder, or a fresh bucket on moto."""
    if request.param == "local":
        return {}
    endpoint = request.getfixturevalue("s3_endpoint")
    return s3_settings(endpoint, request.getfixturevalue("s3_store").bucket)


@pytest.fixture
def app_config(app_config: dict[str, Any], store_settings: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, **store_settings}


@pytest.fixture
def author(client: FlaskClient, auth: Any) -> FlaskClient:
    auth.register()
    auth.login()
    return client
