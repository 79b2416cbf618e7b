"""The results store: each finished run kept once, under the hash of its config.

Layout under the store root (default ``<results root>/store``)::

    <hash>.pt     member weights + config + library version (written first)
    <hash>.json   config, metrics, provenance (written last: its presence means "done")
    checkpoints/<group>.pt   the periodic checkpoint of a group still training (ddlib.checkpoint),
                  ``<group>`` a digest of the group's sorted config hashes; deleted once stored
    validation/<hash>-n<size>-<scheme>.json   a stored run's errors on a validation set of that size, with the
                  digest of the weights they came from (ddlib.chapters.width_choice)

Both files are written atomically (temporary file, then rename), so a run killed mid-write
leaves no partial entry; :meth:`ResultStore.has` is true only for complete runs.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from pathlib import Path

import torch

from .config import RunConfig, config_hash
from .paths import results_root
from .storage import atomic_write_bytes, atomic_write_text


class ResultStore:
    """A folder of finished runs keyed by :func:`ddlib.config.config_hash`."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else results_root() / "store"

    def _paths(self, cfg: RunConfig) -> tuple[Path, Path]:
        h = config_hash(cfg)
        return self.root / f"{h}.json", self.root / f"{h}.pt"

    def checkpoint_path(self, group: list[RunConfig]) -> Path:
        """Where the training checkpoint of ``group`` (runs trained together) lives."""
        digest = hashlib.sha256(",".join(sorted(config_hash(c) for c in group)).encode()).hexdigest()[:16]
        return self.root / "checkpoints" / f"{digest}.pt"

    def weights_path(self, cfg: RunConfig) -> Path:
        """The file of ``cfg``'s stored weights (present once the run is stored)."""
        return self._paths(cfg)[1]

    def weights_digest(self, cfg: RunConfig) -> str:
        """The SHA-256 of ``cfg``'s stored weights: as its record gives it, or, for a record written before records
        carried it, computed from the file."""
        return self.load(cfg).get("weights_sha256") or hashlib.sha256(self.weights_path(cfg).read_bytes()).hexdigest()

    def has(self, cfg: RunConfig) -> bool:
        return self._paths(cfg)[0].exists()

    def load(self, cfg: RunConfig) -> dict:
        """The stored record of ``cfg``: ``{"hash", "config", "metrics", "provenance", "weights_sha256"}`` (the last
        missing from records stored before records carried it)."""
        with open(self._paths(cfg)[0], encoding="utf-8") as f:
            return json.load(f)

    def load_weights(self, cfg: RunConfig) -> dict[str, torch.Tensor]:
        """The saved member state dict of ``cfg`` (CPU tensors)."""
        return torch.load(self._paths(cfg)[1], map_location="cpu", weights_only=True)["state"]

    def save(self, cfg: RunConfig, metrics: dict, state: dict[str, torch.Tensor], provenance: dict) -> dict:
        """Store one finished run (weights first, record last) and return its record. The record carries
        ``weights_sha256``, the SHA-256 of the weights file as written, so that anything derived from the weights
        (:mod:`ddlib.chapters.width_choice`'s validation errors) can tell whether they changed without reading
        them again."""
        from . import __version__

        record_path, weights_path = self._paths(cfg)
        config = dataclasses.asdict(cfg)
        buf = io.BytesIO()
        torch.save({"state": state, "config": json.dumps(config), "ddlib_version": __version__}, buf)
        atomic_write_bytes(weights_path, buf.getvalue())
        record = {"hash": config_hash(cfg), "config": config, "metrics": metrics,
                  "weights_sha256": hashlib.sha256(buf.getvalue()).hexdigest(),
                  "provenance": {"ddlib_version": __version__, **provenance}}
        atomic_write_text(record_path, json.dumps(record, indent=1, sort_keys=True))
        return record
