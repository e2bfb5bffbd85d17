"""The unit of work: one session, one transaction, per handler run.

Nothing is written until `commit()`; leaving the block without committing rolls
back. Repositories are created on first use: the core's as attributes
(`uow.members`), a feature's by type (`uow.repo(OnboardingRepo)`), once the feature
registered it on the database (`Database.register_repository`).
"""

from __future__ import annotations

from functools import cached_property
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from storage.activity import Activity
from storage.codes import Codes
from storage.database import Database
from storage.engagement.flush import EngagementWrites
from storage.outbox import OutboxRepo
from storage.repositories import Communities, Jobs, Members, Pending, Settings, Spaces

R = TypeVar("R")


class UnitOfWork:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._session: AsyncSession | None = None
        self._repos: dict[type, Any] = {}

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self._db.session()
        return self._session

    @property
    def dialect(self) -> str:
        return self._db.dialect

    def repo(self, kind: type[R]) -> R:
        """A feature's repository, by type, sharing this unit's session."""
        found = self._repos.get(kind)
        if found is None:
            if kind not in self._db.repositories:
                raise LookupError(f"{kind.__name__} is not a registered repository")
            found = self._repos[kind] = kind(self.session)  # type: ignore[call-arg]
        return found

    @cached_property
    def communities(self) -> Communities:
        return Communities(self.session)

    @cached_property
    def spaces(self) -> Spaces:
        return Spaces(self.session)

    @cached_property
    def members(self) -> Members:
        return Members(self.session)

    @cached_property
    def settings(self) -> Settings:
        return Settings(self.session)

    @cached_property
    def jobs(self) -> Jobs:
        return Jobs(self.session)

    @cached_property
    def activity(self) -> Activity:
        return Activity(self.session)

    @cached_property
    def engagement(self) -> EngagementWrites:
        return EngagementWrites(self.session)

    @cached_property
    def pending(self) -> Pending:
        return Pending(self.session)

    @cached_property
    def outbox(self) -> OutboxRepo:
        return OutboxRepo(self.session)

    @cached_property
    def codes(self) -> Codes:
        return Codes(self.session)

    async def commit(self) -> None:
        if self._session is not None:
            await self._session.commit()

    async def rollback(self) -> None:
        if self._session is not None:
            await self._session.rollback()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
            self._repos.clear()

    async def __aenter__(self) -> UnitOfWork:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is not None:
                await self.rollback()
        finally:
            await self.close()
