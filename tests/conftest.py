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
