"""Every generated table of the docs, from the committed raw results.

    python benchmarks/report.py            # rewrite every generated section
    python benchmarks/report.py --check    # exit 1 when a committed section differs

A number in docs/benchmarks.md is either inside a generated section or it is not a
result. A generated section sits between two markers in its file::

    <!-- report:NAME (benchmarks/report.py; edit the raw data, not this) -->
    ...
    <!-- /report:NAME -->

and ``SECTIONS`` says which function writes it from which raw files (the ``results.json``
of a ``benchmarks/quality.py`` work root, committed under docs/quality/). ``--check``
runs in the test suite (tests/benchmarks/test_report.py), so a table edited by hand, or
raw data changed without the table, fails it.
"""
import argparse
import json
import os.path as osp
import re
import statistics
import sys
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

if __package__:
    from .stats import by_seed, paired_delta
else:  # run as a script: benchmarks/ is on sys.path
    from stats import by_seed, paired_delta

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
MISSING = '—'
# Doubling a student's schedule may move its baseline by at most this (mAP or top-1
# points) for the schedule to count as near its plateau.
PLATEAU_MAX_GAIN = 1.5


def load(path: str) -> dict:
    """A committed results file (``{settings, seeds, results, elapsed}``)."""
    with open(osp.join(REPO, path)) as f:
        return json.load(f)


def to_markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    return '\n'.join(lines + ['| ' + ' | '.join(map(str, r)) + ' |' for r in rows])


def fmt_num(value: Optional[float]) -> str:
    return MISSING if value is None else f'{value:.1f}'


def fmt_values(values: Dict[int, float]) -> str:
    """``27.1, 27.9, 27.4 (27.5 ± 0.4)``: per seed in seed order, then mean ± sd."""
    if not values:
        return MISSING
    seeds = sorted(values)
    each = ', '.join(f'{values[s]:.1f}' for s in seeds)
    if len(seeds) == 1:
        return each
    return f'{each} ({statistics.fmean(values.values()):.1f} ± ' \
           f'{statistics.stdev(values.values()):.1f})'


# ---- tables --------------------------------------------------------------------------
def schedule_rows(results: List[dict]) -> List[List[str]]:
    """The plateau check: per pair, each baseline schedule multiple's score per seed and
    the change from the previous multiple (paired by seed, 95 % interval), with whether
    that doubling stayed within ``PLATEAU_MAX_GAIN``.

    Args:
        results: records of a quality.py root; the baselines (``role == 'baseline'``)
            with ``schedule`` ``x<m>`` are used.
    """
    rows = []
    pairs = list(dict.fromkeys(r['pair'] for r in results if r['role'] == 'baseline'))
    for pair in pairs:
        mine = [r for r in results if r['role'] == 'baseline' and r['pair'] == pair]
        multiples = sorted({int(r.get('schedule', 'x1')[1:]) for r in mine})
        previous = None
        for m in multiples:
            runs = [r for r in mine if r.get('schedule', 'x1') == f'x{m}']
            values = by_seed(runs)
            change, verdict = MISSING, MISSING
            if previous is not None and 2 * previous[0] == m:
                delta = paired_delta(values, previous[1])
                if delta is not None:
                    change = delta.text()
                    verdict = 'yes' if delta.mean <= PLATEAU_MAX_GAIN else 'no'
            split = runs[0].get('split', 'val') if runs else MISSING
            rows.append([pair, f'x{m}', str(runs[0]['epochs']) if runs else MISSING, split,
                         fmt_values(values), change, verdict])
            previous = (m, values)
    return rows


SCHEDULE_HEADER = ['pair', 'schedule', 'epochs', 'split', 'score per seed (mean ± sd)',
                   'Δ vs half the schedule [95 % interval]',
                   f'doubling moved it ≤ {PLATEAU_MAX_GAIN}']


def recipe_rows(recipes: Sequence[Tuple[str, List[dict]]]) -> List[List[str]]:
    """The classification pair under each training recipe: per recipe and schedule
    multiple, the baselines' scores per seed, the seeds that failed (sat at chance after
    the warm-up: ``status`` starts with ``failed``) and the teacher's score."""
    rows = []
    for label, results in recipes:
        teacher = [r for r in results if r['role'] == 'teacher']
        t_value = teacher[0]['value'] if teacher and teacher[0]['value'] is not None \
            else None
        base = [r for r in results if r['role'] == 'baseline']
        for m in sorted({int(r.get('schedule', 'x1')[1:]) for r in base}):
            runs = [r for r in base if r.get('schedule', 'x1') == f'x{m}']
            failed = sorted((r['seed'], r.get('stalled_value'), chance_epochs(r['status']))
                            for r in runs if str(r.get('status') or '').startswith('failed'))
            rows.append([label, f'x{m}', str(runs[0]['epochs']),
                         MISSING if t_value is None else f'{t_value:.1f}',
                         fmt_values(by_seed(runs)),
                         ', '.join(f'{seed} ({epochs}{fmt_num(value)})'
                                   for seed, value, epochs in failed) or 'none'])
    return rows


RECIPE_HEADER = ['recipe', 'schedule', 'epochs', 'teacher', 'student top-1 per seed '
                 '(mean ± sd)', 'seeds failed: at chance after the warm-up (the epochs at '
                 'chance; the final top-1, not averaged)']


