"""No role reads anything outside its scope, through any page, export or endpoint (handlers/scope.py).

Every route is tried by every user: inside the scope it answers, outside it is 404 (the class's
existence is not revealed); with no login a page redirects to the login form and the API answers 401.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers import accounts, scope
from handlers.errors import Refusal
from storage.models import Institution, User
from tests.admin.conftest import csrf_token
from tests.admin.world import A, B, C, SEES, USERS

NAMES = [name for name, *_ in USERS]
TRAINEE_OF = {A: "王秀英", B: "赵敏", C: "周杰"}


def class_pages(world, code: str) -> list[str]:
    eid = world.enrollments[TRAINEE_OF[code]]
    pages = [f"/classes/{code}", f"/classes/{code}/trainees/{eid}"]
    pages += [f"/exports/{code}/{kind}.{fmt}" for kind in ("attendance", "qualification")
              for fmt in ("xlsx", "csv", "pdf")]
    if code == A:
        pages.append(f"/classes/{A}/commitment")  # only A has its 承诺书 stored
    return pages


def class_endpoints(code: str) -> list[str]:
    day = "2026-12-14" if code == C else "2026-12-01"  # a day of each class
    return [f"/api/v1/classes/{code}/days/{day}", f"/api/v1/classes/{code}/summary",
            f"/api/v1/classes/{code}/rollcalls"]


@pytest.mark.parametrize("name", NAMES)
def test_scope_visible_classes_follow_the_role_rules(world, name):
    with world.factory() as s:
        user = s.scalar(select(User).where(User.name == name))
        assert {k.code for k in scope.visible_classes(s, scope.Viewer.of(user))} == SEES[name]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("code", [A, B, C])
def test_scope_class_pages_and_exports_answer_only_inside_the_scope(world, clients, name, code):
    client = clients[name]
    for url in class_pages(world, code):
        status = client.get(url).status_code
        assert status == (200 if code in SEES[name] else 404), (name, url, status)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("code", [A, B, C])
def test_scope_api_class_endpoints_answer_only_inside_the_scope(world, clients, name, code):
    client = clients["anonymous"]
    for url in class_endpoints(code):
        response = client.get(url, headers={"Authorization": f"Bearer {world.tokens[name]}"})
        assert response.status_code == (200 if code in SEES[name] else 404), (name, url)
        if response.status_code == 404:
            assert "不在您的权限范围内" in response.get_json()["error"]


@pytest.mark.parametrize("name", NAMES)
def test_scope_api_lists_only_visible_classes(world, clients, name):
    headers = {"Authorization": f"Bearer {world.tokens[name]}"}
    client = clients["anonymous"]
    assert {c["code"] for c in client.get("/api/v1/classes", headers=headers).get_json()} == SEES[name]
    daily = client.get("/api/v1/reports/daily?date=2026-12-01", headers=headers).get_json()
    assert {line["class"] for line in daily} == SEES[name] & {A, B}  # C does not run on 12-01


@pytest.mark.parametrize("name", NAMES)
def test_scope_shared_pages_show_only_visible_classes(world, clients, name):
    client = clients[name]
    for url in ("/", "/classes", "/photos", "/leave"):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        for code in {A, B, C} - SEES[name]:
            assert code not in html, (name, url, code)
    # A's flagged photo and leave requests appear only where A is visible
    photos = client.get("/photos").get_data(as_text=True)
    assert ("疑似重复" in photos) == (A in SEES[name])
    assert ("身体不适" in client.get("/leave").get_data(as_text=True)) == (A in SEES[name])


@pytest.mark.parametrize("name", NAMES)
def test_scope_photo_images_only_inside_the_scope(world, clients, name):
    for photo_id in world.photos.values():
        status = clients[name].get(f"/photos/{photo_id}/image").status_code
        assert status == (200 if A in SEES[name] else 404)


def test_scope_a_trainee_of_another_class_is_not_found_through_a_visible_class(world, clients):
    other = world.enrollments["赵敏"]  # class B
    assert clients["admin"].get(f"/classes/{A}/trainees/{other}").status_code == 404
    assert clients["inst_lc"].get(f"/classes/{A}/trainees/{other}").status_code == 404


def test_scope_unknown_class_is_404_like_an_invisible_one(world, clients):
    assert clients["admin"].get("/classes/NO-SUCH").status_code == 404
    response = clients["anonymous"].get("/api/v1/classes/NO-SUCH/summary",
                                        headers={"Authorization": f"Bearer {world.tokens['admin']}"})
    assert response.status_code == 404 and response.is_json


def test_scope_a_teacher_sees_the_classes_assigned_to_the_login_never_by_name(world):
    """Names decide nothing: a login named like C's teacher (赵老师) sees nothing until C is assigned to it,
    and a namesake of A's class teacher (a second 王芳) sees nothing of A."""
    with world.factory() as s:
        lucheng = s.scalar(select(Institution.id).where(Institution.name == "包头市鹿城职业培训学校"))
        accounts.add_user(s, "赵老师", "teacher", institution="包头市鹿城职业培训学校")
        accounts.add_user(s, "王芳(二)", "teacher", institution="包头市鹿城职业培训学校")
        zhao = s.scalar(select(User).where(User.name == "赵老师"))
        assert scope.visible_classes(s, scope.Viewer.of(zhao)) == []
        assert [k.code for k in scope.visible_classes(s, scope.Viewer(zhao.id, "王芳", "teacher", lucheng, None))] == []
        accounts.teacher_classes(s, "赵老师", add=[C], actor="test")
        assert [k.code for k in scope.visible_classes(s, scope.Viewer.of(zhao))] == [C]
        with pytest.raises(Refusal, match="不属于教师 赵老师 所在的机构"):
            accounts.teacher_classes(s, "赵老师", add=[B], actor="test")
        assert accounts.teacher_classes(s, "赵老师", remove=[C], actor="test") == []
        assert scope.visible_classes(s, scope.Viewer.of(zhao)) == []
        s.rollback()


