"""Helpers the platform client tests share."""

from __future__ import annotations

import responses


def strict(**kwargs) -> responses.RequestsMock:
    """A `responses` mock that fails the test if a registered request was never sent."""
    kwargs.setdefault("assert_all_requests_are_fired", True)
    return responses.RequestsMock(**kwargs)
