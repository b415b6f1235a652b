"""The `dingclass` command line as an institution or district user runs it (R01–R05, R17)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from bot.cli import main
from bot.samples import sample_plan_text
from bot.samples.generate import trainees, write_roster
from storage import ledger, ledger_keys
from storage.models import ApiToken, BindCode, ClassTransition, Enrollment, Klass, LedgerEvent, LedgerKey, Person, User

SAMPLES = Path(__file__).resolve().parents[2] / "bot" / "samples"
PLAN = SAMPLES / "plan.toml"


@pytest.fixture
def run(cli):
    return cli


def count(factory, model) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(model))


def roster_file(tmp_path: Path, rows, name="roster.xlsx") -> str:
    path = tmp_path / name
    write_roster(path, rows)
    return str(path)


def csv_file(tmp_path: Path, rows, encoding: str, name="roster.csv") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["姓名", "性别", "身份证号", "手机号", "身份类别"])
    writer.writerows(rows)
    path = tmp_path / name
    path.write_bytes(buffer.getvalue().encode(encoding))
    return str(path)


def plan_with(tmp_path: Path, **changes) -> str:
    """The sample plan with some fields changed; new dates move its timetable along, and a new online_hours
    drops the sessions' online lessons (which would no longer add up to it)."""
    start, end = changes.pop("start_date", None), changes.pop("end_date", None)
    if start is None:
        text_ = PLAN.read_text(encoding="utf-8")
        if end is not None:
            changes["end_date"] = end
    else:
        text_ = sample_plan_text(date.fromisoformat(start), end and date.fromisoformat(end))
    if "online_hours" in changes:
        text_ = "\n".join(line for line in text_.splitlines() if not line.startswith("online_lessons")) + "\n"
    for key, value in changes.items():
        lines = [f"{key} = {value}" if line.startswith(f"{key} =") else line for line in text_.splitlines()]
        text_ = "\n".join(lines) + "\n"
    path = tmp_path / "plan.toml"
    path.write_text(text_, encoding="utf-8")
    (tmp_path / "commitment.pdf").write_bytes((SAMPLES / "commitment.pdf").read_bytes())
    return str(path)


