"""Completing a survey (closed by hand, by its deadline, or once everyone answered).

Completion is one conditional UPDATE (`status = 'published'` -> `'completed'`): whichever of
a close, the deadline sweep or the last response gets there first completes the survey and
raises `survey.completed`; the others find nothing to update and raise nothing.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from functools import partial
from typing import Any, Final, Literal

from sqlalchemy import Connection, select, update

from plaudit.domain.clock import Clock
from plaudit.domain.survey_results import SurveyResults, summarize
from plaudit.engagement.survey_records import (
    COMPLETED,
    PUBLISHED,
    Survey,
    all_answers,
    load_survey,
    targeted_count,
)
from plaudit.events.log import EventLog
from plaudit.events.models import EventDraft, rfc3339
from plaudit.runtime.background import every
from plaudit.store.database import Database
from plaudit.store.engagement_tables import surveys

log = logging.getLogger("plaudit.engagement")

CompletionReason = Literal["closed", "all_responded"]
SWEEP_BATCH: Final = 100


def survey_results(conn: Connection, survey: Survey) -> SurveyResults:
    """The aggregates as of now, from every stored response."""
    return summarize(
        survey.questions, all_answers(conn, survey.id), targeted_count(conn, survey.id)
    )


def complete_survey(
    conn: Connection,
    event_log: EventLog,
    survey: Survey,
    reason: CompletionReason,
    now: datetime,
) -> bool:
    """Complete a published survey and raise `survey.completed`; False if it was not open."""
    changed = conn.execute(
        update(surveys)
        .where(surveys.c.id == survey.id, surveys.c.status == PUBLISHED)
        .values(status=COMPLETED, completed_at=now, completion_reason=reason, updated_at=now)
    ).rowcount
    if changed != 1:
        return False
    results = survey_results(conn, survey)
    draft = EventDraft("survey.completed", completed_payload(survey, results, reason, now))
    event_log.store(conn, survey.environment_id, event_log.prepare([draft]))
    return True


def completed_payload(
    survey: Survey, results: SurveyResults, reason: CompletionReason, now: datetime
) -> dict[str, Any]:
    return {
        "survey_id": survey.id,
        "title": survey.title,
        "reason": reason,
        "targeted": results.targeted,
        "responded": results.responded,
        "response_rate": results.response_rate,
        "questions": [question.event_json() for question in results.questions],
        "enps": results.enps,
        "completed_at": rfc3339(now),
    }


class SurveyDeadlineSweep:
    """Background service completing published surveys whose `closes_at` has passed."""

    name = "survey-deadlines"

    def __init__(
        self, db: Database, clock: Clock, event_log: EventLog, interval_s: float = 30.0
    ) -> None:
        self._db = db
        self._clock = clock
        self._event_log = event_log
        self._interval_s = interval_s

    async def run(self, stopping: asyncio.Event) -> None:
        async def sweep() -> None:
            await self.sweep_once()

        await every(
            self._interval_s, stopping, sweep, logger=log, failure="survey deadline sweep failed"
        )

    async def sweep_once(self, now: datetime | None = None) -> int:
        """Complete every survey due at `now` (default: the clock); returns how many."""
        instant = now or self._clock.now()
        completed = 0
        while True:
            # A read first: an idle sweep must not take SQLite's write lock.
            due = await self._db.read_with(lambda conn: _due(conn, instant))
            closed_now = 0
            for environment_id, survey_id in due:
                close = partial(
                    self._close_due, environment_id=environment_id, survey_id=survey_id, now=instant
                )
                try:
                    if await self._db.write(close):
                        closed_now += 1
                except Exception:  # one survey that cannot complete must not hold up the rest
                    log.exception("survey completion failed", extra={"survey_id": survey_id})
            completed += closed_now
            # A short batch was the last; a full one that closed nothing would repeat itself.
            if len(due) < SWEEP_BATCH or closed_now == 0:
                return completed

    def _close_due(
        self, conn: Connection, environment_id: str, survey_id: str, now: datetime
    ) -> bool:
        survey = load_survey(conn, environment_id, survey_id, for_update=True)
        if survey.status != PUBLISHED or survey.closes_at is None or survey.closes_at > now:
            return False
        return complete_survey(conn, self._event_log, survey, "closed", now)


def _due(conn: Connection, now: datetime) -> list[tuple[str, str]]:
    rows = conn.execute(
        select(surveys.c.environment_id, surveys.c.id)
        .where(
            surveys.c.status == PUBLISHED,
            surveys.c.closes_at.is_not(None),
            surveys.c.closes_at <= now,
        )
        .order_by(surveys.c.closes_at, surveys.c.id)
        .limit(SWEEP_BATCH)
    ).all()
    return [(row.environment_id, row.id) for row in rows]
