"""Bulk product import from CSV: check every row first, then upsert by SKU in batches.

The file is read twice and never held in memory. The first pass parses every
row and checks it against the file (duplicate SKUs and barcodes, consistent
product rows) and the database (unknown categories, SKUs of other products,
barcodes of other SKUs). With any problem and no ``partial`` flag, nothing is
written and one ``ValidationFailed`` (``catalog.import_invalid``) lists every
problem with its line and column. The second pass writes the valid rows in
batches of ``BATCH_SIZE``, flushing and clearing the session after each batch;
everything stays in the caller's one unit of work, so the entrypoint commits
all of it or nothing.

Re-importing a file changes nothing: rows are matched by SKU (products by
code), only real differences are written, audited and evented, and the report
counts them as created, updated or unchanged. A barcode held in the database
by another SKU is refused even if the same file moves it away (to keep every
write free of transient unique clashes).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import BinaryIO, Protocol

from sqlalchemy.orm import Session

from shopops.auth.permissions import Permission
from shopops.contexts.catalog import repository
from shopops.contexts.catalog.commands import ImportProducts
from shopops.contexts.catalog.errors import CatalogError
from shopops.contexts.catalog.events import ProductsImported
from shopops.contexts.catalog.rows import (
    HEADER_LINE,
    FileChecks,
    ProductRow,
    check_header,
    error_sort_key,
    parse_row,
    undecodable,
)
from shopops.contexts.catalog.upsert import ImportReport, ImportWriter, RejectedRow
from shopops.kernel.errors import FieldError, ValidationFailed
from shopops.kernel.money import normalize_currency
from shopops.uow import UnitOfWork

BATCH_SIZE = 500
STAGE_VALIDATE = "validating"
STAGE_WRITE = "importing"


class ImportProgress(Protocol):
    def __call__(self, stage: str, done: int, total: int) -> None:
        """``done`` of ``total`` bytes of the file have been read in ``stage``."""


class _CsvFile:
    """A seekable binary CSV read record by record with the line each record starts on."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self.size = source.seek(0, io.SEEK_END)
        source.seek(0)

    def position(self) -> int:
        return self._source.tell()

    def records(self) -> Generator[tuple[int, list[str]], None, None]:
        self._source.seek(0)
        text = io.TextIOWrapper(
            self._source, encoding="utf-8-sig", errors="surrogateescape", newline=""
        )
        reader = csv.reader(text)
        try:
            while True:
                line = reader.line_num + 1
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as error:
                    raise ValidationFailed(
                        CatalogError.MALFORMED_CSV,
                        f"line {line} is not valid CSV: {error}",
                        errors=[FieldError("file", CatalogError.MALFORMED_CSV, str(error), line)],
                    ) from None
                if cells:
                    yield line, cells
        finally:
            text.detach()


def _by_column(columns: Sequence[str], cells: Sequence[str]) -> dict[str, str]:
    return dict(zip(columns, cells, strict=False))


def import_products(
    uow: UnitOfWork, command: ImportProducts, *, progress: ImportProgress | None = None
) -> ImportReport:
    """Validate the whole file, then import it (or only its valid rows with ``partial``).

    The session is flushed and cleared between batches: objects loaded in this
    unit of work before the import are detached afterwards.
    """
    uow.require(Permission.CATALOG_IMPORT)
    default_currency = normalize_currency(command.default_currency)
    csv_file = _CsvFile(command.source)
    records = csv_file.records()
    first = next(records, None)
    if first is None:
        raise ValidationFailed(
            CatalogError.EMPTY_FILE,
            "the file is empty",
            errors=[FieldError("file", CatalogError.EMPTY_FILE, "no header line", HEADER_LINE)],
        )
    records.close()
    header = first[1]
    header_errors = check_header(header)
    if header_errors:
        raise ValidationFailed(
            CatalogError.IMPORT_INVALID, "the header line is not usable", errors=header_errors
        )
    columns = [name.strip() for name in header]
    problems = _validate(uow.session, csv_file, columns, default_currency, progress)
    if problems and not command.partial:
        errors = sorted(chain.from_iterable(problems.values()), key=error_sort_key)
        raise ValidationFailed(
            CatalogError.IMPORT_INVALID,
            f"{len(errors)} problem(s) in {len(problems)} row(s); nothing was imported",
            errors=errors,
        )
    report = ImportReport(tuple(header))
    writer = ImportWriter(uow, report, default_currency)
    _write(writer, csv_file, columns, problems, progress)
    if report.changed:
        uow.emit(
            ProductsImported(
                uuid.uuid4().hex,
                report.created,
                report.updated,
                report.unchanged,
                len(report.rejected),
            )
        )
    return report


