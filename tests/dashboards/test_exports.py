"""Exports: CSV and XLSX stream in flat memory, guard against formula injection and clean up their temp files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
import tracemalloc
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from flask import Flask

import lms
from lms.dashboards.exports import (
    CHUNK_SIZE,
    Table,
    csv_chunks,
    download_name,
    export_response,
    guard_cell,
    write_file,
    xlsx_chunks,
)

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
HEADER = ["Name", "Kammer", "Module", "Fortschritt", "Letzter Besuch", "Aktiv", "Bemerkung"]
INJECTIONS = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR", "=cmd|' /C calc'!A0"]
WHEN = dt.date(2026, 12, 1)


def volunteer_rows(n: int, pulled: list[int] | None = None) -> Iterator[tuple[object, ...]]:
    """Fresh objects per row, as a ``yield_per`` result would give them; counts the rows pulled."""
    start = dt.datetime(2026, 1, 1, 8, 0, tzinfo=dt.UTC)
    for i in range(n):
        if pulled is not None:
            pulled[0] += 1
        yield (
            f"Botschafter*in Nr. {i} Müller-Lüdenscheidt",
            "HWK Musterstadt",
            i % 12,
            i / 7,
            start + dt.timedelta(minutes=i),
            i % 2 == 0,
            None if i % 3 else f'Anmerkung {i}; mit "Zitat"',
        )


def table(rows: Iterable[Sequence[object]], header: Sequence[str] = HEADER, title: str = "Fortschritt") -> Table:
    return Table(title=title, header=header, rows=rows)


def read_csv(data: bytes, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter))


def parse_xml(data: bytes) -> ElementTree.Element:
    return ElementTree.fromstring(data)  # noqa: S314 - XML this test's own code just wrote


def read_xlsx(data: bytes) -> dict[str, Any]:
    """The first sheet as {"A1": (type, text, style), ...} plus the raw sheet XML and styles, read with zipfile."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            root = parse_xml(archive.read("xl/sharedStrings.xml"))
            shared = ["".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")) for si in root.findall("m:si", NS)]
        sheet_xml = archive.read("xl/worksheets/sheet1.xml")
        styles_xml = archive.read("xl/styles.xml")
    sheet = parse_xml(sheet_xml)
    cells: dict[str, tuple[str, str, int]] = {}
    for c in sheet.iter(f"{{{NS['m']}}}c"):
        kind = c.get("t", "n")
        if kind == "inlineStr":
            text = "".join(t.text or "" for t in c.iter(f"{{{NS['m']}}}t"))
        elif kind == "s":
            text = shared[int(c.findtext("m:v", default="", namespaces=NS))]
        else:
            text = c.findtext("m:v", default="", namespaces=NS)
        cells[c.get("r", "")] = (kind, text, int(c.get("s", "0")))
    return {"cells": cells, "sheet": sheet, "sheet_xml": sheet_xml, "styles": parse_xml(styles_xml)}


def number_format_of(book: dict[str, Any], style: int) -> str:
    styles = book["styles"]
    xf = styles.find("m:cellXfs", NS)[style]
    formats = {f.get("numFmtId"): f.get("formatCode") for f in styles.iter(f"{{{NS['m']}}}numFmt")}
    return str(formats.get(xf.get("numFmtId"), ""))


def is_bold(book: dict[str, Any], style: int) -> bool:
    styles = book["styles"]
    xf = styles.find("m:cellXfs", NS)[style]
    font = styles.find("m:fonts", NS)[int(xf.get("fontId"))]
    return font.find("m:b", NS) is not None


# --- CSV -------------------------------------------------------------------------------------------------------


def test_csv_has_bom_crlf_and_rfc4180_quoting() -> None:
    data = b"".join(csv_chunks(table([["a,b", 'sagt "hallo"', "zwei\nZeilen", 1]], header=["x", "y", "z", "n"])))
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\xef\xbb\xbf") == 1
    assert data.endswith(b"\r\n")
    assert data.replace(b"\r\n", b"").count(b"\n") == 1  # only the one inside the quoted field
    assert data[3:].split(b"\r\n")[0] == b"x,y,z,n"
    assert b'"a,b","sagt ""hallo""","zwei\nZeilen",1\r\n' in data
    assert read_csv(data) == [["x", "y", "z", "n"], ["a,b", 'sagt "hallo"', "zwei\nZeilen", "1"]]


def test_csv_semicolon_for_german_excel() -> None:
    data = b"".join(csv_chunks(table([["a;b", "c,d", 2.5, 3]], header=["x", "y", "z", "n"]), delimiter=";"))
    text = data.decode("utf-8-sig")
    assert text.startswith("x;y;z;n\r\n")
    assert '"a;b";c,d;2,5;3\r\n' in text  # decimal comma: German Excel reads "2.5" as a date
    assert read_csv(data, ";") == [["x", "y", "z", "n"], ["a;b", "c,d", "2,5", "3"]]


def test_csv_rejects_other_delimiters_at_once() -> None:
    pulled = [0]
    with pytest.raises(ValueError, match="delimiter"):
        csv_chunks(table(volunteer_rows(10, pulled)), delimiter="\t")
    assert pulled == [0]


def test_csv_umlauts_round_trip() -> None:
    names = ["Jürgen Größe", "Ännchen Öztürk", "Straße", "Zoë Dvořák", "Łukasz 😀"]
    data = b"".join(csv_chunks(table([[name] for name in names], header=["Name für Übersicht"])))
    assert read_csv(data) == [["Name für Übersicht"]] + [[name] for name in names]
    assert "Jürgen Größe".encode() in data


def test_csv_values_datetimes_in_local_time_dates_iso_booleans_none() -> None:
    winter = dt.datetime(2026, 12, 1, 13, 30, tzinfo=dt.UTC)
    summer = dt.datetime(2026, 7, 1, 13, 30, 59, tzinfo=dt.UTC)
    naive = dt.datetime(2026, 3, 2, 9, 5)
    row = [winter, summer, naive, dt.date(2026, 1, 2), True, False, None, 7, -1, float("nan"), ""]
    header = [f"c{i}" for i in range(len(row))]
    [head, values] = read_csv(b"".join(csv_chunks(table([row], header=header))))
    assert values == [
        "2026-12-01 14:30",
        "2026-07-01 15:30",
        "2026-03-02 09:05",
        "2026-01-02",
        "ja",
        "nein",
        "",
        "7",
        "-1",
        "",
        "",
    ]
    [_, utc] = read_csv(b"".join(csv_chunks(table([[winter]], header=["t"]), tz="UTC")))
    assert utc == ["2026-12-01 13:30"]


def test_csv_guards_formula_injection() -> None:
    rows = [[value, "harmlos", -5, "Müller-Lüdenscheidt", "a=b"] for value in INJECTIONS]
    data = b"".join(csv_chunks(table(rows, header=["=Kopf", "b", "c", "d", "e"])))
    read = read_csv(data)
    assert read[0][0] == "'=Kopf"
    for value, row in zip(INJECTIONS, read[1:], strict=True):
        assert row == ["'" + value, "harmlos", "-5", "Müller-Lüdenscheidt", "a=b"]


def test_guard_cell() -> None:
    for value in INJECTIONS:
        assert guard_cell(value) == "'" + value
    for value in ["", "Anna", "a=b", " =1", "'=1", "Köln"]:
        assert guard_cell(value) == value
    for other in [-1, 2.5, None, True, WHEN]:
        assert guard_cell(other) is other


def test_csv_streams_in_chunks_without_exhausting_the_rows() -> None:
    pulled = [0]
    chunks = csv_chunks(table(volunteer_rows(20_000, pulled)))
    assert pulled == [0]  # nothing is read before the first chunk is asked for
    first = next(chunks)
    assert 0 < pulled[0] < 20_000 // 4
    sizes = [len(first)]
    for chunk in chunks:
        sizes.append(len(chunk))
    assert pulled == [20_000]
    assert len(sizes) > 10
    assert all(CHUNK_SIZE <= size < 2 * CHUNK_SIZE for size in sizes[:-1])
    assert 0 < sizes[-1] < 2 * CHUNK_SIZE


# --- XLSX ------------------------------------------------------------------------------------------------------


def test_xlsx_header_frozen_bold_autofilter_widths_and_values() -> None:
    rows: list[list[object]] = [
        ["Jürgen Größe", dt.datetime(2026, 12, 1, 13, 30, tzinfo=dt.UTC), dt.date(2026, 1, 2), True, 3, 0.5, None],
        ["Ännchen", None, None, False, -1, 2, "Straße"],
    ]
    header = ["Name", "Zuletzt", "Tag", "Aktiv", "Module", "Quote", "Eine sehr lange Überschrift für die Spalte"]
    book = read_xlsx(b"".join(xlsx_chunks(table(rows, header=header, title="Fortschritt: HWK [Süd]"))))
    cells = book["cells"]
    sheet = book["sheet"]

    assert [cells[f"{col}1"][1] for col in "ABCDEFG"] == header
    assert all(is_bold(book, cells[f"{col}1"][2]) for col in "ABCDEFG")
    assert not is_bold(book, cells["A2"][2])
    pane = sheet.find("m:sheetViews/m:sheetView/m:pane", NS)
    assert pane is not None and pane.get("state") == "frozen" and pane.get("ySplit") == "1"
    assert pane.get("xSplit") is None
    autofilter = sheet.find("m:autoFilter", NS)
    assert autofilter is not None and autofilter.get("ref") == "A1:G3"

    widths = {int(col.get("min")): float(col.get("width")) for col in sheet.iter(f"{{{NS['m']}}}col")}
    assert widths[7] > widths[1]  # the long header gets the wide column
    assert widths[2] >= 17 and widths[3] >= 11  # dates show instead of "#####"

    assert cells["A2"][:2] == ("inlineStr", "Jürgen Größe")
    kind, serial, style = cells["B2"]
    assert kind == "n" and number_format_of(book, style) == "dd.mm.yyyy hh:mm"
    excel_epoch = dt.datetime(1899, 12, 30)
    assert excel_epoch + dt.timedelta(days=float(serial)) == pytest.approx(
        dt.datetime(2026, 12, 1, 14, 30), abs=dt.timedelta(seconds=1)
    )
    kind, serial, style = cells["C2"]
    assert kind == "n" and number_format_of(book, style) == "dd.mm.yyyy"
    assert excel_epoch + dt.timedelta(days=float(serial)) == dt.datetime(2026, 1, 2)
    assert cells["D2"][:2] == ("inlineStr", "ja") and cells["D3"][:2] == ("inlineStr", "nein")
    assert cells["E2"][:2] == ("n", "3") and cells["F2"][:2] == ("n", "0.5") and cells["E3"][:2] == ("n", "-1")
    assert "G2" not in cells and "B3" not in cells  # None: an empty cell
    assert cells["G3"][:2] == ("inlineStr", "Straße")


def test_xlsx_sheet_title_is_made_valid() -> None:
    data = b"".join(xlsx_chunks(table([], header=["a"], title="Fortschritt: HWK [Süd] / alle Botschafter*innen")))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        workbook = parse_xml(archive.read("xl/workbook.xml"))
    [sheet] = workbook.iter(f"{{{NS['m']}}}sheet")
    name = sheet.get("name", "")
    assert 0 < len(name) <= 31 and not set(name) & set("[]:*?/\\")
    assert name.startswith("Fortschritt- HWK -Süd-")


def test_xlsx_guards_formula_injection_and_never_writes_formulas() -> None:
    rows = [[value, "harmlos", "Müller"] for value in INJECTIONS]
    book = read_xlsx(b"".join(xlsx_chunks(table(rows, header=["=Kopf", "b", "c"]))))
    assert book["sheet"].find(".//m:f", NS) is None
    assert b"<f>" not in book["sheet_xml"]
    cells = book["cells"]
    assert cells["A1"][1] == "'=Kopf"
    for row, value in enumerate(INJECTIONS, start=2):
        kind, text, _ = cells[f"A{row}"]
        assert kind in ("inlineStr", "s", "str")
        # XlsxWriter stores a carriage return as _x000D_ (Excel reads it back as "\r")
        assert text.replace("_x000D_", "\r") == "'" + value
        assert cells[f"B{row}"][1] == "harmlos" and cells[f"C{row}"][1] == "Müller"


def test_xlsx_umlauts_round_trip() -> None:
    names = ["Jürgen Größe", "Ännchen Öztürk", "Zoë Dvořák", "Łukasz 😀"]
    book = read_xlsx(b"".join(xlsx_chunks(table([[name] for name in names], header=["Übersicht"]))))
    assert [book["cells"][f"A{i}"][1] for i in range(1, len(names) + 2)] == ["Übersicht", *names]


def test_xlsx_reads_no_rows_until_iterated_and_yields_chunks() -> None:
    pulled = [0]
    chunks = xlsx_chunks(table(volunteer_rows(20_000, pulled)))
    assert pulled == [0]  # building a response does not touch the rows; the stream does
    parts = list(chunks)
    assert pulled == [20_000]
    assert len(parts) > 1 and all(len(part) == CHUNK_SIZE for part in parts[:-1])
    with zipfile.ZipFile(io.BytesIO(b"".join(parts))) as archive:
        assert archive.testzip() is None
        assert b'<row r="20001"' in archive.read("xl/worksheets/sheet1.xml")


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temporary files go to a directory of this test's own, so we can see what is left behind."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return tmp


def test_xlsx_removes_its_temp_files_when_done(private_tmp: Path) -> None:
    chunks = xlsx_chunks(table(volunteer_rows(500)))
    first = next(chunks)
    assert first.startswith(b"PK")
    assert len(list(private_tmp.iterdir())) == 1  # the temporary directory, while the file is read
    rest = list(chunks)
    assert zipfile.is_zipfile(io.BytesIO(first + b"".join(rest)))
    assert list(private_tmp.iterdir()) == []


def test_xlsx_removes_its_temp_files_when_the_consumer_stops_early(private_tmp: Path) -> None:
    chunks = xlsx_chunks(table(volunteer_rows(5_000)))
    next(chunks)
    chunks.close()  # what the WSGI server does when the client goes away
    assert list(private_tmp.iterdir()) == []


def test_xlsx_removes_its_temp_files_when_the_rows_fail(private_tmp: Path) -> None:
    def failing() -> Iterator[tuple[object, ...]]:
        yield from volunteer_rows(100)
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError, match="database went away"):
        b"".join(xlsx_chunks(table(failing())))
    assert list(private_tmp.iterdir()) == []


