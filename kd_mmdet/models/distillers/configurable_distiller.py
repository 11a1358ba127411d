"""mmrazor's ConfigurableDistiller, plus per-term loss logs, a loss-weight scale and
checks that fail when the distiller is built instead of at the first iteration.

What mmrazor 1.0's distiller cannot do, needed by several methods here:

- A loss may return a ``dict`` of named terms (FGD's fg/bg/mask/global, DKD's
  TCKD/NCKD). Each term becomes its own entry ``<loss name>_<term>``, so mmengine logs
  it separately and sums it into the total like any other loss.
- ``loss_scale`` multiplies every distillation loss; ``DistillLossWarmupHook`` sets it
  (DKD's warm-up, Zhao et al. CVPR 2022, sec. 4).

Checks (each error names the argument, the entry and the value):

- recorder sources: a function or method source must import (mmrazor looks a function
  up only at the first forward); a module or parameter source must exist in its model
  (mmrazor asserts ``"neck.x" is not in the model`` without saying which model);
- ``loss_forward_mappings``: every loss has a mapping and every mapping a loss, every
  required argument of the loss's ``forward`` is mapped, and recorders and connectors
  exist on the side they are named for;
- :meth:`ConfigurableDistiller.check_recorded_shapes`, after one forward of both models,
  compares the shapes that losses declaring ``same_shape_inputs`` would receive
  (``kd_mmdet.SingleTeacherDistill`` runs it on a zero input at construction).
"""
import difflib
import importlib
import inspect
from types import FunctionType
from typing import Any, Dict, List, Optional

from mmrazor.models.distillers import ConfigurableDistiller as _RazorConfigurableDistiller
from mmrazor.models.task_modules.recorder import (ModuleOutputsRecorder,
                                                  ParameterRecorder, RecorderManager)
from torch import Tensor, nn

from kd_mmdet.models.common.checks import describe
from kd_mmdet.registry import MODELS

FUNCTION_RECORDERS = ('FunctionOutputs', 'FunctionInputs')
METHOD_RECORDERS = ('MethodOutputs', 'MethodInputs')
_ABSENT = object()


def _did_you_mean(name: str, options) -> str:
    close = difflib.get_close_matches(name, list(options), n=3)
    return f' (did you mean {", ".join(repr(c) for c in close)}?)' if close else ''


def source_error(source: str, kind: str) -> Optional[str]:
    """Why a function (``pkg.mod.func``) or method (``pkg.mod.Class.method``) source
    cannot be recorded, or None when it can."""
    parts = source.split('.') if isinstance(source, str) else []
    depth = 2 if kind in METHOD_RECORDERS else 1
    if len(parts) <= depth:
        form = 'package.module.Class.method' if depth == 2 else 'package.module.function'
        return f'must read {form!r}'
    module_name, names = '.'.join(parts[:-depth]), parts[-depth:]
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as e:
        return f'module {module_name!r} cannot be imported ({e})'
    owner = module_name
    for name in names:
        if not hasattr(obj, name):
            return f'{owner!r} has no {name!r}{_did_you_mean(name, dir(obj))}'
        obj, owner = getattr(obj, name), f'{owner}.{name}'
    if not isinstance(obj, FunctionType):
        return f'{owner!r} is a {type(obj).__name__}, not a Python function'
    return None


def _recorder_type(cfg: Dict) -> str:
    return str(cfg.get('type', '')).split('.')[-1]


