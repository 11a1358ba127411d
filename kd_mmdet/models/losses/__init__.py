from .cwd_loss import CWDLoss, cwd_loss

__all__ = ['CWDLoss', 'cwd_loss']
