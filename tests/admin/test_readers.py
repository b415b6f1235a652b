"""Admin pages and exports read through read-only sessions: a slow export never holds up the chat.

On SQLite a session that may write begins with ``BEGIN IMMEDIATE`` and holds the database's write lock
until it ends; if an export held one, every 签到 meanwhile would wait and then fail with "database is
locked". These tests hold an export open in the middle of its work while trainees check in.
"""

from __future__ import annotations

import threading

import pytest

import admin.exports
from tests.admin.world import A
from tests.handlers.chat import Chat, at, bind_group, bind_person, create_class, roster_of

CHECK_INS = 30


@pytest.fixture
def held_export(monkeypatch):
    """The export's data is read and its session open; it waits at the writing step until released."""
    reading, release = threading.Event(), threading.Event()
    real_write = admin.exports.write_xlsx

    def slow_write(sheets):
        reading.set()
        assert release.wait(120), "the test never released the export"
        return real_write(sheets)

    monkeypatch.setattr(admin.exports, "write_xlsx", slow_write)
    return reading, release


def test_thirty_check_ins_commit_while_an_export_is_open(fresh_world, fresh_clients, held_export, tmp_path):
    with fresh_world.factory.begin() as s:
        klass = create_class(s, code="BT-2026-030", size=CHECK_INS)
        senders = [bind_person(s, person, f"t{n}").sender_id for n, person in enumerate(roster_of(s, klass))]
        bind_group(s, klass, "cid-030")
    client = fresh_clients["admin"]
    reading, release = held_export
    responses = []
    export = threading.Thread(target=lambda: responses.append(client.get(f"/exports/{A}/attendance.xlsx")))
    export.start()
    try:
        assert reading.wait(60), "the export did not start"
        chat = Chat(fresh_world.factory, tmp_path)
        replies = [chat.say("签到", when=at("08:20"), sender=sender, group="cid-030") for sender in senders]
    finally:
        release.set()
        export.join(60)
    assert replies == [["签到成功 08:20（上午）"]] * CHECK_INS
    assert [r.status_code for r in responses] == [200]
    assert responses[0].mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
