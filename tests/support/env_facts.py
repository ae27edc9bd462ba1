"""Which env `setup` proposes without --env: a matching GPU's, else `cpu` when the Hub serves its model, else
`local`; and the `auto` threads and context of the cpu env, chosen from this machine's facts."""



from rdic_ops.facts.hardware import HardwareFacts, NvidiaFacts
from rdic_ops.units import GiB

NO_GPU = NvidiaFacts(False, "no driver")


def facts(ram_gib=16, machine="x86_64", nvidia=NO_GPU):
    return HardwareFacts(system="Linux", machine=machine, cpu_cores=8, ram_total=ram_gib * GiB,
                         ram_available=ram_gib * GiB // 2, nvidia=nvidia)
