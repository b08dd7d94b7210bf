"""The bench: every public class has a row, the files have the promised columns, memory and
the scaling fit measure what they say; timings are never asserted."""
import os

import numpy as np
import pandas as pd
import pytest

import npimpl
from compare import bench
from compare.badinput import public_classes
from compare.bench import layers, measure, scaling
from reference import Spec

COLUMNS = ["item", "layer", "flops", "numpy_ms", "torch_ms", "ratio", "numpy_gflops",
           "torch_gflops", "gemm_shape", "gemm_gflops", "gemm_fraction", "target", "meets_target"]


def tiny():
    return bench.BenchItem("Conv2d(2,3,3) 1x2x5x5",
                           lambda: bench.layer_steps(Spec("Conv2d", 2, 3, 3), (1, 2, 5, 5)),
                           flops=3 * 2.0 * 3 * 9 * 18, gemm=(3, 18, 9), quick=True)


def test_every_public_class_has_a_bench_row():
    missing = [n for n in public_classes() if n not in layers.table()]
    assert not missing, f"add a row for these to compare/bench/layers.py TABLE (or a catalogue " \
                        f"family's BENCH dict): {missing}"


def test_rows_name_their_class_and_have_unique_names():
    items = layers.layer_items()
    names = [i.name for i in items]
    assert len(names) == len(set(names))
    known = set(npimpl.__all__)
    assert all(i.layer in known for i in items)
    assert "Conv2d(16, 32, 3, padding=1) 32x16x32x32" in names     # the conv, ≤ 1.4x
    conv = next(i for i in items if i.name == "Conv2d(16, 32, 3, padding=1) 32x16x32x32")
    assert conv.target == 1.4 and conv.gemm == (32, 144, 32 * 1024)


def test_register_refuses_a_second_item_of_one_name(monkeypatch):
    from compare.bench import item
    monkeypatch.setattr(item, "BENCH_ITEMS", [])
    bench.register(tiny())
    with pytest.raises(ValueError, match="already registered"):
        bench.register(tiny())


def test_run_bench_writes_csv_and_md(tmp_path):
    df = bench.run_bench(tmp_path / "out", quick=True, repeat=1, items=[tiny()], memory=False)
    assert list(df.columns[:len(COLUMNS)]) == COLUMNS
    csv = pd.read_csv(tmp_path / "out" / "bench.csv")
    assert csv["item"].tolist() == ["Conv2d(2,3,3) 1x2x5x5"]
    assert (csv[["numpy_ms", "torch_ms", "ratio", "gemm_gflops", "numpy_wall_ms"]] > 0).all().all()
    md = (tmp_path / "out" / "bench.md").read_text()
    assert "BLAS:" in md and "| Conv2d(2,3,3) 1x2x5x5 |" in md and "load average" in md
    assert sorted(os.listdir(tmp_path / "out")) == ["bench.csv", "bench.md"]  # no temp files left


def test_main_quick_runs_the_quick_items_with_memory(tmp_path):
    assert bench.main(["--out", str(tmp_path), "--quick", "--repeat", "1", "--quiet"]) == 0
    csv = pd.read_csv(tmp_path / "bench.csv")
    assert csv["item"].tolist() == [b.name() for b in layers.QUICK]
    if measure.rss_supported():                    # the child process measured both sides
        assert (csv["numpy_mb"] > 0).all() and (csv["torch_mb"] >= 0).all()


def test_memory_counts_what_a_step_allocates():
    shape = (256, 1024)                            # 1 MiB of float32 per array

    def setup():
        x = np.ones(shape, np.float32)

        def np_step():
            y = x * 2                              # 1 MiB
            z = y + 1                              # 1 MiB while y is alive: the peak is 2
            del y, z

        return np_step, lambda: None
    assert 1.99 < measure.measure_memory(setup)["numpy_mb"] < 2.1


