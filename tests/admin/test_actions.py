"""What users change through the admin: class status (R02), photo review (R08), logins — each through its
form with CSRF, each recorded in the ledger (R05, R17), each refused to roles that may not."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from handlers import accounts, review
from handlers.classes import get_class
from storage import ledger, ledger_keys, ledger_verify
from storage.models import (ApiToken, ClassTransition, LedgerCheckpoint, LedgerEvent, LoginAttempt, Photo, PlanChange,
                            User)
from tests.admin.conftest import csrf_token, login, make_app
from tests.admin.world import A, B, NOW, XSS
from tests.commitment import sign_commitment


def post_form(client, page: str, url: str, data: dict):
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def sign_b(world) -> None:
    """Class B's institution provides its commitment letter, which R02 approval requires."""
    with world.factory() as s:
        sign_commitment(s, get_class(s, B), files=world.files)
        s.commit()


def status_of(world, code: str) -> str:
    with world.factory() as s:
        return get_class(s, code).status


# --- R02 status changes ------------------------------------------------------------------------------

def test_R02_district_approves_its_class_and_the_city_files_it(fresh_world, fresh_clients):
    sign_b(fresh_world)
    response = post_form(fresh_clients["dist_q"], f"/classes/{B}", f"/classes/{B}/status",
                         {"to": "approved", "reason": "材料齐全，同意开班"})
    assert response.status_code == 303
    page = fresh_clients["dist_q"].get(response.headers["Location"]).get_data(as_text=True)
    assert "已改为“已审核”（操作人 user:dist_q）" in page
    assert status_of(fresh_world, B) == "approved"
    post_form(fresh_clients["city"], f"/classes/{B}", f"/classes/{B}/status", {"to": "filed", "reason": ""})
    assert status_of(fresh_world, B) == "filed"
    with fresh_world.factory() as s:
        klass = get_class(s, B)
        moves = s.execute(select(ClassTransition.to_status, ClassTransition.actor, ClassTransition.reason,
                                 ClassTransition.at).where(ClassTransition.class_id == klass.id)
                          .order_by(ClassTransition.id)).all()
        assert [(m[0], m[1], m[2]) for m in moves[-2:]] == [("approved", "user:dist_q", "材料齐全，同意开班"),
                                                             ("filed", "user:city", "")]
        assert moves[-1].at == NOW  # the admin's clock
        events = s.scalars(select(LedgerEvent.type).where(LedgerEvent.actor.in_(["user:dist_q", "user:city"]))
                           .order_by(LedgerEvent.chain, LedgerEvent.seq)).all()
        assert events == ["class.approve", "class.transition", "class.file", "class.transition"]
        assert ledger_verify.verify(s).ok


@pytest.mark.parametrize("name,to,status", [
    ("dist_k", "approved", 404),  # B is in 青山区: not even visible
    ("inst_lc", "approved", 404),
    ("inst_qs", "approved", 403),  # B's own institution may not approve it
    ("city", "approved", 403),  # the city files; the district approves
    ("dist_q", "filed", 403),
])
def test_R02_status_change_refused_outside_scope_or_role(fresh_world, fresh_clients, name, to, status):
    client = fresh_clients[name]
    page = f"/classes/{B}" if status == 403 else "/"
    assert post_form(client, page, f"/classes/{B}/status", {"to": to}).status_code == status
    assert status_of(fresh_world, B) == "submitted"


def test_R02_admin_may_approve_and_file(fresh_world, fresh_clients):
    sign_b(fresh_world)
    client = fresh_clients["admin"]
    post_form(client, f"/classes/{B}", f"/classes/{B}/status", {"to": "approved"})
    post_form(client, f"/classes/{B}", f"/classes/{B}/status", {"to": "filed"})
    assert status_of(fresh_world, B) == "filed"


