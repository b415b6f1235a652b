"""R18: `dingclass archive CODE --upload` puts the dossier on DingTalk Drive (钉盘) through the three
calls of DINGTALK.md §10, against the simulator, and resumes where a failure stopped it."""

from __future__ import annotations

import json
import zipfile

import pytest
from sqlalchemy import select

from bot.simulator import DingTalkSimulator
from storage.models import OutboxMessage
from tests.cli.test_archive import CODE, finished  # noqa: F401 - the fixture

SPACE = "space-archives"
QUERY = f"/v1.0/storage/spaces/{SPACE}/files/uploadInfos/query"
COMMIT = f"/v1.0/storage/spaces/{SPACE}/files/commit"


@pytest.fixture
def sim(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost,::1")
    with DingTalkSimulator(seed=18) as simulator:
        monkeypatch.setenv("DINGTALK_CLIENT_ID", simulator.client_id)
        monkeypatch.setenv("DINGTALK_CLIENT_SECRET", simulator.client_secret)
        monkeypatch.setenv("DINGTALK_OPENAPI_ENDPOINT", simulator.endpoint)
        monkeypatch.setenv("DINGCLASS_DRIVE_SPACE_ID", SPACE)
        monkeypatch.setenv("DINGCLASS_DRIVE_UNION_ID", "union-archivist")
        yield simulator


def calls(sim, path_prefix: str) -> int:
    return sum(1 for r in sim.requests if r.path.startswith(path_prefix) and r.status == 200)


def upload_row(factory) -> dict:
    with factory() as s:
        row = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "drive").order_by(OutboxMessage.id.desc())).first()
        return {"status": row.status, **json.loads(row.body)}


def test_R18_upload_puts_the_archive_on_drive_with_query_put_commit(cli, finished, sim, tmp_path, factory):
    out = cli("archive", CODE, "--out", str(tmp_path / "up"), "--upload").output
    assert "已上传到钉盘" in out
    (stored,) = sim.drive.files(SPACE)
    zip_bytes = (tmp_path / "up" / f"{CODE}-archive.zip").read_bytes()
    assert stored.data == zip_bytes and stored.name.startswith(f"{CODE}-archive-") and stored.name in out
    assert [r.path for r in sim.requests if "/storage/" in r.path or r.path.startswith("/drive/")] == [
        QUERY, f"/drive/put/{upload_row(factory)['progress']['upload_key']}", COMMIT]
    assert cli("verify", str(tmp_path / "up" / f"{CODE}-archive.zip")).output  # the uploaded zip still verifies


def test_R18_upload_resumes_after_a_failed_put_without_asking_for_a_new_key(cli, finished, sim, tmp_path, factory):
    sim.faults.fail_next("/drive/put", status=503, times=4)  # every retry of the first run
    failed = cli("archive", CODE, "--out", str(tmp_path / "up"), "--upload", ok=False).output
    assert "上传到钉盘未完成" in failed and "进度已记录" in failed and f"archive {CODE} --upload" in failed
    row = upload_row(factory)
    assert row["status"] == "queued" and row["progress"]["upload_key"] and row["progress"]["put"] is False
    assert sim.drive.files(SPACE) == []
    resumed = cli("archive", CODE, "--out", str(tmp_path / "up"), "--upload").output
    assert "继续上传上次未完成的归档" in resumed and "已上传到钉盘" in resumed
    assert calls(sim, QUERY) == 1  # the key from the first run was used
    assert sim.drive.puts == [row["size"]] and calls(sim, COMMIT) == 1
    (stored,) = sim.drive.files(SPACE)
    assert stored.data == (tmp_path / "up" / f"{CODE}-archive.zip").read_bytes()


def test_R18_upload_resumes_after_a_failed_commit_without_uploading_again(cli, finished, sim, tmp_path, factory):
    sim.faults.fail_next(COMMIT, status=500, times=4)
    cli("archive", CODE, "--out", str(tmp_path / "up"), "--upload", ok=False)
    assert upload_row(factory)["progress"]["put"] is True
    assert "已上传到钉盘" in cli("archive", CODE, "--out", str(tmp_path / "up"), "--upload").output
    assert len(sim.drive.puts) == 1 and calls(sim, QUERY) == 1
    assert len(sim.drive.files(SPACE)) == 1


