#!/usr/bin/python3
"""Times SegForge's engine against PyTorch on the same network, side by side.

Builds the reference U-Net with `segforge-cli template`, reads its graph back
and builds the same network in PyTorch (the parameter count, moving statistics
of BatchNormalization included, must equal the one `segforge-cli check --json`
reports), then times, with the same thread count:

  * PyTorch: a batch training step (forward, loss, metrics, backward, Adam step)
    in the default layout and in channels_last, and single-image inference;
  * SegForge: `segforge-cli bench PROJECT --json` on the same project;

and prints both and the ratios (SegForge / PyTorch: below 1 means we are
faster). Needs Debian's python3-torch, so run it with /usr/bin/python3:

    /usr/bin/python3 bench/compare_torch.py [--cli build/bench/app/segforge-cli]

Network variants (--variants, a comma list; default base): base is the
template as the options give it (--batchnorm, --classes); batchnorm adds batch
normalization after every convolution; multiclass has a K-class softmax head
and SparseCategoricalCrossentropy on integer label masks (K = --classes, or 3).

Modes:
  * default: one comparison per variant (and per --batch value), as a text block;
  * --grid: filters × sizes × batches (--grid-filters, --grid-sizes,
    --grid-batches) for each variant, one markdown table (goals: step ≤ 0.5×,
    peak RSS ≤ 0.7× PyTorch channels_last; a ✗ marks a miss). Points whose
    estimated peak RSS, on either side, exceeds --max-gib are skipped: the
    estimate extrapolates from the points already measured in proportion to the
    activation bytes (per-sample activations from `check --json` × batch);
    NCHW PyTorch only with --with-nchw;
  * --threads-list 1,2,4,8,16: both engines at each thread count (--batch may be
    a list, e.g. 8,32), speed-up and parallel efficiency T1 / (n·Tn).
In --grid and --threads-list modes each measurement stops after --grid-seconds
seconds (default 20; 0: always --steps) once it has 2 timed steps, after one
warm-up step; SegForge's step count is chosen from the previous points' times.
--out FILE writes the tables as they grow, --json prints one JSON document,
--repeat N takes the median over N runs of everything.

Threads and waiting: PyTorch runs with OMP_WAIT_POLICY=PASSIVE by default
(--omp-wait-policy; '' keeps the environment's). On a shared, loaded machine
OpenMP's spin-waiting made PyTorch 2-3× slower. SegForge's own thread pool
spins briefly (a bounded pause loop) and then sleeps, whatever the variable.
On a dedicated machine, run the scaling study a second time with
--omp-wait-policy '' (libgomp's default: spin a while, then sleep) to see
PyTorch at its best; the tables say which policy was used.

Timings on a shared machine are noisy: the script reports medians, and
--repeat runs the whole comparison several times.
"""

import argparse
import json
import math
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

LOSS_OPS = ("BCEDice", "BinaryCrossentropy", "Dice", "SparseCategoricalCrossentropy")
METRIC_OPS = ("DiceCoefficient", "IoU", "PixelAccuracy")
STEP_GOAL, RSS_GOAL = 0.5, 0.7  # SegForge / PyTorch channels_last, the engine issue's goals
EFFICIENCY_GOALS = {8: 0.8, 16: 0.7}


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def activate(x, name, alpha=0.3):
    if name == "linear":
        return x
    if name == "relu":
        return F.relu(x)
    if name == "sigmoid":
        return torch.sigmoid(x)
    if name == "softmax":  # across channels
        return F.softmax(x, dim=1)
    if name == "tanh":
        return torch.tanh(x)
    if name == "leaky_relu":
        return F.leaky_relu(x, alpha)
    raise SystemExit(f"activation {name} not supported here")


class KerasBatchNorm(nn.Module):
    """keras.layers.BatchNormalization: Keras momentum m is PyTorch's 1 − m; center and scale
    each switch one affine parameter (PyTorch's affine switches both)."""

    def __init__(self, channels, momentum, epsilon, center, scale):
        super().__init__()
        both = center and scale
        self.bn = nn.BatchNorm2d(channels, eps=epsilon, momentum=1.0 - momentum, affine=both)
        self.gamma = nn.Parameter(torch.ones(channels)) if scale and not both else None
        self.beta = nn.Parameter(torch.zeros(channels)) if center and not both else None

    def forward(self, x):
        y = self.bn(x)
        if self.gamma is not None:
            y = y * self.gamma.view(1, -1, 1, 1)
        if self.beta is not None:
            y = y + self.beta.view(1, -1, 1, 1)
        return y


