"""ddlib: a small PyTorch library for model-wise double descent and hard-label distillation.

Companion library of the research book reproducing *Distilling Double Descent* (Cotter, Menon,
Narasimhan, Rawat, Reddi & Zhou, 2021, arXiv:2102.06849). See the book's chapters for the
experiments; everything they do is a few calls into this package.
"""
__version__ = "0.1.0"

from .config import RunConfig, TargetConfig, TrainConfig, config_hash  # noqa: E402
from .data import DataConfig, load_data, load_pool  # noqa: E402
from .devices import resolve_device  # noqa: E402
from .models import build_model, count_params  # noqa: E402
from .runner import SweepOutcome, load_trained_model, records_frame, run_configs, tidy_frame  # noqa: E402
from .store import ResultStore  # noqa: E402
from .train import predict_logits  # noqa: E402
from .validation import ConfigError  # noqa: E402
from . import book  # noqa: E402  (the chapters' shared helpers: style, tables, glue)
from . import prose  # noqa: E402  (the chapters' words chosen on printed numbers)
from . import distill  # noqa: E402  (student configs and teacher labels: ddlib.distill.student_config, ...)

__all__ = [
    "__version__", "RunConfig", "TargetConfig", "TrainConfig", "DataConfig", "config_hash", "load_data",
    "load_pool", "resolve_device", "build_model", "count_params", "run_configs", "SweepOutcome",
    "load_trained_model", "predict_logits", "records_frame", "tidy_frame", "ResultStore", "ConfigError", "book",
    "prose", "distill",
]
