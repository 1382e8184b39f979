"""CSV and XLSX exports of the coordinators' tabular reports (the progress matrix, 10,000+ volunteers and more).

Why streaming: a chamber's matrix is large and a worker must not hold it twice (rows plus the finished file) in
memory, so the rows come from an iterator (e.g. a SQLAlchemy ``yield_per`` result) and are written out in chunks of
about 64 KiB. CSV is encoded row by row; XLSX is written by XlsxWriter in ``constant_memory`` mode to a temporary
file (it keeps one row in memory), which is then read back in chunks and removed, also when the consumer stops
early. Memory therefore stays flat whatever the number of rows.

Why the formula guard: cells hold what volunteers typed (names, organisations, comments). Opened in Excel or
LibreOffice, a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return may be run as a formula (CSV
injection, see OWASP). :func:`guard_cell` puts an apostrophe in front of such strings, in both formats; XLSX strings
are moreover always written as strings, never as formulas.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
import pathlib
import re
import sys
import tempfile
import unicodedata
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import xlsxwriter
from flask import Response, stream_with_context

__all__ = [
    "CHUNK_SIZE",
    "CSV_CONTENT_TYPE",
    "XLSX_CONTENT_TYPE",
    "Table",
    "csv_chunks",
    "download_name",
    "export_response",
    "guard_cell",
    "write_file",
    "xlsx_chunks",
]

CHUNK_SIZE = 64 * 1024
DEFAULT_TZ = "Europe/Berlin"
FORMATS = ("csv", "xlsx")
DELIMITERS = (",", ";")
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_BOM = "\ufeff"
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_YES, _NO = "ja", "nein"

# XLSX
_XLSX_MAX_ROWS = 1_048_576
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_MIN_WIDTH, _MAX_WIDTH = 8, 60
_DATETIME_WIDTH, _DATE_WIDTH = 17, 11  # 'dd.mm.yyyy hh:mm' and 'dd.mm.yyyy' fit without "#####"

# file names
_TRANSLITERATION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_MAX_NAME = 80


@dataclass(frozen=True)
class Table:
    """A report: a title (sheet title, file names), a header and rows that may be consumed only once."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[object]]  # values: str, int, float, bool, datetime/date, None


