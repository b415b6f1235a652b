"""Job claims: a unique row (job, scope, period) taken before a job acts, so that two schedulers, a
restart or a re-run never do the same work twice (the loser of a race gets an IntegrityError)."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import JobClaim

DONE, MISSED, RUNNING, FAILED = "done", "missed", "running", "failed"
EVERY = "*"  # the scope of a job's own runs


def claim(s: Session, job: str, scope: str, period: str, *, by: str, outcome: str = DONE, detail: str = "") -> bool:
    """Take (job, scope, period); False if it was taken before (by anyone)."""
    try:
        with s.begin_nested():
            s.add(JobClaim(job=job, scope=scope, period=period, claimed_by=by[:128], outcome=outcome, detail=detail))
            s.flush()
    except IntegrityError:
        return False
    return True


def release(s: Session, job: str, scope: str, period: str) -> None:
    """Give a claim back (the work failed and should be tried again)."""
    s.execute(delete(JobClaim).where(JobClaim.job == job, JobClaim.scope == scope, JobClaim.period == period))


def finish(s: Session, job: str, period: str, outcome: str, detail: str) -> None:
    row = s.scalar(select(JobClaim).where(JobClaim.job == job, JobClaim.scope == EVERY, JobClaim.period == period))
    if row is not None:
        row.outcome, row.detail = outcome, detail[:2000]


def last_runs(s: Session) -> dict[str, JobClaim]:
    """Each job's latest run (by claim time), one query."""
    latest = (select(JobClaim.job, func.max(JobClaim.id).label("id")).where(JobClaim.scope == EVERY)
              .group_by(JobClaim.job).subquery())
    return {row.job: row for row in s.scalars(select(JobClaim).join(latest, latest.c.id == JobClaim.id))}