def test_scope_user_without_scope_data_sees_nothing(world):
    with world.factory() as s:
        assert scope.visible_classes(s, scope.Viewer(0, "x", "district", None, None)) == []
        assert scope.visible_classes(s, scope.Viewer(0, "x", "institution", None, None)) == []
        assert scope.visible_classes(s, scope.Viewer(0, "x", "nobody", None, None)) == []


# --- no login ---------------------------------------------------------------------------------------

def all_pages(world) -> list[str]:
    pages = ["/", "/classes", "/photos", "/leave", "/ledger", f"/classes/{A}/commitment",
             f"/photos/{world.photos['王秀英']}/image", "/?date=2026-12-02"]
    for code in (A, B, C):
        pages += class_pages(world, code)
    return pages


def test_no_login_every_page_redirects_to_the_login_form(world, clients):
    client = clients["anonymous"]
    for url in all_pages(world):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login"), url


def test_no_login_every_form_redirects_to_the_login_form(world, app):
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    for url in (f"/classes/{B}/status", f"/photos/{world.photos['王秀英']}/review", "/logout"):
        response = client.post(url, data={"csrf_token": token, "to": "approved", "decision": "accept",
                                          "reason": "x"})
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), url


def test_no_login_the_login_redirect_keeps_the_page_asked_for(world, clients):
    response = clients["anonymous"].get(f"/classes/{A}")
    assert response.headers["Location"] == f"/login?next=/classes/{A}"


@pytest.mark.parametrize("url", ["/api/v1/classes", f"/api/v1/classes/{A}/days/2026-12-01",
                                 f"/api/v1/classes/{A}/summary", f"/api/v1/classes/{A}/rollcalls",
                                 "/api/v1/reports/daily", "/api/v1/ledger/verify"])
@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not-a-token", "Basic YWRtaW46YWRtaW4=", "bearer  "])
def test_no_token_every_endpoint_is_401_json(world, clients, url, header):
    headers = {"Authorization": header} if header is not None else {}
    response = clients["anonymous"].get(url, headers=headers)
    assert response.status_code == 401
    assert response.is_json and "Bearer" in response.get_json()["error"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_no_token_openapi_is_public_and_holds_no_data(world, clients):
    response = clients["anonymous"].get("/api/v1/openapi.json")
    assert response.status_code == 200 and A not in response.get_data(as_text=True)


def test_session_cookie_is_not_an_api_credential(world, clients):
    """The API reads bearer tokens only: a signed-in browser session gets 401 (so no CSRF through it)."""
    assert clients["admin"].get("/api/v1/classes").status_code == 401