def guard_cell(value: object) -> object:
    """Formula-injection guard: a string starting with = + - @, a tab or a carriage return gets a leading
    apostrophe (OWASP CSV injection); other values are returned unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_TRIGGERS):
        return "'" + value
    return value


def _local(value: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """An aware datetime as naive local time of ``zone``; a naive one is taken as already local."""
    if value.tzinfo is None:
        return value
    return value.astimezone(zone).replace(tzinfo=None)


def _check_delimiter(delimiter: str) -> None:
    if delimiter not in DELIMITERS:
        raise ValueError(f"delimiter must be one of {DELIMITERS!r}, not {delimiter!r}")


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"export format must be one of {FORMATS!r}, not {fmt!r}")


# --- CSV -------------------------------------------------------------------------------------------------------


def csv_chunks(table: Table, *, delimiter: str = ",", tz: str = DEFAULT_TZ) -> Generator[bytes, None, None]:
    """UTF-8 with BOM (Excel reads umlauts), CRLF line ends, RFC 4180 quoting; delimiter "," or ";" (German Excel).
    Yields chunks of about 64 KiB.

    Datetimes as local time of ``tz`` ("2026-12-01 14:30"), dates ISO, booleans "ja"/"nein", None (and NaN) empty. With
    ";" (German Excel, whose list separator it is) floats get a decimal comma, or Excel would read "12.5" as a date.
    The arguments are checked at once (ValueError, ZoneInfoNotFoundError); the rows only when iterated.
    """
    _check_delimiter(delimiter)
    return _csv_stream(table, delimiter, ZoneInfo(tz))


def _csv_stream(table: Table, delimiter: str, zone: ZoneInfo) -> Generator[bytes, None, None]:
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, delimiter=delimiter, quotechar='"', doublequote=True, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n"
    )
    decimal_comma = delimiter == ";"
    buffer.write(_BOM)
    writer.writerow([_csv_cell(value, zone, decimal_comma) for value in table.header])
    for row in table.rows:
        writer.writerow([_csv_cell(value, zone, decimal_comma) for value in row])
        if buffer.tell() >= CHUNK_SIZE:
            yield buffer.getvalue().encode("utf-8", errors="replace")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8", errors="replace")


def _csv_cell(value: object, zone: ZoneInfo, decimal_comma: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_TRIGGERS) else value
    if isinstance(value, bool):
        return _YES if value else _NO
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        if not math.isfinite(value):
            return ""  # NaN and infinity: no number to show
        text = repr(value) if isinstance(value, float) else str(value)
        return text.replace(".", ",") if decimal_comma else text
    if isinstance(value, dt.datetime):
        return _local(value, zone).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(guard_cell(str(value)))


# --- XLSX ------------------------------------------------------------------------------------------------------


def xlsx_chunks(table: Table, *, tz: str = DEFAULT_TZ) -> Generator[bytes, None, None]:
    """An .xlsx file (XlsxWriter with constant_memory=True, written to a temporary file that is removed afterwards),
    yielded in chunks of about 64 KiB. Header row bold and frozen, autofilter over the data, column widths from the
    header lengths (no second pass over the rows; a column that held dates is widened so they show), datetimes as
    Excel dates with a German-style format 'dd.mm.yyyy hh:mm' and dates 'dd.mm.yyyy', booleans as "ja"/"nein".

    The first chunk comes only after all rows are written (a zip file is finished before it can be read). The
    temporary directory is removed when the generator ends, fails or is closed. ``tz`` is checked at once.
    """
    return _xlsx_stream(table, ZoneInfo(tz))


def _xlsx_stream(table: Table, zone: ZoneInfo) -> Generator[bytes, None, None]:
    with tempfile.TemporaryDirectory(prefix="medienwerk-export-") as tmpdir:
        path = os.path.join(tmpdir, "export.xlsx")
        workbook = xlsxwriter.Workbook(
            path,
            {
                "constant_memory": True,
                "tmpdir": tmpdir,
                "nan_inf_to_errors": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        try:
            _write_sheet(workbook, table, zone)
            workbook.close()
        finally:
            if not workbook.fileclosed:  # failed: close the row data files before the directory goes
                for worksheet in workbook.worksheets():
                    worksheet._opt_close()
                workbook.fileclosed = True
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK_SIZE):
                yield chunk


def _sheet_name(title: str) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, not starting or ending with an apostrophe."""
    name = _SHEET_NAME_FORBIDDEN.sub("-", " ".join(title.split()))[:31].strip("' ")
    return name or "Export"


def _write_sheet(workbook: Any, table: Table, zone: ZoneInfo) -> None:
    worksheet = workbook.add_worksheet(_sheet_name(table.title))
    bold = workbook.add_format({"bold": True})
    datetime_format = workbook.add_format({"num_format": "dd.mm.yyyy hh:mm"})
    date_format = workbook.add_format({"num_format": "dd.mm.yyyy"})

    header = [str(guard_cell("" if cell is None else str(cell))) for cell in table.header]
    widths = [min(max(len(cell) + 2, _MIN_WIDTH), _MAX_WIDTH) for cell in header]
    for col, cell in enumerate(header):
        worksheet.write_string(0, col, cell, bold)

    row_index = 0
    for row_index, row in enumerate(table.rows, start=1):
        if row_index >= _XLSX_MAX_ROWS:
            raise ValueError(f"more than {_XLSX_MAX_ROWS - 1} rows do not fit in an Excel worksheet")
        for col, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                worksheet.write_string(row_index, col, "'" + value if value.startswith(_FORMULA_TRIGGERS) else value)
            elif isinstance(value, bool):
                worksheet.write_string(row_index, col, _YES if value else _NO)
            elif isinstance(value, int):
                worksheet.write_number(row_index, col, value)
            elif isinstance(value, float | Decimal):
                if math.isfinite(value):  # NaN and infinity: an empty cell, not an Excel error
                    worksheet.write_number(row_index, col, float(value))
            elif isinstance(value, dt.datetime):
                worksheet.write_datetime(row_index, col, _local(value, zone), datetime_format)
                _widen(widths, col, _DATETIME_WIDTH)
            elif isinstance(value, dt.date):
                worksheet.write_datetime(row_index, col, value, date_format)
                _widen(widths, col, _DATE_WIDTH)
            else:
                worksheet.write_string(row_index, col, str(guard_cell(str(value))))

    for col, width in enumerate(widths):
        worksheet.set_column(col, col, width)
    if header:
        worksheet.freeze_panes(1, 0)
        worksheet.autofilter(0, 0, row_index, len(header) - 1)


