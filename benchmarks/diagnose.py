"""Evidence for a method that does not help on the quality benchmark (docs/benchmarks.md).

    # the teacher's own accuracy on what LD and CWD-on-logits copy, beside the student's
    python benchmarks/diagnose.py teacher-quality --work-root work_dirs/bench16 [--seed 0]
    # the student's mAP with the teacher's class scores or edge distributions in place of
    # its own: what perfectly copying either could give
    python benchmarks/diagnose.py head-swap --work-root work_dirs/bench16 [--seed 0] \\
        [--methods ld_main cwd_logits]
    # each term's gradient share over training (kd_mmdet.GradShareHook), one seed
    python benchmarks/diagnose.py grad-share --work-root work_dirs/bench16 --methods fgd ld_full

All three read a finished ``benchmarks/quality.py`` work root (its ``results.json`` and
checkpoints) and print Markdown tables; ``grad-share`` trains the named method runs of the
first seed again, with the hook, into ``<work-root>/diagnose/<name>`` (resumable: a
finished run is read, not repeated).

``teacher-quality`` (GFL pair): on the validation images, with the GFL head's own ATSS
assignment (the anchors are the same for teacher and student, so the positives are the
same), per FPN level and over all levels:

- ``cls acc``: share of positives whose highest class score is the ground-truth class —
  what class KD and CWD on the class logits copy;
- ``score@gt``: mean sigmoid score of the ground-truth class (GFL trains it towards the
  IoU of the predicted box);
- ``IoU``: mean IoU of the box decoded from the edge distributions with the ground truth
  — what LD's main and VLR terms copy;
- ``CWD mass``: per class present in an image, the share of that class channel's spatial
  softmax (τ = 1, as CWD normalises it) that lies on the class's positives, averaged —
  the distribution CWD on the logits makes the student copy.

``head-swap`` (GFL pair): COCO box mAP of the baseline student with the teacher's class
scores, or the teacher's edge distributions, in place of its own (decoded by the
student's head on the same priors): the most that copying the teacher's classification
(class KD, CWD on the logits) or its localisation (LD's main and VLR terms) perfectly
could give on this data. The same for the students of method runs (``--methods``): with
the teacher's class scores their mAP measures their localisation alone, against the
baseline's, and with the teacher's edge distributions their classification alone.
"""
import argparse
import copy
import itertools
import json
import os
import os.path as osp
import shlex
import subprocess
import sys
from typing import Dict, List, Optional, Sequence, Tuple

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from benchmarks.quality import final_checkpoint, fmt_num, to_markdown  # noqa: E402


def load_results(work_root: str) -> List[dict]:
    path = osp.join(work_root, 'results.json')
    if not osp.isfile(path):
        raise SystemExit(f'diagnose.py: {path} not found: run benchmarks/quality.py first')
    with open(path) as f:
        return json.load(f)['results']


def find(results: List[dict], name: str, seed: Optional[int] = None) -> dict:
    for r in results:
        if r['name'] == name and (seed is None or r['seed'] == seed) and r['value'] is not None:
            return r
    raise SystemExit(f'diagnose.py: no finished run {name!r}'
                     + (f' of seed {seed}' if seed is not None else '') + ' in results.json')


# ---- teacher quality -----------------------------------------------------------------
def build_detector(result: dict, load: bool = True):
    """The detector of a finished plain-detector run (teacher or baseline), in eval mode,
    with its final checkpoint loaded (unless ``load`` is False), and the run's config."""
    from mmengine.config import Config, DictAction
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint
    from mmdet.registry import MODELS
    cmd = shlex.split(result['command'].split(' ', 1)[1])  # drop OMP_NUM_THREADS=
    config = osp.join(REPO, cmd[2])
    options = cmd[cmd.index('--cfg-options') + 1:]
    cfg = Config.fromfile(config)
    parser = argparse.ArgumentParser()
    parser.add_argument('--o', nargs='+', action=DictAction)
    cfg.merge_from_dict(parser.parse_args(['--o', *options]).o)
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    if load:
        load_checkpoint(model, final_checkpoint(osp.join(REPO, result['work_dir']),
                                                result['epochs']), map_location='cpu',
                        logger='silent')
    return model.eval(), cfg