CAST_DTYPES = {"float32": torch.float32, "int32": torch.int32, "uint8": torch.uint8, "uint16": torch.int32,
               "bool": torch.bool}


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
        self.channels = {}  # (node, port) -> channel count
        channels = self.channels
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
                k, s = pair(a.get("kernel_size", 2)), pair(a.get("strides", 2))
                if a.get("padding", "valid") == "same" and k != s:
                    raise SystemExit(f"Conv2DTranspose '{node['name']}': only kernel == strides for 'same'")
                self.layers[key] = nn.ConvTranspose2d(cin[0], a["filters"], k, s, bias=a.get("use_bias", True))
                channels[(nid, "output")] = a["filters"]
            elif op == "BatchNormalization":
                self.layers[key] = KerasBatchNorm(cin[0], a.get("momentum", 0.99), a.get("epsilon", 1e-3),
                                                  a.get("center", True), a.get("scale", True))
                channels[(nid, "output")] = cin[0]
            elif op == "Concatenate":
                channels[(nid, "output")] = sum(cin)
            elif op in ("Rescale", "MaxPool2D", "UpSampling2D", "Activation", "Cast"):
                channels[(nid, "output")] = cin[0]
            elif op in LOSS_OPS or op in METRIC_OPS:
                pass
            else:
                raise SystemExit(f"compare_torch.py does not know op {op} ('{node['name']}')")
        losses = [nid for nid in self.order if self.nodes[nid]["op"] in LOSS_OPS]
        self.prediction = self.inputs[losses[0]]["prediction"] if losses else None
        # Sparse categorical targets are integer class indices in [0, K); the others 0/max masks.
        sparse = [nid for nid in losses if self.nodes[nid]["op"] == "SparseCategoricalCrossentropy"]
        self.label_classes = channels[self.inputs[sparse[0]]["prediction"]] if sparse else None

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

    def segforge_parameter_count(self):
        """What `segforge-cli check` counts: every parameter plus BatchNormalization's moving statistics."""
        n = sum(p.numel() for p in self.parameters())
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                n += m.running_mean.numel() + m.running_var.numel()
        return n

    def conv_flops_per_sample(self, check):
        """Forward multiply-adds × 2 of the convolutions for one sample, from `check --json`'s shapes."""
        shapes = {n["id"]: {o["port"]: o["shape"] for o in n.get("outputs", [])} for n in check["nodes"]}
        total = 0
        for nid in self.order:
            layer = self.layers[str(nid)] if str(nid) in self.layers else None
            if not isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
                continue
            h, w = shapes[nid]["output"][1:3]
            kh, kw = layer.kernel_size
            if isinstance(layer, nn.ConvTranspose2d):
                h, w = h // layer.stride[0], w // layer.stride[1]
            total += 2 * kh * kw * layer.in_channels * layer.out_channels * h * w
        return total

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
                vals[(nid, "output")] = None if x is None else x * a.get("scale", 1 / 255) + a.get("offset", 0.0)
            elif op == "Cast":
                x = arg("input")
                vals[(nid, "output")] = None if x is None else x.to(CAST_DTYPES[a.get("dtype", "float32")])
            elif op in ("Conv2D", "Conv2DTranspose"):
                y = self.layers[str(nid)](arg("input"))
                vals[(nid, "output")] = activate(y, a.get("activation", "linear"), a.get("alpha", 0.3))
            elif op == "BatchNormalization":
                vals[(nid, "output")] = self.layers[str(nid)](arg("input"))
            elif op == "Activation":
                vals[(nid, "output")] = activate(arg("input"), a.get("activation", "relu"), a.get("alpha", 0.3))
            elif op == "MaxPool2D":
                p = pair(a.get("pool_size", 2))
                s = pair(a.get("strides", 0))
                vals[(nid, "output")] = F.max_pool2d(arg("input"), p, p if s == (0, 0) else s)
            elif op == "UpSampling2D":
                vals[(nid, "output")] = F.interpolate(arg("input"), scale_factor=pair(a.get("size", 2)), mode="nearest")
            elif op == "Concatenate":
                parts = [vals[ins[p]] for p in sorted(ins)]
                vals[(nid, "output")] = torch.cat(parts, dim=1)
            elif op in LOSS_OPS and with_loss:
                term = self._loss(op, a, arg("prediction"), arg("target"))
                loss = term if loss is None else loss + term
            elif op in METRIC_OPS and with_loss:
                with torch.no_grad():  # metrics, as the engine computes them each step
                    self._metric(op, a, arg("prediction"), arg("target"))
        if not with_loss:
            if self.prediction is not None:
                return vals[self.prediction]
            for nid in reversed(self.order):
                if self.nodes[nid]["op"] in ("Conv2D", "Conv2DTranspose"):
                    return vals[(nid, "output")]
        return loss

    @staticmethod
    def _loss(op, a, p, t):
        eps = 1e-7
        if op == "SparseCategoricalCrossentropy":
            # core/kernels/categorical_loss_kernels.cpp: from probabilities, clip to [eps, 1 − eps]
            # (no gradient outside), then renormalise: log Σ clip(p) − log clip(p_t); the mean over
            # the pixels whose class is not ignore_class.
            k = p.shape[1]
            t = t.long()
            if t.dim() == p.dim():
                t = t.squeeze(1)
            ignore = a.get("ignore_class", -1)
            if a.get("from_logits", False):
                return F.cross_entropy(p, t, ignore_index=ignore if ignore >= 0 else -100)
            index = t.clamp(0, k - 1).unsqueeze(1)
            clipped = p.clamp(eps, 1 - eps)
            per = clipped.sum(1, keepdim=True).log() - clipped.gather(1, index).log()
            if ignore >= 0:
                valid = (t != ignore).unsqueeze(1)
                return per[valid].mean() if bool(valid.any()) else per.sum() * 0
            return per.mean()
        bce = F.binary_cross_entropy(p.clamp(eps, 1 - eps), t)
        if op == "BinaryCrossentropy":
            return bce
        e = a.get("epsilon", 1e-6)
        inter = (p * t).flatten(1).sum(1)
        total = (p + t).flatten(1).sum(1)
        dice = (1 - (2 * inter + e) / (total + e)).mean()
        return dice if op == "Dice" else a.get("bce_weight", 1.0) * bce + a.get("dice_weight", 1.0) * dice

    @staticmethod
    def _metric(op, a, p, t):
        """core/kernels/metric_kernels.cpp: thresholded (K = 1) or argmax (K > 1) classes; Dice and
        IoU are the foreground's for K = 1 and the mean over the K classes for K > 1."""
        k = p.shape[1]
        if k == 1:
            pc = (p > a.get("threshold", 0.5)).long().flatten()
            tc = ((t > 0.5) if t.is_floating_point() else (t != 0)).long().flatten()
            classes = 2
        else:
            pc = p.argmax(1).flatten()
            tc = t.argmax(1) if t.shape[1] > 1 else (t.round() if t.is_floating_point() else t).long().squeeze(1)
            tc = tc.flatten()
            classes = k
        if op == "PixelAccuracy":
            return (pc == tc).float().mean()
        inter = torch.bincount(pc[pc == tc], minlength=classes).double()
        pred = torch.bincount(pc, minlength=classes).double()
        truth = torch.bincount(tc, minlength=classes).double()
        e = a.get("epsilon", 1e-6)
        score = (2 * inter + e) / (pred + truth + e) if op == "DiceCoefficient" else (inter + e) / (pred + truth - inter + e)
        return score[1:].mean() if k == 1 else score.mean()


