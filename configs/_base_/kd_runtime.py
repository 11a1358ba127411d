# Shared by every distillation config that inherits an mmdet:: training recipe.
custom_imports = dict(imports=['kd_mmdet'], allow_failed_imports=False)
# The teacher's parameters never receive gradients; DDP must not wait for them.
find_unused_parameters = True