def test_R18_an_expired_upload_key_starts_again_with_a_new_one(cli, finished, sim, tmp_path, factory):
    sim.faults.fail_next("/drive/put", status=503, times=4)
    cli("archive", CODE, "--out", str(tmp_path / "up"), "--upload", ok=False)
    sim.drive.expire_uploads()  # DingTalk's signed URL ran out meanwhile: the PUT is refused (403)
    assert "上传到钉盘未完成" in cli("archive", CODE, "--out", str(tmp_path / "up"), "--upload", ok=False).output
    assert "已上传到钉盘" in cli("archive", CODE, "--out", str(tmp_path / "up"), "--upload").output
    assert calls(sim, QUERY) == 2 and len(sim.drive.files(SPACE)) == 1


def test_R18_a_changed_class_is_archived_again_not_resumed(cli, finished, sim, tmp_path, factory):
    sim.faults.fail_next("/drive/put", status=503, times=4)
    cli("archive", CODE, "--out", str(tmp_path / "up"), "--upload", ok=False)
    cli("class", "file", CODE)  # a new fact: the archive in progress is outdated
    out = cli("archive", CODE, "--out", str(tmp_path / "up"), "--upload").output
    assert "继续上传" not in out and "已写入归档" in out and "已上传到钉盘" in out
    with factory() as s:
        statuses = [r.status for r in s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "drive")
                                                 .order_by(OutboxMessage.id))]
    assert statuses == ["dead", "sent"]  # the outdated upload gave way


def test_R18_upload_without_drive_settings_is_one_message_and_writes_nothing(cli, finished, tmp_path, monkeypatch):
    monkeypatch.delenv("DINGCLASS_DRIVE_SPACE_ID", raising=False)
    out = cli("archive", CODE, "--out", str(tmp_path / "none"), "--upload", ok=False).output
    assert "DINGCLASS_DRIVE_SPACE_ID" in out
    assert not (tmp_path / "none").exists()


def test_R18_the_scheduler_archives_a_finished_class_once_and_the_bot_uploads_it(cli, finished, sim, tmp_path,
                                                                                   factory):
    from bot.openapi import OpenApi
    from bot.outbox import OutboxSender
    from storage.files import FileStore
    from storage.models import Group

    cli("class", "file", CODE)  # a fact after the last signed head: the job's archive must sign it
    during = cli("jobs", "run-due", "--now", "2026-12-12T01:15").output  # the class's last day: not yet
    assert "archive_finished：due 0, archived 0" in during
    ran = cli("jobs", "run-due", "--now", "2026-12-13T01:15").output
    assert "archive_finished：due 1, archived 1, failed 0" in ran
    again = cli("jobs", "run-due", "--now", "2026-12-13T02:15").output
    assert "archive_finished：due 0, archived 0" in again  # claimed: archived once
    path = tmp_path / "var" / "archives" / f"{CODE}-archive.zip"
    assert "校验无误" in cli("verify", str(path)).output
    with zipfile.ZipFile(path) as z:  # the job signed the class's head first, as the command does
        ledger = json.loads(z.read("manifest.json"))["ledger"]
    assert ledger["signed"]["heads"][0]["seq"] == ledger["seq"]
    assert upload_row(factory)["status"] == "queued" and sim.drive.files(SPACE) == []
    with OpenApi(sim.endpoint, sim.client_id, sim.client_secret) as api:  # what the running bot's sender does
        OutboxSender(factory, api, FileStore(tmp_path / "var" / "files")).run_once()
    (stored,) = sim.drive.files(SPACE)
    assert stored.data == path.read_bytes()
    with factory() as s:  # the group is never dissolved: still bound to its class
        assert s.scalar(select(Group.open_conversation_id)) == "cid-class"
