"""PyTorch peer of bench/trainer.ts: trains the same U-Net as libs/seg (conv-BN-ReLU x2 per
level, max-pool, 2x2 transposed-conv up-sampling, concatenated skips, 1x1 logits head) with
Adam and pixel-wise cross-entropy on random data, and prints one JSON line with the training
throughput in images per second at a fixed thread count.

usage: python torch_unet.py --width 8 --depth 2 --size 64 --batch 8 --threads 1 --steps 30 [--device cuda]
"""
import argparse
import json
import time

import torch
from torch import nn


def conv_bn_relu(cin, cout, k, bn=True, momentum=0.1, eps=1e-5):
    layers = [nn.Conv2d(cin, cout, k, padding=k // 2, bias=not bn)]
    if bn:
        layers.append(nn.BatchNorm2d(cout, momentum=momentum, eps=eps))
    return [*layers, nn.ReLU(inplace=True)]


class UNet(nn.Module):
    def __init__(self, width, depth, k=3, channels=3, classes=5, bn=True, momentum=0.1, eps=1e-5):
        super().__init__()
        block = lambda cin, cout: conv_bn_relu(cin, cout, k, bn, momentum, eps)
        self.enc = nn.ModuleList()
        cin = channels
        for i in range(depth):
            f = width * 2**i
            self.enc.append(nn.Sequential(*block(cin, f), *block(f, f)))
            cin = f
        fb = width * 2**depth
        self.bottleneck = nn.Sequential(*block(cin, fb), *block(fb, fb))
        self.up = nn.ModuleList()
        self.dec = nn.ModuleList()
        cin = fb
        for i in reversed(range(depth)):
            f = width * 2**i
            self.up.append(nn.ConvTranspose2d(cin, f, 2, stride=2))
            self.dec.append(nn.Sequential(*block(2 * f, f), *block(f, f)))
            cin = f
        self.head = nn.Conv2d(cin, classes, 1)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        skips = []
        for block in self.enc:
            x = block(x)
            skips.append(x)
            x = self.pool(x)
        x = self.bottleneck(x)
        for up, dec, skip in zip(self.up, self.dec, reversed(skips)):
            x = dec(torch.cat([up(x), skip], dim=1))
        return self.head(x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--width", type=int, default=8)
    p.add_argument("--depth", type=int, default=2)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--device", default="cpu")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dev = torch.device(a.device)
    model = UNet(a.width, a.depth).to(dev)
    params = sum(t.numel() for t in model.parameters()) + sum(b.numel() for n, b in model.named_buffers() if "num_batches" not in n)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(a.batch, 3, a.size, a.size, device=dev)
    y = torch.randint(0, 5, (a.batch, a.size, a.size), device=dev)
    model.train()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()  # loss.item() waits for the step, on the GPU too
    secs = time.perf_counter() - t0
    print(json.dumps({"images_per_s": a.steps * a.batch / secs, "seconds": secs, "params": params, "threads": torch.get_num_threads(), "torch": torch.__version__, "device": str(dev), "peak_gpu_mb": torch.cuda.max_memory_allocated() / 2**20 if dev.type == "cuda" else None}))


if __name__ == "__main__":
    main()
