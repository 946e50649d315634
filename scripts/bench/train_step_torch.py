#!/usr/bin/env python3
"""The training step of `etrack bench train`, in PyTorch: our own PyTorch definition of the
EfficientTrack FGAF models (architecture.md §2-5, tensor names as our safetensors files), the
recipe's loss (OSTrack: focal on a Gaussian heat map + 2 GIoU + 5 L1 at the predicted argmax) and
AdamW with clip 0.1, on a random batch. Prints one JSON object per thread count.

Written for torch 2.13.0+cpu (scripts/setup_torch.sh installs it; CI does not need it).

    python3 scripts/bench/train_step_torch.py --model et-128-fgaf3-bn --batch 32 --threads 1,2
"""
import argparse, json, math, resource, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F

MODELS = {"et-128-fgaf3-bn": 128, "et-256-fgaf3": 256}


class ConvBN(nn.Module):
    def __init__(self, cin, cout, k, s, p, dim=2):
        super().__init__()
        self.conv = (nn.Conv2d if dim == 2 else nn.Conv1d)(cin, cout, k, s, p, bias=False)
        self.bn = (nn.BatchNorm2d if dim == 2 else nn.BatchNorm1d)(cout)

    def forward(self, x):
        return self.bn(self.conv(x))


class Stem(nn.Module):  # conv3x3: four Conv3x3 s2 p1 + BN, hard-swish between
    def __init__(self, c):
        super().__init__()
        widths = [3, c // 8, c // 4, c // 2, c]
        self.stages = nn.ModuleList(ConvBN(widths[i], widths[i + 1], 3, 2, 1) for i in range(4))

    def forward(self, x):
        for i, s in enumerate(self.stages):
            x = s(x)
            if i < 3:
                x = F.hardswish(x)
        return x


class FFN(nn.Module):  # Conv1d 1x1 + BN, ReLU, Conv1d 1x1 + BN (channel-major)
    def __init__(self, c, r):
        super().__init__()
        self.fc1, self.fc2 = ConvBN(c, r * c, 1, 1, 0, dim=1), ConvBN(r * c, c, 1, 1, 0, dim=1)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


class GA(nn.Module):  # grouped attention, h heads, key dim k, value dim C/h
    def __init__(self, c, h=4, k=16):
        super().__init__()
        self.h, self.k, self.d = h, k, (c // (h * k)) * k
        self.qkv = nn.Conv1d(c, h * (2 * k + self.d), 1, groups=h, bias=True)
        self.proj = nn.Conv1d(h * self.d, c, 1, bias=True)
        self.bn = nn.BatchNorm1d(c)

    def forward(self, x):
        b, _, n = x.shape
        qkv = self.qkv(x).view(b, self.h, 2 * self.k + self.d, n)
        q, k, v = qkv.split([self.k, self.k, self.d], dim=2)
        a = (q.transpose(-2, -1) @ k * self.k ** -0.5).softmax(dim=-1)  # b h n n
        out = (v @ a.transpose(-2, -1)).reshape(b, self.h * self.d, n)
        return self.bn(self.proj(F.relu(out)))


class Tower(nn.Module):
    def __init__(self, c, width, outputs):
        super().__init__()
        w = [c, width, width // 2, width // 4, width // 8]
        self.convs = nn.ModuleList(nn.Sequential(nn.Conv2d(w[i], w[i + 1], 3, 1, 1), nn.BatchNorm2d(w[i + 1]), nn.ReLU())
                                   for i in range(4))
        self.final = nn.Conv2d(w[4], outputs, 1)

    def forward(self, x):
        for c in self.convs:
            x = c(x)
        return self.final(x)


class Model(nn.Module):
    def __init__(self, c, depth=3, head=128):
        super().__init__()
        self.patch_embed = Stem(c)
        self.pos_z = nn.Parameter(torch.zeros(1, 64, c))
        self.pos_x = nn.Parameter(torch.zeros(1, 256, c))
        self.blocks = nn.ModuleList(nn.ModuleList([FFN(c, 2), GA(c), FFN(c, 2)]) for _ in range(depth))
        self.norm = nn.LayerNorm(c)
        self.towers = nn.ModuleList([Tower(c, head, 1), Tower(c, head, 2), Tower(c, head, 2)])  # ctr, offset, size

    def forward(self, z, x):
        b = z.shape[0]
        tz = self.patch_embed(z).flatten(2).transpose(1, 2) + self.pos_z
        tx = self.patch_embed(x).flatten(2).transpose(1, 2) + self.pos_x
        t = torch.cat([tz, tx], 1).transpose(1, 2)  # channel-major B C N
        for blk in self.blocks:
            for sub in blk:
                t = t + sub(t)
        t = self.norm(t.transpose(1, 2))
        f = t[:, -256:].transpose(1, 2).reshape(b, -1, 16, 16)
        score = self.towers[0](f).sigmoid().clamp(1e-4, 1 - 1e-4)
        offset = self.towers[1](f)
        size = self.towers[2](f).sigmoid().clamp(1e-4, 1 - 1e-4)
        return score, size, offset

    def etrack_names(self):
        """Our tensor name for each PyTorch parameter/buffer name."""
        out = {}
        for name in self.state_dict():
            if name.endswith("num_batches_tracked"):
                continue
            n = name.replace("patch_embed.stages.", "patch_embed.")
            if n.startswith("towers."):
                parts = n.split(".")
                t = ["ctr", "offset", "size"][int(parts[1])]
                if parts[2] == "convs":
                    n = f"box_head.conv{int(parts[3]) + 1}_{t}.{parts[4]}.{parts[5]}"
                else:
                    n = f"box_head.conv5_{t}.{parts[3]}"
            out[name] = n
        return out


def heatmap(boxes, side=16):  # OSTrack generate_heatmap (CenterNet gaussian_radius, draw_gaussian)
    maps = torch.zeros(len(boxes), side, side)
    for i, (x, y, w, h) in enumerate((boxes * side).tolist()):
        cx, cy = round(x + w / 2), round(y + h / 2)  # Python round: half to even, as torch.round
        m = 0.7
        r = min((b + math.sqrt(b * b - 4 * a * c)) / 2 for a, b, c in
                [(1, h + w, w * h * (1 - m) / (1 + m)), (4, 2 * (h + w), (1 - m) * w * h), (4 * m, -2 * m * (h + w), (m - 1) * w * h)])
        r = int(max(r, 0))
        sigma = (2 * r + 1) / 6
        if not (0 <= cx < side and 0 <= cy < side):
            continue
        for yy in range(max(0, cy - r), min(side, cy + r + 1)):
            for xx in range(max(0, cx - r), min(side, cx + r + 1)):
                g = math.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma * sigma))
                maps[i, yy, xx] = max(maps[i, yy, xx].item(), g if g >= 1.1920929e-07 else 0)
    return maps


def loss_fn(score, size, offset, gt, gauss):
    p = score[:, 0].clamp(min=1e-12)
    pos = gauss.eq(1).float()
    neg = gauss.lt(1).float()
    focal = -(torch.log(p) * (1 - p) ** 2 * pos + torch.log(1 - p) * p ** 2 * (1 - gauss) ** 4 * neg).sum() / pos.sum().clamp(min=1)
    b = score.shape[0]
    idx = score.flatten(1).argmax(1)
    ix, iy = (idx % 16).float(), (idx // 16).float()
    sz = size.flatten(2).gather(2, idx.view(b, 1, 1).expand(b, 2, 1))[..., 0]
    of = offset.flatten(2).gather(2, idx.view(b, 1, 1).expand(b, 2, 1))[..., 0]
    cx, cy = (ix + of[:, 0]) / 16, (iy + of[:, 1]) / 16
    pred = torch.stack([cx - sz[:, 0] / 2, cy - sz[:, 1] / 2, cx + sz[:, 0] / 2, cy + sz[:, 1] / 2], 1)
    g = torch.cat([gt[:, :2], gt[:, :2] + gt[:, 2:]], 1).clamp(0, 1)
    lt, rb = torch.max(pred[:, :2], g[:, :2]), torch.min(pred[:, 2:], g[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(1)
    union = (pred[:, 2:] - pred[:, :2]).prod(1) + (g[:, 2:] - g[:, :2]).prod(1) - inter
    hull = (torch.max(pred[:, 2:], g[:, 2:]) - torch.min(pred[:, :2], g[:, :2])).clamp(min=0).prod(1)
    giou = inter / union - (hull - union) / hull
    return focal + 2 * (1 - giou).mean() + 5 * F.l1_loss(pred, g)


def bench(model_name, batch, threads, steps):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Model(MODELS[model_name]).train()
    opt = torch.optim.AdamW(model.parameters(), lr=4e-4, weight_decay=1e-4)
    z, x = torch.rand(batch, 3, 128, 128) * 4 - 2, torch.rand(batch, 3, 256, 256) * 4 - 2
    gt = torch.cat([0.3 + 0.1 * torch.rand(batch, 2), 0.2 + 0.1 * torch.rand(batch, 2)], 1)
    gauss = heatmap(gt)
    times = []
    for i in range(steps + 1):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(*model(z, x), gt, gauss)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        opt.step()
        if i > 0:
            times.append(time.perf_counter() - t0)
    times.sort()
    med = times[len(times) // 2] if len(times) % 2 else (times[len(times) // 2 - 1] + times[len(times) // 2]) / 2
    return {"runtime": f"torch {torch.__version__}", "model": model_name, "threads": threads, "batch": batch, "step_s": med,
            "samples_per_s": batch / med, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "params": sum(p.numel() for p in model.parameters())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="et-128-fgaf3-bn", choices=sorted(MODELS))
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", default="1")
    ap.add_argument("--steps", type=int, default=5)
    a = ap.parse_args()
    for t in [int(v) for v in a.threads.split(",")]:
        print(json.dumps(bench(a.model, a.batch, t, a.steps)), flush=True)


if __name__ == "__main__":
    main()