def test_R02_approval_without_the_commitment_is_refused_then_returned_and_resubmitted_by_the_institution(
        fresh_world, fresh_clients):
    district, institution = fresh_clients["dist_q"], fresh_clients["inst_qs"]
    page = district.get(f"/classes/{B}").get_data(as_text=True)
    assert "审核通过前须解决（R02）" in page and "没有签字的承诺书" in page  # shown before anyone tries
    post_form(district, f"/classes/{B}", f"/classes/{B}/status", {"to": "approved"})
    page = district.get(f"/classes/{B}").get_data(as_text=True)
    assert "不能审核通过（R02），共 1 个问题" in page and status_of(fresh_world, B) == "submitted"
    assert post_form(institution, f"/classes/{B}", f"/classes/{B}/status",
                     {"to": "returned", "reason": "x"}).status_code == 403  # the district returns, not the institution
    post_form(district, f"/classes/{B}", f"/classes/{B}/status", {"to": "returned", "reason": ""})
    assert "须写明理由" in district.get(f"/classes/{B}").get_data(as_text=True)
    post_form(district, f"/classes/{B}", f"/classes/{B}/status", {"to": "returned", "reason": "缺承诺书"})
    assert status_of(fresh_world, B) == "returned"
    page = institution.get(f"/classes/{B}").get_data(as_text=True)
    assert "已被旗县区退回" in page and "缺承诺书" in page and "重新提交" in page
    assert post_form(district, f"/classes/{B}", f"/classes/{B}/status",
                     {"to": "submitted"}).status_code == 403  # the institution resubmits, not the district
    sign_b(fresh_world)
    post_form(institution, f"/classes/{B}", f"/classes/{B}/status", {"to": "submitted", "reason": "已补承诺书"})
    post_form(district, f"/classes/{B}", f"/classes/{B}/status", {"to": "approved", "reason": "同意"})
    assert status_of(fresh_world, B) == "approved"
    history = district.get(f"/classes/{B}").get_data(as_text=True)
    assert "已提交 → 已退回" in history and "已退回 → 已提交" in history and "已提交 → 已审核" in history
    with fresh_world.factory() as s:
        assert ledger_verify.verify(s).ok


def test_R02_a_move_out_of_order_is_refused_with_the_reason(fresh_world, fresh_clients):
    client = fresh_clients["admin"]
    response = post_form(client, f"/classes/{B}", f"/classes/{B}/status", {"to": "filed"})
    assert response.status_code == 303
    page = client.get(f"/classes/{B}").get_data(as_text=True)
    assert "当前为“已提交”，不能改为“已备案”" in page
    assert status_of(fresh_world, B) == "submitted"
    assert post_form(client, f"/classes/{B}", f"/classes/{B}/status", {"to": "draft"}).status_code == 400


def test_csrf_a_form_without_its_token_is_refused(fresh_world, fresh_clients):
    client = fresh_clients["dist_q"]
    response = client.post(f"/classes/{B}/status", data={"to": "approved"})
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    response = client.post(f"/classes/{B}/status", data={"to": "approved", "csrf_token": "forged"})
    assert response.status_code == 400
    assert client.post(f"/photos/{fresh_world.photos[XSS]}/review",
                       data={"decision": "accept", "reason": "x"}).status_code == 400
    assert client.post("/logout").status_code == 400
    assert status_of(fresh_world, B) == "submitted"


def test_csrf_the_login_form_needs_its_token_too(fresh_world, fresh_app):
    client = fresh_app.test_client()
    response = client.post("/login", data={"name": "admin", "password": fresh_world.passwords["admin"]})
    assert response.status_code == 400


def test_csrf_a_token_from_another_session_is_refused(fresh_world, fresh_app, fresh_clients):
    other = fresh_app.test_client()
    token = csrf_token(other.get("/login").get_data(as_text=True))
    response = fresh_clients["dist_q"].post(f"/classes/{B}/status", data={"to": "approved", "csrf_token": token})
    assert response.status_code == 400


# --- R08 photo review ---------------------------------------------------------------------------------

def photo(world, name: str) -> Photo:
    with world.factory() as s:
        return s.get(Photo, world.photos[name])


