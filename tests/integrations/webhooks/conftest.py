"""Fixtures for the webhook tests (also used by tests/e2e/test_webhooks_e2e.py)."""

from tests.integrations.webhooks.fixtures import webhook_integration  # noqa: F401
