import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audience.importing import ImportFileError, RowError, import_subscribers
from audience.models import Subscriber, SubscriberStatus

pytestmark = pytest.mark.django_db


def csv_bytes(text: str, bom: bool = False) -> io.BytesIO:
    data = text.encode("utf-8")
    return io.BytesIO(b"\xef\xbb\xbf" + data if bom else data)


def test_creates_subscribers_with_names_status_and_custom_attributes():
    report = import_subscribers(
        csv_bytes(
            "email,first_name,last_name,status,plan,interest\n"
            "Ann@Example.com,Ann,Lee,subscribed,pro,growth\n"
            "bob@example.com,Bob,,Unsubscribed,,dividends\n"
        )
    )
    assert (report.created, report.updated, report.unchanged, report.errors) == (2, 0, 0, [])
    assert report.attribute_columns == ["plan", "interest"]
    ann = Subscriber.objects.get(email="ann@example.com")  # stored lower-cased
    assert (ann.first_name, ann.last_name, ann.status) == (
        "Ann",
        "Lee",
        SubscriberStatus.SUBSCRIBED,
    )
    assert ann.attributes == {"plan": "pro", "interest": "growth"}
    bob = Subscriber.objects.get(email="bob@example.com")
    assert bob.status == SubscriberStatus.UNSUBSCRIBED
    assert bob.attributes == {"interest": "dividends"}  # empty cells are not attributes


def test_only_email_column_defaults_to_subscribed():
    report = import_subscribers(csv_bytes("Email\nx@example.com\n"))
    assert report.created == 1
    assert Subscriber.objects.get().status == SubscriberStatus.SUBSCRIBED


def test_updates_existing_by_case_insensitive_email_and_merges_attributes():
    existing = Subscriber.objects.create(
        email="ann@example.com",
        first_name="Ann",
        last_name="Old",
        attributes={"plan": "free", "keep": "1"},
    )
    Subscriber.objects.filter(pk=existing.pk).update(email="Ann@Example.COM")  # legacy case
    same = Subscriber.objects.create(email="same@example.com", first_name="Sam")
    report = import_subscribers(
        csv_bytes(
            "email,first_name,last_name,plan\n"
            "ANN@example.com,,New,pro\n"
            "same@example.com,Sam,,\n"
            "new@example.com,Neo,,\n"
        )
    )
    assert (report.created, report.updated, report.unchanged) == (1, 1, 1)
    existing.refresh_from_db()
    assert existing.email == "ann@example.com"
    assert existing.first_name == "Ann"  # empty cell keeps the stored value
    assert existing.last_name == "New"
    assert existing.attributes == {"plan": "pro", "keep": "1"}
    assert Subscriber.objects.count() == 3
    same_before = same.updated_at
    same.refresh_from_db()
    assert same.updated_at == same_before


def test_bad_rows_are_reported_with_line_numbers_and_good_rows_imported():
    report = import_subscribers(
        csv_bytes(
            "email,first_name,status\n"  # line 1
            "good@example.com,G,subscribed\n"  # 2
            ",NoEmail,subscribed\n"  # 3
            "not-an-email,X,subscribed\n"  # 4
            "odd@example.com,O,maybe\n"  # 5
            "short@example.com,S\n"  # 6
            "GOOD@example.com,Again,subscribed\n"  # 7: duplicate of line 2
            "\n"  # 8: blank, ignored
            '"multi@example.com","Line\nbreak",bounced\n'  # 9-10
            "late@example.com,L,cleaned,extra\n"  # 11
        )
    )
    assert report.errors == [
        RowError(3, "missing email"),
        RowError(4, "invalid email 'not-an-email'"),
        RowError(
            5, "unknown status 'maybe' (expected one of bounced, cleaned, subscribed, unsubscribed)"
        ),
        RowError(6, "expected 3 columns, got 2"),
        RowError(7, "duplicate email good@example.com (first on line 2)"),
        RowError(11, "expected 3 columns, got 4"),
    ]
    assert str(report.errors[0]) == "line 3: missing email"
    assert report.created == 2
    assert report.rows == 8
    assert set(Subscriber.objects.values_list("email", flat=True)) == {
        "good@example.com",
        "multi@example.com",
    }
    assert Subscriber.objects.get(email="multi@example.com").first_name == "Line\nbreak"


def test_utf8_bom_is_ignored_in_binary_and_text_files():
    report = import_subscribers(csv_bytes("email,first_name\nzoe@example.com,Zoë\n", bom=True))
    assert report.created == 1 and report.errors == []
    assert Subscriber.objects.get().first_name == "Zoë"
    report = import_subscribers(io.StringIO("\ufeffemail,city\nt@example.com,Köln\n"))
    assert report.created == 1
    assert Subscriber.objects.get(email="t@example.com").attributes == {"city": "Köln"}


def test_crlf_line_endings():
    report = import_subscribers(
        csv_bytes("email,first_name\r\na@example.com,A\r\nb@example.com,B\r\n")
    )
    assert report.created == 2
    assert Subscriber.objects.get(email="b@example.com").first_name == "B"


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("first_name,last_name\nA,B\n", "no 'email' column"),
        ("email,plan,plan\n", "'plan' twice"),
        ("email,,plan\n", "Column 2"),
    ],
)
def test_unusable_header_is_a_file_error(text, message):
    with pytest.raises(ImportFileError, match=message):
        import_subscribers(csv_bytes(text))
    assert not Subscriber.objects.exists()


def test_invalid_utf8_is_a_file_error_with_the_line():
    data = io.BytesIO(b"email\na@example.com\n\xff\xfe@example.com\n")
    with pytest.raises(ImportFileError, match="Line 3 is not valid UTF-8") as excinfo:
        import_subscribers(data, chunk_size=1)
    assert excinfo.value.report.created == 1


def test_streams_in_chunks_with_a_bounded_number_of_queries(monkeypatch):
    rows = "".join(f"user{i}@example.com,U{i}\n" for i in range(250))
    Subscriber.objects.create(email="user0@example.com", first_name="Old")

    consumed = []

    class Lines:
        """A file that records how far it has been read."""

        def __init__(self, text):
            self.lines = io.BytesIO(text.encode()).readlines()

        def __iter__(self):
            for index, line in enumerate(self.lines):
                consumed.append(index)
                yield line

    chunks_seen = []
    from audience import importing

    original = importing._write

    def spy(chunk, report):
        chunks_seen.append((len(chunk), len(consumed)))
        original(chunk, report)

    monkeypatch.setattr(importing, "_write", spy)
    with CaptureQueriesContext(connection) as queries:
        report = import_subscribers(Lines("email,first_name\n" + rows), chunk_size=100)
    assert (report.created, report.updated) == (249, 1)
    # Written 100 rows at a time, each chunk before the rest of the file was read.
    assert [size for size, _ in chunks_seen] == [100, 100, 50]
    assert chunks_seen[0][1] <= 102
    # A few queries per chunk (select, insert, update, savepoints), not per row.
    assert len(queries) <= 3 * 6
    assert Subscriber.objects.count() == 250
