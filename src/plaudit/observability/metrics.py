"""Prometheus metrics, registered on a registry owned by the app (nothing global)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "plaudit_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_duration = Histogram(
            "plaudit_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.events_appended = Counter(
            "plaudit_events_appended",
            "Events appended to the event log",
            ["type"],
            registry=self.registry,
        )

        self.delivery_attempts = Counter(
            "plaudit_delivery_attempts",
            "Webhook delivery attempts by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.delivered = Counter(
            "plaudit_messages_delivered", "Messages delivered (2xx)", registry=self.registry
        )
        self.delivery_failed = Counter(
            "plaudit_messages_failed_attempts", "Failed delivery attempts", registry=self.registry
        )
        self.delivery_duration = Histogram(
            "plaudit_delivery_duration_seconds",
            "Time from request start to the endpoint's answer",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 30),
            registry=self.registry,
        )
        self.retry_backlog = Gauge(
            "plaudit_messages_pending",
            "Messages waiting for delivery (first attempt or retry)",
            registry=self.registry,
        )
        self.oldest_pending_age = Gauge(
            "plaudit_oldest_pending_message_age_seconds",
            "Age of the oldest message not yet delivered",
            registry=self.registry,
        )

        self.retention_deleted = Counter(
            "plaudit_retention_deleted",
            "Rows deleted because they outlived PLAUDIT_RETENTION_DAYS",
            ["kind"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