def test_R08_a_supervisor_accepts_a_flagged_photo_and_the_ledger_records_who_and_why(fresh_world, fresh_clients):
    response = post_form(fresh_clients["dist_k"], "/photos", f"/photos/{fresh_world.photos[XSS]}/review",
                         {"decision": "accept", "reason": "现场核实为本人学习截图"})
    assert response.status_code == 303
    reviewed = photo(fresh_world, XSS)
    assert (reviewed.status, reviewed.counted, reviewed.reviewed_by, reviewed.review_reason) == (
        "accepted", True, "user:dist_k", "现场核实为本人学习截图")
    with fresh_world.factory() as s:
        event = s.scalar(select(LedgerEvent).where(LedgerEvent.type == "photo.reviewed"))
        payload = json.loads(event.payload)
        assert (event.actor, event.class_code, payload["reason"], payload["decision"]) == (
            "user:dist_k", A, "现场核实为本人学习截图", "accept")
        assert ledger_verify.verify(s).ok
    assert "疑似重复" not in fresh_clients["dist_k"].get("/photos").get_data(as_text=True)
    day = fresh_clients["anonymous"].get(f"/api/v1/classes/{A}/days/2026-12-01",
                                         headers={"Authorization": f"Bearer {fresh_world.tokens['city']}"})
    assert next(t for t in day.get_json()["trainees"] if t["name"] == XSS)["photo"] is True


def test_R08_a_rejected_photo_stays_uncounted(fresh_world, fresh_clients):
    post_form(fresh_clients["city"], "/photos", f"/photos/{fresh_world.photos[XSS]}/review",
              {"decision": "reject", "reason": "与他人照片相同"})
    reviewed = photo(fresh_world, XSS)
    assert (reviewed.status, reviewed.counted, reviewed.reviewed_by) == ("rejected", False, "user:city")


def test_R08_a_review_needs_a_reason_and_happens_once(fresh_world, fresh_clients):
    client = fresh_clients["admin"]
    url = f"/photos/{fresh_world.photos[XSS]}/review"
    post_form(client, "/photos", url, {"decision": "accept", "reason": "  "})
    assert "请填写审核理由" in client.get("/photos").get_data(as_text=True)
    assert photo(fresh_world, XSS).status == "duplicate"
    post_form(client, "/photos", url, {"decision": "reject", "reason": "重复"})
    post_form(client, "/photos", url, {"decision": "accept", "reason": "改主意"})
    assert "已经审核过了" in client.get("/photos").get_data(as_text=True)
    assert photo(fresh_world, XSS).status == "rejected"
    assert post_form(client, "/photos", url, {"decision": "maybe", "reason": "x"}).status_code == 400


@pytest.mark.parametrize("name,status", [("inst_lc", 403), ("王芳", 403), ("dist_q", 404), ("inst_qs", 404)])
def test_R08_review_refused_to_the_institution_and_outside_scope(fresh_world, fresh_clients, name, status):
    response = post_form(fresh_clients[name], "/photos", f"/photos/{fresh_world.photos[XSS]}/review",
                         {"decision": "accept", "reason": "x"})
    assert response.status_code == status
    assert photo(fresh_world, XSS).status == "duplicate"


def test_R08_accepting_a_second_photo_of_a_day_keeps_the_first_counted(fresh_world):
    """photos.per_day = 1: an accepted repeat of a day that already has its photo is kept as extra, uncounted."""
    with fresh_world.factory() as s:
        first = s.get(Photo, fresh_world.photos["王秀英"])
        second = Photo(enrollment_id=first.enrollment_id, day=first.day, sha256="b" * 64, status="duplicate",
                       counted=False, received_at=first.received_at + timedelta(hours=1), source="msg:again")
        s.add(second)
        ledger.append(s, "photo.received", actor="bot", source="msg:again", subject=second, class_code=A)
        klass = get_class(s, A)
        review.review_photo(s, second, klass, accept=True, reason="本人照片", actor="user:admin")
        s.commit()
        assert (second.status, second.counted, s.get(Photo, first.id).counted) == ("extra", False, True)


