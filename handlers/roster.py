"""Real-name roster import (R04): all or nothing, every bad row reported at once."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers import approval, hygiene
from handlers.texts import classes as texts
from handlers.errors import Refusal
from handlers.idcard import InvalidIdNumber, check_gender, parse_id_number
from storage import ledger
from handlers.policy import load_profile
from storage.models import Enrollment, ImportFile, Klass, Person
from storage.tables import Row, TableError, read_rows
from storage.types import utcnow

# Column → the headers institutions use for it (the first is the one PRODUCT.md names).
HEADERS = {
    "name": ("姓名",),
    "gender": ("性别",),
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "身份证"),
    "phone": ("手机号", "手机号码", "联系电话", "电话"),
    "category": ("身份类别", "人员类别", "人员身份"),
}
HEADER_SEARCH_ROWS = 5  # a title row or two may stand above the header
GENDERS = {"男": "男", "女": "女", "男性": "男", "女性": "女"}
MOBILE = re.compile(r"1\d{10}")
MAX_LENGTH = {"name": 100, "gender": 2, "id_number": 18, "phone": 20, "category": 100}  # the columns' sizes


@dataclass(frozen=True)
class RowError:
    data_row: int  # 1 = the first row under the header
    sheet_row: int  # as the spreadsheet numbers it
    column: str
    reason: str

    def __str__(self) -> str:
        return texts.ROSTER_ROW_ERROR.format(data_row=self.data_row, sheet_row=self.sheet_row,
                                             column=self.column, reason=self.reason)


class RosterError(Refusal):
    """The roster was refused; ``errors`` lists every bad row."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__("\n".join([texts.ROSTER_REJECTED.format(count=len(errors))] + [str(e) for e in errors]))


@dataclass(frozen=True)
class Entry:
    data_row: int
    sheet_row: int
    name: str
    gender: str
    id_number: str
    phone: str
    category: str


def _header(rows: list[Row]) -> tuple[int, dict[str, int]]:
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found = {key: next((i for i, cell in enumerate(row.cells) if cell in names), None)
                 for key, names in HEADERS.items()}
        if found["name"] is not None and found["id_number"] is not None:
            missing = [HEADERS[k][0] for k, v in found.items() if v is None]
            if missing:
                raise Refusal(texts.ROSTER_MISSING_COLUMNS.format(columns="、".join(missing)))
            return index, found  # type: ignore[return-value]
    raise Refusal(texts.ROSTER_NO_HEADER.format(columns="、".join(names[0] for names in HEADERS.values())))


def parse_roster(rows: list[Row], today: date) -> tuple[list[Entry], list[RowError]]:
    """Check every row on its own and against the others in the file."""
    header_index, columns = _header(rows)
    entries: list[Entry] = []
    errors: list[RowError] = []
    first_row_of_id: dict[str, int] = {}
    for data_row, row in enumerate(rows[header_index + 1:], start=1):
        def cell(key: str) -> str:
            i = columns[key]
            return row.cells[i] if i < len(row.cells) else ""

        def bad(key: str, reason: str) -> None:
            errors.append(RowError(data_row, row.number, HEADERS[key][0], reason))

        errors_before = len(errors)
        values = {key: cell(key) for key in HEADERS}
        unfit = False
        for key, value in values.items():
            if not value:
                bad(key, texts.ROSTER_MISSING_VALUE)
            elif (problem := hygiene.problem(value, "", MAX_LENGTH[key])) is not None:
                bad(key, problem)  # invisible characters or too long: nothing else about the row matters
                unfit = True
        if unfit:
            continue
        gender = GENDERS.get(values["gender"])
        if values["gender"] and gender is None:
            bad("gender", texts.ROSTER_BAD_GENDER.format(value=values["gender"]))
        if values["phone"] and not MOBILE.fullmatch(values["phone"]):
            bad("phone", texts.ROSTER_BAD_PHONE.format(value=values["phone"]))
        number = values["id_number"].upper()
        if number:
            if columns["id_number"] in row.numeric:
                bad("id_number", texts.ROSTER_ID_STORED_AS_NUMBER)
                continue
            try:
                info = parse_id_number(number, today=today)
                if gender:
                    check_gender(info, gender)
            except InvalidIdNumber as exc:
                bad("id_number", str(exc))
                continue
            if number in first_row_of_id:
                bad("id_number", texts.ROSTER_DUPLICATE_IN_FILE.format(row=first_row_of_id[number]))
                continue
            first_row_of_id[number] = data_row
        if len(errors) == errors_before:
            entries.append(Entry(data_row, row.number, values["name"], gender or "", number, values["phone"],
                                 values["category"]))
    if not rows[header_index + 1:]:
        raise Refusal(texts.ROSTER_EMPTY)
    return entries, errors


