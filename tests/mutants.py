"""Edits of the solution modules: realistic mistakes, and correct solutions written differently.

An edit names the module it changes and the exact text it replaces (which
must occur in the solution, so an edit cannot silently stop applying).
A *mutant* is a mistake: it also names the autograder test meant to catch
it and words that the failure message must contain, so the student learns
what the mistake was. A *variant* is correct and must keep full marks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"


@dataclass(frozen=True)
class Variant:
    name: str
    module: str
    edits: tuple[tuple[str, str], ...]  # (old, new): every occurrence of old is replaced

    def source(self) -> str:
        text = (SOLUTIONS / f"{self.module}.py").read_text()
        for old, new in self.edits:
            if old not in text:
                raise ValueError(f"mutant {self.name!r}: {old!r} is not in solutions/{self.module}.py")
            text = text.replace(old, new)
        return text

    def write(self, folder: Path) -> Path:
        """Write the mutated module into ``folder`` and return the folder."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{self.module}.py").write_text(self.source())
        return folder


@dataclass(frozen=True)
class Mutant(Variant):
    caught_by: str  # the autograder test (name with any [parameters]) that must fail
    message_names: str  # text the failure message must contain


RELU = "            nn.ReLU(inplace=True),\n"
AFFINE = "            transforms.RandomAffine(degrees=20, translate=(0.15, 0.15), scale=(0.9, 1.1), fill=0),\n"
COLOUR_JITTER = "            transforms.ColorJitter(brightness=0.3, contrast=0.3),\n"
TRAIN_TAIL = "            ColourCast(strength=0.3),\n            transforms.Normalize(MNIST_MEAN, MNIST_STD),\n"
TEST_HEAD = "            transforms.Resize((image_size, image_size)),\n            to_rgb,\n            transforms.ToTensor(),\n"
TEST_TAIL = "            transforms.ToTensor(),\n            transforms.Normalize(MNIST_MEAN, MNIST_STD),\n"

