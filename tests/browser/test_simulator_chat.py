"""The simulator's chat page in a real browser: a person plays trainees through the real bot (SDK + simulator)."""

from __future__ import annotations

import io

import dingtalk_stream.stream
import pytest
from PIL import Image

from bot.service import BotService
from bot.settings import load
from bot.simulator import DingTalkSimulator, point_sdk_at, restore_sdk
from tests.e2e.classroom import build_classroom, class_time
from tests.e2e.conftest import SDK_SLEEP_SCALE, _ScaledAsyncio


@pytest.fixture
def playground(engine, factory, tmp_path, monkeypatch):
    """The simulator on a class morning (08:20), a bound 30-trainee class and the real bot."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost,::1")
    monkeypatch.setattr(dingtalk_stream.stream, "asyncio", _ScaledAsyncio(SDK_SLEEP_SCALE))
    with DingTalkSimulator(seed=7, clock=lambda: class_time("08:20")) as sim:
        saved = point_sdk_at(sim.endpoint)
        try:
            group, users = build_classroom(sim, factory, 30)
            settings = load({
                "DINGTALK_CLIENT_ID": sim.client_id, "DINGTALK_CLIENT_SECRET": sim.client_secret,
                "DINGTALK_OPENAPI_ENDPOINT": sim.endpoint, "DINGCLASS_DATA_DIR": str(tmp_path),
                "DATABASE_URL": engine.url.render_as_string(hide_password=False)})
            service = BotService(settings, factory).start()
            try:
                sim.wait_connected(1)
                yield sim, group, users
            finally:
                service.stop(flush_timeout=5)
        finally:
            restore_sdk(saved)


@pytest.fixture
def chat(browser, playground):
    sim, _, _ = playground
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(sim.chat_url)
    page.wait_for_selector("#chats button")
    yield page
    context.close()
    assert all(url.startswith(sim.endpoint) for url in requests), "the chat page loads nothing from elsewhere"


def say(page, text: str) -> None:
    page.fill("#text", text)
    page.click("#send")


def test_a_trainee_checks_in_in_the_group_and_asks_for_their_day_in_private(chat, playground, tmp_path):
    sim, group, users = playground
    chat.select_option("#me", label=users[0].name + ("" if users[0].in_org else "（外部）"))
    chat.click(f"#chats button:has-text('{group.title}')")
    say(chat, "签到")
    # the bot's reply appears in the group as DingTalk shows it, under the trainee's own message
    chat.locator(".msg.bot .bubble", has_text="签到成功 08:20（上午）").wait_for()
    assert chat.locator(".msg.mine .bubble").first.inner_text() == "签到"

    # a message that does not @ the bot is shown but never reaches it
    chat.uncheck("#at-bot")
    say(chat, "大家早上好")
    chat.locator(".msg.mine", has_text="机器人收不到").wait_for()
    chat.check("#at-bot")

    # the 1:1 chat: a study photo, then 我的
    chat.click("#chats button:has-text('与机器人单聊')")
    picture = tmp_path / "study.jpg"
    image = Image.new("RGB", (320, 240), (30, 120, 200))
    out = io.BytesIO()
    image.save(out, "JPEG")
    picture.write_bytes(out.getvalue())
    chat.set_input_files("#picture", str(picture))
    chat.click("#send")
    chat.locator(".msg.mine img").wait_for()
    chat.locator(".msg.bot .bubble", has_text="照片").wait_for()
    say(chat, "我的")
    chat.locator(".msg.bot .bubble", has_text="签到").nth(0).wait_for()
    assert sim.wait_for_sent(2, users[0])  # the bot really answered in that 1:1 chat


def test_a_new_person_is_added_on_the_page_and_the_bot_asks_them_to_bind(chat, playground):
    sim, _, _ = playground
    chat.fill("#new-name", "新学员")
    chat.uncheck("#new-in-org")
    chat.click("#add-user")
    chat.locator("#me option:checked", has_text="新学员（外部）").wait_for(state="attached")
    chat.click("#chats button:has-text('与机器人单聊')")
    say(chat, "我的")
    chat.locator(".msg.bot .bubble", has_text="你还没有绑定身份").wait_for()
    newcomer = next(u for u in sim.users if u.name == "新学员")
    assert not newcomer.in_org and newcomer.staff_id is None


def test_sending_nothing_says_so_and_sends_nothing(chat, playground):
    sim, group, users = playground
    chat.select_option("#me", index=1)
    chat.click(f"#chats button:has-text('{group.title}')")
    say(chat, "   ")
    chat.locator("#error", has_text="请输入消息内容").wait_for()
    assert sim.messages == []
