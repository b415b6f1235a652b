"""R19 in the admin: the bank account form (the institution's own, or an admin's), the package download with
full ID numbers for those who submit it and masked ones for a teacher, each download in the ledger."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from storage.models import InstitutionAccount, LedgerEvent
from tests.admin.conftest import Clients, make_app
from tests.admin.test_certificates import AFTER_THE_END, study
from tests.admin.world import A

from .test_actions import post_form

PAGE = f"/classes/{A}"
ACCOUNT = {"bank": "中国银行包头分行", "account": "6217 0000 1234 5678"}


@pytest.fixture
def ended(fresh_world):
    study(fresh_world, "王秀英", 1200)
    return Clients(make_app(fresh_world.factory, fresh_world.data_dir, now=AFTER_THE_END), fresh_world)


def account(world):
    with world.factory() as s:
        row = s.scalar(select(InstitutionAccount))
        return (row.bank, row.account) if row else None


def test_R19_the_institution_sets_its_own_bank_account_and_nobody_else_but_an_admin(fresh_world, fresh_clients):
    for user in ("city", "dist_k", "王芳"):
        assert "保存银行账户" not in fresh_clients[user].get(PAGE).get_data(as_text=True)
        assert post_form(fresh_clients[user], PAGE, f"{PAGE}/account", ACCOUNT).status_code == 403
    assert post_form(fresh_clients["inst_qs"], "/classes", f"{PAGE}/account", ACCOUNT).status_code == 404
    assert account(fresh_world) is None
    post_form(fresh_clients["inst_lc"], PAGE, f"{PAGE}/account", {"bank": "中国银行", "account": "x"})
    assert "6 到 32 位数字" in fresh_clients["inst_lc"].get(PAGE).get_data(as_text=True)
    assert post_form(fresh_clients["inst_lc"], PAGE, f"{PAGE}/account", ACCOUNT).status_code == 303
    assert account(fresh_world) == ("中国银行包头分行", "6217000012345678")
    assert "6217000012345678" in fresh_clients["city"].get(PAGE).get_data(as_text=True)


def download(client, url: str):
    """The response, read and closed (the package is streamed from a temporary file)."""
    with client.get(url) as response:
        response.get_data()
        return response


def book_of(response):
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    return load_workbook(io.BytesIO(archive.read("补贴申报表.xlsx")))


def test_R19_the_package_is_refused_with_the_reason_then_downloaded(fresh_world, ended):
    url = f"{PAGE}/subsidy.zip?stage=final&publicity_start=2026-12-14"
    refused = download(ended["inst_lc"], url)
    assert refused.status_code == 303
    assert "还没有开户银行账户" in ended["inst_lc"].get(PAGE).get_data(as_text=True)
    post_form(ended["inst_lc"], PAGE, f"{PAGE}/account", ACCOUNT)
    response = download(ended["inst_lc"], url)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    book = book_of(response)
    summary = {row[0]: row[1] for row in book["申报汇总"].iter_rows(values_only=True) if row[0] and row[1] is not None}
    # sample standard 1200; 王秀英 alone is qualified; 5 registered (陈静 was removed); baotou-2020 pre-paid
    # 1200 × 5 × 20% = 1200.00: final = 1200 × 1 − 1200.00 = 0.00
    assert summary["本次申报金额（元）"] == "0.00"
    assert "2026-12-14 起 5 个工作日，至 2026-12-18 止" in summary["公示期"]
    ids = fresh_world.id_numbers
    names = {row[1]: row[2] for row in book["学员完成情况"].iter_rows(values_only=True) if isinstance(row[0], int)}
    assert names["王秀英"] == ids["王秀英"]
    teacher = book_of(download(ended["王芳"], url))
    names = {row[1]: row[2] for row in teacher["学员完成情况"].iter_rows(values_only=True) if isinstance(row[0], int)}
    assert names["王秀英"] == ids["王秀英"][:4] + "*" * 10 + ids["王秀英"][-4:]
    assert all(ids["王秀英"] not in str(v) for sheet in teacher for row in sheet.iter_rows(values_only=True) for v in row)
    assert len(zipfile.ZipFile(io.BytesIO(response.data)).namelist()) == 1 + 2  # 王秀英's and 李建国's counted photos
    with fresh_world.factory() as s:
        events = s.scalars(select(LedgerEvent).where(LedgerEvent.type == "export.downloaded")
                           .order_by(LedgerEvent.seq)).all()
    assert [(e.actor, '"full_id_numbers":true' in e.payload) for e in events] == [("user:inst_lc", True),
                                                                                 ("user:王芳", False)]
