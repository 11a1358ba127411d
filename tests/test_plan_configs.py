"""The COCO configs of the detection plan (configs/plan/detection_plan.yaml): teachers are
the mmdet 3.3 model-zoo checkpoints the plan names, students are the plan's baselines,
and teacher and student agree where the distillation reads them."""
import os.path as osp

import pytest
import yaml
from mmengine.config import Config

import mmdet
from tests.tools import REPO, load_tool

plan_tool = load_tool('tools/plan.py')
PLAN = plan_tool.load_plan()
ROWS = PLAN['rows']
ZOO = osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs')


def metafile_entry(name):
    """The model-zoo entry ``name`` from the installed mmdet's metafiles."""
    for folder in ('gfl', 'faster_rcnn'):
        with open(osp.join(ZOO, folder, 'metafile.yml')) as f:
            for model in yaml.safe_load(f)['Models']:
                if model['Name'] == name:
                    return model
    raise KeyError(f'{name} is in no mmdet metafile')


def cfg_of(path):
    return Config.fromfile(osp.join(REPO, path))


@pytest.mark.parametrize('row', ROWS, ids=lambda r: r['method'])
def test_teacher_is_the_metafile_checkpoint(row):
    """Teacher config and checkpoint URL are those of the zoo model the plan names."""
    entry = metafile_entry(PLAN['teachers'][row['teacher']]['zoo'])
    cfg = cfg_of(row['config'])
    assert cfg.model.teacher_ckpt == entry['Weights'] == cfg.teacher_ckpt
    assert cfg.model.teacher.cfg_path == 'mmdet::' + entry['Config'][len('configs/'):]


@pytest.mark.parametrize('row', ROWS, ids=lambda r: r['method'])
def test_student_is_the_plan_baseline(row):
    """The distilled student, its data and its schedule are the baseline's own, so the
    plan's delta compares like with like; the student is an ImageNet R18."""
    cfg, base = cfg_of(row['config']), cfg_of(PLAN['students'][row['student']]['config'])
    assert cfg.model.architecture.to_dict() == base.model.to_dict()
    assert cfg.model.architecture.backbone.init_cfg.checkpoint == 'torchvision://resnet18'
    for key in ('train_dataloader', 'val_dataloader', 'train_cfg', 'param_scheduler',
                'auto_scale_lr'):
        assert cfg[key] == base[key], key
    assert cfg.train_cfg.max_epochs == 12  # 1x
    # Only FGD and MGD add their official gradient clipping to the optimiser.
    optim = cfg.optim_wrapper.to_dict()
    if row['method'] in ('FGD', 'MGD'):
        assert optim.pop('clip_grad') == dict(max_norm=35, norm_type=2)
    assert optim == base.optim_wrapper.to_dict()


@pytest.mark.parametrize('row', ROWS, ids=lambda r: r['method'])
def test_teacher_and_student_widths_agree(row):
    """Same input normalisation, FPN width and levels, and head shapes in both models:
    what lets the configs distil without a width connector."""
    cfg = cfg_of(row['config'])
    teacher = Config.fromfile(osp.join(ZOO, cfg.model.teacher.cfg_path[len('mmdet::'):])).model
    student = cfg.model.architecture
    for key in ('mean', 'std', 'bgr_to_rgb', 'pad_size_divisor'):
        assert teacher.data_preprocessor[key] == student.data_preprocessor[key], key
    assert teacher.backbone.type == 'ResNeXt' and teacher.backbone.depth == 101
    assert student.backbone.type == 'ResNet' and student.backbone.depth == 18
    for key in ('out_channels', 'num_outs', 'start_level', 'add_extra_convs'):
        assert teacher.neck.get(key) == student.neck.get(key), key
    assert student.neck.out_channels == 256
    if teacher.type == 'GFL':
        for key in ('num_classes', 'in_channels', 'feat_channels', 'stacked_convs', 'reg_max'):
            assert teacher.bbox_head[key] == student.bbox_head[key], key
    else:
        assert teacher.type == student.type == 'FasterRCNN'
        assert teacher.rpn_head.feat_channels == student.rpn_head.feat_channels
        for key in ('num_classes', 'fc_out_channels', 'roi_feat_size', 'in_channels'):
            assert teacher.roi_head.bbox_head[key] == student.roi_head.bbox_head[key], key


def test_plan_configs_say_what_they_carry_over():
    """Every row's config names its recipe source in its opening comment, and the plan's
    "fpn-rx18" reading is stated where ReviewKD's config and the plan say it."""
    for row in ROWS:
        with open(osp.join(REPO, row['config'])) as f:
            head = f.read().split('_base_')[0]
        assert 'detection plan row' in head and ('recipe' in head), row['config']
    review = next(r for r in ROWS if r['method'] == 'ReviewKD')
    assert 'fpn-rx18' in open(osp.join(REPO, review['config'])).read()
    assert 'fpn-rx18' in open(plan_tool.PLAN).read()
