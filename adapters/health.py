"""Health probes and ``/metrics`` over aiohttp, on DIGEST_HTTP_HOST:DIGEST_HTTP_PORT.

``/healthz`` answers 200 with a JSON report (and the version) while the database answers
(``status`` says ``ok`` or ``degraded``: a paused subscription, a failing source, a platform
down) and 503 when it does not. ``/livez`` answers 200 whenever the event loop does (restart
the process when it stops answering); ``/readyz`` 200 only while the database answers and
every platform is connected. ``/metrics`` is the Prometheus text format from the server's own
registry (nothing global): the report's gauges and counters read at each scrape, each job's
duration histogram and last success, the LLM ledger's tokens and cost, the build's version
and prometheus_client's process collector.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from prometheus_client import CollectorRegistry, Histogram, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.commands.health import HealthReport
from bot.delivery.jobs import JobOutcome, JobRun

logger = logging.getLogger(__name__)
ReportSource = Callable[[], Awaitable[HealthReport]]
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


# From a one-second delivery to an hour-long ingest of many feeds or a compose with a model.
DURATION_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


class Metrics(Collector):
    """The metrics server's own registry, and what this process saw of its jobs.

    `observe` (the scheduler's job observer) feeds the duration histograms and the last
    successes; `scrape` renders the registry with the report of the moment. Ingest and
    compose successes also come from the store, so every instance tells the same and a
    restart loses nothing.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._report: HealthReport | None = None
        self._successes: dict[str, float] = {}
        self._durations = Histogram(
            "digest_job_duration_seconds",
            "How long each run of a job took (task: ingest, compose, delivery, plan)",
            ["task"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(self)
        ProcessCollector(registry=self.registry)

    def observe(self, run: JobRun) -> None:
        """Record one finished job run."""
        self._durations.labels(run.task).observe(run.duration_s)
        if run.outcome is JobOutcome.OK:
            moment = run.finished_at.timestamp()
            self._successes[run.task] = max(moment, self._successes.get(run.task, 0.0))

    def scrape(self, report: HealthReport) -> bytes:
        """Return the Prometheus text of every metric, with ``report`` as the current state."""
        self._report = report
        try:
            return generate_latest(self.registry)
        finally:
            self._report = None

    def describe(self) -> Iterator[Metric]:
        """Describe nothing up front: the families depend on the report of each scrape."""
        return iter(())

    def collect(self) -> Iterator[Metric]:
        """Yield the report's metric families (nothing outside a scrape)."""
        report = self._report
        if report is None:
            return
        yield from _report_families(report)
        info = GaugeMetricFamily(
            "digest_build_info", "Always 1; the running version", labels=["version"]
        )
        info.add_metric([report.version or "unknown"], 1.0)
        yield info
        successes = dict(self._successes)
        for task, moment in report.last_success.items():
            successes[task] = max(moment.timestamp(), successes.get(task, 0.0))
        last = GaugeMetricFamily(
            "digest_last_success_timestamp_seconds",
            "When each job last succeeded (Unix time; ingest and compose across instances)",
            labels=["task"],
        )
        for task, moment_s in sorted(successes.items()):
            last.add_metric([task], moment_s)
        yield last
        tokens = CounterMetricFamily(
            "digest_llm_tokens", "Model tokens recorded in the ledger", labels=["model", "kind"]
        )
        cost = CounterMetricFamily(
            "digest_llm_cost_usd", "Model cost recorded in the ledger (USD)", labels=["model"]
        )
        for usage in report.llm_usage:
            tokens.add_metric([usage.model, "input"], float(usage.input_tokens))
            tokens.add_metric([usage.model, "output"], float(usage.output_tokens))
            cost.add_metric([usage.model], usage.cost_usd)
        yield tokens
        yield cost


def _report_families(report: HealthReport) -> Iterator[Metric]:
    """Turn one report into metric families."""
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
    # "task", not "job": Prometheus sets its own job label on every scraped series.
    jobs = CounterMetricFamily("digest_jobs", "Scheduled jobs run by this process", labels=["task"])
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


def add_health_routes(
    app: web.Application, report: ReportSource, metrics: Metrics | None = None
) -> None:
    """Add ``GET /healthz``, ``/livez``, ``/readyz`` and ``/metrics`` to ``app``."""
    registry = metrics or Metrics()

    async def healthz(_: web.Request) -> web.Response:
        current = await report()
        return web.json_response(current.as_json(), status=200 if current.database_ok else 503)

    async def livez(_: web.Request) -> web.Response:
        # Touches nothing but the loop: a slow database must not get the process restarted.
        return web.json_response({"status": "alive"})

    async def readyz(_: web.Request) -> web.Response:
        current = await report()
        body = {
            "ready": current.ready,
            "database": current.database_ok,
            "platforms": dict(current.platforms),
        }
        return web.json_response(body, status=200 if current.ready else 503)

    async def scrape(_: web.Request) -> web.Response:
        body = registry.scrape(await report())
        return web.Response(body=body, headers={"Content-Type": PROMETHEUS_TEXT})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/livez", livez)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", scrape)


class HealthServer:
    """A server with only the health routes (when Slack's HTTP mode does not serve them)."""

    def __init__(
        self,
        report: ReportSource,
        host: str,
        port: int,
        metrics: Metrics | None = None,
        *,
        extra_routes: Callable[[web.Application], None] | None = None,
    ) -> None:
        self._app = web.Application()
        add_health_routes(self._app, report, metrics)
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
        logger.info("health on http://%s:%d/healthz and /metrics", self._host, self.port)

    async def aclose(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
