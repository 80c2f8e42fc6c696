"""How many cores this process may use."""

import os


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, as a container or taskset
    limits it), else all the machine's."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
