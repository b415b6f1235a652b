"""R08 daily study photos: validation, the first valid photo counts, duplicates across classes flagged."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from bot.openapi import DingTalkError
from handlers import review
from handlers.policy import load_profile
from scheduler import run_job
from scheduler.jobs import by_id
from storage import images, ledger_verify
from storage.models import Klass, LedgerEvent, OutboxMessage, Photo

from .chat import Chat, add_staff, at, bind_group, bind_person, create_class, near_copy, picture, roster_of


@pytest.fixture
def chat(factory, tmp_path):
    """Two classes running at once, each with its group; a1..a3 in class A, b1..b3 in class B."""
    with factory() as s:
        a = create_class(s, code="A", size=3, seed=1)
        b = create_class(s, code="B", size=3, seed=2)
        bind_group(s, a, "cid-a")
        bind_group(s, b, "cid-b")
        for klass, prefix in ((a, "a"), (b, "b")):
            for n, person in enumerate(roster_of(s, klass), start=1):
                bind_person(s, person, f"{prefix}{n}")
        add_staff(s, "teacher", "teacher", a, name="张丽华")
        s.commit()
    return Chat(factory, tmp_path)


def photo_rows(factory):
    with factory() as s:
        return [(p.id, p.enrollment_id, p.status, p.counted, p.duplicate_of_id)
                for p in s.scalars(select(Photo).order_by(Photo.id))]


def test_R08_first_valid_photo_of_the_day_counts_and_later_ones_are_kept(chat, factory):
    assert chat.photo(picture(1), when=at("09:02"), sender="a1", group="cid-a") == "已收到今天的学习照片（09:02），已计入。"
    (extra,) = [chat.photo(picture(2), when=at("09:10"), sender="a1", group="cid-a")]
    assert extra == "今天的学习照片已经收到过了，这张（09:10）也已保存，但每天只计1张。"
    tomorrow = chat.photo(picture(3), when=at("09:00", "2026-12-02"), sender="a1", group="cid-a")
    assert tomorrow == "已收到今天的学习照片（09:00），已计入。"
    assert photo_rows(factory) == [(1, 1, "ok", True, None), (2, 1, "extra", False, None), (3, 1, "ok", True, None)]
    with factory() as s:
        assert ledger_verify.verify(s).ok


def test_R08_exact_duplicate_of_a_photo_from_another_class_is_flagged_and_not_counted(chat, factory):
    data = picture(10)
    chat.photo(data, when=at("09:00"), sender="a1", group="cid-a")
    (outcome,) = [chat.photo(data, when=at("09:30"), sender="b2", group="cid-b")]
    assert "已转人工审核" in outcome and "审核通过前不计入" in outcome
    assert photo_rows(factory)[1] == (2, 5, "duplicate", False, 1)
    with factory() as s:
        event = s.scalar(select(LedgerEvent).where(LedgerEvent.type == "photo.received", LedgerEvent.subject_id == 2))
        assert '"match":"exact"' in event.payload and event.class_code == "B"


def test_R08_near_duplicate_resized_and_re_encoded_from_another_class_is_flagged(chat, factory):
    original = picture(20)
    chat.photo(original, when=at("09:00"), sender="a2", group="cid-a")
    copy = near_copy(original)
    assert copy != original
    outcome = chat.photo(copy, when=at("09:05"), sender="b1", group="cid-b")
    assert "相同或高度相似" in outcome
    assert photo_rows(factory)[1] == (2, 4, "duplicate", False, 1)
    with factory() as s:
        event = s.scalar(select(LedgerEvent).where(LedgerEvent.type == "photo.received", LedgerEvent.subject_id == 2))
        assert '"match":"near"' in event.payload


def test_R08_reusing_ones_own_photo_of_an_earlier_day_is_flagged(chat, factory):
    data = picture(30)
    chat.photo(data, when=at("09:00"), sender="a3", group="cid-a")
    outcome = chat.photo(data, when=at("09:00", "2026-12-02"), sender="a3", group="cid-a")
    assert "人工审核" in outcome
    assert photo_rows(factory)[1][2:] == ("duplicate", False, 1)


def test_R08_different_photos_are_not_duplicates(chat, factory):
    for n, sender in enumerate(("a1", "a2", "a3", "b1", "b2", "b3")):
        group = "cid-a" if sender.startswith("a") else "cid-b"
        assert chat.photo(picture(100 + n), when=at("09:00"), sender=sender, group=group).endswith("已计入。")
    assert [row[2] for row in photo_rows(factory)] == ["ok"] * 6


def test_R08_a_flagged_first_photo_leaves_the_day_open_for_a_fresh_one(chat, factory):
    data = picture(40)
    chat.photo(data, when=at("09:00"), sender="a1", group="cid-a")
    chat.photo(data, when=at("09:01"), sender="b1", group="cid-b")
    assert chat.photo(picture(41), when=at("09:02"), sender="b1", group="cid-b").endswith("已计入。")


def test_R08_photo_in_the_private_chat_and_richtext_with_the_word_photo_count(chat, factory):
    assert chat.photo(picture(50), when=at("09:00"), sender="a1", group=None).endswith("已计入。")
    assert chat.photo(picture(51), when=at("09:00"), sender="b1", group="cid-b", text="照片").endswith("已计入。")
    assert chat.photo(picture(52), when=at("09:00"), sender="b2", group="cid-b",
                      text="今天的学习照片").endswith("已计入。")
    with factory() as s:
        replies = list(s.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.like("photo:%"))))
        assert len(replies) == 3


def test_R08_the_stored_copy_has_no_exif_and_the_raw_download_is_removed(chat, factory):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {2: (40.0, 39.0, 0.0)}  # GPSInfo: a latitude
    data = picture(60, exif=exif.tobytes())
    assert Image.open(io.BytesIO(data)).getexif()
    chat.photo(data, when=at("09:00"), sender="a1", group="cid-a")
    with factory() as s:
        stored = s.scalar(select(Photo.sha256))
    copy = chat.files.get(stored)
    assert not Image.open(io.BytesIO(copy)).getexif()
    assert b"PhoneMaker" not in copy
    files = [p for p in chat.files.root.rglob("*") if p.is_file()]
    assert [p.name for p in files] == [stored]


@pytest.mark.parametrize("data, told", [
    (b"this is not a picture", "不是图片"),
    (picture(70, size=(40, 30)), "太小"),
])
def test_R08_what_is_not_a_usable_photo_is_refused_with_the_reason(chat, factory, data, told):
    outcome = chat.photo(data, when=at("09:00"), sender="a1", group="cid-a")
    assert told in outcome and "未记录" in outcome
    assert photo_rows(factory) == []
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(LedgerEvent).where(LedgerEvent.type == "photo.invalid")) == 1


def test_R08_a_decompression_bomb_is_refused_before_it_is_decoded():
    huge = Image.new("1", (7000, 7000))  # 49 megapixels in a few kilobytes of PNG
    out = io.BytesIO()
    huge.save(out, "PNG")
    assert len(out.getvalue()) < 200_000
    with pytest.raises(images.InvalidImage) as caught:
        images.prepare(out.getvalue())
    assert caught.value.reason == images.TOO_MANY_PIXELS
    with pytest.raises(images.InvalidImage) as too_big:
        images.prepare(b"\xff" * 100, max_bytes=50)
    assert too_big.value.reason == images.TOO_LARGE


def test_R08_a_truncated_jpeg_is_broken():
    data = picture(80)
    with pytest.raises(images.InvalidImage) as caught:
        images.prepare(data[: len(data) // 2])
    assert caught.value.reason in (images.BROKEN, images.NOT_AN_IMAGE)


def test_R08_unapproved_class_photo_is_recorded_but_not_counted(factory, tmp_path):
    with factory() as s:
        klass = create_class(s, approve=False, size=1)
        bind_group(s, klass, "cid-class")
        bind_person(s, roster_of(s, klass)[0], "u1")
        s.commit()
    chat = Chat(factory, tmp_path)
    assert "尚未通过旗县区审核" in chat.photo(picture(90), when=at("09:00"))
    assert photo_rows(factory) == [(1, 1, "ok", False, None)]


def test_R08_pictures_from_staff_strangers_and_other_classes(chat, factory):
    assert chat.say("", when=at("09:00"), sender="teacher", group="cid-a", images=(picture(95),)) == ["已收到图片。"]
    assert "还没有绑定身份" in chat.say("", when=at("09:00"), sender="nobody", group="cid-a", images=(picture(96),))[0]
    assert "不在本班" in chat.say("", when=at("09:00"), sender="b1", group="cid-a", images=(picture(97),))[0]
    assert "请把当天在线学习的照片作为图片发给我" in chat.say("照片", when=at("09:00"), sender="a1", group="cid-a")[0]
    chat.deliver()
    assert photo_rows(factory) == []


def test_a_photo_check_that_fails_is_answered_with_an_apology_counted_and_records_nothing(chat, factory,
                                                                                           monkeypatch):
    def broken(data, phash_bits):
        raise RuntimeError("decoder crashed")

    monkeypatch.setattr(images, "prepare", broken)
    assert chat.photo(picture(70), when=at("09:00"), sender="a1", group="cid-a").startswith("抱歉")
    assert chat.dispatcher.counters["failed"] == 1
    assert photo_rows(factory) == []
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.kind == "download", OutboxMessage.status == "sent")) == 1


def test_R08_near_duplicate_boundary_8_bits_apart_is_flagged_and_9_bits_apart_counts(chat, factory, monkeypatch):
    """The profile's ``photos.near_duplicate_max_distance`` is 8: a perceptual hash 8 bits from an earlier photo's
    is a near-duplicate; 9 bits apart is a different photo."""
    assert load_profile("baotou-2020").photos.near_duplicate_max_distance == 8
    sizes = {1: (640, 480), 2: (650, 480), 3: (660, 480)}  # the stand-in hash tells the pictures apart by size
    hashes = {sizes[1]: "0000000000000000", sizes[2]: "00000000000000ff", sizes[3]: "ff01000000000000"}
    monkeypatch.setattr(images, "perceptual_hash", lambda image, bits=64: hashes[image.size])
    bits = lambda a, b: bin(int(a, 16) ^ int(b, 16)).count("1")  # noqa: E731  Hamming distance
    assert bits("0000000000000000", "00000000000000ff") == 8
    assert bits("0000000000000000", "ff01000000000000") == 9
    assert bits("00000000000000ff", "ff01000000000000") == 17
    assert chat.photo(picture(1, sizes[1]), when=at("09:00"), sender="a1", group="cid-a").endswith("已计入。")
    eight = chat.photo(picture(2, sizes[2]), when=at("09:01"), sender="b1", group="cid-b")
    assert "相同或高度相似" in eight and "审核通过前不计入" in eight
    assert chat.photo(picture(3, sizes[3]), when=at("09:02"), sender="b2", group="cid-b").endswith("已计入。")
    assert [(row[2], row[3], row[4]) for row in photo_rows(factory)] == [("ok", True, None), ("duplicate", False, 1),
                                                                        ("ok", True, None)]


# -- several processes, send order, dead downloads (issue 15) --------------------------------------
def test_R08_the_day_photo_is_the_first_sent_even_when_it_is_downloaded_last(chat, factory):
    chat.deliver()
    assert chat.say("", when=at("09:00"), sender="a1", group="cid-a", images=(picture(200),)) == []
    early_code = list(chat.blobs)[-1]
    early = chat.blobs.pop(early_code)  # DingTalk does not hand this one over yet
    assert chat.say("", when=at("09:05"), sender="a1", group="cid-a", images=(picture(201),)) == []
    assert chat.deliver() == ["已收到今天的学习照片（09:05），已计入。"]
    chat.blobs[early_code] = early
    chat.last = at("09:20")
    assert chat.deliver() == ["已收到今天的学习照片（09:00），已计入。"
                              "这张比之前计入的那张（09:05 发送）发得早，所以改计这张，那张保存为补充照片。"]
    assert photo_rows(factory) == [(1, 1, "extra", False, None), (2, 1, "ok", True, None)]
    later = chat.photo(picture(202), when=at("09:30"), sender="a1", group="cid-a")
    assert later == "今天的学习照片已经收到过了，这张（09:30）也已保存，但每天只计1张。"
    with factory() as s:
        moved = s.scalar(select(LedgerEvent).where(LedgerEvent.type == "photo.slot_moved"))
        assert moved.subject_id == 1 and '"to_photo_id":2' in moved.payload
        assert ledger_verify.verify(s).ok


def test_R08_a_photo_sent_earlier_does_not_take_a_slot_a_reviewer_accepted(chat, factory):
    data = picture(220)
    chat.photo(data, when=at("08:00"), sender="b1", group="cid-b")
    chat.photo(data, when=at("09:05"), sender="a1", group="cid-a")  # flagged: b1 sent it first
    with factory.begin() as s:
        review.review_photo(s, s.get(Photo, 2), s.scalar(select(Klass).where(Klass.code == "A")), accept=True,
                            reason="同一家人共用手机", actor="admin")
    assert chat.photo(picture(221), when=at("09:00"), sender="a1", group="cid-a").startswith("今天的学习照片已经收到过了")
    assert [row[2] for row in photo_rows(factory)] == ["ok", "accepted", "extra"]


def dead_download_job(factory, when):
    return run_job(factory, by_id("dead_downloads"), when, "test")


def test_R08_a_download_that_dies_asks_the_trainee_to_send_the_picture_again_once(chat, factory):
    chat.deliver()
    assert chat.say("", when=at("09:00"), sender="a1", group="cid-a", images=(picture(230),)) == []
    chat.blobs.clear()  # DingTalk never hands it over
    for hour in range(10, 20):
        chat.last = at(f"{hour}:00")
        assert chat.deliver() == []
    with factory() as s:
        assert s.scalar(select(OutboxMessage.status).where(OutboxMessage.kind == "download")) == "dead"
    assert dead_download_job(factory, at("19:01")) == "answered 1"
    assert dead_download_job(factory, at("19:02")) == "answered 0"
    assert chat.deliver() == ["你 09:00 发来的图片没能下载下来，未记录，请重新发送这张图片。"]
    assert photo_rows(factory) == []


def test_R08_a_picture_over_the_size_limit_is_refused_at_once_and_the_trainee_told(chat, factory, monkeypatch):
    def too_large(robot_code, code):
        raise DingTalkError(413, "fileTooLarge", "the file is over the size limit (Content-Length 52428800)")

    monkeypatch.setattr(chat.api, "download", too_large)
    chat.deliver()
    assert chat.say("", when=at("09:00"), sender="a1", group="cid-a", images=(picture(240),)) == []
    assert chat.deliver() == []
    with factory() as s:
        row = s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "download"))
        assert (row.status, row.attempts) == ("dead", 1)  # refused once, never retried
    assert dead_download_job(factory, at("09:01")) == "answered 1"
    assert chat.deliver() == ["图片太大（超过 20 MB），未记录。请直接拍照发送，不要发原图文件。"]
