"""R19 from the command line: the bank account, refusals with their reasons, and the package a district receives."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime, timezone

from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select

from bot.samples import ROSTER
from storage import ledger
from storage.files import FileStore
from storage.models import (
    Answer,
    Assignment,
    EligibilityChange,
    Enrollment,
    InstitutionAccount,
    Klass,
    LedgerEvent,
    Person,
    Photo,
    QaSession,
    Question,
    Submission,
    SubmissionCheck,
)
from tests.cli.test_certificates import approve_from_the_start, past_plan

CODE = "BT-2026-001"
INSTITUTION = "包头市鹿城职业培训学校"
T = datetime(2025, 3, 3, 2, 0, tzinfo=timezone.utc)
DAY = date(2025, 3, 3)


def jpeg(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (seed * 40 % 256, 90, 160)).save(buffer, "JPEG")
    return buffer.getvalue()


def ended_class(cli, factory, tmp_path) -> list[tuple[int, str, str]]:
    """The sample class (standard 1200 yuan) run 2025-03-03..14 and approved: the first 25 of its 30 trainees
    studied 1440 of the 1800 minutes (80%: qualified), the others nothing. Trainee 1 has two counted photos,
    one homework handed in and checked, one question answered. Returns (enrollment, name, ID) in roster order."""
    cli("class", "create", past_plan(tmp_path, "2025-03-03", "2025-03-14"), "--roster", str(ROSTER))
    approve_from_the_start(cli, factory)
    with factory() as s:
        people = [tuple(r) for r in s.execute(select(Enrollment.id, Person.name, Person.id_number)
                                             .join(Person, Person.id == Enrollment.person_id).order_by(Enrollment.id))]
    minutes = tmp_path / "minutes.csv"
    minutes.write_text("\n".join(["姓名,日期,直播时长（分钟）,回看时长（分钟）"]
                                 + [f"{name},2025-03-03,1200,240" for _, name, _ in people[:25]]) + "\n", encoding="utf-8")
    cli("hours", "import", CODE, str(minutes))
    files = FileStore(tmp_path / "var" / "files")
    first = people[0][0]
    with factory() as s:
        class_id = s.get(Enrollment, first).class_id

        def add(row, kind):
            s.add(row)
            ledger.append(s, kind, actor="test", source="test", subject=row, class_code=CODE)
            return row

        for n, day in enumerate((date(2025, 3, 3), date(2025, 3, 4))):
            add(Photo(enrollment_id=first, day=day, sha256=files.put(jpeg(n)), status="ok", counted=True,
                      received_at=T, source=f"msg:p{n}"), "photo.received")
        a = add(Assignment(class_id=class_id, number=1, content="婴儿抚触步骤", day=DAY, posted_by="staff:1:张丽华",
                           posted_at=T, source="msg:a1"), "homework.posted")
        sub = add(Submission(assignment_id=a.id, enrollment_id=first, content="已完成", day=DAY, submitted_at=T,
                             source="msg:a2"), "homework.submitted")
        add(SubmissionCheck(submission_id=sub.id, comment="很好", day=DAY, checked_by="staff:1:张丽华", checked_at=T,
                            source="msg:a3"), "homework.checked")
        qa = add(QaSession(class_id=class_id, number=1, day=DAY, opened_by="staff:1:张丽华", started_at=T,
                           source="msg:q0"), "qa.opened")
        q = add(Question(class_id=class_id, number=1, qa_session_id=qa.id, enrollment_id=first, content="水温多少合适",
                         day=DAY, asked_at=T, source="msg:q1"), "question.asked")
        add(Answer(question_id=q.id, content="37到40度", day=DAY, answered_by="staff:1:张丽华", answered_at=T,
                   source="msg:q2"), "question.answered")
        s.commit()
    return people


def test_R19_the_bank_account_is_set_checked_and_recorded(cli, factory, tmp_path):
    cli("class", "create", past_plan(tmp_path, "2025-03-03", "2025-03-14"))
    refused = cli("institution", "account", INSTITUTION, "--bank", "中国工商银行包头昆都仑支行", "--account", "12ab",
                  ok=False).output
    assert "6 到 32 位数字" in refused
    assert "没有名为“某某学校”的培训机构" in cli("institution", "account", "某某学校", "--bank", "x", "--account",
                                                   "123456789", ok=False).output
    out = cli("institution", "account", INSTITUTION, "--bank", "中国工商银行包头昆都仑支行",
              "--account", "0602 0012 3456 7890 123").output
    assert "账号 0602001234567890123" in out
    with factory() as s:
        (row,) = s.scalars(select(InstitutionAccount)).all()
        assert (row.bank, row.account) == ("中国工商银行包头昆都仑支行", "0602001234567890123")
    assert "台账完整" in cli("verify").output


def test_R19_a_class_that_may_not_apply_is_refused_with_the_reason(cli, factory, tmp_path):
    cli("class", "create", past_plan(tmp_path, "2025-03-03", "2025-03-14"), "--roster", str(ROSTER))
    out = tmp_path / "p.zip"
    refused = cli("export", "subsidy", CODE, "--stage", "pre", "--out", str(out), "--publicity-start", "2026-09-29",
                  ok=False).output
    assert "尚未审核通过" in refused and "R02" in refused
    cli("class", "approve", CODE)
    refused = cli("export", "subsidy", CODE, "--stage", "pre", "--out", str(out), "--publicity-start", "2026-09-29",
                  ok=False).output
    assert "还没有开户银行账户" in refused and f"dingclass institution account {INSTITUTION}" in refused
    cli("institution", "account", INSTITUTION, "--bank", "工行", "--account", "123456789012")
    cli("trainee", "mark", CODE, next(iter(names(factory))), "--disqualified", "--reason", "代签")
    refused = cli("export", "subsidy", CODE, "--stage", "final", "--out", str(out), "--publicity-start", "2026-12-28",
                  ok=False).output
    assert "2027 年" in refused  # the 5th working day would be in a year the calendar does not know
    assert not out.exists()
    with factory() as s:
        assert s.scalar(select(LedgerEvent.seq).where(LedgerEvent.type == "export.downloaded")) is None


def names(factory) -> list[str]:
    with factory() as s:
        return list(s.scalars(select(Person.name).order_by(Person.id)))


def test_R19_the_package_holds_the_workbook_the_photos_the_account_and_the_amount(cli, factory, tmp_path):
    people = ended_class(cli, factory, tmp_path)
    cli("institution", "account", INSTITUTION, "--bank", "中国工商银行包头昆都仑支行", "--account", "0602001234567890123")
    cli("trainee", "mark", CODE, people[24][1], "--disqualified", "--reason", "照片与本人不符")
    out = tmp_path / "pre.zip"
    printed = cli("export", "subsidy", CODE, "--stage", "pre", "--out", str(out), "--publicity-start", "2026-09-29").output
    # registered: 30 − 1 disqualified = 29; baotou-2020 pre-pays 20%: 1200 × 29 × 20% = 6960.00
    assert "补贴标准 1200 元 × 实名注册学员 29 人 × 预拨比例 20% = 6960.00 元" in printed
    assert "至 2026-10-10 止" in printed  # 5 working days from 09-29 across National Day
    final = cli("export", "subsidy", CODE, "--stage", "final", "--out", str(tmp_path / "final.zip"),
                "--publicity-start", "2026-09-29").output
    # qualified: 25 − 1 disqualified = 24: 1200 × 24 − 6960 = 21840.00
    assert "补贴标准 1200 元 × 合格学员 24 人 − 已预拨 6960.00 元 = 21840.00 元" in final

    archive = zipfile.ZipFile(out)
    entries = archive.namelist()
    photos = sorted(n for n in entries if n.startswith("photos/"))
    assert len(photos) == 2 and all(re.fullmatch(rf"photos/001-{people[0][1]}/2025-03-0[34]-[0-9a-f]{{12}}\.jpg", p)
                                    for p in photos)
    assert archive.read(photos[0]) == jpeg(0)  # the stored copy, as it is
    book = load_workbook(io.BytesIO(archive.read("补贴申报表.xlsx")))
    assert book.sheetnames == ["申报汇总", "学员完成情况", "考勤台账第1周", "考勤台账第2周", "教师答疑", "作业布置与批改",
                               "学习照片", "公示名单"]
    summary = {row[0]: row[1] for row in book["申报汇总"].iter_rows(values_only=True) if row[0] and row[1] is not None}
    assert summary["开户银行"] == "中国工商银行包头昆都仑支行" and summary["银行账号"] == "0602001234567890123"
    assert summary["本次申报金额（元）"] == "6960.00" and summary["计入补贴的实名注册学员"] == 29
    trainees = [row for row in book["学员完成情况"].iter_rows(values_only=True) if isinstance(row[0], int)]
    assert len(trainees) == 30
    first = trainees[0]
    assert first[1:3] == (people[0][1], people[0][2])  # full ID number: the institution submits it
    assert first[7:9] == ("合格", "是") and first[11:16] == (1, 1, 1, 1, 2)
    assert trainees[24][8] == "否（数据异常，取消资格）" and trainees[29][8] == "否（未达合格标准）"
    qa = [row for row in book["教师答疑"].iter_rows(values_only=True) if row[0] == 1]
    assert qa[0][2] == people[0][1] and qa[0][4:7] == ("水温多少合适", "37到40度", "张丽华")
    homework = [row for row in book["作业布置与批改"].iter_rows(values_only=True) if row[0] == 1]
    assert homework[0][3] == "婴儿抚触步骤" and homework[0][5:8] == (1, 0, 1)
    index = [row for row in book["学习照片"].iter_rows(values_only=True) if isinstance(row[0], int)]
    assert sorted(row[4] for row in index) == photos
    publicity = [row for row in book["公示名单"].iter_rows(values_only=True) if row[0] == INSTITUTION]
    assert publicity[0][3:5] == (29, 24) and publicity[0][6] == "6960.00"
    assert publicity[0][7] == "2026-09-29 至 2026-10-10"
    # both exports are in the ledger: who, what, when
    with factory() as s:
        events = s.scalars(select(LedgerEvent).where(LedgerEvent.type == "export.downloaded")).all()
        assert [(e.actor.startswith("cli:"), e.class_code, '"detail":"pre"' in e.payload) for e in events] == [
            (True, CODE, True), (True, CODE, False)]
    assert "台账完整" in cli("verify").output


def test_R19_R20_a_class_that_lost_its_eligibility_gets_neither_package_nor_certificates(cli, factory, tmp_path):
    ended_class(cli, factory, tmp_path)
    cli("institution", "account", INSTITUTION, "--bank", "工行", "--account", "123456789012")
    with factory() as s:
        klass = s.scalar(select(Klass).where(Klass.code == CODE))
        change = EligibilityChange(class_id=klass.id, eligible=False, reason="2 次监督检查达标率低于 80%：第 1 次点名 40%",
                                   actor="test", at=T)
        s.add(change)
        ledger.append(s, "class.ineligible", actor="test", source="test", subject=change, class_code=CODE)
        s.commit()
    for stage in ("pre", "final"):
        refused = cli("export", "subsidy", CODE, "--stage", stage, "--out", str(tmp_path / "x.zip"),
                      "--publicity-start", "2026-09-29", ok=False).output
        assert "已失去补贴资格" in refused and "R15" in refused and "第 1 次点名 40%" in refused
    refused = cli("certificates", "issue", CODE, ok=False).output
    assert "已失去补贴资格" in refused and "R15" in refused


def test_R19_each_region_pre_pays_at_its_own_time(cli, factory, tmp_path):
    def plan(policy: str, start: str, end: str) -> str:
        path = tmp_path / f"{policy}.toml"
        text = (tmp_path / "plan.toml").read_text(encoding="utf-8").replace('policy = "baotou-2020"', f'policy = "{policy}"')
        path.write_text(text.replace("2025-03-03", start).replace("2025-03-14", end), encoding="utf-8")
        return str(path)

    past_plan(tmp_path, "2025-03-03", "2025-03-14")
    cli("class", "create", plan("shapingba-2020", "2025-03-03", "2025-03-14"), "--roster", str(ROSTER))
    cli("class", "approve", CODE)
    cli("institution", "account", INSTITUTION, "--bank", "工行", "--account", "123456789012")
    args = ("--out", str(tmp_path / "x.zip"), "--publicity-start", "2026-09-29")
    assert "不预拨补贴" in cli("export", "subsidy", CODE, "--stage", "pre", *args, ok=False).output  # shapingba: none
    assert "补贴标准 1200 元 × 合格学员 0 人 = 0.00 元（本政策配置不预拨）" in cli(
        "export", "subsidy", CODE, "--stage", "final", *args).output
    with factory.begin() as s:  # the same class under hengyang-2020: 30% once the city has filed it
        s.scalar(select(Klass).where(Klass.code == CODE)).policy = "hengyang-2020"
        ledger.append(s, "class.corrected", actor="test", source="test", reason="test",
                      subject=s.scalar(select(Klass).where(Klass.code == CODE)), class_code=CODE)
    assert "在市局备案后才预拨" in cli("export", "subsidy", CODE, "--stage", "pre", *args, ok=False).output
    cli("class", "file", CODE)
    # 1200 × 30 registered × 30% = 10800.00 (hengyang pre-pays before anyone could qualify)
    assert "1200 元 × 实名注册学员 30 人 × 预拨比例 30% = 10800.00 元" in cli("export", "subsidy", CODE, "--stage", "pre",
                                                                       *args).output
