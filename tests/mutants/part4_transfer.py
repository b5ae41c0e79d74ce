"""Part 4 (transfer.py, transfer learning): realistic mistakes and correct variants."""

from tests.mutants import Mutant, Variant

FREEZE = "    for parameter in model.parameters():\n        parameter.requires_grad = False\n"
NEW_HEAD = "    replace_head(model, num_classes)  # created after the freeze: it requires grad, and nothing else does\n"
BATCH_NORM_HOOKS = (
    "    for module in model.modules():\n"
    "        if isinstance(module, BATCH_NORMS):\n"
    "            module.register_forward_pre_hook(_use_running_statistics)\n"
)
ENCODER_GROUP = '{"params": _encoder_parameters(model), "lr": lr * encoder_lr_ratio}'
GROUPS = (
    '            {"params": _encoder_parameters(model), "lr": lr * encoder_lr_ratio},\n'
    '            {"params": list(_head(model).parameters()), "lr": lr},\n'
)
FINE_TUNE_BODY = "    return torch.optim.AdamW(\n        [\n" + GROUPS + "        ]\n    )\n"
WARM_START_BODY = (
    "    frozen = epoch < frozen_epochs\n"
    "    for parameter in _encoder_parameters(model):\n"
    "        parameter.requires_grad = not frozen\n"
    "    for parameter in _head(model).parameters():\n"
    "        parameter.requires_grad = True\n"
)
ENCODER_CALL = "            features.append(torch.flatten(encoder(images.to(device)), 1).cpu())\n"
SLICED_ENCODER = "    encoder = nn.Sequential(*list(model.children())[:-1])  # the same layers, without the head\n"
CLASSIFIER_LOOP = (
    "    for _ in range(epochs):\n"
    "        optimizer.zero_grad()\n"
    "        loss = nn.functional.cross_entropy(classifier(features), labels)\n"
    "        loss.backward()\n"
    "        optimizer.step()\n"
)
CLASSIFIER_BODY = (
    "    classifier = nn.Linear(features.shape[1], num_classes, device=features.device)\n"
    "    optimizer = torch.optim.AdamW(classifier.parameters(), lr=lr)\n" + CLASSIFIER_LOOP
)
REPLACE_HEAD_BODY = (
    "    owner, name = _head_owner(model)\n"
    "    old = getattr(owner, name)\n"
    "    head = nn.Linear(old.in_features, num_classes, device=old.weight.device, dtype=old.weight.dtype)\n"
    "    setattr(owner, name, head)\n"
    "    return head\n"
)
EXTRACT_BODY = (
    SLICED_ENCODER + "    encoder.eval()\n"
    "    features, labels = [], []\n"
    "    with torch.no_grad():\n"
    "        for images, batch_labels in loader:\n" + ENCODER_CALL + "            labels.append(batch_labels.cpu())\n"
    "    return torch.cat(features), torch.cat(labels)\n"
)
HEAD_OWNER_BODY = (
    '    if isinstance(getattr(model, "fc", None), nn.Linear):\n'
    '        return model, "fc"\n'
    '    if isinstance(getattr(model, "classifier", None), nn.Sequential) and isinstance(model.classifier[-1], nn.Linear):\n'
    "        return model.classifier, str(len(model.classifier) - 1)\n"
    '    raise ValueError(f"{type(model).__name__} has no Linear head at .fc or .classifier[-1]")\n'
)