def test_scaling_fit_and_files(tmp_path):
    sizes = np.array([1, 2, 4, 8])
    assert scaling.exponent(sizes, 3 * sizes ** 2.0) == pytest.approx(2.0)
    assert np.isnan(scaling.exponent(sizes, [1, 0, 2, 3]))
    rows = [dict(sweep=s, item=f"{s}: N={n}", size=n, numpy_ms=n * 1.0, torch_ms=n * 0.5,
                 numpy_mb=n * 2.0, torch_mb=n ** 2 * 1.0, rounds=3)
            for s in ("A over N", "B over N") for n in sizes]
    df = pd.DataFrame(rows)
    fits = scaling.fit_table(df)
    assert fits["torch_memory_exp"].tolist() == pytest.approx([2.0, 2.0])
    assert fits["memory_verdict"].tolist() == ["NumPy grows no faster"] * 2
    assert fits["time_verdict"].tolist() == ["not measured"] * 2     # no rounds given
    scaling.scaling_plot(str(tmp_path / "s.png"), df)
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    text = scaling.render(df, fits, [0.0, 0.0], 1)
    assert "| A over N | 1.00 | 1.00 | +0.00 | not measured | 1.00 (1.00) | 2.00 (2.00) | " \
           "NumPy grows no faster |" in text
    assert "| A over N: N=8 | 8.00 (-) | 4.00 (-) | 2.00x | 16.0 | 64.0 |" in text


def test_growth_exponent_drops_the_fixed_part():
    sizes = np.array([16, 32, 64, 128])
    held = 40 + 0.5 * sizes                # a large fixed part flattens the plain slope
    assert scaling.exponent(sizes, held) < 0.8
    assert scaling.growth_exponent(sizes, held) == pytest.approx(1.0)
    assert scaling.growth_exponent(sizes, 3 + sizes ** 2.0) == pytest.approx(2.0)
    assert np.isnan(scaling.growth_exponent(sizes, [5, 5, 6, 7]))     # nothing grew once


def test_bootstrap_interval_and_verdict():
    sizes = np.array([1, 2, 4, 8])
    rng = np.random.default_rng(1)
    noise = lambda: np.exp(rng.normal(0, 0.05, (4, 15)))     # 5 % noise per round
    same = sizes[:, None] * noise(), sizes[:, None] * noise()
    ci = scaling.bootstrap_exponents(sizes, *same)
    assert ci["numpy"][0] < 1 < ci["numpy"][1] and ci["delta"][0] < 0 < ci["delta"][1]
    assert scaling.verdict(*ci["delta"]) == "alike within the uncertainty"
    faster = sizes[:, None] ** 1.5 * noise(), sizes[:, None] * noise()
    ci = scaling.bootstrap_exponents(sizes, *faster)
    assert 0.4 < ci["delta"][0] < 0.5 < ci["delta"][1] < 0.6
    assert scaling.verdict(*ci["delta"]) == "**NumPy grows faster**"
    assert scaling.verdict(*scaling.bootstrap_exponents(sizes, *faster[::-1])["delta"]) == \
        "NumPy grows slower"
    # paired rounds: a load spike hitting both sides in one round leaves the difference alone
    spike = np.ones((4, 15))
    spike[:, 3] = 3.0
    ci = scaling.bootstrap_exponents(sizes, sizes[:, None] * spike, sizes[:, None] * spike)
    assert ci["delta"] == (0.0, 0.0)


def test_time_sweep_runs_every_size_each_round_on_both_sides():
    calls = []
    items = [bench.BenchItem(f"S: N={n}", (lambda n=n: (lambda: calls.append(("np", n)),
                                                         lambda: calls.append(("t", n)))))
             for n in (1, 2, 3)]
    t_np, t_t, s_np, s_t = scaling.time_sweep(items, repeat=4, warmup=1)
    assert t_np.shape == t_t.shape == s_np.shape == s_t.shape == (3, 4)
    timed = calls[6:]                                   # after one warm-up pair per size
    rounds = [timed[i:i + 6] for i in range(0, 24, 6)]
    assert [sorted(r) for r in rounds] == [sorted(calls[:6])] * 4
    assert [r[0] for r in rounds] == [("np", 1), ("np", 3), ("t", 1), ("t", 3)]   # all 4 orders


def test_scaling_sweeps_have_four_growing_sizes_in_a_constant_ratio():
    assert set(scaling.SWEEPS) == {"Softmax over C", "MultiheadAttention over length",
                                   "LSTM over T", "Conv2d over batch"} == set(scaling.SIZES_WHY)
    for label, sizes, make in scaling.SWEEPS.values():
        assert len(sizes) == 4 and list(sizes) == sorted(sizes)
        assert len({b / a for a, b in zip(sizes, sizes[1:])}) == 1


def test_every_note_names_a_public_class():
    from compare.bench.notes import NOTES
    assert set(NOTES) <= set(public_classes())
    assert all(len(n) > 30 for n in NOTES.values())
