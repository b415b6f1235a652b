"""R13 in the admin's API: roll call lists and details, fractions, the seed after the window, scope."""

from __future__ import annotations

import hashlib
import math
from fractions import Fraction

from tests.admin.world import A

from .test_aggregates import api


def test_R13_api_lists_the_class_roll_calls_with_fraction_pass_rates(clients, world):
    (line,) = api(clients, world, f"/api/v1/classes/{A}/rollcalls")
    assert line["id"] == world.rollcall and line["by"] == "命令行（cli:admin）"
    assert line["sampled"] == 3 and line["answered"] == 2
    assert 0 <= line["pass_rate"] <= 1 and len(line["seed_commitment"]) == 64


def test_R13_api_roll_call_detail_reveals_the_seed_once_closed_and_names_the_sample(clients, world):
    detail = api(clients, world, f"/api/v1/rollcalls/{world.rollcall}")
    assert detail["class"] == A and detail["ratio"] == 0.5 and detail["window_minutes"] == 10
    assert hashlib.sha256(detail["seed"].encode()).hexdigest() == detail["seed_commitment"]
    assert len(detail["sampled"]) == 3 and detail["sampled"][0]["answered_at"] is None
    assert all(row["answered_at"].startswith("2026-12-01T02:03") for row in detail["sampled"][1:])
    counted = sum(1 for row in detail["sampled"] if not row["excused"])
    assert detail["pass_rate"] == math.floor(Fraction(2, counted) * 10000) / 10000  # a fraction, truncated
    assert detail["passed"] is (2 / counted >= 0.8)


def test_R13_roll_calls_of_another_district_do_not_exist_for_the_caller(clients, world):
    for url in (f"/api/v1/rollcalls/{world.rollcall}", f"/api/v1/classes/{A}/rollcalls", "/api/v1/rollcalls/9999"):
        response = clients["anonymous"].get(url, headers={"Authorization": f"Bearer {world.tokens['dist_q']}"})
        assert response.status_code == 404


def test_R14_api_lists_inspections_with_fraction_ratios(clients, world):
    (row,) = api(clients, world, f"/api/v1/classes/{A}/inspections")
    assert (row["kind"], row["level"], row["expected"], row["found"], row["ratio"], row["passed"]) == (
        "video", "district", 5, 4, 0.8, True)
    assert row["by"] == "user:dist_k" and row["at"].startswith("2026-12-01T07:00")
