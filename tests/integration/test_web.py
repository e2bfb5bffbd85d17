"""The health and metrics server (bot/web.py), asked over real HTTP while a console
community runs: liveness, readiness with what is not ready, and the Prometheus
counts of what happened."""

from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from adapters.console.adapter import ConsoleAdapter
from adapters.console.community import ConsoleCommunity
from bot.app import App
from bot.clock import FakeClock
from bot.config import Config, ConfigError, WebSection
from storage.database import StorageUnavailable
from storage.outbox import Queued
from storage.unit_of_work import UnitOfWork
from tests.conftest import START


def with_web(config: Config, listen: str = "127.0.0.1:0") -> Config:
    return config.model_copy(update={"web": WebSection(listen=listen)})


async def get(port: int, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}{path}") as r:
        return r.status, await r.text()


async def test_health_readiness_and_metrics(config: Config, tmp_path: Path) -> None:
    community = ConsoleCommunity(with_web(config), start=START, files_dir=tmp_path)
    await community.start(migrate=False)
    try:
        port = community.app.web.port
        assert await get(port, "/healthz") == (200, "ok\n")
        status, body = await get(port, "/readyz")
        assert status == 200, body
        assert '"database": "ok"' in body and '"console": "connected"' in body
        assert '"state": "running"' in body

        await community.run("/setup Club\nhello\n/say dana hi there\n/stats")
        await community.advance(timedelta(days=7))  # the weekly digest runs
        # A row waiting in the outbox for a platform this process does not serve,
        # queued a minute ago: the gauges are read from storage at the scrape.
        async with UnitOfWork(community.app.services.db) as uow:
            now = community.clock.now()
            send = {"type": "Send", "text": "hello"}
            await uow.outbox.add(
                [Queued("telegram", "#-100", send, None)], now - timedelta(minutes=1)
            )
            await uow.commit()
        status, metrics = await get(port, "/metrics")
        assert status == 200
        assert 'kehila_events_total{type="MessagePosted"} 2.0' in metrics
        assert 'kehila_events_total{type="CommandInvoked"} 2.0' in metrics
        assert 'kehila_actions_total{action="Reply",result="ok"}' in metrics
        assert 'kehila_jobs_total{job="engagement.digest",result="ran"} 1.0' in metrics
        assert "kehila_flush_seconds_count" in metrics
        assert "kehila_flush_seconds_count 0.0" not in metrics
        assert "kehila_outbox_depth 1.0" in metrics
        assert "kehila_outbox_oldest_seconds 60.0" in metrics
    finally:
        await community.stop()
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(port, "/healthz")  # stopped with the app


class Disconnected(ConsoleAdapter):
    connected = False


async def test_not_ready_says_why(config: Config, tmp_path: Path) -> None:
    clock = FakeClock(START)
    app = App(with_web(config), clock=clock, adapters=[Disconnected(now=clock.now)])
    await app.start(migrate=False)
    try:
        status, body = await get(app.web.port, "/readyz")
        assert status == 503
        assert '"console": "disconnected"' in body and '"ready": false' in body

        async def unreachable() -> None:
            raise StorageUnavailable("cannot reach the database")

        app.services.db.ping = unreachable  # type: ignore[method-assign]
        status, body = await get(app.web.port, "/readyz")
        assert status == 503 and '"database": "unreachable"' in body
        assert (await get(app.web.port, "/healthz"))[0] == 200  # alive all the same
    finally:
        await app.stop()


async def test_an_address_in_use_is_a_configuration_error(config: Config) -> None:
    taken = socket.create_server(("127.0.0.1", 0))
    try:
        port = taken.getsockname()[1]
        app = App(with_web(config, f"127.0.0.1:{port}"), clock=FakeClock(START))
        with pytest.raises(ConfigError, match=f"web.listen = '127.0.0.1:{port}': cannot listen"):
            await app.start(migrate=False)
        await app.services.db.dispose()
    finally:
        taken.close()
