"""The GGUF writer's gemma3: the stand-in the Hub serves carries the real architecture's keys and Gemma's token
conventions, and the cpu env's Gemma 3 1B Q4_K_M written at full shape has the real file's size."""

import pytest


@pytest.mark.llamacpp
def test_llamacpp_runs_the_stand_in_with_a_sliding_window(gemma3_gguf, tmp_path):
    """llama.cpp itself reads it as gemma3 with SWA layers, and formats chat turns with its template."""
    llama_cpp = pytest.importorskip("llama_cpp")
    path = tmp_path / "g.gguf"
    path.write_bytes(gemma3_gguf)
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=1024, n_threads=1, verbose=False, seed=0)
    try:
        assert llm.metadata["general.architecture"] == "gemma3"
        assert llm.metadata["gemma3.attention.sliding_window"] == "64"
        out = llm.create_chat_completion([{"role": "user", "content": "Hi"}], max_tokens=4, temperature=0)
        assert out["usage"]["completion_tokens"] > 0
        tokens = llm.tokenize(b"<start_of_turn>", add_bos=False, special=True)
        assert tokens == [4]  # the turn marker is one special token, as in the real vocabulary
    finally:
        llm.close()
