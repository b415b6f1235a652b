"""R01 training plan files and the R03 online-share check."""

from datetime import date, time

import pytest

from handlers.plans import (
    PlanError,
    Platform,
    Session,
    check_plan,
    class_profile,
    parse_plan,
    plan_days,
)
from handlers.policy import load_profile

GOOD = """
code = "BT-2024-001"
name = "电工 2024 第1期"
occupation = "电工"
institution = "包头市某职业培训学校"
district = "昆都仑区"
mode = "live"
start_date = 2024-03-04
end_date = "2024-03-08"
total_hours = 100
online_hours = 40
platform = { name = "钉钉直播", url = "https://www.dingtalk.com" }
teachers = ["张老师", "王老师"]
class_teacher = "李老师"

[[sessions]]
name = "上午"
start = "08:30"
end = "11:30"

[[sessions]]
name = "下午"
start = 14:00:00
end = "17:00"
"""


def _errors(text: str) -> list[str]:
    with pytest.raises(PlanError) as caught:
        parse_plan(text)
    return caught.value.errors


def test_R01_parses_a_plan_into_typed_fields():
    plan = parse_plan(GOOD)
    assert plan.code == "BT-2024-001"
    assert plan.mode == "live"
    assert (plan.start_date, plan.end_date) == (date(2024, 3, 4), date(2024, 3, 8))
    assert (plan.total_hours, plan.online_hours) == (100, 40)
    assert plan.platform == Platform("钉钉直播", "https://www.dingtalk.com")
    assert plan.teachers == ("张老师", "王老师")
    assert plan.sessions == (
        Session("上午", time(8, 30), time(11, 30)),
        Session("下午", time(14, 0), time(17, 0)),
    )
    assert plan.sessions[0].minutes == 180
    assert (plan.lesson_minutes, plan.policy, plan.materials, plan.live_ids) == (None, None, (), ())


def test_R01_reads_the_optional_fields():
    extra = (
        'lesson_minutes = 40\npolicy = "wuhai-2020"\nmaterials = ["电工基础.pdf"]\n'
        'commitment_file = "承诺书.pdf"\nlive_ids = ["L1", "L2"]\n'
        "overrides = { roll_call = { min_sample = 0.6 } }\n"
    )
    plan = parse_plan(extra + GOOD)
    assert plan.lesson_minutes == 40
    assert plan.policy == "wuhai-2020"
    assert plan.materials == ("电工基础.pdf",)
    assert plan.commitment_file == "承诺书.pdf"
    assert plan.live_ids == ("L1", "L2")
    profile = class_profile(plan)
    assert profile.name == "wuhai-2020"
    assert profile.plan.lesson_minutes == 40
    assert profile.roll_call.min_sample * 10 == 6


def test_R01_class_profile_uses_the_default_profile_and_its_lesson_minutes():
    profile = class_profile(parse_plan(GOOD))
    assert profile.name == "baotou-2020"
    assert profile.plan.lesson_minutes == 45
    assert class_profile(parse_plan(GOOD), default="hengyang-2020").name == "hengyang-2020"


def test_R01_lists_three_problems_at_once():
    text = GOOD.replace('mode = "live"', 'mode = "online"')
    text = text.replace('class_teacher = "李老师"\n', "")
    text = text.replace('end = "11:30"', 'end = "14:30"')
    errors = _errors(text)
    assert len(errors) == 3
    message = str(PlanError(errors))
    assert message.startswith("培训计划有 3 个问题：")
    assert "online" in message and "live（直播）" in message
    assert "class_teacher（班主任）" in message
    assert "“上午”" in message and "“下午”" in message and "重叠" in message


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ('occupation = "电工"\n', "", ["缺少必填字段 occupation", "职业/工种"]),
        ("total_hours = 100", "total_hours = 10.5", ["total_hours", "正整数", "10.5"]),
        ("online_hours = 40", "online_hours = 0", ["online_hours", "正整数"]),
        ("start_date = 2024-03-04", 'start_date = "2024-02-30"', ["start_date", "2024-02-30"]),
        ('end_date = "2024-03-08"', "end_date = 2024-03-01", ["2024-03-01", "早于", "2024-03-04"]),
        (
            'mode = "live"',
            'mode = "zoom"',
            ["zoom", "live（直播）", "recorded（录播）", "platform（平台资源）"],
        ),
        ('start = "08:30"', 'start = "8.30"', ["“上午”", "start", "HH:MM", "8.30"]),
        ('end = "17:00"', 'end = "13:00"', ["“下午”", "13:00", "不晚于", "14:00"]),
        ("online_hours = 40", "online_hours = 120", ["线上课时 120", "总课时 100"]),
        ('mode = "live"', 'mode = "live"\npolicy = "beijing"', ["beijing", "baotou-2020"]),
        ('mode = "live"', 'mode = "live"\nbudget = 1', ["budget"]),
        ('url = "https://www.dingtalk.com"', 'url = "www.dingtalk.com"', ["platform.url", "http"]),
        ('teachers = ["张老师", "王老师"]', "teachers = []", ["teachers", "授课讲师"]),
        (
            'mode = "live"',
            'mode = "live"\noverrides = { roll_call = { sample = 1 } }',
            ["overrides", "roll_call.sample"],
        ),
        ('name = "下午"', 'name = "上午"', ["“上午”", "重复"]),
    ],
)
def test_R01_names_each_problem(old, new, expected):
    assert old in GOOD
    errors = _errors(GOOD.replace(old, new, 1))
    message = "\n".join(errors)
    for part in expected:
        assert part in message