def chance_epochs(status: str) -> str:
    """``epochs 2–4; `` from a failed run's status (``... through epoch(s) 2, 3, 4 after
    warm-up``), or nothing where the status names no epochs."""
    match = re.search(r'epoch\(s\) ([\d, ]+)', status)
    if not match:
        return ''
    epochs = [int(e) for e in match.group(1).replace(' ', '').split(',') if e]
    span = str(epochs[0]) if len(epochs) == 1 else f'{epochs[0]}–{epochs[-1]}'
    return f'epoch{"s" if len(epochs) > 1 else ""} {span}; '


def preflight_rows(records: Sequence[dict]) -> List[List[str]]:
    """The plan's COCO configs at full size (``tools/plan.py --preflight --json``): per
    row, the padded input, the step's wall time and peak memory, the teacher's share of
    the step, and the distillation terms summed next to the detection loss (the sum of
    the other loss terms) of the last step, with their ratio."""
    rows = []
    for r in records:
        terms = r.get('terms') or {}
        distill = sum(v for k, v in terms.items() if k.startswith('distill.'))
        detection = sum(v for k, v in terms.items()
                        if not k.startswith('distill.') and 'loss' in k and k != 'loss')
        has_distill = any(k.startswith('distill.') for k in terms)
        share = r.get('teacher_share')
        rows.append([
            r['row'], osp.basename(r['config']), 'ok' if r['ok'] else 'FAILED',
            ' × '.join(map(str, r['input_shape'])) if r.get('input_shape') else MISSING,
            MISSING if r.get('step_s') is None else f'{r["step_s"]:.1f}',
            MISSING if r.get('peak_mem_mb') is None else f'{r["peak_mem_mb"] / 1024:.1f}',
            MISSING if share is None else f'{100 * share:.0f} %',
            f'{distill:.3g}' if has_distill else MISSING, f'{detection:.3g}',
            f'{distill / detection:.2g}' if has_distill and detection else MISSING])
    return rows


PREFLIGHT_HEADER = ['row', 'config', 'checks', 'input (H × W, padded)', 'step s',
                    'peak GiB (RSS)', 'teacher share', 'distillation terms',
                    'detection loss', 'ratio']


# ---- sections ------------------------------------------------------------------------
@dataclass(frozen=True)
class Section:
    """A generated section: its marker ``name``, the file it lives in and the function
    that writes its body from the raw data."""
    name: str
    path: str
    body: Callable[[], str]


def _schedule() -> str:
    data = load('docs/quality/schedule/results.json')
    return to_markdown(SCHEDULE_HEADER, schedule_rows(data['results']))


def _cls_recipes() -> str:
    recipes = [(label, load(f'docs/quality/cls-recipe/{name}/results.json')['results'])
               for label, name in CLS_RECIPES]
    return to_markdown(RECIPE_HEADER, recipe_rows(recipes))


def _preflight() -> str:
    with open(osp.join(REPO, PREFLIGHT_RECORDS)) as f:
        return to_markdown(PREFLIGHT_HEADER, preflight_rows(json.load(f)))


#: ``tools/plan.py --preflight --synthetic --json`` at full COCO size on the CPU.
PREFLIGHT_RECORDS = 'docs/preflight/plan_coco_scale_cpu.json'

# (label, folder under docs/quality/cls-recipe/) of the classification recipes compared.
CLS_RECIPES = [('AdamW 2e-3, wd 0.05, 50-iteration warm-up (before)', 'adamw'),
               ('SGD 0.05, momentum 0.9, wd 5e-4, 50-iteration warm-up', 'sgd'),
               ('SGD 0.025, momentum 0.9, wd 5e-4, batch 16 (4x the steps), 200-iteration '
                'warm-up', 'sgd-b16')]

SECTIONS: List[Section] = [
    Section('schedule', 'docs/benchmarks.md', _schedule),
    Section('cls-recipe', 'docs/benchmarks.md', _cls_recipes),
    Section('preflight', 'README.md', _preflight),
]


def marker_pattern(name: str) -> 're.Pattern':
    return re.compile(rf'(<!-- report:{re.escape(name)} [^\n]*-->\n)(.*?)(<!-- /report:'
                      rf'{re.escape(name)} -->)', re.S)


def render(text: str, section: Section, body: Optional[str] = None) -> str:
    """``text`` with ``section``'s body replaced (by ``body``, default its function's)."""
    pattern = marker_pattern(section.name)
    if not pattern.search(text):
        raise ValueError(f'report.py: {section.path} has no section {section.name!r} '
                         f'(markers <!-- report:{section.name} ... --> and '
                         f'<!-- /report:{section.name} -->)')
    body = section.body() if body is None else body
    return pattern.sub(lambda m: m.group(1) + body.rstrip('\n') + '\n' + m.group(3), text,
                       count=1)


def run(check: bool, sections: Sequence[Section] = tuple(SECTIONS)) -> List[str]:
    """Write (or with ``check``, compare) every section; the names of those that differ
    from what the committed file holds."""
    differ = []
    for path in dict.fromkeys(s.path for s in sections):
        full = osp.join(REPO, path)
        with open(full) as f:
            text = f.read()
        new = text
        for section in [s for s in sections if s.path == path]:
            new = render(new, section)
        if new != text:
            differ += [s.name for s in sections if s.path == path
                       and render(text, s) != text]
            if not check:
                with open(full, 'w') as f:
                    f.write(new)
    return differ


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--check', action='store_true',
                        help='write nothing; exit 1 when a committed section differs')
    args = parser.parse_args(argv)
    differ = run(args.check)
    if args.check and differ:
        print(f'report.py: generated sections differ from the raw data: '
              f'{", ".join(differ)}; run python benchmarks/report.py', file=sys.stderr)
        return 1
    print(('up to date' if not differ else f'rewrote {", ".join(differ)}') +
          f' ({len(SECTIONS)} sections)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
