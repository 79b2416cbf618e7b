"""GPU check of the CIFAR training path (run on a CUDA machine; ``--cpu`` for a quick dry run).

1. a tiny sweep (cnn5, resnet18) through ``run_configs`` on fake CIFAR files in the real format,
   with periodic checkpoints; reloaded weights predict the stored test error;
2. checkpoint/resume bit-identity on the device (deterministic cuDNN), augmentation generators on CUDA;
3. no host-device synchronisation inside the training steps (``torch.cuda.set_sync_debug_mode``);
4. ``DDLIB_COMPILE=1`` runs;
5. throughput of ResNet-18 at the paper's k = 64 (one member, batch 128, bf16, channels-last),
   and what it means for the ``paper`` preset (4000 epochs of 390 steps per width).

    python benchmarks/cifar_gpu_check.py [--cpu]

It finds the repository's ``ddlib`` (and the tests' CIFAR writer) by path, so it runs where ddlib is not
installed, as on the device machines.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]
CPU = "--cpu" in sys.argv
DEV = torch.device("cpu" if CPU else "cuda")

from test_cifar import make_tiny_cifar  # noqa: E402

from ddlib import DataConfig, ResultStore, RunConfig, TrainConfig, load_data, load_trained_model, run_configs  # noqa: E402
from ddlib.checkpoint import Checkpointing  # noqa: E402
from ddlib.cifar import CIFAR_MEAN_STD  # noqa: E402
from ddlib.models import build_model  # noqa: E402
from ddlib.train import Targets, error_rate, predict_logits, train_ensemble  # noqa: E402


class _Patch:  # what make_tiny_cifar needs of pytest's monkeypatch
    setattr = staticmethod(setattr)


def main():
    name = "cpu" if CPU else torch.cuda.get_device_name(DEV)
    print(f"device: {name} | torch {torch.__version__} | {time.strftime('%Y-%m-%d')}", flush=True)
    tmp = Path(tempfile.mkdtemp())
    make_tiny_cifar(tmp / "data", "cifar10", _Patch(), per_file=60 if CPU else 400)
    os.environ.update(DDLIB_DATA=str(tmp / "data"), DDLIB_RESULTS=str(tmp / "results"), DDLIB_CHECKPOINT_EVERY="20")

    # 1. sweep through run_configs
    data_cfg = DataConfig(dataset="cifar10", n_train=200 if CPU else 1500, n_test=60 if CPU else 400, label_noise=0.15)
    cfgs = [RunConfig(data=data_cfg, model=m, width=w, train=TrainConfig(steps=50, batch_size=32), init_seed=s,
                      order_seed=s) for m, w in (("cnn5", 4), ("resnet18", 2)) for s in (0, 1)]
    t = time.time()
    out = run_configs(cfgs, device=DEV.type, progress=False)
    print(f"[1] sweep: {out.summary()} in {time.time() - t:.1f}s")
    data = load_data(data_cfg, DEV)
    store = ResultStore()
    for cfg, rec in zip(cfgs, out.records):
        model = load_trained_model(cfg, store, DEV)
        err = error_rate(predict_logits(model, data.x_test, 1, mean_std=CIFAR_MEAN_STD["cifar10"])[0], data.y_test).item()
        print(f"    {cfg.model} w{cfg.width} s{cfg.init_seed}: train {rec['metrics']['train_error']:.3f} "
              f"test {rec['metrics']['test_error']:.3f} reloaded test {err:.3f} params {rec['metrics']['params']} "
              f"device {rec['provenance']['device']} channels_last "
              f"{next(p for p in model.parameters() if p.dim() == 4).is_contiguous(memory_format=torch.channels_last)}")
    print(f"    checkpoints left: {list((store.root / 'checkpoints').glob('*.pt'))}")

    # 2. resume bit-identity on the device
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    os.environ["DDLIB_CUDNN_BENCHMARK"] = "off"  # else train_ensemble autotunes inside its loop
    x, y = data.x_train, data.y_train

    class Stop(Exception):
        pass

    def run(ckpt=None, stop=None):
        model = build_model("resnet18", 2, (3, 32, 32), 10, [3, 4]).to(DEV)
        if DEV.type == "cuda":
            model = model.to(memory_format=torch.channels_last)

        def hook(s):
            if s == stop:
                raise Stop

        train_ensemble(model, x, Targets(hard=y.expand(2, -1)), TrainConfig(steps=30, batch_size=32), [3, 4],
                       checkpoint=ckpt, on_step=hook, mean_std="cifar10")
        return model

    a, b = run(), run()
    same = all(torch.equal(u, v) for u, v in zip(a.state_dict().values(), b.state_dict().values()))
    try:
        run(Checkpointing(tmp / "ck.pt", 10, "k"), stop=17)
    except Stop:
        pass
    ck = Checkpointing(tmp / "ck.pt", 10, "k")
    c = run(ck)
    resumed = all(torch.equal(u, v) for u, v in zip(a.state_dict().values(), c.state_dict().values()))
    print(f"[2] two uninterrupted runs identical: {same}; resumed (from step {ck.resumed_from}) identical: {resumed}")

    # 3. host-device synchronisation inside steps (loss.item() at step 0 and 100 is expected)
    if DEV.type == "cuda":
        model = build_model("cnn5", 4, (3, 32, 32), 10, [0]).to(DEV).to(memory_format=torch.channels_last)
        syncs = []

        def note(step):
            syncs.append((step, len(caught)))

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.cuda.set_sync_debug_mode("warn")
            train_ensemble(model, x, Targets(hard=y[None]), TrainConfig(steps=40, batch_size=32), [0], on_step=note,
                           mean_std="cifar10")
            torch.cuda.set_sync_debug_mode(0)
        per_step = [n1 - n0 for (_, n0), (_, n1) in zip(syncs, syncs[1:])]
        print(f"[3] sync warnings per step (steps 1..39): {per_step}; first messages: "
              f"{sorted({str(w.message)[:60] for w in caught})[:3]}")
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = False, True
        os.environ["DDLIB_CUDNN_BENCHMARK"] = "auto"

    # 4. torch.compile
    os.environ["DDLIB_COMPILE"] = "1"
    t = time.time()
    model = build_model("cnn5", 4, (3, 32, 32), 10, [0, 1]).to(DEV)
    losses = train_ensemble(model, x, Targets(hard=y.expand(2, -1)), TrainConfig(steps=30, batch_size=32), [0, 1],
                            mean_std="cifar10")
    print(f"[4] DDLIB_COMPILE=1: 30 steps in {time.time() - t:.1f}s, losses {losses}")
    os.environ.pop("DDLIB_COMPILE")

    # 5. throughput at the paper's size
    if DEV.type == "cuda":
        big = torch.randint(0, 256, (50000, 3, 32, 32), dtype=torch.uint8, device=DEV)
        labels = torch.randint(0, 10, (50000,), device=DEV)
        for k, members, compiled in ((64, 1, False), (16, 4, False), (64, 1, True)):
            os.environ["DDLIB_COMPILE"] = "1" if compiled else "0"
            model = build_model("resnet18", k, (3, 32, 32), 10, list(range(members))).to(DEV)
            model = model.to(memory_format=torch.channels_last)
            targets = Targets(hard=labels.expand(members, -1))
            warmup, steps, clock = 30, 300, {}  # batch 128: ddlib.gpu_checks.CIFAR_CHECK_BATCH

            def start_clock(step):  # one call: a second train_ensemble would compile again
                if step == warmup - 1:
                    torch.cuda.synchronize()
                    clock["t"] = time.time()

            outcome = {}
            train_ensemble(model, big, targets, TrainConfig(steps=warmup + steps, batch_size=128),
                           list(range(members)), on_step=start_clock, mean_std="cifar10", outcome=outcome)
            torch.cuda.synchronize()
            rate = steps / (time.time() - clock["t"])
            hours = 4000 * 390 / rate / 3600
            adam = "Adam's fused form" if outcome["fused_optimizer"] else "Adam's foreach form"
            print(f"[5] resnet18 k={k} members={members} compile={compiled}: {rate:.1f} steps/s "  # ddlib.gpu_report reads it
                  f"-> one paper width (1.56M steps) ~{hours:.1f} h | loop: {outcome['step_loop']}, {adam}")
        os.environ.pop("DDLIB_COMPILE")


if __name__ == "__main__":
    main()
