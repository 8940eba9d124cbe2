"""The S3 cache against moto's standalone S3 server on loopback: shared by processes, never fatal."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from pytest_httpserver import HTTPServer

from app.cache import Entry, S3Cache
from tests.conftest import LoggedProcess, Service, free_port
from tests.test_cache import Clock, counted_article, server_timing

BUCKET = "text-mode-cache"
SERVICE = "/default/text-mode"


class MotoServer(LoggedProcess):
    """moto's S3-compatible server as its own process on a free loopback port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"moto-{self.port}.log"
        super().__init__(argv, dict(os.environ), log_path=log_path)
        self.wait_for(self.endpoint)
        self.environ = {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        self.client().create_bucket(Bucket=BUCKET)

    def client(self) -> Any:
        return boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        ).client("s3", endpoint_url=self.endpoint)


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    server = MotoServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def aws_env(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    """The standard AWS variables pointing at moto, for the S3Cache made in this test process."""
    for name, value in moto.environ.items():
        monkeypatch.setenv(name, value)
    return moto


def test_an_answer_round_trips_through_s3_with_its_expiry_in_the_metadata(aws_env: MotoServer) -> None:
    cache = S3Cache(f"s3://{BUCKET}/round-trip", clock=Clock())
    stored = Entry.make(b"Owls\n====\n", content_type="text/plain; charset=utf-8", ttl=600, now=Clock().now)
    cache.put("answer https://a.example/owls text", stored)
    assert cache.get("answer https://a.example/owls text") == stored
    head = aws_env.client().head_object(Bucket=BUCKET, Key=cache.object_key("answer https://a.example/owls text"))
    assert head["ContentType"] == "text/plain; charset=utf-8"
    assert head["Metadata"] == {"etag": stored.etag, "stored-at": "1000000.000", "expires-at": "1000600.000"}
    assert cache.object_key("k").startswith("round-trip/")


def test_an_expired_object_is_a_miss(aws_env: MotoServer) -> None:
    clock = Clock()
    cache = S3Cache(f"s3://{BUCKET}/expiry", clock=clock)
    cache.put("k", Entry.make(b"old", content_type="text/plain", ttl=60, now=clock.now))
    clock.now += 59
    assert cache.get("k") is not None
    clock.now += 1
    assert cache.get("k") is None


def test_a_missing_object_is_a_quiet_miss(aws_env: MotoServer, caplog: pytest.LogCaptureFixture) -> None:
    cache = S3Cache(f"s3://{BUCKET}/missing")
    with caplog.at_level(logging.WARNING, logger="text_mode.cache"):
        assert cache.get("never stored") is None
    assert caplog.records == []


def test_an_object_without_our_metadata_is_ignored(aws_env: MotoServer, caplog: pytest.LogCaptureFixture) -> None:
    cache = S3Cache(f"s3://{BUCKET}/foreign")
    aws_env.client().put_object(Bucket=BUCKET, Key=cache.object_key("k"), Body=b"not ours")
    with caplog.at_level(logging.WARNING, logger="text_mode.cache"):
        assert cache.get("k") is None
    assert "no usable metadata" in caplog.text


def test_a_missing_bucket_is_logged_not_raised(aws_env: MotoServer, caplog: pytest.LogCaptureFixture) -> None:
    cache = S3Cache("s3://no-such-bucket/x")
    with caplog.at_level(logging.WARNING, logger="text_mode.cache"):
        cache.put("k", Entry.make(b"body", content_type="text/plain", ttl=60, now=time.time()))
        assert cache.get("k") is None
    assert "cache write failed on s3://no-such-bucket/x" in caplog.text


def test_an_unreachable_server_is_logged_once_then_left_alone(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    cache = S3Cache(f"s3://{BUCKET}/gone")
    with caplog.at_level(logging.WARNING, logger="text_mode.cache"):
        assert cache.get("k") is None
        cache.put("k", Entry.make(b"body", content_type="text/plain", ttl=60, now=time.time()))
        assert cache.get("k") is None
    assert [record.getMessage().split(" (")[0] for record in caplog.records] == [
        f"cache read failed on s3://{BUCKET}/gone"
    ]


def s3_service(moto: MotoServer, prefix: str) -> Service:
    service = Service({"TEXT_MODE_ALLOW_PRIVATE": "1", "TEXT_MODE_CACHE": f"s3://{BUCKET}/{prefix}", **moto.environ})
    service.wait_ready()
    return service


def test_two_service_processes_share_one_s3_cache(moto: MotoServer, httpserver: HTTPServer) -> None:
    origin_hits = counted_article(httpserver, "/shared")
    url = httpserver.url_for("/shared")
    first, second = s3_service(moto, "shared"), s3_service(moto, "shared")
    try:
        fetched = requests.get(f"{first.base}{SERVICE}", params={"url": url}, timeout=30)
        shared = requests.get(f"{second.base}{SERVICE}", params={"url": url}, timeout=30)
    finally:
        first.stop()
        second.stop()
    assert origin_hits() == 1
    assert fetched.status_code == shared.status_code == 200
    assert shared.content == fetched.content
    assert shared.headers["ETag"] == fetched.headers["ETag"]
    assert list(server_timing(shared.headers["Server-Timing"])) == ["cache:hit", "total"]


def test_the_service_answers_fresh_when_s3_goes_away_mid_run(httpserver: HTTPServer) -> None:
    moto = MotoServer()  # its own server, so stopping it leaves the module's alone
    first_hits = counted_article(httpserver, "/before")
    second_hits = counted_article(httpserver, "/after")
    service = s3_service(moto, "outage")
    try:
        before = requests.get(f"{service.base}{SERVICE}", params={"url": httpserver.url_for("/before")}, timeout=30)
        moto.stop()
        after = requests.get(f"{service.base}{SERVICE}", params={"url": httpserver.url_for("/after")}, timeout=30)
        repeat = requests.get(f"{service.base}{SERVICE}", params={"url": httpserver.url_for("/before")}, timeout=30)
    finally:
        moto.stop()
        service.stop()
    assert [before.status_code, after.status_code, repeat.status_code] == [200, 200, 200]
    assert (first_hits(), second_hits()) == (1, 1)
    assert "Owls at night" in after.text
    assert list(server_timing(repeat.headers["Server-Timing"])) == ["cache:hit", "total"]  # this process's memory
    assert f"cache read failed on s3://{BUCKET}/outage" in service.output()
    assert "Traceback" not in service.output()
