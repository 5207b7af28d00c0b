"""course_utils: the tested versions of what the GAN course's lessons build, plus the plumbing.

Each public function says in its docstring which lesson built it. Lessons import from here what
earlier lessons wrote, so lesson N+1 starts from a known-good version.

Module -> lesson (the same table is in CONTRIBUTING.md)

==================  =====  =====================================================================
module              lesson what it holds
==================  =====  =====================================================================
env                 1      device, seeding, quick mode, ``cpu_name``
models              1, 2   the reference G (``FCGenerator``, ``Generator``) and D (``Discriminator``)
data, archives      1      Fashion-MNIST under the data policy; checksums of the archives
training            2, 3   BCE losses, ``d_step``, ``g_step``, ``train_gan``
analysis            3      loss statistics, convergence checklist, equilibrium verdict
verdicts            3, 4   one diagnosis: every balance threshold and measurement (checklist + health report)
metrics             3, 4   the course classifier, FID/KID, class histograms and coverage
sampling            3      ``sample(G, n)``
checks              1-3    self-checks of lessons 1-3
stability           4      ``train_stable_gan`` and the fixes (smoothing, instance noise, ...)
diagnostics         4      gradient norms, diversity, the health report
toy, playground     4      the ring of 8 Gaussians; the stability playground widget
collapse            4      mode collapse read off the Fashion-MNIST class histogram
stability_checks    4      self-checks of lesson 4
wgan, wgan_checks   5      critic, gradient penalty, ``train_wgan_gp``; lesson 5's self-checks
flowers, ..._metric 5      Oxford 102 Flowers under the data policy; the SWD metric
theory              2, 5   the optimal D on the ring; JS vs W1; weight clipping vs the gradient penalty
experiments         4      the failures and fixes run on several seeds, the vanishing-gradient demo
conditional         6      ``ConditionalGenerator``, ``ProjectionDiscriminator``, the steps, ``train_conditional_gan``
conditional_checks  6      lesson 6's self-checks (label ignored, labels not shared, not uniform, no detach)
control             6      measured control: agreement with the requested class, confusion matrix, per-class FID
------------------  -----  ---------------------------------------------------------------------
trainer_kit         3-6    shared by every trainer: set-up, resume rule, fit with dashboard, checkpoints
speed               3-6    ``amp``/``channels_last`` "auto": timed on this machine, fastest kept, cached
graphs              3      ``cuda_graphs`` "auto": a whole step replayed as one CUDA graph where measured faster
ema                 3, 5   an EMA of G's weights with its own BatchNorm statistics (``ema_update``, ``recompute_bn``)
loop                3-6    the training loop: progress, statistics, interrupts, NaN stop
checking            1-6    the checking toolkit: ``CheckReport``, calling student code, variants
checkpoints         3-6    checkpoints (atomic, ``weights_only``), generator files, histories
plotting, widgets   1-6    pictures, the latent explorer and the live dashboard
lessons, run        -      generate lessons from solutions; run a notebook headless
claims              1-6    claims as code: ``claim``, ``python -m course_utils.claims [--quick]``
lesson_claims       1-6    what each lesson claims about its runs, computed (the registry)
records             3-6    measured runtimes per machine (``pretrained/runtimes.json``)
hosted              -      the lessons' setup cell (installs course_utils on Colab/Kaggle), Colab links
doctor, forecast    -      ``python -m course_utils.doctor``: checks the set-up, predicts each lesson's run time
grade, grade_*,     -      the instructor's grading command and its hidden checks
grading_hidden
==================  =====  =====================================================================
"""

from .analysis import (assess_equilibrium, convergence_analysis, convergence_checklist, loss_statistics,
                       print_loss_statistics)
from .checkpoints import (CheckpointError, export_generator, load_checkpoint, load_generator, load_history,
                          save_checkpoint, save_history, shipped_generators)
from .data import (FASHION_CLASSES, DataNotFoundError, TensorLoader, fashion_mnist_dataset, fashion_mnist_loader,
                   fashion_mnist_tensors)
from .env import get_device, is_quick, quick, quick_banner, seed_everything
from .models import Discriminator, FCGenerator, Generator, count_parameters, init_weights, sample_latent
from .sampling import sample
from .loop import last_history
from .plotting import plot_checkpoints, plot_losses, plot_metric, show_grid
from .verdicts import smooth
from .training import LOG2, d_step, discriminator_loss, g_step, generator_loss, train_gan

__all__ = [name for name in dir() if not name.startswith("_")]
