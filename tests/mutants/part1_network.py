"""Part 1 (network.py, the AlexNet-style network): realistic mistakes and correct variants."""

from tests.mutants import Mutant, Variant

RELU = "            nn.ReLU(inplace=True),\n"

SECOND_DROPOUT = "            nn.ReLU(inplace=True),\n            nn.Dropout(p=dropout),\n            nn.Linear(256, 256),\n"
FIRST_POOL = "            nn.ReLU(inplace=True),\n            nn.MaxPool2d(kernel_size=3, stride=2),\n            nn.Conv2d(16, 48"

MUTANTS = [
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
    Mutant(
        "forward skips avgpool",
        "network",
        (("        x = self.avgpool(x)\n", ""),),
        "test_forward_uses_avgpool",
        "x = self.avgpool(x) is missing from forward",
    ),
    Mutant(
        "forward skips avgpool (seen on other input sizes)",
        "network",
        (("        x = self.avgpool(x)\n", ""),),
        "test_any_input_size_gives_logits[80-96]",
        "self.avgpool",
    ),
    Mutant(
        "second dropout missing",
        "network",
        ((SECOND_DROPOUT, "            nn.ReLU(inplace=True),\n            nn.Linear(256, 256),\n"),),
        "test_dropout_before_the_first_two_linear_layers[None]",
        "the dropout before Linear layer 2 is missing",
    ),
    Mutant(
        "dropout before the last layer instead of the second",
        "network",
        (
            (SECOND_DROPOUT, "            nn.ReLU(inplace=True),\n            nn.Linear(256, 256),\n"),
            ("            nn.Linear(256, num_classes),\n", "            nn.Dropout(p=dropout),\n            nn.Linear(256, num_classes),\n"),
        ),
        "test_dropout_before_the_first_two_linear_layers[None]",
        "the dropout before Linear layer 2 is missing",
    ),
    Mutant(
        "first dropout probability hard-coded",
        "network",
        (("        self.classifier = nn.Sequential(\n            nn.Dropout(p=dropout),\n",
          "        self.classifier = nn.Sequential(\n            nn.Dropout(p=0.5),\n"),),
        "test_dropout_before_the_first_two_linear_layers[0.2]",
        "hard-coded",
    ),
    Mutant(
        "max pooling over 2 x 2 windows",
        "network",
        ((FIRST_POOL, "            nn.ReLU(inplace=True),\n            nn.MaxPool2d(kernel_size=2, stride=2),\n            nn.Conv2d(16, 48"),),
        "test_convolutions_match_the_handout",
        "nn.MaxPool2d(kernel_size=3, stride=2)",
    ),
    Mutant(
        "classifier kept in a Python list",
        "network",
        (
            ("        self.classifier = nn.Sequential(\n", "        self.classifier = [\n"),
            ("            nn.Linear(256, num_classes),\n        )\n", "            nn.Linear(256, num_classes),\n        ]\n"),
            ("        return self.classifier(x)\n", "        for layer in self.classifier:\n            x = layer(x)\n        return x\n"),
        ),
        "test_parameter_count",
        (
            "layers kept in a plain Python container are not registered: the model's parameters, .to(device), "
            ".train() and .eval() never see them. Wrap them in nn.Sequential(...) (or nn.ModuleList / nn.ModuleDict) "
            "(self.classifier (list))"
        ),
    ),
    Mutant(
        # Only the size differs: no layer kept in a plain container, so the hint must not say one is.
        "fourth convolution with 128 channels",
        "network",
        (
            ("nn.Conv2d(96, 64, kernel_size=3, padding=1)", "nn.Conv2d(96, 128, kernel_size=3, padding=1)"),
            ("nn.Conv2d(64, 64, kernel_size=3, padding=1)", "nn.Conv2d(128, 64, kernel_size=3, padding=1)"),
        ),
        "test_parameter_count",
        "a layer's size differs from the docstring",
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
        # The flattening as the classifier's first layer, ReLUs that are not in place, forward in one line.
        "nn.Flatten inside the classifier",
        "network",
        (
            ("nn.ReLU(inplace=True)", "nn.ReLU()"),
            ("        self.classifier = nn.Sequential(\n", "        self.classifier = nn.Sequential(\n            nn.Flatten(),\n"),
            ("        x = self.features(x)\n        x = self.avgpool(x)\n        x = torch.flatten(x, 1)\n        return self.classifier(x)\n",
             "        return self.classifier(self.avgpool(self.features(x)))\n"),
        ),
    ),
    Variant(
        # Layers named through an OrderedDict (features.conv1, ...), flattening with view.
        "named layers in an OrderedDict",
        "network",
        (
            ("import torch\n", "from collections import OrderedDict\n\nimport torch\n"),
            (
                """        self.features = nn.Sequential(
            nn.Conv2d(3, 16, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(16, 48, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(48, 96, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(96, 64, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(64, 64, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
        )""",
                """        self.features = nn.Sequential(OrderedDict([
            ("conv1", nn.Conv2d(3, 16, kernel_size=11, stride=4, padding=2)),
            ("relu1", nn.ReLU(inplace=True)),
            ("pool1", nn.MaxPool2d(kernel_size=3, stride=2)),
            ("conv2", nn.Conv2d(16, 48, kernel_size=5, padding=2)),
            ("relu2", nn.ReLU(inplace=True)),
            ("pool2", nn.MaxPool2d(kernel_size=3, stride=2)),
            ("conv3", nn.Conv2d(48, 96, kernel_size=3, padding=1)),
            ("relu3", nn.ReLU(inplace=True)),
            ("conv4", nn.Conv2d(96, 64, kernel_size=3, padding=1)),
            ("relu4", nn.ReLU(inplace=True)),
            ("conv5", nn.Conv2d(64, 64, kernel_size=3, padding=1)),
            ("relu5", nn.ReLU(inplace=True)),
        ]))""",
            ),
            ("x = torch.flatten(x, 1)", "x = x.view(x.size(0), -1)"),
        ),
    ),
]
