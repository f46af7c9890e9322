"""Build Lanban for one platform, on that platform: ``python packaging/build.py linux``.

    python packaging/build.py linux|windows|macos [--self-test]

Runs PyInstaller on packaging/lanban.spec (one folder: dist/lanban/, executable
dist/lanban/lanban or dist\\lanban\\lanban.exe), then packs it:

- linux:   dist/lanban-VERSION-linux-ARCH.tar.gz (app folder, .desktop file,
           AppStream metainfo, icons, install.sh)
- windows: dist/lanban-VERSION-windows-ARCH.zip, and the installer
           dist/lanban-VERSION-windows-x86_64-setup.exe if Inno Setup is installed
- macos:   dist/Lanban.app and dist/lanban-VERSION-macos-ARCH.dmg

--self-test then runs the built app: ``--version``, ``--help`` and ``--self-test``
(offscreen), checks that it writes nothing next to its executable and that its
boards go to the user data directory, and prints sizes and start times.

The Python running this needs the app's dependencies and PyInstaller:
``pip install '.[packaging]'``. The version comes from pyproject.toml.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
WORK = ROOT / "build" / "pyinstaller"
SPEC = ROOT / "packaging" / "lanban.spec"
RESOURCES = ROOT / "resources"
APP_ID = "io.github.lanban.Lanban"
HOSTS = {"linux": "linux", "windows": "win32", "macos": "darwin"}
ARCHES = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "arm64", "aarch64": "aarch64"}
TIMING_RUNS = 3
# What the app imports at run time (pyproject.toml's dependencies), and the builder.
REQUIRED = ["PySide6", "pycrdt", "platformdirs", "websockets", "zeroconf", "cryptography"]
REQUIRED += ["qasync", "PyInstaller"]
SELF_TEST_TIMEOUT_S = 120


class BuildError(Exception):
    pass


def version() -> str:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return str(meta["project"]["version"])


def arch() -> str:
    machine = platform.machine().lower()
    return ARCHES.get(machine, machine)


def step(text: str) -> None:
    print(f"==> {text}", flush=True)


def run(cmd: list[str | Path], cwd: Path | None = None) -> None:
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, check=False)
    if done.returncode != 0:
        raise BuildError(f"{Path(str(cmd[0])).name} failed with exit status {done.returncode}")


def executable(target: str) -> Path:
    return DIST / "lanban" / ("lanban.exe" if target == "windows" else "lanban")


# ----------------------------------------------------------------- PyInstaller


def pyinstaller() -> None:
    missing = [name for name in REQUIRED if importlib.util.find_spec(name) is None]
    if missing:
        raise BuildError(
            f"{', '.join(missing)} not installed for {sys.executable}: pip install '.[packaging]'"
        )
    for old in (DIST / "lanban", DIST / "Lanban.app"):
        shutil.rmtree(old, ignore_errors=True)
    step(f"PyInstaller ({SPEC.relative_to(ROOT)})")
    run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--log-level",
            "WARN",
            "--distpath",
            DIST,
            "--workpath",
            WORK,
            SPEC,
        ],
        cwd=ROOT,
    )


# ----------------------------------------------------------------------- Linux


def check_linux_metadata() -> None:
    desktop = RESOURCES / "lanban.desktop"
    metainfo = RESOURCES / f"{APP_ID}.metainfo.xml"
    ET.parse(metainfo)  # well-formed, whatever tools are installed
    if shutil.which("appstreamcli"):
        run(["appstreamcli", "validate", "--no-net", "--explain", metainfo])
    else:
        print(f"    appstreamcli not found: {metainfo.name} only checked for well-formedness")
    if shutil.which("desktop-file-validate"):
        run(["desktop-file-validate", desktop])


def linux_package(ver: str) -> Path:
    check_linux_metadata()
    top = f"lanban-{ver}-linux-{arch()}"
    out = DIST / f"{top}.tar.gz"
    step(f"tarball {out.relative_to(ROOT)}")
    members: list[tuple[Path, str]] = [
        (DIST / "lanban", "lanban"),
        (RESOURCES / "lanban.desktop", "lanban.desktop"),
        (RESOURCES / f"{APP_ID}.metainfo.xml", f"{APP_ID}.metainfo.xml"),
        (ROOT / "packaging" / "linux" / "install.sh", "install.sh"),
        (RESOURCES / "lanban.svg", f"icons/hicolor/scalable/apps/{APP_ID}.svg"),
    ]
    members += [  # packaging/make_icons.py made them: app-icon/16.png ... 512.png
        (png, f"icons/hicolor/{png.stem}x{png.stem}/apps/{APP_ID}.png")
        for png in sorted((RESOURCES / "app-icon").glob("*.png"))
    ]

    def owned_by_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    with tarfile.open(out, "w:gz", compresslevel=6) as tar:
        for source, name in members:
            tar.add(source, f"{top}/{name}", filter=owned_by_root)
    return out


# --------------------------------------------------------------------- Windows


def inno_setup() -> Path | None:
    found = shutil.which("iscc")
    if found:
        return Path(found)
    for base in (os.environ.get("PROGRAMFILES(X86)"), os.environ.get("PROGRAMFILES")):
        if base and (Path(base) / "Inno Setup 6" / "ISCC.exe").exists():
            return Path(base) / "Inno Setup 6" / "ISCC.exe"
    return None


def windows_package(ver: str) -> list[Path]:
    out = DIST / f"lanban-{ver}-windows-{arch()}.zip"
    step(f"zip {out.relative_to(ROOT)}")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted((DIST / "lanban").rglob("*")):
            zf.write(path, path.relative_to(DIST).as_posix())
    built = [out]
    iscc = inno_setup()
    if iscc is None:
        print("    Inno Setup 6 not found (choco install innosetup): no installer built")
        return built
    step("installer (Inno Setup)")
    run([iscc, "/Q", f"/DAppVersion={ver}", ROOT / "packaging" / "windows" / "lanban.iss"])
    built.append(DIST / f"lanban-{ver}-windows-x86_64-setup.exe")
    return built


# ----------------------------------------------------------------------- macOS


def macos_package(ver: str) -> Path:
    app = DIST / "Lanban.app"
    out = DIST / f"lanban-{ver}-macos-{arch()}.dmg"
    step(f"disk image {out.relative_to(ROOT)}")
    staging = ROOT / "build" / "dmg"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    run(["ditto", app, staging / "Lanban.app"])  # keeps the bundle's symlinks and signature
    (staging / "Applications").symlink_to("/Applications")
    out.unlink(missing_ok=True)
    cmd: list[str | Path] = ["hdiutil", "create", "-volname", f"Lanban {ver}", "-srcfolder"]
    cmd += [staging, "-ov", "-format", "UDZO", out]
    for attempt in range(3):  # hdiutil fails now and then with "Resource busy"
        try:
            run(cmd)
            break
        except BuildError:
            if attempt == 2:
                raise
            time.sleep(5)
    return out


# ------------------------------------------------------------------- self-test


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns)
        for p in folder.rglob("*")
    }


def timed(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        cmd,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=SELF_TEST_TIMEOUT_S,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise BuildError(
            f"{' '.join(cmd)} exited with {done.returncode}:\n{done.stdout}{done.stderr}"
        )
    return elapsed, done.stdout


def timings(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    runs = [timed(cmd, env, cwd)[0] for _ in range(TIMING_RUNS)]
    return f"{min(runs):.2f} s best, {statistics.median(runs):.2f} s median, first {runs[0]:.2f} s"


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if not p.is_dir())


def mb(n: int) -> str:
    return f"{n / 1e6:.0f} MB"


def self_test(target: str, ver: str, packages: list[Path]) -> None:
    exe = executable(target)
    app_dirs = [DIST / "lanban"] + ([DIST / "Lanban.app"] if target == "macos" else [])
    before = {d: snapshot(d) for d in app_dirs}
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env.pop("LANBAN_HOME", None)
    cmd = [str(exe)]

    step(f"{exe.relative_to(ROOT)} --self-test")
    elapsed, out = timed([*cmd, "--self-test"], env)
    print(out, end="")
    results = {"--self-test": f"{elapsed:.2f} s"}
    if target == "macos":
        bundled = DIST / "Lanban.app" / "Contents" / "MacOS" / "lanban"
        step(f"{bundled.relative_to(ROOT)} --self-test")
        print(timed([str(bundled), "--self-test"], env)[1], end="")

    _, printed = timed([*cmd, "--version"], env)
    if printed.strip() != f"lanban {ver}":
        raise BuildError(f"--version printed {printed.strip()!r}, expected 'lanban {ver}'")
    results["--version"] = timings([*cmd, "--version"], env)
    results["--help"] = timings([*cmd, "--help"], env)
    source = [sys.executable, "-m", "lanban.desktop.cli", "--help"]
    results["python -m lanban.desktop.cli --help"] = timings(source, env, cwd=ROOT)

    if target != "windows":  # Windows' known-folder API ignores a changed environment
        check_default_data_dir(cmd, env)
    for folder, files in before.items():
        after = snapshot(folder)
        changed = sorted(set(after) ^ set(files) | {k for k in files if after.get(k) != files[k]})
        if changed:
            raise BuildError(f"the app wrote into {folder}: {', '.join(changed[:10])}")
    print(f"    nothing was written into {', '.join(str(d.name) for d in app_dirs)}")

    step("summary")
    app = DIST / "lanban"
    count = sum(1 for p in app.rglob("*") if p.is_file())
    print(f"    {app.relative_to(ROOT)}: {mb(size_of(app))} in {count} files")
    for package in packages:
        print(f"    {package.relative_to(ROOT)}: {mb(size_of(package))}")
    for what, figure in results.items():
        name = what if what.startswith("python") else f"{exe.relative_to(ROOT)} {what}"
        print(f"    {name:<34} {figure}")


def check_default_data_dir(cmd: list[str], env: dict[str, str]) -> None:
    """A board made without --data-dir lands in the (temporary) user's data directory."""
    with tempfile.TemporaryDirectory(prefix="lanban-home-") as home:
        user = dict(env, HOME=home)
        for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
            user.pop(var, None)
        timed([*cmd, "board", "create", "Packaging check"], user)
        boards = list(Path(home).rglob("lanban/boards/*.lanban"))
        if len(boards) != 1:
            raise BuildError(f"a new board did not land in the user data directory under {home}")
        print(f"    boards go to the user data directory: {boards[0].parent.parent}")


# ------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", choices=list(HOSTS))
    parser.add_argument(
        "--self-test", action="store_true", help="run the built app's checks and timings"
    )
    args = parser.parse_args(argv)
    if not sys.platform.startswith(HOSTS[args.target]):
        parser.error(f"build {args.target} on {args.target}: PyInstaller does not cross-compile")
    ver = version()
    started = time.perf_counter()
    try:
        pyinstaller()
        if args.target == "linux":
            packages = [linux_package(ver)]
        elif args.target == "windows":
            packages = windows_package(ver)
        else:
            packages = [macos_package(ver)]
        if args.self_test:
            self_test(args.target, ver, packages)
    except BuildError as exc:
        print(f"build.py: error: {exc}", file=sys.stderr)
        return 1
    step(f"done in {time.perf_counter() - started:.0f} s: Lanban {ver} for {args.target}")
    for package in packages:
        print(f"    {package.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
