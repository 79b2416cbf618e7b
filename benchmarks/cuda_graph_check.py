"""GPU check of the whole-step CUDA graph (:mod:`ddlib.cuda_graph`) against the eager training loop.

Run on a CUDA machine (``--cpu``: a dry run of the same code with the graph off)::

    PYTHONPATH=. python benchmarks/cuda_graph_check.py [--cpu]

1. same initial weights, same batches, deterministic cuDNN: each model trained eagerly twice and
   graphed twice; printed: the relative parameter difference ``||a - b|| / ||b||`` of each pair, the
   last losses, and whether any capture fell back to eager (it must not). Also eagerly with the
   graph's capturable Adam: the graph replays the same kernels, so that pair should be bit-identical
   (bit-identical on an H200, 2026-12-04); and the same two pairs with Adam's fused form
   (``fused_optimizer``; the fused graph equals the fused capturable eager loop bit for bit there);
2. a graphed run stopped part-way and resumed from its checkpoint, against an uninterrupted one;
3. a tiny sweep through ``run_configs`` with the library's defaults (graph and width batching),
   whose reloaded weights must predict the stored test error.
"""
from __future__ import annotations

import os
import sys
import tempfile
import warnings
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]
CPU = "--cpu" in sys.argv
DEV = torch.device("cpu" if CPU else "cuda")
GRAPH = "off" if CPU else "on"

from ddlib import TrainConfig  # noqa: E402
from ddlib.checkpoint import Checkpointing  # noqa: E402
from ddlib.models import build_model, to_device  # noqa: E402
from ddlib import train as train_module  # noqa: E402
from ddlib.train import Targets, train_ensemble  # noqa: E402

CASES = (("resnet18", 4, (3, 32, 32)), ("cnn5", 4, (3, 32, 32)), ("mlp", 16, (40,)))


class Stop(Exception):
    pass


def data(shape, n=2000):
    g = torch.Generator().manual_seed(1)
    if len(shape) == 3:
        x = torch.randint(0, 256, (n, *shape), dtype=torch.uint8, generator=g)
    else:
        x = torch.randn(n, *shape, generator=g)
    return x.to(DEV), torch.randint(0, 10, (n,), generator=g).to(DEV)


def train(name, width, shape, xy, graph, steps=60, checkpoint=None, stop=None, fused=False):
    """Train a 2-member ensemble (``fused``: Adam's fused form); return (model, losses, number of capture
    fallbacks)."""
    x, y = xy
    model = to_device(build_model(name, width, shape, 10, [0, 1]), name, DEV)

    def hook(step):
        if step == stop:
            raise Stop

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        losses = train_ensemble(model, x, Targets(hard=y.expand(2, -1)), TrainConfig(lr=1e-3, batch_size=64, steps=steps),
                                [0, 1], checkpoint=checkpoint, on_step=hook, cuda_graph=graph,
                                fused_optimizer=fused, mean_std="cifar10")  # unused for float inputs
    fallbacks = sum("CUDA graph capture" in str(w.message) for w in caught)
    return model, losses, fallbacks


def eager_with_capturable_adam(name, width, shape, xy, fused=False):
    """The eager loop with the Adam the graph runs (capturable on a GPU): the graph replays its kernels."""
    make_optimizer = train_module.make_optimizer
    train_module.make_optimizer = lambda params, cfg, capturable=False, fused=False: make_optimizer(
        params, cfg, not CPU, fused)
    try:
        return train(name, width, shape, xy, "off", fused=fused)[0]
    finally:
        train_module.make_optimizer = make_optimizer


def rel_diff(a, b) -> float:
    va = torch.cat([t.double().flatten() for t in a.state_dict().values() if t.is_floating_point()])
    vb = torch.cat([t.double().flatten() for t in b.state_dict().values() if t.is_floating_point()])
    return float((va - vb).norm() / vb.norm())


