"""`python -m rdic_ops.cli TASK ...`: the `rdic-ops` command (the fleet's hosts run their tasks this way)."""

from rdic_ops.cli import main

main()
