"""R18: one dossier per class — `dingclass archive CODE` and `dingclass verify ARCHIVE` (offline)."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.samples.generate import trainees, write_roster
from storage.models import Klass, Person
from tests.cli.test_cli import PLAN, SAMPLES
from tests.handlers.chat import Chat, at, bind_group, bind_person, picture, roster_of

CODE = "BT-2026-001"
DAYS = ("2026-12-01", "2026-12-02")


def approved_class(cli, tmp_path) -> Path:
    """The sample class of 4 trainees created and approved through the CLI; its folder of files."""
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(PLAN, work / "plan.toml")
    shutil.copy(SAMPLES / "commitment.pdf", work / "commitment.pdf")
    write_roster(work / "roster.xlsx", trainees(4, seed=18))
    cli("init")
    cli("class", "create", str(work / "plan.toml"), "--roster", str(work / "roster.xlsx"))
    cli("class", "approve", CODE)
    return work


@pytest.fixture
def finished(cli, factory, tmp_path):
    """The sample class created, imported and approved through the CLI; two days of chat (check-ins,
    photos, leave); an inspection with its screenshot; then archived. Returns the zip's path."""
    work = approved_class(cli, tmp_path)
    chat = Chat(factory, tmp_path / "var")
    with factory.begin() as s:
        klass = s.scalar(select(Klass).where(Klass.code == CODE))
        bind_group(s, klass, "cid-class")
        for n, person in enumerate(roster_of(s, klass)[:3], start=1):
            bind_person(s, person, f"u{n}", staff_user_id=f"staff{n}")
    for d, day in enumerate(DAYS):
        for n in (1, 2, 3):
            chat.say("签到", when=at("08:25", day), sender=f"u{n}", staff_user_id=f"staff{n}")
            chat.photo(picture(100 * d + n), when=at("09:00", day), sender=f"u{n}", group=None)
            chat.say("签退", when=at("11:31", day), sender=f"u{n}", staff_user_id=f"staff{n}")
    chat.say("请假 2026-12-03 家里有事", when=at("18:00", DAYS[1]), sender="u2", staff_user_id="staff2")
    chat.deliver()
    (work / "shot.png").write_bytes(picture(7, fmt="PNG"))
    cli("inspect", CODE, "--kind", "video", "--expected", "4", "--found", "4", "--evidence", str(work / "shot.png"))
    out = tmp_path / "archives"
    made = cli("archive", CODE, "--out", str(out))
    assert "已写入归档" in made.output and "照片 6 张" in made.output and "已用台账签名密钥签署" in made.output
    return out / f"{CODE}-archive.zip"


def test_R18_the_commitment_letter_of_a_pending_plan_change_is_in_the_archive(cli, tmp_path):
    """R01/R18: a plan change asked with a new 承诺书 keeps its file in the class's dossier, whether or
    not the district has decided it yet."""
    work = approved_class(cli, tmp_path)
    (work / "commitment.pdf").write_bytes((SAMPLES / "commitment.pdf").read_bytes() + b"%% signed again\n")
    asked = cli("class", "change", CODE, str(work / "plan.toml"), "--from", "2027-06-01", "--reason", "承诺书重签")
    assert "承诺书" in asked.output
    new_letter = hashlib.sha256((work / "commitment.pdf").read_bytes()).hexdigest()

    cli("archive", CODE, "--out", str(tmp_path / "out"))
    archive = tmp_path / "out" / f"{CODE}-archive.zip"
    assert f"files/{new_letter}.pdf" in names(archive)
    assert "校验无误" in cli("verify", str(archive)).output


def rewrite(src: Path, dst: Path, change) -> None:
    """Copy a zip entry by entry; ``change(name, data)`` returns the new bytes, or None to drop the entry."""
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w") as new:
        for info in old.infolist():
            data = change(info.filename, old.read(info))
            if data is not None:
                new.writestr(info, data)