def _widen(widths: list[int], col: int, width: int) -> None:
    if col >= len(widths):  # a row longer than the header
        widths.extend([_MIN_WIDTH] * (col + 1 - len(widths)))
    if widths[col] < width:
        widths[col] = width


# --- file names, responses, files ------------------------------------------------------------------------------


def download_name(title: str, extension: str, when: dt.date) -> str:
    """A safe ASCII file name such as 'fortschritt-hwk-musterstadt-2026-12-01.csv' (umlauts transliterated:
    ä→ae, ö→oe, ü→ue, ß→ss; other accents dropped; anything else non-alphanumeric → '-'; collapsed; lower case;
    at most 80 chars before the extension)."""
    day = dt.date(when.year, when.month, when.day).isoformat()  # a datetime too gives only its date
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFC", title).translate(_TRANSLITERATION))
    text = "".join(char for char in text if not unicodedata.combining(char)).lower()
    stem = _NOT_ALNUM.sub("-", text).strip("-")
    stem = stem[: _MAX_NAME - len(day) - 1].rstrip("-") or "export"
    suffix = _NOT_ALNUM.sub("", extension.lower())
    return f"{stem}-{day}.{suffix}" if suffix else f"{stem}-{day}"


def _chunks(table: Table, fmt: str, delimiter: str, tz: str) -> Generator[bytes, None, None]:
    _check_format(fmt)
    _check_delimiter(delimiter)
    if fmt == "csv":
        return csv_chunks(table, delimiter=delimiter, tz=tz)
    return xlsx_chunks(table, tz=tz)


def export_response(
    table: Table,
    fmt: str,
    *,
    delimiter: str = ",",
    filename_stem: str,
    when: dt.date,
    tz: str = DEFAULT_TZ,
) -> Response:
    """A streamed Flask Response (stream_with_context, so needs a request context) for fmt 'csv' or 'xlsx'
    (ValueError otherwise, before anything is sent) with the right Content-Type (text/csv; charset=utf-8 or the
    xlsx MIME type), Content-Disposition attachment with :func:`download_name`, and Cache-Control: private,
    no-store."""
    chunks = _chunks(table, fmt, delimiter, tz)
    response = Response(
        stream_with_context(chunks),
        status=200,
        content_type=CSV_CONTENT_TYPE if fmt == "csv" else XLSX_CONTENT_TYPE,
    )
    response.headers.set("Content-Disposition", "attachment", filename=download_name(filename_stem, fmt, when))
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def write_file(
    table: Table, fmt: str, path: pathlib.Path | None, *, delimiter: str = ",", tz: str = DEFAULT_TZ
) -> None:
    """Write the export to path (or to stdout's binary buffer when path is None), chunk by chunk.

    A regular file is written beside its target and renamed at the end, so a failed export leaves no half file
    (and an existing file stays as it was); it is readable by its owner only, as it holds personal data. Other
    paths (a FIFO, /dev/stdout) are written directly.
    """
    chunks = _chunks(table, fmt, delimiter, tz)
    if path is None:
        out = sys.stdout.buffer
        for chunk in chunks:
            out.write(chunk)
        out.flush()
        return
    if path.exists() and not path.is_file():
        with path.open("wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
        return
    fd, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
        os.replace(partial, path)
    except BaseException:
        pathlib.Path(partial).unlink(missing_ok=True)
        raise
