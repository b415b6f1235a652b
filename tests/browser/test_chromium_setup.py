"""The README's test command brings chromium itself: installed with apt-get when missing (root), or the
browser tests are skipped with the reason. Exercised with a faked lookup, never a real apt-get."""

from __future__ import annotations

import subprocess

from tests.browser import chromium


class FakeMachine:
    """A machine without chromium until apt-get installs it."""

    def __init__(self, *, root=True, apt=True, fails: str | None = None) -> None:
        self.root, self.apt, self.fails = root, apt, fails
        self.installed = False
        self.commands: list[list[str]] = []

    def find(self):
        return "/usr/bin/chromium" if self.installed else None

    def which(self, name):
        return f"/usr/bin/{name}" if self.apt else None

    def run(self, command, **kwargs):
        self.commands.append(command)
        assert kwargs["env"]["DEBIAN_FRONTEND"] == "noninteractive" and kwargs["capture_output"]
        if command[1] == self.fails:
            return subprocess.CompletedProcess(command, 100, "", "E: Unable to locate package chromium\n")
        if command[1] == "install":
            self.installed = True
        return subprocess.CompletedProcess(command, 0, "", "")

    def ensure(self):
        return chromium.ensure(find=self.find, is_root=lambda: self.root, which=self.which, run=self.run)


def test_chromium_present_is_used_and_nothing_is_installed():
    machine = FakeMachine()
    machine.installed = True
    assert machine.ensure() == chromium.Chromium("/usr/bin/chromium")
    assert machine.commands == []


def test_missing_chromium_is_installed_with_apt_get_as_root_with_cjk_fonts():
    machine = FakeMachine()
    found = machine.ensure()
    assert found.path == "/usr/bin/chromium"
    assert machine.commands == [["apt-get", "update", "-q"],
                                ["apt-get", "install", "-y", "-q", "chromium", "fonts-noto-cjk"]]


def test_without_root_the_reason_says_how_to_install():
    machine = FakeMachine(root=False)
    found = machine.ensure()
    assert found.path is None and "needs root" in found.reason and "chromium fonts-noto-cjk" in found.reason
    assert machine.commands == []


def test_without_apt_get_the_reason_says_so():
    found = FakeMachine(apt=False).ensure()
    assert found.path is None and "no apt-get" in found.reason


def test_a_failing_apt_get_gives_its_exit_code_and_last_line_as_the_reason():
    machine = FakeMachine(fails="install")
    found = machine.ensure()
    assert found.path is None
    assert found.reason == "apt-get install -y -q chromium fonts-noto-cjk exited 100: E: Unable to locate package chromium"
