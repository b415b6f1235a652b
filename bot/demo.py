"""``dingclass demo``: the product on this machine with no DingTalk account.

It grows with the product; today it builds a fresh SQLite database under the data directory, creates
the sample class with its 30-person roster, approves it, adds an admin user and checks the ledger.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import click

from bot import texts
from handlers import accounts, classes, roster
from handlers.plans import parse_plan
from storage.db import sqlite_url
from storage.migrate import upgrade

SAMPLES = Path(__file__).resolve().parent / "samples"


def run_demo(app) -> None:
    from bot.cli import App, echo_class_list, echo_verify

    demo_dir = app.settings.data_dir / "demo"
    shutil.rmtree(demo_dir, ignore_errors=True)
    demo_dir.mkdir(parents=True)
    demo = App(replace(app.settings, data_dir=demo_dir, database_url=sqlite_url(demo_dir)), "demo:机构管理员")
    click.get_current_context().call_on_close(demo.close)
    click.echo(texts.DEMO_INTRO.format(data_dir=demo_dir.resolve()))
    upgrade(demo.engine)
    plan = parse_plan((SAMPLES / "plan.toml").read_text(encoding="utf-8"))
    commitment = ("commitment.pdf", demo.files.put((SAMPLES / "commitment.pdf").read_bytes()))
    with demo.uow() as s:
        klass = classes.create_class(s, plan, actor=demo.actor, source="demo", default_policy=app.settings.policy,
                                     commitment=commitment)
        added = roster.import_roster(s, klass, (SAMPLES / "roster.xlsx").read_bytes(), "roster.xlsx",
                                     actor=demo.actor, today=demo.today())
        classes.change_status(s, klass, "approved", actor="demo:昆都仑区审核员", source="demo", reason="演示")
        password = accounts.add_user(s, "admin", "admin")
    click.echo(texts.CLASS_CREATED.format(code=klass.code, name=klass.name))
    click.echo(texts.ROSTER_IMPORTED.format(count=added, code=klass.code))
    click.echo(texts.USER_ADDED.format(name="admin", role="admin", password=password))
    echo_class_list(demo)
    echo_verify(demo)
    click.echo(texts.DEMO_COMING)
