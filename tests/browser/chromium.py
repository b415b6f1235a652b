"""Finding Debian's chromium for the browser tests, and installing it when it is missing.

The README's test command is all a fresh machine needs: when chromium is not there and we are root
with apt, the first browser test installs ``chromium`` and ``fonts-noto-cjk`` (CJK fonts, so pages
render) with apt-get, once, quietly. Where that cannot be done, the browser tests are skipped with
the reason, which pytest prints in its summary (``-ra``) — never silently.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

PACKAGES = ("chromium", "fonts-noto-cjk")
APT_TIMEOUT = 1800  # seconds: a slow mirror may take a while


@dataclass(frozen=True)
class Chromium:
    path: str | None  # the executable, or None when the browser tests cannot run
    reason: str = ""  # why not (for the skip), or what was done


def find() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def ensure(*, find: Callable[[], str | None] = find, is_root: Callable[[], bool] = lambda: os.geteuid() == 0,
           which: Callable[[str], str | None] = shutil.which,
           run: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> Chromium:
    """Chromium's path, installing it with apt-get when it is missing and that is possible."""
    path = find()
    if path is not None:
        return Chromium(path)
    if which("apt-get") is None:
        return Chromium(None, "chromium is not installed and there is no apt-get to install it "
                              f"(install {' '.join(PACKAGES)} by hand)")
    if not is_root():
        return Chromium(None, f"chromium is not installed and installing it needs root: "
                              f"sudo apt-get install -y {' '.join(PACKAGES)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", *PACKAGES]):
        try:
            done = run(command, env=env, capture_output=True, text=True, timeout=APT_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Chromium(None, f"{' '.join(command)} failed: {exc}")
        if done.returncode != 0:
            tail = (done.stderr or done.stdout or "").strip().splitlines()[-1:] or ["no output"]
            return Chromium(None, f"{' '.join(command)} exited {done.returncode}: {tail[0]}")
    path = find()
    if path is None:
        return Chromium(None, f"apt-get installed {' '.join(PACKAGES)} but no chromium executable is on PATH")
    return Chromium(path, f"installed {' '.join(PACKAGES)} with apt-get")
