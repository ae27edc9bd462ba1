"""Smoke tests of the live machine, shipped with the package: `invoke smoke --env=X` runs them with pytest."""
