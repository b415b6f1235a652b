"""Policy profiles (every RULES.md number as data) and exact ratio arithmetic."""

import tomllib
from fractions import Fraction
from importlib import resources

import pytest

from handlers.policy import (
    DEFAULT_PROFILE,
    PolicyError,
    format_percent,
    load_profile,
    max_count,
    meets_ratio,
    min_count,
    profile_names,
)

SHIPPED = ["baotou-2020", "baotou-2023", "hengyang-2020", "shapingba-2020", "wuhai-2020"]


def _keys(table: dict, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in table.items():
        keys.add(prefix + key)
        if isinstance(value, dict):
            keys |= _keys(value, f"{prefix}{key}.")
    return keys


def _raw(name: str) -> dict:
    text = resources.files("handlers").joinpath("profiles", f"{name}.toml").read_text("utf-8")
    return tomllib.loads(text)


def test_the_five_seed_profiles_ship_and_baotou_2020_is_default():
    assert profile_names() == SHIPPED
    assert DEFAULT_PROFILE == "baotou-2020"


@pytest.mark.parametrize("name", SHIPPED)
def test_every_profile_loads_and_names_its_sources(name):
    profile = load_profile(name)
    assert profile.name == name
    assert profile.meta.seeds
    for group in vars(profile).values():
        if hasattr(group, "source"):
            assert group.source.strip(), f"{name}: a group without source"


def test_every_profile_file_has_the_same_keys():
    reference = _keys(_raw(DEFAULT_PROFILE))
    for name in SHIPPED:
        assert _keys(_raw(name)) == reference, name


def test_unknown_profile_is_refused_listing_the_available_names():
    with pytest.raises(PolicyError) as caught:
        load_profile("beijing-2020")
    message = str(caught.value)
    assert "beijing-2020" in message
    for name in SHIPPED:
        assert name in message


def test_override_changes_one_setting_and_leaves_the_profile_alone():
    changed = load_profile("baotou-2020", {"roll_call": {"min_sample": 0.6, "answer_minutes": 5}})
    assert changed.roll_call.min_sample == Fraction(3, 5)
    assert changed.roll_call.answer_minutes == 5
    assert changed.roll_call.every_days == 2
    assert load_profile("baotou-2020").roll_call.min_sample == Fraction(1, 2)


@pytest.mark.parametrize(
    "overrides, key",
    [
        ({"roll_call": {"sample": 0.6}}, "roll_call.sample"),
        ({"rollcall": {"min_sample": 0.6}}, "rollcall"),
        ({"name": "x"}, "name"),
    ],
)
def test_override_of_unknown_key_is_refused_naming_it(overrides, key):
    with pytest.raises(PolicyError) as caught:
        load_profile("baotou-2020", overrides)
    assert f"政策设置 {key} 不存在" in str(caught.value)


@pytest.mark.parametrize(
    "overrides, key",
    [
        ({"roll_call": {"every_days": "2"}}, "roll_call.every_days"),
        ({"roll_call": {"every_days": True}}, "roll_call.every_days"),
        ({"study": {"min_ratio": 1.5}}, "study.min_ratio"),
        ({"study": {"min_ratio": "很多"}}, "study.min_ratio"),
        ({"inspection": {"enabled": 1}}, "inspection.enabled"),
        ({"online_share": {"kind": "maximum"}}, "online_share.kind"),
        ({"roll_call": 3}, "roll_call"),
    ],
)
def test_override_with_wrong_type_is_refused_naming_the_key(overrides, key):
    with pytest.raises(PolicyError) as caught:
        load_profile("baotou-2020", overrides)
    assert key in str(caught.value)


def test_ratio_override_may_be_a_fraction_text():
    profile = load_profile("baotou-2020", {"inspection": {"phone_check_share": "1/4"}})
    assert profile.inspection.phone_check_share == Fraction(1, 4)


# --- Exact ratios -------------------------------------------------------------------------------


def test_R09_meets_ratio_fails_at_79_9_and_passes_at_80_0_percent():
    ratio = load_profile(DEFAULT_PROFILE).study.min_ratio
    assert not meets_ratio(799, 1000, ratio)
    assert meets_ratio(800, 1000, ratio)
    assert not meets_ratio(79.9, 100, 0.8)
    assert meets_ratio(80.0, 100, 0.8)


def test_R16_meets_ratio_is_exact_where_binary_floats_are_not():
    # Fraction(0.8) is the binary value just above 4/5, which would wrongly fail exactly 80%.
    assert Fraction(4, 5) < Fraction(0.8)
    assert meets_ratio(4, 5, 0.8)
    assert meets_ratio(28, 35, load_profile(DEFAULT_PROFILE).removal.min_ratio)
    assert not meets_ratio(27, 35, 0.8)


def test_meets_ratio_with_nothing_required_is_met():
    assert meets_ratio(0, 0, 0.8)


def test_min_count_rounds_a_share_up():
    assert min_count(7, Fraction(1, 2)) == 4
    assert min_count(8, 0.5) == 4
    assert min_count(10, "1/3") == 4
    assert min_count(10, 0.3) == 3


def test_R03_max_count_rounds_the_cap_down():
    assert max_count(101, 0.4) == 40
    assert max_count(100, 0.4) == 40


def test_format_percent():
    assert format_percent(Fraction(2, 5)) == "40%"
    assert format_percent(0.3) == "30%"
    assert format_percent("1/3") == "33.3%"