MUTANTS = [
    Mutant(
        "in_features taken from the old head's out_features",
        "transfer",
        (("nn.Linear(old.in_features, num_classes,", "nn.Linear(old.out_features, num_classes,"),),
        "test_replace_head_on_the_backbone",
        "in_features = 512",
    ),
    Mutant(
        "num_classes ignored",
        "transfer",
        (("nn.Linear(old.in_features, num_classes,", "nn.Linear(old.in_features, old.out_features,"),),
        "test_replace_head_on_torchvision_models[resnet18]",
        "pass num_classes",
    ),
    Mutant(
        "model.fc set on a VGG",
        "transfer",
        (("    setattr(owner, name, head)\n", "    model.fc = head\n"),),
        "test_replace_head_on_torchvision_models[vgg19]",
        "a new model.fc",
    ),
    Mutant(
        "whole classifier replaced on a VGG",
        "transfer",
        (("    setattr(owner, name, head)\n", '    setattr(model, "fc" if owner is model else "classifier", head)\n'),),
        "test_replace_head_on_torchvision_models[vgg11]",
        "the whole classifier replaced",
    ),
    Mutant(
        "new head on the default device",
        "transfer",
        (("device=old.weight.device, dtype=old.weight.dtype", "dtype=old.weight.dtype"),),
        "test_replace_head_on_torchvision_models[vgg11]",
        "the new head is on the default device",
    ),
    Mutant(
        "new head in the default dtype",
        "transfer",
        (("device=old.weight.device, dtype=old.weight.dtype", "device=old.weight.device"),),
        "test_replace_head_on_a_float64_model_with_a_frozen_encoder",
        "the new head is in the default dtype",
    ),
    Mutant(
        "replace_head freezes the encoder",
        "transfer",
        (("    owner, name = _head_owner(model)\n    old = getattr(owner, name)\n",
          "    for parameter in model.parameters():  # only the new head should train\n"
          "        parameter.requires_grad = False\n"
          "    owner, name = _head_owner(model)\n    old = getattr(owner, name)\n"),),
        "test_replace_head_on_a_float64_model_with_a_frozen_encoder",
        "replace_head freezes or unfreezes the encoder",
    ),
    Mutant(
        "encoder not frozen",
        "transfer",
        ((FREEZE + NEW_HEAD, NEW_HEAD),),
        "test_linear_probe_trains_only_the_head[backbone]",
        "the encoder is not frozen",
    ),
    Mutant(
        "only model.features frozen",
        "transfer",
        ((FREEZE + NEW_HEAD, FREEZE.replace("model.parameters()", "model.features.parameters()") + NEW_HEAD),),
        "test_linear_probe_trains_only_the_head[mobilenet_v3_small]",
        "not only model.features",
    ),
    Mutant(
        "head frozen too",
        "transfer",
        ((FREEZE + NEW_HEAD, NEW_HEAD + FREEZE),),
        "test_linear_probe_trains_only_the_head[backbone]",
        "the head is frozen too",
    ),
    Mutant(
        "batch-norm statistics still updating",
        "transfer",
        ((BATCH_NORM_HOOKS, ""),),
        "test_linear_probe_keeps_the_encoder_unchanged_in_train_mode",
        "requires_grad = False stops gradients, not the batch-norm running statistics",
    ),
    Mutant(
        "batch-norm momentum 0",
        "transfer",
        (("module.register_forward_pre_hook(_use_running_statistics)", "module.momentum = 0.0"),),
        "test_linear_probe_keeps_the_encoder_unchanged_in_train_mode",
        "num_batches_tracked still counts",
    ),
    Mutant(
        "features taken after the head",
        "transfer",
        ((ENCODER_CALL, ENCODER_CALL.replace("encoder(", "model(")),),
        "test_extract_features_match_the_recorded_features",
        "taken after the head",
    ),
    Mutant(
        "features in train mode",
        "transfer",
        (("    encoder.eval()\n", ""),),
        "test_extract_features_match_the_recorded_features",
        "the features of train mode",
    ),
    Mutant(
        "features with gradient tracking",
        "transfer",
        (("    with torch.no_grad():\n        for images, batch_labels", "    with torch.enable_grad():\n        for images, batch_labels"),),
        "test_extract_features_without_gradient_tracking",
        "torch.no_grad()",
    ),
    Mutant(
        "head removed from the model",
        "transfer",
        ((SLICED_ENCODER, "    model.fc = nn.Identity()  # the head's input comes out\n    encoder = model\n"),),
        "test_extract_features_leave_the_model_unchanged",
        "model.fc = nn.Identity() removes the head",
    ),
    Mutant(
        "loader read twice",
        "transfer",
        ((ENCODER_CALL + "            labels.append(batch_labels.cpu())\n",
          ENCODER_CALL + "        for _, batch_labels in loader:  # the labels in a second pass\n"
          "            labels.append(batch_labels.cpu())\n"),),
        "test_extract_features_match_the_recorded_features",
        "the loader read twice",
    ),
    Mutant(
        "parameters frozen instead of no_grad",
        "transfer",
        (("    with torch.no_grad():\n        for images, batch_labels",
          "    model.requires_grad_(False)  # no graph through frozen weights\n"
          "    with torch.enable_grad():\n        for images, batch_labels"),),
        "test_extract_features_leave_the_model_unchanged",
        "the parameters frozen instead of torch.no_grad()",
    ),
    Mutant(
        "features returned from inside inference_mode",
        "transfer",
        (("    with torch.no_grad():\n        for images, batch_labels",
          "    with torch.inference_mode():\n        for images, batch_labels"),
         ("            labels.append(batch_labels.cpu())\n    return torch.cat(features), torch.cat(labels)\n",
          "            labels.append(batch_labels.cpu())\n        return torch.cat(features), torch.cat(labels)\n")),
        "test_extract_features_without_gradient_tracking",
        "inference tensors",
    ),
    Mutant(
        "linear classifier trained for one step",
        "transfer",
        (("    for _ in range(epochs):\n", "    for _ in range(1):\n"),),
        "test_train_linear_classifier_fits_separable_features",
        "not trained enough",
    ),
    Mutant(
        "linear classifier trained with Adam",
        "transfer",
        (("torch.optim.AdamW(classifier.parameters(), lr=lr)", "torch.optim.Adam(classifier.parameters(), lr=lr)"),),
        "test_train_linear_classifier_matches_the_recorded_weights",
        "Adam instead of AdamW",
    ),
    Mutant(
        "linear classifier's lr ignored",
        "transfer",
        (("torch.optim.AdamW(classifier.parameters(), lr=lr)", "torch.optim.AdamW(classifier.parameters())"),),
        "test_train_linear_classifier_matches_the_recorded_weights",
        "the lr argument is ignored",
    ),
    Mutant(
        "linear classifier without weight decay",
        "transfer",
        (("torch.optim.AdamW(classifier.parameters(), lr=lr)", "torch.optim.AdamW(classifier.parameters(), lr=lr, weight_decay=0)"),),
        "test_train_linear_classifier_matches_the_recorded_weights",
        "AdamW with weight_decay=0",
    ),
    Mutant(
        "linear classifier trained with SGD",
        "transfer",
        (("torch.optim.AdamW(classifier.parameters(), lr=lr)", "torch.optim.SGD(classifier.parameters(), lr=lr)"),),
        "test_train_linear_classifier_matches_the_recorded_weights",
        "SGD instead of AdamW",
    ),
    Mutant(
        "linear classifier trained on shuffled mini-batches",
        "transfer",
        ((CLASSIFIER_LOOP,
          "    for _ in range(epochs):\n"
          "        for batch in torch.randperm(len(features)).split(32):\n"
          "            optimizer.zero_grad()\n"
          "            loss = nn.functional.cross_entropy(classifier(features[batch]), labels[batch])\n"
          "            loss.backward()\n"
          "            optimizer.step()\n"),),
        "test_train_linear_classifier_matches_the_recorded_weights",
        "shuffled mini-batches of 32",
    ),
    Mutant(
        "linear classifier on the default device",
        "transfer",
        (("nn.Linear(features.shape[1], num_classes, device=features.device)", "nn.Linear(features.shape[1], num_classes)"),),
        "test_train_linear_classifier_on_the_features_device",
        "the classifier is on the default device",
    ),
    Mutant(
        "fine-tune learning rates swapped",
        "transfer",
        ((GROUPS, GROUPS.replace("lr * encoder_lr_ratio", "SWAP").replace('"lr": lr}', '"lr": lr * encoder_lr_ratio}').replace("SWAP", "lr")),),
        "test_fine_tune_optimizer_parameter_groups[backbone]",
        "swapped",
    ),
    Mutant(
        "one parameter group per parameter",
        "transfer",
        (
            (
                FINE_TUNE_BODY,
                "    head = {id(parameter) for parameter in _head(model).parameters()}\n"
                "    return torch.optim.AdamW(\n"
                '        [{"params": [p], "lr": lr if id(p) in head else lr * encoder_lr_ratio} for p in model.parameters()]\n'
                "    )\n",
            ),
        ),
        "test_fine_tune_optimizer_parameter_groups[backbone]",
        "one group per layer or per parameter",
    ),
    Mutant(
        "new head copying the old weights when the sizes match",
        "transfer",
        (
            (
                REPLACE_HEAD_BODY,
                REPLACE_HEAD_BODY.replace(
                    "    setattr(owner, name, head)\n",
                    "    if old.out_features == num_classes:  # the same size: keep what was learnt\n"
                    "        head.load_state_dict(old.state_dict())\n"
                    "    setattr(owner, name, head)\n",
                ),
            ),
        ),
        "test_replace_head_on_the_backbone",
        "the old head's weights were copied",
    ),
    Mutant(
        "a parameter in two groups",
        "transfer",
        ((ENCODER_GROUP, ENCODER_GROUP.replace("_encoder_parameters(model)", "list(model.parameters())")),),
        "test_fine_tune_optimizer_parameter_groups[backbone]",
        "more than one parameter group",
    ),
    Mutant(
        "a parameter in no group (the encoder is model.features)",
        "transfer",
        ((ENCODER_GROUP, ENCODER_GROUP.replace("_encoder_parameters(model)", "list(model.features.parameters())")),),
        "test_fine_tune_optimizer_parameter_groups[vgg11]",
        "in no group",
    ),
    Mutant(
        "only parameters that require grad",
        "transfer",
        ((ENCODER_GROUP, ENCODER_GROUP.replace("_encoder_parameters(model)", "[p for p in _encoder_parameters(model) if p.requires_grad]")),),
        "test_fine_tune_optimizer_with_the_encoder_frozen[backbone]",
        "only the parameters that require grad were kept",
    ),
    Mutant(
        "fine_tune_optimizer unfreezes the encoder",
        "transfer",
        ((FINE_TUNE_BODY, "    model.requires_grad_(True)  # every parameter trains\n" + FINE_TUNE_BODY),),
        "test_fine_tune_optimizer_with_the_encoder_frozen[vgg11]",
        "fine_tune_optimizer unfreezes the encoder",
    ),
    Mutant(
        "warm start never unfreezes",
        "transfer",
        (("        parameter.requires_grad = not frozen\n", "        if frozen:\n            parameter.requires_grad = False\n"),),
        "test_warm_start_unfreezes_at_the_right_epoch[backbone]",
        "never unfreezes",
    ),
    Mutant(
        "warm start unfreezes one epoch late",
        "transfer",
        (("    frozen = epoch < frozen_epochs\n", "    frozen = epoch <= frozen_epochs\n"),),
        "test_warm_start_unfreezes_at_the_right_epoch[backbone]",
        "one epoch late",
    ),
    Mutant(
        "warm start freezes only model.features",
        "transfer",
        ((WARM_START_BODY, WARM_START_BODY.replace("_encoder_parameters(model)", "model.features.parameters()")),),
        "test_warm_start_unfreezes_at_the_right_epoch[vgg11]",
        "not only model.features",
    ),
    Mutant(
        "warm start leaves the head's flag alone",
        "transfer",
        (("    for parameter in _head(model).parameters():\n        parameter.requires_grad = True\n", ""),),
        "test_warm_start_unfreezes_at_the_right_epoch[backbone]",
        "the head may arrive frozen",
    ),
    Mutant(
        # Every method then trains a fresh network: the baseline the accuracy tests must tell apart.
        "trained from scratch",
        "transfer",
        (
            (
                "    old = getattr(owner, name)\n",
                "    for module in model.modules():  # every layer back to a random start\n"
                '        if hasattr(module, "reset_parameters"):\n'
                "            module.reset_parameters()\n"
                "    old = getattr(owner, name)\n",
            ),
            (FREEZE + NEW_HEAD + BATCH_NORM_HOOKS, NEW_HEAD),
            ("lr * encoder_lr_ratio", "lr"),
            ("    frozen = epoch < frozen_epochs\n", "    frozen = False\n"),
        ),
        "test_fine_tuned_accuracy_with_5_examples_per_class",
        "trained from scratch",
    ),
]

