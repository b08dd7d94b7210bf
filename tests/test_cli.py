"""The command line: exit codes 0 (all agree), 1 (a deviation failed), 2 (bad usage)."""
import os
import subprocess
import sys

import numpy as np
import pytest

from compare import catalogue, cli
from compare.engine import Case
from compare.gen import args, normal
from compare.mutants import ArticleLinear
from reference import Spec, build


@pytest.fixture(autouse=True)
def _fast_writers(monkeypatch):
    """The HTML book and the markdown's list of every other class cost ~5 s per report and
    have their own tests (test_book.py, test_report.py); here a report's folder, its exit
    code and its arguments are under test, so both write almost nothing."""
    import compare.book
    import compare.markdown
    monkeypatch.setattr(compare.book, "write", lambda run, out_dir: [])
    monkeypatch.setattr(compare.markdown, "undocumented", lambda rows: "")


def test_report_exit_0_and_files(tmp_path):
    rc = cli.main(["report", "--cases", "linear-2d", "--dtypes", "float64", "--out",
                   str(tmp_path), "--no-progress"])
    assert rc == 0
    assert {"deviations.csv", "deviations.md", "trajectories.csv"} <= set(os.listdir(tmp_path))


@pytest.mark.parametrize("argv", [["report", "--cases", "no-such-case*"],
                                  ["report", "--dtypes", "float8"],
                                  ["report", "--bogus"], ["frobnicate"]],
                         ids=["unmatched-glob", "unknown-dtype", "unknown-option", "unknown-cmd"])
def test_bad_usage_exits_2(argv, tmp_path):
    assert cli.main(argv + ["--out", str(tmp_path)] if argv[0] == "report" and "--bogus" not in
                    argv else argv) == 2


def test_a_failing_case_exits_1(tmp_path, monkeypatch):
    def model(dt):
        good_np, t = build(Spec("Linear", 4, 4), dt)
        bad = ArticleLinear(4, 4, dtype=dt.type)
        bad.load_state_dict(good_np.state_dict())
        return bad, t
    bad_case = Case("bad-linear", "Linear", "core", model, args(normal(4, 4)),
                    dtypes=("float64",))
    monkeypatch.setattr(catalogue, "all_cases", lambda: [bad_case])
    from compare import report      # the self-tests have their own tests: keep this one fast
    monkeypatch.setattr(report, "mutation_score", lambda *a: [])
    monkeypatch.setattr(report, "matrix", lambda *a: [])
    monkeypatch.setattr(report, "catalogue_init_rows", lambda *a, **k: [])
    rc = cli.main(["report", "--out", str(tmp_path), "--no-progress"])
    assert rc == 1


