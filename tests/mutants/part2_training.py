"""Part 2 (training.py, the training loop, optimizer and schedule): realistic mistakes and correct variants."""

from tests.mutants import Mutant, Variant

MUTANTS = [
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
    Mutant(
        "AdamW with another weight decay",
        "training",
        (("torch.optim.AdamW(model.parameters(), lr=lr)", "torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.1)"),),
        "test_make_optimizer_keeps_pytorch_defaults",
        "weight_decay",
    ),
    Mutant(
        "batches never moved to the device",
        "training",
        (("images, labels = images.to(device), labels.to(device)", "images, labels = images, labels"),),
        "test_train_one_epoch_moves_each_batch_to_the_device",
        "move each batch to the device",
    ),
    Mutant(
        "labels not moved to the device in evaluate",
        "training",
        (("            images, labels = images.to(device), labels.to(device)\n            logits",
          "            images = images.to(device)\n            logits"),),
        "test_evaluate_moves_each_batch_to_the_device",
        "the labels given to the loss",
    ),
    Mutant(
        "gradients switched off and never back on",
        "training",
        (("    with torch.no_grad():  # no graph: less memory, faster\n", "    torch.set_grad_enabled(False)\n    if True:\n"),),
        "test_evaluate_leaves_gradient_tracking_on",
        "torch.set_grad_enabled(False)",
    ),
    Mutant(
        "accuracy divided by the number of batches",
        "training",
        (("correct / total_examples", "correct / len(loader)"),),
        "test_evaluate_counts_accuracy_over_examples",
        "not of batches",
    ),
    Mutant(
        "fit evaluates on the training loader",
        "training",
        (("evaluate(test_loader, model, criterion, device)", "evaluate(train_loader, model, criterion, device)"),),
        "test_fit_evaluates_on_the_test_loader",
        "fit evaluates on the training loader",
    ),
    Mutant(
        "no progress bar",
        "training",
        (
            ('    progress = tqdm(range(epochs), desc="epochs")\n', "    progress = range(epochs)\n"),
            ("        progress.set_postfix(loss=history[\"train_loss\"][-1], acc=test_accuracy)\n", ""),
        ),
        "test_fit_shows_a_progress_bar_over_the_epochs",
        "wrap the epochs in tqdm",
    ),
    Mutant(
        "scheduler given the loss",
        "training",
        (("        scheduler.step()  # once per epoch", "        scheduler.step(history[\"train_loss\"][-1])  #"),),
        "test_fit_steps_the_scheduler_once_per_epoch",
        "without an argument",
    ),
    Mutant(
        "learning rate recorded after the scheduler step",
        "training",
        (
            ('        history["lr"].append(optimizer.param_groups[0]["lr"])\n', ""),
            ("        scheduler.step()  # once per epoch: StepLR counts epochs\n",
             "        scheduler.step()  # once per epoch: StepLR counts epochs\n        history[\"lr\"].append(optimizer.param_groups[0][\"lr\"])\n"),
        ),
        "test_fit_returns_the_history",
        "at the start of each epoch",
    ),

]

VARIANTS = [
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
        # Common ways of writing the same thing: a decorated evaluate, the scheduler's own record of the learning
        # rate, a defaultdict for the history.
        "no_grad decorator, get_last_lr, defaultdict history",
        "training",
        (
            ("import torch\n", "from collections import defaultdict\n\nimport torch\n"),
            ("def evaluate(", "@torch.no_grad()\ndef evaluate("),
            ("    with torch.no_grad():  # no graph: less memory, faster\n", "    if True:\n"),
            ('    history = {"train_loss": [], "test_loss": [], "test_accuracy": [], "lr": []}\n',
             "    history = defaultdict(list)\n"),
            ('history["lr"].append(optimizer.param_groups[0]["lr"])', 'history["lr"].append(scheduler.get_last_lr()[0])'),
        ),
    ),
    Variant(
        # tqdm's trange, transfers with non_blocking=True, the batch size read from the images.
        "trange, non_blocking transfers, batch size from the images",
        "training",
        (
            ("from tqdm.auto import tqdm\n", "from tqdm.auto import trange\n"),
            ('progress = tqdm(range(epochs), desc="epochs")', 'progress = trange(epochs, desc="epochs")'),
            ("images, labels = images.to(device), labels.to(device)",
             "images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)"),
            ("len(labels)", "images.size(0)"),
        ),
    ),
]
