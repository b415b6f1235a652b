"""Issue 9 item 6: the ledger's chain head — what supervisors copy out to check the ledger against
later — is shown only to admin, city and district; an institution or teacher learns only ok/not ok."""

from __future__ import annotations

import pytest

from storage import ledger_verify
from tests.admin.conftest import fresh_app, fresh_clients, fresh_world  # noqa: F401  (fixtures)


@pytest.mark.parametrize(("user", "sees_head"), [("admin", True), ("city", True), ("dist_k", True),
                                                 ("inst_lc", False), ("王芳", False)])
def test_only_supervisors_see_the_ledger_head(fresh_world, fresh_clients, user, sees_head):  # noqa: F811
    head = ledger_verify.run_verification(fresh_world.factory).head  # the stored check the page and the API show
    body = fresh_clients["anonymous"].get("/api/v1/ledger/verify",
                                          headers={"Authorization": f"Bearer {fresh_world.tokens[user]}"}).get_json()
    assert body["ok"] is True and body["head"] == (head if sees_head else None)
    page = fresh_clients[user].get("/ledger").get_data(as_text=True)
    assert "台账完整" in page and (head in page) is sees_head
