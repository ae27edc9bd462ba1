"""invoke providers.check: the second seed's `python -m tests.test_apis` as a check of the env's model APIs.

The official SDKs (anthropic, openai) talk real HTTP to loopback stand-ins (tests/provider_servers.py); the
local model is the tiny GGUF served by the real llama.cpp runtime under m_series_max's chat model alias.
"""

import threading
import time

from rdic_ops.providers.runner import bounded


def test_a_hung_check_is_given_up_at_its_deadline_and_workers_are_bounded():
    running, most = [], [0]
    lock = threading.Lock()

    def job(seconds):
        def go():
            with lock:
                running.append(1)
                most[0] = max(most[0], len(running))
            time.sleep(seconds)
            with lock:
                running.pop()
            return f"done {seconds}"
        return go

    t0 = time.monotonic()
    out = bounded([job(30), job(0.2), job(0.2), job(0.2)], [0.5, 5, 5, 5], lambda i: f"late {i}", workers=2)
    assert out == ["late 0", "done 0.2", "done 0.2", "done 0.2"]
    assert time.monotonic() - t0 < 2 and most[0] == 2