def load_student(baseline: dict, run: dict):
    """The student of a finished distillation ``run``, as the baseline's detector (the
    same architecture) holding the run's final student weights, in eval mode.

    mmrazor algorithms (kd_mmdet's, CrossKD) keep the student under ``architecture.``
    (kd_mmdet.engine.student_export); mmdet's KD detectors keep it at the top level and
    their teacher out of the state dict. The load is strict: a key the baseline's detector
    lacks or expects is an error.
    """
    import torch
    from kd_mmdet.engine.student_export import STUDENT_PREFIX, split_state_dict
    model, _ = build_detector(baseline, load=False)
    path = final_checkpoint(osp.join(REPO, run['work_dir']), run['epochs'])
    state = torch.load(path, map_location='cpu', weights_only=False)
    state = state.get('state_dict', state)
    plain = not any(k.startswith(STUDENT_PREFIX) for k in state)
    kept, _ = split_state_dict(state, keep_prefix='' if plain else STUDENT_PREFIX)
    missing, unexpected = model.load_state_dict(kept, strict=False)
    if missing or unexpected:
        raise ValueError(f'diagnose.py: the student of {run["name"]} ({path}) does not fit '
                         f'the baseline detector: missing {missing[:3]}, unexpected '
                         f'{unexpected[:3]}')
    return model.eval()


def eval_data(cfg, split: str = 'val'):
    """The loader (unshuffled, no workers) and evaluator config of a run's ``split``:
    ``val``, or ``train`` — the images the teacher and students trained on, to see how
    much of what a teacher outputs there it memorised (the val pipeline: no flips)."""
    from mmengine.runner import Runner
    loader_cfg = copy.deepcopy(cfg.val_dataloader)
    evaluator = copy.deepcopy(cfg.val_evaluator)
    if split != 'val':
        if split != 'train':
            raise ValueError(f"diagnose.py: split must be 'val' or 'train', not {split!r}")
        for holder in (loader_cfg.dataset, evaluator):
            if 'instances_val.json' not in holder.ann_file:
                raise ValueError(f'diagnose.py: cannot find the train split beside '
                                 f'{holder.ann_file} (expected .../instances_val.json)')
            holder.ann_file = holder.ann_file.replace('instances_val.json',
                                                      'instances_train.json')
    loader = Runner.build_dataloader(dict(loader_cfg, num_workers=0,
                                          persistent_workers=False))
    return loader, evaluator


def positive_quality(model, data: dict) -> Dict[int, Dict[str, List[float]]]:
    """Per level, the per-positive ``cls``, ``score``, ``iou`` and per (image, class)
    ``mass`` values of one preprocessed batch (see the module docstring)."""
    import torch
    from mmdet.structures.bbox import bbox_overlaps
    head = model.bbox_head
    inputs, samples = data['inputs'], data['data_samples']
    with torch.no_grad():
        cls_scores, bbox_preds = head(model.extract_feat(inputs))
    metas = [s.metainfo for s in samples]
    gts = [s.gt_instances for s in samples]
    sizes = [c.shape[-2:] for c in cls_scores]
    anchors, valid = head.get_anchors(sizes, metas, device=inputs.device)
    (anchor_list, labels_list, _, bbox_targets_list, _, _) = head.get_targets(
        anchors, valid, gts, metas)
    out: Dict[int, Dict[str, List[float]]] = {}
    num_classes = head.num_classes
    for lvl, (cls, reg, anc, lab, tgt, stride) in enumerate(zip(
            cls_scores, bbox_preds, anchor_list, labels_list, bbox_targets_list,
            head.prior_generator.strides)):
        n = cls.size(0)
        cls_flat = cls.permute(0, 2, 3, 1).reshape(n, -1, num_classes)
        reg_flat = reg.permute(0, 2, 3, 1).reshape(n, -1, 4 * (head.reg_max + 1))
        rows = out.setdefault(lvl, dict(cls=[], score=[], iou=[], mass=[]))
        for i in range(n):
            pos = (lab[i] >= 0) & (lab[i] < num_classes)
            spatial = torch.softmax(cls_flat[i].float(), dim=0)  # per class, over positions
            for c in lab[i][pos].unique().tolist():
                rows['mass'].append(float(spatial[pos & (lab[i] == c), c].sum()))
            if not pos.any():
                continue
            labels = lab[i][pos]
            scores = cls_flat[i][pos].float()
            rows['cls'] += (scores.argmax(1) == labels).float().tolist()
            rows['score'] += scores.sigmoid().gather(1, labels[:, None])[:, 0].tolist()
            centers = head.anchor_center(anc[i][pos]) / stride[0]
            boxes = head.bbox_coder.decode(centers, head.integral(reg_flat[i][pos].float()))
            rows['iou'] += bbox_overlaps(boxes, tgt[i][pos] / stride[0],
                                         is_aligned=True).tolist()
    return out


