"""Lesson 3, training a GAN with BCE on Fashion-MNIST: the room of everything the lesson builds and uses.

Its modules:
``trainer`` (d_step, g_step, train_gan), ``analysis`` (loss statistics and verdicts), ``timing``, ``checks``,
``claims``.
The notebook imports from here and from ``course_utils``: two places.
"""

from ..kit.checkpoints import load_history, save_history
from ..kit.plotting import plot_game
from ..kit.timing import duration
from ..kit.trainer import save_path
from ..kit.widgets import latent_explorer, plot_latent_walk
from ..measure.metrics import fashion_eval_fn, quality_report
from ..measure.records import describe_shipped, load_record, print_runtimes
from .checks import check_d_step, check_g_step, check_generator_loss
from .claims import balance_claims, ema_claims, losses_vs_quality_claims, shipped_quality_claims
from .timing import predict_training_seconds

__all__ = [name for name in dir() if not name.startswith("_")]
