"""The PyTorch script's command line and training loop: one CPU, one GPU (--amp),
or torchrun's processes with DistributedDataParallel.

The SEGFORGE_* names are placeholders: the exporter writes the project's values
in their place (core/export/pytorch_script_export.cpp).
"""

import argparse
import json
import math
import os
import random

import numpy as np
import torch
import torch.distributed as dist

from pytorch_data import (BATCH_SIZE, NUM_CLASSES, VALIDATION_SPLIT, SegForgeDataset, SegForgeSampler,
                          load_pairs, mask_palette, split_pairs, validation_batches)
from pytorch_load_weights import load_weights, segforge_tensors
from pytorch_metrics import class_counts, dice_iou
from write_safetensors import write_safetensors

SEGFORGE_DESCRIPTION, SEGFORGE_WEIGHTS, SEGFORGE_OUT = "Train", None, "model.weights.safetensors"
SEGFORGE_EPOCHS, SEGFORGE_LR, SEGFORGE_SEED = 10, 0.001, 0
SEGFORGE_GRAPH_REVISION, SEGFORGE_LAYER_SIGNATURES = "", "{}"
SEGFORGE_SCHEDULE = "constant"
SEGFORGE_NET = SEGFORGE_LOSS = SEGFORGE_OPTIMIZER = None

# --- SegForge embeds the lines below in exported scripts ---


GRAPH_REVISION = SEGFORGE_GRAPH_REVISION  # the exported graph's, as SegForge computes it
LAYER_SIGNATURES = SEGFORGE_LAYER_SIGNATURES  # JSON: layer name -> signature

EPILOG = """examples:
  one CPU:        python3 %(prog)s --data DATA --device cpu
  one GPU:        python3 %(prog)s --data DATA --device cuda --amp
  N processes:    torchrun --standalone --nproc_per_node N %(prog)s --data DATA
                  (gloo on CPUs, nccl on GPUs, one GPU per process; --batch-size is
                  the global batch and must split evenly over the N processes;
                  Debian 12's torchrun, torch 1.13 on Python 3.11, also needs
                  --redirects 1 --tee 1: its default of 0 fails there)

--out is a SegForge weights file ('<layer>/<param>', float32), written after every
epoch: `segforge-cli predict PROJECT --weights OUT ...` and the app load it."""


LR_SCHEDULE = SEGFORGE_SCHEDULE  # constant, step or cosine (core/engine/optimizer.cpp)


