"""day indexes: punches, photos, study minutes and leave by day (then trainee); flagged photos by status

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

Issue 13 (queries that do not grow with the city): ``WHERE day = :d`` was a sequential scan of every
punch, photo, minutes and leave row of the city. An index that leads with ``day`` and then the enrollment
serves both the whole day (the R11 report) and one class's trainees on that day (one equality on
each column per trainee); the photo status index lets the overview count the photos awaiting review
(R08) without reading every photo.
"""

from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_punches_day_enrollment", "punches", ["day", "enrollment_id"]),
    ("ix_photos_day_enrollment", "photos", ["day", "enrollment_id"]),
    ("ix_study_minutes_day_enrollment", "study_minutes", ["day", "enrollment_id"]),
    ("ix_leave_requests_day_enrollment", "leave_requests", ["day", "enrollment_id"]),
    ("ix_photos_status_enrollment", "photos", ["status", "enrollment_id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
