"""wsl.tune over realistic .wslconfig files: only intended lines change, everything else byte-identical."""




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
