"""Peak resident memory of this process, for the memory columns of the cost benchmark
(benchmarks/cost.py) and the preflight of COCO configs (tools/preflight.py)."""
import re
import resource


class PeakRSS:
    """Peak resident memory of this process since the last :meth:`reset`, in MiB.

    Linux keeps a peak-RSS mark (``VmHWM``) that ``/proc/self/clear_refs`` resets to the
    current RSS (Linux >= 4.0). Where that is not possible, the peak is the process's
    lifetime maximum (``ru_maxrss``) and ``resettable`` is False.
    """

    def __init__(self) -> None:
        self.resettable = True
        try:
            with open('/proc/self/clear_refs', 'w') as f:
                f.write('5')
            self._status_kb('VmHWM')
        except OSError:
            self.resettable = False

    @staticmethod
    def _status_kb(field: str) -> int:
        with open('/proc/self/status') as f:
            match = re.search(rf'^{field}:\s+(\d+) kB', f.read(), re.M)
        if match is None:
            raise OSError(f'no {field} in /proc/self/status')
        return int(match.group(1))

    def current(self) -> float:
        if self.resettable:
            return self._status_kb('VmRSS') / 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def reset(self) -> None:
        if self.resettable:
            with open('/proc/self/clear_refs', 'w') as f:
                f.write('5')

    def peak(self) -> float:
        if self.resettable:
            return self._status_kb('VmHWM') / 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
