"""Every file rdic-ops writes is written whole or not at all.

A full disk is simulated at the bottom, without root: a forked child (or the `invoke` process) runs under the
kernel's own file size limit (RLIMIT_FSIZE, SIGXFSZ ignored), so every write past it fails with EFBIG exactly
where a full disk fails with ENOSPC; or the temp file's write itself writes half and raises ENOSPC. Afterwards
the old file must be byte-identical and no half file or temp file may be left.
"""

from pathlib import Path

OLD = b"the old file, intact\n"


def leftovers(directory: Path, *keep: str) -> list[str]:
    """What else is in the directory (the test's own RDIC_STATE_DIR aside)."""
    return sorted(p.name for p in directory.iterdir() if p.name not in (*keep, "state"))
