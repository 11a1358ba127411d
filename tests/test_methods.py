"""kd_mmdet.methods: the method a component implements, as the component declares it."""
import pytest
import torch.nn as nn

from kd_mmdet.methods import loss_method, method_of_type
from kd_mmdet.registry import MODELS


@pytest.mark.parametrize('type_name, method', [
    ('kd_mmdet.HCLLoss', 'ReviewKD'),            # declared: not its class name
    ('kd_mmdet.LDHeadLoss', 'LD'),
    ('kd_mmdet.CWDLoss', 'CWD'),                  # undeclared loss: its name without Loss
    ('mmrazor.ChannelWiseDivergence', 'CWD'),     # an upstream type CWDLoss declares
    ('KLDivergence', 'KD'),
    ('KnowledgeDistillationKLDivLoss', 'LD'),
    ('kd_mmdet.CrossKDDistill', 'CrossKD'),       # an algorithm that is a method
    ('kd_mmdet.SingleTeacherDistill', None),      # a framework, not a method
    ('GFL', None),
])
def test_components_name_their_method(type_name, method):
    assert method_of_type(type_name) == method


def test_a_new_component_is_picked_up_from_its_own_declaration():
    """A loss registered with ``method`` and ``upstream_types`` names its method and its
    peer's, with nothing else edited; gone again once unregistered."""
    class ThrowawayLoss(nn.Module):
        method = 'Throwaway KD'
        upstream_types = ('PeerThrowawayDivergence', )

    MODELS.register_module(module=ThrowawayLoss)
    try:
        assert loss_method('kd_mmdet.ThrowawayLoss') == 'Throwaway KD'
        assert loss_method('PeerThrowawayDivergence') == 'Throwaway KD'
    finally:
        MODELS.module_dict.pop('ThrowawayLoss')
    assert loss_method('kd_mmdet.ThrowawayLoss') == 'Throwaway'
    assert method_of_type('PeerThrowawayDivergence') is None
