"""Issue 9 item 6: invisible characters and over-long values are refused with a clear Chinese message,
the same on SQLite (which would keep a NUL silently) and PostgreSQL (which used to print the raw SQL
with the full ID number and phone)."""

from __future__ import annotations

import sys

import pytest
from sqlalchemy import func, select

from bot.samples.generate import trainees
from handlers import hygiene
from handlers.hygiene import visible
from storage.models import Klass, Person
from tests.security.conftest import csv_roster, write_plan

INVISIBLE = [
    ("\x00", "空字符（NUL） U+0000"),
    ("\u202e", "文字方向控制符 U+202E"),  # right-to-left override: 张‮三 reads backwards
    ("\x1b", "控制字符 U+001B"),  # ESC: terminal escape sequences in a CLI listing
    ("\u200b", "零宽字符 U+200B"),  # two names that look the same and differ
]


@pytest.mark.parametrize(("char", "named"), INVISIBLE)
def test_a_roster_name_with_an_invisible_character_is_refused(cli, factory, plan_dir, char, named):
    cli("class", "create", str(write_plan(plan_dir)))
    people = trainees(3, seed=4)
    name, *rest = people[1]
    people[1] = (name[:1] + char + name[1:], *rest)
    output = cli("roster", "import", "BT-2026-001", csv_roster(plan_dir / "r.csv", people), ok=False).output
    assert f"第 2 行（表格第 3 行）姓名：含有{named}" in output
    assert "内部错误" not in output and people[1][2] not in output  # no raw SQL, no ID number
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Person)) == 0


def test_an_over_long_roster_name_is_refused_before_the_database(cli, factory, plan_dir):
    cli("class", "create", str(write_plan(plan_dir)))
    people = trainees(2, seed=5)
    people[0] = ("张" * 101, *people[0][1:])
    output = cli("roster", "import", "BT-2026-001", csv_roster(plan_dir / "r.csv", people), ok=False).output
    assert "第 1 行（表格第 2 行）姓名：太长：最多 100 个字符，实际 101 个" in output
    assert "内部错误" not in output


@pytest.mark.parametrize(("field", "value"), [("name", '"育婴员\\u202e班"'), ("class_teacher", '"王\\u0000芳"'),
                                              ("institution", '"鹿城\\u001b[2J学校"'),
                                              ("teachers", '["张丽\\u200b华"]')])
def test_plan_names_with_invisible_characters_are_refused(cli, factory, plan_dir, field, value):
    output = cli("class", "create", str(write_plan(plan_dir, **{field: value})), ok=False).output
    assert f"{field}（" in output and "看不见却会改变内容" in output
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Klass)) == 0


def test_an_over_long_plan_name_is_refused_with_the_limit(cli, factory, plan_dir):
    output = cli("class", "create", str(write_plan(plan_dir, occupation='"' + "电" * 101 + '"')), ok=False).output
    assert "occupation（职业/工种）太长：最多 100 个字符，实际 101 个" in output


@pytest.mark.parametrize(("args", "expected"), [
    (("user", "add", "ad\u202emin", "--role", "city"), "用户名含有文字方向控制符 U+202E"),
    (("user", "add", "管理\x00员", "--role", "city"), "用户名含有空字符（NUL） U+0000"),
    (("bind-code", "BT-2026-001", "--role", "teacher", "--name", "王\u200b芳"), "工作人员姓名含有零宽字符 U+200B"),
])
def test_account_and_staff_names_with_invisible_characters_are_refused(cli, factory, plan_dir, args, expected):
    cli("class", "create", str(write_plan(plan_dir)))
    output = cli(*args, ok=False).output
    assert expected in output and "内部错误" not in output


def test_chat_text_loses_exactly_the_refused_characters_whatever_the_text():
    """``visible`` (every message's text, sender and group ids) returns a printable text as it is (issue 13):
    over every code point, a character is kept exactly when the checks would keep it, so that shortcut drops
    none of the refused ones."""
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        kept = hygiene.problem(char, "x", 1, multiline=True) is None  # line breaks and tabs stay in chat text
        assert visible(char) == (char if kept else ""), f"U+{code:04X}"
