"""tools/export_student.py: which keys a distillation state dict keeps and what meta is."""
import numpy as np
import torch

from tests.tools import load_tool

export = load_tool('tools/export_student.py')


def distill_state_dict():
    keys = ['architecture.backbone.conv1.weight', 'architecture.bbox_head.gfl_cls.weight',
            'architecture.aux_head.conv.weight', 'teacher.backbone.conv1.weight',
            'teacher.neck.lateral_convs.0.conv.weight',
            'distiller.connectors.fpn0.conv_module.conv.weight']
    return {k: torch.full((2, ), float(i)) for i, k in enumerate(keys)}


def test_keeps_only_the_student_with_prefix_stripped():
    """Teacher and distiller keys are dropped and counted; student keys lose the prefix."""
    kept, dropped = export.split_state_dict(distill_state_dict())
    assert list(kept) == ['backbone.conv1.weight', 'bbox_head.gfl_cls.weight',
                          'aux_head.conv.weight']
    assert dropped == {'teacher.': 2, 'distiller.': 1}
    assert torch.equal(kept['bbox_head.gfl_cls.weight'], torch.full((2, ), 1.0))


def test_drop_prefix_removes_training_only_branches():
    """--drop-prefix names student branches relative to the student."""
    kept, dropped = export.split_state_dict(distill_state_dict(),
                                            drop_prefixes=['aux_head.'])
    assert 'aux_head.conv.weight' not in kept
    assert dropped['architecture.aux_head.'] == 1


def test_keep_prefix_can_export_the_teacher():
    """--keep-prefix teacher. gives the teacher alone."""
    kept, dropped = export.split_state_dict(distill_state_dict(), keep_prefix='teacher.')
    assert list(kept) == ['backbone.conv1.weight', 'neck.lateral_convs.0.conv.weight']
    assert dropped == {'architecture.': 3, 'distiller.': 1}


def test_is_plain_refuses_what_weights_only_cannot_read():
    """Class names and palettes pass; numpy scalars and arrays do not."""
    assert export.is_plain(dict(classes=('0', '1'), palette=[(1, 2, 3)], epoch=3))
    assert not export.is_plain(dict(epoch=np.int64(3)))
    assert not export.is_plain(dict(score=np.float64(0.5)))  # a float subclass
    assert not export.is_plain([np.zeros(2)])


def test_teacher_export_of_a_teacher_less_checkpoint_says_why(tmp_path, capsys):
    """Checkpoints leave a frozen teacher out by default: the refusal says where it is."""
    state = {k: v for k, v in distill_state_dict().items() if not k.startswith('teacher.')}
    torch.save(dict(state_dict=state), tmp_path / 'epoch_1.pth')
    code = export.main([str(tmp_path / 'epoch_1.pth'), str(tmp_path / 'teacher.pth'),
                        '--keep-prefix', 'teacher.'])
    assert code == 1 and not (tmp_path / 'teacher.pth').exists()
    assert 'save_teacher=True' in capsys.readouterr().err