def test_R01_no_sessions_is_refused():
    text = GOOD[: GOOD.index("[[sessions]]")]
    assert any("[[sessions]]" in error for error in _errors(text))


def test_R01_not_toml_is_refused_in_chinese():
    errors = _errors("code = ")
    assert len(errors) == 1
    assert errors[0].startswith("培训计划不是有效的 TOML 文件")


def test_R01_empty_file_names_every_required_field():
    message = str(PlanError(_errors("")))
    for field in ("code", "name", "occupation", "institution", "district", "mode", "start_date",
                  "end_date", "total_hours", "online_hours", "platform", "teachers", "class_teacher"):
        assert f"缺少必填字段 {field}" in message
    assert "[[sessions]]" in message


def test_R03_baotou_refuses_online_over_40_percent_with_the_numbers():
    plan = parse_plan(GOOD.replace("online_hours = 40", "online_hours = 50"))
    with pytest.raises(PlanError) as caught:
        check_plan(plan, load_profile("baotou-2020"))
    assert str(caught.value) == "线上课时 50 超过总课时 100 的 40%（最多 40 课时）"


def test_R03_baotou_accepts_exactly_40_percent_and_rounds_the_cap_down():
    check_plan(parse_plan(GOOD), load_profile("baotou-2020"))
    text = GOOD.replace("total_hours = 100", "total_hours = 101")
    plan = parse_plan(text.replace("online_hours = 40", "online_hours = 41"))
    with pytest.raises(PlanError) as caught:
        check_plan(plan, load_profile("baotou-2020"))
    assert "最多 40 课时" in str(caught.value)


def _hours(online: int, theory: int | None = None, extra: str = "") -> str:
    text = GOOD.replace("online_hours = 40", f"online_hours = {online}")
    return (f"theory_hours = {theory}\n" if theory is not None else "") + extra + text


def test_R03_hengyang_a_20_percent_online_plan_with_30_percent_theory_is_accepted():
    check_plan(parse_plan(_hours(20, theory=30)), load_profile("hengyang-2020"))
    check_plan(parse_plan(_hours(30, theory=30)), load_profile("hengyang-2020"))  # all theory online


def test_R03_hengyang_35_percent_online_with_30_percent_theory_is_refused_with_the_numbers():
    with pytest.raises(PlanError) as caught:
        check_plan(parse_plan(_hours(35, theory=30)), load_profile("hengyang-2020"))
    assert str(caught.value) == "线上课时 35 超过理论课时 30：只有理论课可以线上进行，实训课须线下（R03）"


def test_R03_shapingba_it_and_entrepreneurship_classes_go_beyond_theory_only_with_the_approval_noted():
    shapingba = load_profile("shapingba-2020")
    it_class = _hours(60, theory=30).replace('occupation = "电工"', 'occupation = "计算机网络技术"')
    with pytest.raises(PlanError) as caught:
        check_plan(parse_plan(it_class), shapingba)
    assert "线上课时 60 超过理论课时 30" in str(caught.value) and "online_approval" in str(caught.value)
    approved = 'online_approval = "渝北区人社局 2020-03-02 同意提高线上比例"\n' + it_class
    check_plan(parse_plan(approved), shapingba)
    electrician = _hours(60, theory=30, extra='online_approval = "同意"\n')
    with pytest.raises(PlanError):  # not an IT or 创业 class: the approval does not help
        check_plan(parse_plan(electrician), shapingba)


def test_R03_limit_follows_a_class_override():
    text = GOOD.replace("online_hours = 40", "online_hours = 50")
    plan = parse_plan("overrides = { online_share = { ratio = 0.5 } }\n" + text)
    check_plan(plan, class_profile(plan))
    with pytest.raises(PlanError):
        check_plan(plan, load_profile("baotou-2020"))


def test_plan_days_lists_every_day_inclusive():
    assert plan_days(parse_plan(GOOD)) == [date(2024, 3, d) for d in range(4, 9)]
    one_day = parse_plan(GOOD.replace('end_date = "2024-03-08"', "end_date = 2024-03-04"))
    assert plan_days(one_day) == [date(2024, 3, 4)]


def test_R03_hengyang_online_up_to_the_theory_hours_30_of_100_is_accepted_and_31_or_theory_29_refused():
    hengyang = load_profile("hengyang-2020")
    check_plan(parse_plan(_hours(30, theory=30)), hengyang)  # 30% online, 30% theory: the boundary itself
    check_plan(parse_plan(_hours(29, theory=30)), hengyang)
    with pytest.raises(PlanError) as caught:
        check_plan(parse_plan(_hours(31, theory=30)), hengyang)
    assert "线上课时 31 超过理论课时 30" in str(caught.value)
    with pytest.raises(PlanError) as caught:
        check_plan(parse_plan(_hours(30, theory=29)), hengyang)
    assert "线上课时 30 超过理论课时 29" in str(caught.value)


def test_R03_a_minimum_share_of_30_percent_refuses_29_and_accepts_30():
    text = "overrides = { online_share = { kind = \"min\", ratio = 0.30 } }\n" + _hours(29)
    with pytest.raises(PlanError) as caught:
        check_plan(parse_plan(text), class_profile(parse_plan(text)))
    assert str(caught.value) == "线上课时 29 低于总课时 100 的 30%（至少 30 课时）"
    text = text.replace("online_hours = 29", "online_hours = 30")
    check_plan(parse_plan(text), class_profile(parse_plan(text)))