MUTANTS = [
    # Part 1: network.py
    Mutant(
        "relu missing after conv 3",
        "network",
        (("nn.Conv2d(48, 96, kernel_size=3, padding=1),\n" + RELU, "nn.Conv2d(48, 96, kernel_size=3, padding=1),\n"),),
        "test_relu_after_every_hidden_layer",
        "a ReLU is missing after features.6",
    ),
    Mutant(
        "no relu at all",
        "network",
        (("nn.ReLU(inplace=True)", "nn.Identity()"),),
        "test_relu_after_every_hidden_layer",
        "a ReLU is missing after features.0",
    ),
    Mutant(
        "dropout missing",
        "network",
        (("            nn.Dropout(p=dropout),\n", ""),),
        "test_dropout_is_active_in_train_mode_and_off_in_eval_mode",
        "dropout is missing",
    ),
    Mutant(
        "dropout on in eval mode",
        "network",
        (("x = torch.flatten(x, 1)", "x = nn.functional.dropout(torch.flatten(x, 1), p=0.5, training=True)"),),
        "test_dropout_is_active_in_train_mode_and_off_in_eval_mode",
        "dropout stays on in eval mode",
    ),
    Mutant(
        "dropout probability hard-coded",
        "network",
        (("nn.Dropout(p=dropout)", "nn.Dropout(p=0.5)"),),
        "test_dropout_argument_zero_turns_dropout_off",
        "hard-coded",
    ),
    Mutant(
        "wrong in_features",
        "network",
        (("nn.Linear(64 * 3 * 3, 256)", "nn.Linear(64 * 6 * 6, 256)"),),
        "test_classifier_linear_layers",
        "in_features",
    ),
    Mutant(
        "num_classes hard-coded",
        "network",
        (("nn.Linear(256, num_classes)", "nn.Linear(256, 10)"),),
        "test_num_classes_sets_the_last_layer",
        "num_classes",
    ),
    Mutant(
        "features detached from the gradient",
        "network",
        (("x = self.avgpool(x)", "x = self.avgpool(x).detach()"),),
        "test_every_parameter_gets_a_finite_nonzero_gradient",
        "detached",
    ),
    Mutant(
        "softmax in forward",
        "network",
        (("return self.classifier(x)", "return torch.softmax(self.classifier(x), dim=1)"),),
        "test_forward_returns_logits_not_probabilities",
        "forward applies softmax",
    ),
    # Part 2: training.py
    Mutant(
        "adam instead of adamw",
        "training",
        (("torch.optim.AdamW(model.parameters(), lr=lr)", "torch.optim.Adam(model.parameters(), lr=lr, weight_decay=0.01)"),),
        "test_make_optimizer_is_adamw_with_the_given_lr",
        "AdamW",
    ),
    Mutant(
        "step schedule hard-coded",
        "training",
        (("StepLR(optimizer, step_size=step_size, gamma=gamma)", "StepLR(optimizer, step_size=4, gamma=0.5)"),),
        "test_make_scheduler_learning_rate_trace_over_12_epochs[3-0.1]",
        "step_size and gamma",
    ),
    Mutant(
        "zero_grad missing",
        "training",
        (("        optimizer.zero_grad()  # gradients add up in .grad unless cleared\n", ""),),
        "test_train_one_epoch_zeroes_gradients_every_step",
        "never zeroed",
    ),
    Mutant(
        "zero_grad between backward and step",
        "training",
        (
            ("        optimizer.zero_grad()  # gradients add up in .grad unless cleared\n", ""),
            ("        loss.backward()\n", "        loss.backward()\n        optimizer.zero_grad()\n"),
        ),
        "test_train_one_epoch_zeroes_gradients_every_step",
        "after loss.backward()",
    ),
    Mutant(
        "optimizer step missing",
        "training",
        (("        optimizer.step()\n", ""),),
        "test_train_one_epoch_zeroes_gradients_every_step",
        "optimizer.step() called once per batch",
    ),
    Mutant(
        "train mode forgotten",
        "training",
        (("    model.train()  # dropout (and batch norm) behave as in training\n", ""),),
        "test_train_one_epoch_uses_train_mode",
        "model.train()",
    ),
    Mutant(
        "loss tensors summed with their graphs",
        "training",
        (
            ("total_loss += loss.item() * len(labels)", "total_loss += loss * len(labels)"),
            ("    return total_loss / total_examples\n", "    return float(total_loss / total_examples)\n"),
        ),
        "test_train_one_epoch_keeps_no_graph_alive",
        "loss.item()",
    ),
    Mutant(
        "mean loss returned as a tensor",
        "training",
        (("total_loss += loss.item() * len(labels)", "total_loss += loss.detach() * len(labels)"),),
        "test_train_one_epoch_returns_mean_loss_as_python_float",
        "Python float",
    ),
    Mutant(
        "eval mode forgotten",
        "training",
        (("    model.eval()  # dropout off\n", ""),),
        "test_evaluate_uses_eval_mode",
        "model.eval()",
    ),
    Mutant(
        "no_grad missing in evaluate",
        "training",
        (("with torch.no_grad():  # no graph: less memory, faster", "if True:"),),
        "test_evaluate_runs_without_gradients",
        "torch.no_grad()",
    ),
    Mutant(
        "accuracy averaged over batches",
        "training",
        (
            (
                "correct += (logits.argmax(dim=1) == labels).sum().item()",
                "correct += (logits.argmax(dim=1) == labels).float().mean().item()",
            ),
            ("correct / total_examples", "correct / len(loader)"),
        ),
        "test_evaluate_counts_accuracy_over_examples",
        "per-batch accuracies",
    ),
    Mutant(
        "scheduler stepped every batch",
        "training",
        (("        scheduler.step()  # once per epoch", "        for _ in train_loader:\n            scheduler.step()  #"),),
        "test_fit_steps_the_scheduler_once_per_epoch",
        "once per batch",
    ),
    Mutant(
        "scheduler never stepped",
        "training",
        (("        scheduler.step()  # once per epoch: StepLR counts epochs\n", ""),),
        "test_fit_steps_the_scheduler_once_per_epoch",
        "no call",
    ),
    # Part 3: augmentation.py
    Mutant(
        "horizontal flip",
        "augmentation",
        ((COLOUR_JITTER, COLOUR_JITTER + "            transforms.RandomHorizontalFlip(),\n"),),
        "test_no_flips_or_large_rotations",
        "flips images horizontally",
    ),
    Mutant(
        "vertical flip",
        "augmentation",
        ((COLOUR_JITTER, COLOUR_JITTER + "            transforms.RandomVerticalFlip(),\n"),),
        "test_no_flips_or_large_rotations",
        "flips images vertically",
    ),
    Mutant(
        "the lecture's flips and quarter turns",
        "augmentation",
        (
            (
                AFFINE,
                "            transforms.RandomHorizontalFlip(),\n"
                "            transforms.RandomChoice([transforms.RandomRotation((a, a)) for a in (0, 90, 180, 270)]),\n",
            ),
        ),
        "test_no_flips_or_large_rotations",
        "rotates images by 90 degrees or more",
    ),
    Mutant(
        "rotations up to 180 degrees",
        "augmentation",
        (("degrees=20", "degrees=180"),),
        "test_no_flips_or_large_rotations",
        "rotates images by 90 degrees or more",
    ),
    Mutant(
        "augmentation in the test transform",
        "augmentation",
        (('every call.\n    """\n    return transforms.Compose(', 'every call.\n    """\n    return train_transform(image_size)\n    return transforms.Compose('),),
        "test_test_transform_is_deterministic",
        "augmentation in the test transform",
    ),
    Mutant(
        "test transform not normalised",
        "augmentation",
        ((TEST_TAIL, "            transforms.ToTensor(),\n"),),
        "test_test_transform_output",
        "not normalised",
    ),
    Mutant(
        "test transform keeps one channel",
        "augmentation",
        ((TEST_HEAD, "            transforms.Resize((image_size, image_size)),\n            transforms.ToTensor(),\n"),),
        "test_test_transform_output",
        "3 channels",
    ),
    Mutant(
        "train transform not normalised",
        "augmentation",
        ((TRAIN_TAIL, "            ColourCast(strength=0.3),\n"),),
        "test_train_transform_normalises_like_test_transform",
        "not normalised",
    ),
    Mutant(
        "train transform normalised with ImageNet statistics",
        "augmentation",
        (
            (
                TRAIN_TAIL,
                "            ColourCast(strength=0.3),\n"
                "            transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),\n",
            ),
        ),
        "test_train_transform_normalises_like_test_transform",
        "another mean and std",
    ),
    Mutant(
        "colour jitter so strong the digit vanishes",
        "augmentation",
        (("transforms.ColorJitter(brightness=0.3, contrast=0.3)", "transforms.ColorJitter(brightness=1.0, contrast=1.0)"),),
        "test_digit_stays_visible",
        "digit may vanish",
    ),
    Mutant(
        "a random crop as large as the image",
        "augmentation",
        (
            (AFFINE, "            transforms.RandomCrop(image_size),\n"),
            (COLOUR_JITTER, ""),
            ("            ColourCast(strength=0.3),\n", ""),
        ),
        "test_train_transform_is_random",
        "no augmentation",
    ),
    Mutant(
        "train transform without augmentation",
        "augmentation",
        ((AFFINE, ""), (COLOUR_JITTER, ""), ("            ColourCast(strength=0.3),\n", "")),
        "test_train_transform_is_random",
        "no augmentation",
    ),
    Mutant(
        "colour casting only",
        "augmentation",
        ((AFFINE, ""),),
        "test_augmentation_helps_on_shifted_digits",
        "shifted digits",
    ),
]