def test_xlsx_never_started_leaves_nothing(private_tmp: Path) -> None:
    chunks = xlsx_chunks(table(volunteer_rows(10)))
    chunks.close()
    assert list(private_tmp.iterdir()) == []


# --- memory ----------------------------------------------------------------------------------------------------


def peak_while_streaming(make_chunks: Callable[[Table], Iterator[bytes]], n: int) -> int:
    tracemalloc.start()
    try:
        total = 0
        for chunk in make_chunks(table(volunteer_rows(n))):
            total += len(chunk)  # the consumer drops each chunk, as a WSGI server does once it is sent
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def memory_to_hold(n: int) -> int:
    tracemalloc.start()
    try:
        held = list(volunteer_rows(n))
        size = tracemalloc.get_traced_memory()[0]
        del held
        return size
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("make_chunks", [csv_chunks, xlsx_chunks], ids=["csv", "xlsx"])
def test_memory_stays_flat_with_the_number_of_rows(make_chunks: Callable[[Table], Iterator[bytes]]) -> None:
    for _ in make_chunks(table(volunteer_rows(50))):  # warm up: imports, caches
        pass
    small = peak_while_streaming(make_chunks, 2_000)
    large = peak_while_streaming(make_chunks, 20_000)
    assert large < 2 * small, (small, large)  # ten times the rows, not ten times the memory
    assert large < memory_to_hold(20_000) / 4, (large, memory_to_hold(20_000))


