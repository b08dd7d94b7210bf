"""The bench writes its two files with the promised columns; timings are never asserted."""
import os

import pandas as pd
import pytest

from compare import bench
from reference import Spec

COLUMNS = ["item", "flops", "numpy_ms", "torch_ms", "ratio", "numpy_gflops", "torch_gflops",
           "gemm_shape", "gemm_gflops", "gemm_fraction"]


def tiny():
    return bench.BenchItem("Conv2d(2,3,3) 1x2x5x5",
                           lambda: bench.layer_steps(Spec("Conv2d", 2, 3, 3), (1, 2, 5, 5)),
                           flops=3 * 2.0 * 3 * 9 * 18, gemm=(3, 18, 9), quick=True)


def test_run_bench_writes_csv_and_md(tmp_path):
    df = bench.run_bench(tmp_path / "out", quick=True, repeat=1, items=[tiny()])
    assert list(df.columns[:len(COLUMNS)]) == COLUMNS
    csv = pd.read_csv(tmp_path / "out" / "bench.csv")
    assert csv["item"].tolist() == ["Conv2d(2,3,3) 1x2x5x5"]
    assert (csv[["numpy_ms", "torch_ms", "ratio", "gemm_gflops"]] > 0).all().all()
    md = (tmp_path / "out" / "bench.md").read_text()
    assert "BLAS:" in md and "| Conv2d(2,3,3) 1x2x5x5 |" in md
    assert sorted(os.listdir(tmp_path / "out")) == ["bench.csv", "bench.md"]  # no temp files left


def test_main_quick_runs_the_quick_items(tmp_path):
    assert bench.main(["--out", str(tmp_path), "--quick", "--repeat", "1"]) == 0
    csv = pd.read_csv(tmp_path / "bench.csv")
    assert csv["item"].tolist() == [i.name for i in bench.BENCH_ITEMS if i.quick]


def test_default_items_include_the_target_conv_and_names_are_unique():
    names = [i.name for i in bench.BENCH_ITEMS]
    assert "Conv2d(16,32,3,padding=1) 32x16x32x32" in names
    with pytest.raises(ValueError, match="already registered"):
        bench.register(bench.BENCH_ITEMS[0])
