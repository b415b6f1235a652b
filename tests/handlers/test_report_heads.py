"""R11/R17: the daily report carries each class's ledger head at the end of the day, signed with the
ledger key — in the morning summary, the workbook and the API — and a district can check them later
with ``verify --anchor``."""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from admin import create_app
from handlers import accounts, daily_report
from scheduler import run_due
from storage import ledger, ledger_keys, ledger_verify
from storage.models import DingTalkIdentity, Klass, LedgerChain, LedgerEvent

from .chat import Chat, add_staff, bind_group, bind_person, create_class, roster_of

TZ = ZoneInfo("Asia/Shanghai")
# the ledger stamps events with the real clock: a class day ahead of it has all of today's events before its end
DAY = datetime.now(TZ).date() + timedelta(days=40)
MORNING = datetime.combine(DAY + timedelta(days=1), time(8, 0), TZ)


@pytest.fixture
def world(factory, tmp_path):
    with factory() as s:
        for code, seed in (("BT-H1", 1), ("BT-H2", 2)):
            klass = create_class(s, code=code, size=2, seed=seed, start=DAY.isoformat(),
                                 end=(DAY + timedelta(days=5)).isoformat())
            bind_group(s, klass, f"cid-{code}")
            for n, person in enumerate(roster_of(s, klass), start=1):
                bind_person(s, person, f"{code}-u{n}")
        add_staff(s, "insp", "inspector", name="赵督查", district_id=klass.district_id)
        ident = s.scalar(select(DingTalkIdentity).where(DingTalkIdentity.sender_id == "insp"))
        ident.staff_user_id = "staff-zhao"
        ledger.append(s, "identity.staff_id", actor="test", source="test", subject=ident)
        accounts.add_user(s, "admin", "admin")
        accounts.add_user(s, "inst", "institution", institution="包头市鹿城职业培训学校")
        tokens = {name: accounts.issue_token(s, name) for name in ("admin", "inst")}
        s.commit()
    chat = Chat(factory, tmp_path)
    chat.say("绑定督查群 昆都仑区", when=datetime.combine(DAY, time(9), TZ), sender="insp", group="cid-sup")
    with factory() as s:  # an event stamped after the day ended: not covered by that day's anchor
        k2 = s.scalar(select(Klass).where(Klass.code == "BT-H2"))
        before = s.get(LedgerChain, k2.id).seq
        ledger.append(s, "test.note", actor="test", source="test", class_code="BT-H2",
                      at=datetime.combine(DAY + timedelta(days=1), time(0, 5), TZ))
        s.commit()
    return chat, tokens, before


def test_R11_R17_the_report_carries_each_class_signed_head_at_the_end_of_the_day(world, factory, tmp_path):
    chat, tokens, h2_seq = world
    signer = ledger_keys.Signer(ledger_keys.Ed25519PrivateKey.generate())
    run_due(factory, MORNING, "test", files=chat.files, signer=signer)  # the morning job signs, then sends
    with factory() as s:
        k1, k2 = s.scalars(select(Klass).order_by(Klass.code))
        h1_seq = s.get(LedgerChain, k1.id).seq
        h1_hash = s.scalar(select(LedgerEvent.hash).where(LedgerEvent.chain == k1.id, LedgerEvent.seq == h1_seq))
        h2_hash = s.scalar(select(LedgerEvent.hash).where(LedgerEvent.chain == k2.id, LedgerEvent.seq == h2_seq))
    chat.last = MORNING
    chat.deliver()
    (md,) = [p["text"] for target, key, p in chat.api.rich if key == "sampleMarkdown" and target == "cid-sup"]
    assert f"台账链头（当日结束时）：第 {h1_seq} 条 {h1_hash}，已签名（密钥 {signer.key_id}" in md
    assert f"台账链头（当日结束时）：第 {h2_seq} 条 {h2_hash}，已签名" in md  # not the 00:05 event
    assert f"台账签名公钥：{signer.public_hex}" in md
    (name, data) = next(v for v in chat.api.media.values())
    cells = [c for row in load_workbook(io.BytesIO(data))["BT-H2"].iter_rows(values_only=True) for c in row
             if isinstance(c, str)]
    facts = dict(c.split("：", 1) for c in cells if c.startswith(("台账链头（当日结束时）：", "链头签名：")))
    assert facts["台账链头（当日结束时）"] == f"第 {h2_seq} 条 {h2_hash}"
    assert facts["链头签名"].startswith(f"密钥 {signer.key_id}，") and len(facts["链头签名"].split("：")[-1]) == 128

    app = create_app({"SECRET_KEY": "report-heads-test-secret-key-32-bytes!!", "SESSION_FACTORY": factory,
                      "NOW": lambda: MORNING, "DATA_DIR": tmp_path, "TIMEZONE": TZ})
    client = app.test_client()

    def api(user):
        return client.get(f"/api/v1/reports/daily?date={DAY.isoformat()}",
                          headers={"Authorization": f"Bearer {tokens[user]}"}).get_json()

    rows = api("admin")
    assert [(r["class"], r["ledger_head"]["seq"], r["ledger_head"]["hash"]) for r in rows] == [
        ("BT-H1", h1_seq, h1_hash), ("BT-H2", h2_seq, h2_hash)]
    assert [r["ledger_head"] for r in api("inst")] == [None, None]  # the institution is not shown the heads
    anchor = {"heads": [r["ledger_head"] for r in rows]}  # what the district keeps
    with factory() as s:
        assert ledger_verify.verify(s, trusted_keys=[signer.public_hex], anchor=anchor).ok
    with factory() as s:  # the institution rewrites BT-H1's last event and re-hashes: the district notices
        last = s.scalar(select(LedgerEvent).where(LedgerEvent.chain == rows[0]["ledger_head"]["chain"],
                                                  LedgerEvent.seq == h1_seq))
        last.hash = "0" * 64
        s.commit()
    with factory() as s:
        problems = [p.kind for p in ledger_verify.verify(s, trusted_keys=[signer.public_hex], anchor=anchor).problems]
        assert "anchor" in problems


def test_R11_without_the_key_the_report_says_the_heads_are_unsigned(world, factory):
    chat, _, _ = world
    with factory() as s:
        report = daily_report.build(s, DAY, tz=TZ)
        (district,) = report.districts
        text = daily_report.markdown(report, district)
    assert text.count("台账链头（当日结束时）") == 2 and "未签名" in text and "台账签名公钥" not in text