def with_bad_check_digit(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


def test_R01_R04_sample_plan_and_30_person_roster_are_created(run, factory):
    run("init")
    result = run("class", "create", str(PLAN), "--roster", str(SAMPLES / "roster.xlsx"))
    assert "BT-2026-001" in result.output and "已提交" in result.output
    assert "导入学员 30 人" in result.output
    assert count(factory, Enrollment) == 30
    listing = run("class", "list").output
    assert "BT-2026-001" in listing and "\t30\t" in listing and "已提交" in listing
    with factory() as s:
        klass = s.scalar(select(Klass))
        assert (klass.total_hours, klass.online_hours, klass.class_teacher) == (100, 40, "王芳")
        assert klass.commitment_sha256 is not None
    assert "台账完整" in run("verify").output


def test_R04_roster_with_bad_check_digit_and_repeated_id_is_rejected_naming_both_rows(run, factory, tmp_path):
    rows = [list(r) for r in trainees(30)]
    rows[6][2] = with_bad_check_digit(rows[6][2])  # data row 7
    rows[11][2] = rows[2][2]  # data row 12 repeats row 3
    rows[11][1] = rows[2][1]
    result = run("class", "create", str(PLAN), "--roster", roster_file(tmp_path, rows), ok=False)
    assert "第 7 行" in result.output and "校验位" in result.output
    assert "第 12 行" in result.output and "与第 3 行的身份证号重复" in result.output
    assert "2 处错误" in result.output
    assert count(factory, Person) == 0
    assert count(factory, Klass) == 0  # the class and its roster stand or fall together


def test_R04_every_kind_of_bad_row_is_reported_at_once(run, factory, tmp_path):
    run("class", "create", str(PLAN))
    rows = [list(r) for r in trainees(8)]
    rows[0][2] = rows[0][2][:6] + "19900230" + rows[0][2][14:17]  # impossible birth date…
    from handlers.idcard import check_digit
    rows[0][2] += check_digit(rows[0][2])  # …with a correct check digit
    rows[1][1] = "女" if rows[1][1] == "男" else "男"  # gender disagrees with digit 17
    rows[2][3] = ""  # phone missing
    rows[3][0] = ""  # name missing
    rows[4][4] = ""  # category missing
    rows[5][3] = "12345"  # not a mobile number
    result = run("roster", "import", "BT-2026-001", roster_file(tmp_path, rows), ok=False)
    out = result.output
    assert "6 处错误" in out
    assert "第 1 行" in out and "19900230" in out
    assert "第 2 行" in out and "性别与身份证号不符" in out
    assert "第 3 行（表格第 5 行）手机号：未填写" in out
    assert "第 4 行（表格第 6 行）姓名：未填写" in out
    assert "第 5 行（表格第 7 行）身份类别：未填写" in out
    assert "第 6 行" in out and "12345" in out
    assert count(factory, Enrollment) == 0


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_R04_csv_rosters_in_the_encodings_excel_writes_are_read(run, factory, tmp_path, encoding):
    run("class", "create", str(PLAN))
    rows = trainees(5)
    run("roster", "import", "BT-2026-001", csv_file(tmp_path, rows, encoding))
    with factory() as s:
        names = set(s.scalars(select(Person.name)))
    assert names == {r[0] for r in rows}


def test_R04_person_in_an_overlapping_class_is_refused(run, factory, tmp_path):
    rows = trainees(5)
    run("class", "create", str(PLAN), "--roster", roster_file(tmp_path, rows))
    second = plan_with(tmp_path, code='"BT-2026-002"', start_date="2026-12-10", end_date="2026-12-20")
    other = tmp_path / "other"
    other.mkdir()
    result = run("class", "create", second, "--roster", roster_file(other, rows[3:] + trainees(3, seed=7)), ok=False)
    assert "已报名时间重叠的班级 BT-2026-001" in result.output
    assert "第 1 行" in result.output and "第 2 行" in result.output
    assert count(factory, Klass) == 1


def test_R04_person_in_a_later_class_is_accepted(run, factory, tmp_path):
    rows = trainees(5)
    run("class", "create", str(PLAN), "--roster", roster_file(tmp_path, rows))
    later = plan_with(tmp_path, code='"BT-2027-001"', start_date="2027-01-04", end_date="2027-01-15")
    run("class", "create", later, "--roster", roster_file(tmp_path, rows, name="again.xlsx"))
    assert count(factory, Person) == 5 and count(factory, Enrollment) == 10


def test_R04_id_number_excel_stored_as_a_number_is_explained(run, factory, tmp_path):
    from openpyxl import Workbook

    run("class", "create", str(PLAN))
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "性别", "身份证号", "手机号", "身份类别"])
    name, gender, number, phone, category = trainees(1)[0]
    sheet.append([name, gender, int(number[:17]) * 10, phone, category])
    path = tmp_path / "numeric.xlsx"
    book.save(path)
    result = run("roster", "import", "BT-2026-001", str(path), ok=False)
    assert "存成了数字" in result.output


def test_R03_plan_above_the_online_share_is_refused_with_the_numbers(run, factory, tmp_path):
    result = run("class", "create", plan_with(tmp_path, online_hours="50"), ok=False)
    assert "线上课时 50 超过总课时 100 的 40%（最多 40 课时）" in result.output
    assert count(factory, Klass) == 0


def test_R01_plan_problems_are_listed_together(run, factory, tmp_path):
    result = run("class", "create", plan_with(tmp_path, mode='"tv"', end_date="2026-11-01", total_hours="0"),
                 ok=False)
    assert "3 个问题" in result.output
    assert "mode" in result.output and "结束日期" in result.output and "total_hours" in result.output


def test_R02_approval_and_filing_are_recorded_with_who_and_when(run, factory):
    run("class", "create", str(PLAN), "--roster", str(SAMPLES / "roster.xlsx"))
    refused = run("class", "file", "BT-2026-001", ok=False)
    assert "不能改为“已备案”" in refused.output
    run("--by", "district:李审核", "class", "approve", "BT-2026-001", "--reason", "材料齐全")
    run("--by", "city:赵备案", "class", "file", "BT-2026-001")
    with factory() as s:
        steps = s.execute(select(ClassTransition.from_status, ClassTransition.to_status, ClassTransition.actor)
                          .order_by(ClassTransition.id)).all()
    assert [(a, b) for a, b, _ in steps] == [(None, "draft"), ("draft", "submitted"), ("submitted", "approved"),
                                             ("approved", "filed")]
    assert steps[2][2] == "district:李审核" and steps[3][2] == "city:赵备案"
    assert "已备案" in run("class", "list").output
    assert "台账完整" in run("verify").output


