"""The MoCo-v2 / MoCHi training step in plain PyTorch, written the way public re-implementations
write it (torchvision-layout ResNet, logits materialised, mixing with torch.topk and gathers), for
a side-by-side img/s against //bench:mixing_benchmark on the same machine, model, batch, K and
(N, s, s'). Synthetic inputs; no data loading. Run by tools/gpu_check.sh with the machine's own
Python torch. Prints one line per variant and writes --json.
"""
import argparse
import json
import time
import warnings

# torch warns at import when numpy is absent; nothing here needs numpy.
warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
import torch  # noqa: E402
import torch.nn as nn
import torch.nn.functional as F


class GroupedBatchNorm(nn.BatchNorm2d):
    """BN statistics per group of the batch in one call, as MoCo's single-GPU demo simulates its
    per-GPU BN: sample b is in group b % G, the batch is read as [B/G, G*C, H, W], and the
    running statistics are averaged over the groups."""

    def __init__(self, channels, groups):
        super().__init__(channels)
        self.groups = groups

    def forward(self, x):
        if not self.training or self.groups == 1:
            return super().forward(x)
        g, (n, c, h, w) = self.groups, x.shape
        mean, var = self.running_mean.repeat(g), self.running_var.repeat(g)
        out = F.batch_norm(x.reshape(n // g, g * c, h, w), mean, var, self.weight.repeat(g),
                           self.bias.repeat(g), True, self.momentum, self.eps)
        with torch.no_grad():
            self.running_mean.copy_(mean.view(g, c).mean(0))
            self.running_var.copy_(var.view(g, c).mean(0))
        return out.view(n, c, h, w)


BN_GROUPS = 1  # set from --bn_groups before the models are built


def BatchNorm(channels):
    return GroupedBatchNorm(channels, BN_GROUPS)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, width, stride):
        super().__init__()
        cout = width * 4
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = BatchNorm(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = BatchNorm(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = BatchNorm(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), BatchNorm(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


class Basic(nn.Module):
    expansion = 1

    def __init__(self, cin, width, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 3, stride, 1, bias=False)
        self.bn1 = BatchNorm(width)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = BatchNorm(width)
        self.down = None
        if stride != 1 or cin != width:
            self.down = nn.Sequential(nn.Conv2d(cin, width, 1, stride, bias=False), BatchNorm(width))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


def resnet(depth, width, in_channels, small_stem):
    block, layers = {18: (Basic, [2, 2, 2, 2]), 50: (Bottleneck, [3, 4, 6, 3])}[depth]
    if small_stem:  # the default profile's stride-2 3x3 stem without max-pool
        stem = [nn.Conv2d(in_channels, width, 3, 2, 1, bias=False), BatchNorm(width), nn.ReLU()]
    else:
        stem = [nn.Conv2d(in_channels, width, 7, 2, 3, bias=False), BatchNorm(width), nn.ReLU(),
                nn.MaxPool2d(3, 2, 1)]
    modules, cin = stem, width
    for i, n in enumerate(layers):
        for j in range(n):
            modules.append(block(cin, width * 2 ** i, 2 if (j == 0 and i > 0) else 1))
            cin = width * 2 ** i * block.expansion
    modules += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*modules), cin


class Encoder(nn.Module):
    def __init__(self, args):
        super().__init__()
        self.backbone, dim = resnet(args.depth, args.width, args.channels, args.small_stem)
        self.head = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, 128))

    def forward(self, x):
        return F.normalize(self.head(self.backbone(x)), dim=1)


class BackboneStep(nn.Module):
    """The backbone alone, as //bench:mixing_benchmark's backbone row: one view through the
    query-layout ResNet and a 128-way linear probe, cross entropy, backward, SGD."""

    def __init__(self, args):
        super().__init__()
        self.q, dim = resnet(args.depth, args.width, args.channels, args.small_stem)
        self.probe = nn.Linear(dim, 128)
        self.register_buffer("labels", torch.randint(0, 128, (args.batch,)))

    def forward(self, im_q, im_k):
        return F.cross_entropy(self.probe(self.q(im_q)), self.labels)


