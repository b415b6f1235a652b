"""R20 from the command line: certificate numbers for the qualified list, never reused, and a PDF with Chinese text."""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2
from sqlalchemy import select, text

from bot.samples import ROSTER
from storage.models import Certificate, CertificateCounter, Enrollment, Person
from bot.samples import PLAN, sample_plan_text


def past_plan(folder, start: str, end: str) -> str:
    """The sample plan moved to ``start``..``end``, with its signed commitment letter beside it (R01, R02)."""
    import shutil
    from datetime import date

    shutil.copy(PLAN.parent / "commitment.pdf", Path(folder) / "commitment.pdf")
    path = Path(folder) / "plan.toml"
    path.write_text(sample_plan_text(date.fromisoformat(start), date.fromisoformat(end)), encoding="utf-8")
    return str(path)

CODE = "BT-2026-001"


def approve_from_the_start(cli, factory, code: str = CODE) -> None:
    """`class approve`, dated (a correction in the ledger) before the class began, so that its minutes count (R02:
    only days from the approval on count) — these classes ran in the past."""
    from datetime import datetime, timezone

    from storage import ledger
    from storage.models import ClassTransition, Klass

    cli("class", "approve", code)
    with factory.begin() as s:
        klass = s.scalar(select(Klass).where(Klass.code == code))
        row = s.scalar(select(ClassTransition).where(ClassTransition.class_id == klass.id,
                                                     ClassTransition.to_status == "approved"))
        row.at = datetime(2025, 3, 1, tzinfo=timezone.utc)
        ledger.append(s, "class.corrected", actor="test", source="test", subject=row, class_code=code,
                      reason="approved before the class began")


def pdf_text(path) -> list[str]:
    """The text of every page, read back out of the PDF (what a person sees when it prints)."""
    doc = pypdfium2.PdfDocument(str(path))
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def finished_class(cli, factory, tmp_path, approve=True) -> list[tuple[str, str]]:
    """A class that ended in March 2025; its first three trainees studied exactly enough (1440 of 1800
    minutes = 80%), the rest nothing. Returns (name, ID number) of the roster in order."""
    cli("class", "create", past_plan(tmp_path, "2025-03-03", "2025-03-14"), "--roster", str(ROSTER))
    if approve:
        approve_from_the_start(cli, factory)
    with factory() as s:
        people = s.execute(select(Person.name, Person.id_number).order_by(Person.id)).all()
    minutes = tmp_path / "minutes.csv"
    rows = ["姓名,日期,直播时长（分钟）,回看时长（分钟）"] + [f"{name},2025-03-03,1200,240" for name, _ in people[:3]]
    minutes.write_text("\n".join(rows) + "\n", encoding="utf-8")
    cli("hours", "import", CODE, str(minutes))
    return [tuple(p) for p in people]


def test_R20_qualified_trainees_get_unique_numbers_and_a_printable_chinese_certificate(cli, factory, tmp_path):
    people = finished_class(cli, factory, tmp_path)
    cli("trainee", "mark", CODE, people[2][0], "--disqualified", "--reason", "照片与本人不符")
    out = cli("certificates", "issue", CODE, "--out", str(tmp_path / "certs")).output
    assert len(re.findall(r"\d{4}-\d{6}", out)) == 2, out
    cli("certificates", "revoke", re.findall(r"\d{4}-\d{6}", out)[1], "--reason", "录入错误")
    cli("certificates", "issue", CODE)
    archived = cli("archive", CODE, "--out", str(tmp_path / "dossier")).output  # R18: the certificates go in too
    zips = list((tmp_path / "dossier").glob("*.zip"))
    assert len(zips) == 1, archived
    assert "校验无误" in cli("verify", str(zips[0])).output
    numbers = re.findall(r"\d{4}-\d{6}", out)
    assert len(numbers) == 2 and len(set(numbers)) == 2, out
    assert people[0][0] in out and people[1][0] in out and people[2][0] not in out  # disqualified: no number
    files = sorted(p.name for p in (tmp_path / "certs").iterdir())
    assert f"{CODE}-培训证明.pdf" in files and len(files) == 3
    pages = pdf_text(tmp_path / "certs" / f"{CODE}-培训证明.pdf")
    assert len(pages) == 2
    first = pages[0]
    for expected in ("培训证明", numbers[0], people[0][0], people[0][1], "育婴员", "2025年03月03日", "2025年03月14日",
                     "包头市鹿城职业培训学校", "32.0 课时（应学 40 课时）"):
        assert expected in first, (expected, first)
    one = next(p for p in files if p.startswith(numbers[1]))
    assert people[1][1] in pdf_text(tmp_path / "certs" / one)[0]
    # a second run issues nothing new
    again = cli("certificates", "issue", CODE).output
    assert "新发放证书编号 0 个，此前已发放 2 个" in again
    assert "台账完整" in cli("verify").output


