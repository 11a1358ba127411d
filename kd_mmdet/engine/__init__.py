from .hooks import *  # noqa: F401,F403
from .optim import *  # noqa: F401,F403
