"""Issue 9 item 3 and part of 6: absurd plans and rosters are refused with the numbers, before they
reach the pages and reports that would have to loop over them; class codes are safe in a URL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.samples.generate import trainees
from storage.models import Enrollment, Klass, Person
from tests.security.conftest import csv_roster, write_plan


def counts(factory) -> tuple[int, int, int]:
    with factory() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Klass, Person, Enrollment))


def test_a_course_from_year_1_to_9999_is_refused(cli, factory, plan_dir):
    plan = write_plan(plan_dir, start_date="0001-01-01", end_date="9999-12-31")
    output = cli("class", "create", str(plan), ok=False).output
    assert "start_date（开始日期）应在 2000 年到 2099 年之间，实际为“0001-01-01”" in output
    assert "end_date（结束日期）应在 2000 年到 2099 年之间，实际为“9999-12-31”" in output
    assert counts(factory) == (0, 0, 0)


def test_a_course_longer_than_the_profile_allows_is_refused_with_the_numbers(cli, factory, plan_dir):
    plan = write_plan(plan_dir, start_date="2026-01-01", end_date="2027-12-31")
    output = cli("class", "create", str(plan), ok=False).output
    assert "培训期 2026-01-01 至 2027-12-31 共 730 天，超过最长 366 天" in output
    assert counts(factory) == (0, 0, 0)
    cli("class", "create", str(write_plan(plan_dir, start_date="2026-01-01", end_date="2027-01-01")))


def test_a_plan_cannot_raise_its_own_limits(cli, factory, plan_dir):
    plan = write_plan(plan_dir, overrides="{ limits = { max_course_days = 100000, max_trainees = 100000 } }")
    assert "不能修改 limits" in cli("class", "create", str(plan), ok=False).output
    assert counts(factory) == (0, 0, 0)


def test_a_roster_over_the_class_limit_is_refused_before_its_rows_are_checked(cli, factory, plan_dir):
    cli("class", "create", str(write_plan(plan_dir)))
    rows = [("某人", "男", "1", "1", "x")] * 100_000  # 100,000 rows: refused on their count alone
    output = cli("roster", "import", "BT-2026-001", csv_roster(plan_dir / "huge.csv", rows), ok=False).output
    assert "超过一个班最多 1000 名学员的上限" in output
    assert counts(factory) == (1, 0, 0)


def test_the_limit_counts_the_trainees_already_in_the_class(cli, factory, plan_dir):
    cli("class", "create", str(write_plan(plan_dir)))
    people = trainees(1001, seed=9)
    cli("roster", "import", "BT-2026-001", csv_roster(plan_dir / "first.csv", people[:990]))
    output = cli("roster", "import", "BT-2026-001", csv_roster(plan_dir / "more.csv", people[990:]), ok=False).output
    assert "本文件有 11 名学员，班里已有 990 名，超过一个班最多 1000 名学员的上限" in output
    assert counts(factory)[2] == 990
    cli("roster", "import", "BT-2026-001", csv_roster(plan_dir / "ten.csv", people[990:1000]))
    assert counts(factory)[2] == 1000


SAFE = "只能由 1 到 32 个英文字母、数字、下划线或短横线组成"


@pytest.mark.parametrize(("code", "expected"), [
    ('"../../x y<script>"', SAFE), ('"BT 2026"', SAFE), ('"班级一"', SAFE), ('"BT/001"', SAFE),
    ('"' + "A" * 33 + '"', "太长：最多 32 个字符，实际 33 个"), ('"BT\\u0000001"', "空字符（NUL） U+0000"),
])
def test_a_class_code_outside_the_safe_alphabet_is_refused(cli, factory, plan_dir, code, expected):
    output = cli("class", "create", str(write_plan(plan_dir, code=code)), ok=False).output
    assert "code（班级编号）" in output and expected in output
    assert counts(factory) == (0, 0, 0)


def test_a_code_with_underscores_and_32_characters_is_fine(cli, factory, plan_dir):
    cli("class", "create", str(write_plan(plan_dir, code='"BT_2026-' + "9" * 24 + '"')))
    assert counts(factory)[0] == 1


def test_a_csv_cell_over_128_kb_is_a_clear_refusal(cli, factory, plan_dir):
    cli("class", "create", str(write_plan(plan_dir)))
    path = plan_dir / "wide.csv"
    path.write_text("姓名,性别,身份证号,手机号,身份类别\n" + "张三,男," + "1" * 200_000 + ",13800000000,x\n",
                    encoding="utf-8")
    output = cli("roster", "import", "BT-2026-001", str(path), ok=False).output
    assert "CSV 文件第 2 行无法读取：单元格过长" in output
    assert "内部错误" not in output and counts(factory) == (1, 0, 0)
