"""A photo's raw download is removed once its transaction commits (R08: it may carry GPS positions), never
from under a row that names the same bytes — not even one written at the same moment by another
transaction, thread or bot process, whose row the removing transaction cannot see (``storage.file_refs``)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import pytest
from sqlalchemy import insert

from storage import file_refs
from storage.files import FileStore
from storage.models import Attachment
from tests.handlers.chat import create_class

RAW = b"the same picture, sent as a photo and handed in as homework"
SHA = hashlib.sha256(RAW).hexdigest()


@pytest.fixture
def files(tmp_path):
    store = FileStore(tmp_path / "files")
    assert store.put(RAW) == SHA
    return store


def _stored(files: FileStore) -> bytes | None:
    path = files.path(SHA)
    return path.read_bytes() if path.exists() else None


def test_R08_a_raw_download_named_by_nothing_is_removed_once_its_transaction_commits(factory, files):
    with factory.begin() as s:
        file_refs.discard_after_commit(s, files, SHA, RAW)
        assert _stored(files) == RAW  # not before the commit
    assert _stored(files) is None


def test_R08_a_raw_download_stays_if_its_transaction_or_savepoint_rolls_back(factory, files):
    with factory() as s:
        with s.begin():
            with s.begin_nested() as savepoint:
                file_refs.discard_after_commit(s, files, SHA, RAW)
                savepoint.rollback()
        file_refs.discard_after_commit(s, files, SHA, RAW)
        s.rollback()
    assert _stored(files) == RAW


def test_R08_a_raw_download_named_by_a_row_committed_meanwhile_is_put_back(factory, files):
    """Another bot process hands the same bytes in as homework after this transaction looked and before it
    committed: the file is there for its row."""
    engine = factory.kw["bind"]
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's writers take turns: no other row can commit between the look and the commit")
    with factory() as s:
        klass = create_class(s, size=1)
        s.commit()
        file_refs.discard_after_commit(s, files, SHA, RAW)
        with engine.begin() as other:
            other.execute(insert(Attachment).values(
                class_id=klass.id, subject_table="submissions", subject_id=1, kind="picture", download_code="dl",
                sha256=SHA, received_at=datetime.now(timezone.utc), source="dingtalk:other-process"))
        s.commit()
    assert _stored(files) == RAW


def test_R10_a_kept_download_removed_by_a_concurrent_discard_is_put_back_when_its_transaction_commits(factory,
                                                                                                       files):
    """The homework's transaction commits after the photo's removed the raw download (it could not see the
    homework's row): the homework's commit puts the bytes back. A savepoint released inside it waits for it."""
    with factory() as keeper:
        keeper.begin()
        with keeper.begin_nested():
            file_refs.keep_after_commit(keeper, files, SHA, RAW)
        with factory.begin() as photo:
            file_refs.discard_after_commit(photo, files, SHA, RAW)
        assert _stored(files) is None
        keeper.commit()
    assert _stored(files) == RAW


def test_R08_when_the_check_after_a_removal_fails_the_bytes_are_put_back_and_the_commit_stands(factory, files,
                                                                                            monkeypatch):
    """Unsure whether a row committed meanwhile names the bytes (the database did not answer): keep them. The
    transaction has committed either way: its caller is not told otherwise."""
    def unreachable(_engine):
        raise ConnectionError("the database went away")

    monkeypatch.setattr(file_refs, "read_only_engine", unreachable)
    with factory.begin() as s:
        file_refs.discard_after_commit(s, files, SHA, RAW)
    assert _stored(files) == RAW
