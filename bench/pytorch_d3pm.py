"""The practical's model and training step in PyTorch, for speed comparisons.

Same architecture, parameter names, hyper-parameters and loss as the kit
(Sources/Diffusion), with the original practical's mistakes corrected
(logits laid out [B, 1, H, W, K], one Gumbel draw in q_sample, t in 1..T).
The kit's checkpoints load into `TinyX0Model` with
`model.load_state_dict({k: v for k, v in safetensors.torch.load_file(path).items()
                        if not k.startswith("optimizer.")})`.

Run alone:   python3 bench/pytorch_d3pm.py [--threads 2] [--steps 5] [--sampling]
Side by side with the kit: python3 bench/compare.py
Not part of the test suite; needs torch.
"""
import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

K, T, C, TIME_DIM, EPS = 4, 200, 32, 32, 1e-9


def sinusoidal_time_embedding(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)
    angles = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


def conv_block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.GroupNorm(8, cout), nn.SiLU(),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.GroupNorm(8, cout), nn.SiLU())


def up_block(cin, cout):
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 2, stride=2), nn.GroupNorm(8, cout), nn.SiLU())


class TinyX0Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.tProj1 = nn.Linear(TIME_DIM, C)
        self.tProj2 = nn.Linear(TIME_DIM, 2 * C)
        self.condEmbedding = nn.Embedding(10, C)
        self.condProj2 = nn.Linear(C, 2 * C)
        self.down1 = conv_block(1, C)
        self.down2 = conv_block(C, 2 * C)
        self.up1 = up_block(2 * C, C)
        self.up2 = conv_block(C, C)
        self.final = nn.Conv2d(C, K, 1)

    def forward(self, xt, t, y):
        x = xt.float() * (2 / (K - 1)) - 1
        e = sinusoidal_time_embedding(t, TIME_DIM)
        cond = self.condEmbedding(y)
        h1 = self.down1(x) + (self.tProj1(e) + cond)[:, :, None, None]
        h2 = self.down2(F.avg_pool2d(h1, 2)) + (self.tProj2(e) + self.condProj2(cond))[:, :, None, None]
        h = self.up2(self.up1(h2) + h1)
        logits = self.final(h)                      # [B, K, H, W]
        return logits.permute(0, 2, 3, 1)[:, None]  # [B, 1, H, W, K]


def uniform_matrices(betas):
    eye = torch.eye(K)
    q = (1 - betas)[:, None, None] * eye + betas[:, None, None] / K
    cum = [q[0]]
    for t in range(1, len(betas)):
        cum.append(cum[-1] @ q[t])
    return q, q.transpose(1, 2).contiguous(), torch.stack(cum)


BETAS = torch.linspace(1e-3, 0.1, T)
Q, Q_T, Q_CUM = uniform_matrices(BETAS)


def gather_at(a, t, x):
    return a[(t - 1).view(-1, *[1] * (x.dim() - 1)), x]


def posterior_logits(p0, x0_logits, xt, t):
    fact1 = gather_at(Q_T, t, xt)
    prev = Q_CUM[(t - 2).clamp(min=0)]
    fact2 = torch.einsum("b...k,bkd->b...d", p0, prev)
    logits = torch.log(fact1 + EPS) + torch.log(fact2 + EPS)
    first = (t == 1).view(-1, *[1] * xt.dim())
    return torch.where(first, x0_logits, logits)


def gumbel_max(logits, u):
    u = u.clamp(1e-6, 1 - 1e-6)
    return (logits - torch.log(-torch.log(u))).argmax(-1)


def hybrid_loss(model_logits, x0, xt, t, lam=1e-3):
    p0 = F.one_hot(x0, K).float()
    true_logits = posterior_logits(p0, torch.log(p0 + EPS), xt, t)
    model_post = posterior_logits(model_logits.softmax(-1), model_logits, xt, t)
    log_p, log_q = true_logits.log_softmax(-1), model_post.log_softmax(-1)
    vb = (log_p.exp() * (log_p - log_q)).sum(-1).mean()
    ce = F.cross_entropy(model_logits.reshape(-1, K), x0.reshape(-1))
    return lam * vb + ce


def train_step(model, opt, x0, y):
    t = torch.randint(1, T + 1, (x0.shape[0],))
    probs = gather_at(Q_CUM, t, x0)
    xt = gumbel_max(torch.log(probs + EPS), torch.rand(*x0.shape, K))
    loss = hybrid_loss(model(xt, t, y), x0, xt, t)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return loss.item()


@torch.no_grad()
def sample(model, labels):
    x = torch.randint(0, K, (len(labels), 1, 28, 28))
    for step in range(T, 0, -1):
        t = torch.full((len(labels),), step)
        x0_logits = model(x, t, labels)
        logits = posterior_logits(x0_logits.softmax(-1), x0_logits, x, t)
        x = gumbel_max(logits, torch.rand(*x.shape, K)) if step > 1 else logits.argmax(-1)
    return x


def load_mnist_train(folder):
    import gzip
    import numpy as np
    with gzip.open(f"{folder}/train-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(f"{folder}/train-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    levels = np.clip(np.round(images.astype(np.float64) / 255 * (K - 1)), 0, K - 1).astype(np.int64)
    return torch.from_numpy(levels), torch.from_numpy(labels.astype(np.int64))


def train_mnist(epochs, batch_size, folder, log):
    """Trains on MNIST as `d3pm train` does and writes step,loss rows to `log`."""
    torch.manual_seed(0)
    images, labels = load_mnist_train(folder)
    model = TinyX0Model()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    step = 0
    start = time.perf_counter()
    with open(log, "w") as out:
        out.write("step,loss\n")
        for _ in range(epochs):
            order = torch.randperm(len(images))
            for i in range(0, len(images), batch_size):
                index = order[i:i + batch_size]
                loss = train_step(model, opt, images[index], labels[index])
                step += 1
                out.write(f"{step},{loss:.6f}\n")
    print(f"trained {step} steps in {time.perf_counter() - start:.0f} s; log in {log}")
    torch.save(model.state_dict(), log.replace(".csv", ".pt"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--train-mnist", metavar="LOG", help="train 2 epochs on Data/mnist and write the loss log here")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--sampling", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.train_mnist:
        import os
        folder = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Data/mnist")
        train_mnist(args.epochs, args.batch_size, folder, args.train_mnist)
        return
    torch.manual_seed(0)
    model = TinyX0Model()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    x0 = torch.randint(0, K, (args.batch_size, 1, 28, 28))
    y = torch.randint(0, 10, (args.batch_size,))
    train_step(model, opt, x0, y)
    start = time.perf_counter()
    for _ in range(args.steps):
        train_step(model, opt, x0, y)
    seconds = (time.perf_counter() - start) / args.steps
    print(f"training: {args.batch_size / seconds:.1f} images/s ({seconds * 1e3:.0f} ms per step of {args.batch_size} images, {args.threads} threads)")
    if args.sampling:
        start = time.perf_counter()
        sample(model, torch.arange(16) % 10)
        print(f"sampling: {time.perf_counter() - start:.2f} s for 16 images through {T} steps")


if __name__ == "__main__":
    main()
