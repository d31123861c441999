"""Admission control: the loop claims no job while the machine (or its container) is too busy.

Load: `max(load1, load5) / CPUs × 100`, counting the CPUs this process may run on. Memory, as a
percentage (the original compared a 0–1 fraction with a percentage, so its check never fired):

- in a container with a memory limit, the cgroup's: `memory.current / memory.max` (cgroup v2) or
  `memory.usage_in_bytes / memory.limit_in_bytes` (v1), minus the inactive page cache of `memory.stat`
  (which the kernel reclaims before anything else, as in Kubernetes' "working set"). The limit is what
  the OOM killer enforces, so it is the one that matters; a limit at or above the host's RAM is no limit;
- otherwise the host's: `(RAM used + swap used) / (RAM + swap)` from /proc/meminfo, RAM used being
  `MemTotal - MemAvailable`.

A reading that fails (no /proc, unreadable cgroup files) never blocks the loop. No psutil: the readers are
plain functions over files, injected in the tests.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Final

logger = logging.getLogger(__name__)

#: Reads a text file; None if it does not exist or cannot be read.
TextReader = Callable[[str], str | None]

MEMINFO: Final = "/proc/meminfo"
CGROUP_V2_FILES: Final = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current", "/sys/fs/cgroup/memory.stat")
CGROUP_V1_FILES: Final = (
    "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    "/sys/fs/cgroup/memory/memory.usage_in_bytes",
    "/sys/fs/cgroup/memory/memory.stat",
)
#: The "busy" log line is written at most once per this many seconds (and whenever the reason changes).
BUSY_LOG_INTERVAL_SECONDS: Final = 60.0


def read_text(path: str) -> str | None:
    """The content of a text file, or None if it cannot be read."""
    try:
        with open(path) as file:
            return file.read()
    except (OSError, UnicodeDecodeError):
        return None


def cpu_count() -> int:
    """The number of CPUs this process may run on (its affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def load_pct(
    getloadavg: Callable[[], tuple[float, float, float]] = os.getloadavg, cpus: Callable[[], int] = cpu_count
) -> float | None:
    """`max(load1, load5) / CPUs × 100`, or None if the load cannot be read."""
    try:
        load1, load5, _ = getloadavg()
    except OSError:
        return None
    return max(load1, load5) / max(1, cpus()) * 100


def _fields(text: str) -> dict[str, int]:
    """`name value [kB]` lines (meminfo, memory.stat) as {name: bytes or count}."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.replace(":", " ").split()
        if len(parts) >= 2 and parts[1].isdigit():
            values[parts[0]] = int(parts[1]) * (1024 if parts[2:3] == ["kB"] else 1)
    return values


def meminfo_memory(text: str) -> tuple[int, int] | None:
    """(used, total) bytes of RAM + swap from the text of /proc/meminfo, or None if fields are missing."""
    info = _fields(text)
    try:
        ram_total, ram_available = info["MemTotal"], info["MemAvailable"]
    except KeyError:
        return None
    swap_total, swap_free = info.get("SwapTotal", 0), info.get("SwapFree", 0)
    total = ram_total + swap_total
    if total <= 0:
        return None
    return (ram_total - ram_available) + (swap_total - swap_free), total


def cgroup_memory(read: TextReader, host_ram: int | None) -> tuple[int, int] | None:
    """(used, limit) bytes of this process's memory cgroup (v2, then v1), or None if it has no limit."""
    for limit_file, usage_file, stat_file, inactive_key in (
        (*CGROUP_V2_FILES, "inactive_file"),
        (*CGROUP_V1_FILES, "total_inactive_file"),
    ):
        limit_text, usage_text = read(limit_file), read(usage_file)
        if limit_text is None or usage_text is None:
            continue
        limit_text, usage_text = limit_text.strip(), usage_text.strip()
        if not limit_text.isdigit() or not usage_text.isdigit():
            return None  # "max": no limit
        limit, usage = int(limit_text), int(usage_text)
        if limit <= 0 or (host_ram is not None and limit >= host_ram):
            return None
        inactive = _fields(read(stat_file) or "").get(inactive_key, 0)
        return max(0, usage - inactive), limit
    return None


def memory_pct(read: TextReader = read_text) -> float | None:
    """Used memory as a percentage of the cgroup limit if there is one, else of the host's RAM + swap."""
    meminfo_text = read(MEMINFO)
    host = meminfo_memory(meminfo_text) if meminfo_text is not None else None
    host_ram = _fields(meminfo_text or "").get("MemTotal")
    measured = cgroup_memory(read, host_ram) or host
    if measured is None:
        return None
    used, total = measured
    return used / total * 100


class ResourceGate:
    """Tells the loop whether it may claim a job now, and logs (rate-limited) why not."""

    def __init__(
        self,
        max_load_pct: float,
        max_memory_pct: float,
        *,
        load: Callable[[], float | None] = load_pct,
        memory: Callable[[], float | None] = memory_pct,
        clock: Callable[[], float] = time.monotonic,
        log_interval_seconds: float = BUSY_LOG_INTERVAL_SECONDS,
    ) -> None:
        self.max_load_pct = max_load_pct
        self.max_memory_pct = max_memory_pct
        self._load = load
        self._memory = memory
        self._clock = clock
        self._log_interval = log_interval_seconds
        self._next_log = float("-inf")
        self._last_reason: str | None = None

    def busy(self) -> tuple[str, float, float] | None:
        """(`load` or `memory`, measured %, limit %) if no job should be claimed now, else None.

        A limit of 0 is not checked; a measure that cannot be read passes.
        """
        for name, limit, measure in (
            ("load", self.max_load_pct, self._load),
            ("memory", self.max_memory_pct, self._memory),
        ):
            if limit <= 0:
                continue
            value = measure()
            if value is not None and value >= limit:
                return name, value, limit
        return None

    def allows_claim(self) -> bool:
        """True if the resources allow a new job; otherwise log why (at most once per interval) and say False."""
        busy = self.busy()
        if busy is None:
            self._last_reason = None
            return True
        reason, value, limit = busy
        now = self._clock()
        if reason != self._last_reason or now >= self._next_log:
            self._next_log = now + self._log_interval
            self._last_reason = reason
            logger.warning(
                "not enough resources, no job claimed",
                extra={"reason": reason, "used_pct": round(value, 1), "max_pct": limit},
            )
        return False
