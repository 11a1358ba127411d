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
    from . import quality
    from .stats import by_seed, paired_delta
else:  # run as a script: benchmarks/ is on sys.path
    import quality
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
            walls = [r['wall'] for r in runs if r.get('wall') is not None]
            wall = f'{statistics.fmean(walls) / 60:.1f}' if walls else MISSING
            rows.append([pair, f'x{m}', str(runs[0]['epochs']) if runs else MISSING, split,
                         fmt_values(values), change, verdict, wall])
            previous = (m, values)
    return rows


SCHEDULE_HEADER = ['pair', 'schedule', 'epochs', 'split', 'score per seed (mean ± sd)',
                   'Δ vs half the schedule [95 % interval]',
                   f'doubling moved it ≤ {PLATEAU_MAX_GAIN}', 'wall per run (min)']


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

def headline_rows(results: List[dict], runs: Sequence['quality.Run'], ref: str = 'fp32'
                  ) -> Tuple[List[List[str]], List[str]]:
    """The benchmark's one table: per method of ours, its effect on the held-out test
    images and what sits beside it; and one line per method not at "≥ +1.0".

    Only test-split records at the benchmark's precision ``ref`` and the standard
    schedule (``x1``) count. The Δ is paired by seed with the baseline of the method's pair
    (``stats.paired_delta``: a seed missing or failed on either side is dropped from
    both); the gap closed is that Δ over the teacher's lead on the same seeds' baseline;
    ours − peer pairs our run with the peer implementation's by seed; the time ratio is
    the method's mean wall time over the baseline's (same epochs, from each run's log).

    Args:
        results: records of a quality.py root (``name``, ``role``, ``pair``, ``seed``,
            ``value``, ``wall``, ``split``, ``precision``, ``schedule``).
        runs: the benchmark's runs (``quality.Run``): ours are those with no ``peer_of``
            and implementation ``kd_mmdet``; a run's ``recipe_change`` says how its toy
            weights differ from the recipe, its ``diagnosis`` why it is below +1.0.
    """
    kept = [r for r in results if r.get('split') == 'test'
            and r.get('precision', 'fp32') == ref and r.get('schedule', 'x1') == 'x1']

    def of(**match):
        return [r for r in kept if all(r.get(k) == v for k, v in match.items())]

    rows, below = [], []
    for run in runs:
        if run.impl != 'kd_mmdet' or run.peer_of:
            continue
        mine = by_seed(of(name=run.name))
        base_runs = of(role='baseline', pair=run.pair)
        base = by_seed(base_runs)
        teacher = by_seed(of(role='teacher', pair=run.pair))
        delta = paired_delta(mine, base)
        label = f'{run.method} · {quality.PAIRS[run.pair].label}'
        gap = wall_ratio = None
        if delta is not None:
            base_mean = statistics.fmean(base[s] for s in delta.seeds)
            t_mean = statistics.fmean(teacher.values()) if teacher else None
            gap = quality.gap_closed(base_mean + delta.mean, base_mean, t_mean)
            mine_wall = by_seed(of(name=run.name), 'wall')
            base_wall = by_seed(base_runs, 'wall')
            seeds = set(mine_wall) & set(base_wall)
            if seeds:
                wall_ratio = statistics.fmean(mine_wall[s] for s in seeds) / \
                    statistics.fmean(base_wall[s] for s in seeds)
        peers = []
        for peer in [p for p in runs if p.peer_of == run.name]:
            diff = paired_delta(mine, by_seed(of(name=peer.name)))
            peers.append(f'{diff.text()} ({peer.impl})' if diff is not None
                         else f'{MISSING} ({peer.impl})')
        rows.append([label, f'`{run.config}`',
                     'not run' if delta is None else f'{delta.text()} ({delta.n} seeds)',
                     MISSING if gap is None else f'{gap:.0f} %',
                     '; '.join(peers) or MISSING,
                     MISSING if wall_ratio is None else f'{wall_ratio:.2f}',
                     run.recipe_change or 'no'])
        if delta is not None and not delta.above(1.0):
            below.append(f'- {label}: Δ {delta.text()} — '
                         f'{run.diagnosis or "no diagnosis yet"}')
    return rows, below


