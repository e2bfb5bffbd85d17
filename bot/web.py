"""The health and metrics server: a small aiohttp application, off by default.

    GET /healthz   200 while the process serves requests (liveness)
    GET /readyz    200 when the database answers, every platform is connected and,
                   on PostgreSQL, the process listens to the others; else 503.
                   The body (JSON) says which check failed.
    GET /metrics   Prometheus's text format (bot/metrics.py)

and the pages features declare (`Router.page`, e.g. the events' calendar feeds).

Turned on with `[web] listen = "127.0.0.1:8080"`. It has no authentication: bind it
to an address only the monitoring can reach.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

from bot.feature import Page
from bot.metrics import CONTENT_TYPE, Metrics

log = logging.getLogger("kehila.web")

# What /readyz reports: (ready, the state of each check).
Readiness = Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]
# A feature's page, bound to the app: (the path's parameters) -> the page, or None (404).
BoundPage = Callable[[dict[str, str]], Awaitable[Page | None]]


def build(
    metrics: Metrics, readiness: Readiness, pages: Sequence[tuple[str, BoundPage]] = ()
) -> web.Application:
    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(request: web.Request) -> web.Response:
        ready, checks = await readiness()
        return web.Response(
            text=json.dumps({"ready": ready, **checks}, sort_keys=True) + "\n",
            status=200 if ready else 503,
            content_type="application/json",
        )

    async def prometheus(request: web.Request) -> web.Response:
        await metrics.refresh()
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", prometheus)
    for path, handler in pages:
        app.router.add_get(path, _page(handler))
    return app


def _page(handler: BoundPage) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def serve(request: web.Request) -> web.Response:
        try:
            page = await handler(dict(request.match_info))
        except Exception:
            log.exception("the page %s failed", request.path)
            return web.Response(status=500, text="error\n")
        if page is None:
            return web.Response(status=404, text="not found\n")
        return web.Response(body=page.body, content_type=page.content_type)

    return serve


class WebServer:
    def __init__(
        self,
        metrics: Metrics,
        readiness: Readiness,
        host: str,
        port: int,
        pages: Sequence[tuple[str, BoundPage]] = (),
    ) -> None:
        self._app = build(metrics, readiness, pages)
        self._host, self._port = host, port
        self._runner: web.AppRunner | None = None

    @property
    def port(self) -> int:
        """The port it listens on (the one the system chose, for port 0)."""
        if self._runner is None:
            return self._port
        for address in self._runner.addresses:
            return int(address[1])
        return self._port

    async def start(self) -> None:
        runner = web.AppRunner(self._app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        log.info("health and metrics on http://%s:%d", self._host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
