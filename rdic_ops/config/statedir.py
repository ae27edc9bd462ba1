"""The state directory must be a directory (or creatable as one): checked on every command, never cached.

A state dir that is a regular file (or lies under one) used to surface as "internal error: NotADirectoryError"
at the first write, and a dry run passed; it is a config error, said before anything runs.
"""

from __future__ import annotations

import os
from pathlib import Path

from rdic_ops.config.files import expand
from rdic_ops.errors import ConfigError


def require(cfg) -> Path:
    """The state dir of ``cfg``; ConfigError when it, or a folder above it, exists and is not a directory."""
    path = expand(cfg.paths.state_dir)
    where = "RDIC_STATE_DIR" if os.environ.get("RDIC_STATE_DIR") else "paths.state_dir"
    probe = path
    while True:
        if probe.exists() or probe.is_symlink():
            if not probe.is_dir():
                what = "is" if probe == path else f"lies under {probe}, which is"
                raise ConfigError(f"{where}: {path} {what} not a directory (point {where} at a directory)")
            return path
        if probe.parent == probe:
            return path
        probe = probe.parent
