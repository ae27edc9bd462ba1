"""llama.cpp in this process for the benchmark's counters (rdic_ops/runtime/inprocess.py). The engine itself
needs llama.cpp (tests/integration/test_bench.py loads it); here a stand-in engine checks what the runtime
makes of it: the prompt decoded first and timed on the clock (llama.cpp's own prompt counter misses most first
decodes), generation seconds from llama.cpp's perf counters (milliseconds), every token counted by the stopping
criterion, TTFT at the client, and the counters kept."""

import time
from types import SimpleNamespace

from rdic_ops.runtime.inprocess import ENGINE_KEYS, InProcessLlamaCpp


class Llama:
    def __init__(self, chunks):
        self.chunks, self._ctx, self.calls = chunks, SimpleNamespace(ctx="ctx"), []

    def reset(self):
        self.calls.append("reset")

    def tokenize(self, data, **kw):
        return list(data)  # a byte per token: "Hallo" is 5

    def eval(self, tokens):
        self.calls.append(("eval", list(tokens)))
        time.sleep(0.02)  # the prompt's decode, as the clock sees it

    def create_completion(self, prompt, max_tokens, temperature, stream, stopping_criteria):
        self.calls.append(("complete", prompt, max_tokens, temperature, stream))
        self.stop = stopping_criteria[0]
        for text in self.chunks:
            yield {"choices": [{"text": text}]}

    def close(self):
        self.calls.append("close")


def engine(chunks):
    perf = SimpleNamespace(t_p_eval_ms=250.0, t_eval_ms=1500.0, n_p_eval=5, n_eval=30)
    lib = SimpleNamespace(
        llama_perf_context_reset=lambda ctx: None,
        llama_perf_context=lambda ctx: perf,
        StoppingCriteriaList=lambda fns: fns,
    )
    e = InProcessLlamaCpp.__new__(InProcessLlamaCpp)
    e.llama, e.lib = Llama(chunks), lib
    return e


def test_a_generation_times_the_prompt_itself_and_reads_llama_cpp_s_generation_counters():
    e = engine(["Pa", "ris", ""])
    g = e.generate("Hallo", 8)
    assert (g.text, g.prompt_tokens, g.eval_tokens, g.eval_s) == ("Paris", 5, 30, 1.5)
    assert 0.02 <= g.prompt_s < 0.25 and g.prompt_s <= g.ttft_s  # the clock's, not the counter's 250 ms
    assert g.tokens_per_s == 20.0 and g.delivered == 2 and 0 <= g.ttft_s <= g.total_s
    assert g.raw == {"t_p_eval_ms": 250.0, "t_eval_ms": 1500.0, "n_p_eval": 5, "n_eval": 30}
    hallo = list(b"Hallo")
    assert e.llama.calls == ["reset", ("eval", hallo), ("complete", hallo, 8, 0.0, True)]  # decoded once, first


def test_the_stopping_criterion_counts_every_token_past_the_prompt():
    e = engine([])
    e.generate("Hallo", 3)
    assert not e.llama.stop(list(range(7)), None) and e.llama.stop(list(range(8)), None)  # 5 prompt + 3


def test_nothing_generated_is_a_zero_ttft_and_close_closes():
    e = engine([])
    g = e.generate("Hallo", 3)
    assert (g.text, g.ttft_s, g.delivered) == ("", 0.0, 0)
    e.close()
    assert e.llama.calls[-1] == "close"
    assert "n_ctx" in ENGINE_KEYS and "type_k" in ENGINE_KEYS
