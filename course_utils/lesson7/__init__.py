"""Lesson 7, controllable generation: the room of everything the lesson builds and uses.

Its modules:
``latent`` (walks, truncation, directions and edits in ``z``), ``optimize`` (steering towards a class, inversion),
``effects`` (each kind of control measured, one dict per seed), ``pictures``, ``explorer`` (sliders along the
directions found), ``checks`` and ``opt_checks`` (self-checks), ``claims``.
The notebook imports from here and from ``course_utils``: two places.
"""

from ..kit.data import to_unit_range
from ..lesson6.judge import judge_images, load_judge
from ..measure.metrics import load_classifier
from .checks import check_find_direction, check_interpolate, check_truncated_sample
from .claims import (
    AVOID,
    SETTINGS,
    SOURCE,
    TARGET,
    direction_claims,
    inversion_claims,
    orthogonal_claims,
    steer_claims,
    truncation_claims,
    walk_claims,
)
from .effects import (
    PSIS,
    direction_measurements,
    inversion_measurements,
    precision_recall,
    steer_measurements,
    truncation_sweep,
    walk_measurements,
)
from .explorer import direction_explorer, plot_directions
from .latent import (
    class_latents,
    edit,
    find_direction,
    generate,
    interpolate,
    orthogonalize,
    predict,
    prior_shell,
    truncate,
    truncated_sample,
)
from .opt_checks import check_invert, check_steer
from .optimize import invert, reconstruction_error, steer
from .pictures import plot_edits, plot_inversion, plot_shares, plot_steering, plot_truncation, plot_walks

__all__ = [name for name in dir() if not name.startswith("_")]
