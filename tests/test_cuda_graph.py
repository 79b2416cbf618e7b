"""The whole-step CUDA graph (ddlib.cuda_graph): its switch, and its bookkeeping on a CPU.

A real capture needs a GPU (benchmarks/cuda_graph_check.py checks it there). Here a stand-in
recorder plays the graph's part: 'capture' runs nothing and remembers the call, 'replay' runs it
and writes the result into the static output that 'capture' handed back, as a CUDA graph writes
into its static tensors. So these tests catch a step that reads stale inputs, a loss read from
the wrong step, a batch skipped or repeated around the capture, or a failed capture that loses a step.
"""
from __future__ import annotations

import functools
import threading
import time
from contextlib import nullcontext

import pytest
import torch

from ddlib import TrainConfig, cuda_graph, train
from ddlib.cuda_graph import WARMUP_STEPS, GraphedStep, resolve_cuda_graph
from ddlib.models import build_model
from ddlib.validation import ConfigError


class PythonRecorder:
    """CPU stand-in for :class:`ddlib.cuda_graph.CudaGraphRecorder`."""

    captures = 0

    def capture(self, fn):
        assert cuda_graph.CAPTURE_GUARD.capturing(), "captures must take turns (groups may train in threads)"
        PythonRecorder.captures += 1
        self.fn, self.out = fn, torch.zeros(())
        return self.out

    def replay(self):
        self.out.copy_(self.fn())


class FailingRecorder(PythonRecorder):
    def capture(self, fn):
        raise RuntimeError("operation not permitted when stream is capturing")


def _mlp_and_step():
    model = build_model("mlp", 8, (12,), 3, [0, 1]).double()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    y = torch.randint(0, 3, (2, 64), generator=torch.Generator().manual_seed(1))

    def step(xb, idx):
        opt.zero_grad(set_to_none=True)
        loss = train.Targets(hard=y).loss(model(xb), idx)
        loss.backward()
        opt.step()
        return loss.detach()

    return model, step


def _batches(n=9):
    g = torch.Generator().manual_seed(2)
    return [(torch.randn(2, 16, 12, generator=g, dtype=torch.float64), torch.randint(0, 64, (2, 16), generator=g))
            for _ in range(n)]


@pytest.mark.parametrize("recorder", [PythonRecorder, FailingRecorder])
def test_graphed_step_trains_exactly_like_the_plain_step(recorder):
    plain_model, plain_step = _mlp_and_step()
    model, step = _mlp_and_step()
    graphed = GraphedStep(step, recorder=recorder)
    PythonRecorder.captures = 0
    failing = recorder is FailingRecorder
    with pytest.warns(UserWarning, match="capture of the training step failed") if failing else nullcontext():
        for xb, idx in _batches():
            expected = plain_step(xb, idx).item()
            assert graphed(xb, idx).item() == expected  # the loss of this very step, read before the next
    for a, b in zip(plain_model.state_dict().values(), model.state_dict().values()):
        assert torch.equal(a, b)
    if recorder is PythonRecorder:
        assert PythonRecorder.captures == 1 and graphed.graph is not None and not graphed.failed
    else:
        assert graphed.failed and graphed.graph is None


def test_failed_capture_warns():
    _, step = _mlp_and_step()
    graphed = GraphedStep(step, recorder=FailingRecorder)
    with pytest.warns(UserWarning, match="capture of the training step failed"):
        for xb, idx in _batches(WARMUP_STEPS + 1):
            graphed(xb, idx)


def test_train_ensemble_with_the_graph_plumbing_equals_eager(monkeypatch, tiny_images):
    """train_ensemble's own graphed path (capturable Adam aside, which needs CUDA) on augmented images."""
    x, y = tiny_images

    def run(outcome=None):
        model = build_model("cnn5", 2, (3, 32, 32), 10, [0, 1]).double()
        losses = train.train_ensemble(model, x, train.Targets(hard=y.expand(2, -1)),
                                      TrainConfig(steps=2 * WARMUP_STEPS + 3, batch_size=8), [0, 1],
                                      outcome=outcome, mean_std="cifar10")
        return model, losses

    outcome = {}
    eager_model, eager_losses = run(outcome)
    assert outcome["step_loop"] == "eager"
    make_optimizer = train.make_optimizer
    monkeypatch.setattr(train, "resolve_cuda_graph", lambda *a: True)
    monkeypatch.setattr(train, "make_optimizer", lambda params, cfg, capturable, fused: make_optimizer(params, cfg, fused=fused))
    monkeypatch.setattr(train, "GraphedStep", functools.partial(GraphedStep, recorder=PythonRecorder))
    PythonRecorder.captures = 0
    model, losses = run(outcome)
    assert PythonRecorder.captures == 1
    assert losses == eager_losses
    for a, b in zip(eager_model.state_dict().values(), model.state_dict().values()):
        assert torch.equal(a, b)
    assert outcome["step_loop"] == "cuda graph"
    monkeypatch.setattr(train, "GraphedStep", functools.partial(GraphedStep, recorder=FailingRecorder))
    with pytest.warns(UserWarning, match="capture of the training step failed"):
        run(outcome)
    assert outcome["step_loop"] == "eager, capture failed"  # the switch was on; provenance must not say graph


