"""Messages the bot could not deliver, in the admin: counted on the overview as what is really stuck,
listed with their error, put back in the queue by an admin only (CSRF form)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from storage.models import OutboxMessage
from tests.admin.conftest import csrf_token
from tests.admin.world import A, NOW


def add_rows(factory) -> dict[str, int]:
    """Beside the world's two dead rows (groups of A and B): one of A's failing for the 4th time, one of
    A's due 20 minutes ago and never sent (no sender running), one of A's just queued, one waiting for
    its group's budget."""
    with factory() as s:
        rows = {
            "failing": OutboxMessage(kind="reply", dedupe_key="failing", conversation_id="cid-A", attempts=4,
                                     body='{"text": "签到成功 08:20（上午）"}', next_attempt_at=NOW + timedelta(minutes=5),
                                     last_error="DingTalk HTTP 503 ServiceUnavailable: <b>busy</b>"),
            "overdue": OutboxMessage(kind="group", dedupe_key="overdue", conversation_id="cid-A", body='{"text": "通知"}',
                                     next_attempt_at=NOW - timedelta(minutes=20)),
            "fresh": OutboxMessage(kind="reply", dedupe_key="fresh", conversation_id="cid-A", body='{"text": "x"}',
                                   next_attempt_at=NOW - timedelta(minutes=1)),
            "budget": OutboxMessage(kind="reply", dedupe_key="budget", conversation_id="cid-A", body='{"text": "y"}',
                                    next_attempt_at=NOW + timedelta(seconds=30)),
        }
        s.add_all(rows.values())
        s.commit()
        return {name: row.id for name, row in rows.items()}


def stuck_tile(html: str) -> int:
    return int(re.search(r"<b>(\d+)</b><span><a [^>]*>发送失败的消息", html).group(1))


def test_the_overview_counts_what_is_really_stuck_in_the_viewers_classes(fresh_world, fresh_clients):
    # the world's own rows (two dead, and what its scheduled jobs queued that day: no sender ran)
    before = {name: stuck_tile(fresh_clients[name].get("/").get_data(as_text=True)) for name in ("admin", "dist_k")}
    add_rows(fresh_world.factory)

    after = {name: stuck_tile(fresh_clients[name].get("/").get_data(as_text=True)) for name in ("admin", "dist_k")}
    assert after == {"admin": before["admin"] + 2, "dist_k": before["dist_k"] + 2}  # failing and overdue, not
    # the one just queued nor the one waiting for its group's budget


def test_the_list_shows_each_stuck_message_with_its_error_escaped(fresh_world, fresh_clients):
    ids = add_rows(fresh_world.factory)

    html = fresh_clients["dist_k"].get("/outbox").get_data(as_text=True)

    shown = {int(n) for n in re.findall(r'id="outbox-(\d+)"', html)}
    with fresh_world.factory() as s:
        dead_a = s.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == "dead-1"))
    assert {dead_a, ids["failing"], ids["overdue"]} <= shown and not {ids["fresh"], ids["budget"]} & shown
    assert "DingTalk HTTP 503 ServiceUnavailable: &lt;b&gt;busy&lt;/b&gt;" in html and "<b>busy</b>" not in html
    assert "签到成功 08:20（上午）" in html and "重新发送</button>" not in html  # only an admin retries


def test_an_admin_puts_a_dead_message_back_in_the_queue(fresh_world, fresh_clients):
    add_rows(fresh_world.factory)
    with fresh_world.factory() as s:
        dead = s.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == "dead-1"))
    admin = fresh_clients["admin"]
    token = csrf_token(admin.get("/outbox").get_data(as_text=True))

    response = admin.post(f"/outbox/{dead.id}/retry", data={"csrf_token": token})

    assert response.status_code == 303
    assert f"已把消息 #{dead.id} 放回发件箱" in admin.get(response.headers["Location"]).get_data(as_text=True)
    with fresh_world.factory() as s:
        row = s.get(OutboxMessage, dead.id)
        assert (row.status, row.attempts, row.next_attempt_at) == ("queued", 0, NOW)
    again = admin.post(f"/outbox/{dead.id}/retry", data={"csrf_token": token})  # queued: taken again, no harm
    assert again.status_code == 303


def test_only_an_admin_may_retry_and_only_with_the_form(fresh_world, fresh_clients):
    with fresh_world.factory() as s:
        dead = s.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == "dead-1"))
    district = fresh_clients["dist_k"]
    token = csrf_token(district.get(f"/classes/{A}").get_data(as_text=True))  # a page with a form
    assert district.post(f"/outbox/{dead.id}/retry", data={"csrf_token": token}).status_code == 403
    assert fresh_clients["admin"].post(f"/outbox/{dead.id}/retry").status_code == 400  # no CSRF token
    with fresh_world.factory() as s:
        assert s.get(OutboxMessage, dead.id).status == "dead"
