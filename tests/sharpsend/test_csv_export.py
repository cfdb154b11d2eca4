import pytest

from sharpsend.csv_export import safe_cell


@pytest.mark.parametrize(
    "value, expected",
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("reader@example.com", "reader@example.com"),
        ("", ""),
        (-3, -3),
        (None, None),
    ],
)
def test_formula_prefixes_get_an_apostrophe(value, expected):
    assert safe_cell(value) == expected
