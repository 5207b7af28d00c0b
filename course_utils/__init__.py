"""course_utils: the tested versions of what the GAN course's lessons build, laid out as the course is taught.

    kit/        device, seeds, quick mode, data, the training loop and trainer set-up, speed choices,
                checkpoints, sampling, EMA, plotting, widgets, the checking toolkit. Knows no lesson.
    measure/    the course classifier's FID/KID, SWD, balance thresholds (verdicts), the claims toolkit,
                the one reader of shipped records. Imports only the kit.
    lessonN/    one room per lesson: ``reference`` (what the student writes), the lesson's trainer and
                tools, ``checks`` (self-checks), ``claims`` (what the lesson states, computed), and an
                ``__init__`` that is the lesson's face: a notebook imports from ``course_utils`` and
                ``course_utils.lessonN`` only. A lesson may import earlier lessons, never later ones.
    grading/    the instructor's grading command and its hidden checks.
    tools/      the doctor and forecast, the lesson builder, the hosted set-up, the notebook runner,
                the claims command.
    pretrained/ shipped generators, histories and records.

Old flat module paths (``course_utils.models``, ``course_utils.training``, ...) keep working: each is
an alias of its new home (:data:`OLD_MODULES`), and ``python -m course_utils.doctor|grade|lessons|run|claims``
runs the command in its new room.
"""

import importlib
import importlib.abc
import importlib.machinery
import sys
import types

# Old flat module -> its new home; a tuple when the old module was split (names are looked up in order).
OLD_MODULES = {
    "analysis": "lesson3.analysis",
    "archives": "kit.archives",
    "checking": "kit.checking",
    "checkpoints": "kit.checkpoints",
    "checks": ("lesson3.checks", "lesson1.checks", "lesson2.checks"),
    "claims": ("measure.claims", "tools.claims"),
    "collapse": "lesson4.collapse",
    "conditional": "lesson6.conditional",
    "conditional_checks": "lesson6.checks",
    "control": "lesson6.control",
    "data": "kit.data",
    "diagnostics": "lesson4.diagnostics",
    "doctor": "tools.doctor",
    "ema": "kit.ema",
    "env": "kit.env",
    "experiments": "lesson4.experiments",
    "flowers": "kit.flowers",
    "flowers_metric": "measure.swd",
    "forecast": "tools.forecast",
    "grade": "grading.grade",
    "grade_files": "grading.files",
    "grade_kernel": "grading.worker",
    "grade_lessons": "grading.exercises",
    "grade_report": "grading.report",
    "grading_hidden": "grading.hidden",
    "graphs": "kit.graphs",
    "hosted": "tools.hosted",
    "lesson_claims": ("tools.claims", "lesson1.claims", "lesson2.claims", "lesson3.claims", "lesson4.claims",
                      "lesson5.claims", "lesson6.claims", "measure.records", "measure.claims"),
    "lessons": "tools.lessons",
    "loop": "kit.loop",
    "metrics": "measure.metrics",
    "models": ("lesson1.reference", "lesson2.reference"),
    "playground": "lesson4.playground",
    "plotting": "kit.plotting",
    "records": "measure.records",
    "run": "tools.run",
    "sampling": "kit.sampling",
    "speed": "kit.speed",
    "stability": "lesson4.stability",
    "stability_checks": "lesson4.checks",
    "theory": ("lesson2.theory", "lesson5.theory"),
    "toy": "lesson2.ring",
    "trainer_kit": "kit.trainer",
    "training": ("lesson3.trainer", "lesson2.reference", "kit.smoothing"),
    "verdicts": ("measure.verdicts", "kit.smoothing"),
    "wgan": "lesson5.wgan",
    "wgan_checks": "lesson5.checks",
    "widgets": "kit.widgets",
}
COMMANDS = {"doctor": "tools.doctor", "grade": "grading.grade", "lessons": "tools.lessons", "run": "tools.run",
            "claims": "tools.claims"}


def _real(name: str) -> types.ModuleType:
    return importlib.import_module(f"{__name__}.{name}")


class _Composite(types.ModuleType):
    """An old module that was split: its names are looked up in the new homes, in order."""

    def __init__(self, name: str, homes: tuple):
        super().__init__(name, f"Old path of {', '.join(f'{__name__}.{h}' for h in homes)} (kept working).")
        self._homes = homes

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        for home in self._homes:
            module = _real(home)
            if hasattr(module, attr):
                return getattr(module, attr)
        raise AttributeError(f"module {self.__name__!r} has no attribute {attr!r}")

    def __dir__(self):
        return sorted({n for h in self._homes for n in dir(_real(h))})


