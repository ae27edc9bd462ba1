"""A realistic .wslconfig (comments, other sections, odd spacing) for wsl.tune's tests (tests/unit/ops/test_wsl.py
and tests/integration/test_wsl.py)."""

REALISTIC = (
    "# Settings apply across all Linux distros running on WSL 2\r\n"
    "[wsl2]\r\n"
    "\r\n"
    "# Limits VM memory to use no more than 4 GB\r\n"
    "Memory = 4GB   # was the default\r\n"
    "PROCESSORS=4\r\n"
    'kernelCommandLine = "vsyscall=emulate # not a comment"\r\n'
    "swapFile=C:\\\\temp\\\\wsl-swap.vhdx\r\n"
    "localhostForwarding=true\r\n"
    "myOwnKey=keep me\r\n"
    "\r\n"
    "[experimental]\r\n"
    "autoMemoryReclaim=dropCache\r\n"
    "sparseVhd=true\r\n"
)
