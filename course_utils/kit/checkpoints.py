"""Checkpoints (atomic writes, ``weights_only=True`` reads), generator files from a fixed registry, histories.

Reading is ``torch.load(weights_only=True)``: a file is data and never names code to run. That holds only
on a recent torch: before 2.6 ``weights_only`` loading could execute code from a crafted file
(CVE-2025-32434; the course needs torch >= 2.6), and before 2.10 it had a memory-corruption bug a crafted
file can trigger (CVE-2026-24747). Below torch 2.10 the course therefore reads only the files it ships
(inside ``course_utils/pretrained``) and refuses every other one, saying to upgrade torch.
"""

from __future__ import annotations

import importlib
import os
import pickle
import shutil
import tempfile
from pathlib import Path

import torch

from .env import probe_writable, version_tuple

PRETRAINED_DIR = Path(__file__).resolve().parents[1] / "pretrained"
MIN_TORCH = "2.6"
"""The oldest torch the course runs on: before it, ``weights_only=True`` loading could execute code
(CVE-2025-32434). ``requirements.txt`` and the doctor say the same."""
SAFE_LOAD_TORCH = "2.10"
"""The oldest torch that reads any file safely: ``weights_only=True`` loading had a memory-corruption bug
(CVE-2026-24747) until 2.10. Below it, only the shipped files are read (:func:`loads_any_file_safely`)."""


class CheckpointError(RuntimeError):
    """A checkpoint is missing, corrupted, or does not fit the model it is loaded into."""


class CheckpointWriteError(CheckpointError, OSError):
    """A checkpoint could not be written (read-only folder, disk full, ...); the message says which."""


def free_megabytes(folder) -> float | None:
    """Free space in ``folder`` (or its nearest existing parent) in MB, or None if unknown."""
    folder = Path(folder)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free / 1e6
    except OSError:
        return None


def check_writable(path) -> Path:
    """Fail now, with a clear message, if a checkpoint cannot be written to ``path`` (lesson 3's trainers).

    Creates the folder if needed and writes (then deletes) a small probe file beside ``path``.
    """
    path = Path(path)
    try:
        probe_writable(path.parent)
    except OSError as exc:
        raise CheckpointWriteError(f"cannot write checkpoints to {path.parent} ({_first_line(exc)}): choose a "
                                   "writable folder for checkpoint_path (e.g. save_path('my_run.pt')), or set "
                                   "COURSE_RUNS_DIR to one") from exc
    return path


def save_checkpoint(path, **objects) -> Path:
    """Save models/optimizers (their ``state_dict``) and plain values (e.g. a history) to ``path``.

    The file is written to a temporary name in the same folder and renamed into place, so an
    interrupted or failed save never leaves a half-written checkpoint behind (an earlier file at
    ``path`` stays as it was). A failed write raises :class:`CheckpointWriteError` saying why.
    """
    path = Path(path)
    payload = {k: (v.state_dict() if hasattr(v, "state_dict") else v) for k, v in objects.items()}
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:
        free = free_megabytes(path.parent)
        room = f"disk full? {free:.0f} MB free there" if free is not None else "disk full?"
        raise CheckpointWriteError(f"could not write the checkpoint {path} ({_first_line(exc)}; {room}). "
                                   "Free some space or choose another folder.") from exc
    finally:
        if tmp is not None:  # gone after a successful rename; a leftover after a failure
            Path(tmp).unlink(missing_ok=True)
    return path


def loads_any_file_safely(version: str | None = None) -> bool:
    """Whether torch ``version`` (default: the running one, ``torch.__version__``) reads a file from anywhere
    safely with ``weights_only=True``, i.e. is at least :data:`SAFE_LOAD_TORCH`. Below it, the course reads
    only the files it ships."""
    version = torch.__version__ if version is None else version
    return version_tuple(version) >= version_tuple(SAFE_LOAD_TORCH)


def is_shipped(path) -> bool:
    """Whether ``path`` (links and ``..`` resolved) lies inside ``course_utils/pretrained``: a file the course ships."""
    try:
        return Path(path).resolve().is_relative_to(PRETRAINED_DIR.resolve())
    except (OSError, RuntimeError):  # a link loop, an unreadable folder
        return False


