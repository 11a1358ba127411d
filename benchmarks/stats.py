"""The arithmetic of every benchmark effect: paired differences over seeds and their
95 % intervals.

A method's effect is measured against the baseline *of the same seed* and the same step
precision: the seed fixes the data order and the student's initial head, so the
difference per seed removes what both runs share, and a seed that failed on one side is
dropped from both. The interval is Student's t with n - 1 degrees of freedom over the
per-seed differences (``t_interval``): at 3 seeds its half-width is 2.48 standard errors,
wide, and said so rather than rounded away.
"""
import math
import statistics
from dataclasses import dataclass
from typing import Dict, Iterable, Mapping, Optional, Sequence, Tuple

#: Confidence of every interval the benchmark reports.
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Delta:
    """A paired difference: ``mean`` of the per-seed differences, its ``CONFIDENCE``
    interval ``[low, high]`` (None with fewer than two seeds) and the ``seeds`` paired."""
    mean: float
    low: Optional[float]
    high: Optional[float]
    seeds: Tuple[int, ...]

    @property
    def n(self) -> int:
        return len(self.seeds)

    def above(self, threshold: float) -> bool:
        """"≥ threshold": the mean at least ``threshold`` and the interval above 0."""
        return self.mean >= threshold and self.low is not None and self.low > 0

    def text(self, fmt: str = '{:+.1f}') -> str:
        """``+1.2 [+0.4, +2.0]``; the mean alone with one seed."""
        if self.low is None:
            return fmt.format(self.mean)
        return f'{fmt.format(self.mean)} [{fmt.format(self.low)}, {fmt.format(self.high)}]'


def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom (scipy's)."""
    if df < 1:
        raise ValueError(f't_quantile: df must be >= 1, got {df}')
    from scipy.stats import t
    return float(t.ppf(p, df))


def t_interval(values: Sequence[float], confidence: float = CONFIDENCE
               ) -> Tuple[float, Optional[float], Optional[float]]:
    """Mean and two-sided ``confidence`` interval of the mean of ``values`` (t, n - 1
    degrees of freedom); the bounds are None for one value."""
    values = list(values)
    if not values:
        raise ValueError('t_interval: no values')
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, None, None
    half = t_quantile(0.5 + confidence / 2, len(values) - 1) * \
        statistics.stdev(values) / math.sqrt(len(values))
    return mean, mean - half, mean + half


def by_seed(records: Iterable[Mapping], key: str = 'value') -> Dict[int, float]:
    """``{seed: record[key]}`` of the records whose ``key`` is not None (a failed or
    unfinished run has no value and is left out). Two records of one seed are an error:
    they are two runs that the caller failed to tell apart."""
    out: Dict[int, float] = {}
    for r in records:
        if r.get(key) is None:
            continue
        if r['seed'] in out:
            raise ValueError(f'by_seed: two records of seed {r["seed"]} '
                             f'({r.get("name")}); select one run per seed first')
        out[r['seed']] = float(r[key])
    return out


def paired_delta(values: Mapping[int, float], reference: Mapping[int, float]
                 ) -> Optional[Delta]:
    """``values - reference`` paired by seed, over the seeds both have; None when they
    share none.

    Args:
        values: ``{seed: score}`` of the runs measured (e.g. a method).
        reference: ``{seed: score}`` of the runs they are measured against (e.g. the
            baseline of the same step precision).
    """
    seeds = tuple(sorted(set(values) & set(reference)))
    if not seeds:
        return None
    mean, low, high = t_interval([values[s] - reference[s] for s in seeds])
    return Delta(mean, low, high, seeds)
