"""Shared test setup: a fake AWS environment, fixed before anything imports chalicelib.

chalicelib.store.models reads the table name and region at import, and moto only intercepts botocore clients created
after it is imported, so both the environment and the moto import must come first (engineering notes §4, §5.3).
"""

from __future__ import annotations

import os

_FAKE_AWS_ENV = {
    # Fake credentials, so that a client that escapes moto is refused by AWS instead of acting on a real account.
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    # A developer's ~/.aws/config could name a profile, region or endpoint that overrides the above.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "QUNGUI_STAGE": "dev",
    "QUNGUI_TABLE": "qungui-dev",
    "QUNGUI_SSM_PREFIX": "/qungui/dev",
    # Never find a developer's running `qungui dev`: CLI calls in tests name `--stage dev` and land in moto.
    "QUNGUI_DEV_STATE": os.path.join(os.devnull, "no-local-stack.json"),
}
os.environ.update(_FAKE_AWS_ENV)
# An endpoint left over from a `qungui dev` shell would route clients past moto's interception to a live server.
for _name in [n for n in os.environ if n == "AWS_PROFILE" or n.startswith("AWS_ENDPOINT_URL")]:
    del os.environ[_name]

from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402

from chalicelib.store.models import Item, reset_connection  # noqa: E402


def _reset_model_connections() -> None:
    # The models share one cached botocore client; a client built outside (or inside) a previous mock would otherwise
    # outlive it and talk to the wrong backend.
    reset_connection()


@pytest.fixture(autouse=True)
def aws() -> Iterator[None]:
    """An in-process fake AWS account (moto), fresh for each test; autouse, so no test can reach AWS by accident."""
    _reset_model_connections()
    with mock_aws():
        yield
    _reset_model_connections()


@pytest.fixture
def table(aws: None) -> type[Item]:
    """The qungui table, created from the models (TTL included); tests/infra creates it from infra/tables.yaml."""
    Item.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    return Item
