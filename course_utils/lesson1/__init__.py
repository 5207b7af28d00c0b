"""Lesson 1, the generator: the room of everything the lesson builds and uses.

Its modules:
``reference`` (latent vectors, the FC and conv generators), ``checks``, ``claims``.
The notebook imports from here and from ``course_utils``: two places.
"""

from ..kit.data import to_unit_range
from .checks import check_generator, check_parameter_count, check_sample_latent
from .claims import lesson1_facts

__all__ = [name for name in dir() if not name.startswith("_")]
