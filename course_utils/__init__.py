"""course_utils: the tested versions of what the GAN course's lessons build, plus the plumbing.

Each public function says in its docstring which lesson built it. Lessons import from here what
earlier lessons wrote, so lesson N+1 starts from a known-good version.
"""

from .analysis import (assess_equilibrium, convergence_analysis, convergence_checklist, loss_statistics,
                       print_loss_statistics, smooth)
from .checkpoints import (CheckpointError, export_generator, load_checkpoint, load_generator, load_history,
                          save_checkpoint, save_history, shipped_generators)
from .data import (FASHION_CLASSES, DataNotFoundError, TensorLoader, fashion_mnist_dataset, fashion_mnist_loader,
                   fashion_mnist_tensors)
from .env import get_device, is_quick, quick, quick_banner, seed_everything
from .models import Discriminator, FCGenerator, Generator, count_parameters, init_weights, sample_latent
from .sampling import sample
from .plotting import plot_checkpoints, plot_losses, plot_metric, show_grid
from .training import LOG2, d_step, discriminator_loss, g_step, generator_loss, train_gan

__all__ = [name for name in dir() if not name.startswith("_")]
