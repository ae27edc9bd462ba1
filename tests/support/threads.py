"""One compute thread for the models a test loads in the pytest process: llama.cpp (rdic-ops' embedder, the loopback
Ollama's models) and torch (sentence-transformers).

Why: the suite runs with `-n 2` on two cores. A llama.cpp model started with two threads spins at every barrier
while the other worker holds the second core: measured at load 8 on two cores, 64 MiniLM texts took 24.8 s with
two llama.cpp threads and 1.6 s with one; torch's encode of 128 texts 3.9-5.3 s with two threads, 1.3-1.6 s with
one. The thread count is not what these tests check (vectors, stores, what is printed), so they use one.

`ONE_THREAD_ENV` does the same for a child process's torch (read when torch starts); rdic-ops' own llama.cpp
embedder in a child takes `--set env.runtime.n_threads=1`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

ONE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@contextlib.contextmanager
def one_compute_thread(torch_too: bool = True) -> Iterator[None]:
    """Every llama_cpp.Llama made in this process while inside gets one thread; torch too (restored after)."""
    import llama_cpp
    import pytest

    real = llama_cpp.Llama

    class OneThread(real):  # a subclass, so isinstance() and the class's own methods still hold
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **{**kwargs, "n_threads": 1, "n_threads_batch": 1})

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(llama_cpp, "Llama", OneThread)
        if not torch_too:
            yield
            return
        import torch

        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(before)
