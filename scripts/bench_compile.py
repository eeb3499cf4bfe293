"""Does ``torch.compile`` speed up a training step? Eager vs compiled in one process.

    python scripts/bench_compile.py [--method supervised] [--threads 1] [--repeats 5]

The `cpu` profile's network and crop size in fp32, one SGD step on a random batch; prints the
per-step seconds of both and the ratio of their best steady-state steps (the first steps include
compilation and allocator warm-up). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from dtml.config import load_profile
from dtml.methods import Batch
from dtml.train import build


def step_times(method_name: str, compiled: bool, repeats: int) -> list[float]:
    cfg = load_profile("cpu", method=method_name, precision="fp32")
    torch.manual_seed(0)
    method, nets, opt = build(cfg, torch.device("cpu"))
    if compiled:
        nets = {k: torch.compile(v) for k, v in nets.items()}
    n = cfg.labeled_bs + (cfg.unlabeled_bs if method.uses_unlabeled else 0)
    image = torch.randn(n, 1, *cfg.patch).contiguous(memory_format=torch.channels_last_3d)
    label = (torch.rand(cfg.labeled_bs, 1, *cfg.patch) > 0.7).to(torch.uint8)
    batch, times = Batch(image=image, label=label), []
    for _ in range(repeats):
        t = time.perf_counter()
        loss, _ = method.loss(nets, batch, 100, cfg)
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t)
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--method", default="supervised", help="training method (default: supervised)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: 1)")
    p.add_argument("--repeats", type=int, default=5, help="steps per variant (default: 5)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    eager = step_times(args.method, False, args.repeats)
    compiled = step_times(args.method, True, args.repeats)
    ratio = min(eager[2:]) / min(compiled[2:])
    print(json.dumps({"eager_s": eager, "compiled_s": compiled, "ratio": round(ratio, 3)}))


if __name__ == "__main__":
    main()
