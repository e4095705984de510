"""The kit against PyTorch on this machine, in one command:

    python3 bench/compare.py [--threads 2]

Builds and runs the kit's release benchmark (`swift run -c release bench
train --sampling`), then the same model and training step in PyTorch
(bench/pytorch_d3pm.py), both limited to the same number of threads, and
prints the ratios. Needs torch; not part of the test suite.
"""
import argparse
import os
import re
import subprocess
import sys


def measure(command, env):
    output = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    print(output.strip())
    training = float(re.search(r"training: ([0-9.]+) images/s", output).group(1))
    sampling = float(re.search(r"sampling: ([0-9.]+) s", output).group(1))
    return training, sampling


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, D3PM_THREADS=str(args.threads), OMP_NUM_THREADS=str(args.threads))
    subprocess.run(["swift", "build", "-c", "release", "--product", "bench"], cwd=root, check=True, capture_output=True)
    print("D3PM Kit (Swift):")
    kit = measure([os.path.join(root, ".build/release/bench"), "train", "--sampling", "--steps", str(args.steps)], env)
    print("PyTorch:")
    torch = measure([sys.executable, os.path.join(root, "bench/pytorch_d3pm.py"), "--sampling",
                     "--threads", str(args.threads), "--steps", str(args.steps)], env)
    print(f"training speed, kit / PyTorch: {kit[0] / torch[0]:.2f}x")
    print(f"sampling speed, kit / PyTorch: {torch[1] / kit[1]:.2f}x")


if __name__ == "__main__":
    main()
