"""Several processes, one run: PyTorch's own distributed stack, launched by ``torchrun``.

    torchrun --nproc_per_node 2 -m tenc distill --preset quick --out runs/ddp      # CPU: gloo
    torchrun --nproc_per_node 8 -m tenc distill --config params/paper-gpu.yaml ... # GPUs: nccl

* Pseudo-labelling is sharded: rank r labels the r-th contiguous slice of the pool; the slices are
  gathered in rank order, so every rank holds the same labels as one process would compute.
* Training is data-parallel (``DistributedDataParallel``): each global batch of the paper's size is
  split across ranks (rank r takes rows r, r + world, ...), gradients are averaged, every replica
  stays identical. ``grad_accum`` splits each rank's share further into micro-batches.
* Only rank 0 writes (models, labels, markers, metrics) and evaluates; the others wait at a barrier
  and then read what rank 0 wrote, through the same marker checks as a resumed run.

Without ``torchrun`` (WORLD_SIZE unset or 1) every function here is a no-op.
"""

from __future__ import annotations

import datetime
import os

import numpy as np
import torch
import torch.distributed as dist


def init_from_env() -> bool:
    """Join the process group described by torchrun's environment; True when running distributed."""
    if dist.is_available() and dist.is_initialized():
        return True
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    # evaluation runs on rank 0 only while the others wait: allow long waits
    dist.init_process_group(backend, timeout=datetime.timedelta(hours=12))
    return True


def active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def world() -> int:
    return dist.get_world_size() if active() else 1


def rank() -> int:
    return dist.get_rank() if active() else 0


def is_main() -> bool:
    return rank() == 0


def barrier() -> None:
    if active():
        dist.barrier()


def device() -> torch.device:
    """This rank's device: its own GPU under torchrun with CUDA, else the CPU."""
    if torch.cuda.is_available():
        return torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}")
    return torch.device("cpu")


def shard(n: int) -> slice:
    """This rank's contiguous slice of ``n`` items (sizes differ by at most one)."""
    w, r = world(), rank()
    return slice(n * r // w, n * (r + 1) // w)


def gather(local: np.ndarray) -> np.ndarray:
    """Concatenate every rank's array in rank order (all ranks get the result)."""
    if not active():
        return local
    parts = [None] * world()
    dist.all_gather_object(parts, np.asarray(local))
    return np.concatenate(parts)


def sharded(compute, items: list[list]) -> np.ndarray:
    """``compute(*columns)`` on this rank's slice of the parallel lists ``items``, gathered in order."""
    sl = shard(len(items[0]))
    return gather(compute(*(col[sl] for col in items)))


def split_batch(idx: np.ndarray) -> np.ndarray:
    """This rank's rows of a global batch (rows r, r + world, ...); whole batch if it is too small."""
    if not active() or len(idx) < world():
        return idx
    return idx[rank() :: world()]


def then_others(fn):
    """Run ``fn()`` on rank 0, then on the other ranks after a barrier (it then reads rank 0's files)."""
    if not active():
        return fn()
    out = fn() if is_main() else None
    barrier()
    return out if is_main() else fn()
