"""FAQ spreadsheets: a CSV with `question` and `answer` columns."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from knowledge.extraction.common import ExtractionError, decode_text


@dataclass
class FaqRow:
    line: int
    question: str
    answer: str


@dataclass
class FaqCsv:
    rows: list[FaqRow]
    skipped: list[str]  # plain reasons, one per skipped line


def parse_faq_csv(data: bytes) -> FaqCsv:
    """A CSV with `question` and `answer` columns (any case, any order, extra columns ignored)."""
    if not data.strip():
        raise ExtractionError("The CSV file is empty.")
    text = decode_text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise ExtractionError("The CSV file has no header row.") from None
    names = [name.strip().lower() for name in header]
    if "question" not in names or "answer" not in names:
        raise ExtractionError(
            f"The CSV needs a header row with 'question' and 'answer' columns; found: {', '.join(header) or 'nothing'}."
        )
    question_at, answer_at = names.index("question"), names.index("answer")
    rows: list[FaqRow] = []
    skipped: list[str] = []
    try:
        for line, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue
            question = record[question_at].strip() if len(record) > question_at else ""
            answer = record[answer_at].strip() if len(record) > answer_at else ""
            if not question or not answer:
                skipped.append(f"line {line}: the {'question' if not question else 'answer'} is empty")
                continue
            if len(question) > 500:
                skipped.append(f"line {line}: the question is longer than 500 characters")
                continue
            rows.append(FaqRow(line=line, question=question, answer=answer))
    except csv.Error as exc:
        raise ExtractionError(f"The CSV file is malformed: {exc}") from None
    return FaqCsv(rows=rows, skipped=skipped)
