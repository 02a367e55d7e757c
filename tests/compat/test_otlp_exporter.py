"""OpenTelemetry's Python SDK, with its OTLP/HTTP log exporter (protobuf, gzip), logging
through the standard library's `logging` into Logfleet's OTLP input, inside a trace.

Records must arrive as Elasticsearch 9 stores OpenTelemetry logs: body.text, severity,
trace and span ids, attributes, resource attributes and scope, in
logs-<data_stream.dataset>.otel-<namespace>.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request

import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

# The SDK's stdlib `logging` bridge is what applications use today; its move to another
# package is announced, not done.
pytestmark = pytest.mark.filterwarnings("ignore:.*LoggingHandler.*:DeprecationWarning")


def _search(url: str, index: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{url}/{index}/_search",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _wait_for(url: str, index: str, count: int) -> list[dict]:
    deadline = time.monotonic() + 30
    while True:
        urllib.request.urlopen(urllib.request.Request(f"{url}/_refresh", method="POST"), timeout=10)
        try:
            found = _search(url, index, {"size": 100, "sort": [{"@timestamp": "asc"}]})
            hits = found["hits"]["hits"]
        except urllib.error.HTTPError:
            hits = []
        if len(hits) >= count or time.monotonic() > deadline:
            return [hit["_source"] for hit in hits]
        time.sleep(0.2)


def _provider(endpoint: str, dataset: str) -> LoggerProvider:
    resource = Resource.create(
        {"service.name": "orders", "service.version": "1.4.2", "data_stream.dataset": dataset}
    )
    provider = LoggerProvider(resource=resource)
    exporter = OTLPLogExporter(endpoint=endpoint, compression=Compression.Gzip)
    provider.add_log_record_processor(BatchLogRecordProcessor(exporter))
    return provider


def test_sdk_logs_arrive_with_their_trace(logfleet_url, otlp_endpoint):
    provider = _provider(otlp_endpoint, "orders")
    logger = logging.getLogger("orders.checkout")
    logger.setLevel(logging.INFO)
    handler = LoggingHandler(level=logging.INFO, logger_provider=provider)
    logger.addHandler(handler)
    tracer = TracerProvider(resource=Resource.create({"service.name": "orders"})).get_tracer("orders")
    try:
        with tracer.start_as_current_span("checkout") as span:
            logger.info("order placed", extra={"order.id": 42, "order.total": 19.5})
            logger.error("payment declined", extra={"payment.provider": "acme"})
            context = span.get_span_context()
        provider.force_flush()
    finally:
        logger.removeHandler(handler)
        provider.shutdown()

    events = _wait_for(logfleet_url, "logs-orders.otel-default", 2)
    assert [event["body"]["text"] for event in events] == ["order placed", "payment declined"]
    placed, declined = events
    assert placed["severity_text"] == "INFO"
    assert placed["severity_number"] == 9
    assert declined["severity_text"] == "ERROR"
    assert declined["severity_number"] == 17
    assert placed["attributes"]["order.id"] == 42
    assert placed["attributes"]["order.total"] == 19.5
    assert declined["attributes"]["payment.provider"] == "acme"
    assert placed["trace_id"] == format(context.trace_id, "032x")
    assert placed["span_id"] == format(context.span_id, "016x")
    assert placed["resource"]["attributes"]["service.name"] == "orders"
    assert placed["resource"]["attributes"]["service.version"] == "1.4.2"
    assert placed["scope"]["name"] == "orders.checkout"
    assert placed["data_stream"] == {"type": "logs", "dataset": "orders.otel", "namespace": "default"}

    found = _search(
        logfleet_url,
        "logs-*.otel-*",
        {"query": {"term": {"attributes.payment.provider": "acme"}}},
    )
    assert found["hits"]["total"]["value"] == 1


def test_the_main_port_takes_the_same_logs(logfleet_url):
    provider = _provider(f"{logfleet_url}/_otlp/v1/logs", "billing")
    logger = logging.getLogger("billing.invoices")
    logger.setLevel(logging.INFO)
    handler = LoggingHandler(level=logging.INFO, logger_provider=provider)
    logger.addHandler(handler)
    try:
        for number in range(25):
            logger.warning("invoice %d overdue", number)
        provider.force_flush()
    finally:
        logger.removeHandler(handler)
        provider.shutdown()
    events = _wait_for(logfleet_url, "logs-billing.otel-default", 25)
    assert len(events) == 25
    assert {event["body"]["text"] for event in events} == {f"invoice {n} overdue" for n in range(25)}
    assert all(event["severity_text"] == "WARN" for event in events)
