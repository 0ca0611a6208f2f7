#!/usr/bin/python3
"""Times SegForge's engine against PyTorch on the same network, side by side.

Builds the reference U-Net with `segforge-cli template`, reads its graph back
and builds the same network in PyTorch (the parameter count must equal the one
`segforge-cli check --json` reports), then times, with the same thread count:

  * PyTorch: a batch training step (forward, loss, backward, Adam step) in the
    default layout and in channels_last, and single-image inference;
  * SegForge: `segforge-cli bench PROJECT --json` on the same project;

and prints both and the ratios (SegForge / PyTorch: below 1 means we are
faster). Needs Debian's python3-torch, so run it with /usr/bin/python3:

    /usr/bin/python3 bench/compare_torch.py [--cli build/bench/app/segforge-cli]

Timings on a shared machine are noisy: the script reports medians, and
--repeat runs the whole comparison several times.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    sys.exit("compare_torch.py needs PyTorch: run it with /usr/bin/python3 (Debian's python3-torch)")


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


class GraphNet(nn.Module):
    """A SegForge project graph executed in PyTorch (NCHW), node by node."""

    def __init__(self, graph):
        super().__init__()
        self.nodes = {n["id"]: n for n in graph["nodes"]}
        self.inputs = {}  # node id -> {port: (node, port)}
        for e in graph["edges"]:
            self.inputs.setdefault(e["to"]["node"], {})[e["to"]["port"]] = (e["from"]["node"], e["from"]["port"])
        self.order = self._topological_order()
        self.layers = nn.ModuleDict()
        channels = {}  # (node, port) -> channel count
        for nid in self.order:
            node = self.nodes[nid]
            op, a = node["op"], node.get("attrs", {})
            ins = self.inputs.get(nid, {})
            cin = [channels[src] for _, src in sorted(ins.items())]
            key = str(nid)
            if op == "Dataset":
                channels[(nid, "image")] = a["channels"]
                channels[(nid, "mask")] = 1
                continue
            if op == "Conv2D":
                k, s = pair(a.get("kernel_size", 3)), pair(a.get("strides", 1))
                d = pair(a.get("dilation_rate", 1))
                same = a.get("padding", "valid") == "same"
                if same and (s != (1, 1) or k[0] % 2 == 0 or k[1] % 2 == 0):
                    raise SystemExit(f"Conv2D '{node['name']}': only odd kernels with stride 1 for 'same'")
                pad = (d[0] * (k[0] - 1) // 2, d[1] * (k[1] - 1) // 2) if same else (0, 0)
                self.layers[key] = nn.Conv2d(cin[0], a["filters"], k, s, pad, d, bias=a.get("use_bias", True))
                channels[(nid, "output")] = a["filters"]
            elif op == "Conv2DTranspose":
                k, s = pair(a.get("kernel_size", 3)), pair(a.get("strides", 1))
                if a.get("padding", "valid") == "same" and k != s:
                    raise SystemExit(f"Conv2DTranspose '{node['name']}': only kernel == strides for 'same'")
                self.layers[key] = nn.ConvTranspose2d(cin[0], a["filters"], k, s, bias=a.get("use_bias", True))
                channels[(nid, "output")] = a["filters"]
            elif op == "Concatenate":
                channels[(nid, "output")] = sum(cin)
            elif op in ("Rescale", "MaxPool2D", "UpSampling2D", "Activation"):
                channels[(nid, "output")] = cin[0]
            elif op in ("BCEDice", "BinaryCrossentropy", "Dice", "DiceCoefficient", "IoU"):
                pass
            else:
                raise SystemExit(f"compare_torch.py does not know op {op} ('{node['name']}')")

    def _topological_order(self):
        order, seen = [], set()

        def visit(nid):
            if nid in seen:
                return
            seen.add(nid)
            for src, _ in self.inputs.get(nid, {}).values():
                visit(src)
            order.append(nid)

        for nid in sorted(self.nodes):
            visit(nid)
        return order

    def forward(self, image, mask, with_loss=True):
        vals = {}
        loss = None
        for nid in self.order:
            node = self.nodes[nid]
            op, a = node["op"], node.get("attrs", {})
            ins = self.inputs.get(nid, {})

            def arg(port):
                return vals[ins[port]]

            if op == "Dataset":
                vals[(nid, "image")], vals[(nid, "mask")] = image, mask
            elif op == "Rescale":  # the mask's is None at inference
                x = arg("input")
                vals[(nid, "output")] = None if x is None else x * a.get("scale", 1.0) + a.get("offset", 0.0)
            elif op in ("Conv2D", "Conv2DTranspose"):
                y = self.layers[str(nid)](arg("input"))
                act = a.get("activation", "linear")
                if act == "relu":
                    y = F.relu(y)
                elif act == "sigmoid":
                    y = torch.sigmoid(y)
                elif act != "linear":
                    raise SystemExit(f"activation {act} not supported here")
                vals[(nid, "output")] = y
            elif op == "MaxPool2D":
                p = pair(a.get("pool_size", 2))
                vals[(nid, "output")] = F.max_pool2d(arg("input"), p, pair(a.get("strides", p)))
            elif op == "UpSampling2D":
                vals[(nid, "output")] = F.interpolate(arg("input"), scale_factor=pair(a.get("size", 2)), mode="nearest")
            elif op == "Concatenate":
                parts = [vals[ins[p]] for p in sorted(ins)]
                vals[(nid, "output")] = torch.cat(parts, dim=1)
            elif op in ("BCEDice", "BinaryCrossentropy", "Dice") and with_loss:
                p, t = arg("prediction"), arg("target")
                eps = 1e-7
                bce = F.binary_cross_entropy(p.clamp(eps, 1 - eps), t)
                term = bce
                if op != "BinaryCrossentropy":
                    e = a.get("epsilon", 1e-6)
                    inter = (p * t).flatten(1).sum(1)
                    total = (p + t).flatten(1).sum(1)
                    dice = (1 - (2 * inter + e) / (total + e)).mean()
                    term = dice if op == "Dice" else a.get("bce_weight", 1.0) * bce + a.get("dice_weight", 1.0) * dice
                loss = term if loss is None else loss + term
            elif op in ("DiceCoefficient", "IoU") and with_loss:
                with torch.no_grad():  # metrics, as the engine computes them each step
                    p, t = (arg("prediction") > 0.5).float(), arg("target")
                    inter = (p * t).flatten(1).sum(1)
                    (2 * inter / ((p + t).flatten(1).sum(1) + 1e-6)).mean()
        if not with_loss:
            for nid in reversed(self.order):
                if self.nodes[nid]["op"] in ("Conv2D", "Conv2DTranspose"):
                    return vals[(nid, "output")]
        return loss


def run(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return r.stdout


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def time_torch(net, batch, size, channels, steps, channels_last, lr):
    torch.manual_seed(0)
    image = torch.rand(batch, channels, size, size) * 255
    mask = (torch.rand(batch, 1, size, size) < 0.5).float() * 255
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
        image = image.contiguous(memory_format=torch.channels_last)
        mask = mask.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    train = []
    for s in range(steps + 1):  # one warm-up step
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = net(image, mask)
        loss.backward()
        opt.step()
        if s:
            train.append((time.perf_counter() - t0) * 1e3)
    one = image[:1].contiguous(memory_format=torch.channels_last) if channels_last else image[:1]
    infer = []
    with torch.no_grad():
        for s in range(steps + 1):
            t0 = time.perf_counter()
            net(one, None, with_loss=False)
            if s:
                infer.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(train), statistics.median(infer)


def torch_in_child(args, project_path, channels_last):
    """One PyTorch measurement in a fresh process, so its peak RSS is its own."""
    env = dict(os.environ)
    if args.omp_wait_policy:
        env["OMP_WAIT_POLICY"] = args.omp_wait_policy
    out = run([sys.executable, os.path.abspath(__file__), "--torch-child", project_path,
               "--batch", str(args.batch), "--steps", str(args.steps), "--threads", str(args.threads)]
              + (["--channels-last"] if channels_last else []), env)
    return json.loads(out.strip().splitlines()[-1])


def child_main(args):
    torch.set_num_threads(args.threads)
    with open(args.torch_child) as f:
        project = json.load(f)
    net = GraphNet(project["graph"])
    data = next(n for n in project["graph"]["nodes"] if n["op"] == "Dataset")["attrs"]
    lr = project.get("training", {}).get("learning_rate", 1e-3)
    train, infer = time_torch(net, args.batch, data["height"], data["channels"], args.steps,
                              args.channels_last, lr)
    print(json.dumps({"train_ms_median": train, "infer_ms_median": infer, "peak_rss_mib": peak_rss_mib(),
                      "parameters": sum(p.numel() for p in net.parameters())}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cli", default=None,
                    help="segforge-cli to run (default: build/bench's, else build/test's, as the README builds them)")
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--filters", type=int, default=16)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--channels", type=int, default=3)
    ap.add_argument("--classes", type=int, default=1)
    ap.add_argument("--up", default="upsample_conv", choices=["upsample_conv", "transpose", "upsample"],
                    help="decoder upsampling (default: UpSampling2D + 3×3 conv, the reference network "
                         "of the engine issue: 2,158,705 parameters)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1, help="run the whole comparison this many times")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    ap.add_argument("--omp-wait-policy", default="PASSIVE",
                    help="OMP_WAIT_POLICY for PyTorch (default PASSIVE: on a shared, loaded machine OpenMP's "
                         "spin-waiting made PyTorch 2-3× slower; '' keeps the environment's)")
    ap.add_argument("--torch-child", help=argparse.SUPPRESS)
    ap.add_argument("--channels-last", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torch_child:
        return child_main(args)
    if args.cli is None:
        candidates = ["build/bench/app/segforge-cli", "build/test/app/segforge-cli"]
        args.cli = next((c for c in candidates if os.path.exists(c)), None)
        if args.cli is None:
            raise SystemExit("no segforge-cli in " + " or ".join(candidates) + "; build one or pass --cli")

    with tempfile.TemporaryDirectory() as tmp:
        project_path = os.path.join(tmp, "unet.segforge")
        run([args.cli, "template", "unet", "--depth", str(args.depth), "--filters", str(args.filters),
             "--size", str(args.size), "--channels", str(args.channels), "--classes", str(args.classes),
             "--up", args.up, "-o", project_path])
        ours_params = sum(n["parameters"] for n in json.loads(run([args.cli, "check", project_path, "--json"]))["nodes"])
        with open(project_path) as f:
            torch_params = sum(p.numel() for p in GraphNet(json.load(f)["graph"]).parameters())
        if torch_params != ours_params:
            raise SystemExit(f"parameter counts differ: SegForge {ours_params}, PyTorch {torch_params}")

        runs = {"segforge": [], "torch": [], "torch_channels_last": []}
        for _ in range(args.repeat):
            out = run([args.cli, "bench", project_path, "--batch", str(args.batch), "--steps", str(args.steps),
                       "--threads", str(args.threads), "--json"])
            runs["segforge"].append(json.loads(out.strip().splitlines()[-1]))
            runs["torch"].append(torch_in_child(args, project_path, False))
            runs["torch_channels_last"].append(torch_in_child(args, project_path, True))

    def med(name, key):
        return statistics.median(r[key] for r in runs[name])

    keys = ("train_ms_median", "infer_ms_median", "peak_rss_mib")
    result = {name: {k: med(name, k) for k in keys} for name in runs}
    result["parameters"] = ours_params
    result["gflop_per_step"] = runs["segforge"][0]["train_gflop_per_step"]
    result["segforge"]["gflops"] = med("segforge", "gflops")
    best = min(result["torch"]["train_ms_median"], result["torch_channels_last"]["train_ms_median"])
    result["ratio_train_vs_best_torch"] = result["segforge"]["train_ms_median"] / best
    result["ratio_train_vs_channels_last"] = (result["segforge"]["train_ms_median"]
                                              / result["torch_channels_last"]["train_ms_median"])
    result["ratio_infer_vs_torch"] = result["segforge"]["infer_ms_median"] / min(
        result["torch"]["infer_ms_median"], result["torch_channels_last"]["infer_ms_median"])
    result["ratio_rss_vs_channels_last"] = (result["segforge"]["peak_rss_mib"]
                                            / result["torch_channels_last"]["peak_rss_mib"])
    result.update(batch=args.batch, threads=args.threads, steps=args.steps, repeat=args.repeat,
                  torch_version=torch.__version__, omp_wait_policy=args.omp_wait_policy or None)
    if args.json:
        print(json.dumps(result, indent=2))
        return

    print(f"U-Net depth {args.depth}, {args.filters} filters, {args.size}×{args.size}×{args.channels}, up={args.up}: "
          f"{ours_params} parameters (both), {result['gflop_per_step']:.1f} GFLOP per training step")
    print(f"batch {args.batch}, {args.threads} threads, median of {args.steps} steps"
          f"{f' × {args.repeat} runs' if args.repeat > 1 else ''}; torch {torch.__version__}"
          f"{f', OMP_WAIT_POLICY={args.omp_wait_policy}' if args.omp_wait_policy else ''}")
    print(f"{'':28}{'train step ms':>14}{'infer ms':>10}{'peak RSS MiB':>14}")
    for name, label in (("segforge", "SegForge"), ("torch", "PyTorch (NCHW)"),
                        ("torch_channels_last", "PyTorch (channels_last)")):
        r = result[name]
        print(f"{label:28}{r['train_ms_median']:14.1f}{r['infer_ms_median']:10.2f}{r['peak_rss_mib']:14.0f}")
    print(f"SegForge / best PyTorch train step: {result['ratio_train_vs_best_torch']:.2f}×  "
          f"(vs channels_last {result['ratio_train_vs_channels_last']:.2f}×); inference "
          f"{result['ratio_infer_vs_torch']:.2f}×; peak RSS vs channels_last "
          f"{result['ratio_rss_vs_channels_last']:.2f}×; SegForge {result['segforge']['gflops']:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