def test_python_dash_m_compare_lists_cases():
    out = subprocess.run([sys.executable, "-m", "compare", "list", "--cases", "linear-*"],
                         capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert "linear-2d" in out.stdout and "relu" not in out.stdout


# --- issue 21: every bad argument is one line and exit 2, checked before anything runs -------
def _seeded_report(tmp_path, name="rep", cases="flatten-default,unflatten"):
    out = tmp_path / name
    assert cli.main(["report", "--cases", cases, "--dtypes", "float64", "--out", str(out),
                     "--quiet"]) == 0
    return out


def _readonly(path):
    """A folder nobody may write, root included (chattr +i; chmod for everyone else)."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(path)], check=True)
        return lambda: subprocess.run(["chattr", "-i", str(path)], check=True)
    os.chmod(path, 0o555)
    return lambda: os.chmod(path, 0o755)


BAD = {
    "report-seed-negative": ["report", "--seed", "-1"],
    "report-seed-huge": ["report", "--seed", str(10 ** 30)],
    "report-seeds-backwards": ["report", "--seeds", "5-2"],
    "report-jobs-0": ["report", "--jobs", "0"],
    "report-cases-empty": ["report", "--cases", ""],
    "report-cases-unmatched": ["report", "--cases", "zzz*"],
    "report-dtype": ["report", "--dtypes", "float16"],
    "report-out-empty": ["report", "--out", ""],
    "report-out-file": ["report", "--out", "{file}"],
    "report-out-under-file": ["report", "--out", "{file}/sub"],
    "report-out-readonly": ["report", "--out", "{readonly}/sub"],
    "report-out-is-cwd": ["report", "--cases", "flatten-default", "--out", "."],
    "report-out-holds-a-tree": ["report", "--cases", "flatten-default", "--out", "{root}"],
    "report-option": ["report", "--bogus"],
    "unknown-command": ["frobnicate"],
    "list-unmatched": ["list", "--cases", "zzz*"],
    "train-max-steps-negative": ["train", "article-toy", "--max-steps", "-3"],
    "train-max-steps-0": ["train", "article-toy", "--max-steps", "0"],
    "train-out-file": ["train", "article-toy", "--out", "{file}"],
    "bench-only-unknown": ["bench", "--only", "nosuch-item-anywhere", "--out", "{tmp}"],
    "bench-threads-negative": ["bench", "--threads", "-2"],
    "bench-repeat-0": ["bench", "--repeat", "0"],
}


@pytest.mark.parametrize("argv", BAD.values(), ids=BAD.keys())
def test_every_bad_argument_exits_2_with_one_line(argv, tmp_path, capsys):
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "ro").mkdir()
    undo = _readonly(tmp_path / "ro")
    subst = {"{file}": str(tmp_path / "a-file"), "{readonly}": str(tmp_path / "ro"),
             "{tmp}": str(tmp_path / "bench"), "{root}": str(tmp_path)}
    argv = [subst.get(a, a.replace("{file}", subst["{file}"]).replace(
        "{readonly}", subst["{readonly}"])) for a in argv]
    try:
        rc = cli.main(argv)
    finally:
        undo()
    err = capsys.readouterr().err
    assert rc == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("lockstep"), err


def test_a_bad_seed_leaves_the_report_alone(tmp_path):
    out = _seeded_report(tmp_path)
    before = (out / "deviations.csv").read_bytes()
    assert cli.main(["report", "--seed", str(10 ** 30), "--out", str(out)]) == 2
    assert (out / "deviations.csv").read_bytes() == before


def test_help_shows_every_option_with_its_default_and_the_exit_codes(capsys):
    from compare import bench, train
    for parser in (cli._parser(), bench._parser(), train._parser()):
        text = parser.format_help()
        assert "exit codes: 0" in text and "2 bad usage" in text
        subs = [a for a in parser._actions if a.option_strings and a.dest != "help"]
        for action in subs:
            assert action.help, action.dest
            if action.default not in (None, False):
                assert "default" in parser._get_formatter()._get_help_string(action)
    r = cli._parser()._subparsers._group_actions[0].choices["report"].format_help()
    for opt in ("--cases", "--dtypes", "--seed", "--seeds", "--jobs", "--out", "--force",
                "--quiet", "--no-progress"):
        assert opt in r
    assert "(default: 0)" in r and "(default: reports)" in r


def test_output_into_a_closed_pipe_is_quiet():
    """``lockstep list | head``: every command runs under options.run_command, which ends
    quietly when the reader goes away (here with a cheap command printing 1 MB: importing the
    catalogue for a real `list` would cost seconds and test the same path)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = ("import sys; from compare import options\n"
            "def spill():\n"
            "    for _ in range(10000):\n"
            "        print('x' * 99)\n"
            "    return 0\n"
            "sys.exit(options.run_command(spill))\n")
    p = subprocess.run(f"{sys.executable} -c \"{code}\" | head -1; exit ${{PIPESTATUS[0]}}",
                       shell=True, executable="/bin/bash", capture_output=True, text=True,
                       cwd=root, timeout=300)
    assert p.stdout.count("\n") == 1 and p.stderr == "" and p.returncode == 0, p.stderr


# --- the report folder is written as a unit ----------------------------------------------------
def test_a_failure_while_writing_leaves_the_previous_report_whole(tmp_path, monkeypatch):
    from compare import report
    out = _seeded_report(tmp_path)
    snapshot = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    def broken(*a, **k):
        raise OSError("disk full (planted)")
    monkeypatch.setattr(report.plots, "growth_plot", broken)
    monkeypatch.setattr("compare.markdown.render", broken)
    with pytest.raises(OSError, match="planted"):
        cli.main(["report", "--cases", "flatten-default,unflatten", "--dtypes", "float64",
                  "--seed", "5", "--out", str(out), "--quiet"])
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == snapshot
    assert sorted(os.listdir(tmp_path)) == ["rep"]          # no sibling, no lock left


def test_a_kill_between_two_renames_is_undone_by_the_next_run(tmp_path, monkeypatch):
    """Where the atomic exchange is missing the swap is two renames; killed between them the
    previous report waits whole beside --out, and the next run puts it back first."""
    from compare import io
    out = _seeded_report(tmp_path)
    before = (out / "deviations.csv").read_bytes()
    monkeypatch.setattr(io, "_exchange", lambda a, b: False)
    real_rename = os.rename

    def rename(src, dst):
        real_rename(src, dst)
        if ".old-" in os.path.basename(dst):
            raise KeyboardInterrupt("killed between the renames (planted)")
    monkeypatch.setattr(io.os, "rename", rename)
    with pytest.raises(KeyboardInterrupt):
        from compare.report import run_all, write_reports
        from compare.catalogue import select
        write_reports(run_all(select("flatten-default"), ("float64",), 1, progress=False,
                              checks=False), str(out))
    monkeypatch.setattr(io.os, "rename", real_rename)
    assert not out.exists() and any(".old-" in n for n in os.listdir(tmp_path))
    io.recover(str(out))
    assert (out / "deviations.csv").read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["rep"]


def test_a_second_run_on_the_same_folder_is_refused(tmp_path, capsys):
    """report, train and bench all write into one folder: never two at once."""
    import fcntl
    out = _seeded_report(tmp_path)
    fd = os.open(tmp_path / ".lockstep-rep.lock", os.O_RDWR | os.O_CREAT)
    os.write(fd, b"4242")
    fcntl.flock(fd, fcntl.LOCK_EX)                 # another run holds the folder
    try:
        rcs = [cli.main(["report", "--cases", "flatten-default", "--dtypes", "float64", "--out",
                         str(out), "--force"]),
               cli.main(["train", "article-toy", "--max-steps", "1", "--out", str(out)]),
               cli.main(["bench", "--only", "MaxPool2d(2) 2x3x8x8", "--out", str(out)])]
    finally:
        os.close(fd)
    err = capsys.readouterr().err.splitlines()
    assert rcs == [2, 2, 2] and len(err) == 3
    assert all("being written by another lockstep run (pid 4242)" in e for e in err)
    assert not (out / "bench.md").exists() and not (out / "train-article-toy.csv").exists()


def test_files_follow_the_umask_and_other_files_are_kept(tmp_path):
    out = tmp_path / "rep"
    out.mkdir()
    (out / "bench.md").write_text("kept")
    old = os.umask(0o027)
    try:
        assert cli.main(["report", "--cases", "flatten-default", "--dtypes", "float64",
                         "--out", str(out), "--quiet"]) == 0
    finally:
        os.umask(old)
    assert (out / "bench.md").read_text() == "kept"
    for p in [out, out / "plots", *out.rglob("*")]:
        if p.name == "bench.md":
            continue
        want = 0o750 if p.is_dir() else 0o640
        assert p.stat().st_mode & 0o777 == want, (p, oct(p.stat().st_mode))


def test_the_books_screenshots_stay_until_retaken(tmp_path):
    """The book is rewritten by every run; the README's pictures of it (taken with
    --screenshots) are kept by a run without the option, not deleted."""
    argv = ["report", "--cases", "flatten-default", "--dtypes", "float64", "--out",
            str(tmp_path), "--quiet"]
    assert cli.main(argv) == 0
    shots = tmp_path / "book" / "screenshots"
    shots.mkdir(parents=True)
    (shots / "Linear.png").write_bytes(b"\x89PNG picture")
    assert cli.main(argv) == 0
    assert (shots / "Linear.png").read_bytes() == b"\x89PNG picture"


def test_a_subset_does_not_replace_a_fuller_report_without_force(tmp_path, capsys):
    out = _seeded_report(tmp_path)
    before = (out / "deviations.csv").read_bytes()
    assert cli.main(["report", "--cases", "flatten-default", "--dtypes", "float64",
                     "--out", str(out)]) == 2
    assert "would drop 1 of its case x dtype results" in capsys.readouterr().err
    assert (out / "deviations.csv").read_bytes() == before
    assert cli.main(["report", "--cases", "flatten-default", "--dtypes", "float64", "--out",
                     str(out), "--force", "--quiet"]) == 0
    assert (out / "deviations.csv").read_bytes() != before


def test_a_subset_scopes_the_self_tests():
    from compare.catalogue import select
    from compare.report import run_all
    run = run_all(select("relu-kink"), ("float64",), progress=False)
    assert {m.case.layer for m, _, _ in run.mutants} == {"ReLU"}
    assert {b["cls"] for b in run.badinput} == {"ReLU"}


def test_no_progress_text_when_stderr_is_not_a_terminal(tmp_path, capsys):
    assert cli.main(["report", "--cases", "flatten-default", "--dtypes", "float64", "--out",
                     str(tmp_path / "r")]) == 0
    assert cli.main(["train", "article-toy", "--max-steps", "3", "--out",
                     str(tmp_path / "t")]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGKILL"])
def test_a_killed_report_run_leaves_the_old_report_and_no_debris(tmp_path, sig):
    """A real kill while the new report is half written in its sibling folder (the child
    uses the report's own writer, compare.io.replace_folder, and the CLI's signal handling,
    without torch, so it starts in a blink)."""
    import signal
    out = _seeded_report(tmp_path)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    owned = {p.name for p in out.iterdir() if p.is_dir()} | {"deviations.csv"}  # md is kept
    script = (
        "import os, sys, time\n"
        "from compare import io, options\n"
        "def write():\n"
        f"    with io.replace_folder({str(out)!r}, {owned!r}) as dest:\n"
        "        open(os.path.join(dest, 'deviations.csv'), 'w').write('half')\n"
        "        print('writing', flush=True)\n"
        "        time.sleep(60)\n"
        "sys.exit(options.run_command(write))\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = subprocess.Popen([sys.executable, "-c", script], cwd=root, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "writing"
    p.send_signal(getattr(signal, sig))
    p.wait(timeout=60)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    left = sorted(n for n in os.listdir(tmp_path) if n != "rep")
    if sig == "SIGTERM":
        assert p.returncode == 143 and left == []
    else:                                # SIGKILL runs no cleanup: the next run does it
        assert p.returncode == -signal.SIGKILL
        assert left and all(n.startswith(".lockstep-rep.") for n in left)
        from compare import io
        with io.replace_folder(str(out), owned) as dest:
            open(os.path.join(dest, "deviations.csv"), "w").write("new")
        assert sorted(os.listdir(tmp_path)) == ["rep"]
        assert (out / "deviations.csv").read_text() == "new" and (out / "deviations.md").exists()
