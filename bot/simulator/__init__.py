"""A local DingTalk for tests and demos: Stream gateway + OpenAPI + sessionWebhook on loopback.

    with DingTalkSimulator() as sim:
        alice = sim.add_user("张三")
        klass = sim.add_group("电工班", [alice])
        sim.say(alice, "签到", klass)
        sim.wait_for_sent(1, klass)

`sim.chat_url` is a page where a person talks to the bot as any simulated user (`chat.py`).
"""

from .core import DingTalkSimulator
from .faults import Faults
from .model import (BOT_TOPIC, Ack, Delivery, Group, Message, NotDelivered, RequestRecord, Sent,
                    SimulatorError, StreamConnection, User)
from .sdk import point_sdk_at, restore_sdk, sdk_pointed_at

__all__ = ["BOT_TOPIC", "Ack", "Delivery", "DingTalkSimulator", "Faults", "Group", "Message", "NotDelivered",
           "RequestRecord", "Sent", "SimulatorError", "StreamConnection", "User", "point_sdk_at",
           "restore_sdk", "sdk_pointed_at"]