def test_R02_approval_without_roster_or_commitment_is_refused_listing_both_then_returned_and_resubmitted(
        run, factory, tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text("\n".join(line for line in PLAN.read_text(encoding="utf-8").splitlines()
                              if not line.startswith("commitment_file")) + "\n", encoding="utf-8")
    run("class", "create", str(plan))
    refused = run("--by", "district:李审核", "class", "approve", "BT-2026-001", ok=False).output
    assert "不能审核通过（R02），共 2 个问题" in refused
    assert "1. 花名册没有学员" in refused and "2. 没有签字的承诺书" in refused
    assert "--reason" in run("class", "return", "BT-2026-001", ok=False).output  # a return says why
    assert "须写明理由" in run("class", "return", "BT-2026-001", "--reason", "  ", ok=False).output
    returned = run("--by", "district:李审核", "class", "return", "BT-2026-001", "--reason", "缺花名册和承诺书")
    assert "已退回" in returned.output
    assert "不能改为“已审核”" in run("class", "approve", "BT-2026-001", ok=False).output
    run("roster", "import", "BT-2026-001", str(SAMPLES / "roster.xlsx"))
    run("--by", "机构:鹿城", "class", "submit", "BT-2026-001", "--reason", "已补花名册")
    refused = run("class", "approve", "BT-2026-001", ok=False).output
    assert "共 1 个问题" in refused and "承诺书" in refused and "花名册" not in refused
    with factory() as s:
        steps = s.execute(select(ClassTransition.from_status, ClassTransition.to_status, ClassTransition.actor,
                                 ClassTransition.reason).order_by(ClassTransition.id)).all()
        assert [tuple(step) for step in steps[2:]] == [("submitted", "returned", "district:李审核", "缺花名册和承诺书"),
                                                       ("returned", "submitted", "机构:鹿城", "已补花名册")]
        types = s.scalars(select(LedgerEvent.type).where(LedgerEvent.type.in_(["class.return", "class.submit"]))
                          .order_by(LedgerEvent.chain, LedgerEvent.seq)).all()
        assert types == ["class.submit", "class.return", "class.submit"]
        assert s.scalar(select(Klass.status)) == "submitted"
    assert "台账完整" in run("verify").output


def test_R02_roster_changes_after_approval_are_recorded_and_noted_by_the_district(run, factory, tmp_path):
    run("class", "create", str(PLAN), "--roster", str(SAMPLES / "roster.xlsx"))
    before = run("roster", "remove", "BT-2026-001", trainees(30)[0][0], "--reason", "本人放弃").output
    assert "移出" in before and "待旗县区确认" not in before  # not approved yet: simply off the roster
    run("--by", "district:李审核", "class", "approve", "BT-2026-001")
    added = run("--by", "机构:鹿城", "roster", "import", "BT-2026-001",
                roster_file(tmp_path, trainees(2, seed=77), "补充.xlsx")).output
    assert "导入学员 2 人" in added and "待旗县区确认（dingclass roster note BT-2026-001）" in added
    removed = run("roster", "remove", "BT-2026-001", trainees(30)[1][0], "--reason", "已就业").output
    assert "待旗县区确认" in removed
    assert "已确认班级 BT-2026-001 的 3 项花名册变更（操作人 district:李审核）" in run(
        "--by", "district:李审核", "roster", "note", "BT-2026-001", "--note", "同意").output
    assert "没有待确认的花名册变更" in run("roster", "note", "BT-2026-001", ok=False).output
    with factory() as s:
        types = s.scalars(select(LedgerEvent.type).where(LedgerEvent.type.like("roster.%"))
                          .order_by(LedgerEvent.chain, LedgerEvent.seq)).all()
        assert types == ["roster.add", "roster.add", "roster.remove", "roster.noted", "roster.noted", "roster.noted"]
    assert "台账完整" in run("verify").output


def test_R01_class_change_after_approval_is_asked_ahead_and_takes_effect_when_the_district_approves(
        run, factory, tmp_path):
    from datetime import timedelta
    start = date.today() + timedelta(days=10)
    plan = plan_with(tmp_path, start_date=start.isoformat())
    run("class", "create", plan, "--roster", str(SAMPLES / "roster.xlsx"))
    run("--by", "district:李审核", "class", "approve", "BT-2026-001")
    changed = tmp_path / "plan.toml"
    changed.write_text(changed.read_text(encoding="utf-8").replace('teachers = ["张丽华", "刘建国"]',
                                                                    'teachers = ["张丽华", "陈明"]'), encoding="utf-8")
    too_soon = (date.today() + timedelta(days=1)).isoformat()
    assert "须提前 3 天申请" in run("class", "change", "BT-2026-001", str(changed), "--from", too_soon, ok=False).output
    asked = run("--by", "机构:鹿城", "class", "change", "BT-2026-001", str(changed), "--reason", "刘建国调离").output
    assert "第 1 号计划变更申请" in asked and "待旗县区同意" in asked
    assert "- 授课讲师：张丽华、刘建国 → 张丽华、陈明" in asked
    assert "--reason" in run("class", "change-refuse", "BT-2026-001", ok=False).output
    approved = run("--by", "district:李审核", "class", "change-approve", "BT-2026-001", "--reason", "同意").output
    assert "第 1 号计划变更：已同意，已生效（操作人 district:李审核）" in approved
    with factory() as s:
        assert s.scalar(select(Klass.teachers)) == '["张丽华","陈明"]'
    assert "没有待审核的计划变更" in run("class", "change-approve", "BT-2026-001", ok=False).output
    assert "台账完整" in run("verify").output


def test_unknown_class_is_named(run):
    result = run("class", "approve", "NOPE", ok=False)
    assert "没有编号为 NOPE 的班级" in result.output


def test_user_add_prints_a_password_and_stores_only_its_hash(run, factory):
    run("class", "create", str(PLAN))
    result = run("user", "add", "lucheng", "--role", "institution", "--institution", "包头市鹿城职业培训学校")
    password = result.output.strip().rsplit("：", 1)[1]
    assert len(password) >= 12
    with factory() as s:
        user = s.scalar(select(User))
        assert password not in user.password_hash and user.password_hash.startswith("$argon2")
        from handlers.accounts import check_password
        assert check_password(s, "lucheng", password).id == user.id
        assert check_password(s, "lucheng", password + "x") is None
    assert "已存在" in run("user", "add", "lucheng", "--role", "admin", ok=False).output


def test_user_add_refuses_missing_or_unknown_scope(run):
    run("class", "create", str(PLAN))
    assert "--institution" in run("user", "add", "a", "--role", "institution", ok=False).output
    out = run("user", "add", "b", "--role", "district", "--district", "青山区", ok=False).output
    assert "青山区" in out and "昆都仑区" in out
    assert "没有“boss”这个角色" in run("user", "add", "c", "--role", "boss", ok=False).output


def test_user_token_is_shown_once_and_stored_hashed(run, factory):
    run("user", "add", "city1", "--role", "city")
    token = run("user", "token", "city1").output.strip()
    with factory() as s:
        stored = s.scalar(select(ApiToken.token_hash))
        from handlers.accounts import user_for_token
        assert user_for_token(s, token).name == "city1"
    assert token not in stored and len(stored) == 64


def test_bind_code_is_one_time_and_stored_hashed(run, factory):
    run("class", "create", str(PLAN))
    out = run("bind-code", "BT-2026-001", "--role", "class_teacher", "--name", "王芳").output
    code = out.splitlines()[0].split("：")[1]
    assert len(code.replace("-", "")) == 8 and "有效期至" in out
    with factory() as s:
        row = s.scalar(select(BindCode))
        assert code.replace("-", "") not in row.code_hash and row.role == "class_teacher"
    assert "没有编号为 X 的班级" in run("bind-code", "X", "--role", "teacher", ok=False).output
    run("bind-code", "昆都仑区", "--role", "inspector")


def test_R17_verify_exits_nonzero_and_names_a_tampered_row(run, factory):
    run("class", "create", str(PLAN), "--roster", str(SAMPLES / "roster.xlsx"))
    with factory() as s:
        s.execute(text("UPDATE persons SET name = '冒名顶替' WHERE id = 3"))
        s.commit()
    result = run("verify", ok=False)
    assert "persons 第 3 行" in result.output and "冒名顶替" in result.output
    # in this process or in two worker processes: the same findings, word for word
    assert run("verify", "--workers", "1", ok=False).output == run("verify", "--workers", "2", ok=False).output
    assert run("verify", "--workers", "2", ok=False).output == result.output


def test_R17_verify_workers_must_be_a_count_and_do_not_apply_to_an_archive(run, tmp_path):
    assert "--workers" in run("verify", "--workers", "0", ok=False).output
    refused = run("verify", str(tmp_path / "class.zip"), "--workers", "2", ok=False)
    assert "不能用 --incremental 或 --workers" in refused.output


def test_R17_init_creates_the_ledger_key_and_prints_where_and_its_public_key(run, factory, tmp_path, monkeypatch):
    key = tmp_path / "keys" / "ledger.key"
    monkeypatch.setenv("DINGCLASS_LEDGER_KEY", str(key))
    out = run("init").output
    public = ledger_keys.load_key(key).public_hex
    assert "已创建台账签名密钥" in out and str(key) in out and public in out
    assert key.stat().st_mode & 0o077 == 0  # readable by its owner only
    with factory() as s:
        assert s.scalar(select(LedgerKey.public_key)) == public  # stored for verifiers
    again = run("init").output
    assert public in again and "已创建" not in again  # the same key, never replaced


def test_R17_a_ledger_key_inside_the_data_dir_is_refused(run, factory, tmp_path, monkeypatch):
    inside = tmp_path / "var" / "ledger.key"
    monkeypatch.setenv("DINGCLASS_LEDGER_KEY", str(inside))
    out = run("init", ok=False).output
    assert "数据目录" in out and "DINGCLASS_LEDGER_KEY" in out
    assert not inside.exists()


def test_R17_verify_against_the_heads_the_district_holds_catches_a_truncated_tail(run, factory, tmp_path):
    run("init")
    run("class", "create", str(PLAN), "--roster", str(SAMPLES / "roster.xlsx"))
    heads = tmp_path / "heads.json"
    assert "已写出" in run("ledger", "heads", "--out", str(heads)).output
    with factory() as s:  # the last enrollment, its event and the class chain's checkpoints go
        chain = s.scalar(select(Klass.id))
        last = s.scalar(select(ledger.LedgerEvent).where(ledger.LedgerEvent.chain == chain)
                        .order_by(ledger.LedgerEvent.seq.desc()).limit(1))
        s.execute(text(f"DELETE FROM {last.subject_table} WHERE id = :i"), {"i": last.subject_id})
        s.execute(text("DELETE FROM ledger_checkpoints WHERE chain = :c"), {"c": chain})
        s.execute(text("DELETE FROM ledger_events WHERE chain = :c AND seq = :s"), {"c": chain, "s": last.seq})
        s.execute(text("UPDATE ledger_chains SET seq = seq - 1, hash = :h WHERE chain = :c"),
                  {"h": last.prev_hash, "c": chain})
        s.commit()
    assert "台账完整" in run("verify").output  # inside the database nothing shows it
    result = run("verify", "--anchor", str(heads), ok=False)
    assert "存证的链头已不在链上" in result.output and "BT-2026-001" in result.output


def test_R17_a_broken_anchor_file_is_one_message(run, tmp_path):
    bad = tmp_path / "heads.json"
    bad.write_text("{not json", encoding="utf-8")
    assert "不是有效的链头存证" in run("verify", "--anchor", str(bad), ok=False).output


def test_missing_file_is_a_message_not_a_traceback(run):
    assert "找不到文件：nowhere.toml" in run("class", "create", "nowhere.toml", ok=False).output


def test_uninitialised_database_suggests_init(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DINGCLASS_DATA_DIR", str(tmp_path / "empty"))
    result = CliRunner().invoke(main, ["class", "list"])
    assert result.exit_code == 1
    assert "dingclass init" in result.output and "Traceback" not in result.output


def test_R04_add_only_reimport_adds_the_new_trainees_and_skips_the_enrolled(run, factory, tmp_path):
    run("class", "create", str(PLAN))
    people = [list(r) for r in trainees(12)]
    run("roster", "import", "BT-2026-001", roster_file(tmp_path, people[:10], name="first.xlsx"))
    # without --add-only the ten already enrolled are refused, one line each, and nothing is written
    refused = run("roster", "import", "BT-2026-001", roster_file(tmp_path, people, name="all.xlsx"), ok=False)
    assert refused.output.count("已在本班花名册中") == 10 and count(factory, Enrollment) == 10
    added = run("roster", "import", "BT-2026-001", roster_file(tmp_path, people, name="all.xlsx"), "--add-only")
    assert "导入学员 2 人" in added.output and "已跳过" in added.output
    assert count(factory, Enrollment) == 12
    # add-only never hides a changed identity: same ID number, another name is still refused
    people[0][0] = "改了名字"
    changed = run("roster", "import", "BT-2026-001", roster_file(tmp_path, people, name="changed.xlsx"), "--add-only",
                  ok=False)
    assert "第 1 行" in changed.output and count(factory, Enrollment) == 12


def test_a_teacher_login_is_given_its_classes_and_the_ledger_records_it(run, factory):
    run("class", "create", str(PLAN))
    run("user", "add", "王芳", "--role", "teacher", "--institution", "包头市鹿城职业培训学校", "--class", "BT-2026-001")
    assert "BT-2026-001" in run("user", "classes", "王芳").output
    assert "（无）" in run("user", "classes", "王芳", "--remove", "BT-2026-001").output
    assert "没有名为 nobody 的用户" in run("user", "classes", "nobody", ok=False).output
    with factory() as s:
        types = list(s.scalars(select(LedgerEvent.type).where(LedgerEvent.type.like("teacher.%"))
                               .order_by(LedgerEvent.seq)))
    assert types == ["teacher.assigned", "teacher.unassigned"]
    assert "台账完整" in run("verify").output


def test_accounts_a_locked_user_is_unlocked_from_the_cli_and_logs_in(run, factory, engine, tmp_path, monkeypatch):
    """Five wrong passwords lock the account; `user unlock` lifts it, the ledger says who did and why."""
    from admin import create_app
    from tests.admin.conftest import login

    password = run("user", "add", "city1", "--role", "city").output.rsplit("：", 1)[1].strip()
    app = create_app({"SESSION_FACTORY": factory, "SECRET_KEY": "k" * 32, "DATA_DIR": tmp_path,
                      "WTF_CSRF_ENABLED": True})
    client = app.test_client()
    for _ in range(5):
        assert login(client, "city1", "wrong").status_code == 401
    assert login(client, "city1", password).status_code == 429  # locked from this address
    assert "清除失败记录 5 条" in run("--by", "admin:张工", "user", "unlock", "city1").output
    assert login(client, "city1", password).status_code == 302  # signed in
    listing = run("user", "list").output
    assert re.search(r"city1\tcity\t—\t启用\t0\t\d{4}-\d\d-\d\d \d\d:\d\d", listing)

    assert "已停用用户 city1" in run("user", "disable", "city1").output
    assert client.get("/").status_code == 302  # the session ended with the account
    assert login(client, "city1", password).status_code == 401  # refused while disabled
    run("user", "enable", "city1")
    new_password = run("user", "reset-password", "city1").output.rsplit("：", 1)[1].strip()
    assert login(client, "city1", password).status_code == 401
    assert login(client, "city1", new_password).status_code == 302
    run("user", "token", "city1")
    assert "令牌 1 个" in run("user", "revoke-token", "city1").output
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.revoked.is_(False))) == 0
        events = s.execute(select(LedgerEvent.type, LedgerEvent.actor).where(LedgerEvent.type.like("user.%"))
                           .order_by(LedgerEvent.seq)).all()
    assert [t for t, _ in events] == ["user.created", "user.unlocked", "user.disabled", "user.enabled",
                                      "user.password_changed", "user.token_revoked"]
    assert dict(events)["user.unlocked"] == "admin:张工"
    assert "台账完整" in run("verify").output
    assert "没有名为 nobody 的用户" in run("user", "unlock", "nobody", ok=False).output
