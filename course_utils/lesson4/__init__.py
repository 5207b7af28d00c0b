"""Lesson 4, failure modes and stability: the room of everything the lesson builds and uses.

Its modules:
``stability`` (the remedies and their trainer), ``diagnostics``, ``experiments`` (failures and remedies on seeds),
``tables`` (the seed tables),
``collapse``, ``playground``, ``checks``, ``claims``.
The notebook imports from here and from ``course_utils``: two places.
"""

from ..kit.checkpoints import CheckpointError, load_history
from ..kit.data import fashion_mnist_loader
from ..kit.env import is_quick, use_threads
from ..kit.trainer import save_path
from ..lesson2.ring import (
    plot_ring_samples,
    ring_centers,
    ring_data,
    ring_diversity,
    ring_eval_fn,
    ring_loader,
    toy_models,
)
from ..measure.verdicts import D_DOMINANT_LOSS, DOMINANT_D_FAKE, MAX_MOTION, balance, sample_motion
from .checks import check_count_modes, check_diagnose, check_grad_norm, check_instance_noise, check_smoothed_d_loss
from .collapse import chase, collapse_table, fashion_collapse_claims, plot_class_histograms, warm_up_discriminator
from .diagnostics import MIN_NORM_ENTROPY, RECORDED, comparison_table, health_report, plot_traces
from .experiments import (
    FAILURES,
    FIXES,
    TOY,
    collapse_claims,
    dominance_claims,
    failure_name,
    oscillation_claims,
    plot_vanishing_gradient,
    run_group,
    seed_table,
    vanishing_claims,
    vanishing_gradient,
)
from .playground import stability_playground
from .stability import stable_g_loss, train_stable_gan
from .tables import diagnosis_evidence

__all__ = [name for name in dir() if not name.startswith("_")]
