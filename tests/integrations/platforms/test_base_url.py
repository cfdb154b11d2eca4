"""A malformed API base URL is a ConfigurationError on every platform, never a ValueError."""

from __future__ import annotations

import pytest

from integrations.platforms.errors import ConfigurationError
from integrations.platforms.registry import all_platforms

MALFORMED = (
    "https://[::1",  # an IPv6 bracket never closed
    "http://[zz::1]/",  # not an IPv6 address inside the brackets
    "http://127.0.0.1:port/sandbox/x",  # a port that is not a number
)


@pytest.mark.parametrize("cls", all_platforms(), ids=lambda cls: cls.slug)
@pytest.mark.parametrize("url", MALFORMED)
def test_a_malformed_base_url_is_refused_with_the_reason(cls, url, settings):
    settings.SANDBOX_ENABLED = True
    with pytest.raises(ConfigurationError) as caught:
        cls.check_base_url(url)
    assert "is not a valid URL" in caught.value.message
    assert url in caught.value.message
