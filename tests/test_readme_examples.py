"""The README's code examples run as written (from a fresh folder) and say what the README
says they say."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def example(name: str) -> str:
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    m = re.search(rf"<!-- readme-example: {name} -->\n```python\n(.*?)```", text, re.S)
    assert m, f"README example {name!r} not found"
    return m.group(1)


def run(code: str, cwd) -> str:
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=cwd, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_check_example_catches_the_planted_bug(tmp_path):
    code = example("check")
    assert len(code.strip().splitlines()) <= 10
    out = run(code, tmp_path)
    assert out.startswith("lockstep: MyLinear differs from torch")
    assert "first failure: grad.bias [float32, train mode]" in out
    assert "worst element at index" in out and "tolerance: float32" in out


def test_export_loader_example(tmp_path):
    from compare.cli import main
    assert main(["export", "linear-*", "--out", str(tmp_path / "reference.npz")]) == 0
    out = run(example("loader"), tmp_path)
    lines = out.strip().splitlines()
    assert [ln.split()[0] for ln in lines] == ["float32", "float64"]
    worst = {ln.split()[0]: float(ln.split()[-1]) for ln in lines}
    assert worst["float64"] < 1e-12 and worst["float32"] < 1e-5