class MoCHi(nn.Module):
    def __init__(self, args, mixing):
        super().__init__()
        self.q, self.k = Encoder(args), Encoder(args)
        self.k.load_state_dict(self.q.state_dict())
        for p in self.k.parameters():
            p.requires_grad = False
        self.register_buffer("queue", F.normalize(torch.randn(args.queue_size, 128), dim=1))
        self.ptr, self.tau, self.mixing = 0, args.tau, mixing
        self.shuffle_keys = args.bn_groups > 1

    def forward(self, im_q, im_k):
        with torch.no_grad():
            for pq, pk in zip(self.q.parameters(), self.k.parameters()):
                pk.mul_(0.999).add_(pq.detach(), alpha=0.001)
        q = self.q(im_q).float()
        with torch.no_grad():
            if self.shuffle_keys:  # keys in BN groups of a shuffled batch, as MoCo's demo
                order = torch.randperm(im_k.size(0), device=im_k.device)
                k = self.k(im_k[order]).float()[torch.argsort(order)]
            else:
                k = self.k(im_k).float()
        queue = self.queue.clone().detach()  # as MoCo: the enqueue below must not touch autograd's copy
        l_pos = (q * k).sum(1, keepdim=True)
        l_neg = q @ queue.t()
        logits = [l_pos, l_neg]
        if self.mixing is not None:
            n, s, s2 = self.mixing
            with torch.no_grad():
                idx = l_neg.topk(n, dim=1).indices                        # [B, N]
                hard = queue[idx]                                     # [B, N, D]
                b = q.size(0)
                i = torch.randint(n, (b, s), device=q.device)
                j = torch.randint(n, (b, s), device=q.device)
                a = torch.rand(b, s, 1, device=q.device)
                h = F.normalize(a * hard.gather(1, i[..., None].expand(-1, -1, 128)) +
                                (1 - a) * hard.gather(1, j[..., None].expand(-1, -1, 128)), dim=2)
                jq = torch.randint(n, (b, s2), device=q.device)
                beta = torch.rand(b, s2, 1, device=q.device) * 0.5
                h2 = F.normalize(beta * q.detach()[:, None] +
                                 (1 - beta) * hard.gather(1, jq[..., None].expand(-1, -1, 128)), dim=2)
            logits += [torch.einsum("bd,bsd->bs", q, h), torch.einsum("bd,bsd->bs", q, h2)]
        logits = torch.cat(logits, 1) / self.tau
        loss = F.cross_entropy(logits, torch.zeros(q.size(0), dtype=torch.long, device=q.device))
        with torch.no_grad():
            slots = (torch.arange(k.size(0), device=k.device) + self.ptr) % self.queue.size(0)
            self.queue[slots] = k
            self.ptr = (self.ptr + k.size(0)) % self.queue.size(0)
        return loss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--config", default="", help="the C++ run's config, for the record only")
    parser.add_argument("--depth", type=int, default=50)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--image_size", type=int, default=224)
    parser.add_argument("--small_stem", action="store_true")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--queue_size", type=int, default=65536)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    parser.add_argument("--tau", type=float, default=0.2)
    parser.add_argument("--bn_groups", type=int, default=1,
                        help="BN statistics groups (MoCo's single-GPU demo); keys shuffled")
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads; 0 = keep")
    parser.add_argument("--mixings", default="1024:512:256",
                        help="MoCHi variants N:s:s', comma-separated (empty: MoCo-v2 only)")
    parser.add_argument("--backbone", action="store_true",
                        help="also the backbone alone (one view, 128-way probe, SGD)")
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    global BN_GROUPS
    BN_GROUPS = args.bn_groups
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(0)
    im_q = torch.randn(args.batch, args.channels, args.image_size, args.image_size, device=device)
    im_k = torch.randn_like(im_q)
    results = []
    variants = [("MoCo-v2", None)]
    for setting in filter(None, args.mixings.split(",")):
        n, s, s2 = (int(v) for v in setting.split(":"))
        variants.append((f"MoCHi({n},{s},{s2})", (n, s, s2)))
    models = []
    for name, mixing in variants:
        model = MoCHi(args, mixing).to(device)
        sgd = torch.optim.SGD(model.q.parameters(), lr=0.03, momentum=0.9, weight_decay=1e-4)
        models.append((name, model, sgd, []))
    if args.backbone:
        model = BackboneStep(args).to(device)
        sgd = torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9, weight_decay=1e-4)
        models.append(("backbone", model, sgd, []))

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for step in range(args.warmup + args.steps):  # variants interleaved, as the C++ benchmark
        for name, model, sgd, times in models:
            sync()
            t0 = time.perf_counter()
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.precision == "bf16"):
                loss = model(im_q, im_k)
            sgd.zero_grad(set_to_none=True)
            loss.backward()
            sgd.step()
            sync()
            if step >= args.warmup:
                times.append(time.perf_counter() - t0)
    for name, _, _, times in models:
        median = sorted(times)[len(times) // 2]
        results.append({"variant": name, "precision": args.precision, "batch": args.batch,
                        "queue_size": args.queue_size, "steps": args.steps,
                        "step_ms_median": 1e3 * median, "images_per_second": args.batch / median,
                        "torch": torch.__version__, "device": str(device)})
        print(f"plain PyTorch {name} {args.precision}: {1e3 * median:.1f} ms/step, "
              f"{args.batch / median:.0f} img/s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
