"""rdic-ops from a checkout: `invoke TASK` runs the tasks of rdic_ops/cli, the same as the `rdic-ops` command.

Every task, flag and rule lives in the package (rdic_ops/cli/: one module per collection), which the fleet
ships as a wheel; this file only hands Invoke the namespace.
"""

from rdic_ops.cli import ns  # noqa: F401  (Invoke looks for `ns`)
from rdic_ops.cli.program import adopt

adopt()  # Invoke's running Program takes rdic-ops' parse contract: one line, exit 2, JSON with --json
