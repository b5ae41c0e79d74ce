#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (see Gradescope's
# "Autograder Specifications"; base image Ubuntu 22.04). The zip's contents are in
# /autograder/source; this makes /autograder/venv, which run_autograder uses.
#
# torch and torchvision are the CPU-only builds, from PyTorch's CPU wheel index, at the versions
# the project is tested with (autograder/gradescope/tested-versions.txt). The default builds
# from PyPI bring CUDA, whose libraries alone take about 650 MB of memory at `import torch`:
# Gradescope's default machine has 768 MB and no GPU.
set -euxo pipefail

SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$SOURCE")"
VENV="$ROOT/venv"
VERSIONS="$SOURCE/autograder/gradescope/tested-versions.txt"
CPU_INDEX="https://download.pytorch.org/whl/cpu"

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip ca-certificates
python3 -c 'import sys; assert sys.version_info >= (3, 10), f"Python 3.10 or newer is needed, found {sys.version}"'

python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --upgrade pip
# CPU builds first, pinned by the constraints file; the package's own install then finds them
# already satisfied and adds no CUDA package.
"$VENV/bin/python" -m pip install --index-url "$CPU_INDEX" -c "$VERSIONS" torch torchvision
"$VENV/bin/python" -m pip install -c "$VERSIONS" -e "$SOURCE[dev]"

# Fail the build here, not at the first submission, if a CUDA build slipped in.
if "$VENV/bin/python" -m pip list 2>/dev/null | grep -i -E '^(nvidia-|triton )'; then
  echo "setup.sh: CUDA packages were installed; the grader would not fit in Gradescope's memory" >&2
  exit 1
fi
"$VENV/bin/python" -c 'import torch, torchvision; assert torch.version.cuda is None, torch.__version__; print("torch", torch.__version__, "torchvision", torchvision.__version__)'

# Student code runs as this unprivileged user when the grader runs as root: no home, no login.
id -u dlcv-student >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin dlcv-student
