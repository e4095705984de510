"""The kit against PyTorch on this machine, in one command:

    python3 bench/compare.py [--threads 2] [--steps 10] [--rounds 3]

Builds the kit's release benchmark, then runs it (`bench train --sampling`)
and the same model and training step in PyTorch (bench/pytorch_d3pm.py),
both limited to the same number of threads, alternately (kit, PyTorch, kit,
PyTorch, ...) so that a drift of the machine's speed touches both sides, and
prints the best and the median of each side and their ratios. Needs torch;
not part of the test suite.
"""
import argparse
import importlib.util
import os
import re
import statistics
import subprocess
import sys


def measure(command, env):
    output = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    training = float(re.search(r"training: ([0-9.]+) images/s", output).group(1))
    sampling = float(re.search(r"sampling: ([0-9.]+) s", output).group(1))
    return training, sampling


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if importlib.util.find_spec("torch") is None:
        sys.exit(f"bench/compare.py: PyTorch is not installed for {sys.executable}: "
                 f"`{sys.executable} -m pip install torch` (in a virtual environment if this Python refuses), "
                 f"then run this again with that Python")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, D3PM_THREADS=str(args.threads), OMP_NUM_THREADS=str(args.threads))
    subprocess.run(["swift", "build", "-c", "release", "--product", "bench"], cwd=root, check=True, capture_output=True)
    kit_command = [os.path.join(root, ".build/release/bench"), "train", "--sampling", "--steps", str(args.steps)]
    torch_command = [sys.executable, os.path.join(root, "bench/pytorch_d3pm.py"), "--sampling",
                     "--threads", str(args.threads), "--steps", str(args.steps)]
    header = subprocess.run([os.path.join(root, ".build/release/bench"), "train", "--steps", "1"], env=env,
                            check=True, capture_output=True, text=True).stdout.splitlines()[:2]
    print("\n".join(header))
    kit, torch = [], []
    for round in range(args.rounds):
        kit.append(measure(kit_command, env))
        torch.append(measure(torch_command, env))
        print(f"round {round + 1}: kit {kit[-1][0]:.1f} images/s, {kit[-1][1]:.2f} s sampling;"
              f" PyTorch {torch[-1][0]:.1f} images/s, {torch[-1][1]:.2f} s sampling")

    def summary(name, values, best):
        return f"{name}: best {best(values):.2f}, median {statistics.median(values):.2f}"

    print(summary("kit training images/s", [k[0] for k in kit], max))
    print(summary("PyTorch training images/s", [t[0] for t in torch], max))
    print(summary("kit sampling s", [k[1] for k in kit], min))
    print(summary("PyTorch sampling s", [t[1] for t in torch], min))
    print(f"training, kit / PyTorch: best {max(k[0] for k in kit) / max(t[0] for t in torch):.2f}x, "
          f"median {statistics.median(k[0] for k in kit) / statistics.median(t[0] for t in torch):.2f}x")
    print(f"sampling, PyTorch / kit: best {min(t[1] for t in torch) / min(k[1] for k in kit):.2f}x, "
          f"median {statistics.median(t[1] for t in torch) / statistics.median(k[1] for k in kit):.2f}x")


if __name__ == "__main__":
    main()