@pytest.fixture
def tiny_images():
    g = torch.Generator().manual_seed(0)
    return (torch.randint(0, 256, (40, 3, 32, 32), dtype=torch.uint8, generator=g),
            torch.randint(0, 10, (40,), generator=g))


def test_switch_defaults_on_for_cuda_only():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert resolve_cuda_graph(None, cpu) is False
    assert resolve_cuda_graph("auto", cuda) is True
    assert resolve_cuda_graph("off", cuda) is False
    assert resolve_cuda_graph(True, cuda) is True
    assert resolve_cuda_graph("auto", cuda, "reduce-overhead") is False  # that mode records graphs itself
    assert resolve_cuda_graph("auto", cuda, "default") is True
    assert resolve_cuda_graph("auto", cuda, "max-autotune-no-cudagraphs") is True  # kernel search only


def test_switch_rejects_what_cannot_work(monkeypatch):
    with pytest.raises(ConfigError, match="cuda_graph=on needs a CUDA device"):
        resolve_cuda_graph("on", torch.device("cpu"))
    with pytest.raises(ConfigError, match="cuda_graph=on cannot be combined with compile mode 'reduce-overhead'"):
        resolve_cuda_graph("on", torch.device("cuda"), "reduce-overhead")
    monkeypatch.setenv("DDLIB_CUDA_GRAPH", "sometimes")
    with pytest.raises(ConfigError, match="DDLIB_CUDA_GRAPH must be auto, on or off"):
        resolve_cuda_graph(None, torch.device("cuda"))
    monkeypatch.setenv("DDLIB_CUDA_GRAPH", "on")
    with pytest.raises(ConfigError, match="DDLIB_CUDA_GRAPH=on needs a CUDA device"):
        train.train_ensemble(build_model("mlp", 2, (4,), 2, [0]), torch.randn(8, 4),
                             train.Targets(hard=torch.zeros(1, 8, dtype=torch.long)), TrainConfig(steps=1, batch_size=4), [0])
    for mode in cuda_graph.GRAPHING_COMPILE_MODES:  # modes that record graphs themselves turn ours off
        assert resolve_cuda_graph("auto", torch.device("cuda"), mode) is False


class _Stop(Exception):
    pass


def test_resume_from_a_checkpoint_written_with_the_graph_on(tmp_path):
    """A graphed run saves a capturable Adam (flag on, step counts on its device); resumed where the graph
    is off (here a CPU) the optimizer must run non-capturable and end as the uninterrupted run."""
    from ddlib.checkpoint import Checkpointing

    x = torch.randn(64, 12, generator=torch.Generator().manual_seed(3))
    y = torch.randint(0, 3, (2, 64), generator=torch.Generator().manual_seed(4))
    cfg = TrainConfig(steps=12, batch_size=8)

    def run(checkpoint=None, stop=None):
        model = build_model("mlp", 8, (12,), 3, [0, 1])

        def hook(step):
            if step == stop:
                raise _Stop

        train.train_ensemble(model, x, train.Targets(hard=y), cfg, [0, 1], checkpoint=checkpoint, on_step=hook,
                             mean_std="cifar10")
        return model

    whole = run()
    path = tmp_path / "ck.pt"
    with pytest.raises(_Stop):
        run(Checkpointing(path, 5, "k"), stop=7)
    saved = torch.load(path, weights_only=False)
    for group in saved["optimizer"]["param_groups"]:
        group["capturable"] = True  # as a graphed CUDA run writes it
    torch.save(saved, path)
    ck = Checkpointing(path, 5, "k")
    resumed = run(ck)
    assert ck.resumed_from == 5
    for a, b in zip(whole.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)


