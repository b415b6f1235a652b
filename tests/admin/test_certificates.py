"""R20 in the admin and the API: the city's button, revocation, the PDF (full ID numbers, not for teachers)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

import pypdfium2
import pytest
from sqlalchemy import select

from storage import ledger, ledger_verify
from storage.models import Certificate, Enrollment, ImportFile, LedgerEvent, StudyMinutes
from tests.admin.conftest import Clients, make_app
from tests.admin.world import A, TZ, at

from .test_actions import post_form

PAGE = f"/classes/{A}"
AFTER_THE_END = datetime(2026, 12, 14, 10, 0, tzinfo=TZ)  # class A ran 12-01..12-12


def study(world, name: str, minutes: int) -> None:
    """``minutes`` more of live study for ``name`` on 12-03 (an imported file, in the ledger)."""
    with world.factory() as s:
        sha = hashlib.sha256(f"extra-{name}".encode()).hexdigest()
        file = ImportFile(kind="minutes", class_id=s.get(Enrollment, world.enrollments[name]).class_id,
                          filename=f"extra-{name}.csv", sha256=sha, rows=1, imported_by="test")
        s.add(file)
        ledger.append(s, "import.minutes", actor="test", source=f"file:{sha}", subject=file, class_code=A)
        row = StudyMinutes(enrollment_id=world.enrollments[name], day=date(2026, 12, 3), live_minutes=minutes,
                           replay_minutes=0, source=f"file:{sha}", recorded_at=at("20:00", date(2026, 12, 3)))
        s.add(row)
        ledger.append(s, "minutes.imported", actor="test", source=row.source, subject=row, class_code=A)
        s.commit()


@pytest.fixture
def ended(fresh_world):
    """Class A after its end: 王秀英 (144 + 180 + 1200) and 李建国 (143 + 144 + 1200) are qualified."""
    study(fresh_world, "王秀英", 1200)
    study(fresh_world, "李建国", 1200)
    return Clients(make_app(fresh_world.factory, fresh_world.data_dir, now=AFTER_THE_END), fresh_world)


def numbers(world) -> list[str]:
    with world.factory() as s:
        return list(s.scalars(select(Certificate.number).order_by(Certificate.number)))


def test_R20_only_the_city_sees_and_presses_the_issue_button(fresh_world, ended):
    for user in ("admin", "dist_k", "inst_lc", "王芳"):
        assert "为合格学员发放证书编号" not in ended[user].get(PAGE).get_data(as_text=True)
        assert post_form(ended[user], PAGE, f"{PAGE}/certificates", {}).status_code == 403
    assert numbers(fresh_world) == []
    page = ended["city"].get(PAGE).get_data(as_text=True)
    assert "为合格学员发放证书编号" in page
    response = post_form(ended["city"], PAGE, f"{PAGE}/certificates", {})
    assert response.status_code == 303
    issued = numbers(fresh_world)
    assert issued == ["2026-000001", "2026-000002"]
    page = ended["city"].get(PAGE).get_data(as_text=True)
    assert "新发放证书编号 2 个" in page and "2026-000002" in page and "王秀英" in page
    api = ended["inst_lc"].get(f"/api/v1/classes/{A}/certificates",
                               headers={"Authorization": f"Bearer {fresh_world.tokens['inst_lc']}"}).get_json()
    assert [(c["number"], c["name"], c["revoked"]) for c in api] == [("2026-000001", "王秀英", False),
                                                                     ("2026-000002", "李建国", False)]
    assert ended["dist_q"].get(f"/api/v1/classes/{A}/certificates",
                               headers={"Authorization": f"Bearer {fresh_world.tokens['dist_q']}"}).status_code == 404


def test_R20_before_the_end_of_the_class_the_city_is_told_why_not(fresh_world, fresh_clients):
    response = post_form(fresh_clients["city"], PAGE, f"{PAGE}/certificates", {})
    assert response.status_code == 303
    assert "2026-12-12 才结束" in fresh_clients["city"].get(PAGE).get_data(as_text=True)
    assert numbers(fresh_world) == []


def test_R20_the_city_revokes_and_the_number_stays_taken(fresh_world, ended):
    post_form(ended["city"], PAGE, f"{PAGE}/certificates", {})
    response = post_form(ended["city"], PAGE, f"{PAGE}/certificates/revoke", {"number": "2026-000001", "reason": "身份核验有误"})
    assert response.status_code == 303
    page = ended["city"].get(PAGE).get_data(as_text=True)
    assert "已撤销" in page and "身份核验有误" in page
    post_form(ended["city"], PAGE, f"{PAGE}/certificates", {})
    assert numbers(fresh_world) == ["2026-000001", "2026-000002", "2026-000003"]  # 王秀英 again, a new number
    assert post_form(ended["dist_k"], PAGE, f"{PAGE}/certificates/revoke",
                     {"number": "2026-000002", "reason": "x"}).status_code == 403


def test_R20_the_certificate_pdf_is_chinese_has_full_id_numbers_and_each_download_is_recorded(fresh_world, ended):
    post_form(ended["city"], PAGE, f"{PAGE}/certificates", {})
    assert ended["王芳"].get(f"{PAGE}/certificates.pdf").status_code == 403  # a teacher: no full ID numbers
    response = ended["inst_lc"].get(f"{PAGE}/certificates.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    doc = pypdfium2.PdfDocument(response.data)
    pages = [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    doc.close()
    assert len(pages) == 2
    assert "培训证明" in pages[0] and "王秀英" in pages[0] and fresh_world.id_numbers["王秀英"] in pages[0]
    assert "2026-000002" in pages[1] and fresh_world.id_numbers["李建国"] in pages[1]
    one = ended["dist_k"].get(f"{PAGE}/certificates/2026-000002.pdf")
    assert one.status_code == 200 and "filename*=UTF-8''2026-000002-" in one.headers["Content-Disposition"]
    doc = pypdfium2.PdfDocument(one.data)
    assert len(doc) == 1 and "李建国" in doc[0].get_textpage().get_text_range()
    doc.close()
    assert ended["dist_k"].get(f"{PAGE}/certificates/2026-000009.pdf").status_code == 404
    assert ended["王芳"].get(f"{PAGE}/certificates/2026-000002.pdf").status_code == 403
    with fresh_world.factory() as s:
        events = s.scalars(select(LedgerEvent).where(LedgerEvent.type == "export.downloaded")
                           .order_by(LedgerEvent.seq)).all()
    assert [(e.actor, e.class_code) for e in events] == [("user:inst_lc", A), ("user:dist_k", A)]
    with fresh_world.factory() as s:
        assert ledger_verify.verify(s).ok
