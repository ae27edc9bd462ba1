"""The chat benchmark (the extraction model against the chat model on ten German PLC questions): questions, runner,
artifacts, ratings and the outcome (keep the current setup, one model for both roles, or the hybrid route)."""
