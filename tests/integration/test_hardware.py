"""The probe on this machine (no GPU here) and on fake /proc trees (WSL2)."""

from rdic_ops.facts import hardware


def test_probe_this_machine(tmp_path):
    f = hardware.probe(tmp_path)
    assert f.cpu_cores >= 1 and f.ram_total > 0 and f.disk_free and f.disk_free > 0
    if not f.nvidia.available:  # no GPU is a fact with a reason, not an error
        assert f.nvidia.reason and f.nvidia.gpus == []
    else:  # a GPU machine: every GPU has a name and memory
        assert f.nvidia.gpus and all(g.name and g.vram_total > 0 for g in f.nvidia.gpus)
    assert f.to_dict()["system"] == f.system