@MODELS.register_module()
class ConfigurableDistiller(_RazorConfigurableDistiller):
    """Drop-in for mmrazor's ``ConfigurableDistiller`` (same arguments).

    Attributes:
        loss_scale: factor applied to every distillation loss (1 unless a warm-up
            hook lowers it).
    """

    def __init__(self, *args, student_recorders: Optional[Dict[str, Dict]] = None,
                 teacher_recorders: Optional[Dict[str, Dict]] = None, **kwargs) -> None:
        # mmrazor builds method recorders with a bare assert and function recorders
        # without any check: look both up first.
        for arg, recorders in (('student_recorders', student_recorders),
                               ('teacher_recorders', teacher_recorders)):
            for name, cfg in (recorders or {}).items():
                kind = _recorder_type(cfg)
                if kind in FUNCTION_RECORDERS + METHOD_RECORDERS:
                    why = source_error(cfg.get('source'), kind)
                    if why:
                        raise ValueError(f'{type(self).__name__}: {arg}[{name!r}] '
                                         f'({kind}) source {cfg.get("source")!r}: {why}')
        super().__init__(*args, student_recorders=student_recorders,
                         teacher_recorders=teacher_recorders, **kwargs)
        unmapped = [n for n in self.distill_losses if n not in self.loss_forward_mappings]
        if unmapped:
            raise ValueError(f'{type(self).__name__}: distill_losses {unmapped} have no '
                             'entry in loss_forward_mappings, so they would never be '
                             'computed')
        self.loss_scale = 1.0

    def build_distill_losses(self, losses: Optional[Dict[str, Dict]] = None
                             ) -> nn.ModuleDict:
        """mmrazor's, with the entry named in the error of a loss that fails to build."""
        return self._build_each('distill_losses', losses, super().build_distill_losses)

    def build_connectors(self, connectors: Optional[Dict] = None) -> nn.ModuleDict:
        """mmrazor's, with the entry named in the error of a connector that fails."""
        return self._build_each('connectors', connectors, super().build_connectors)

    def _build_each(self, arg: str, cfgs: Optional[Dict], build) -> nn.ModuleDict:
        """``build`` one entry at a time, so that an error can say which one failed."""
        built = nn.ModuleDict()
        for name, cfg in (cfgs or {}).items():
            try:
                built.update(build({name: cfg}))
            except (KeyError, ValueError, TypeError) as e:
                raise type(e)(f'{type(self).__name__}: {arg}[{name!r}]: '
                              f'{e.args[0] if e.args else e}') from e
        return built

    def prepare_from_student(self, model: nn.Module) -> None:
        self._check_model_sources('student_recorders', self.student_recorders, model,
                                  'student')
        super().prepare_from_student(model)

    def prepare_from_teacher(self, model: nn.Module) -> None:
        self._check_model_sources('teacher_recorders', self.teacher_recorders, model,
                                  'teacher')
        super().prepare_from_teacher(model)

    def _check_model_sources(self, arg: str, manager: RecorderManager, model: nn.Module,
                             role: str) -> None:
        """Module and parameter sources must name something of ``model``."""
        for name, recorder in manager.recorders.items():
            if isinstance(recorder, ParameterRecorder):
                kind, names = 'parameter', dict(model.named_parameters())
            elif isinstance(recorder, ModuleOutputsRecorder):  # and ModuleInputs
                kind, names = 'module', dict(model.named_modules())
            else:
                continue
            if recorder.source not in names:
                raise ValueError(
                    f'{type(self).__name__}: {arg}[{name!r}] source {recorder.source!r} '
                    f'is not a {kind} of the {role} ({type(model).__name__})'
                    f'{_did_you_mean(recorder.source, names)}')

    def _check_loss_forward_mappings(self, losses: nn.ModuleDict,
                                     loss_forward_mappings: Dict[str, Dict],
                                     student_recorders: RecorderManager,
                                     teacher_recorders: RecorderManager) -> None:
        """Every loss fully mapped, to recorders and connectors that exist."""
        owner = type(self).__name__
        if not isinstance(loss_forward_mappings, dict):
            raise TypeError(f'{owner}: loss_forward_mappings must be a dict, got '
                            f'{type(loss_forward_mappings).__name__}')
        for loss_name, mapping in loss_forward_mappings.items():
            where = f'{owner}: loss_forward_mappings[{loss_name!r}]'
            if loss_name not in losses:
                raise ValueError(f'{where} names no loss of distill_losses '
                                 f'({", ".join(losses)}){_did_you_mean(loss_name, losses)}')
            if not isinstance(mapping, dict):
                raise TypeError(f'{where} must be a dict of forward arguments, got '
                                f'{type(mapping).__name__}')
            loss = losses[loss_name]
            params = inspect.signature(loss.forward).parameters
            for key in mapping:
                if key not in params:
                    raise ValueError(f'{where}: {type(loss).__name__}.forward has no '
                                     f'argument {key!r}; it takes {", ".join(params)}')
            required = [k for k, p in params.items() if p.default is p.empty and
                        p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
            missing = [k for k in required if k not in mapping]
            if missing:
                raise ValueError(f'{where}: {type(loss).__name__}.forward needs '
                                 f'{", ".join(missing)}, which the mapping does not give')
            for key, record in mapping.items():
                self._check_record_spec(f'{where}[{key!r}]', record, student_recorders,
                                        teacher_recorders)
        super()._check_loss_forward_mappings(losses, loss_forward_mappings,
                                             student_recorders, teacher_recorders)

    def _check_record_spec(self, where: str, record: Any, student_recorders: RecorderManager,
                           teacher_recorders: RecorderManager) -> None:
        if not isinstance(record, dict) or 'recorder' not in record or not isinstance(
                record.get('from_student'), bool):
            raise ValueError(f'{where} must be a dict with recorder=<name> and '
                             f'from_student=True/False, got {record!r}')
        side = 'student' if record['from_student'] else 'teacher'
        recorders = (student_recorders if record['from_student'] else
                     teacher_recorders).recorders
        if record['recorder'] not in recorders:
            raise ValueError(f'{where}: recorder {record["recorder"]!r} is not in '
                             f'{side}_recorders ({", ".join(recorders) or "none"})'
                             f'{_did_you_mean(record["recorder"], recorders)}')
        connector = record.get('connector')
        if connector is not None and connector not in self.connectors:
            raise ValueError(f'{where}: connector {connector!r} is not in connectors '
                             f'({", ".join(self.connectors) or "none"})'
                             f'{_did_you_mean(connector, self.connectors)}')

    def compute_distill_losses(self) -> Dict[str, Tensor]:
        """Every configured loss, dict results flattened to ``<name>_<term>``."""
        losses: Dict[str, Tensor] = {}
        for loss_name, forward_mappings in self.loss_forward_mappings.items():
            kwargs = {key: self.get_record(**record)
                      for key, record in forward_mappings.items()}
            result = self.distill_losses[loss_name](**kwargs)
            if isinstance(result, dict):
                for term, value in result.items():
                    losses[f'{loss_name}_{term}'] = value * self.loss_scale
            else:
                losses[loss_name] = result * self.loss_scale
        return losses

    # --- shape check on recorded tensors ---------------------------------------------
    def check_recorded_shapes(self, owner: str, context: str) -> List[str]:
        """Raise if a loss that declares ``same_shape_inputs`` would get two shapes.

        Call it after one forward of the student and the teacher under their recorders.
        Each declared argument is fetched as :meth:`get_record` would (record and data
        index, then connector); from ``same_shape_start_dim`` on, the two shapes (or the
        per-level shapes of two sequences) must be equal.

        Args:
            owner: name of the caller, first word of the error.
            context: how the tensors were produced, appended to the error.

        Returns:
            Names of the losses not checked because a recorder recorded nothing (e.g. a
            ground-truth function that a forward without targets does not call).

        Raises:
            ValueError: a shape mismatch, an index past the recorded data, or a
                connector that fails on the recorded tensor; naming the loss, the
                arguments, recorders and shapes.
        """
        skipped = []
        for loss_name, mapping in self.loss_forward_mappings.items():
            loss = self.distill_losses[loss_name]
            keys = getattr(loss, 'same_shape_inputs', ())
            if not keys or not all(k in mapping for k in keys):
                continue
            where = f'{owner}: loss_forward_mappings[{loss_name!r}]'
            values = [self._dry_record(f'{where}[{k!r}]', mapping[k]) for k in keys]
            if any(v is _ABSENT for v in values):
                skipped.append(loss_name)
                continue
            start = getattr(loss, 'same_shape_start_dim', 0)
            shapes = [_shape_from(v, start) for v in values]
            if any(s != shapes[0] for s in shapes[1:]):
                got = ' and '.join(f'{k} = {_origin(mapping[k])} {describe(v)}'
                                   for k, v in zip(keys, values))
                dims = f' from dim {start} on' if start else ''
                hint = (' — add or fix a connector (channels) or pick matching levels '
                        '(data_idx)')
                raise ValueError(f'{owner}: {loss_name} ({type(loss).__name__}) needs '
                                 f'{" and ".join(keys)} of one shape{dims}, but would get '
                                 f'{got}{hint}. Found by {context}.')
        return skipped

    def _dry_record(self, where: str, record: Dict) -> Any:
        manager = self.student_recorders if record['from_student'] else \
            self.teacher_recorders
        recorder = manager.get_recorder(record['recorder'])
        if not recorder.data_buffer:
            return _ABSENT
        try:
            data = recorder.get_record_data(record.get('record_idx', 0),
                                            record.get('data_idx'))
        except (AssertionError, IndexError, TypeError) as e:
            raise ValueError(f'{where} = {_origin(record)}: {e}') from None
        connector = record.get('connector')
        if connector is not None:
            try:
                data = self.connectors[connector](data)
            except (RuntimeError, ValueError, TypeError, AttributeError) as e:
                raise ValueError(f'{where}: connector {connector!r} '
                                 f'({type(self.connectors[connector]).__name__}) fails on '
                                 f'{_origin(record, False)} {describe(data)}: {e}') from None
        if record.get('connector_idx') is not None:
            data = data[record['connector_idx']]
        return data


def _origin(record: Dict, with_connector: bool = True) -> str:
    """``student 'fpn'[0] → connector 'fpn0'``: where a mapped argument comes from."""
    text = f"{'student' if record['from_student'] else 'teacher'} {record['recorder']!r}"
    if record.get('record_idx'):
        text += f' (call {record["record_idx"]})'
    if record.get('data_idx') is not None:
        text += f'[{record["data_idx"]}]'
    if with_connector and record.get('connector') is not None:
        text += f' → connector {record["connector"]!r}'
    return text


def _shape_from(value: Any, start: int) -> Any:
    if isinstance(value, Tensor):
        return tuple(value.shape[start:])
    if isinstance(value, (list, tuple)):
        return [_shape_from(v, start) for v in value]
    return type(value).__name__
