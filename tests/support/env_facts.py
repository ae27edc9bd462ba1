"""This machine's facts as the env choice reads them, built by hand (tests/unit/config/test_choose.py and
tests/integration/test_env_choice.py), and the cpu env's model on the Hub."""

from rdic_ops.facts.hardware import HardwareFacts, NvidiaFacts
from rdic_ops.units import GiB

NO_GPU = NvidiaFacts(False, "no driver")


def facts(ram_gib=16, machine="x86_64", nvidia=NO_GPU):
    return HardwareFacts(system="Linux", machine=machine, cpu_cores=8, ram_total=ram_gib * GiB,
                         ram_available=ram_gib * GiB // 2, nvidia=nvidia)
