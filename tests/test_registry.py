"""kd_mmdet.registry: unknown `kd_mmdet.*` names fail with what kd_mmdet has."""
import pytest
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import init_default_scope
from mmrazor.registry import MODELS as RAZOR_MODELS


def test_misspelt_loss_from_mmrazor_scope_names_close_kd_mmdet_names():
    """From mmrazor's registry (where distillers build losses) a typo gets suggestions."""
    init_default_scope('mmrazor')
    with pytest.raises(KeyError, match=r'kd_mmdet\.CWDLos is not a registered kd_mmdet '
                                       r'model \(did you mean kd_mmdet\.CWDLoss'):
        RAZOR_MODELS.build(dict(type='kd_mmdet.CWDLos', tau=1.0))


def test_unknown_name_lists_the_registered_ones():
    """No close match: the message lists every kd_mmdet model instead."""
    with pytest.raises(KeyError, match=r'kd_mmdet\.Nope is not a registered kd_mmdet '
                                       r'model; kd_mmdet models: .*CWDLoss.*'
                                       r'SingleTeacherDistill'):
        RAZOR_MODELS.build(dict(type='kd_mmdet.Nope'))


def test_misspelt_hook_names_the_hook_registry():
    with pytest.raises(KeyError, match=r'kd_mmdet\.DistillLossWarmupHok is not a '
                                       r'registered kd_mmdet hook \(did you mean '
                                       r'kd_mmdet\.DistillLossWarmupHook'):
        MMENGINE_HOOKS.build(dict(type='kd_mmdet.DistillLossWarmupHok', warmup_iters=2))


def test_known_names_and_membership_still_work():
    """Registered names build; `in` stays a yes/no question."""
    assert type(RAZOR_MODELS.build(dict(type='kd_mmdet.CWDLoss'))).__name__ == 'CWDLoss'
    from kd_mmdet.registry import MODELS
    assert 'CWDLoss' in MODELS and 'Nope' not in MODELS
    assert MODELS.get('mmdet.ResNet').__name__ == 'ResNet'  # other scopes untouched
