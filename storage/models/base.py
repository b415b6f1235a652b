"""The declarative base, the ``Tracked`` marker and the column kinds every model module shares."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar

from sqlalchemy import Boolean, ForeignKey, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

intpk = Annotated[int, mapped_column(Integer, primary_key=True)]
name_str = Annotated[str, mapped_column(String(100))]
code_str = Annotated[str, mapped_column(String(32))]
actor_str = Annotated[str, mapped_column(String(128))]
source_str = Annotated[str, mapped_column(String(200))]
sha_str = Annotated[str, mapped_column(String(64))]
utc = Annotated[datetime, mapped_column(UTCDateTime())]
created = Annotated[datetime, mapped_column(UTCDateTime(), default=utcnow)]
flag = Annotated[bool, mapped_column(Boolean, default=False)]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Tracked:
    """Marker: rows of this table are facts covered by the ledger.

    Which chain a row's events go on is read from the row itself (``storage.ledger.chain_of``): the
    class's chain if the table has a ``class_id`` column (set, not NULL), or the class of the row its
    ``__ledger_via__`` foreign-key column points to (``"enrollment_id"`` for a trainee's punches,
    photos…); otherwise the city-wide chain. A new tracked table only follows this convention.
    """

    __ledger__: ClassVar[bool] = True
    __ledger_via__: ClassVar[str | None] = None


def fk(target: str, nullable: bool = False) -> Mapped:
    return mapped_column(ForeignKey(target), nullable=nullable, index=True)
