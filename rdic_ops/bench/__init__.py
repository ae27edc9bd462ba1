"""The seeds' chat benchmark: questions, runner, artifacts, ratings and the A/B/C decision."""