def main():
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    os.environ["DDLIB_CUDNN_BENCHMARK"] = "off"  # else train_ensemble autotunes inside its loop
    tmp = Path(tempfile.mkdtemp())
    print(f"device {DEV} ({torch.cuda.get_device_name() if not CPU else 'cpu'}), torch {torch.__version__}, "
          f"graph {GRAPH}")
    for name, width, shape in CASES:
        xy = data(shape)
        e1, le1, _ = train(name, width, shape, xy, "off")
        e2, _, _ = train(name, width, shape, xy, "off")
        g1, lg1, f1 = train(name, width, shape, xy, GRAPH)
        g2, _, f2 = train(name, width, shape, xy, GRAPH)
        ec = eager_with_capturable_adam(name, width, shape, xy)
        print(f"[1] {name} w{width}: eager/eager {rel_diff(e1, e2):.2e}  graph/graph {rel_diff(g1, g2):.2e}  "
              f"graph/eager {rel_diff(g1, e1):.2e}  graph/eager-capturable-Adam {rel_diff(g1, ec):.2e}  "
              f"losses eager {le1[-1]:.4f} graph {lg1[-1]:.4f} "
              f"(first {le1[0]:.4f} / {lg1[0]:.4f})  capture fallbacks {f1 + f2}")
        gf, lgf, f4 = train(name, width, shape, xy, GRAPH, fused=True)
        ecf = eager_with_capturable_adam(name, width, shape, xy, fused=True)
        print(f"[1b] {name} w{width}: fused Adam: graph-fused/graph {rel_diff(gf, g1):.2e}  "
              f"graph-fused/eager-fused-capturable {rel_diff(gf, ecf):.2e}  loss {lgf[-1]:.4f}  capture fallbacks {f4}")
        if name == "resnet18":
            path = tmp / f"{name}.pt"
            try:
                train(name, width, shape, xy, GRAPH, checkpoint=Checkpointing(path, 20, "k"), stop=37)
            except Stop:
                pass
            ck = Checkpointing(path, 20, "k")
            resumed, _, f3 = train(name, width, shape, xy, GRAPH, checkpoint=ck)
            same = all(torch.equal(u, v) for u, v in zip(g1.state_dict().values(), resumed.state_dict().values()))
            print(f"[2] {name}: graphed run resumed from step {ck.resumed_from}: bit-identical to uninterrupted "
                  f"{same}, rel diff {rel_diff(resumed, g1):.2e}, capture fallbacks {f3}")
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = False, True
    os.environ["DDLIB_CUDNN_BENCHMARK"] = "auto"
    sweep(tmp)


def sweep(tmp: Path) -> None:
    from test_cifar import make_tiny_cifar

    from ddlib import DataConfig, ResultStore, RunConfig, load_data, load_trained_model, run_configs
    from ddlib.cifar import CIFAR_MEAN_STD
    from ddlib.train import error_rate, predict_logits

    class _Patch:  # what make_tiny_cifar needs of pytest's monkeypatch
        setattr = staticmethod(setattr)

    make_tiny_cifar(tmp / "data", "cifar10", _Patch(), per_file=200)
    os.environ.update(DDLIB_DATA=str(tmp / "data"), DDLIB_RESULTS=str(tmp / "results"))
    data_cfg = DataConfig(dataset="cifar10", n_train=800, n_test=200, label_noise=0.15)
    cfgs = [RunConfig(data=data_cfg, model="resnet18", width=w, train=TrainConfig(steps=40, batch_size=32),
                      init_seed=0, order_seed=0) for w in (1, 2, 3)]
    out = run_configs(cfgs, device=DEV.type, progress=False, width_batch=4)
    d, store = load_data(data_cfg, DEV), ResultStore()
    for cfg, rec in zip(cfgs, out.records):
        model = load_trained_model(cfg, store, DEV)
        err = error_rate(predict_logits(model, d.x_test, 1, mean_std=CIFAR_MEAN_STD["cifar10"])[0], d.y_test).item()
        print(f"[3] sweep resnet18 w{cfg.width}: test {rec['metrics']['test_error']:.3f} reloaded {err:.3f} "
              f"group {rec['provenance'].get('group_widths')} steps ran as: {rec['provenance']['step_loop']}")
        assert rec["provenance"]["step_loop"] == ("eager" if CPU else "cuda graph")


if __name__ == "__main__":
    main()
