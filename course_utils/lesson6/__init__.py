"""Lesson 6, the conditional GAN: the room of everything the lesson builds and uses.

Its modules:
``conditional`` (conditional G, projection D, the steps, the trainer), ``control`` (measured control),
``judge`` (an independent classifier's view of control), ``timing``, ``checks`` and ``class_checks`` (the
class term's exercises), ``claims``.
The notebook imports from here and from ``course_utils``: two places.
"""

from ..kit.checkpoints import load_history, save_checkpoint, save_history
from ..kit.plotting import plot_checkpoints, plot_losses
from ..kit.timing import duration
from ..kit.trainer import save_path
from ..kit.widgets import latent_explorer, plot_class_grid
from ..measure.records import describe_shipped, load_levers, print_runtimes
from .checks import (
    check_conditional_d_step,
    check_conditional_g_step,
    check_conditional_generator,
    check_projection_discriminator,
)
from .claims import (
    class_term_claims,
    control_claims,
    judge_claims,
    lesson6_measurements,
    style_claims,
    versus_unconditional_claims,
)
from .class_checks import check_class_loss_d_step, check_class_loss_g_step
from .conditional import ClassHeadDiscriminator, random_labels, train_conditional_gan
from .control import conditional_eval_fn, control_report, within_class_diversity
from .judge import honest_control, print_honest_control
from .timing import predict_conditional_training_seconds

__all__ = [name for name in dir() if not name.startswith("_")]
