"""GGUF files: read their header (read.py) and write files of real shapes (write.py)."""