def test_R20_a_revoked_number_is_never_issued_again(cli, factory, tmp_path):
    finished_class(cli, factory, tmp_path)
    first = re.findall(r"\d{4}-\d{6}", cli("certificates", "issue", CODE).output)
    assert len(first) == 3
    revoked = first[0]
    out = cli("certificates", "revoke", revoked, "--reason", "姓名录入错误").output
    assert revoked in out and "姓名录入错误" in out
    assert "不重复撤销" in cli("certificates", "revoke", revoked, "--reason", "再来一次", ok=False).output
    reissued = re.findall(r"\d{4}-\d{6}", cli("certificates", "issue", CODE).output)
    assert len(reissued) == 1 and reissued[0] not in first  # the same trainee, a new number
    # even if someone rewinds the counter with SQL, the database refuses to issue a taken number again
    with factory.begin() as s:
        s.execute(text("UPDATE certificate_counters SET last = 0"))
    cli("certificates", "revoke", reissued[0], "--reason", "再次录入错误")
    refused = cli("certificates", "issue", CODE, ok=False).output
    assert "已经发放过" in refused and "没有发放任何编号" in refused
    with factory() as s:
        rows = s.scalars(select(Certificate).order_by(Certificate.id)).all()
        assert len({c.number for c in rows}) == len(rows) == 4
        old = next(c for c in rows if c.number == revoked)
        assert old.revoked and old.revoked_reason == "姓名录入错误" and old.revoked_by.startswith("cli:")
    verify = cli("verify", ok=False).output  # the SQL rewind is seen by the ledger
    assert "certificate_counters" in verify


def test_R20_no_numbers_for_a_class_that_is_not_approved_or_not_over(cli, factory, tmp_path):
    finished_class(cli, factory, tmp_path, approve=False)
    refused = cli("certificates", "issue", CODE, ok=False).output
    assert "尚未审核通过" in refused and "R02" in refused
    with factory() as s:
        assert s.scalar(select(Certificate.id)) is None and s.scalar(select(CertificateCounter.id)) is None
    assert "没有编号为 2026-999999 的证书" in cli("certificates", "revoke", "2026-999999", "--reason", "x", ok=False).output


def test_R20_two_issuers_at_once_never_draw_the_same_number(cli, factory, tmp_path):
    """Two classes issued in parallel (two threads, two transactions): every number is drawn once."""
    import threading
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from handlers import certificates, classes

    finished_class(cli, factory, tmp_path)
    second = tmp_path / "second"
    second.mkdir()
    plan = Path(past_plan(second, "2025-04-07", "2025-04-18"))
    plan.write_text(plan.read_text(encoding="utf-8").replace(CODE, "BT-2026-002"), encoding="utf-8")
    cli("class", "create", str(plan), "--roster", str(ROSTER))  # the same 30 people in a later class
    approve_from_the_start(cli, factory, "BT-2026-002")
    minutes = second / "minutes.csv"  # the first three trainees qualify there too
    minutes.write_text((tmp_path / "minutes.csv").read_text(encoding="utf-8").replace("2025-03-03", "2025-04-07"),
                       encoding="utf-8")
    cli("hours", "import", "BT-2026-002", str(minutes))
    now = datetime(2026, 12, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    start, errors = threading.Barrier(2), []

    def issue(code: str) -> None:
        try:
            start.wait(timeout=30)
            with factory.begin() as s:
                certificates.issue(s, classes.get_class(s, code), actor="test", source="test", now=now)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=issue, args=(code,)) for code in (CODE, "BT-2026-002")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    with factory() as s:
        drawn = sorted(s.scalars(select(Certificate.number)))
        assert drawn == [f"2026-{n:06d}" for n in range(1, 7)]
        assert s.scalar(select(CertificateCounter.last)) == 6
    assert "台账完整" in cli("verify").output
