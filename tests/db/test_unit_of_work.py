"""``UnitOfWork.before_commit``: steps run after the last flush, in the transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from tests.commerce import SYSTEM

from shopops.audit import AuditEntry
from shopops.bootstrap import Container
from shopops.uow import UnitOfWork


def _audit_rows(container: Container) -> int:
    with container.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def test_a_step_sees_the_flushed_rows_and_what_it_records_is_committed(
    container: Container,
) -> None:
    seen: list[int] = []
    with container.uow(SYSTEM) as uow:
        uow.audit("test.first", "thing", 1)

        def step() -> None:
            seen.append(int(uow.session.scalar(select(func.count()).select_from(AuditEntry))))
            uow.audit("test.step", "thing", 2)

        uow.before_commit(step)
        uow.commit()
    assert seen == [1]  # the audit row queued before was written before the step ran
    assert _audit_rows(container) == 2


def test_a_step_that_raises_aborts_the_commit(container: Container) -> None:
    def refuse() -> None:
        raise LookupError("no")

    with container.uow(SYSTEM) as uow:
        uow.audit("test.first", "thing", 1)
        uow.before_commit(refuse)
        with pytest.raises(LookupError):
            uow.commit()
    assert _audit_rows(container) == 0


def test_a_savepoint_rolled_back_drops_its_steps(container: Container) -> None:
    ran: list[str] = []

    def failing_part(uow: UnitOfWork) -> None:
        with uow.savepoint():
            uow.before_commit(lambda: ran.append("undone"))
            raise LookupError("this part fails")

    with container.uow(SYSTEM) as uow:
        uow.before_commit(lambda: ran.append("kept"))
        with pytest.raises(LookupError):
            failing_part(uow)
        uow.commit()
    assert ran == ["kept"]
