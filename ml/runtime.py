"""Where training runs: the device (the CPU or a GPU), its numeric precision, and the process group under torchrun.

One process trains on the CPU or on one GPU. Under `torchrun` (SageMaker's Torchrun launcher starts one process per
GPU of the instance) every process trains on its own GPU and its share of each epoch's batches, gradients are
averaged by DistributedDataParallel, and only the first process (rank 0) evaluates, decides early stopping for all
and writes the model. On a GPU, the forward pass runs in bfloat16 where the GPU supports it, else in float16 with
loss scaling; on the CPU everything stays float32.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

log = logging.getLogger(__name__)

T = TypeVar("T")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


@dataclass(frozen=True)
class TrainingRuntime:
    """The device, precision and place in the process group of this training process."""

    device: str
    precision: str
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Whether this process evaluates, decides and writes (rank 0)."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """Whether several processes train together."""
        return self.world_size > 1

    @classmethod
    def detect(cls, precision: str = "auto") -> TrainingRuntime:
        """This process's runtime: a GPU when there is one (the local rank's, under torchrun), else the CPU."""
        import torch

        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
        if torch.cuda.is_available():
            torch.cuda.set_device(local_rank)
            device = f"cuda:{local_rank}"
            if precision == "auto":
                precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        else:
            device = "cpu"
            # Mixed precision only pays on GPUs; on the CPU it would change the numbers for no speed.
            precision = "fp32"
        if world_size > 1 and not torch.distributed.is_initialized():
            torch.distributed.init_process_group(backend="nccl" if device.startswith("cuda") else "gloo")
        runtime = cls(device, precision, rank, world_size, local_rank)
        log.info("training on %s (%s), process %d of %d", device, precision, rank + 1, world_size)
        return runtime

    def describe(self) -> dict[str, str]:
        """The runtime as a record: device, precision, processes, torch threads and the reproducibility it promises."""
        import torch

        name = torch.cuda.get_device_name(self.local_rank) if self.device.startswith("cuda") else "cpu"
        return {
            "device": name,
            "precision": self.precision,
            "processes": str(self.world_size),
            "torch_threads": str(torch.get_num_threads()),
            "reproducible": self.reproducibility(),
        }

    def reproducibility(self) -> str:
        """What a rerun with the same data, parameters, seed, code and thread count promises: bitwise or why not."""
        if self.device != "cpu":
            return "not promised: GPU kernels (cuBLAS, atomics) may differ between runs, and do between GPU models"
        if self.distributed:
            return "not promised: gradients are all-reduced across processes in an order that can vary between runs"
        return "bitwise: the same weights byte for byte (tests/ml/test_reproducible.py)"

    def make_deterministic(self) -> None:
        """Ask torch for deterministic kernels; on a GPU, where some have none, warn instead of failing."""
        import torch

        torch.use_deterministic_algorithms(True, warn_only=self.device != "cpu")

    def autocast(self) -> Any:
        """The forward pass's context: mixed precision on a GPU, nothing on the CPU."""
        import torch

        if self.precision == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16 if self.precision == "bf16" else torch.float16)

    def grad_scaler(self) -> Any:
        """Loss scaling for float16 (None otherwise): small float16 gradients would underflow to zero."""
        import torch

        return torch.amp.GradScaler("cuda") if self.precision == "fp16" else None

    def wrap(self, model: Any) -> Any:
        """The model on this process's device, wrapped for gradient averaging when several processes train."""
        import torch

        model = model.to(self.device)
        if not self.distributed:
            return model
        ids = [self.local_rank] if self.device.startswith("cuda") else None
        return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)

    def shard(self, batches: Sequence[T]) -> list[T]:
        """This process's share of an epoch's batches (every process gets as many, so their steps stay in lockstep)."""
        usable = len(batches) - len(batches) % self.world_size if self.distributed else len(batches)
        return list(batches[self.rank : usable : self.world_size])

    def from_main(self, compute: Callable[[], T]) -> T:
        """`compute()`'s value from rank 0, on every process (computed there only)."""
        if not self.distributed:
            return compute()
        import torch

        box: list[Any] = [compute() if self.is_main else None]
        torch.distributed.broadcast_object_list(box, src=0)
        return cast(T, box[0])

    def finish(self) -> None:
        """Leave the process group (after the last collective call)."""
        import torch

        if self.distributed and torch.distributed.is_initialized():
            torch.distributed.barrier()
            torch.distributed.destroy_process_group()


def unwrap(model: Any) -> Any:
    """The model inside a DistributedDataParallel wrapper (or the model itself)."""
    return getattr(model, "module", model)
