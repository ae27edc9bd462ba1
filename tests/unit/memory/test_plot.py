"""What `plan-memory --plot` draws (rdic_ops/memory/plot.py): each model's share of the budget by component,
and the bars (the resident set, then each on-demand load with what stays resident). The drawing itself, with
matplotlib (about a second to import), is tests/integration/test_memory_planner.py's."""

from types import SimpleNamespace

from rdic_ops.memory import plot
from rdic_ops.memory.estimate import KvCache, ModelMemory
from rdic_ops.memory.residency import OnDemand
from rdic_ops.units import GiB


def mem(name, weights, kv, compute, *, gpu_share=1.0):
    """A model of ``weights``/``kv``/``compute`` GiB, ``gpu_share`` of its weights and KV on the accelerator."""
    m = ModelMemory(name, 4096, int(weights * GiB), KvCache(streams=1), int(compute * GiB), 0, gpu_layers=1)
    m.kv.bytes = int(kv * GiB)
    m.gpu_weights, m.gpu_kv, m.gpu_compute = int(m.weights * gpu_share), int(m.kv.bytes * gpu_share), m.compute
    return m


def row(name, m):
    return SimpleNamespace(model=name, memory=m)


def test_parts_on_the_accelerator_the_host_and_the_file():
    m = mem("a", 4, 1, 0.5, gpu_share=0.75)
    assert plot.parts("VRAM", m) == {"weights": 3.0, "KV cache": 0.75, "compute + overhead": 0.5}
    assert plot.parts("RAM available", m) == {"weights": 1.0, "KV cache": 0.25, "compute + overhead": 0.0}
    assert plot.parts("file", m) == {"weights": 4.0, "KV cache": 1.0, "compute + overhead": 0.5}


def test_compute_is_never_below_zero():
    m = mem("a", 1, 1, 0)
    m.gpu_kv = m.kv.bytes * 2  # figures that disagree draw nothing, not a negative bar
    assert plot.parts("VRAM", m)["compute + overhead"] == 0.0


def report(on_demand, headroom=1.5):
    a, b = row("a", mem("a", 4, 1, 0.5)), row("cpu-only", mem("cpu-only", 1, 0, 0, gpu_share=0.0))
    return SimpleNamespace(budget_name="VRAM", rows=[a, b], on_demand=on_demand, headroom=int(headroom * GiB))


def test_the_resident_bar_stacks_each_counted_model_with_the_headroom():
    ((label, segments, note),) = plot._bars(report([]))
    assert label == "resident set" and note == "headroom 1.50 GiB"
    assert segments == [("a", "weights", 4.0), ("a", "KV cache", 1.0), ("a", "compute + overhead", 0.5)]
    assert plot._bars(report([], headroom=-0.25))[0][2] == "over by 0.25 GiB"


def test_an_on_demand_bar_keeps_what_stays_and_says_the_cost():
    c = row("c", mem("c", 2, 0.5, 0.5))
    beside = OnDemand(c, need=3 * GiB, left=4 * GiB, budget=8 * GiB, load_s=1.25)
    evicting = OnDemand(c, need=3 * GiB, left=1 * GiB, budget=8 * GiB, load_s=1.0, evicts=["a"], reload_s=2.0)
    too_big = OnDemand(c, need=9 * GiB, left=1 * GiB, budget=8 * GiB, load_s=1.0, evicts=["a"])
    bars = plot._bars(report([beside, evicting, too_big]))
    assert [b[0] for b in bars[1:]] == ["on demand:\nc"] * 3
    assert bars[1][1][0] == ("a", "kept", 5.5) and bars[1][2] == "load ~1.2 s"
    assert [s for s in bars[2][1] if s[1] == "kept"] == [] and bars[2][2] == "evicts a\nswap ~3.0 s"
    assert bars[3][2] == "does not fit"