def _conflicts(s: Session, klass: Klass, entries: list[Entry], *, add_only: bool) -> tuple[list[RowError], set[str]]:
    """Rows the database refuses (identity differs from the stored person, or already enrolled), and the
    ID numbers already on this class's roster that an add-only import skips."""
    errors, already = [], set()
    numbers = [e.id_number for e in entries]
    persons = {p.id_number: p for p in s.scalars(select(Person).where(Person.id_number.in_(numbers)))}
    enrolled = s.execute(
        select(Person.id_number, Klass)
        .join(Enrollment, Enrollment.person_id == Person.id)
        .join(Klass, Klass.id == Enrollment.class_id)
        .where(Person.id_number.in_(numbers), Enrollment.removed.is_(False))
    ).all()
    for entry in entries:
        def bad(column: str, reason: str) -> None:
            errors.append(RowError(entry.data_row, entry.sheet_row, column, reason))

        person = persons.get(entry.id_number)
        if person and (person.name, person.gender) != (entry.name, entry.gender):
            bad("姓名", texts.ROSTER_IDENTITY_DIFFERS.format(name=person.name, gender=person.gender))
        for number, other in enrolled:
            if number != entry.id_number:
                continue
            if other.id == klass.id and add_only:
                already.add(number)
            elif other.id == klass.id:
                bad("身份证号", texts.ROSTER_ALREADY_IN_CLASS)
            elif other.start_date <= klass.end_date and klass.start_date <= other.end_date:
                bad("身份证号", texts.ROSTER_IN_OVERLAPPING_CLASS.format(
                    code=other.code, name=other.name, start=other.start_date, end=other.end_date))
    return errors, already


def import_roster(s: Session, klass: Klass, data: bytes, filename: str, *, actor: str, today: date,
                  add_only: bool = False, now: datetime | None = None) -> int:
    """Import a roster file into ``klass``; return the number of trainees added.

    Raises ``RosterError`` naming every bad row; nothing is written unless every row is good. With
    ``add_only`` a trainee already on this class's roster (same ID number, same name and gender) is
    skipped instead of refused, so an institution can re-import its updated list. Trainees added to an
    approved class are roster changes the district notes before they count (R02, ``handlers.approval``).
    """
    limit = load_profile(klass.policy).limits.max_trainees
    try:
        rows = read_rows(data, filename, max_rows=limit + HEADER_SEARCH_ROWS + 1)
    except TableError as exc:
        raise Refusal(str(exc)) from None
    header_index, _ = _header(rows)
    enrolled = s.scalar(select(func.count()).select_from(Enrollment)
                        .where(Enrollment.class_id == klass.id, Enrollment.removed.is_(False))) or 0
    incoming = len(rows) - header_index - 1
    if (incoming if add_only else enrolled + incoming) > limit:
        raise Refusal(texts.ROSTER_TOO_MANY.format(
            count=f"{incoming}" if len(rows) < limit + HEADER_SEARCH_ROWS + 1 else f"超过 {incoming}",
            enrolled=enrolled, limit=limit))
    entries, errors = parse_roster(rows, today)
    conflicts, already = _conflicts(s, klass, entries, add_only=add_only)
    errors += conflicts
    entries = [e for e in entries if e.id_number not in already]
    if add_only and enrolled + len(entries) > limit:
        raise Refusal(texts.ROSTER_TOO_MANY.format(count=len(entries), enrolled=enrolled, limit=limit))
    if errors:
        raise RosterError(sorted(errors, key=lambda e: (e.data_row, e.column)))
    sha = hashlib.sha256(data).hexdigest()
    source = f"file:{sha}"
    record = ImportFile(kind="roster", class_id=klass.id, filename=filename, sha256=sha, rows=len(entries),
                        imported_by=actor)
    s.add(record)
    ledger.append(s, "import.roster", actor=actor, source=source, subject=record, class_code=klass.code)
    persons = {p.id_number: p for p in s.scalars(select(Person).where(Person.id_number.in_([e.id_number for e in entries])))}
    for entry in entries:
        person = persons.get(entry.id_number)
        if person is None:
            person = Person(name=entry.name, gender=entry.gender, id_number=entry.id_number, phone=entry.phone)
            s.add(person)
            ledger.append(s, "person.created", actor=actor, source=source, subject=person, class_code=klass.code)
        enrollment = Enrollment(class_id=klass.id, person_id=person.id, identity_category=entry.category)
        s.add(enrollment)
        ledger.append(s, "enrollment.created", actor=actor, source=source, subject=enrollment, class_code=klass.code)
        if approval.after_approval(klass):
            approval.record_roster_change(s, klass, enrollment, approval.ADD, reason=texts.ROSTER_ADDED_BY_FILE.format(
                filename=filename), actor=actor, source=source, now=now or utcnow())
    return len(entries)
