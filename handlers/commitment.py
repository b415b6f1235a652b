"""R01: the signed commitment letter (承诺书) a training plan names: which files are allowed, and reading one
safely from the plan's folder."""

from __future__ import annotations

import os
from pathlib import Path

from handlers.plans import COMMITMENT_MAX_BYTES, PlanError
from handlers.texts import classes as texts


# Allowed kinds by the file's first bytes (not its name): PDF and the usual photo formats.
COMMITMENT_TYPES = {
    b"%PDF-": ("PDF", "application/pdf", (".pdf",)),
    b"\x89PNG\r\n\x1a\n": ("PNG", "image/png", (".png",)),
    b"\xff\xd8\xff": ("JPEG", "image/jpeg", (".jpg", ".jpeg")),
}


def commitment_type(data: bytes) -> tuple[str, str, tuple[str, ...]] | None:
    """(kind, content type, suffixes) of an allowed commitment file, by its first bytes; None otherwise."""
    return next((kind for magic, kind in COMMITMENT_TYPES.items() if data.startswith(magic)), None)


def read_commitment(plan_dir: Path, name: str) -> tuple[str, bytes]:
    """The commitment file a plan names, as (file name, bytes).

    A plan comes from an institution, so the name it gives is not trusted: it must be a file inside
    the plan's own folder (no absolute path, no ``..``, and no symbolic link leading out of the
    folder), a regular file of at most ``COMMITMENT_MAX_BYTES``, and a PDF, PNG or JPEG by its
    content and its name. Anything else is a PlanError naming the reason.
    """
    folder = plan_dir.resolve()
    given = Path(name)
    if given.is_absolute() or ".." in given.parts or not given.parts:
        raise PlanError([texts.COMMITMENT_OUTSIDE.format(name=name)])
    path = (folder / given).resolve()  # follows every symbolic link to where it really leads
    if not path.is_relative_to(folder) or path == folder:
        raise PlanError([texts.COMMITMENT_OUTSIDE.format(name=name)])
    if not path.exists():
        raise PlanError([texts.COMMITMENT_MISSING.format(name=name)])
    if not path.is_file():
        raise PlanError([texts.COMMITMENT_NOT_A_FILE.format(name=name)])
    allowed = "、".join(kind for kind, _, _ in COMMITMENT_TYPES.values())
    if path.suffix.lower() not in {s for _, _, suffixes in COMMITMENT_TYPES.values() for s in suffixes}:
        raise PlanError([texts.COMMITMENT_BAD_TYPE.format(name=name, allowed=allowed)])
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as f:
            data = f.read(COMMITMENT_MAX_BYTES + 1)
    except OSError as exc:
        raise PlanError([texts.COMMITMENT_UNREADABLE.format(name=name, detail=exc.strerror)]) from None
    if len(data) > COMMITMENT_MAX_BYTES:
        raise PlanError([texts.COMMITMENT_TOO_BIG.format(name=name, max=COMMITMENT_MAX_BYTES // (1024 * 1024))])
    kind = commitment_type(data)
    if kind is None or path.suffix.lower() not in kind[2]:
        raise PlanError([texts.COMMITMENT_BAD_TYPE.format(name=name, allowed=allowed)])
    return path.name, data