def test_match_loaded_state_moves_adam_step_counts():
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters())
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    for state in opt.state.values():  # as a checkpoint of another form might hold it
        state["step"] = state["step"].to(torch.float64)
    train.match_loaded_state(opt, True)
    assert opt.param_groups[0]["capturable"] is True
    assert all(s["step"].dtype == torch.float32 and s["step"].device == p.device for p, s in opt.state.items())
    train.match_loaded_state(opt, False, fused=True)
    assert opt.param_groups[0]["capturable"] is False
    assert (opt.param_groups[0]["fused"], opt.param_groups[0]["foreach"]) == (True, False)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="the step counts' device differs from the CPU only on a GPU")
def test_match_loaded_state_puts_step_counts_where_each_form_needs_them():
    model = torch.nn.Linear(3, 2).cuda()
    opt = torch.optim.Adam(model.parameters())
    model(torch.randn(4, 3, device="cuda")).sum().backward()
    opt.step()
    for capturable, fused, device in ((False, False, "cpu"), (True, False, "cuda"), (False, True, "cuda")):
        train.match_loaded_state(opt, capturable, fused)
        assert all(s["step"].device.type == device for s in opt.state.values()), (capturable, fused)


@pytest.mark.parametrize("stop, loop", [(10, "cuda graph then eager"), (5, "cuda graph")])
def test_step_loop_of_a_resumed_run_names_every_part(monkeypatch, tmp_path, stop, loop):
    """Resumed with too few steps left to capture (2 < 4), the last part runs eagerly: provenance must not
    hide the graphed part before it, nor call the run eager; with enough steps left both parts are graphed."""
    from ddlib.checkpoint import Checkpointing

    make_optimizer = train.make_optimizer
    monkeypatch.setattr(train, "resolve_cuda_graph", lambda *a: True)
    monkeypatch.setattr(train, "make_optimizer", lambda params, cfg, capturable, fused: make_optimizer(params, cfg, fused=fused))
    monkeypatch.setattr(train, "GraphedStep", functools.partial(GraphedStep, recorder=PythonRecorder))
    match_loaded_state = train.match_loaded_state
    monkeypatch.setattr(train, "match_loaded_state", lambda opt, capturable, fused: match_loaded_state(opt, False, fused))  # CPU Adam
    x = torch.randn(64, 12, generator=torch.Generator().manual_seed(3))
    y = torch.randint(0, 3, (1, 64), generator=torch.Generator().manual_seed(4))

    def run(outcome, hook=None):
        train.train_ensemble(build_model("mlp", 8, (12,), 3, [0]), x, train.Targets(hard=y),
                             TrainConfig(steps=12, batch_size=8), [0], checkpoint=Checkpointing(tmp_path / "ck.pt", 5, "k"),
                             on_step=hook, outcome=outcome)

    def stop_after(step):
        if step + 1 == stop:
            raise _Stop

    first, resumed = {}, {}
    with pytest.raises(_Stop):
        run(first, stop_after)
    run(resumed)
    assert resumed["step_loop"] == loop


def test_warm_up_and_capture_stay_on_a_worker_threads_own_stream(monkeypatch):
    """In a thread of ddlib.concurrency.stream_executor the current stream is the thread's own: warm-up and
    capture must use it, not draw a pooled stream that another thread may hold; elsewhere (the default
    stream, which cannot be captured) a side stream is drawn."""
    own, default, side = object(), object(), object()
    monkeypatch.setattr(torch.cuda, "default_stream", lambda: default)
    monkeypatch.setattr(torch.cuda, "Stream", lambda: side)
    monkeypatch.setattr(torch.cuda, "current_stream", lambda: own)
    assert cuda_graph._work_stream() is own
    monkeypatch.setattr(torch.cuda, "current_stream", lambda: default)
    assert cuda_graph._work_stream() is side



def test_the_recorder_captures_and_the_warm_up_runs_on_the_work_stream(monkeypatch):
    """CudaGraphRecorder hands torch.cuda.graph the work stream, and the eager warm-up runs inside it."""
    import contextlib

    class Stream:
        def wait_stream(self, other):
            pass

    own, seen = Stream(), {}
    monkeypatch.setattr(cuda_graph, "_work_stream", lambda: own)
    monkeypatch.setattr(torch.cuda, "CUDAGraph", lambda: "graph")
    monkeypatch.setattr(torch.cuda, "synchronize", lambda: None)
    monkeypatch.setattr(torch.cuda, "current_stream", lambda: Stream())

    @contextlib.contextmanager
    def graph(g, stream=None, capture_error_mode=None):
        seen["capture"] = stream
        yield

    @contextlib.contextmanager
    def stream(s):
        seen["warm-up"] = s
        yield

    monkeypatch.setattr(torch.cuda, "graph", graph)
    monkeypatch.setattr(torch.cuda, "stream", stream)
    cuda_graph.CudaGraphRecorder().capture(lambda: None)
    assert seen["capture"] is own

    class CudaBatch:
        is_cuda = True

    GraphedStep(lambda xb, idx: "loss")._eager(CudaBatch(), None)
    assert seen["warm-up"] is own


