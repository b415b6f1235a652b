"""Point the dingtalk-stream SDK at another OpenAPI host (the simulator) after it was imported.

dingtalk-stream reads DINGTALK_OPENAPI_ENDPOINT once, at import time, into
`utils.DINGTALK_OPENAPI_ENDPOINT`, copies it into `stream`, `chatbot` and `card_replier`
(`from .utils import DINGTALK_OPENAPI_ENDPOINT`) and into the class attribute
`DingTalkStreamClient.OPEN_CONNECTION_API`. Setting the environment variable later changes none of
them; this does, and sets the variable too for our own OpenAPI client and later imports.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

ENV = "DINGTALK_OPENAPI_ENDPOINT"
_OPEN_PATH = "/v1.0/gateway/connections/open"


def point_sdk_at(endpoint: str) -> dict:
    """Redirect the SDK to `endpoint`; returns what it replaced, for `restore_sdk`."""
    importlib.import_module("dingtalk_stream")  # all its modules, so each copy is found below
    from dingtalk_stream.stream import DingTalkStreamClient

    saved: dict = {"env": os.environ.get(ENV), "class": DingTalkStreamClient.OPEN_CONNECTION_API, "modules": {}}
    for name, module in list(sys.modules.items()):
        if name.startswith("dingtalk_stream") and hasattr(module, ENV):
            saved["modules"][name] = getattr(module, ENV)
            setattr(module, ENV, endpoint)
    DingTalkStreamClient.OPEN_CONNECTION_API = endpoint + _OPEN_PATH
    os.environ[ENV] = endpoint
    return saved


def restore_sdk(saved: dict) -> None:
    from dingtalk_stream.stream import DingTalkStreamClient

    for name, value in saved["modules"].items():
        setattr(sys.modules[name], ENV, value)
    DingTalkStreamClient.OPEN_CONNECTION_API = saved["class"]
    if saved["env"] is None:
        os.environ.pop(ENV, None)
    else:
        os.environ[ENV] = saved["env"]


@contextmanager
def sdk_pointed_at(endpoint: str) -> Iterator[None]:
    saved = point_sdk_at(endpoint)
    try:
        yield
    finally:
        restore_sdk(saved)
