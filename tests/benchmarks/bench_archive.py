"""Benchmark: archiving one big class (R18) — 50 trainees, 60 class days, 3,000 photos of ~300 KB.

The class is written with bulk inserts and a valid ledger (every row's event with its snapshot, chained
and signed), the photos into the file store as phone JPEGs are kept (one real ~300 KB JPEG, each copy
made distinct by a comment segment). Then, each in its own process so peak RSS is its own:

- baseline: a plain zip of the same photo files (``ZIP_STORED``, ``shutil.copyfileobj``, no hashing,
  no database) — the cost of copying the bytes at all;
- ``dingclass archive CODE`` as a user runs it (start-up, signing the head, everything in the zip);
- ``dingclass verify ARCHIVE`` (offline) on the result.

Prints seconds, peak RSS and the ratios to the baseline, best of ``--repeat`` interleaved rounds (the
machine may be shared). Not a test: nothing here asserts a time.

    python -m tests.benchmarks.bench_archive [--trainees 50] [--days 60] [--database-url URL]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, time as dtime, timedelta, timezone
from pathlib import Path

from PIL import Image
from sqlalchemy import delete, insert, select, text

from storage import ledger, ledger_keys
from storage.archive import class_tables
from storage.db import make_engine, make_session_factory
from storage.files import FileStore
from storage.migrate import upgrade
from storage.models import (
    ClassSession, District, Enrollment, Group, InboundMessage, Institution, Klass, LedgerChain, LedgerEvent,
    OutboxMessage, Person, Photo, Punch, StudyMinutes,
)

CODE = "BENCH-ARCHIVE"
START = date(2026, 9, 1)
AT = datetime(2026, 9, 1, 0, 0, tzinfo=timezone.utc)


def phone_jpeg(target: int = 300_000) -> bytes:
    """A noisy 1600×1200 JPEG of about ``target`` bytes (noise compresses like a real photo)."""
    rng = random.Random(7)
    small = Image.frombytes("RGB", (400, 300), bytes(rng.randrange(256) for _ in range(400 * 300 * 3)))
    image = small.resize((1600, 1200), Image.BICUBIC)
    for quality in (90, 80, 70, 60, 50, 40, 30):
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality)
        if out.tell() <= target * 1.15:
            break
    return out.getvalue()


def distinct(base: bytes, n: int) -> bytes:
    """The same picture with a COM segment naming ``n``: another file, another SHA-256, still a JPEG."""
    comment = f"dingclass bench photo {n:06d}".encode()
    return base[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + base[2:]


def seed(factory, files: FileStore, trainees: int, days: int) -> tuple[int, int]:
    rng = random.Random(18)
    base = phone_jpeg()
    end = START + timedelta(days=days - 1)
    with factory.begin() as s:
        s.execute(insert(District), [{"id": 1, "name": "昆都仑区", "city": "包头市"}])
        s.execute(insert(Institution), [{"id": 1, "name": "包头市鹿城职业培训学校", "district_id": 1}])
        s.execute(insert(Klass), [{
            "id": 1, "code": CODE, "name": "育婴员线上培训（基准）", "occupation": "育婴员", "institution_id": 1,
            "district_id": 1, "mode": "live", "start_date": START, "end_date": end, "total_hours": 240,
            "online_hours": 96, "lesson_minutes": 45, "policy": "baotou-2020", "overrides": "{}",
            "platform_name": "钉钉直播", "platform_url": "https://www.dingtalk.com", "teachers": "[\"张丽华\"]",
            "materials": "", "class_teacher": "王芳", "commitment_name": None, "commitment_sha256": None,
            "live_ids": "[]", "status": "approved", "created_at": AT}])
        s.execute(insert(ClassSession), [
            {"id": 1, "class_id": 1, "position": 1, "name": "上午", "start_time": dtime(8, 30), "end_time": dtime(11, 30)},
            {"id": 2, "class_id": 1, "position": 2, "name": "下午", "start_time": dtime(14, 0), "end_time": dtime(17, 0)}])
        s.execute(insert(Group), [{"id": 1, "open_conversation_id": "cid-bench", "title": "基准班级群", "class_id": 1,
                                   "bound_by": "bench", "bound_at": AT}])
        s.execute(insert(Person), [{"id": t, "name": f"学员{t:02d}", "gender": "女", "id_number": f"15020319900101{t:04d}",
                                    "phone": "13800000000", "created_at": AT} for t in range(1, trainees + 1)])
        s.execute(insert(Enrollment), [{"id": t, "class_id": 1, "person_id": t, "identity_category": "企业职工",
                                        "removed": False, "removed_reason": None, "removed_by": None, "removed_at": None}
                                       for t in range(1, trainees + 1)])
        messages, punches, photos, minutes, outbox = [], [], [], [], []
        msg = 0
        for d in range(days):
            day = START + timedelta(days=d)
            for t in range(1, trainees + 1):
                for session in (1, 2):
                    for kind, hour in (("in", 0 if session == 1 else 6), ("out", 3 if session == 1 else 9)):
                        msg += 1
                        sent = AT + timedelta(days=d, hours=hour, minutes=rng.randrange(25))
                        word = "签到" if kind == "in" else "签退"
                        messages.append(_message(msg, t, sent, word))
                        outbox.append(_reply(msg, sent, f"{word}成功 {sent:%H:%M}"))
                        punches.append({"enrollment_id": t, "day": day, "session_id": session, "kind": kind, "at": sent,
                                        "late": False, "early": False, "counts": True, "source": f"msg:m{msg:07d}"})
                msg += 1
                sent = AT + timedelta(days=d, hours=2)
                messages.append(_message(msg, t, sent, ""))
                data = distinct(base, len(photos))
                sha = files.put(data)
                photos.append({"enrollment_id": t, "day": day, "sha256": sha, "phash": "0" * 16, "status": "ok",
                               "counted": True, "duplicate_of_id": None, "received_at": sent, "reviewed_by": None,
                               "review_reason": None, "source": f"msg:m{msg:07d}"})
                minutes.append({"enrollment_id": t, "day": day, "lesson": "", "live_minutes": rng.randrange(120, 200),
                                "replay_minutes": 0, "source": "file:" + "0" * 64, "recorded_at": sent})
        for model, rows in ((InboundMessage, messages), (Punch, punches), (Photo, photos), (StudyMinutes, minutes),
                            (OutboxMessage, outbox)):
            for start in range(0, len(rows), 5000):
                s.execute(insert(model), rows[start:start + 5000])
    photo_bytes = sum(files.path(p["sha256"]).stat().st_size for p in photos)
    _chain_everything(factory)
    return len(photos), photo_bytes


def _message(n: int, trainee: int, sent: datetime, word: str) -> dict:
    payload = {"msgId": f"m{n:07d}", "conversationId": "cid-bench", "conversationType": "2", "senderId": f"u{trainee}",
               "senderNick": f"学员{trainee:02d}", "msgtype": "text" if word else "picture",
               "text": {"content": word} if word else None, "content": None if word else {"downloadCode": f"code{n}"},
               "createAt": int(sent.timestamp() * 1000), "robotCode": "bot",
               "sessionWebhook": "https://oapi.dingtalk.com/robot/sendBySession?session=x"}
    return {"id": n, "msg_id": f"m{n:07d}", "conversation_id": "cid-bench", "conversation_type": "2",
            "sender_id": f"u{trainee}", "class_id": 1, "msgtype": payload["msgtype"], "sent_at": sent,
            "received_at": sent, "payload": ledger.canonical(payload)}


def _reply(n: int, sent: datetime, text_: str) -> dict:
    return {"kind": "reply", "dedupe_key": f"reply:m{n:07d}:0", "conversation_id": "cid-bench",
            "body": ledger.canonical({"text": text_, "webhook": "https://oapi.dingtalk.com/robot/sendBySession?x"}),
            "status": "sent", "attempts": 1, "next_attempt_at": sent, "created_at": sent, "sent_at": sent}


def _chain_everything(factory) -> None:
    """One event per row, with its snapshot, chained: the class's rows on its chain, the rest on the city's."""
    chains = {0: (0, ledger.GENESIS), 1: (0, ledger.GENESIS)}
    with factory.begin() as s:
        tables = [(t, c, 1) for t, c in class_tables(1)]
        tables.append((Person.__table__, Person.__table__.c.id > 0, 0))
        for table, clause, chain in tables:
            batch = []
            for row in s.execute(select(table).where(clause).order_by(table.c.id)).mappings():
                seq, prev = chains[chain]
                ev = {"chain": chain, "seq": seq + 1, "prev_hash": prev, "type": f"{table.name}.bench", "actor": "bench",
                      "class_code": CODE, "subject_table": table.name, "subject_id": row["id"],
                      "payload": ledger.canonical({"row": ledger.snapshot_row(table, row)}), "source": "bench", "at": AT}
                ev["hash"] = ledger.event_hash(prev, ledger.body_of(ev["chain"], ev["seq"], ev["type"], ev["actor"],
                                                                    ev["class_code"], ev["subject_table"],
                                                                    ev["subject_id"], ev["payload"], ev["source"], AT))
                chains[chain] = (ev["seq"], ev["hash"])
                batch.append(ev)
                if len(batch) == 5000:
                    s.execute(insert(LedgerEvent), batch)
                    batch = []
            if batch:
                s.execute(insert(LedgerEvent), batch)
        s.execute(delete(LedgerChain))  # the migrations start the city chain
        s.execute(insert(LedgerChain), [{"chain": c, "seq": seq, "hash": h} for c, (seq, h) in chains.items()])


PEAK = """
import atexit, sys
def _peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            sys.stderr.write("PEAK_KIB " + line.split()[1] + "\\n")
atexit.register(_peak)
"""


def measured(args: list[str], env: dict) -> tuple[float, float, str]:
    """Run a child; (seconds, peak RSS in MiB, its output). The peak is the child's own high-water mark
    (``VmHWM``, reset by exec: ``ru_maxrss`` of a forked child would start at this big parent's)."""
    args = [args[0], "-c", PEAK + args[2], *args[3:]]
    start = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True)
    seconds = time.perf_counter() - start
    out, err = done.stdout.decode(), done.stderr.decode()
    if done.returncode != 0:
        raise SystemExit(f"{args[3:]} failed ({done.returncode}):\n{out}{err}")
    peak = next(int(line.split()[1]) for line in err.splitlines() if line.startswith("PEAK_KIB"))
    return seconds, peak / 1024, out.strip()


