import pytest
from django.core.management import CommandError, call_command

from audience.models import Subscriber

pytestmark = pytest.mark.django_db


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command("import_subscribers", *args, stdout=out)
    return out.getvalue()


def test_imports_and_prints_counts_and_bad_rows(tmp_path):
    Subscriber.objects.create(email="old@example.com", first_name="Old")
    path = tmp_path / "readers.csv"
    path.write_bytes(
        b"\xef\xbb\xbfemail,first_name,plan\n"
        b"new@example.com,New,pro\n"
        b"OLD@example.com,Renamed,\n"
        b"broken,X,\n"
        b"new@example.com,Twice,\n"
    )
    out = run(str(path))
    assert "4 rows: 1 created, 1 updated, 0 unchanged, 2 skipped." in out
    assert "Custom attributes: plan." in out
    assert "line 4: invalid email 'broken'" in out
    assert "line 5: duplicate email new@example.com (first on line 2)" in out
    assert Subscriber.objects.get(email="old@example.com").first_name == "Renamed"
    assert Subscriber.objects.get(email="new@example.com").attributes == {"plan": "pro"}


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run(str(tmp_path / "nope.csv"))


def test_file_without_email_column_is_an_error(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("name\nAnn\n")
    with pytest.raises(CommandError, match="no 'email' column"):
        run(str(path))
    assert not Subscriber.objects.exists()


def test_bad_rows_alone_do_not_fail_the_command(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("email\n\nnot-an-email\n")
    out = run(str(path))  # no CommandError: exit code 0
    assert "line 3: invalid email 'not-an-email'" in out
    assert "1 rows: 0 created, 0 updated, 0 unchanged, 1 skipped." in out