HEADLINE_HEADER = ['method · pair', 'config', 'Δ mAP / top-1 on test [95 % interval]',
                   'gap closed', 'ours − peer', 'time ratio', 'toy weights differ from '
                   'the recipe']


# ---- sections ------------------------------------------------------------------------
@dataclass(frozen=True)
class Section:
    """A generated section: its marker ``name``, the file it lives in and the function
    that writes its body from the raw data."""
    name: str
    path: str
    body: Callable[[], str]


def _schedule(folder: str = 'schedule') -> str:
    data = load(f'docs/quality/{folder}/results.json')
    return to_markdown(SCHEDULE_HEADER, schedule_rows(data['results']))


def _cls_recipes() -> str:
    recipes = [(label, load(f'docs/quality/cls-recipe/{name}/results.json')['results'])
               for label, name in CLS_RECIPES]
    return to_markdown(RECIPE_HEADER, recipe_rows(recipes))


def heldout_results() -> List[dict]:
    """The held-out run's records, or none before it is committed."""
    return load(HEADLINE_RESULTS)['results'] if osp.isfile(
        osp.join(REPO, HEADLINE_RESULTS)) else []


def _headline() -> str:
    results = heldout_results()
    rows, below = headline_rows(results, quality.DET_RUNS + quality.CLS_RUNS)
    text = to_markdown(HEADLINE_HEADER, rows)
    if not results:
        text += f'\n\nNo held-out run is committed yet ({HEADLINE_RESULTS}).'
    return text + ('\n\n' + '\n'.join(below) if below else '')


def _preflight() -> str:
    with open(osp.join(REPO, PREFLIGHT_RECORDS)) as f:
        return to_markdown(PREFLIGHT_HEADER, preflight_rows(json.load(f)))


#: The held-out run: every final config scored once on the test images.
HEADLINE_RESULTS = 'docs/quality/heldout/results.json'

#: ``tools/plan.py --preflight --synthetic --json`` at full COCO size on the CPU.
PREFLIGHT_RECORDS = 'docs/preflight/plan_coco_scale_cpu.json'

# (label, folder under docs/quality/cls-recipe/) of the classification recipes compared.
CLS_RECIPES = [('AdamW 2e-3, wd 0.05, 50-iteration warm-up (before)', 'adamw'),
               ('SGD 0.05, momentum 0.9, wd 5e-4, 50-iteration warm-up', 'sgd'),
               ('SGD 0.025, momentum 0.9, wd 5e-4, batch 16 (4x the steps), 200-iteration '
                'warm-up', 'sgd-b16'),
               ('SGD 0.05, momentum 0.9, wd 5e-4, 9,000 images (3x) for 5 epochs (the same '
                'steps), 50-iteration warm-up', 'sgd-n9000'),
               ('SGD 0.05, momentum 0.9, wd 5e-4, 200-iteration warm-up', 'sgd-wu200')]

