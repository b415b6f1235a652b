"""Who may see what, and who may change what: the one place the admin's role scoping is decided.

Every page, export and API endpoint asks this module; nothing else filters classes by role.

Seeing (roles of ``dingclass user add``):

* ``admin`` and ``city`` see every class;
* ``district`` sees the classes of its district (旗县区);
* ``institution`` sees the classes of its institution;
* ``teacher`` sees, within its institution, the classes assigned to that login
  (``dingclass user classes NAME --add CODE``): a stable link, never a match of names.

Anything outside the scope does not exist for the user: :class:`OutOfScope` (the admin answers 404,
so the existence of another district's class is not revealed).

Changing (R02): a class is approved (submitted → approved) or returned (submitted → returned) by its
district or an admin, submitted again (returned → submitted) by its institution or an admin, filed
(approved → filed) by the city or an admin; a study photo flagged as a duplicate (R08) is reviewed by
a supervisor (admin, city, district) — not by the institution, which is paid per qualified trainee and
so should not clear its own flags. A refused change is :class:`Forbidden` (403).

Identity data (R04): ID numbers and phones are masked everywhere except on a trainee's own page, where
admin and district users — who check identities — see them in full, and in the documents that are
submitted with them (合格名单, subsidy workbook, certificates: R19, R20), which every role but the teacher
gets in full, each download recorded in the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, false, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from handlers.classes import TRANSITIONS
from handlers.timetable import first_with_rows
from storage.models import ClassStatus, Enrollment, Klass, Photo, TeacherClass, User

ADMIN, CITY, DISTRICT, INSTITUTION, TEACHER = "admin", "city", "district", "institution", "teacher"
SUPERVISORS = (ADMIN, CITY, DISTRICT)


class OutOfScope(LookupError):
    """The thing asked for is not there for this user (404)."""


class Forbidden(PermissionError):
    """The user sees the thing but may not do this to it (403); ``action`` names what was refused."""

    def __init__(self, action: str) -> None:
        super().__init__(action)
        self.action = action


@dataclass(frozen=True)
class Viewer:
    user_id: int
    name: str
    role: str
    institution_id: int | None
    district_id: int | None

    @classmethod
    def of(cls, user: User) -> Viewer:
        return cls(user.id, user.name, user.role, user.institution_id, user.district_id)

    @property
    def actor(self) -> str:
        """How the ledger names this user."""
        return f"user:{self.name}"

    @property
    def sees_everything(self) -> bool:
        return self.role in (ADMIN, CITY)


def teacher_class_ids(s: Session, viewer: Viewer) -> Select:
    """A teacher's classes: those assigned to this login (``teacher_classes``), in its institution.

    The link is explicit (``dingclass user classes``), never a match of display names: two teachers
    called 王芳 in one institution each see only their own classes."""
    return (select(TeacherClass.class_id).join(Klass, Klass.id == TeacherClass.class_id)
            .where(TeacherClass.user_id == viewer.user_id, Klass.institution_id == viewer.institution_id))


def class_condition(s: Session, viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on ``Klass`` that keeps exactly the classes the viewer may see."""
    if viewer.sees_everything:
        return true()
    if viewer.role == DISTRICT and viewer.district_id is not None:
        return Klass.district_id == viewer.district_id
    if viewer.role == INSTITUTION and viewer.institution_id is not None:
        return Klass.institution_id == viewer.institution_id
    if viewer.role == TEACHER and viewer.institution_id is not None:
        return Klass.id.in_(teacher_class_ids(s, viewer))
    return false()


def class_ids(s: Session, viewer: Viewer) -> Select | None:
    """A SELECT of the visible class ids, or ``None`` for every class (admin, city)."""
    if viewer.sees_everything:
        return None
    return select(Klass.id).where(class_condition(s, viewer))


def visible_classes(s: Session, viewer: Viewer) -> list[Klass]:
    return list(s.scalars(select(Klass).where(class_condition(s, viewer)).order_by(Klass.start_date, Klass.code)))


