"""Hostile GGUF headers are refused with one clear line (UsageError, exit 2), never obeyed.

The fuzz test mutates real headers 1,000 times; every mutation must end in a GgufInfo or a UsageError,
each within 1 s and 100 MB. It runs in a forked child with an address-space limit (so a header that asks
for terabytes cannot take the test run down) and a per-mutation timer; the whole loop has a time budget.
"""

import dataclasses
import os
import random
import resource
import signal
import struct
import time
import traceback
from multiprocessing import get_context

import pytest

from rdic_ops.errors import UsageError
from rdic_ops.gguf.read import inspect

MB = 1024 * 1024


INTERESTING = [0, 1, 3, 5, 0xFF, 0xFFFF, 2 ** 31, 2 ** 32 - 1, 2 ** 40, 2 ** 62, 2 ** 63 - 1, 2 ** 64 - 1]


def _header_len(path) -> int:
    """Where the header ends, read by the gguf package itself (independent of the scanner under test)."""
    from gguf import GGUFReader

    return min(int(t.data_offset) for t in GGUFReader(path).tensors)


def mutate(rng: random.Random, data: bytes, header_end: int) -> bytes:
    b = bytearray(data)
    kind = rng.randrange(5)
    if kind == 0:  # flip a few bytes of the header
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(header_end)] = rng.randrange(256)
    elif kind == 1:  # an interesting 8-byte count where a count may be
        at = rng.randrange(4, header_end - 8)
        b[at:at + 8] = struct.pack("<Q", rng.choice(INTERESTING))
    elif kind == 2:  # an interesting 4-byte value (types, n_dims, version)
        at = rng.randrange(4, header_end - 4)
        b[at:at + 4] = struct.pack("<I", rng.choice(INTERESTING) & 0xFFFFFFFF)
    elif kind == 3:  # cut the file short
        del b[rng.randrange(header_end + 64):]
    else:  # splice a piece of the header somewhere else
        i, j = sorted(rng.sample(range(header_end), 2))
        at = rng.randrange(header_end)
        b[at:at] = b[i:j][:256]
    return bytes(b)


def _fuzz_child(conn, seeds_data, n, budget_s, workdir):
    """Forked child: a 100 MB address-space allowance above what it holds, 1 s per mutation."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as fh:
        vsize = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (vsize + 100 * MB, hard))

    def alarm(*_):
        raise TimeoutError("over 1 s")

    signal.signal(signal.SIGALRM, alarm)
    rng = random.Random(20261123)
    bad, done, slowest, t_start = [], 0, 0.0, time.perf_counter()
    lens = [n for _, n in seeds_data]
    seeds_data = [d for d, _ in seeds_data]
    path = os.path.join(workdir, "m.gguf")
    for i in range(n):
        if time.perf_counter() - t_start > budget_s:
            break
        k = i % len(seeds_data)
        data = mutate(rng, seeds_data[k], lens[k])
        with open(path, "wb") as fh:
            fh.write(data)
        t0 = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, 1.0)
        try:
            inspect(path)
        except UsageError:
            pass
        except BaseException as exc:  # MemoryError, TimeoutError, anything that is not a clean refusal
            bad.append(f"mutation {i}: {type(exc).__name__}: {str(exc)[:120]} "
                       f"{traceback.format_exc().splitlines()[-3].strip()}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        slowest = max(slowest, time.perf_counter() - t0)
        done += 1
    conn.send((done, bad, slowest))
    conn.close()


@pytest.fixture(scope="module")
def real_headers(tmp_path_factory, tiny_gguf):
    """Real GGUF files (the llama.cpp-loadable tiny llama; gemma3 and bert of real layer counts, small vocabularies
    so that 1,000 scans stay quick), cut 4 KiB past the header, with where their header ends."""
    from rdic_ops.config.compose import load_model_spec
    from rdic_ops.gguf import write as gguf_build

    tiny = tmp_path_factory.mktemp("hdr") / "tiny.gguf"
    tiny.write_bytes(tiny_gguf)
    n = _header_len(tiny)
    out = [(tiny_gguf[: n + 4096], n)]
    for name in ("gemma3-4b-it-q8_0", "minilm-l6-v2"):
        spec = load_model_spec(name)
        shape = dataclasses.replace(spec.shape, n_vocab=2048)
        p = tmp_path_factory.mktemp("hdr") / f"{name}.gguf"
        gguf_build.write(p, spec.arch, shape, quantization=spec.quantization, data="sparse", name=name)
        n = _header_len(p)
        with open(p, "rb") as fh:
            out.append((fh.read(n + 4096), n))
    return out


def test_fuzz_1000_mutations_of_real_headers(real_headers, tmp_path):
    ctx = get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_fuzz_child, args=(child, real_headers, 1000, 60.0, str(tmp_path)))
    proc.start()
    child.close()
    assert parent.poll(300), "fuzz child gave no answer"
    done, bad, slowest = parent.recv()
    proc.join(10)
    assert done == 1000, f"only {done} mutations within the time budget"
    assert not bad, "\n".join(bad[:10])
    assert slowest < 1.0