def learning_rate_at(base, step, total_steps):
    """SegForge's schedule (training_setup.cpp): step decays ×0.1 every third of the run,
    cosine falls to 0 over it."""
    if LR_SCHEDULE == "step":
        return base * 0.1 ** (step // max(1, total_steps // 3))
    if LR_SCHEDULE == "cosine":
        return 0.5 * base * (1 + math.cos(math.pi * min(1.0, step / max(1, total_steps))))
    return base


def save_atomic(obj, path):
    tmp = f"{path}.tmp{os.getpid()}"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=SEGFORGE_DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="folder holding images/ and masks/ (as segforge-cli train --data)")
    parser.add_argument("--weights", default=SEGFORGE_WEIGHTS, help="SegForge weights to start from, a .safetensors file")
    parser.add_argument("--epochs", type=int, default=SEGFORGE_EPOCHS)
    parser.add_argument("--lr", type=float, default=SEGFORGE_LR)
    parser.add_argument("--seed", type=int, default=SEGFORGE_SEED,
                        help="initial weights, train/validation split and batch order, as in SegForge")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                        help="samples per step over all processes (default: the project's, %(default)s)")
    parser.add_argument("--out", default=SEGFORGE_OUT, help="SegForge weights written after every epoch (default: %(default)s)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="auto: cuda when torch.cuda.is_available(), else cpu")
    parser.add_argument("--amp", action="store_true",
                        help="mixed precision: torch.autocast with bfloat16 on the CPU, float16 with a GradScaler on CUDA")
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1),
                        help="DataLoader worker processes per training process (default: %(default)s)")
    parser.add_argument("--checkpoint-dir", default=None,
                        help="where last.pt (model, optimizer, scaler, epoch, RNG) is written after every epoch "
                             "(default: OUT's folder, OUT_NAME.checkpoints)")
    parser.add_argument("--resume", nargs="?", const="", default=None, metavar="PATH",
                        help="continue from a checkpoint (default: CHECKPOINT_DIR/last.pt)")
    args = parser.parse_args()
    if args.batch_size < 1 or args.epochs < 0 or args.workers < 0:
        parser.error("--batch-size must be at least 1, --epochs and --workers at least 0")

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    distributed = world > 1
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device is available (torch.cuda.is_available() is False)")
    cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    if cuda:
        device = torch.device("cuda", local_rank if distributed else torch.cuda.current_device())
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if distributed:
        dist.init_process_group("nccl" if cuda else "gloo")
    say = (lambda text: print(f"[rank {rank}/{world}] {text}", flush=True)) if distributed \
        else (lambda text: print(text, flush=True))
    use_amp = args.amp
    amp_dtype = torch.float16 if cuda else torch.bfloat16
    say(f"device {device.type}" + (f" ({torch.cuda.get_device_name(device)})" if cuda else "")
        + (f", amp {str(amp_dtype).replace('torch.', '')}" if use_amp else "")
        + (f", {world} processes ({'nccl' if cuda else 'gloo'})" if distributed else ""))

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    model = SEGFORGE_NET
    if args.weights:
        load_weights(model, args.weights)
    model.to(device)
    loss_fn = SEGFORGE_LOSS
    optimizer = SEGFORGE_OPTIMIZER
    scaler = torch.cuda.amp.GradScaler(enabled=use_amp and cuda)

    out_dir = os.path.dirname(os.path.abspath(args.out))
    checkpoint_dir = args.checkpoint_dir or os.path.join(
        out_dir, os.path.basename(args.out).split(".")[0] + ".checkpoints")
    checkpoint = os.path.join(checkpoint_dir, "last.pt")
    start_epoch = 0
    if args.resume is not None:
        path = args.resume or checkpoint
        if not os.path.isfile(path):
            raise SystemExit(f"--resume: no checkpoint at '{path}'")
        # The script's own file, with numpy and Python RNG states: not a weights-only load
        # (torch 2.6 made weights_only=True the default; 1.13 has the argument too).
        state = torch.load(path, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if state["scaler"] and scaler.is_enabled():  # empty when saved without CUDA amp
            scaler.load_state_dict(state["scaler"])
        start_epoch = state["epoch"]
        torch.set_rng_state(state["rng"]["torch"])
        np.random.set_state(state["rng"]["numpy"])
        random.setstate(state["rng"]["python"])
        if cuda and state["rng"].get("cuda") is not None:
            torch.cuda.set_rng_state(state["rng"]["cuda"])
        say(f"resumed from {path} after epoch {start_epoch}")
    if rank == 0:
        os.makedirs(checkpoint_dir, exist_ok=True)
        os.makedirs(out_dir, exist_ok=True)
    net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if cuda else None) \
        if distributed else model

    pairs = load_pairs(args.data)
    palette = mask_palette(pairs)
    train_indices, validation_indices = split_pairs(len(pairs), VALIDATION_SPLIT, args.seed)
    train_set = SegForgeDataset(pairs, train_indices, args.seed, True, palette)
    sampler = SegForgeSampler(train_set, args.batch_size, args.seed, world, rank)
    loader = torch.utils.data.DataLoader(train_set, batch_size=sampler.local, sampler=sampler,
                                         num_workers=args.workers, pin_memory=cuda, drop_last=True)
    validation_set = SegForgeDataset(pairs, validation_indices, args.seed, False, palette)
    validation_loader = torch.utils.data.DataLoader(
        validation_set, batch_sampler=validation_batches(len(validation_set), args.batch_size, rank, world),
        num_workers=args.workers, pin_memory=cuda)
    say(f"{len(pairs)} pairs: {len(train_set)} training ({sampler.batches} batches of {sampler.batch_size}"
        + (f", {sampler.local} per process" if distributed else "") + f"), {len(validation_set)} validation")

    def all_sum(values):
        t = torch.tensor(values, dtype=torch.float64, device=device)
        if distributed:
            dist.all_reduce(t)
        return t.tolist()

    def write_weights(path):
        write_safetensors(path, segforge_tensors(model), {
            "format": "segforge", "segforge.graph_revision": GRAPH_REVISION,
            "segforge.layers": LAYER_SIGNATURES, "segforge.written_by": "the exported PyTorch script"})

    binary = NUM_CLASSES == 1
    for epoch in range(start_epoch, args.epochs):
        sampler.set_epoch(epoch)
        train_set.set_epoch(epoch)
        net.train()
        loss_sum, batches = 0.0, 0
        for step, (images, targets) in enumerate(loader, epoch * sampler.batches):
            for group in optimizer.param_groups:
                group["lr"] = learning_rate_at(args.lr, step, args.epochs * sampler.batches)
            images = images.to(device, non_blocking=True).float()
            targets = targets.to(device, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device_type=device.type, dtype=amp_dtype, enabled=use_amp):
                prediction = net(images)
            prediction = prediction[0] if isinstance(prediction, (tuple, list)) else prediction
            loss = loss_fn(prediction.float(), targets)  # the loss in float32, autocast or not
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            loss_sum += loss.item()
            batches += 1
        loss_sum, batches = all_sum([loss_sum, batches])
        train_loss = loss_sum / max(batches, 1)  # SegForge's: the mean over the epoch's batches

        # Validation with rank 0's BatchNorm statistics on every process, SegForge's batches dealt
        # to the processes whole, each batch's scores weighted by its samples and summed over all.
        if distributed:
            for buffer in model.buffers():
                dist.broadcast(buffer, 0)
        model.eval()
        sums = [0.0, 0.0, 0.0, 0.0]
        with torch.no_grad():
            for images, targets in validation_loader:
                images = images.to(device, non_blocking=True).float()
                targets = targets.to(device, non_blocking=True)
                with torch.autocast(device_type=device.type, dtype=amp_dtype, enabled=use_amp):
                    prediction = model(images)
                prediction = (prediction[0] if isinstance(prediction, (tuple, list)) else prediction).float()
                n = images.shape[0]
                dice, iou = dice_iou(class_counts(prediction, targets), binary)
                for k, value in enumerate((loss_fn(prediction, targets).item(), dice, iou, 1.0)):
                    sums[k] += value * n
        val_loss, val_dice, val_iou, samples = all_sum(sums)
        line = f"epoch {epoch + 1}/{args.epochs}: loss {train_loss:.6f}"
        if samples > 0:
            line += f" val_loss {val_loss / samples:.6f} val_dice {val_dice / samples:.6f} val_iou {val_iou / samples:.6f}"
        say(line)

        if rank == 0:
            write_weights(args.out)
            rng = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate(),
                   "cuda": torch.cuda.get_rng_state(device) if cuda else None}
            save_atomic({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                         "scaler": scaler.state_dict(), "epoch": epoch + 1, "rng": rng,
                         "graph_revision": GRAPH_REVISION}, checkpoint)
        if distributed:
            dist.barrier()
    if rank == 0:
        write_weights(args.out)
        say(f"wrote {args.out}" + ("" if start_epoch < args.epochs else
                                   f" (nothing to train: the checkpoint has {start_epoch} of {args.epochs} epochs)"))
    if distributed:
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