def check_loadable(path, version: str | None = None) -> None:
    """Refuse (:class:`CheckpointError`) a file the course did not ship when torch ``version`` (default: the
    running one) cannot read it safely; nothing to refuse on torch >= :data:`SAFE_LOAD_TORCH`."""
    if loads_any_file_safely(version) or is_shipped(path):
        return
    version = torch.__version__ if version is None else version
    raise CheckpointError(
        f"refusing to read {path}: with torch {version} the course reads only the files it ships. torch before "
        f"{SAFE_LOAD_TORCH} has a memory-corruption bug in its weights_only loader (CVE-2026-24747, fixed in "
        f"{SAFE_LOAD_TORCH}), so a crafted checkpoint could crash or take over Python even though the course never "
        f"unpickles code. Fix: upgrade torch: pip install -U \"torch>={SAFE_LOAD_TORCH}\" \"torchvision>=0.25\" "
        f"(in the course's .venv; on Colab or Kaggle, a runtime whose torch is {SAFE_LOAD_TORCH} or newer), then run "
        "this again.")


def _read(path: Path, map_location):
    """``torch.load(weights_only=True)`` with the course's own words for every way it can fail."""
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        if "GLOBAL" in text or "global" in text:  # the file names a Python object to import or call
            raise CheckpointError(
                f"{path} holds Python objects (a pickled class, function or module), not just tensors "
                "and plain values. The course never loads those: a checkpoint is data, never code, and "
                "loading it could run whatever its author wrote. Ask for a file written by "
                "save_checkpoint() or export_generator(), or save state_dicts yourself.") from None
        raise CheckpointError(f"{path} is not a readable checkpoint (corrupted or truncated file, or not a "
                              "PyTorch file at all). Delete it and save or copy it again.") from None
    except (RuntimeError, EOFError, ValueError, OSError) as exc:
        raise CheckpointError(f"{path} is not a readable checkpoint (corrupted or truncated file?): "
                              f"{_first_line(exc)}. Delete it and save or copy it again.") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def load_checkpoint(path, map_location="cpu", **objects) -> dict:
    """Load ``path`` with ``weights_only=True``; restore each given model/optimizer from its entry.

    ``load_checkpoint(p, G=G, opt_g=opt_g)`` restores ``G`` and ``opt_g`` and returns the whole dict.
    Files holding pickled code are refused (:class:`CheckpointError`): a checkpoint is data. Below torch
    :data:`SAFE_LOAD_TORCH`, so is every file the course did not ship (:func:`check_loadable`).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"load_checkpoint expects a file path (str or Path), got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}: check the path, or train first to create it")
    check_loadable(path)
    payload = _read(path, map_location)
    if not isinstance(payload, dict):
        raise CheckpointError(f"{path} holds a {type(payload).__name__}, expected a dict of states")
    for key, obj in objects.items():
        if key not in payload:
            raise CheckpointError(f"{path} has no entry {key!r}; it has {sorted(payload)}")
        try:
            obj.load_state_dict(payload[key])
        except (RuntimeError, ValueError, KeyError, TypeError) as exc:
            raise CheckpointError(f"checkpoint entry {key!r} in {path} does not fit the "
                                  f"{type(obj).__name__} you passed (different architecture or "
                                  f"settings?): {str(exc).splitlines()[0]}") from exc
    return payload


# The only classes a generator file may name, and the constructor arguments each accepts with
# their allowed range. A file is data: it chooses among these, it never names code to run.
# The names are stable IDs (the flat paths the shipped files were written with); GENERATOR_HOMES says
# where each class lives now, so files stay loadable whatever the package's layout.
_SIZE = (1, 4096)
GENERATOR_CLASSES = {
    "course_utils.models.Generator": {"latent_dim": _SIZE, "width": (1, 1024), "channels": (1, 4)},
    "course_utils.models.FCGenerator": {"latent_dim": _SIZE, "hidden": _SIZE},
    "course_utils.wgan.FlowerGenerator": {"latent_dim": _SIZE, "width": (1, 1024), "channels": (1, 4),
                                          "image_size": (32, 64)},
    "course_utils.conditional.ConditionalGenerator": {"latent_dim": _SIZE, "num_classes": (1, 1000),
                                                      "width": (1, 1024), "embed_dim": _SIZE,
                                                      "label_channels": (1, 1024), "channels": (1, 4)},
}


GENERATOR_HOMES = {
    "course_utils.models.Generator": "course_utils.lesson1.reference.Generator",
    "course_utils.models.FCGenerator": "course_utils.lesson1.reference.FCGenerator",
    "course_utils.wgan.FlowerGenerator": "course_utils.lesson5.wgan.FlowerGenerator",
    "course_utils.conditional.ConditionalGenerator": "course_utils.lesson6.conditional.ConditionalGenerator",
}


def _generator_class(arch: str):
    """The class for a registered ``arch`` ID (imported here: only names from the fixed table)."""
    module_name, cls_name = GENERATOR_HOMES[arch].rsplit(".", 1)
    return getattr(importlib.import_module(module_name), cls_name)


def _arch_of(G) -> str:
    here = f"{type(G).__module__}.{type(G).__qualname__}"
    arch = next((i for i, home in GENERATOR_HOMES.items() if home == here), here)
    if arch not in GENERATOR_CLASSES:
        raise TypeError(f"export_generator writes the course's generator classes only "
                        f"({', '.join(sorted(GENERATOR_CLASSES))}); got {arch}. For your own class, "
                        "save its weights with save_checkpoint(path, G=G) and rebuild it yourself.")
    return arch


def export_generator(G, path, **meta) -> Path:
    """Write a self-describing generator file that :func:`load_generator` can rebuild."""
    arch = _arch_of(G)
    kwargs = {k: getattr(G, k) for k in GENERATOR_CLASSES[arch] if hasattr(G, k)}
    state = {k: v.float().cpu() for k, v in G.state_dict().items()}
    return save_checkpoint(path, arch=arch, kwargs=kwargs, state_dict=state, meta=meta)


def _validated_kwargs(path: Path, arch, kwargs) -> dict:
    if not isinstance(arch, str) or arch not in GENERATOR_CLASSES:
        raise CheckpointError(f"{path} names the architecture {arch!r}, which is not one of the course's "
                              f"generators ({', '.join(sorted(GENERATOR_CLASSES))}); refusing to build it. "
                              "Only files written by export_generator() can be loaded this way.")
    allowed = GENERATOR_CLASSES[arch]
    if not isinstance(kwargs, dict):
        raise CheckpointError(f"{path}: 'kwargs' must be a dict of settings, got {type(kwargs).__name__}")
    for key, value in kwargs.items():
        if key not in allowed:
            raise CheckpointError(f"{path}: {arch.rsplit('.', 1)[1]} takes no setting {key!r} "
                                  f"(allowed: {', '.join(allowed)}); the file was not written by export_generator")
        lo, hi = allowed[key]
        if type(value) is not int or not lo <= value <= hi:
            raise CheckpointError(f"{path}: setting {key}={value!r} must be an int in [{lo}, {hi}]")
    return kwargs


def check_shapes(path, arch: str, cls, kwargs: dict, state) -> None:
    """Refuse (:class:`CheckpointError`, naming the first mismatch) a ``state`` whose tensors do not fit
    ``cls(**kwargs)``, without allocating the model: it is built on the meta device (shapes only, no memory).

    So a small file whose settings ask for a huge generator is refused before gigabytes are allocated.
    """
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: 'state_dict' must be a dict of tensors, got {type(state).__name__}")
    with torch.device("meta"):
        expected = cls(**kwargs).state_dict()
    model = f"{arch.rsplit('.', 1)[1]}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"
    for key, want in expected.items():
        got = state.get(key)
        if got is None:
            problem = f"it has no tensor {key!r}"
        elif not isinstance(got, torch.Tensor):
            problem = f"{key!r} is a {type(got).__name__}, not a tensor"
        elif tuple(got.shape) != tuple(want.shape):
            problem = f"{key!r} has shape {tuple(got.shape)} where the model needs {tuple(want.shape)}"
        else:
            continue
        raise CheckpointError(f"{path}: the weights do not fit {model}: {problem} (different settings, or a file "
                              "not written by export_generator?)")
    extra = next((key for key in state if key not in expected), None)
    if extra is not None:
        raise CheckpointError(f"{path}: the weights do not fit {model}: it has a tensor {extra!r} the model lacks")


def load_generator(path_or_name, device="cpu"):
    """Load a generator: a name shipped with the course (e.g. ``"fashion_dcgan"``) or a file path.

    Returns the model in eval mode on ``device``. Shipped names: see :func:`shipped_generators`.
    Only the classes in ``GENERATOR_CLASSES`` can be built, with validated settings: a generator
    file is data and never chooses code to run; its tensors' shapes are checked against the settings
    before the model is built (:func:`check_shapes`).
    """
    if not isinstance(path_or_name, (str, os.PathLike)):
        raise TypeError(f"load_generator expects a shipped name such as 'fashion_dcgan' or a path to a .pt "
                        f"file, got a {type(path_or_name).__name__}")
    path = Path(path_or_name)
    if not path.suffix:
        path = PRETRAINED_DIR / f"{path_or_name}.pt"
        if not path.is_file():
            raise CheckpointError(f"no shipped generator named {path_or_name!r}; available: "
                                  f"{shipped_generators()} (or pass a path to a .pt file)")
    payload = load_checkpoint(path)
    if "arch" not in payload or "state_dict" not in payload:
        raise CheckpointError(f"{path} is not a generator file written by export_generator (it has "
                              f"{sorted(payload)}; expected 'arch', 'kwargs', 'state_dict'). A training "
                              "checkpoint loads with load_checkpoint(path, G=G) into a G you built.")
    kwargs = _validated_kwargs(path, payload["arch"], payload.get("kwargs", {}))
    cls = _generator_class(payload["arch"])
    check_shapes(path, payload["arch"], cls, kwargs, payload["state_dict"])  # before any memory is allocated
    G = cls(**kwargs)
    try:
        G.load_state_dict(payload["state_dict"])
    except (RuntimeError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"{path}: the weights do not fit {payload['arch']}({kwargs}): "
                              f"{_first_line(exc)}") from exc
    if not isinstance(G, torch.nn.Module) or not isinstance(getattr(G, "latent_dim", None), int):
        raise CheckpointError(f"{path} did not build a generator with an int latent_dim")
    meta = payload.get("meta", {})
    G.meta = meta if isinstance(meta, dict) else {}
    return G.to(device).eval()


def shipped_generators() -> list[str]:
    """Names accepted by :func:`load_generator`."""
    return sorted(p.stem for p in PRETRAINED_DIR.glob("*.pt"))


HISTORY_DIR = PRETRAINED_DIR / "histories"


def save_history(history: dict, path) -> Path:
    """Save a training history compactly (per-step lists as float32 tensors), atomically."""
    packed = {k: (torch.tensor(v, dtype=torch.float32) if isinstance(v, list) and v
                  and isinstance(v[0], float) else v) for k, v in history.items()}
    packed["samples"] = [{"epoch": s["epoch"], "images": s["images"].half()} for s in history["samples"]]
    return save_checkpoint(path, history=packed)


def load_history(path_or_name) -> dict:
    """Load a history saved by :func:`save_history`: a file path or a shipped name (e.g. ``"fashion_dcgan"``)."""
    path = Path(path_or_name)
    if not path.suffix:
        path = HISTORY_DIR / f"{path_or_name}.pt"
    history = load_checkpoint(path)["history"]
    for k, v in history.items():
        if isinstance(v, torch.Tensor) and v.dim() == 1:
            history[k] = v.tolist()
    history["samples"] = [{"epoch": s["epoch"], "images": s["images"].float()} for s in history["samples"]]
    return history
