#!/usr/bin/env python3
"""MoCo's formulas in //mochi/ssl against plain PyTorch on the same tensors.

The reference is written the way the MoCo paper's pseudocode (Algorithm 1) and moco/builder.py
write it; tests/mochi/ssl:moco_formula_cases runs ours:
  * InfoNCE: logits = cat([q.k, q.queue^T]) / tau, cross entropy against class 0; loss and its
    gradient with respect to q, float64, within 1e-12, for the materialised head and for the
    streamed head (5-row tiles, so K is never a multiple of the tile);
  * queue update: keys written at the pointer, the pointer advanced by the batch, modulo K
    (moco/builder.py's _dequeue_and_enqueue, which needs K % batch == 0; ours also wraps a batch
    around the end, checked against index arithmetic): exactly equal;
  * momentum update: theta_k <- m theta_k + (1 - m) theta_q for every parameter, float32,
    within one rounding (1e-6 relative).

  usage: moco_reference_test.py MOCO_FORMULA_CASES_BINARY
"""
import os
import subprocess
import sys

import torch
import torch.nn.functional as F

SEED = 20261207
INFONCE_CASES = 100
ENQUEUE_CASES = 50
MOMENTUM = 0.99


def make_inputs():
    g = torch.Generator().manual_seed(SEED)
    inputs = {}
    for c in range(INFONCE_CASES):
        key = f"infonce/{c:04d}/"
        batch, dim = int(torch.randint(1, 17, (1,), generator=g)), int(torch.randint(2, 33, (1,), generator=g))
        queue_size = int(torch.randint(1, 80, (1,), generator=g))
        inputs[key + "q"] = F.normalize(torch.randn(batch, dim, generator=g, dtype=torch.float64), dim=1)
        inputs[key + "k"] = F.normalize(torch.randn(batch, dim, generator=g, dtype=torch.float64), dim=1)
        inputs[key + "queue"] = F.normalize(torch.randn(queue_size, dim, generator=g, dtype=torch.float64), dim=1)
        inputs[key + "tau"] = torch.tensor([0.07, 0.1, 0.2, 1.0][c % 4], dtype=torch.float64)
    for c in range(ENQUEUE_CASES):
        key = f"enqueue/{c:04d}/"
        queue_size, dim = int(torch.randint(4, 40, (1,), generator=g)), int(torch.randint(2, 9, (1,), generator=g))
        # Half the cases as moco/builder.py requires (K a multiple of the batch), half wrapping.
        batch = int(torch.randint(1, queue_size + 1, (1,), generator=g))
        if c % 2 == 0:
            while queue_size % batch:
                batch -= 1
        inputs[key + "queue"] = F.normalize(torch.randn(queue_size, dim, generator=g), dim=1)
        start = int(torch.randint(0, queue_size, (1,), generator=g))
        inputs[key + "ptr"] = torch.tensor(start if c % 2 else 0)
        for j in range(int(torch.randint(1, 6, (1,), generator=g))):
            inputs[key + f"keys_{j}"] = F.normalize(torch.randn(batch, dim, generator=g), dim=1)
    inputs["momentum/0000/m"] = torch.tensor(MOMENTUM, dtype=torch.float64)
    inputs["momentum/0000/seed"] = torch.tensor(SEED)
    return inputs


def infonce(q, k, queue, tau):
    """moco/builder.py's forward after the encoders, and main_moco.py's criterion."""
    l_pos = torch.einsum("nc,nc->n", [q, k]).unsqueeze(-1)
    l_neg = torch.einsum("nc,ck->nk", [q, queue.T])
    logits = torch.cat([l_pos, l_neg], dim=1) / tau
    labels = torch.zeros(logits.shape[0], dtype=torch.long)
    return F.cross_entropy(logits, labels)


def main():
    binary = sys.argv[1]
    work = os.environ.get("TEST_TMPDIR") or os.path.abspath(".")
    inputs = make_inputs()
    in_path, out_path = os.path.join(work, "moco_in.pt"), os.path.join(work, "moco_out.pt")
    torch.save(inputs, in_path)
    subprocess.run([binary, in_path, out_path], check=True)
    ours = torch.load(out_path, weights_only=False)  # our runner's file (pickle_save adds type tags)
    failures, counts = [], {"infonce": 0, "enqueue steps": 0, "wrapping enqueue steps": 0, "momentum parameters": 0}

    def check(condition, message):
        if not condition:
            failures.append(message)

    for c in range(INFONCE_CASES):
        key = f"infonce/{c:04d}/"
        q = inputs[key + "q"].clone().requires_grad_(True)
        loss = infonce(q, inputs[key + "k"], inputs[key + "queue"], float(inputs[key + "tau"]))
        (grad,) = torch.autograd.grad(loss, q)
        loss = float(loss.detach())
        for head in ("", "_streamed"):
            check(abs(float(ours[key + "loss" + head]) - loss) <= 1e-12,
                  f"{key}loss{head}: ours {float(ours[key + 'loss' + head])!r}, plain {loss!r}")
            check(torch.allclose(ours[key + "grad_q" + head], grad, rtol=0, atol=1e-12),
                  f"{key}grad_q{head}: max |diff| {(ours[key + 'grad_q' + head] - grad).abs().max():.3g}")
        counts["infonce"] += 1

    for c in range(ENQUEUE_CASES):
        key = f"enqueue/{c:04d}/"
        queue, ptr = inputs[key + "queue"].clone(), int(inputs[key + "ptr"])
        size = queue.shape[0]
        j = 0
        while key + f"keys_{j}" in inputs:
            keys = inputs[key + f"keys_{j}"]
            batch = keys.shape[0]
            if ptr + batch <= size:  # moco/builder.py: queue[:, ptr:ptr + batch] = keys.T
                queue[ptr:ptr + batch] = keys
            else:
                queue[(torch.arange(batch) + ptr) % size] = keys
                counts["wrapping enqueue steps"] += 1
            ptr = (ptr + batch) % size
            check(torch.equal(ours[key + f"queue_after_{j}"], queue), f"{key}queue after step {j}")
            check(int(ours[key + f"ptr_after_{j}"].reshape(-1)[0]) == ptr,
                  f"{key}ptr after step {j}: ours {ours[key + f'ptr_after_{j}'].tolist()}, plain {ptr}")
            counts["enqueue steps"] += 1
            j += 1

    i = 0
    while f"momentum/q_{i}" in ours:
        theta_q, theta_k = ours[f"momentum/q_{i}"], ours[f"momentum/k_before_{i}"]
        want = theta_k * MOMENTUM + theta_q * (1.0 - MOMENTUM)  # moco/builder.py
        check(not torch.equal(theta_q, theta_k), f"momentum parameter {i}: q and k equal before")
        check(torch.allclose(ours[f"momentum/k_after_{i}"], want, rtol=1e-6, atol=1e-7),
              f"momentum parameter {i}: max |diff| {(ours[f'momentum/k_after_{i}'] - want).abs().max():.3g}")
        counts["momentum parameters"] += 1
        i += 1

    print(f"torch {torch.__version__}: compared " + ", ".join(f"{n} {what}" for what, n in counts.items())
          + f"; {len(failures)} failures")
    for line in failures[:20]:
        print("  " + line)
    sys.exit(1 if failures or min(counts.values()) == 0 else 0)


if __name__ == "__main__":
    main()