BASELINE = """
import shutil, sys, zipfile
from pathlib import Path
with zipfile.ZipFile(sys.argv[2], "w") as z:
    for path in sorted(p for p in Path(sys.argv[1]).rglob("*") if p.is_file()):
        info = zipfile.ZipInfo("photos/" + path.name, (2000, 1, 1, 0, 0, 0))
        with open(path, "rb") as src, z.open(info, "w") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
"""
CLI = "import sys; from bot.cli import main; sys.argv[0] = 'dingclass'; main()"


def seed_all(root: Path, url: str, data_dir: Path, args) -> None:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    factory = make_session_factory(engine)
    start = time.perf_counter()
    photos, photo_bytes = seed(factory, FileStore(data_dir / "files"), args.trainees, args.days)
    with factory() as s:
        events = s.scalar(select(LedgerChain.seq).where(LedgerChain.chain == 1))
    engine.dispose()
    print(f"seeded {args.trainees} trainees × {args.days} days: {photos} photos "
          f"({photo_bytes / photos / 1024:.0f} KiB each, {photo_bytes / 2**20:.0f} MiB), {events} class events "
          f"in {time.perf_counter() - start:.1f} s ({engine.dialect.name})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, default=50)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the three measurements (the best is shown)")
    parser.add_argument("--keep", metavar="DIR", help="build the class in DIR and keep it (reused when it is there)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep or tmp)
        root.mkdir(parents=True, exist_ok=True)
        data_dir = root / "var"
        url = args.database_url or f"sqlite:///{root / 'bench.sqlite3'}"
        key = root / "key" / "ledger.key"
        if not (root / "seeded").exists():
            seed_all(root, url, data_dir, args)
            ledger_keys.create_key(key)
            (root / "seeded").touch()
        env = dict(os.environ, DATABASE_URL=url, DINGCLASS_DATA_DIR=str(data_dir), DINGCLASS_LEDGER_KEY=str(key))
        zip_path = root / "out" / f"{CODE}-archive.zip"
        rounds = []
        for n in range(args.repeat):  # interleaved, so a busy moment of the machine hits all three alike
            os.sync()
            base = measured([sys.executable, "-c", BASELINE, str(data_dir / "files"), str(root / "baseline.zip")], env)
            (root / "baseline.zip").unlink()
            os.sync()
            arch = measured([sys.executable, "-c", CLI, "archive", CODE, "--out", str(root / "out")], env)
            os.sync()
            ver = measured([sys.executable, "-c", CLI, "verify", str(zip_path)], env)
            if n == 0:
                print(arch[2])
                print(ver[2])
            print(f"round {n + 1}: baseline {base[0]:.2f} s, archive {arch[0]:.2f} s, verify {ver[0]:.2f} s")
            rounds.append((base, arch, ver))
        (base_s, base_rss, _), (arch_s, arch_rss, _), (ver_s, ver_rss, _) = (
            min((r[i] for r in rounds), key=lambda m: m[0]) for i in range(3))
        print(f"best of {args.repeat} (load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs):")
        print(f"baseline (zip-copy of the photos) {base_s:6.2f} s  peak RSS {base_rss:6.0f} MiB")
        print(f"dingclass archive                 {arch_s:6.2f} s  peak RSS {arch_rss:6.0f} MiB  "
              f"= {arch_s / base_s:4.2f}× baseline time; zip {zip_path.stat().st_size / 2**20:.0f} MiB")
        print(f"dingclass verify ARCHIVE          {ver_s:6.2f} s  peak RSS {ver_rss:6.0f} MiB  "
              f"= {ver_s / base_s:4.2f}× baseline time")


if __name__ == "__main__":
    main()
