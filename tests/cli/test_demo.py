"""`dingclass demo`: the whole product on one machine, a class's day, the admin's address and a login."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from bot.cli import main
from storage.models import DingTalkIdentity, Group, LeaveRequest, OutboxMessage, Photo, Punch


def test_demo_runs_a_class_day_and_says_it_stopped(tmp_path, monkeypatch):
    monkeypatch.setenv("DINGCLASS_DATA_DIR", str(tmp_path))
    for name in ("DATABASE_URL", "DINGTALK_CLIENT_ID", "DINGTALK_CLIENT_SECRET", "DINGTALK_OPENAPI_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(main, ["demo", "--no-wait", "--port", "0"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    # --no-wait stops everything: no address or password of a server that is gone
    assert "演示已结束" in result.output and "管理后台：http" not in result.output
    assert "台账完整" in result.output and "Traceback" not in result.output
    engine = create_engine(f"sqlite:///{tmp_path / 'demo' / 'dingclass.sqlite3'}")
    try:
        with Session(engine) as s:
            def count(model, *where):
                return s.scalar(select(func.count()).select_from(model).where(*where))

            assert count(DingTalkIdentity, DingTalkIdentity.person_id.is_not(None)) == 28
            assert count(Group) == 1
            assert count(LeaveRequest, LeaveRequest.status == "approved") == 1
            assert count(Punch) == 27 * 4  # 28 bound, one on leave; two sessions, in and out
            assert count(Punch, Punch.late.is_(True)) == 3
            assert count(Punch, Punch.early.is_(True)) == 0  # everyone checks out at the session's end
            assert count(Photo, Photo.status == "duplicate") == 1
            assert count(OutboxMessage, OutboxMessage.status != "sent") == 0
    finally:
        engine.dispose()
