"""What an SDK raised, as one failure kind with a one-line reason, and each kind's remedy
(rdic_ops/providers/classify.py). The SDKs' errors are stood in for by classes of the same names and shapes."""

import json
from types import SimpleNamespace

import pytest

from rdic_ops.config.provider import ProviderKind, ProviderSpec
from rdic_ops.providers.base import KINDS, Failure, Probe, Target
from rdic_ops.providers.classify import api_message, classify, remedy, retry_after

SECRET = "sk-test-0123456789abcdef"


def target(kind=ProviderKind.openai, endpoint="https://api.example.com/v1", key_env="EXAMPLE_KEY") -> Target:
    spec = ProviderSpec(name="Example", kind=kind, model="m-1", endpoint=endpoint, api_key_env=key_env)
    return Target("ex", spec, endpoint, endpoint or "the default endpoint", "m-1", secret=SECRET)


def probe(stage="answer", chunks=0, listed=True) -> Probe:
    p = Probe(5.0)
    p.stage, p.chunks, p.listed = stage, chunks, listed
    return p


class APIStatusError(Exception):
    def __init__(self, status_code, body=None, headers=None):
        super().__init__(f"Error code: {status_code}")
        self.status_code, self.body = status_code, body
        self.response = SimpleNamespace(headers=headers or {})


def named(name: str, base=Exception):
    return type(name, (base,), {})


def test_api_message_prefers_the_servers_own_words():
    assert api_message(APIStatusError(400, {"error": {"type": "invalid_request", "message": "bad max_tokens"}})) == (
        "invalid_request: bad max_tokens")
    assert api_message(APIStatusError(400, {"message": "plain", "code": 7})) == "plain"
    ollama = named("ResponseError")("x")
    ollama.error = "model 'm' not found"
    assert api_message(ollama) == "model 'm' not found"
    assert api_message(APIStatusError(502, "<html><b>Bad gateway</b></html>")).split() == ["Bad", "gateway"]
    assert api_message(APIStatusError(502, "upstream down")) == "upstream down"
    assert api_message(ValueError()) == "ValueError"


def test_retry_after_in_ms_seconds_or_an_http_date():
    assert retry_after(APIStatusError(429, headers={"retry-after-ms": "1500"})) == 1.5
    assert retry_after(APIStatusError(429, headers={"retry-after": "7"})) == 7.0
    assert retry_after(APIStatusError(429, headers={"retry-after": "-3"})) == 0.0
    assert retry_after(APIStatusError(429, headers={"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    assert retry_after(APIStatusError(429, headers={"retry-after": "soon"})) is None
    assert retry_after(APIStatusError(429)) is None and retry_after(ValueError()) is None


@pytest.mark.parametrize("status, kind, words", [
    (401, "unauthorized", ["the key in EXAMPLE_KEY was rejected (HTTP 401"]),
    (403, "unauthorized", ["HTTP 403"]),
    (404, "model_not_found", ["model 'm-1' not found at https://api.example.com/v1 (HTTP 404"]),
    (429, "rate_limited", ["HTTP 429", "no retry-after given"]),
    (500, "server_error", ["the provider failed (HTTP 500"]),
    (503, "server_error", ["HTTP 503"]),
    (400, "rejected", ["the request was refused (HTTP 400"]),
    (200, "stream_error", ["the stream carried an error after 3 chunk(s)"]),
    (-1, "stream_error", ["after 3 chunk(s)"]),
])
def test_status_codes(status, kind, words):
    f = classify(APIStatusError(status, {"error": {"message": "no"}}), probe(chunks=3), target())
    assert f.kind == kind and all(w in f.reason for w in words), f.reason


def test_a_404_before_the_model_was_listed_may_be_a_wrong_url():
    f = classify(APIStatusError(404), probe(listed=False), target())
    assert "model 'm-1' (or the API under this URL) not found" in f.reason


def test_401_without_a_key_configured_and_429_with_its_wait():
    assert "the request (no key configured) was rejected" in classify(APIStatusError(401), probe(),
                                                                      target(key_env=None)).reason
    f = classify(APIStatusError(429, headers={"retry-after": "12"}), probe(), target())
    assert f.reason.endswith("retry after 12 s")


def test_the_secret_never_reaches_the_reason():
    f = classify(APIStatusError(400, {"error": {"message": f"key {SECRET} is bad"}}), probe(), target())
    assert SECRET not in f.reason and "key " in f.reason


def test_transport_errors_by_class_name_and_stage():
    connect_timeout = named("ConnectTimeout")("t")
    assert classify(connect_timeout, probe(), target()).kind == "unreachable"
    read_timeout = named("ReadTimeout")("t")
    assert classify(read_timeout, probe("answer"), target()).kind == "timeout"
    assert classify(read_timeout, probe("stream", chunks=2), target()).kind == "stalled"
    assert classify(read_timeout, probe("connect"), target()).reason == (
        "no connection to https://api.example.com/v1 within 5 s")
    refused = named("ConnectError")("x")
    refused.__cause__ = ConnectionRefusedError("Connection refused")
    f = classify(refused, probe("connect"), target())
    assert (f.kind, f.reason) == ("unreachable", "cannot connect to https://api.example.com/v1 (Connection refused)")
    assert classify(named("RemoteProtocolError")("x"), probe("stream", chunks=4), target()).reason == (
        "the connection closed mid-answer after 4 chunk(s)")
    assert classify(ConnectionError("x"), probe("stream"), target()).kind == "stream_error"


def test_answers_that_are_not_the_api_s():
    try:
        json.loads("<html>")
    except json.JSONDecodeError as exc:
        f = classify(exc, probe(), target())
    assert f.kind == "bad_response"
    assert f.reason.startswith("the endpoint's answer is not this API's (JSONDecodeError: ")
    assert classify(named("APIError")("boom"), probe(chunks=1), target()).kind == "stream_error"


def test_passing_through_missing_sdks_and_anything_else():
    done = Failure("missing_key", "no key")
    assert classify(done, probe(), target()) is done
    missing = ImportError("No module named 'anthropic'", name="anthropic")
    assert classify(missing, probe(), target()).reason == "the anthropic package is not installed"
    assert classify(KeyError("x"), probe(), target()).reason == "KeyError: 'x'"


def test_every_kind_has_a_remedy():
    t = target()
    assert {k: bool(remedy(k, t)) for k in KINDS if k != "ok"} == {k: True for k in KINDS if k != "ok"}


def test_remedies_name_the_provider_s_own_keys():
    t = target()
    assert remedy("missing_key", t).startswith("export EXAMPLE_KEY=<your key>")
    assert "providers.ex.model=ID" in remedy("model_not_found", t)
    assert "now 30 s" in remedy("timeout", t) and "now 'pong'" in remedy("bad_answer", t)
    assert remedy("unreachable", t) == "check the network (proxy, DNS) and providers.ex.endpoint"
    assert remedy("unauthorized", target(key_env=None)) == "the endpoint wants a key: set providers.ex.api_key_env"


def test_a_local_runtime_that_is_down_is_started():
    assert remedy("unreachable", target(ProviderKind.llamacpp, endpoint=None)) == (
        "start the env's llama.cpp server: invoke preload")
    assert remedy("unreachable", target(ProviderKind.ollama, endpoint=None)).startswith("start Ollama")