def teacher_quality(work_root: str, seed: int, limit: Optional[int],
                    split: str = 'val') -> str:
    results = load_results(work_root)
    models = {'teacher': build_detector(find(results, 'gfl_teacher')),
              'student (baseline)': build_detector(find(results, 'gfl_student', seed))}
    loader, _ = eval_data(models['teacher'][1], split)
    stats = {name: {} for name in models}
    for b, batch in enumerate(loader):
        if limit is not None and b >= limit:
            break
        for name, (model, _) in models.items():
            # get_targets needs the ground truth in the preprocessed samples
            data = model.data_preprocessor(batch, False)
            for lvl, rows in positive_quality(model, data).items():
                mine = stats[name].setdefault(lvl, dict(cls=[], score=[], iou=[], mass=[]))
                for k, v in rows.items():
                    mine[k] += v
    header = ['model', 'level', 'positives', 'cls acc %', 'score@gt', 'IoU', 'CWD mass']
    table = []

    def mean(v):
        return sum(v) / len(v) if v else None

    for name, levels in stats.items():
        everything = dict(cls=[], score=[], iou=[], mass=[])
        for lvl in sorted(levels):
            r = levels[lvl]
            for k in everything:
                everything[k] += r[k]
            table.append([name, f'P{lvl + 3}', str(len(r['cls'])),
                          fmt_num(None if not r['cls'] else 100 * mean(r['cls'])),
                          fmt_num(mean(r['score']), '{:.3f}'), fmt_num(mean(r['iou']), '{:.3f}'),
                          fmt_num(mean(r['mass']), '{:.3f}')])
        table.append([name, 'all', str(len(everything['cls'])),
                      fmt_num(100 * mean(everything['cls'])),
                      fmt_num(mean(everything['score']), '{:.3f}'),
                      fmt_num(mean(everything['iou']), '{:.3f}'),
                      fmt_num(mean(everything['mass']), '{:.3f}')])
    return to_markdown(header, table)


# ---- head swap -----------------------------------------------------------------------
SOURCES = ('student', 'teacher')


def head_outputs(model, batch: dict):
    """``(cls_scores, bbox_preds)`` of a GFL detector's head on one batch, and the batch's
    preprocessed data samples."""
    import torch
    data = model.data_preprocessor(batch, False)
    with torch.no_grad():
        return model.bbox_head(model.extract_feat(data['inputs'])), data['data_samples']