VARIANTS = [
    Variant(
        "requires_grad_ and a new head, groups by name, warm start by requires_grad_",
        "transfer",
        (
            (FREEZE + NEW_HEAD, "    model.requires_grad_(False)\n" + NEW_HEAD),
            (
                FINE_TUNE_BODY,
                "    head = _head(model)\n"
                "    prefix = next(name for name, module in model.named_modules() if module is head) + '.'\n"
                "    encoder = [p for name, p in model.named_parameters() if not name.startswith(prefix)]\n"
                "    return torch.optim.AdamW(\n"
                "        [{'params': encoder, 'lr': lr * encoder_lr_ratio}, {'params': head.parameters(), 'lr': lr}]\n"
                "    )\n",
            ),
            (WARM_START_BODY, "    model.requires_grad_(epoch >= frozen_epochs)\n    _head(model).requires_grad_(True)\n"),
        ),
    ),
    Variant(
        "batch norm kept in eval mode by overriding train(), features by a hook, the last Linear as head",
        "transfer",
        (
            (
                BATCH_NORM_HOOKS,
                "    train = type(model).train\n"
                "\n"
                "    def train_with_frozen_batch_norm(mode=True):\n"
                "        train(model, mode)\n"
                "        for module in model.modules():\n"
                "            if isinstance(module, BATCH_NORMS):\n"
                "                module.eval()\n"
                "        return model\n"
                "\n"
                "    model.train = train_with_frozen_batch_norm\n"
                "    model.train(model.training)\n",
            ),
            (
                SLICED_ENCODER + "    encoder.eval()\n    features, labels = [], []\n",
                "    model.eval()\n"
                "    features, labels = [], []\n"
                "    head = list(model.children())[-1]\n"
                "    hook = head.register_forward_pre_hook(lambda module, args: features.append(torch.flatten(args[0], 1).cpu()))\n",
            ),
            (ENCODER_CALL, "            model(images.to(device))\n"),
            ("    return torch.cat(features), torch.cat(labels)\n", "    hook.remove()\n    return torch.cat(features), torch.cat(labels)\n"),
            (
                HEAD_OWNER_BODY,
                "    name = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)][-1]\n"
                '    owner, _, attribute = name.rpartition(".")\n'
                "    return model.get_submodule(owner), attribute\n",
            ),
        ),
    ),
    Variant(
        "torchvision's FrozenBatchNorm2d",
        "transfer",
        (
            ("from torch import nn\n", "from torch import nn\nfrom torchvision.ops import FrozenBatchNorm2d\n"),
            (
                BATCH_NORM_HOOKS,
                "    for name, module in list(model.named_modules()):\n"
                "        if isinstance(module, nn.BatchNorm2d):\n"
                "            frozen = FrozenBatchNorm2d(module.num_features, eps=module.eps).to(module.weight.device)\n"
                "            frozen.load_state_dict(module.state_dict())\n"
                "            model.set_submodule(name, frozen)\n",
            ),
        ),
    ),
    Variant(
        "the head by its dotted name: get_submodule, a CPU layer moved with .to(old.weight), set_submodule",
        "transfer",
        (
            (
                REPLACE_HEAD_BODY,
                '    if isinstance(getattr(model, "fc", None), nn.Linear):\n'
                '        path = "fc"\n'
                "    else:\n"
                '        path = f"classifier.{len(model.classifier) - 1}"\n'
                "    old = model.get_submodule(path)\n"
                "    head = nn.Linear(old.in_features, num_classes).to(old.weight)  # its device and dtype\n"
                "    model.set_submodule(path, head)\n"
                "    return head\n",
            ),
        ),
    ),
    Variant(
        "the linear classifier's loss written out (log_softmax, picked by index), every AdamW default spelled out",
        "transfer",
        (
            (
                CLASSIFIER_BODY,
                "    classifier = nn.Linear(features.size(1), num_classes).to(features.device)\n"
                "    optimizer = torch.optim.AdamW(\n"
                "        classifier.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False\n"
                "    )\n"
                "    rows = torch.arange(len(labels), device=features.device)\n"
                "    epoch = 0\n"
                "    while epoch < epochs:\n"
                "        log_probabilities = torch.log_softmax(classifier(features), dim=1)\n"
                "        loss = -log_probabilities[rows, labels].mean()\n"
                "        optimizer.zero_grad(set_to_none=True)\n"
                "        loss.backward()\n"
                "        optimizer.step()\n"
                "        epoch += 1\n",
            ),
        ),
    ),
    Variant(
        "groups and warm start by a loop over the parameters, the head's told by identity",
        "transfer",
        (
            (
                FINE_TUNE_BODY,
                "    head_ids = {id(parameter) for parameter in _head(model).parameters()}\n"
                "    groups = {True: [], False: []}\n"
                "    for parameter in model.parameters():\n"
                "        groups[id(parameter) in head_ids].append(parameter)\n"
                "    return torch.optim.AdamW(\n"
                "        [{'params': groups[True], 'lr': lr}, {'params': groups[False], 'lr': encoder_lr_ratio * lr}]\n"
                "    )\n",
            ),
            (
                WARM_START_BODY,
                "    head_ids = {id(parameter) for parameter in _head(model).parameters()}\n"
                "    for parameter in model.parameters():\n"
                "        parameter.requires_grad_(id(parameter) in head_ids or epoch >= frozen_epochs)\n",
            ),
        ),
    ),
    Variant(
        "features stage by stage under inference_mode, joined outside it, the stages' modes restored",
        "transfer",
        (
            (
                EXTRACT_BODY,
                "    *stages, _ = model.children()\n"
                "    modes = [stage.training for stage in stages]\n"
                "    for stage in stages:\n"
                "        stage.eval()\n"
                "    features, labels = [], []\n"
                "    with torch.inference_mode():\n"
                "        for images, batch_labels in loader:\n"
                "            x = images.to(device)\n"
                "            for stage in stages:\n"
                "                x = stage(x)\n"
                "            features.append(x.reshape(x.shape[0], -1).cpu())\n"
                "            labels.append(batch_labels.cpu())\n"
                "    for stage, mode in zip(stages, modes):\n"
                "        stage.train(mode)\n"
                "    return torch.cat(features), torch.cat(labels)  # outside inference_mode: ordinary tensors\n",
            ),
        ),
    ),
]