# --- file names, responses, files ------------------------------------------------------------------------------


def test_download_name() -> None:
    assert download_name("Fortschritt HWK Musterstadt", "csv", WHEN) == "fortschritt-hwk-musterstadt-2026-12-01.csv"
    assert (
        download_name("Fortschritt – HWK Düsseldorf: Übersicht für Größe & Maß", "xlsx", WHEN)
        == "fortschritt-hwk-duesseldorf-uebersicht-fuer-groesse-mass-2026-12-01.xlsx"
    )
    assert download_name("ÄÖÜ äöü ß", ".CSV", WHEN) == "aeoeue-aeoeue-ss-2026-12-01.csv"
    assert download_name("Café Zoë", "csv", WHEN) == "cafe-zoe-2026-12-01.csv"
    assert download_name('../../etc/passwd\r\n"x"', "csv", WHEN) == "etc-passwd-x-2026-12-01.csv"
    assert download_name("", "csv", WHEN) == "export-2026-12-01.csv"
    assert download_name("😀 !!", "csv", WHEN) == "export-2026-12-01.csv"
    assert download_name("Fortschritt", "csv", dt.datetime(2026, 12, 1, 23, 59)) == "fortschritt-2026-12-01.csv"

    long = download_name("Handwerkskammer " * 20, "xlsx", WHEN)
    stem, extension = long.rsplit(".", 1)
    assert extension == "xlsx" and len(stem) <= 80 and stem.endswith("-2026-12-01")
    assert "--" not in long and not stem.startswith("-")
    assert long.isascii()


