"""Lesson 2, the discriminator: the room of everything the lesson builds and uses.

Its modules:
``reference`` (the discriminator, its loss), ``ring`` (the ring of 8 Gaussians), ``theory`` (the optimal D),
``checks``, ``claims``.
The notebook imports from here and from ``course_utils``: two places.
"""

from ..kit.env import use_threads
from .checks import check_discriminator, check_discriminator_loss
from .claims import lesson2_chance, optimal_d_claims
from .theory import optimal_d, train_d_against

__all__ = [name for name in dir() if not name.startswith("_")]
