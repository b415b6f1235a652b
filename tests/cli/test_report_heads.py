"""R11/R17: `dingclass report daily` signs each class's ledger head at the end of the day with the
ledger key (when the key file is here) and writes it, with its signature, into the class's sheet."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import select

from storage import ledger_keys, ledger_verify
from storage.models import Klass, LedgerChain, LedgerCheckpoint
from tests.handlers.chat import create_class

TZ = ZoneInfo("Asia/Shanghai")
DAY = datetime.now(TZ).date() + timedelta(days=40)  # ahead of the real clock that stamps ledger events


def test_R11_R17_report_daily_signs_and_writes_each_class_head(cli, factory, tmp_path):
    cli("init")  # the ledger key (DINGCLASS_LEDGER_KEY, outside the data dir)
    signer = ledger_keys.load_key(Path(os.environ["DINGCLASS_LEDGER_KEY"]))
    with factory() as s:
        for code, seed in (("BT-S1", 1), ("BT-S2", 2)):
            create_class(s, code=code, size=2, seed=seed, start=DAY.isoformat(), end=(DAY + timedelta(days=3)).isoformat())
        s.commit()
    out = tmp_path / "day.xlsx"
    cli("report", "daily", "--date", DAY.isoformat(), "--out", str(out))
    cli("report", "daily", "--date", DAY.isoformat(), "--out", str(out))  # again: nothing signed twice
    book = load_workbook(out)
    with factory() as s:
        heads = {k.code: s.get(LedgerChain, k.id) for k in s.scalars(select(Klass))}
        signed = [(c.class_code, c.seq, c.key_id) for c in s.scalars(
            select(LedgerCheckpoint).where(LedgerCheckpoint.class_code.is_not(None)).order_by(LedgerCheckpoint.id))]
        assert ledger_verify.verify(s, trusted_keys=[signer.public_hex]).ok
    assert signed == [("BT-S1", heads["BT-S1"].seq, signer.key_id), ("BT-S2", heads["BT-S2"].seq, signer.key_id)]
    for code, head in heads.items():
        cells = [c for row in book[code].iter_rows(values_only=True) for c in row if isinstance(c, str)]
        assert f"台账链头（当日结束时）：第 {head.seq} 条 {head.hash}" in cells
        assert any(c.startswith(f"链头签名：密钥 {signer.key_id}，") for c in cells)
    notes = [c for row in book["昆都仑区"].iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert f"台账签名公钥：{signer.public_hex}" in notes
