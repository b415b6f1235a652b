"""A digest (bot/digest.py) stays within DingTalk's limits and keeps refusals on top."""

from __future__ import annotations

import json

from bot import digest
from bot.digest import MAX_AT, MAX_BYTES, compose, line_of


def body(name: str, text: str, *, staff: str | None = None, attention: bool = False) -> dict:
    return {"name": name, "text": text, "staff_user_id": staff, "attention": attention,
            "at_user_ids": [], "conversation_type": "2"}


def test_refusals_come_first_and_mention_members_only_in_the_webhook_text():
    lines = [line_of(1, body("张三", "签到成功 08:20（上午）", staff="u1")),
             line_of(2, body("李四", "现在不在签退时间内。", staff="u2", attention=True)),
             line_of(3, body("王五", "请先绑定", attention=True))]  # outside the organisation: no @

    d = compose(lines)

    assert d.row_ids == (1, 2, 3) and d.at_user_ids == ("u2",)
    assert d.text.index("李四") < d.text.index("王五") < d.text.index("张三")
    assert "- @u2 **李四**：现在不在签退时间内。" in d.text and "@u2" not in d.plain
    assert "- **张三**：签到成功 08:20（上午）" in d.text


def test_a_digest_never_passes_the_size_limit_and_leaves_the_rest_for_the_next_one():
    long = "很长的回复" * 200  # 3 000 bytes each
    lines = [line_of(n, body(f"学员{n}", long)) for n in range(1, 11)]

    d = compose(lines)

    assert 1 < len(d.row_ids) < 10 and d.row_ids == tuple(range(1, len(d.row_ids) + 1))
    assert len(d.text.encode()) <= MAX_BYTES
    param = json.dumps({"title": d.title, "text": d.plain}, ensure_ascii=False).encode()
    assert len(param) <= 15_000  # groupMessages/send's msgParam limit


def test_a_digest_mentions_at_most_50_people():
    lines = [line_of(n, body(f"学员{n}", "不在签到时间", staff=f"u{n}", attention=True)) for n in range(60)]

    d = compose(lines)

    assert len(d.at_user_ids) == MAX_AT == len(d.row_ids)


def test_markdown_in_names_and_replies_is_shown_as_written():
    d = compose([line_of(1, body("*张三*", "# 不是标题\n第二行")), line_of(2, body("李四", "ok"))])

    assert r"**\*张三\***：\# 不是标题  " + "\n  第二行" in d.text
    assert digest.texts.DIGEST_TITLE.format(n=2) == d.title