def test_R02_R08_an_accepted_photo_of_an_unapproved_class_is_kept_but_not_counted(fresh_world):
    with fresh_world.factory() as s:
        klass = get_class(s, B)
        enrollment_id = fresh_world.enrollments["赵敏"]
        flagged = Photo(enrollment_id=enrollment_id, day=klass.start_date, sha256="c" * 64, status="duplicate",
                        counted=False, received_at=NOW, source="msg:b-photo")
        s.add(flagged)
        ledger.append(s, "photo.received", actor="bot", source="msg:b-photo", subject=flagged, class_code=B)
        review.review_photo(s, flagged, klass, accept=True, reason="本人照片", actor="user:dist_q")
        s.commit()
        assert (flagged.status, flagged.counted) == ("accepted", False)


# --- logins -------------------------------------------------------------------------------------------

def attempts(world, name: str) -> list[bool]:
    with world.factory() as s:
        return list(s.scalars(select(LoginAttempt.ok).where(LoginAttempt.name == name).order_by(LoginAttempt.id)))


def test_login_is_locked_after_5_failures_within_15_minutes_across_processes(fresh_world, fresh_app):
    client = fresh_app.test_client()
    for _ in range(5):
        response = login(client, "inst_lc", "wrong")
        assert response.status_code == 401 and "用户名或密码不正确" in response.get_data(as_text=True)
    response = login(client, "inst_lc", fresh_world.passwords["inst_lc"])
    assert response.status_code == 429 and "登录失败次数过多" in response.get_data(as_text=True)
    other_process = make_app(fresh_world.factory, fresh_world.data_dir).test_client()  # same database
    assert login(other_process, "inst_lc", fresh_world.passwords["inst_lc"]).status_code == 429
    assert login(other_process, "city", fresh_world.passwords["city"]).status_code == 302  # others unaffected
    later = make_app(fresh_world.factory, fresh_world.data_dir, now=NOW + timedelta(minutes=16)).test_client()
    assert login(later, "inst_lc", fresh_world.passwords["inst_lc"]).status_code == 302
    assert attempts(fresh_world, "inst_lc") == [False] * 5 + [True]  # refused tries are not even checked


def test_login_success_clears_earlier_failures(fresh_world, fresh_app):
    client = fresh_app.test_client()
    for _ in range(4):
        login(client, "王芳", "wrong")
    assert login(client, "王芳", fresh_world.passwords["王芳"]).status_code == 302
    other = fresh_app.test_client()
    for _ in range(4):
        login(other, "王芳", "wrong")
    assert login(other, "王芳", fresh_world.passwords["王芳"]).status_code == 302


def test_login_unknown_name_fails_like_a_wrong_password(fresh_world, fresh_app):
    response = login(fresh_app.test_client(), "nobody", "x")
    assert response.status_code == 401 and "用户名或密码不正确" in response.get_data(as_text=True)


def test_login_never_redirects_to_another_site(fresh_world, fresh_app):
    client = fresh_app.test_client()
    for target, expected in (("//evil.example/x", "/"), ("https://evil.example/", "/"), ("/\\evil", "/"),
                             ("/%09/evil.example", "/"), ("/%0a/evil.example", "/"), ("/%0d%0a//evil", "/"),
                             ("/classes", "/classes")):
        token = csrf_token(client.get("/login").get_data(as_text=True))
        response = client.post(f"/login?next={target}", data={"name": "admin", "csrf_token": token,
                                                              "password": fresh_world.passwords["admin"]})
        assert response.headers["Location"] == expected


def test_session_cookie_is_httponly_and_samesite(fresh_world, fresh_app):
    response = login(fresh_app.test_client(), "admin", fresh_world.passwords["admin"])
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = make_app(fresh_world.factory, fresh_world.data_dir, SESSION_COOKIE_SECURE=True)
    assert "Secure" in login(secure.test_client(), "admin", fresh_world.passwords["admin"]).headers["Set-Cookie"]


