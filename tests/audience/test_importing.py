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
            5,
            "unknown status 'maybe' (expected one of bounced, cleaned, complained, subscribed, unsubscribed)",
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


def test_a_bad_byte_mid_chunk_is_reported_alone_and_every_valid_row_is_imported():
    rows = [f"r{i}@example.com".encode() for i in range(10)]
    rows[4] = b"\xff\xfe@example.com"
    data = io.BytesIO(b"email\n" + b"\n".join(rows) + b"\n")
    report = import_subscribers(data, chunk_size=1000)
    assert report.errors == [
        RowError(6, "not valid UTF-8 (byte 0xff on line 6); save the file as UTF-8")
    ]
    assert report.created == 9 and report.rows == 10
    assert Subscriber.objects.count() == 9


def test_an_unterminated_quote_is_reported_and_swallows_no_rows():
    report = import_subscribers(
        csv_bytes(
            "email,first_name\n"  # 1
            "a@example.com,A\n"  # 2
            'b@example.com,"Bee\n'  # 3: the quote never closes
            "c@example.com,C\n"  # 4
            'd@example.com,"Dee\n'  # 5: ... nor this one, up to the end of the file
            "e@example.com,E\n"  # 6
        )
    )
    unterminated = "unterminated quote: a quoted field opens on this line and does not close"
    assert report.errors == [RowError(3, unterminated), RowError(5, unterminated)]
    assert set(Subscriber.objects.values_list("email", flat=True)) == {
        "a@example.com",
        "c@example.com",
        "e@example.com",
    }
    assert report.rows == 5


def test_a_quote_closed_lines_later_by_another_field_reports_the_line_that_opened_it():
    report = import_subscribers(
        csv_bytes(
            "email,first_name\n"
            'a@example.com,"Ann\n'  # 2: opens a quote
            "b@example.com,B\n"  # 3
            'c@example.com,"Cee",x\n'  # 4: its quote "closes" line 2's, then garbage
        )
    )
    assert [e.line for e in report.errors] == [2, 4]
    assert "unterminated quote" in report.errors[0].reason
    assert "expected 2 columns, got 3" == report.errors[1].reason
    assert list(Subscriber.objects.values_list("email", flat=True)) == ["b@example.com"]


@pytest.mark.parametrize(
    "cell, reason",
    [
        ("Nul\x00l", "the first_name cell holds a control character (U+0000)"),
        ("Bell\x07", "the first_name cell holds a control character (U+0007)"),
        ("x" * 10_001, "the first_name cell is longer than 10,000 characters"),
    ],
)
def test_control_characters_and_oversized_cells_are_refused_with_the_row(cell, reason):
    report = import_subscribers(
        csv_bytes(f"email,first_name\nbad@example.com,{cell}\ngood@example.com,G\n")
    )
    assert report.errors == [RowError(2, reason)]
    assert list(Subscriber.objects.values_list("email", flat=True)) == ["good@example.com"]


def test_tabs_and_line_breaks_inside_quotes_are_kept():
    import_subscribers(csv_bytes('email,first_name\nt@example.com,"Tab\there\nand"\n'))
    assert Subscriber.objects.get().first_name == "Tab\there\nand"


def test_ten_thousand_rows_with_800_bad_ones_import_every_valid_row():
    lines, bad_lines = ["email,first_name,plan\n"], set()
    for i in range(10_000):
        line = i + 2
        kind = i % 50
        if kind == 0:
            lines.append(f'broken{i}@example.com,"Open,x\n')  # unterminated quote
        elif kind == 1:
            lines.append(f"nul{i}@example.com,N\x00,x\n")
        elif kind == 2:
            lines.append(f"not-an-email-{i},X,x\n")
        elif kind == 3:
            lines.append(f"short{i}@example.com\n")
        else:
            lines.append(f"ok{i}@example.com,R{i},gold\n")
            continue
        bad_lines.add(line)
    data = io.BytesIO("".join(lines).encode())
    data = io.BytesIO(data.getvalue().replace(b"nul51@", b"\xff\xfe51@"))  # and a bad byte
    report = import_subscribers(data, chunk_size=999)
    assert len(bad_lines) == 800
    assert {e.line for e in report.errors} == bad_lines
    assert report.created == 10_000 - 800
    assert report.rows == 10_000 == report.created + len(report.errors)
    assert Subscriber.objects.count() == 9_200


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


def test_a_suppressed_reader_is_never_recreated_by_an_import():
    from audience.suppression import suppress

    suppress("Forgotten@Example.com")
    report = import_subscribers(
        csv_bytes("email,first_name\nforgotten@example.com,F\nkept@example.com,K\n")
    )
    assert (report.created, report.suppressed, report.rows) == (1, 1, 2)
    assert list(Subscriber.objects.values_list("email", flat=True)) == ["kept@example.com"]