def class_for(s: Session, viewer: Viewer, code: str) -> Klass:
    """The class with this code if the viewer may see it, else OutOfScope (same as not existing)."""
    return class_row_for(s, viewer, code)[0]


def class_row_for(s: Session, viewer: Viewer, code: str, *columns: ColumnElement, timetable: bool = False) -> tuple:
    """:func:`class_for` and ``columns`` (expressions correlated with the class) read in the same statement:
    ``(klass, *values)``; a request saves a round trip per value it needs with the class. ``timetable``: the
    class's timetable rows come in that statement too (``timetable.first_with_rows``)."""
    stmt = select(Klass, *columns).where(Klass.code == code, class_condition(s, viewer))
    row = first_with_rows(s, stmt) if timetable else s.execute(stmt).first()
    if row is None:
        raise OutOfScope(code)
    return row


def enrollment_for(s: Session, viewer: Viewer, klass: Klass, enrollment_id: int) -> Enrollment:
    enrollment = s.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.class_id != klass.id:
        raise OutOfScope(enrollment_id)
    return enrollment


def photo_for(s: Session, viewer: Viewer, photo_id: int) -> tuple[Photo, Klass]:
    row = s.execute(
        select(Photo, Klass)
        .join(Enrollment, Enrollment.id == Photo.enrollment_id)
        .join(Klass, Klass.id == Enrollment.class_id)
        .where(Photo.id == photo_id, class_condition(s, viewer))
    ).first()
    if row is None:
        raise OutOfScope(photo_id)
    return row[0], row[1]


# --- changes --------------------------------------------------------------------------------------


def may_change_status(viewer: Viewer, klass: Klass, to: str) -> bool:
    """R02: district (of the class) or admin approve or return; the institution (of the class) or admin submit
    again; city or admin file; nobody else moves a class."""
    if to in (ClassStatus.APPROVED, ClassStatus.RETURNED):
        return viewer.role == ADMIN or (viewer.role == DISTRICT and viewer.district_id == klass.district_id)
    if to == ClassStatus.SUBMITTED:
        return viewer.role == ADMIN or (viewer.role == INSTITUTION and viewer.institution_id == klass.institution_id)
    if to == ClassStatus.FILED:
        return viewer.role in (ADMIN, CITY)
    return False


def may_decide_changes(viewer: Viewer, klass: Klass) -> bool:
    """R01/R02: roster changes after approval are noted, and plan changes approved or refused, by whoever approves
    the class: its district or an admin."""
    return may_change_status(viewer, klass, ClassStatus.APPROVED)


def check_decide_changes(viewer: Viewer, klass: Klass) -> None:
    if not may_decide_changes(viewer, klass):
        raise Forbidden("changes:decide")


def allowed_transitions(viewer: Viewer, klass: Klass) -> list[str]:
    """The status moves the viewer may make on the class now (for showing buttons)."""
    return [to for (frm, to) in TRANSITIONS if frm == klass.status and may_change_status(viewer, klass, to)]


def check_status_change(viewer: Viewer, klass: Klass, to: str) -> None:
    if not may_change_status(viewer, klass, to):
        raise Forbidden(f"status:{to}")


def may_review_photos(viewer: Viewer) -> bool:
    """R08 reviews are for supervisors (admin, city, district), not the institution that is paid."""
    return viewer.role in SUPERVISORS


def may_unbind(viewer: Viewer) -> bool:
    """Undoing a wrong binding (a class's group, a trainee's DingTalk account): the district that supervises,
    the institution that runs the class, or an admin; a teacher uses 解绑 in the chat as class teacher."""
    return viewer.role in (ADMIN, DISTRICT, INSTITUTION)


def check_unbind(viewer: Viewer) -> None:
    if not may_unbind(viewer):
        raise Forbidden("binding:undo")


