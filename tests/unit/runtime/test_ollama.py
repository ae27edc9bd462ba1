"""invoke bench: artifacts on the llama.cpp runtime, counters checked against llama.cpp's own report, Ollama's
nanosecond fields, a failed run among good ones, and the decision rules (keep, one-model, hybrid)."""



from rdic_ops.runtime.ollama import timings_from_final


def test_ollama_nanosecond_fields_exactly():
    final = {"prompt_eval_count": 10, "prompt_eval_duration": 500_000_000, "eval_count": 50,
             "eval_duration": 2_000_000_000, "load_duration": 76_270_000_000, "total_duration": 79_000_000_000}
    g = timings_from_final(final, "text", 0.123, 3.0)
    assert g.tokens_per_s == 25.0 and g.prompt_tokens_per_s == 20.0 and g.load_s == 76.27 and g.ttft_s == 0.123
