"""Which rows name a file of the content-addressed store (``storage.files``).

A file is named by its SHA-256 in a column ``sha256`` or ``*_sha256`` (a photo, an attachment, an
inspection's evidence, an imported file, a commitment letter, a daily report's workbook). The same
bytes stored for two reasons are one file, so a file may be removed only while no row names it.
"""

from __future__ import annotations

from sqlalchemy import Column, exists, or_, select
from sqlalchemy.orm import Session

from storage.models import Base


def file_columns() -> list[Column]:
    """Every column that names a stored file: ``sha256`` or ``*_sha256``, in every table."""
    return [column for table in Base.metadata.sorted_tables for column in table.columns
            if column.name == "sha256" or column.name.endswith("_sha256")]


def referenced(s: Session, sha256: str) -> bool:
    """Whether any row (this transaction's own included) names the stored file ``sha256``."""
    return bool(s.scalar(select(or_(*(exists().where(column == sha256) for column in file_columns())))))
