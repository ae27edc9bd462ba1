"""Peak GPU memory in use while something runs (NVML, every 50 ms); None without a GPU."""

from __future__ import annotations

import threading
import time

from rdic_ops.units import MiB


class VramSampler:
    def __init__(self):
        self.peak = None
        self._stop = threading.Event()
        try:
            import pynvml

            pynvml.nvmlInit()
            self._nvml = pynvml
            self._handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
        except Exception:
            self._nvml = None

    def __enter__(self):
        if self._nvml:
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()
        return self

    def _loop(self):
        while not self._stop.is_set():
            used = sum(self._nvml.nvmlDeviceGetMemoryInfo(h).used for h in self._handles) / MiB
            self.peak = max(self.peak or 0.0, used)
            time.sleep(0.05)

    def __exit__(self, *exc):
        self._stop.set()
        if self._nvml:
            self._thread.join()