def swap_predictions(student, teacher, batch: dict,
                     teacher_outputs: Optional[tuple] = None
                     ) -> Dict[Tuple[str, str], list]:
    """The detections of every mix of the two GFL heads' outputs on one val batch.

    Returns ``{(cls_from, box_from): [DetDataSample]}`` for ``cls_from`` and ``box_from``
    in ``SOURCES``: the class-score maps of one model with the edge distributions of the
    other, decoded and post-processed by the student's head (``predict_by_feat``; the two
    heads share priors, ``reg_max`` and ``test_cfg``, which is checked). ``(student,
    student)`` is the student's own prediction and ``(teacher, teacher)`` the teacher's;
    ``(student, teacher)`` is the student had it copied the teacher's localisation
    perfectly — the most LD's main and VLR terms can give — and ``(teacher, student)`` the
    student with the teacher's classification. ``teacher_outputs``: the teacher's
    ``head_outputs`` of this batch, when already computed (one teacher pass for several
    students).
    """
    import torch
    s_head, t_head = student.bbox_head, teacher.bbox_head
    for attr in ('num_classes', 'reg_max'):
        if getattr(s_head, attr) != getattr(t_head, attr):
            raise ValueError(f'diagnose.py head-swap: the heads differ in {attr} '
                             f'({getattr(s_head, attr)} vs {getattr(t_head, attr)})')
    if s_head.prior_generator.strides != t_head.prior_generator.strides:
        raise ValueError('diagnose.py head-swap: the heads differ in strides '
                         f'({s_head.prior_generator.strides} vs '
                         f'{t_head.prior_generator.strides})')
    s_out, samples = head_outputs(student, batch)
    t_out = (teacher_outputs or head_outputs(teacher, batch))[0]
    outs = dict(zip(SOURCES, (s_out, t_out)))
    metas = [s.metainfo for s in samples]
    preds = {}
    for cls_from, box_from in itertools.product(SOURCES, SOURCES):
        with torch.no_grad():
            results = s_head.predict_by_feat(outs[cls_from][0], outs[box_from][1],
                                             batch_img_metas=metas, rescale=True)
        preds[(cls_from, box_from)] = student.add_pred_to_datasample(
            copy.deepcopy(samples), results)
    return preds


def head_swap(work_root: str, seed: int, limit: Optional[int],
              names: Sequence[str] = (), split: str = 'val') -> str:
    """COCO box mAP on the val images of the baseline student of ``seed`` and of the
    students of the method runs ``names`` (same seed): each alone, with the GFL teacher's
    edge distributions in place of its own, and with the teacher's class scores in place
    of its own (``swap_predictions``). With the teacher's class scores, the score is
    a measure of the student's localisation alone; with its edge distributions, of its
    classification alone."""
    from mmengine.evaluator import Evaluator
    results = load_results(work_root)
    teacher, cfg = build_detector(find(results, 'gfl_teacher'))
    baseline = find(results, 'gfl_student', seed)
    students = {'baseline': build_detector(baseline)[0]}
    for name in names:
        students[name] = load_student(baseline, find(results, name, seed))
    loader, evaluator_cfg = eval_data(cfg, split)
    combos = list(itertools.product(SOURCES, SOURCES))  # swap_predictions' keys
    evaluators = {}
    for name in students:
        for key in combos:
            evaluators[(name,) + key] = Evaluator(evaluator_cfg)
            evaluators[(name,) + key].dataset_meta = loader.dataset.metainfo
    img_ids = []
    for b, batch in enumerate(loader):
        if limit is not None and b >= limit:
            break
        teacher_outputs = head_outputs(teacher, batch)
        for name, student in students.items():
            for key, samples in swap_predictions(student, teacher, batch,
                                                 teacher_outputs).items():
                evaluators[(name,) + key].process(data_samples=samples, data_batch=batch)
        img_ids += [s.img_id for s in batch['data_samples']]
    for ev in evaluators.values():
        for metric in ev.metrics:  # with --limit: score the images seen, not all of them
            metric.img_ids = img_ids
    seen = len(img_ids)
    scores = {key: 100 * ev.evaluate(seen)['coco/bbox_mAP']
              for key, ev in evaluators.items()}
    rows = [[name] + [fmt_num(scores[(name,) + key]) for key in combos[:3]]
            for name in students]
    teacher_map = scores[('baseline', 'teacher', 'teacher')]
    return (to_markdown([f'student (seed {seed})', 'box mAP alone',
                         "with the teacher's edge distributions (its classification)",
                         "with the teacher's class scores (its localisation)"], rows)
            + f'\n\nThe teacher alone: {fmt_num(teacher_map)}.')