# The capture guard. On an H200 a group warming up in one thread (cuDNN autotuning a new shape synchronises the
# device) broke another thread's capture. These tests hold a capture or an eager section open in one thread and
# check that the other kind of work in another thread waits for it, and only for it.

BLOCKED = 0.3  # seconds a blocked call is given to (wrongly) get through


class _Worker:
    """``fn`` in a daemon thread; ``done`` is set when it has returned, and :meth:`result` re-raises its error."""

    def __init__(self, fn):
        self.done, self.error = threading.Event(), None

        def run():
            try:
                fn()
            except BaseException as err:  # handed to the main thread
                self.error = err
            finally:
                self.done.set()

        threading.Thread(target=run, daemon=True).start()

    def result(self, timeout=10):
        assert self.done.wait(timeout), "the thread did not finish"
        if self.error is not None:
            raise self.error


def _hold(section):
    """Open ``section`` in another thread until the returned release event is set (the worker is returned too)."""
    entered, release = threading.Event(), threading.Event()

    def hold():
        with section():
            entered.set()
            release.wait(10)

    worker = _Worker(hold)
    assert entered.wait(10)
    return release, worker


def _wait_until(condition, timeout=10):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_a_capture_waits_for_open_eager_sections_and_holds_new_ones_back():
    guard = cuda_graph.CaptureGuard()
    release_eager, _ = _hold(guard.eager)
    captured, release_capture = threading.Event(), threading.Event()

    def capture():
        with guard.capture():
            captured.set()
            release_capture.wait(10)

    capturer = _Worker(capture)
    _wait_until(lambda: guard._captures_waiting == 1)  # the capture is queued...
    assert not captured.is_set(), "the capture started while an eager section was open"
    late = _Worker(lambda: guard.eager().__enter__())  # ...so a new section must wait for it
    assert not late.done.wait(BLOCKED), "an eager section started while a capture was waiting"
    release_eager.set()
    assert captured.wait(10)
    assert not late.done.wait(BLOCKED), "an eager section started during a capture"
    second = _Worker(lambda: guard.capture().__enter__())
    assert not second.done.wait(BLOCKED), "two captures ran at once"
    release_capture.set()
    capturer.result()
    late.result()


def test_eager_sections_overlap_and_nest_and_a_capture_inside_one_is_refused():
    guard = cuda_graph.CaptureGuard()
    release, holder = _hold(guard.eager)
    _Worker(lambda: guard.eager().__enter__()).result()  # eager sections do not wait for one another
    with guard.eager():
        with guard.eager():  # nested: passes straight through
            pass
        with pytest.raises(cuda_graph.CaptureInsideSection):
            with guard.capture():
                pass
    release.set()
    holder.result()
    # an error inside a section leaves the guard as it was: a capture can start afterwards
    with pytest.raises(ValueError):
        with guard.eager():
            raise ValueError
    _Worker(lambda: guard.capture().__enter__()).result(timeout=2)


def test_predictions_and_eager_steps_wait_for_another_threads_capture():
    model = build_model("mlp", 4, (6,), 3, [0])
    x = torch.randn(8, 6)
    xb, idx = _batches(1)[0]
    steps = [_mlp_and_step()[1] for _ in range(4)]  # a model and optimiser per thread: they run at the same time
    failed = GraphedStep(steps[3], recorder=FailingRecorder)
    failed.failed = True  # the eager loop after a failed capture
    release, _ = _hold(cuda_graph.CAPTURE_GUARD.capture)
    try:
        waiting = [_Worker(lambda: train.predict_logits(model, x, 1)),
                   _Worker(lambda: cuda_graph.eager_step(steps[0])(xb, idx)),
                   _Worker(lambda: GraphedStep(steps[1], recorder=PythonRecorder)(xb, idx)),  # a warm-up step
                   _Worker(lambda: failed(xb, idx))]
        assert not any(w.done.wait(BLOCKED) for w in waiting), "eager work ran during another thread's capture"
    finally:
        release.set()
    for w in waiting:
        w.result()
