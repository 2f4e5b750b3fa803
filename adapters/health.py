"""``/healthz`` and ``/metrics`` over aiohttp, on DIGEST_HTTP_HOST:DIGEST_HTTP_PORT.

``/healthz`` answers 200 with a JSON report while the database answers (``status`` says
``ok`` or ``degraded``: a paused subscription, a failing source, a platform down) and 503
when it does not. ``/metrics`` is the Prometheus text format, built by prometheus_client from
the same report at each scrape (its own registry: nothing global).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.commands.health import HealthReport

logger = logging.getLogger(__name__)
ReportSource = Callable[[], Awaitable[HealthReport]]
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


class _ReportCollector(Collector):
    """Turns one report into metric families."""

    def __init__(self, report: HealthReport) -> None:
        self._report = report

    def collect(self) -> Iterator[Metric]:
        report = self._report
        up = GaugeMetricFamily("digest_up", "1 while the database answers")
        up.add_metric([], 1.0 if report.database_ok else 0.0)
        yield up
        platforms = GaugeMetricFamily(
            "digest_platform_connected", "1 when the platform is connected", labels=["platform"]
        )
        for name, connected in sorted(report.platforms.items()):
            platforms.add_metric([name], 1.0 if connected else 0.0)
        yield platforms
        paused = GaugeMetricFamily("digest_subscriptions_paused", "Paused subscriptions")
        paused.add_metric([], float(len(report.paused)))
        yield paused
        failing = GaugeMetricFamily("digest_sources_failing", "Sources whose last run failed")
        failing.add_metric([], float(len(report.failing_sources)))
        yield failing
        pending = GaugeMetricFamily("digest_deliveries_pending", "Deliveries waiting to be sent")
        pending.add_metric([], float(report.pending_deliveries))
        yield pending
        counters = report.counters
        deliveries = CounterMetricFamily(
            "digest_deliveries", "Deliveries finished by this process", labels=["outcome"]
        )
        deliveries.add_metric(["done"], counters.deliveries_done)
        deliveries.add_metric(["failed"], counters.deliveries_failed)
        deliveries.add_metric(["skipped"], counters.deliveries_skipped)
        deliveries.add_metric(["retried"], counters.deliveries_retried)
        yield deliveries
        messages = CounterMetricFamily(
            "digest_messages", "Messages posted by this process", labels=["how"]
        )
        messages.add_metric(["sent"], counters.messages_sent)
        messages.add_metric(["recovered"], counters.messages_recovered)
        yield messages
        jobs = CounterMetricFamily(
            "digest_jobs", "Scheduled jobs run by this process", labels=["job"]
        )
        jobs.add_metric(["ingest"], counters.ingests)
        jobs.add_metric(["compose"], counters.composes)
        yield jobs


class RequestErrorLog(logging.LoggerAdapter[logging.Logger]):
    """aiohttp's request-error log, where a malformed request is one DEBUG line.

    aiohttp logs every request it cannot parse with a traceback, most at ERROR: anyone who
    can reach the port (a scanner, a TLS client on a plain port) could flood the log. An
    exception raised by one of our handlers still goes to ERROR with its traceback.
    """

    def __init__(self) -> None:
        super().__init__(logging.getLogger("aiohttp.server"), {})

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        """Log as asked, except a malformed request: one DEBUG line without a traceback."""
        failure = kwargs.get("exc_info")
        if isinstance(failure, HttpProcessingError):
            reason = " ".join(str(failure.message or failure.__class__.__name__).split())
            self.logger.debug("malformed request (%d): %s", failure.code, reason[:200])
            return
        super().log(level, msg, *args, **kwargs)

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, Any]:
        """Pass the message as is (no extra context)."""
        return msg, kwargs


def add_health_routes(app: web.Application, report: ReportSource) -> None:
    """Add ``GET /healthz`` and ``GET /metrics`` to ``app``."""

    async def healthz(_: web.Request) -> web.Response:
        current = await report()
        return web.json_response(current.as_json(), status=200 if current.database_ok else 503)

    async def metrics(_: web.Request) -> web.Response:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_ReportCollector(await report()))
        return web.Response(
            body=generate_latest(registry), headers={"Content-Type": PROMETHEUS_TEXT}
        )

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)


class HealthServer:
    """A server with only the health routes (when Slack's HTTP mode does not serve them)."""

    def __init__(
        self,
        report: ReportSource,
        host: str,
        port: int,
        *,
        extra_routes: Callable[[web.Application], None] | None = None,
    ) -> None:
        self._app = web.Application()
        add_health_routes(self._app, report)
        if extra_routes is not None:
            extra_routes(self._app)  # the web archive (adapters.web.routes)
        self._host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen without blocking the event loop; `port` is the bound port after."""
        self._runner = web.AppRunner(self._app, access_log=None, logger=RequestErrorLog())
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        logger.warning("health on http://%s:%d/healthz and /metrics", self._host, self.port)

    async def aclose(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