# ---- gradient shares -----------------------------------------------------------------
def grad_share_run(work_root: str, result: dict, interval: int) -> str:
    """Train ``result``'s run again with kd_mmdet.GradShareHook; its grad_share.json."""
    name = result['name']
    work_dir = osp.join(work_root, 'diagnose', name)
    if osp.isfile(final_checkpoint(work_dir, result['epochs'])):
        path = sorted(p for p in (osp.join(work_dir, d, 'grad_share.json')
                                  for d in os.listdir(work_dir)) if osp.isfile(p))[-1]
        return path
    cmd = shlex.split(result['command'].split(' ', 1)[1])
    base = osp.join(REPO, cmd[2])
    config = osp.join(work_root, 'configs', f'{name}_grad-share.py')
    with open(config, 'w') as f:
        f.write(f'# {cmd[2]} with kd_mmdet.GradShareHook (benchmarks/diagnose.py).\n'
                f'_base_ = [{base!r}]\n'
                f"custom_hooks = [dict(type='kd_mmdet.GradShareHook', "
                f'interval={interval})]\n')
    cmd[2] = config
    cmd[cmd.index('--work-dir') + 1] = work_dir
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get('OMP_NUM_THREADS', '2'),
               PYTHONPATH=REPO)
    print(f'[diagnose] {" ".join(shlex.quote(c) for c in cmd)}', flush=True)
    os.makedirs(work_dir, exist_ok=True)
    with open(osp.join(work_dir, 'bench_train.log'), 'w') as log:
        out = subprocess.run([sys.executable] + cmd[1:], cwd=REPO, env=env, stdout=log,
                             stderr=subprocess.STDOUT)
    if out.returncode != 0:
        raise SystemExit(f'diagnose.py: the run of {name} failed; see {work_dir}')
    return grad_share_run(work_root, result, interval)


def summarize_grad_share(path: str, phases: int = 3) -> List[List[str]]:
    """Rows of term | phase | mean value | mean share | mean cos, the measurements split
    into ``phases`` equal spans of training iterations."""
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    last = max(r['iter'] for r in rows) + 1
    out = []
    for term in dict.fromkeys(r['term'] for r in rows):
        for p in range(phases):
            lo, hi = last * p / phases, last * (p + 1) / phases
            sel = [r for r in rows if r['term'] == term and lo <= r['iter'] < hi]
            if not sel:
                continue
            n = len(sel)
            out.append([term, f'{int(lo)}–{int(hi) - 1}',
                        f"{sum(r['value'] for r in sel) / n:.4g}",
                        f"{sum(r['grad_norm'] for r in sel) / n:.3g}",
                        f"{sum(r['share'] for r in sel) / n:.3f}",
                        f"{sum(r['cos'] for r in sel) / n:+.3f}"])
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('what',
                        choices=['teacher-quality', 'head-swap', 'grad-share'])
    parser.add_argument('--work-root', required=True)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--split', choices=['val', 'train'], default='val',
                        help='teacher-quality, head-swap: the images to measure on '
                        '(train: the ones every model trained on)')
    parser.add_argument('--methods', nargs='+',
                        help='grad-share: the method runs to re-run with the hook; head-swap: '
                        'the method runs whose students to measure beside the baseline')
    parser.add_argument('--interval', type=int, default=32,
                        help='grad-share: measure every N iterations')
    parser.add_argument('--limit', type=int,
                        help='teacher-quality, head-swap: at most N val batches')
    args = parser.parse_args(argv)
    root = osp.abspath(args.work_root)
    if args.what == 'teacher-quality':
        print(teacher_quality(root, args.seed, args.limit, args.split))
        return 0
    if args.what == 'head-swap':
        print(head_swap(root, args.seed, args.limit, args.methods or (), args.split))
        return 0
    if not args.methods:
        raise SystemExit('diagnose.py: grad-share needs --methods')
    results = load_results(root)
    for name in args.methods:
        path = grad_share_run(root, find(results, name, args.seed), args.interval)
        print(f'\n### {name} (seed {args.seed}; {path})\n')
        print(to_markdown(['term', 'iterations', 'value', 'grad norm', 'share of task',
                           'cos with task'], summarize_grad_share(path)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