def test_logout_ends_the_session(fresh_world, fresh_clients):
    client = fresh_clients["admin"]
    assert client.get("/").status_code == 200
    response = post_form(client, "/", "/logout", {})
    assert response.status_code == 302
    assert "已退出登录" in client.get("/login").get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_a_deactivated_user_is_signed_out_and_their_token_stops_working(fresh_world, fresh_clients):
    client = fresh_clients["inst_lc"]
    assert client.get("/").status_code == 200
    with fresh_world.factory.begin() as s:
        accounts.set_active(s, "inst_lc", False)
    assert client.get("/").status_code == 302
    response = fresh_clients["anonymous"].get("/api/v1/classes",
                                              headers={"Authorization": f"Bearer {fresh_world.tokens['inst_lc']}"})
    assert response.status_code == 401


def test_api_records_the_tokens_last_use(fresh_world, fresh_clients):
    fresh_clients["anonymous"].get("/api/v1/classes", headers={"Authorization": f"Bearer {fresh_world.tokens['city']}"})
    with fresh_world.factory() as s:
        used = s.scalars(select(ApiToken.last_used_at).where(ApiToken.last_used_at.is_not(None))).all()
    assert used == [NOW]


def test_api_bad_dates_are_400_with_a_chinese_message(fresh_world, fresh_clients):
    headers = {"Authorization": f"Bearer {fresh_world.tokens['admin']}"}
    client = fresh_clients["anonymous"]
    for url in (f"/api/v1/classes/{A}/days/2026-02-30", f"/api/v1/classes/{A}/days/20261201",
                f"/api/v1/classes/{A}/days/tomorrow", "/api/v1/reports/daily?date=2026-1-1",
                "/api/v1/reports/daily?date="):
        response = client.get(url, headers=headers)
        assert response.status_code == 400, url
        assert re.search("日期格式不正确", response.get_json()["error"])
    response = client.get(f"/api/v1/classes/{A}/days/2026-11-30", headers=headers)
    assert response.status_code == 404 and "不是班级" in response.get_json()["error"]


# --- R17 the ledger check ------------------------------------------------------------------------------

def _run_verification(app, client, mode: str = "full"):
    """The admin starts a verification; it runs in the background; wait for it to finish."""
    response = client.post("/ledger/run", data={"mode": mode, "csrf_token": csrf_token(client.get("/ledger").get_data(as_text=True))})
    assert response.status_code == 302
    app.extensions["dingclass.verifier"].thread.join()
    return response


def test_R17_tampering_shows_on_the_ledger_page_in_detail_to_the_admin_only(fresh_world, fresh_app, fresh_clients):
    """A name changed with plain SQL is named by the check; the details quote row values (ID numbers
    too), so other roles see that something is wrong, not what."""
    token = {"Authorization": f"Bearer {fresh_world.tokens['inst_lc']}"}
    assert fresh_clients["anonymous"].get("/api/v1/ledger/verify", headers=token).get_json() == {
        "ok": None, "events": 0, "head": None, "at": None}  # nothing verified yet
    _run_verification(fresh_app, fresh_clients["admin"])
    clean = fresh_clients["anonymous"].get("/api/v1/ledger/verify", headers=token).get_json()
    assert clean["ok"] is True and clean["events"] > 0 and clean["head"] is None and clean["at"]  # no head for an institution
    with fresh_world.factory() as s:
        s.execute(text("UPDATE persons SET name = '王秀秀' WHERE name = '王秀英'"))
        s.commit()
    assert fresh_clients["anonymous"].get("/api/v1/ledger/verify", headers=token).get_json() == clean  # stored, not re-run
    _run_verification(fresh_app, fresh_clients["admin"])
    admin = fresh_clients["admin"].get("/ledger").get_data(as_text=True)
    assert "发现 1 处问题" in admin and "persons 第" in admin and "王秀秀" in admin
    for name in ("city", "dist_k", "inst_lc"):
        html = fresh_clients[name].get("/ledger").get_data(as_text=True)
        assert "发现 1 处问题" in html and "王秀秀" not in html and "persons 第" not in html
    body = fresh_clients["anonymous"].get("/api/v1/ledger/verify", headers=token)
    assert body.get_json()["ok"] is False


