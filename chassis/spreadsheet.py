"""Reading an uploaded CSV file: every row at once, or one clear refusal naming the request body.

Spreadsheets save lines ending in CR, LF or CRLF, and a stray CR inside a cell is common. The file is
read with universal newlines, as the csv module asks; what still cannot be read (a cell over the csv
module's field limit, say) is the uploader's problem to fix, answered 422, never a server error.
"""

from __future__ import annotations

import csv
import io

from chassis.refusal import Refusal


def read_rows(text: str, *, field: str = "body") -> tuple[list[str], list[dict[str | None, str | list[str]]]]:
    """The header (stripped) and every row of a CSV with a header row, rows keyed by column."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in reader.fieldnames or []]
        rows: list[dict[str | None, str | list[str]]] = list(reader)
    except csv.Error as exc:
        line = reader.line_num + 1  # the line being read when it failed
        raise Refusal(field, f"not a readable CSV file at line {line}: {exc}") from None
    return header, rows
