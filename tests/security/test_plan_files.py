"""Issue 9 item 1: a plan's ``commitment_file`` must not read any other file of the machine.

The attack: an institution writes ``commitment_file = "/proc/self/environ"`` (or any path) in its plan;
``class create`` used to store that file and the admin served it — secrets included. Every path is
refused now with the reason and nothing is created; the admin serves only a PDF or image, as a
download, even one stored before this check existed.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from handlers import accounts, classes
from handlers.plans import COMMITMENT_MAX_BYTES, parse_plan
from storage.files import FileStore
from storage.models import Klass
from tests.security.conftest import PDF, login, make_app, write_plan


def classes_made(factory) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(Klass))


def stored_files(tmp_path) -> list:
    root = tmp_path / "var" / "files"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.parametrize("path", ["/proc/self/environ", "/etc/passwd", "../../../../etc/hostname",
                                  "../plan-of-another-institution/commitment.pdf", "sub/../../x.pdf"])
def test_a_plan_cannot_name_a_file_outside_its_folder(cli, factory, plan_dir, tmp_path, path):
    plan = write_plan(plan_dir, commitment_file=f'"{path}"')
    result = cli("class", "create", str(plan), ok=False)
    assert "不在培训计划所在的文件夹里" in result.output
    assert "DINGCLASS" not in result.output and "root:" not in result.output
    assert classes_made(factory) == 0 and stored_files(tmp_path) == []


def test_a_symbolic_link_out_of_the_folder_is_refused(cli, factory, plan_dir, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.pdf").write_bytes(PDF + b"another institution's letter")
    plan = write_plan(plan_dir, commitment_file='"letter.pdf"')
    os.symlink(outside / "secret.pdf", plan_dir / "letter.pdf")  # a PDF, but not this plan's
    os.symlink("/etc", plan_dir / "etc")
    assert "不在培训计划所在的文件夹里" in cli("class", "create", str(plan), ok=False).output
    plan = write_plan(plan_dir, commitment_file='"etc/passwd"')
    assert "不在培训计划所在的文件夹里" in cli("class", "create", str(plan), ok=False).output
    assert classes_made(factory) == 0 and stored_files(tmp_path) == []


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("notes.txt", b"plain text", "只接受 PDF、PNG、JPEG"),
    ("fake.pdf", b"#!/bin/sh\nrm -rf /\n", "只接受 PDF、PNG、JPEG"),  # the name says PDF, the content does not
    ("photo.png", PDF, "只接受 PDF、PNG、JPEG"),  # a PDF wearing a picture's name
    ("big.pdf", PDF + b"0" * COMMITMENT_MAX_BYTES, "太大：最多 10 MB"),
])
def test_only_a_pdf_or_image_of_bounded_size_is_accepted(cli, factory, plan_dir, tmp_path, name, content, expected):
    plan = write_plan(plan_dir, commitment_file=f'"{name}"')
    (plan_dir / name).write_bytes(content)
    assert expected in cli("class", "create", str(plan), ok=False).output
    assert classes_made(factory) == 0 and stored_files(tmp_path) == []


def test_a_folder_named_as_the_file_is_refused(cli, factory, plan_dir):
    plan = write_plan(plan_dir, commitment_file='"scans"')
    (plan_dir / "scans").mkdir()
    assert "不是普通文件" in cli("class", "create", str(plan), ok=False).output
    assert classes_made(factory) == 0


def test_a_letter_in_a_subfolder_of_the_plan_is_stored(cli, factory, plan_dir, tmp_path):
    plan = write_plan(plan_dir, commitment_file='"scans/承诺书.pdf"')
    (plan_dir / "scans").mkdir()
    (plan_dir / "scans" / "承诺书.pdf").write_bytes(PDF)
    cli("class", "create", str(plan))
    with factory() as s:
        klass = s.scalar(select(Klass))
        assert klass.commitment_name == "承诺书.pdf"
    assert [p.read_bytes() for p in stored_files(tmp_path)] == [PDF]


def _class_with_commitment(factory, tmp_path, name: str, content: bytes) -> tuple[str, str]:
    files = FileStore(tmp_path / "files")
    with factory.begin() as s:
        plan = parse_plan(write_plan(tmp_path / "plan").read_text(encoding="utf-8"))
        classes.create_class(s, plan, actor="test", source="test", default_policy="baotou-2020",
                             commitment=(name, files.put(content)))
        password = accounts.add_user(s, "机构甲", "institution", institution=plan.institution)
    return plan.code, password


def test_the_admin_serves_the_letter_as_a_download_of_its_type(factory, tmp_path):
    code, password = _class_with_commitment(factory, tmp_path, "承诺书.pdf", PDF)
    client = make_app(factory, tmp_path).test_client()
    login(client, "机构甲", password)
    response = client.get(f"/classes/{code}/commitment")
    assert response.status_code == 200 and response.data == PDF
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_file_stored_before_the_check_is_not_served(factory, tmp_path):
    """A database from before the fix may hold /proc/self/environ as a class's letter: never served."""
    secrets = b"DINGCLASS_SECRET_KEY=abc\x00DINGTALK_CLIENT_SECRET=xyz\x00"
    code, password = _class_with_commitment(factory, tmp_path, "environ", secrets)
    client = make_app(factory, tmp_path).test_client()
    login(client, "机构甲", password)
    response = client.get(f"/classes/{code}/commitment")
    assert response.status_code == 404
    assert b"SECRET" not in response.data
