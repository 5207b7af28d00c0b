import os

import pytest
import torch

torch.set_num_threads(min(2, os.cpu_count() or 1))


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
