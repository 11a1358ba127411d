from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub

from kd_mmdet.engine.hooks import DistillLossWarmupHook


def fake_runner(distiller, epoch=0, it=0):
    model = torch.nn.Module()
    model.distiller = distiller
    return SimpleNamespace(model=model, epoch=epoch, iter=it,
                           message_hub=MessageHub.get_instance('warmup_test'))


@pytest.mark.parametrize('epoch,expected', [(0, 0.05), (9, 0.5), (19, 1.0), (40, 1.0)])
def test_epoch_warmup_follows_dkd(epoch, expected):
    """min(epoch / 20, 1) with 1-based epochs, as in the official DKD code."""
    distiller = SimpleNamespace(loss_scale=1.0)
    runner = fake_runner(distiller, epoch=epoch)
    DistillLossWarmupHook(warmup_epochs=20).before_train_iter(runner, 0)
    assert distiller.loss_scale == pytest.approx(expected)
    assert runner.message_hub.get_scalar('train/distill_loss_scale').current() == \
        pytest.approx(expected)


def test_iteration_warmup():
    distiller = SimpleNamespace(loss_scale=1.0)
    DistillLossWarmupHook(warmup_iters=100).before_train_iter(
        fake_runner(distiller, it=49), 0)
    assert distiller.loss_scale == pytest.approx(0.5)


def test_plain_mmrazor_distiller_is_refused_before_training():
    """A distiller without loss_scale fails in before_train, naming what is needed."""
    with pytest.raises(TypeError, match='kd_mmdet.ConfigurableDistiller'):
        DistillLossWarmupHook(warmup_epochs=5).before_train(fake_runner(object()))


@pytest.mark.parametrize('kwargs', [dict(), dict(warmup_epochs=5, warmup_iters=5),
                                    dict(warmup_epochs=0)])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError, match='DistillLossWarmupHook'):
        DistillLossWarmupHook(**kwargs)