@pytest.fixture
def export_app(tmp_path: Path) -> Flask:
    return lms.create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'test.sqlite'}",
            "SECRET_KEY": "test-secret",
            "JOBS_SQLITE_PATH": str(tmp_path / "jobs.sqlite"),
        }
    )


def test_export_response_csv_headers_and_body(export_app: Flask) -> None:
    pulled = [0]
    with export_app.test_request_context("/"):
        response = export_response(
            table(volunteer_rows(3_000, pulled)), "csv", delimiter=";", filename_stem="Fortschritt Köln", when=WHEN
        )
        assert response.is_streamed and pulled == [0]
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert response.headers["Content-Type"].lower().count("charset") == 1
        assert response.headers["Content-Disposition"] == "attachment; filename=fortschritt-koeln-2026-12-01.csv"
        assert response.headers["Cache-Control"] == "private, no-store"
        body = response.get_data()
    read = read_csv(body, ";")
    assert read[0] == HEADER and len(read) == 3_001
    assert read[1][0] == "Botschafter*in Nr. 0 Müller-Lüdenscheidt"


def test_export_response_xlsx_headers(export_app: Flask) -> None:
    with export_app.test_request_context("/"):
        response = export_response(table(volunteer_rows(10)), "xlsx", filename_stem="Fortschritt", when=WHEN)
        assert response.headers["Content-Type"] == ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        assert "charset" not in response.headers["Content-Type"]
        assert response.headers["Content-Disposition"] == "attachment; filename=fortschritt-2026-12-01.xlsx"
        assert response.headers["Cache-Control"] == "private, no-store"
        body = response.get_data()
    assert zipfile.is_zipfile(io.BytesIO(body))


