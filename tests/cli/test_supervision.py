"""The supervision commands (R13, R15): jobs list/run-due, rollcall start/verify, trainee mark."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select, text

from handlers import rollcall
from storage.models import Inspection, InspectionEvidence, JobClaim, Klass, RollCall, TraineeMark
from tests.handlers.chat import add_staff, at, bind_group, create_class


def a_class(factory, size=6, **plan):
    with factory() as s:
        klass = create_class(s, size=size, **plan)
        bind_group(s, klass, "cid-class")
        add_staff(s, "insp", "inspector", klass, name="李督查")
        s.commit()
        return klass.code


def rollcalls(factory):
    with factory() as s:
        return [(rc.number, rc.trigger) for rc in s.scalars(select(RollCall).order_by(RollCall.id))]


def test_R13_rollcall_start_draws_now_and_raises_a_low_ratio(cli, factory):
    code = a_class(factory, size=9)
    started = cli("rollcall", "start", code, "--ratio", "20", "--minutes", "15")
    assert "抽查比例 20% 低于政策要求的 50%，已按 50% 抽取。" in started.output
    assert f"已发起班级 {code} 第 1 次点名：抽取 5/9 人" in started.output
    refused = cli("rollcall", "start", code, ok=False)
    assert "第 1 次点名正在进行" in refused.output
    assert rollcalls(factory) == [(1, "cli")]


def test_R13_rollcall_start_refuses_a_class_without_a_group(cli, factory):
    with factory() as s:
        code = create_class(s, size=3).code
        s.commit()
    assert "还没有绑定班级群" in cli("rollcall", "start", code, ok=False).output
    assert rollcalls(factory) == []


def test_R13_rollcall_verify_exits_0_when_the_sample_matches_and_1_after_an_edit(cli, factory):
    code = a_class(factory)
    cli("rollcall", "start", code)
    with factory() as s:
        rc_id = s.scalar(select(RollCall.id))
    assert "复核一致" in cli("rollcall", "verify", str(rc_id)).output
    with factory() as s:
        s.execute(text("UPDATE rollcalls SET roster = '[[1, \"x\"]]' WHERE id = :i"), {"i": rc_id})
        s.commit()
    failed = cli("rollcall", "verify", str(rc_id), ok=False)
    assert "复核不一致" in failed.output and "抽取名单不符" in failed.output
    assert "没有第 99 号点名" in cli("rollcall", "verify", "99", ok=False).output


def test_R13_run_due_inside_a_session_two_class_days_after_the_last_roll_call_starts_exactly_one(cli, factory):
    a_class(factory)
    with factory() as s:
        origin = rollcall.Origin(trigger=rollcall.CLI, actor="test", nonce="test", source="test")
        rollcall.start(s, s.scalar(select(Klass)), origin, at("09:00", "2026-12-01"))
        s.commit()
    cli("jobs", "run-due", "--now", "2026-12-01T11:00")  # closes it
    ran = cli("jobs", "run-due", "--now", "2026-12-03T16:55")
    assert "start_rollcalls：due 1, started 1" in ran.output
    again = cli("jobs", "run-due", "--now", "2026-12-03T16:56")
    assert "start_rollcalls：due 0, started 0" in again.output
    assert rollcalls(factory) == [(1, "cli"), (2, "schedule")]


def test_R13_two_processes_running_due_jobs_at_once_start_one_roll_call(cli, factory, engine, tmp_path):
    a_class(factory)
    env = dict(os.environ, DATABASE_URL=engine.url.render_as_string(hide_password=False),
               DINGCLASS_DATA_DIR=str(tmp_path / "var"))
    command = [str(Path(sys.executable).parent / "dingclass"), "jobs", "run-due", "--now", "2026-12-02T16:55"]
    procs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert rollcalls(factory) == [(1, "schedule")]  # the window 12-01/12-02 ends at 17:00: overdue or due
    with factory() as s:
        claims = s.scalar(select(func.count()).select_from(JobClaim).where(JobClaim.job == "rollcall.start",
                                                                            JobClaim.scope != "*"))
    assert claims == 1


def test_jobs_list_shows_next_and_last_runs(cli, factory):
    listed = cli("jobs", "list").output
    assert "close_rollcalls" in listed and "start_rollcalls" in listed and "—" in listed
    assert "send_daily_reports" in listed and "remind_spot_checks" in listed  # R11, R10/R21
    cli("jobs", "run-due", "--now", "2026-12-01T09:00")
    listed = cli("jobs", "list").output
    line = next(l for l in listed.splitlines() if l.startswith("start_rollcalls"))
    assert "2026-12-01 09:00" in line and "完成" in line
    assert "已运行过" in cli("jobs", "run-due", "--now", "2026-12-01T09:00").output
    assert "--now 应为 ISO-8601 时间" in cli("jobs", "run-due", "--now", "tomorrow", ok=False).output


def test_R15_trainee_mark_disqualifies_with_a_reason_once(cli, factory):
    code = a_class(factory, size=2)
    with factory() as s:
        name = s.execute(text("SELECT name FROM persons ORDER BY id LIMIT 1")).scalar_one()
    marked = cli("trainee", "mark", code, name, "--disqualified", "--reason", "照片为他人代拍")
    assert f"已标记 {code} 的 {name}：数据异常，取消资格（理由：照片为他人代拍）" in marked.output
    assert "不重复标记" in cli("trainee", "mark", code, name, "--disqualified", "--reason", "x", ok=False).output
    assert "没有名为“无此人”的学员" in cli("trainee", "mark", code, "无此人", "--disqualified", "--reason", "x",
                                          ok=False).output
    assert "请写明理由" in cli("trainee", "mark", code, name, "--disqualified", "--reason", " ", ok=False).output
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(TraineeMark)) == 1
    assert cli("verify").exit_code == 0


def test_R22_trainee_mark_ineligible_with_a_reason_and_the_kind_is_required(cli, factory):
    code = a_class(factory, size=2)
    with factory() as s:
        name = s.execute(text("SELECT name FROM persons ORDER BY id LIMIT 1")).scalar_one()
    assert "--ineligible" in cli("trainee", "mark", code, name, "--reason", "x", ok=False).output
    marked = cli("trainee", "mark", code, name, "--ineligible", "--reason", "在校学生，不属于培训对象")
    assert f"已标记 {code} 的 {name}：不符合培训条件（理由：在校学生，不属于培训对象）" in marked.output
    assert "不重复标记" in cli("trainee", "mark", code, name, "--ineligible", "--reason", "x", ok=False).output
    cli("trainee", "mark", code, name, "--disqualified", "--reason", "照片为他人代拍")  # the other kind is separate
    with factory() as s:
        assert sorted(s.scalars(select(TraineeMark.kind))) == ["disqualified", "ineligible"]
    assert cli("verify").exit_code == 0


def test_R14_inspect_records_a_check_with_its_evidence_screenshots(cli, factory, tmp_path):
    code = a_class(factory, size=10)
    shot = tmp_path / "全景截图.png"
    shot.write_bytes(b"\x89PNG screenshot")
    done = cli("inspect", code, "--kind", "video", "--expected", "10", "--found", "7", "--evidence", str(shot),
               "--level", "city")
    assert f"已记录市对班级 {code} 的视频检查" in done.output and "70%，不合格（要求 80%）" in done.output
    assert "已保存检查截图，第" in done.output and "共 1 张" in done.output
    with factory() as s:
        (row,) = s.scalars(select(Inspection))
        (evidence,) = s.scalars(select(InspectionEvidence))
        assert (row.level, row.passed, evidence.filename, evidence.inspection_id) == ("city", False, "全景截图.png", row.id)
    assert "找不到文件" in cli("inspect", code, "--kind", "video", "--expected", "10", "--found", "9",
                              "--evidence", str(tmp_path / "missing.png"), ok=False).output
    assert "人数不对" in cli("inspect", code, "--kind", "live", "--expected", "0", "--found", "0", ok=False).output
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Inspection)) == 1
