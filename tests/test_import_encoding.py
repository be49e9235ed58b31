"""Files in the encodings of older school systems (issue 14): ``import --encoding gb18030`` (GBK, GB2312 too).

A GBK export of a school system reads as the same events as its UTF-8 twin; without the encoding it is refused with
a hint naming it; a byte that is not GB18030 either is named with its line; an encoding not read here is refused
before anything is read. Every refusal leaves the ledger as it was.
"""

from __future__ import annotations

from datetime import date

import pytest
from typer.testing import CliRunner

import credit_ledger as cl
from credit_ledger.cli import app
from credit_ledger.errors import ImportFileError
from credit_ledger.eventfiles import ENCODINGS
from credit_ledger.imports import import_events, read_rows

HEADER = "kind,event_id,student_id,occurred_on,institution,program,mode,employer,reason\n"
ROWS = [
    "enrolled,李娜-2024-enrol,李娜-2024,2024年9月1日,HNJX,MECH-PT-2024,part_time,湘江重工,\n",
    "suspended,李娜-2024-s1,李娜-2024,2025/3/1,,,,,生产旺季（休学）\n",
]
TEXT = HEADER + "".join(ROWS)


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def state(ledger: cl.Ledger) -> tuple:
    return ledger.count(), ledger.students(), ledger.head()


@pytest.fixture
def fresh():
    ledger = cl.Ledger.open()
    ledger.load_catalog(cl.Catalog.sample())
    yield ledger
    ledger.close()


@pytest.mark.parametrize("encoding", ["gbk", "GBK", "gb18030", "gb2312", "GB_18030"])
def test_a_gbk_file_reads_as_its_utf8_twin(tmp_path, encoding):
    gbk = [r.event for r in read_rows(write(tmp_path, "gbk.csv", TEXT.encode("gbk")), encoding=encoding)]
    utf8 = [r.event for r in read_rows(write(tmp_path, "utf8.csv", TEXT.encode("utf-8-sig")))]
    assert gbk == utf8 and len(gbk) == 2 and gbk[0].employer == "湘江重工" and gbk[1].reason == "生产旺季（休学）"


def test_a_gbk_file_read_as_utf8_is_refused_with_the_encoding_named(tmp_path, fresh):
    before = state(fresh)
    with pytest.raises(ImportFileError) as refused:
        import_events(fresh, write(tmp_path, "gbk.csv", TEXT.encode("gbk")))
    problem = refused.value.problems[0]
    assert problem.code == "bad_encoding" and problem.line == 2
    assert "not UTF-8" in problem.message and "gb18030" in problem.message
    assert state(fresh) == before


def test_import_with_the_encoding_writes_the_events(tmp_path, fresh):
    result = import_events(fresh, write(tmp_path, "gbk.csv", TEXT.encode("gbk")), encoding="gbk")
    assert result.written == 2 and fresh.students() == ["李娜-2024"]
    assert fresh.status("李娜-2024", date(2025, 4, 1)) == "suspended"


def test_a_byte_not_of_gb18030_is_named_with_its_line(tmp_path, fresh):
    data = TEXT.encode("gbk") + b"suspended,x,\xff\xff,2025-03-01,,,,,\n"
    before = state(fresh)
    with pytest.raises(ImportFileError) as refused:
        import_events(fresh, write(tmp_path, "bad.csv", data), encoding="gb18030")
    problem = refused.value.problems[0]
    assert problem.code == "bad_encoding" and problem.line == 4 and "not GB18030" in problem.message
    assert state(fresh) == before


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16", "big5", "", "gb\u200b18030"])
def test_an_encoding_not_read_here_is_refused_before_reading(tmp_path, fresh, encoding):
    before = state(fresh)
    with pytest.raises(ImportFileError) as refused:
        import_events(fresh, write(tmp_path, "x.csv", TEXT.encode("utf-8")), encoding=encoding)
    assert refused.value.problems[0].code == "unknown_encoding"
    assert all(name in str(refused.value) for name in ENCODINGS)
    assert state(fresh) == before


def test_the_command_imports_a_gbk_file(tmp_path):
    runner = CliRunner()
    db = str(tmp_path / "ledger.db")
    assert runner.invoke(app, ["init", "--db", db, "--sample"]).exit_code == 0
    path = write(tmp_path, "gbk.csv", TEXT.encode("gbk"))
    refused = runner.invoke(app, ["import", str(path), "--db", db])
    assert refused.exit_code != 0 and "--encoding gb18030" in refused.output
    done = runner.invoke(app, ["import", str(path), "--db", db, "--encoding", "gbk"])
    assert done.exit_code == 0, done.output
    assert "2 events written" in done.output