def run(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return r.stdout


def peak_rss_mib():
    """This process's peak resident memory: VmHWM, which (unlike ru_maxrss) does not
    count what the process held before exec (the parent script's PyTorch)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed_loop(fn, steps, seconds):
    """One warm-up call, then `steps` timed calls, or fewer (at least min(2, steps)) once
    `seconds` have passed. Returns the times in ms."""
    fn()
    times, start = [], time.perf_counter()
    while len(times) < steps:
        if seconds and len(times) >= min(2, steps) and time.perf_counter() - start >= seconds:
            break
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return times


def time_torch(net, batch, size, channels, steps, channels_last, lr, seconds=None):
    torch.manual_seed(0)
    image = torch.rand(batch, channels, size, size) * 255
    if net.label_classes:  # class indices, as a PyTorch user would hold them
        mask = torch.randint(0, net.label_classes, (batch, 1, size, size))
    else:
        mask = (torch.rand(batch, 1, size, size) < 0.5).float() * 255
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
        image = image.contiguous(memory_format=torch.channels_last)
        mask = mask.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    losses = []

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss = net(image, mask)
        loss.backward()
        opt.step()
        losses.append(loss.item())

    net.train()
    train = timed_loop(train_step, steps, seconds)
    one = image[:1].contiguous(memory_format=torch.channels_last) if channels_last else image[:1]
    net.eval()  # BatchNormalization uses its moving statistics, as SegForge's inference does
    with torch.no_grad():
        infer = timed_loop(lambda: net(one, None, with_loss=False), steps, seconds)
    return {"train_ms_median": statistics.median(train), "infer_ms_median": statistics.median(infer),
            "train_steps": len(train), "infer_steps": len(infer), "losses": losses}


def torch_in_child(args, project_path, channels_last, batch, threads, steps, seconds=None):
    """One PyTorch measurement in a fresh process, so its peak RSS is its own."""
    env = dict(os.environ)
    if args.omp_wait_policy:
        env["OMP_WAIT_POLICY"] = args.omp_wait_policy
    out = run([sys.executable, os.path.abspath(__file__), "--torch-child", project_path,
               "--batch", str(batch), "--steps", str(steps), "--threads", str(threads)]
              + (["--grid-seconds", str(seconds)] if seconds else [])
              + (["--channels-last"] if channels_last else []), env)
    return json.loads(out.strip().splitlines()[-1])


def child_main(args):
    torch.set_num_threads(args.threads)
    with open(args.torch_child) as f:
        project = json.load(f)
    net = GraphNet(project["graph"])
    data = next(n for n in project["graph"]["nodes"] if n["op"] == "Dataset")["attrs"]
    lr = project.get("training", {}).get("learning_rate", 1e-3)
    r = time_torch(net, args.batch[0], data["height"], data["channels"], args.steps, args.channels_last, lr,
                   args.grid_seconds)
    losses = r.pop("losses")
    r.update(peak_rss_mib=peak_rss_mib(), parameters=net.segforge_parameter_count(),
             loss_first=losses[0], loss_last=losses[-1])
    print(json.dumps(r))


def segforge_bench(args, project_path, batch, threads, steps):
    out = run([args.cli, "bench", project_path, "--batch", str(batch), "--steps", str(steps),
               "--threads", str(threads), "--json"])
    return json.loads(out.strip().splitlines()[-1])


def median_of(runs, keys):
    return {k: statistics.median(r[k] for r in runs) for k in keys}


KEYS = ("train_ms_median", "infer_ms_median", "peak_rss_mib")


def int_list(text):
    try:
        values = [int(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma list of integers: {text}")
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers: {text}")
    return values


class Variant:
    """One network variant: the template options it adds."""

    def __init__(self, name, args):
        self.name = name
        if name not in ("base", "batchnorm", "multiclass"):
            raise SystemExit(f"unknown variant {name}: base, batchnorm or multiclass")
        self.batchnorm = args.batchnorm or name == "batchnorm"
        self.classes = (args.classes if args.classes > 1 else 3) if name == "multiclass" else args.classes

    def describe(self):
        extra = ([f"{self.classes} classes"] if self.classes > 1 else []) + (["batchnorm"] if self.batchnorm else [])
        return "".join(", " + e for e in extra)


class Project:
    """A template project written to `directory`, checked against its PyTorch mirror."""

    def __init__(self, args, variant, filters, size, directory):
        self.path = os.path.join(directory, f"unet-{variant.name}-{filters}-{size}.segforge")
        run([args.cli, "template", "unet", "--depth", str(args.depth), "--filters", str(filters),
             "--size", str(size), "--channels", str(args.channels), "--classes", str(variant.classes),
             "--up", args.up, "-o", self.path] + (["--batchnorm"] if variant.batchnorm else []))
        check = json.loads(run([args.cli, "check", self.path, "--json"]))
        self.parameters = sum(n["parameters"] for n in check["nodes"])
        with open(self.path) as f:
            net = GraphNet(json.load(f)["graph"])
        torch_params = net.segforge_parameter_count()
        if torch_params != self.parameters:
            raise SystemExit(f"{variant.name}, {filters} filters, {size}²: parameter counts differ: "
                             f"SegForge {self.parameters}, PyTorch {torch_params}")
        self.flops_per_sample = net.conv_flops_per_sample(check)  # forward only
        sizes = {"float32": 4, "int32": 4, "uint16": 2, "uint8": 1, "bool": 1}
        self.activation_bytes = 0  # per sample, every node output
        for n in check["nodes"]:
            for o in n.get("outputs", []):
                if o.get("shape") and len(o["shape"]) > 1:
                    self.activation_bytes += math.prod(o["shape"][1:]) * sizes.get(o.get("dtype"), 4)


class Output:
    """Prints lines as they come and, with --out, appends them to a file at once."""

    def __init__(self, path, quiet):
        self.path, self.quiet = path, quiet
        if path:
            open(path, "w").close()

    def line(self, text=""):
        if not self.quiet:
            print(text, flush=True)
        if self.path:
            with open(self.path, "a") as f:
                f.write(text + "\n")


def table_row(cells):
    return "| " + " | ".join(str(c) for c in cells) + " |"


def header_rows(columns):
    return [table_row(columns), table_row(["---"] * len(columns))]


class Estimator:
    """Extrapolates a quantity (peak RSS, step time) linearly in a work measure from the
    largest point measured so far, preferring points of the same variant."""

    def __init__(self, prior_base, prior_slope):
        self.points = []  # (variant, x, y)
        self.prior_base, self.prior_slope = prior_base, prior_slope

    def add(self, variant, x, y):
        self.points.append((variant, x, y))

    def estimate(self, variant, x, floor_slope=0.0):
        if not self.points:
            return self.prior_base + self.prior_slope * x
        same = [p for p in self.points if p[0] == variant] or self.points
        base = min(p[2] for p in self.points) if floor_slope else 0.0
        _, rx, ry = max(same, key=lambda p: p[1])
        return max(base + max(ry - base, 0.0) * x / rx, base + floor_slope * x)


def adaptive_steps(args, seconds, estimated_ms):
    if not seconds or estimated_ms is None or estimated_ms <= 0:
        return args.steps
    return max(min(2, args.steps), min(args.steps, int(seconds * 1e3 / estimated_ms)))


def fmt(v, digits=1):
    return "" if v is None else f"{v:.{digits}f}"


def run_grid(args, variants, out):
    seconds = args.grid_seconds if args.grid_seconds is not None else 20.0
    engines = ["segforge", "torch_channels_last"] + (["torch"] if args.with_nchw else [])
    mib = 1.0 / (1 << 20)
    # Priors before anything is measured: a fixed footprint plus a few copies of the activations.
    rss = {"segforge": Estimator(100, 3 * mib), "torch_channels_last": Estimator(300, 4 * mib),
           "torch": Estimator(300, 4 * mib)}
    floor = {"segforge": mib, "torch_channels_last": 2 * mib, "torch": 2 * mib}
    step_time = Estimator(0, 0)  # SegForge ms per training GFLOP
    columns = ["variant", "filters", "size", "batch", "SegForge step ms", "PyTorch CL step ms", "step ratio",
               "SegForge infer ms", "PyTorch CL infer ms", "infer ratio", "SegForge RSS MiB",
               "PyTorch CL RSS MiB", "RSS ratio"]
    if args.with_nchw:
        columns += ["PyTorch NCHW step ms", "PyTorch NCHW RSS MiB"]
    columns += ["misses"]
    out.line(f"U-Net depth {args.depth}, {args.channels} channels, up={args.up}, {args.threads} threads; "
             f"goals: step ≤ {STEP_GOAL}×, peak RSS ≤ {RSS_GOAL}× PyTorch channels_last; "
             f"≤ {args.steps} steps or {seconds:g} s per measurement (at least 2, after a warm-up)"
             f"{f', median of {args.repeat} runs' if args.repeat > 1 else ''}; torch {torch.__version__}"
             f"{f', OMP_WAIT_POLICY={args.omp_wait_policy}' if args.omp_wait_policy else ''}; "
             f"skipping points estimated above {args.max_gib:g} GiB")
    out.line()
    for row in header_rows(columns):
        out.line(row)
    results = []
    limit_mib = args.max_gib * 1024
    with tempfile.TemporaryDirectory() as tmp:
        for variant in variants:
            for filters in args.grid_filters:
                for size in args.grid_sizes:
                    project = Project(args, variant, filters, size, tmp)
                    for batch in args.grid_batches:
                        point = {"variant": variant.name, "filters": filters, "size": size, "batch": batch,
                                 "parameters": project.parameters}
                        x = project.activation_bytes * batch
                        estimates = {e: rss[e].estimate(variant.name, x, floor[e]) for e in engines}
                        worst = max(estimates.values())
                        if worst > limit_mib:
                            point["skipped_est_gib"] = worst / 1024
                            point["estimated_rss_mib"] = estimates
                            results.append(point)
                            out.line(table_row([variant.name, filters, size, batch,
                                                f"skipped (est. {worst / 1024:.1f} GiB)"]
                                               + [""] * (len(columns) - 5)))
                            continue
                        gflop = 3 * project.flops_per_sample * batch * 1e-9
                        est_ms = step_time.estimate(variant.name, gflop) if step_time.points else None
                        sf_steps = adaptive_steps(args, seconds, est_ms)
                        runs = {e: [] for e in engines}
                        try:  # a point that fails (killed for memory, say) must not end a long grid
                            for _ in range(args.repeat):
                                runs["segforge"].append(
                                    segforge_bench(args, project.path, batch, args.threads, sf_steps))
                                runs["torch_channels_last"].append(
                                    torch_in_child(args, project.path, True, batch, args.threads, args.steps, seconds))
                                if args.with_nchw:
                                    runs["torch"].append(
                                        torch_in_child(args, project.path, False, batch, args.threads, args.steps,
                                                       seconds))
                        except SystemExit as failure:
                            point["failed"] = str(failure)
                            results.append(point)
                            out.line(table_row([variant.name, filters, size, batch,
                                                "failed: " + str(failure).splitlines()[0][:120].replace("|", "/")]
                                               + [""] * (len(columns) - 5)))
                            continue
                        for e in engines:
                            point[e] = median_of(runs[e], KEYS)
                            rss[e].add(variant.name, x, point[e]["peak_rss_mib"])
                        point["segforge"]["steps"] = sf_steps
                        point["torch_channels_last"]["steps"] = runs["torch_channels_last"][0]["train_steps"]
                        step_time.add(variant.name, gflop, point["segforge"]["train_ms_median"])
                        sf, cl = point["segforge"], point["torch_channels_last"]
                        point["step_ratio"] = sf["train_ms_median"] / cl["train_ms_median"]
                        point["infer_ratio"] = sf["infer_ms_median"] / cl["infer_ms_median"]
                        point["rss_ratio"] = sf["peak_rss_mib"] / cl["peak_rss_mib"]
                        misses = ([f"✗ step {point['step_ratio']:.3f}"] if point["step_ratio"] > STEP_GOAL else []) + (
                            [f"✗ RSS {point['rss_ratio']:.3f}"] if point["rss_ratio"] > RSS_GOAL else [])
                        point["misses"] = misses
                        results.append(point)
                        cells = [variant.name, filters, size, batch, fmt(sf["train_ms_median"]),
                                 fmt(cl["train_ms_median"]), fmt(point["step_ratio"], 2),
                                 fmt(sf["infer_ms_median"], 2), fmt(cl["infer_ms_median"], 2),
                                 fmt(point["infer_ratio"], 2), fmt(sf["peak_rss_mib"], 0),
                                 fmt(cl["peak_rss_mib"], 0), fmt(point["rss_ratio"], 2)]
                        if args.with_nchw:
                            cells += [fmt(point["torch"]["train_ms_median"]), fmt(point["torch"]["peak_rss_mib"], 0)]
                        out.line(table_row(cells + [", ".join(misses)]))
    measured = [p for p in results if "step_ratio" in p]
    failed = sum(1 for p in results if "failed" in p)
    out.line()
    out.line(f"{len(measured)} points measured, {len(results) - len(measured) - failed} skipped, {failed} failed; "
             f"{sum(1 for p in measured if p['step_ratio'] > STEP_GOAL)} miss the step goal, "
             f"{sum(1 for p in measured if p['rss_ratio'] > RSS_GOAL)} the RSS goal")
    return {"mode": "grid", "depth": args.depth, "channels": args.channels, "up": args.up, "threads": args.threads,
            "steps": args.steps, "grid_seconds": seconds, "repeat": args.repeat, "max_gib": args.max_gib,
            "torch_version": torch.__version__, "omp_wait_policy": args.omp_wait_policy or None,
            "goals": {"step_ratio": STEP_GOAL, "rss_ratio": RSS_GOAL}, "points": results}


def run_scaling(args, variants, out):
    seconds = args.grid_seconds if args.grid_seconds is not None else 20.0
    threads_list = sorted(set(args.threads_list))
    out.line(f"Thread scaling: U-Net depth {args.depth}, {args.filters} filters, {args.size}×{args.size}×"
             f"{args.channels}, up={args.up}; ≤ {args.steps} steps or {seconds:g} s per measurement"
             f"{f', median of {args.repeat} runs' if args.repeat > 1 else ''}; torch {torch.__version__} "
             f"channels_last, OMP_WAIT_POLICY={args.omp_wait_policy or '(environment)'}; "
             f"efficiency T{threads_list[0]}·{threads_list[0]} / (n·Tn), goals "
             + ", ".join(f"≥ {g} at {n}" for n, g in EFFICIENCY_GOALS.items()))
    columns = ["threads", "SegForge ms", "SegForge speed-up", "SegForge efficiency", "PyTorch CL ms",
               "PyTorch speed-up", "PyTorch efficiency", "misses"]
    tables = []
    with tempfile.TemporaryDirectory() as tmp:
        for variant in variants:
            project = Project(args, variant, args.filters, args.size, tmp)
            for batch in args.batch:
                out.line()
                out.line(f"{variant.name}{variant.describe()}, batch {batch}, {project.parameters} parameters:")
                out.line()
                for row in header_rows(columns):
                    out.line(row)
                rows, base = [], {}
                previous = None  # (threads, SegForge ms): the next thread count's step estimate
                for n in threads_list:
                    est_ms = previous[1] * previous[0] / n if previous else None
                    sf_steps = adaptive_steps(args, seconds, est_ms)
                    sf_runs, cl_runs = [], []
                    for _ in range(args.repeat):
                        sf_runs.append(segforge_bench(args, project.path, batch, n, sf_steps))
                        cl_runs.append(torch_in_child(args, project.path, True, batch, n, args.steps, seconds))
                    row = {"threads": n, "segforge": median_of(sf_runs, KEYS),
                           "torch_channels_last": median_of(cl_runs, KEYS)}
                    row["segforge"]["steps"] = sf_steps
                    previous = (n, row["segforge"]["train_ms_median"])
                    cells, misses = [n], []
                    for engine in ("segforge", "torch_channels_last"):
                        ms = row[engine]["train_ms_median"]
                        base.setdefault(engine, (n, ms))
                        n0, t0 = base[engine]
                        row[engine]["speedup"] = t0 / ms
                        row[engine]["efficiency"] = t0 * n0 / (n * ms)
                        cells += [fmt(ms), fmt(row[engine]["speedup"], 2), fmt(row[engine]["efficiency"], 2)]
                    goal = EFFICIENCY_GOALS.get(n)
                    if goal and row["segforge"]["efficiency"] < goal:
                        misses.append(f"✗ efficiency {row['segforge']['efficiency']:.2f} < {goal}")
                    row["misses"] = misses
                    out.line(table_row(cells + [", ".join(misses)]))
                    rows.append(row)
                tables.append({"variant": variant.name, "batch": batch, "parameters": project.parameters,
                               "rows": rows})
    return {"mode": "threads", "depth": args.depth, "filters": args.filters, "size": args.size,
            "channels": args.channels, "up": args.up, "steps": args.steps, "grid_seconds": seconds,
            "repeat": args.repeat, "torch_version": torch.__version__,
            "omp_wait_policy": args.omp_wait_policy or None, "efficiency_goals": EFFICIENCY_GOALS,
            "tables": tables}


def run_single(args, variant, batch, tmp, out):
    """The original comparison: one variant at one batch size, NCHW and channels_last."""
    project = Project(args, variant, args.filters, args.size, tmp)
    runs = {"segforge": [], "torch": [], "torch_channels_last": []}
    for _ in range(args.repeat):
        runs["segforge"].append(segforge_bench(args, project.path, batch, args.threads, args.steps))
        runs["torch"].append(torch_in_child(args, project.path, False, batch, args.threads, args.steps))
        runs["torch_channels_last"].append(torch_in_child(args, project.path, True, batch, args.threads, args.steps))

    def med(name, key):
        return statistics.median(r[key] for r in runs[name])

    result = {name: {k: med(name, k) for k in KEYS} for name in runs}
    result["parameters"] = project.parameters
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
    result.update(batch=batch, threads=args.threads, steps=args.steps, repeat=args.repeat,
                  torch_version=torch.__version__, omp_wait_policy=args.omp_wait_policy or None)
    if variant.name != "base" or variant.describe():
        result.update(variant=variant.name, classes=variant.classes, batchnorm=variant.batchnorm)
    if args.json:
        return result

    out.line(f"U-Net depth {args.depth}, {args.filters} filters, {args.size}×{args.size}×{args.channels}, "
             f"up={args.up}{variant.describe()}: "
             f"{project.parameters} parameters (both), {result['gflop_per_step']:.1f} GFLOP per training step")
    out.line(f"batch {batch}, {args.threads} threads, median of {args.steps} steps"
             f"{f' × {args.repeat} runs' if args.repeat > 1 else ''}; torch {torch.__version__}"
             f"{f', OMP_WAIT_POLICY={args.omp_wait_policy}' if args.omp_wait_policy else ''}")
    out.line(f"{'':28}{'train step ms':>14}{'infer ms':>10}{'peak RSS MiB':>14}")
    for name, label in (("segforge", "SegForge"), ("torch", "PyTorch (NCHW)"),
                        ("torch_channels_last", "PyTorch (channels_last)")):
        r = result[name]
        out.line(f"{label:28}{r['train_ms_median']:14.1f}{r['infer_ms_median']:10.2f}{r['peak_rss_mib']:14.0f}")
    out.line(f"SegForge / best PyTorch train step: {result['ratio_train_vs_best_torch']:.2f}×  "
             f"(vs channels_last {result['ratio_train_vs_channels_last']:.2f}×); inference "
             f"{result['ratio_infer_vs_torch']:.2f}×; peak RSS vs channels_last "
             f"{result['ratio_rss_vs_channels_last']:.2f}×; SegForge {result['segforge']['gflops']:.1f} GFLOP/s")
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n\n".join(__doc__.split("\n\n")[2:]))
    ap.add_argument("--cli", default=None,
                    help="segforge-cli to run (default: build/bench's, else build/test's, as the README builds them)")
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--filters", type=int, default=16)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--channels", type=int, default=3)
    ap.add_argument("--classes", type=int, default=1,
                    help="classes of the base variant (1: binary); the multiclass variant's K (default 3)")
    ap.add_argument("--batchnorm", action="store_true", help="batch normalization after every convolution, "
                    "in every variant")
    ap.add_argument("--variants", default="base",
                    help="comma list of base, batchnorm, multiclass (default base)")
    ap.add_argument("--up", default="upsample_conv", choices=["upsample_conv", "transpose", "upsample"],
                    help="decoder upsampling (default: UpSampling2D + 3×3 conv, the reference network "
                         "of the engine issue: 2,158,705 parameters)")
    ap.add_argument("--batch", type=int_list, default=[8],
                    help="batch size; a comma list runs each (default 8)")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1, help="run the whole comparison this many times (medians)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    ap.add_argument("--out", help="also write the output (markdown tables in --grid and --threads-list) to this "
                                  "file, line by line as it is measured")
    ap.add_argument("--grid", action="store_true", help="run the filters × sizes × batches grid")
    ap.add_argument("--grid-filters", type=int_list, default=[16, 32, 64])
    ap.add_argument("--grid-sizes", type=int_list, default=[128, 256, 512])
    ap.add_argument("--grid-batches", type=int_list, default=[1, 4, 8])
    ap.add_argument("--grid-seconds", type=float, default=None,
                    help="--grid and --threads-list: stop a measurement after this many seconds once it has 2 "
                         "timed steps (default 20; 0: always --steps)")
    ap.add_argument("--max-gib", type=float, default=16.0,
                    help="--grid: skip points whose estimated peak RSS exceeds this on either side (default 16)")
    ap.add_argument("--with-nchw", action="store_true", help="--grid: also time PyTorch in the NCHW layout")
    ap.add_argument("--threads-list", type=int_list, default=None,
                    help="thread-scaling study over these thread counts, e.g. 1,2,4,8,16")
    ap.add_argument("--omp-wait-policy", default="PASSIVE",
                    help="OMP_WAIT_POLICY for PyTorch (default PASSIVE: on a shared, loaded machine OpenMP's "
                         "spin-waiting made PyTorch 2-3× slower; '' keeps the environment's)")
    ap.add_argument("--torch-child", help=argparse.SUPPRESS)
    ap.add_argument("--channels-last", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torch_child:
        return child_main(args)
    if args.grid and args.threads_list:
        raise SystemExit("--grid and --threads-list are separate studies: run one at a time")
    if args.repeat < 1 or args.steps < 1:
        raise SystemExit("--repeat and --steps must be at least 1")
    if args.cli is None:
        candidates = ["build/bench/app/segforge-cli", "build/test/app/segforge-cli"]
        args.cli = next((c for c in candidates if os.path.exists(c)), None)
        if args.cli is None:
            raise SystemExit("no segforge-cli in " + " or ".join(candidates) + "; build one or pass --cli")
    variants = [Variant(v.strip(), args) for v in args.variants.split(",") if v.strip()]
    out = Output(args.out, quiet=args.json)

    if args.grid:
        result = run_grid(args, variants, out)
    elif args.threads_list:
        result = run_scaling(args, variants, out)
    else:
        results = []
        with tempfile.TemporaryDirectory() as tmp:
            for variant in variants:
                for batch in args.batch:
                    if results and not args.json:
                        out.line()
                    results.append(run_single(args, variant, batch, tmp, out))
        result = results[0] if len(results) == 1 else {"runs": results}
    if args.json:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