def test_R17_only_the_admin_starts_a_verification(fresh_world, fresh_app, fresh_clients):
    client = fresh_clients["city"]
    token = csrf_token(client.get("/ledger").get_data(as_text=True))
    assert client.post("/ledger/run", data={"mode": "full", "csrf_token": token}).status_code == 403
    assert fresh_app.extensions["dingclass.verifier"].thread is None
    assert "全面校验</button>" not in client.get("/ledger").get_data(as_text=True)


def test_R17_an_incremental_check_after_a_clean_one_walks_only_the_new_events(fresh_world, tmp_path):
    """With the key file readable by the admin, a clean check signs the heads it verified; the next
    incremental check starts there, so an edit before them is a full check's business."""
    key = tmp_path / "keys" / "ledger.key"
    ledger_keys.create_key(key)
    app = make_app(fresh_world.factory, fresh_world.data_dir, LEDGER_KEY=key)
    admin = app.test_client()
    assert login(admin, "admin", fresh_world.passwords["admin"]).status_code == 302
    _run_verification(app, admin)
    with fresh_world.factory() as s:
        assert s.scalar(select(func.count()).select_from(LedgerCheckpoint).where(LedgerCheckpoint.verified)) > 0
    _run_verification(app, admin, mode="incremental")
    html = admin.get("/ledger").get_data(as_text=True)
    assert "台账完整" in html and "增量校验：" in html
    with fresh_world.factory() as s:
        s.execute(text("UPDATE ledger_events SET actor = 'x' WHERE seq = 1"))
        s.commit()
    _run_verification(app, admin, mode="incremental")
    assert "台账完整" in admin.get("/ledger").get_data(as_text=True)
    _run_verification(app, admin)
    assert "哈希不符" in admin.get("/ledger").get_data(as_text=True)


# --- undoing a wrong binding ------------------------------------------------------------------------

def test_district_unbinds_a_trainees_account_with_a_reason_and_the_ledger_keeps_it(fresh_world, fresh_clients):
    eid = fresh_world.enrollments["王秀英"]
    page = f"/classes/{A}/trainees/{eid}"
    assert 'name="reason"' in fresh_clients["dist_k"].get(page).get_data(as_text=True)
    refused = post_form(fresh_clients["dist_k"], page, f"{page}/unbind", {"reason": "  "})
    assert "解绑必须写明理由" in fresh_clients["dist_k"].get(refused.headers["Location"]).get_data(as_text=True)
    done = post_form(fresh_clients["dist_k"], page, f"{page}/unbind", {"reason": "家人的账号"})
    after = fresh_clients["dist_k"].get(done.headers["Location"]).get_data(as_text=True)
    assert "已解除学员 王秀英 的钉钉绑定" in after and "尚未绑定" in after
    with fresh_world.factory() as s:
        event = s.scalar(select(LedgerEvent).where(LedgerEvent.type == "identity.unbound"))
        assert event.actor == "user:dist_k" and "家人的账号" in event.payload
        assert ledger_verify.verify(s).ok


def test_the_institution_unbinds_its_classs_group_and_a_teacher_may_not(fresh_world, fresh_clients):
    page = f"/classes/{A}"
    assert 'name="reason"' not in fresh_clients["王芳"].get(page).get_data(as_text=True)
    assert post_form(fresh_clients["王芳"], page, f"{page}/unbind-group", {"reason": "x"}).status_code == 403
    done = post_form(fresh_clients["inst_lc"], page, f"{page}/unbind-group", {"reason": "绑错了群"})
    after = fresh_clients["inst_lc"].get(done.headers["Location"]).get_data(as_text=True)
    assert "已解除与群" in after and "尚未绑定" in after
    with fresh_world.factory() as s:
        assert s.scalar(select(LedgerEvent.actor).where(LedgerEvent.type == "group.unbound")) == "user:inst_lc"
        assert ledger_verify.verify(s).ok