VARIANTS = [
    Variant(
        "functional relu and dropout in forward",
        "network",
        (
            ("nn.ReLU(inplace=True)", "nn.Identity()"),
            ("            nn.Dropout(p=dropout),\n", ""),
            ("from torch import nn\n", "from torch import nn\nfrom torch.nn import functional as F\n"),
            ("        self.avgpool = nn.AdaptiveAvgPool2d((3, 3))\n",
             "        self.avgpool = nn.AdaptiveAvgPool2d((3, 3))\n        self.dropout = dropout\n"),
            ("        x = self.features(x)\n        x = self.avgpool(x)\n        x = torch.flatten(x, 1)\n        return self.classifier(x)\n",
             "        for layer in self.features:\n            x = F.relu(layer(x)) if isinstance(layer, nn.Conv2d) else layer(x)\n"
             "        x = torch.flatten(self.avgpool(x), 1)\n"
             "        first, _, second, _, last = self.classifier\n"
             "        x = F.relu(first(F.dropout(x, self.dropout, self.training)))\n"
             "        x = F.relu(second(F.dropout(x, self.dropout, self.training)))\n"
             "        return last(x)\n"),
        ),
    ),
    Variant(
        "mean over batches, model.zero_grad, inference_mode, dataset length",
        "training",
        (
            ("        optimizer.zero_grad()  # gradients add up in .grad unless cleared\n",
             "        model.zero_grad(set_to_none=True)\n"),
            ("        total_loss += loss.item() * len(labels)\n        total_examples += len(labels)\n    return total_loss / total_examples\n",
             "        total_loss += loss.item()\n    return total_loss / len(loader)\n"),
            ("with torch.no_grad():  # no graph: less memory, faster", "with torch.inference_mode():"),
            ("correct / total_examples", "correct / len(loader.dataset)"),
        ),
    ),
    Variant(
        "shifts only, by a padded random crop",
        "augmentation",
        (
            (AFFINE, "            transforms.RandomCrop(image_size, padding=image_size // 8),\n"),
            (COLOUR_JITTER, ""),
            ("            ColourCast(strength=0.3),\n", ""),
        ),
    ),
    Variant(
        "rotation and shifts without colour casting",
        "augmentation",
        (
            (AFFINE, "            transforms.RandomAffine(15, translate=(0.1, 0.1)),\n"),
            (COLOUR_JITTER, ""),
            ("            ColourCast(strength=0.3),\n", ""),
        ),
    ),
]
