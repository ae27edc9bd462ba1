"""Can this machine fetch a file from the Hub now (rdic_ops/facts/hub.py)? One bounded HEAD, faked at httpx:
the endpoint as huggingface_hub reads it, HF_HUB_OFFLINE answering without a request, a redirect counting as
reachable, and never a password or token in the reason."""

import threading

import httpx
import pytest

from rdic_ops.facts import hub


@pytest.fixture
def head(monkeypatch):
    said = {"urls": []}

    def fake(url, timeout, follow_redirects):
        said["urls"].append(url)
        assert follow_redirects is False
        if "raise" in said:
            raise said["raise"]
        return httpx.Response(said.get("status", 200))

    monkeypatch.setattr(httpx, "head", fake)
    return said


def test_endpoint_is_hf_endpoint_else_the_hub():
    assert hub.endpoint({}) == "https://huggingface.co"
    assert hub.endpoint({"HF_ENDPOINT": "http://mirror:8080/"}) == "http://mirror:8080"
    assert hub.endpoint({"HF_ENDPOINT": ""}) == "https://huggingface.co"


def test_the_file_url_quotes_the_revision_and_the_file():
    assert hub.file_url("https://h", "org/r", "refs/pr/1", "sub dir/f#1.gguf") == (
        "https://h/org/r/resolve/refs%2Fpr%2F1/sub%20dir/f%231.gguf"
    )


@pytest.mark.parametrize(("status", "reachable"), [(200, True), (302, True), (401, False), (404, False)])
def test_an_answer_below_400_means_the_file_can_be_fetched(head, status, reachable):
    head["status"] = status
    fact = hub.probe("org/r", "f.gguf", environ={"HF_ENDPOINT": "http://mirror"})
    assert fact.reachable is reachable and fact.endpoint == "http://mirror"
    assert head["urls"] == ["http://mirror/org/r/resolve/main/f.gguf"]
    if not reachable:
        assert fact.reason == f"http://mirror answered HTTP {status} for org/r/f.gguf"


@pytest.mark.parametrize("value", ["1", "true", "YES", "on"])
def test_offline_answers_no_without_a_request(head, value):
    fact = hub.probe("org/r", "f.gguf", environ={"HF_HUB_OFFLINE": value})
    assert (fact.reachable, fact.reason, head["urls"]) == (False, "HF_HUB_OFFLINE is set", [])


def test_a_failure_is_one_masked_line(head):
    env = {"HF_ENDPOINT": "https://ann:hunter2@mirror"}
    head["raise"] = httpx.ConnectError("[Errno -2] Name or service not known for https://ann:hunter2@mirror\nmore")
    fact = hub.probe("org/r", "f.gguf", environ=env)
    assert not fact.reachable and "hunter2" not in fact.reason and "\n" not in fact.reason
    assert fact.reason.endswith(
        "is not reachable ([Errno -2] Name or service not known for https://ann:********@mirror)"
    )
    head["raise"] = httpx.ReadTimeout("slow")
    assert hub.probe("org/r", "f", timeout_s=2, environ=env).reason.endswith("within 2 s")


def test_a_lookup_that_hangs_is_cut_at_the_timeout(monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(httpx, "head", lambda *a, **kw: release.wait(5) and httpx.Response(200))
    try:
        fact = hub.probe("org/r", "f", timeout_s=0.05, environ={"HF_ENDPOINT": "http://slow"})
    finally:
        release.set()
    assert (fact.reachable, fact.reason) == (False, "no answer from http://slow within 0.05 s")