def test_R17_ledger_page_names_what_was_changed_in_chinese(fresh_world, fresh_clients):
    from sqlalchemy import text

    from storage.ledger_verify import run_verification

    with fresh_world.factory() as s:  # a name changed with plain SQL, behind the ledger's back
        s.execute(text("UPDATE persons SET name = '改名' WHERE id = (SELECT MIN(id) FROM persons)"))
        s.commit()
    report = run_verification(fresh_world.factory)
    assert not report.ok
    html = fresh_clients["admin"].get("/ledger").get_data(as_text=True)
    assert "此行被改动：name 台账为" in html and "现为 &#39;改名&#39;" in html


def test_R02_the_district_notes_roster_changes_after_approval_on_the_class_page(fresh_world, fresh_clients):
    from handlers import approval
    with fresh_world.factory() as s:
        approval.remove_trainee(s, get_class(s, A), "李建国", reason="已就业", actor="user:inst_lc", source="test",
                                now=NOW)
        s.commit()
    page = fresh_clients["inst_lc"].get(f"/classes/{A}").get_data(as_text=True)
    assert "审核通过后的花名册变更（R02）" in page and "已就业" in page and "待确认" in page
    assert "确认花名册变更" not in page  # the institution does not note its own changes
    assert post_form(fresh_clients["inst_lc"], f"/classes/{A}", f"/classes/{A}/roster/note", {}).status_code == 403
    response = post_form(fresh_clients["dist_k"], f"/classes/{A}", f"/classes/{A}/roster/note", {"note": "同意"})
    assert response.status_code == 303
    page = fresh_clients["dist_k"].get(f"/classes/{A}").get_data(as_text=True)
    assert "已确认 1 项花名册变更" in page and "确认花名册变更" not in page
    with fresh_world.factory() as s:
        assert approval.pending_roster_changes(s, get_class(s, A)) == []
        assert ledger_verify.verify(s).ok


def test_R01_the_district_approves_a_teacher_change_on_the_class_page_and_who_approved_is_kept(fresh_world,
                                                                                                 fresh_clients):
    from handlers import plan_changes
    from tests.admin.world import PLAN
    new = PLAN.replace('commitment_file = "commitment.pdf"\n', "").replace('teachers = ["张丽华", "刘建国"]',
                                                                           'teachers = ["张丽华", "陈明"]')
    with fresh_world.factory() as s:
        plan_changes.request_change(s, get_class(s, A), new, effective_from=None, reason="刘建国调离",
                                    actor="user:inst_lc", source="test", now=NOW)
        s.commit()
    page = fresh_clients["inst_lc"].get(f"/classes/{A}").get_data(as_text=True)
    assert "计划变更（R01）" in page and "授课讲师：张丽华、刘建国 → 张丽华、陈明" in page and "待旗县区审核" in page
    assert "同意变更" not in page
    assert post_form(fresh_clients["inst_lc"], f"/classes/{A}", f"/classes/{A}/changes/decide",
                     {"decision": "approve"}).status_code == 403
    post_form(fresh_clients["dist_k"], f"/classes/{A}", f"/classes/{A}/changes/decide", {"decision": "refuse"})
    assert "不同意变更须写明理由" in fresh_clients["dist_k"].get(f"/classes/{A}").get_data(as_text=True)
    post_form(fresh_clients["dist_k"], f"/classes/{A}", f"/classes/{A}/changes/decide",
              {"decision": "approve", "note": "同意更换"})
    page = fresh_clients["dist_k"].get(f"/classes/{A}").get_data(as_text=True)
    assert "第 1 号计划变更：已同意，已生效" in page and "张丽华、陈明" in page and "同意更换" in page
    with fresh_world.factory() as s:
        (row,) = s.scalars(select(PlanChange))
        assert (row.teachers_changed, row.decided_by) == (True, "user:dist_k")
        assert ledger_verify.verify(s).ok
