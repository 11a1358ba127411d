"""kd_mmdet.RoIHeadDistill: the teacher's RoI head classifies the student's sampled RoIs."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from kd_mmdet.models.losses import dkd_loss

from .toy import build_algorithm, det_batch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
TOY = Config.fromfile(osp.join(REPO, 'configs/dkd/dkd_faster-rcnn_digits.py'))


def build(**overrides):
    return build_algorithm(TOY, init_weights=False, **overrides)


batch = det_batch


@pytest.fixture(scope='module')
def step():
    """One training step of the toy DKD config, with the recorded tensors kept."""
    model = build()
    model.train()
    rois, sampling = [], []
    model.student.roi_head.bbox_roi_extractor.register_forward_pre_hook(
        lambda m, args: rois.append(args[1].detach().clone()))
    bbox_loss = model.student.roi_head.bbox_loss

    def keep_sampling(x, sampling_results):  # the sampler's output the RoI head trains on
        sampling.append(sampling_results)
        return bbox_loss(x, sampling_results)

    model.student.roi_head.bbox_loss = keep_sampling
    data = batch(model)
    losses = model(**data, mode='loss')
    d = model.distiller
    return dict(model=model, data=data, losses=losses, rois=rois, sampling=sampling,
                logits_S=d.student_recorders.get_recorder('logits').get_record_data(data_idx=0),
                logits_T=d.teacher_recorders.get_recorder('logits').get_record_data(data_idx=0),
                labels=d.student_recorders.get_recorder('targets').get_record_data(data_idx=0))


def test_teacher_logits_are_on_the_students_rois(step):
    """Teacher logits = teacher RoI head on the student's sampled RoIs, row for row."""
    model, rois = step['model'], step['rois']
    assert len(rois) == 1  # the student's RoI extractor ran once in the step
    with torch.no_grad():
        feats = model.teacher.extract_feat(step['data']['inputs'])
        expected = model.teacher.roi_head._bbox_forward(feats, rois[0])['cls_score']
    assert step['logits_T'].shape == step['logits_S'].shape == expected.shape
    assert step['logits_T'].shape[0] == rois[0].shape[0]
    assert torch.allclose(step['logits_T'], expected, atol=1e-6)


def test_labels_are_the_sampled_labels_with_background(step):
    """One label per RoI, in [0, num_classes] with num_classes the background."""
    labels, logits = step['labels'], step['logits_S']
    num_classes = logits.size(1) - 1
    assert labels.shape == (logits.size(0),)
    assert labels.min() >= 0 and labels.max() <= num_classes
    assert (labels == num_classes).any() and (labels < num_classes).any()


def test_labels_are_the_targets_of_the_same_sampling_row_by_row(step):
    """Row r of the recorded labels is the class of RoI r: per image, the positives'
    ground-truth labels (looked up from the assigned GT index) then background for the
    negatives, in the order of the RoIs the logits were computed on; equal to
    ``bbox_head.get_targets`` on the same sampling results. Recording another output of
    get_targets (e.g. the label weights), or rows of another order, fails."""
    from mmdet.structures.bbox import bbox2roi
    model, results = step['model'], step['sampling'][0]  # the fixture's step
    bbox_head = model.student.roi_head.bbox_head
    num_classes = bbox_head.num_classes
    gt_labels = [s.gt_instances.labels for s in step['data']['data_samples']]
    expected = torch.cat([
        torch.cat([gt[r.pos_assigned_gt_inds],
                   torch.full((len(r.neg_priors), ), num_classes, dtype=torch.long)])
        for r, gt in zip(results, gt_labels, strict=True)])
    assert torch.equal(step['rois'][0], bbox2roi([r.priors for r in results]))
    assert torch.equal(step['labels'], expected)
    targets = bbox_head.get_targets(results, model.student.train_cfg.rcnn, concat=True)
    assert torch.equal(step['labels'], targets[0])
    assert 0 < (expected < num_classes).sum() < len(expected)  # positives and negatives


def test_dkd_terms_equal_the_loss_on_recorded_logits(step):
    """distill.loss_dkd_tckd/_nckd equal DKD (alpha 1, beta 0.25, T 1) on those rows."""
    tckd, nckd = dkd_loss(step['logits_S'], step['logits_T'], step['labels'], 1.0)
    assert step['losses']['distill.loss_dkd_tckd'].item() == pytest.approx(tckd.item(),
                                                                            rel=1e-5)
    assert step['losses']['distill.loss_dkd_nckd'].item() == pytest.approx(
        0.25 * nckd.item(), rel=1e-5)
    assert any(k.startswith('student.loss_') for k in step['losses'])
    assert not any(k.startswith('teacher.') for k in step['losses'])


def test_gradient_reaches_student_only(step):
    """The distill loss back-propagates into the student's RoI head, never the teacher."""
    model = step['model']
    model.zero_grad()
    losses = model(**step['data'], mode='loss')
    (losses['distill.loss_dkd_tckd'] + losses['distill.loss_dkd_nckd']).backward()
    fc = model.student.roi_head.bbox_head.fc_cls.weight.grad
    assert fc is not None and fc.abs().sum() > 0 and torch.isfinite(fc).all()
    assert all(p.grad is None for p in model.teacher.parameters())


def test_one_stage_models_are_refused():
    """A GFL student has no RoI head: the error names the role and the model."""
    gfl = Config.fromfile(osp.join(REPO, 'configs/ld/ld_gfl_digits.py')).model
    with pytest.raises(ValueError, match=r'RoIHeadDistill: the student \(GFL\) has no roi_head'):
        build(architecture=gfl.architecture.to_dict(),
              distiller=dict(type='kd_mmdet.ConfigurableDistiller'))


def test_trainable_teacher_is_refused():
    """teacher_trainable=True is rejected at build time."""
    with pytest.raises(ValueError, match='teacher_trainable'):
        build(teacher_trainable=True)
