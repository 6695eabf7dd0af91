"""Periodic jobs run by `shopops worker`; a job runs on one worker at a time.

Each job's next run time lives in ``scheduled_jobs``. A worker claims a due job
with a conditional UPDATE (``... WHERE next_run_at <= now``) so that when
several workers poll, exactly one of them wins each slot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from shopops.db.jobs import ScheduledJob
from shopops.kernel.time import Clock

log = logging.getLogger("shopops.scheduler")


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[], object]  # returns a short summary (e.g. rows processed)


class Scheduler:
    def __init__(self, session_factory: sessionmaker[Session], clock: Clock, owner: str) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self._owner = owner
        self.jobs: dict[str, Job] = {}

    def add(self, job: Job) -> None:
        self.jobs[job.name] = job

    def _claim(self, job: Job) -> bool:
        now = self._clock.now()
        with self._session_factory() as session, session.begin():
            if session.get(ScheduledJob, job.name) is None:
                try:
                    with session.begin_nested():
                        session.add(ScheduledJob(name=job.name, next_run_at=now))
                except IntegrityError:
                    pass
            claimed = session.execute(
                update(ScheduledJob)
                .where(ScheduledJob.name == job.name, ScheduledJob.next_run_at <= now)
                .values(next_run_at=now + job.every, owner=self._owner, last_started_at=now)
                .execution_options(synchronize_session=False)
            )
            return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]

    def run_due(self) -> list[str]:
        """Run every job whose time has come; returns the names that ran."""
        ran = []
        for job in self.jobs.values():
            if not self._claim(job):
                continue
            ran.append(job.name)
            result, error = None, None
            try:
                result = str(job.run())
            except Exception as exc:  # a failing job must not stop the others
                log.exception("job %s failed", job.name)
                error = f"{type(exc).__name__}: {exc}"[:2000]
            with self._session_factory() as session, session.begin():
                session.execute(
                    update(ScheduledJob)
                    .where(ScheduledJob.name == job.name)
                    .values(
                        last_finished_at=self._clock.now(), last_result=result, last_error=error
                    )
                )
        return ran

    def status(self) -> list[ScheduledJob]:
        with self._session_factory() as session:
            return list(session.scalars(select(ScheduledJob).order_by(ScheduledJob.name)))
