"""Lesson 5, WGAN-GP on flowers: the room of everything the lesson builds and uses.

Its modules:
``wgan`` (critic, gradient penalty, train_wgan_gp), ``theory`` (JS vs W1, clipping vs GP), ``checks``,
``claims``.
The notebook imports from here and from ``course_utils``: two places.
"""

from ..kit.env import use_threads
from ..kit.flowers import flowers_loader, flowers_tensors
from ..kit.plotting import plot_checkpoints
from ..kit.trainer import save_path
from ..kit.widgets import latent_explorer, plot_latent_walk
from ..lesson1.reference import count_parameters
from ..measure.records import describe_shipped, print_runtimes
from ..measure.swd import swd_floor, swd_of_generator
from . import wgan
from .checks import check_critic, check_critic_loss, check_gradient_penalty, check_wgan_generator_loss, check_wgan_step
from .claims import clipping_vs_gp_claims, flowers_cpu_claims, js_w1_claims
from .theory import train_critic, uniform_js_w1
from .wgan import FlowerGenerator, plot_wgan_history, train_wgan_gp

__all__ = [name for name in dir() if not name.startswith("_")]
