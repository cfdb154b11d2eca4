"""The console's figures as people read them."""

import pytest

from integrations.formatting import counted, milliseconds, percent


@pytest.mark.parametrize(
    "rate, text", [(0.0, "0.0 %"), (1 / 3, "33.3 %"), (1.0, "100.0 %"), (None, "—")]
)
def test_percent(rate, text):
    assert percent(rate) == text


@pytest.mark.parametrize(
    "value, text", [(27.584366000041882, "28 ms"), (0.4, "0 ms"), (1234.5, "1234 ms"), (None, "—")]
)
def test_milliseconds(value, text):
    assert milliseconds(value) == text


def test_counted_agrees_with_the_count():
    assert counted(1, "API call") == "1 API call"
    assert counted(0, "API call") == "0 API calls"
    assert counted(12, "API call") == "12 API calls"
    assert counted(2, "child", "children") == "2 children"
