"""Which env `setup` proposes without --env: a matching GPU's, else `cpu` when the Hub serves its model, else
`local`; and the `auto` threads and context of the cpu env, chosen from this machine's facts."""


import pytest

from rdic_ops.config import auto
from rdic_ops.config.compose import compose
from rdic_ops.errors import ConfigError
from rdic_ops.units import GiB


@pytest.mark.parametrize("cores, ram, limit, want", [
    (1, 4, 0, 2048), (2, 24, 0, 2048), (4, 16, 0, 4096), (6, 8, 0, 4096), (8, 32, 0, 8192), (16, 6, 0, 4096),
    (4, 4, 0, 2048), (8, 32, 1024, 1024), (8, 32, 32768, 8192),
])
def test_context_rule(cores, ram, limit, want):
    f = auto.MachineFacts(cores, cores * 2, ram * GiB)
    assert auto.num_ctx(f, limit) == want and auto.threads(f) == cores


def test_cpu_env_resolves_auto_from_this_machine():
    cfg = compose("cpu")
    f = auto.machine()
    assert cfg.env.runtime.n_threads == auto.threads(f) >= 1
    assert cfg.chat.num_ctx == cfg.extraction.num_ctx == auto.num_ctx(f, 32768)
    assert compose("cpu", ["chat.num_ctx=4096", "env.runtime.n_threads=3"]).chat.num_ctx == 4096
    local = compose("local", ["chat.num_ctx=auto", "env.runtime.n_threads=auto"])
    assert local.chat.num_ctx == auto.num_ctx(f, 2048) and local.env.runtime.n_threads == auto.threads(f)
    with pytest.raises(ConfigError, match="chat.num_ctx.*unknown auto value"):
        compose("local", ["chat.num_ctx=${auto:cores}"])
    with pytest.raises(ConfigError, match="the limit must be a number"):
        compose("cpu", ["chat.num_ctx=${auto:num_ctx,abc}"])
    assert compose("cpu", ["env.runtime.n_threads=AUTO"]).env.runtime.n_threads == auto.threads(f)
    with pytest.raises(ConfigError, match="n_threads: -3 is out of range: must be between 0 and 1024"):
        compose("cpu", ["env.runtime.n_threads=-3"])