def forge_entry(src: Path, dst: Path, target: str, body: bytes) -> None:
    """Copy the archive with ``target`` replaced by ``body`` and its checksum in the manifest made to
    match: only the ledger can catch it."""
    def change(name, data):
        if name == target:
            return body
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["files"][target] = {"sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}
            return json.dumps(manifest, ensure_ascii=False).encode()
        return data
    rewrite(src, dst, change)


def names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return z.namelist()


def test_R18_a_finished_class_archives_and_verifies_offline(cli, finished, tmp_path, monkeypatch):
    listed = names(finished)
    for expected in ("manifest.json", "index.html", "messages/received.jsonl", "messages/sent.jsonl",
                     "records/punches.jsonl", "records/photos.jsonl", "records/persons.jsonl",
                     "records/leave_requests.jsonl", "records/inspections.jsonl", "ledger/events.jsonl",
                     "sheets/考勤台账.xlsx", "sheets/合格名单.xlsx"):
        assert expected in listed
    assert sum(n.startswith("photos/") and n.endswith(".jpg") for n in listed) == 6
    assert any(n.startswith("files/") and n.endswith(".pdf") for n in listed)  # the 承诺书
    assert any(n.startswith("files/") and n.endswith(".png") for n in listed)  # the inspection's screenshot
    with zipfile.ZipFile(finished) as z:
        manifest = json.loads(z.read("manifest.json"))
        index = z.read("index.html").decode()
        photo = next(n for n in z.namelist() if n.startswith("photos/"))
        assert z.getinfo(photo).compress_type == zipfile.ZIP_STORED  # phone JPEGs are never recompressed
        received = [json.loads(line) for line in z.read("messages/received.jsonl").decode().splitlines()]
    assert manifest["ledger"]["signed"]["heads"][0]["seq"] == manifest["ledger"]["seq"] > 0
    assert manifest["files"]["records/punches.jsonl"]["size"] > 0
    assert manifest["counts"]["records/punches.jsonl"] == 12
    assert any("@" in limit and "不在本归档中" in limit for limit in manifest["limits"])
    assert manifest["absent"] == []  # every kind is built now (certificates too); one that is not would be named
    assert [m["msgtype"] for m in received].count("text") == 13  # 6 签到 + 6 签退 + 请假, in order
    assert "cdn" not in index.lower() and "<script" not in index and photo in index
    # offline: no database at all
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    ok = cli("verify", str(finished))
    assert "校验无误" in ok.output and "签名链头" in ok.output


def test_R18_verify_names_a_changed_photo_byte_a_changed_message_line_and_a_removed_file(cli, finished, tmp_path):
    photo = next(n for n in names(finished) if n.startswith("photos/"))

    def one_byte(name, data):
        return data[:-3] + bytes([data[-3] ^ 1]) + data[-2:] if name == photo else data

    changed = tmp_path / "photo.zip"
    rewrite(finished, changed, one_byte)
    out = cli("verify", str(changed), ok=False).output
    assert f"{photo}：文件被改动" in out

    def edit_message(name, data):
        if name != "messages/received.jsonl":
            return data
        lines = data.decode().splitlines(keepends=True)
        lines[1] = lines[1].replace('"msgtype":"text"', '"msgtype":"txt"')
        return "".join(lines).encode()

    edited = tmp_path / "message.zip"
    rewrite(finished, edited, edit_message)
    out = cli("verify", str(edited), ok=False).output
    assert "messages/received.jsonl：文件被改动" in out
    assert "messages/received.jsonl 第 2 行：inbound_messages" in out and "与台账不符（msgtype）" in out

    removed = tmp_path / "removed.zip"
    rewrite(finished, removed, lambda name, data: None if name == "records/leave_requests.jsonl" else data)
    out = cli("verify", str(removed), ok=False).output
    assert "records/leave_requests.jsonl：清单中的文件不在归档中（被删除）" in out
    assert "台账记载的 leave_requests 第 1 行不在归档中" in out


def test_R18_a_row_edited_together_with_its_manifest_checksum_is_still_caught_by_the_ledger(cli, finished, tmp_path):
    """Someone who rewrites a record and the manifest's checksum for it is caught by the ledger slice."""
    import hashlib

    target = "records/punches.jsonl"
    with zipfile.ZipFile(finished) as z:
        lines = z.read(target).decode().splitlines(keepends=True)
    lines[0] = lines[0].replace('"late":false', '"late":true') if '"late":false' in lines[0] else lines[0].replace(
        '"late":true', '"late":false')
    body = "".join(lines).encode()

    forged = tmp_path / "forged.zip"
    forge_entry(finished, forged, target, body)
    out = cli("verify", str(forged), ok=False).output
    assert "文件被改动" not in out
    assert f"{target} 第 1 行：punches" in out and "与台账不符（late）" in out


def test_R18_two_archives_of_an_unchanged_class_have_identical_data_files(cli, finished, tmp_path):
    again = cli("archive", CODE, "--out", str(tmp_path / "again")).output
    second = tmp_path / "again" / f"{CODE}-archive.zip"
    with zipfile.ZipFile(finished) as a, zipfile.ZipFile(second) as b:
        first_manifest, second_manifest = json.loads(a.read("manifest.json")), json.loads(b.read("manifest.json"))
        assert first_manifest["files"] == second_manifest["files"]
        assert first_manifest["data_digest"] == second_manifest["data_digest"]
        for name in a.namelist():
            if name != "manifest.json":
                assert a.read(name) == b.read(name), name
    assert first_manifest["data_digest"] in again


def test_R18_archive_of_an_unknown_class_is_one_message(cli, tmp_path):
    cli("init")
    out = cli("archive", "NOPE", "--out", str(tmp_path / "x"), ok=False).output
    assert "NOPE" in out
    assert not (tmp_path / "x" / "NOPE-archive.zip").exists()


def test_R18_verify_without_an_argument_still_checks_the_ledger(cli, finished):
    assert "台账完整" in cli("verify").output


def test_R18_a_file_that_is_not_an_archive_is_one_message(cli, tmp_path):
    bogus = tmp_path / "x.zip"
    bogus.write_bytes(b"not a zip")
    assert "不是可读的 zip 归档" in cli("verify", str(bogus), ok=False).output