def check_photo_review(viewer: Viewer) -> None:
    if not may_review_photos(viewer):
        raise Forbidden("photo:review")


def may_teach(viewer: Viewer) -> bool:
    """R10: homework checks and spot checks are the institution's work: its users, its teachers, admins."""
    return viewer.role in (ADMIN, INSTITUTION, TEACHER)


def check_teaching(viewer: Viewer) -> None:
    if not may_teach(viewer):
        raise Forbidden("teaching")


def sees_full_identity(viewer: Viewer) -> bool:
    """R04 data in full (ID number, phone) — on the trainee page only — for admin and district users."""
    return viewer.role in (ADMIN, DISTRICT)


def sees_full_id_numbers(viewer: Viewer) -> bool:
    """R19/R20: the 合格名单, the subsidy workbook and the certificates carry ID numbers in full for the roles
    that submit or check them — admin, city, district and the institution (all only for classes they see);
    a teacher's copy is masked. Every such download is recorded in the ledger (``handlers.export_log``)."""
    return viewer.role in (ADMIN, CITY, DISTRICT, INSTITUTION)


def may_issue_certificates(viewer: Viewer) -> bool:
    """R20: certificate numbers are issued — and revoked — by the city (001 §一(一)3: 派发结业证书编号)."""
    return viewer.role == CITY


def check_certificates(viewer: Viewer) -> None:
    if not may_issue_certificates(viewer):
        raise Forbidden("certificates")


def may_set_account(viewer: Viewer, institution_id: int) -> bool:
    """R19: an institution's bank account is set by the institution itself or an admin."""
    return viewer.role == ADMIN or (viewer.role == INSTITUTION and viewer.institution_id == institution_id)


def check_set_account(viewer: Viewer, institution_id: int) -> None:
    if not may_set_account(viewer, institution_id):
        raise Forbidden("institution:account")


def sees_ledger_head(viewer: Viewer) -> bool:
    """The chain head is what a supervisor copies out of the system to check the ledger against later;
    only the admin and the supervising bureaus (city, district) are shown it — an institution or a
    teacher, whose records the ledger holds, is told only whether it is intact."""
    return viewer.role in (ADMIN, CITY, DISTRICT)


def runs_ledger_verification(viewer: Viewer) -> bool:
    """Starting a verification reads the whole database: the admin's decision."""
    return viewer.role == ADMIN


def may_retry_outbox(viewer: Viewer) -> bool:
    """Putting a message the bot gave up on back in the queue: the admin's decision (everyone sees the
    stuck messages of their own classes)."""
    return viewer.role == ADMIN


def check_retry_outbox(viewer: Viewer) -> None:
    if not may_retry_outbox(viewer):
        raise Forbidden("outbox:retry")


def sees_ledger_details(viewer: Viewer) -> bool:
    """The ledger check's problem list names rows of every class and quotes their values (ID numbers
    included), so only an admin reads it; everyone else sees whether the ledger is intact."""
    return viewer.role == ADMIN


def may_supervise(viewer: Viewer, klass: Klass) -> bool:
    """R13–R15: roll calls, inspections and trainee marks are the supervisors' (city, the class's district,
    admin); the institution being checked does not check itself."""
    if viewer.role in (ADMIN, CITY):
        return True
    return viewer.role == DISTRICT and viewer.district_id == klass.district_id


def check_supervise(viewer: Viewer, klass: Klass) -> None:
    if not may_supervise(viewer, klass):
        raise Forbidden("supervise")


def inspection_level(viewer: Viewer) -> str:
    """The city's or the district's check (R14); an admin records on the city's behalf."""
    return "district" if viewer.role == DISTRICT else "city"


def may_manage_users(viewer: Viewer) -> bool:
    """Accounts (disable, enable, new password, unlock, revoke tokens) are the system administrator's."""
    return viewer.role == ADMIN


def check_manage_users(viewer: Viewer) -> None:
    if not may_manage_users(viewer):
        raise Forbidden("users")
