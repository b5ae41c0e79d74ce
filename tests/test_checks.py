"""The checks the tests fail with: exact types, with torchvision's own data types accepted as the tensors they are."""

import pytest
import torch
from torchvision import tv_tensors

from autograder.checks import check_tensor, check_type


class Agreeable(torch.Tensor):
    def __eq__(self, other):
        return True


class AgreeableImage(tv_tensors.Image):
    def __eq__(self, other):
        return True


@pytest.mark.parametrize("kind", [tv_tensors.Image, tv_tensors.Mask, tv_tensors.Video])
def test_torchvision_data_types_pass_as_the_plain_tensor_they_wrap(kind):
    data = torch.rand(1, 3, 4, 5)
    found = check_tensor(kind(data), "the output", shape=(1, 3, 4, 5), dtype=torch.float32)
    assert type(found) is torch.Tensor and torch.equal(found, data)


@pytest.mark.parametrize("liar", [Agreeable, AgreeableImage])
def test_subclasses_that_lie_about_comparisons_are_refused(liar):
    with pytest.raises(pytest.fail.Exception, match="a subclass of torch.Tensor: return a plain torch.Tensor"):
        check_tensor(torch.rand(2).as_subclass(liar), "the output")


def test_a_tensor_is_not_accepted_where_another_type_is_expected():
    with pytest.raises(pytest.fail.Exception, match="expected the loss to be a float, found torchvision.tv_tensors._image.Image"):
        check_type(tv_tensors.Image(torch.rand(1, 2, 2)), float, "the loss")