def test_export_response_through_the_app(export_app: Flask) -> None:
    """Through the app's after_request hooks (unit of work, security headers) the headers stay as set."""

    def view() -> Any:
        return export_response(table(volunteer_rows(100)), "csv", filename_stem="Fortschritt", when=WHEN)

    export_app.add_url_rule("/export-under-test", view_func=view)
    response = export_app.test_client().get("/export-under-test")
    assert response.status_code == 200
    assert response.headers.getlist("Content-Type") == ["text/csv; charset=utf-8"]
    assert response.headers.getlist("Cache-Control") == ["private, no-store"]
    assert len(read_csv(response.get_data())) == 101


def test_export_response_rejects_unknown_format_and_delimiter(export_app: Flask) -> None:
    with export_app.test_request_context("/"):
        with pytest.raises(ValueError, match="format"):
            export_response(table([]), "pdf", filename_stem="x", when=WHEN)
        with pytest.raises(ValueError, match="delimiter"):
            export_response(table([]), "csv", delimiter="|", filename_stem="x", when=WHEN)


def test_write_file_to_a_path(tmp_path: Path) -> None:
    target = tmp_path / "fortschritt.csv"
    write_file(table(volunteer_rows(1_000)), "csv", target, delimiter=";")
    assert len(read_csv(target.read_bytes(), ";")) == 1_001
    write_file(table(volunteer_rows(10)), "xlsx", tmp_path / "fortschritt.xlsx")
    assert zipfile.is_zipfile(tmp_path / "fortschritt.xlsx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fortschritt.csv", "fortschritt.xlsx"]


def test_write_file_leaves_no_half_file(tmp_path: Path) -> None:
    target = tmp_path / "fortschritt.csv"
    target.write_bytes(b"old")

    def failing() -> Iterator[tuple[object, ...]]:
        yield from volunteer_rows(5_000)
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        write_file(table(failing()), "csv", target)
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["fortschritt.csv"]
    with pytest.raises(ValueError, match="format"):
        write_file(table([]), "ods", target)


def test_write_file_to_stdout(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    write_file(table([["Jürgen", 1]], header=["Name", "n"]), "csv", None)
    assert capsysbinary.readouterr().out == "\ufeffName,n\r\nJürgen,1\r\n".encode()
