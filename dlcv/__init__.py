"""The course library. Students import it and never edit it.

- ``data``: the MNIST subset, loaders, normalisation; ``device``: devices and seeds;
- ``training_loop``: training through a given Part 2 (the library has no loop of its own);
- ``student_module``: loading a target's module, for the commands below;
- ``small_cnn``: the small network of Part 3's accuracy test and of Part 7's pictures;
- ``backbone``, ``digit_tasks``, ``adaptation``: Part 4's pretrained backbone, tasks and adaptation runs;
- ``segmentation``: Part 5's segmentation canvases;
- the commands that show what a submission does: ``python -m dlcv.augmentation_grid``, ``dlcv.transfer_curves``,
  ``dlcv.segmentation_overlay``, ``dlcv.top_patches``.
"""