class _OldPathLoader(importlib.abc.Loader):
    def __init__(self, old: str):
        self.old = old

    def create_module(self, spec):
        home = OLD_MODULES[self.old]
        if isinstance(home, tuple):
            return _Composite(spec.name, home)
        module = _real(home)  # the very module object: classes, monkeypatching and reloads stay one
        self.real_spec = module.__spec__
        return module

    def exec_module(self, module):
        if hasattr(self, "real_spec"):  # importlib stamped the alias's spec on the real module: undo it
            module.__spec__ = self.real_spec
            module.__loader__ = self.real_spec.loader

    def get_code(self, fullname):  # python -m course_utils.<command>
        if self.old not in COMMANDS:
            raise ImportError(f"{fullname} is not a command; the commands are {', '.join(COMMANDS)}")
        target = f"{__name__}.{COMMANDS[self.old]}"
        return compile(f"import runpy\nrunpy.run_module({target!r}, run_name='__main__', alter_sys=True)\n",
                       f"<{fullname}>", "exec")

    def is_package(self, fullname):
        return False


class _OldPathFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        prefix = __name__ + "."
        if not fullname.startswith(prefix) or fullname[len(prefix):] not in OLD_MODULES:
            return None
        old = fullname[len(prefix):]
        return importlib.machinery.ModuleSpec(fullname, _OldPathLoader(old))


def __getattr__(name: str):
    """``course_utils.models`` and the other old flat modules as attributes, as before (imported on first use)."""
    if name in OLD_MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def machine_check() -> int:
    """Lesson 1's machine check: what the lessons need, in one line when all is well (no timing)."""
    from .tools.doctor import machine_check as check

    return check()


def lesson_plan(lesson: int, steps: int = 5) -> None:
    """Each section of lesson ``lesson`` with its minutes on this machine, predicted from a few timed steps (see
    :mod:`course_utils.tools.sections`); in quick mode, one line instead (the minutes are for full settings)."""
    if is_quick():
        print("quick mode: each section's minutes at full settings are printed without COURSE_QUICK")
        return
    from .tools.sections import lesson_plan as plan

    plan(lesson, steps)


def doctor_report(short: bool = True) -> int:
    """The doctor's report on this machine (lesson 1's machine check; ``python -m course_utils.doctor``)."""
    from .tools.doctor import report

    return report(short=short)


def finish_setup(hosted: bool | None = None, colab: bool | None = None, installed: list | None = None) -> None:
    """The lessons' setup cell, once course_utils imports (see :func:`course_utils.tools.hosted.finish_setup`)."""
    from .tools.hosted import finish_setup as finish

    finish(hosted, colab, installed)


if not any(isinstance(f, _OldPathFinder) for f in sys.meta_path):
    sys.meta_path.insert(0, _OldPathFinder())

from .kit.checkpoints import (CheckpointError, export_generator, load_checkpoint, load_generator,  # noqa: E402
                              load_history, save_checkpoint, save_history, shipped_generators)
from .kit.data import (FASHION_CLASSES, DataNotFoundError, TensorLoader, fashion_mnist_dataset,  # noqa: E402
                       fashion_mnist_loader, fashion_mnist_tensors)
from .kit.env import get_device, is_quick, quick, quick_banner, seed_everything  # noqa: E402
from .kit.loop import last_history  # noqa: E402
from .kit.plotting import plot_checkpoints, plot_losses, plot_metric, show_grid  # noqa: E402
from .kit.sampling import sample  # noqa: E402
from .kit.smoothing import LOG2, smooth  # noqa: E402
from .measure.claims import statements_checked  # noqa: E402
from .lesson1.reference import FCGenerator, Generator, count_parameters, init_weights, sample_latent  # noqa: E402
from .lesson2.reference import Discriminator, discriminator_loss  # noqa: E402
from .lesson3.analysis import (assess_equilibrium, convergence_analysis, convergence_checklist,  # noqa: E402
                               loss_statistics, print_loss_statistics)
from .lesson3.trainer import d_step, g_step, generator_loss, train_gan  # noqa: E402

__all__ = [name for name in dir() if not name.startswith("_") and name not in
           ("importlib", "sys", "types", "OLD_MODULES", "COMMANDS")] + sorted(OLD_MODULES)
