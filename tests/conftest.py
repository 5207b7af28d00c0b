import os

import pytest
import torch


def _own_cores() -> None:
    """Under pytest-xdist (``python3 course.py test``), each worker keeps to its share of the cores, and so do the
    kernels, sandboxes and browsers it starts (they inherit it): a notebook that asks for every core then gets its
    share, instead of its threads fighting the other worker's (measured: lesson 4's Fashion-MNIST cell 16 s alone,
    163 s with two unpinned workers on 2 cores)."""
    worker, count = os.environ.get("PYTEST_XDIST_WORKER", ""), int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if count < 2 or not worker.startswith("gw") or not hasattr(os, "sched_setaffinity"):
        return
    cores = sorted(os.sched_getaffinity(0))
    share = [c for i, c in enumerate(cores) if i % count == int(worker[2:]) % count]
    if share:
        os.sched_setaffinity(0, share)


_own_cores()
torch.set_num_threads(min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


@pytest.fixture
def real_data_dir():
    """The pre-fetched data folder (CI sets COURSE_DATA_DIR); tests that need real data skip without it."""
    value = os.environ.get("COURSE_DATA_DIR")
    if not value:
        pytest.skip("COURSE_DATA_DIR is not set: no real Fashion-MNIST here")
    return value


@pytest.fixture
def tiny_loader():
    """256 random 'images' in a TensorLoader: enough to run a few training steps fast."""
    from course_utils import TensorLoader

    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (256, 1, 28, 28), generator=g, dtype=torch.uint8)
    return TensorLoader(images, batch_size=32, seed=0)


def _status_of(claims, name):
    found = [c for c in claims if c.name == name]
    assert found, f"no claim named {name!r} among {[c.name for c in claims]}"
    return found[0].status


@pytest.fixture
def must_fail():
    """``must_fail(claims, "name")``: the named claim FAILs. A falsification test feeds a claim a doctored run or
    record in which its printed sentence is false; ``tests/tools/test_claims.py`` checks that every claim the
    package states has one (it reads the names given to this fixture)."""
    def check(claims, name):
        assert _status_of(claims, name) == "FAIL", f"{name} should FAIL on the doctored input"
    return check


@pytest.fixture
def must_pass():
    """``must_pass(claims, "name")``: the named claim PASSes (the undoctored input of a falsification test)."""
    def check(claims, name):
        assert _status_of(claims, name) == "PASS", f"{name} should PASS on the undoctored input"
    return check