@dataclass(frozen=True, slots=True)
class _Keys:
    line: int
    product_code: str
    sku: str
    barcode: str


def _keys(line: int, cells: Mapping[str, str]) -> _Keys | None:
    code, sku, barcode = (
        (cells.get(name) or "").strip() for name in ("product_code", "sku", "barcode")
    )
    if not sku or undecodable(code + sku + barcode):
        return None
    return _Keys(line, code, sku, barcode)


def _validate(
    session: Session,
    csv_file: _CsvFile,
    columns: Sequence[str],
    default_currency: str,
    progress: ImportProgress | None,
) -> dict[int, list[FieldError]]:
    """First pass: every problem of every row, by line number."""
    categories = repository.category_ids_by_slug(session)
    checks = FileChecks()
    problems: dict[int, list[FieldError]] = {}
    pending: list[_Keys] = []
    for line, cells in csv_file.records():
        if line == HEADER_LINE:
            continue
        values = _by_column(columns, cells)
        _, errors = parse_row(line, values, default_currency=default_currency)
        if len(cells) != len(columns):
            errors.append(
                FieldError(
                    "row",
                    CatalogError.WRONG_CELL_COUNT,
                    f"the row has {len(cells)} cells; the header has {len(columns)}",
                    line,
                )
            )
        errors.extend(checks.check(line, values))
        category = (values.get("category") or "").strip().lower()
        if category and not undecodable(category) and category not in categories:
            errors.append(
                FieldError(
                    "category",
                    CatalogError.UNKNOWN_CATEGORY,
                    f"no category with slug '{category}'",
                    line,
                )
            )
        if errors:
            problems[line] = errors
        keys = _keys(line, values)
        if keys is not None:
            pending.append(keys)
        if len(pending) >= BATCH_SIZE:
            _check_database(session, pending, problems)
            pending = []
            if progress is not None:
                progress(STAGE_VALIDATE, csv_file.position(), csv_file.size)
    _check_database(session, pending, problems)
    for error in checks.first_occurrence_errors():
        problems.setdefault(error.row or 0, []).append(error)
    if progress is not None:
        progress(STAGE_VALIDATE, csv_file.size, csv_file.size)
    return problems


def _check_database(
    session: Session, pending: Sequence[_Keys], problems: dict[int, list[FieldError]]
) -> None:
    """SKUs that belong to another product, barcodes that belong to another SKU."""
    owners = repository.sku_owners(session, {k.sku for k in pending})
    holders = repository.barcode_owners(session, {k.barcode for k in pending if k.barcode})
    for keys in pending:
        owner = owners.get(keys.sku)
        if owner is not None and keys.product_code and owner != keys.product_code:
            problems.setdefault(keys.line, []).append(
                FieldError(
                    "sku",
                    CatalogError.SKU_TAKEN,
                    f"SKU '{keys.sku}' belongs to product '{owner}'",
                    keys.line,
                )
            )
        holder = holders.get(keys.barcode) if keys.barcode else None
        if holder is not None and holder != keys.sku:
            problems.setdefault(keys.line, []).append(
                FieldError(
                    "barcode",
                    CatalogError.BARCODE_TAKEN,
                    f"barcode '{keys.barcode}' belongs to SKU '{holder}'",
                    keys.line,
                )
            )


def _write(
    writer: ImportWriter,
    csv_file: _CsvFile,
    columns: Sequence[str],
    problems: Mapping[int, list[FieldError]],
    progress: ImportProgress | None,
) -> None:
    """Second pass: hand the valid rows to the writer in batches; set aside the others."""
    report = writer.report
    batch: list[ProductRow] = []
    for line, cells in csv_file.records():
        if line == HEADER_LINE:
            continue
        report.rows += 1
        if line in problems:
            errors = tuple(sorted(problems[line], key=error_sort_key))
            report.rejected.append(RejectedRow(line, tuple(cells), errors))
            continue
        row, _ = parse_row(
            line, _by_column(columns, cells), default_currency=writer.default_currency
        )
        assert row is not None, f"line {line} passed validation but does not parse"
        batch.append(row)
        if len(batch) >= BATCH_SIZE:
            writer.write(batch)
            batch = []
            if progress is not None:
                progress(STAGE_WRITE, csv_file.position(), csv_file.size)
    if batch:
        writer.write(batch)
    if progress is not None:
        progress(STAGE_WRITE, csv_file.size, csv_file.size)