SECTIONS: List[Section] = [
    Section('headline', 'docs/benchmarks.md', _headline),
    Section('headline', 'README.md', _headline),
    Section('schedule', 'docs/benchmarks.md', _schedule),
    Section('schedule-64', 'docs/benchmarks.md', lambda: _schedule('schedule-64')),
    Section('cls-recipe', 'docs/benchmarks.md', _cls_recipes),
    Section('preflight', 'README.md', _preflight),
    Section('recipes', 'configs/RECIPES.md', lambda: _recipes()),
    Section('methods', 'README.md', lambda: _methods()),
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


# ---- configs/RECIPES.md ---------------------------------------------------------------
RECIPE_KEYS = ('Pair', 'Schedule', 'Published', 'Recipe', 'Deviations')
RECIPES_HEADER = ['config', 'pair (teacher → student), or model', 'schedule', 'published',
                  'source', 'our deviations']
#: The section of COCO rows whose collection gives no ``Recipe Heading`` (students alone).
STUDENTS_HEADING = 'Students alone'


def recipes_sections(metafile_texts: Sequence[str]) -> str:
    """configs/RECIPES.md's tables from the metafiles: one section per collection that has
    a ``Recipe Heading`` (then its ``Recipe Note``), one row per model row with the recipe
    keys (``RECIPE_KEYS``) in its Metadata, in the metafiles' order; rows of other
    collections (the students alone) last."""
    import yaml
    docs = [yaml.safe_load(t) or {} for t in metafile_texts]
    collections = {c['Name']: c for d in docs for c in d.get('Collections') or []}
    sections: Dict[str, List[List[str]]] = {}
    for d in docs:
        for m in d.get('Models') or []:
            meta = m.get('Metadata') or {}
            if not all(k in meta for k in RECIPE_KEYS):
                continue
            col = collections.get(m.get('In Collection'), {})
            heading = col.get('Recipe Heading', STUDENTS_HEADING)
            sections.setdefault(heading, []).append(
                [f'`{osp.basename(m["Config"])}`'] + [str(meta[k]) for k in RECIPE_KEYS])
    notes = {c['Recipe Heading']: c.get('Recipe Note') for c in collections.values()
             if 'Recipe Heading' in c}
    order = sorted((h for h in sections if h != STUDENTS_HEADING), key=str.casefold)
    order += [STUDENTS_HEADING] if STUDENTS_HEADING in sections else []
    parts = []
    for heading in order:
        part = f'## {heading}\n\n' + to_markdown(RECIPES_HEADER, sections[heading])
        if notes.get(heading):
            part += f'\n\n{notes[heading]}'
        parts.append(part)
    return '\n\n'.join(parts)


METHODS_HEADER = ['method', 'task', 'paper', 'configs', 'published (COCO box AP / top-1)',
                  'README']


def methods_rows(metafile_texts: Sequence[str]) -> List[List[str]]:
    """README's methods table from the metafiles: per distillation collection (Training
    Techniques: Knowledge Distillation), its task, paper, how many configs it has per
    training set, and the published numbers its rows quote."""
    import yaml
    docs = [yaml.safe_load(t) or {} for t in metafile_texts]
    rows = []
    for d in docs:
        for col in d.get('Collections') or []:
            meta = col.get('Metadata') or {}
            if 'Knowledge Distillation' not in (meta.get('Training Techniques') or []):
                continue
            models = [m for dd in docs for m in dd.get('Models') or []
                      if m.get('In Collection') == col['Name']]
            counts: Dict[str, int] = {}
            for m in models:
                data = m['Metadata']['Training Data']
                counts[data] = counts.get(data, 0) + 1
            published = sorted(
                value for m in models if m['Metadata']['Training Data'] != 'Digits'
                for r in m.get('Results') or [] for value in r['Metrics'].values())
            paper = col.get('Paper') or {}
            rows.append([col['Name'], meta.get('Task', MISSING),
                         f'[{paper.get("Title", "paper")}]({paper.get("URL", "")})',
                         ', '.join(f'{n} {k}' for k, n in sorted(counts.items())),
                         ', '.join(f'{v:g}' for v in published) or MISSING,
                         f'[{col["README"]}]({col["README"]})'])
    return sorted(rows, key=lambda r: (r[1] != 'Object Detection', r[0].casefold()))


def _metafile_texts() -> List[str]:
    texts = []
    for path in _metafiles():
        with open(osp.join(REPO, path)) as f:
            texts.append(f.read())
    return texts


def _methods() -> str:
    return to_markdown(METHODS_HEADER, methods_rows(_metafile_texts()))


def _recipes() -> str:
    return recipes_sections(_metafile_texts())


# ---- model index --------------------------------------------------------------------
#: ``Task`` and metric of a digits row's result, by the task of its pair.
DIGITS_METRIC = {'det': ('Object Detection', 'box AP'),
                 'cls': ('Image Classification', 'Top 1 Accuracy')}
_DIGITS_ROW = re.compile(
    r'(    Config: (?P<config>\S+)\n    Metadata:\n(?:      .*\n)*?'
    r'      Training Data: Digits\n(?:      (?!Results Source).*\n)*)'
    r'(?P<tail>      Results Source: .*\n(?:    Results:\n(?:      .*\n)*)?)')


def digits_result(results: List[dict], config: str, ref: str = 'fp32'
                  ) -> Optional[Tuple[str, float, int]]:
    """``(task, mean, seeds)`` of the held-out test records of ``config`` (our
    implementation, precision ``ref``, the standard schedule), None without one."""
    runs = [r for r in results if r.get('config') == config and r.get('split') == 'test'
            and r.get('impl', 'kd_mmdet') == 'kd_mmdet' and r.get('precision', 'fp32') == ref
            and r.get('schedule', 'x1') == 'x1' and r.get('role') in
            ('teacher', 'baseline', 'method')]
    values = by_seed(runs)
    if not values:
        return None
    task = quality.PAIRS[runs[0]['pair']].task
    return task, statistics.fmean(values.values()), len(values)


def benchmark_configs() -> set:
    """The configs the quality benchmark trains: every run's, teachers and baselines."""
    runs = list(quality.runs_by_name().values()) + \
        [run for pair in quality.PAIRS.values() for run in (pair.teacher, pair.baseline)]
    return {run.config for run in runs}


def digits_tail(found: Optional[Tuple[str, float, int]], benchmarked: bool = True) -> str:
    """The ``Results Source`` line and ``Results`` block of a digits row."""
    if found is None:
        why = ('not measured in the held-out setting yet' if benchmarked
               else 'not a run of the quality benchmark')
        return f"      Results Source: 'docs/benchmarks.md: {why}'\n"
    task, mean, n = found
    name, metric = DIGITS_METRIC[task]
    seeds = f'mean of {n} seeds' if n > 1 else '1 seed'
    return (f"      Results Source: 'docs/benchmarks.md: held-out run, {seeds} on the test "
            f"images ({HEADLINE_RESULTS})'\n"
            f'    Results:\n      - Task: {name}\n        Dataset: Digits\n'
            f'        Metrics:\n          {metric}: {mean:.1f}\n')


def render_metafile(text: str, results: List[dict]) -> str:
    """A metafile's text with every digits row's result written from ``results``."""
    ours = benchmark_configs()
    return _DIGITS_ROW.sub(
        lambda m: m.group(1) + digits_tail(digits_result(results, m.group('config')),
                                           m.group('config') in ours), text)


def _metafiles() -> List[str]:
    import glob
    return sorted(osp.relpath(p, REPO) for p in glob.glob(
        osp.join(REPO, 'configs', '**', 'metafile.yml'), recursive=True))


INDEX = 'model-index.yml'


def render_index(text: str, metafiles: Sequence[str]) -> str:
    """model-index.yml's text with its ``Import`` list made of ``metafiles``: a method's
    folder is indexed by having a metafile.yml, not by an edit here."""
    imports = ''.join(f'  - {m}\n' for m in metafiles)
    new, n = re.subn(r'^Import:\n(?:  - .*\n)*', lambda _: 'Import:\n' + imports, text,
                     count=1, flags=re.M)
    if n != 1:
        raise ValueError(f'report.py: {INDEX} has no Import list')
    return new


def run_metafiles(check: bool) -> List[str]:
    """Write (or with ``check``, compare) every metafile's digits rows and the model
    index's imports; the paths that differ."""
    results = heldout_results()
    differ = []
    metafiles = _metafiles()
    for path in metafiles + [INDEX]:
        with open(osp.join(REPO, path)) as f:
            text = f.read()
        new = render_index(text, metafiles) if path == INDEX else \
            render_metafile(text, results)
        if new != text:
            differ.append(path)
            if not check:
                with open(osp.join(REPO, path), 'w') as f:
                    f.write(new)
    return differ


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
    differ = run(args.check) + run_metafiles(args.check)
    if args.check and differ:
        print(f'report.py: generated sections differ from the raw data: '
              f'{", ".join(differ)}; run python benchmarks/report.py', file=sys.stderr)
        return 1
    print(('up to date' if not differ else f'rewrote {", ".join(differ)}') +
          f' ({len(SECTIONS)} sections)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
