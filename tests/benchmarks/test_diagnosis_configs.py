"""The inherit diagnosis of FGD (benchmarks/quality.py ``DIAGNOSIS_RUNS``, pair
``gfl_wide``): its configs build the student they claim, inheritance copies the
teacher's neck and head into it, and the runs are trained only when named."""
import pytest
import torch

from benchmarks import quality
from benchmarks.cost import build_model


def test_diagnosis_runs_only_by_name():
    """The default selection is the benchmark's table; --methods reaches a diagnosis run,
    which belongs to the wide pair whose teacher is the GFL pair's own run."""
    default = quality.select_runs(None, ['det', 'cls'], quick=False)
    assert not {r.name for r in default} & {r.name for r in quality.DIAGNOSIS_RUNS}
    picked = quality.select_runs(['fgd_wide_inherit', 'fgd'], ['det'], quick=False)
    assert [r.name for r in picked] == ['fgd', 'fgd_wide_inherit']
    wide, gfl = quality.PAIRS['gfl_wide'], quality.PAIRS['gfl']
    assert picked[1].pair == 'gfl_wide' and wide.teacher == gfl.teacher
    assert wide.baseline != gfl.baseline


@pytest.mark.slow
def test_wide_student_inherits_all_but_the_lateral_convs():
    """The inheriting student's neck and head have the teacher's shapes and start from its
    weights, except the FPN's lateral convs (they read the narrower backbone); without
    inherit they are the student's own; FGD on the wide student needs no align layer."""
    _, model = build_model('benchmarks/configs/fgd_fpn_gfl-wide-inherit_digits.py')
    s, t = model.student.state_dict(), model.teacher.state_dict()
    keys = [k for k in t if k.startswith(('neck.', 'bbox_head.'))]
    lateral = [k for k in keys if '.lateral_convs.' in k]
    assert lateral and all(s[k].shape != t[k].shape for k in lateral if k.endswith('weight'))
    rest = [k for k in keys if k not in lateral]
    assert len(rest) > 20 and all(torch.equal(s[k], t[k]) for k in rest)
    losses = model.distiller.distill_losses
    assert len(losses) == 5 and all(loss.align is None for loss in losses.values())
    _, plain = build_model('benchmarks/configs/fgd_fpn_gfl-wide_digits.py')
    s = plain.student.state_dict()
    assert not any(torch.equal(s[k], t[k]) for k in rest if k.endswith('conv.weight'))
    _, alone = build_model('benchmarks/configs/inherit_gfl-wide_digits.py')
    s, t = alone.student.state_dict(), alone.teacher.state_dict()
    assert all(torch.equal(s[k], t[k]) for k in rest) and not alone.distiller.distill_losses
    _, baseline = build_model('benchmarks/configs/gfl_student-wide_digits.py')
    assert {k: v.shape for k, v in baseline.state_dict().items()} == {
        k: v.shape for k, v in plain.student.state_dict().items()}
