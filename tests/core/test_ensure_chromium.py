"""scripts/ensure-chromium (run by `make test` before the browser tests): with Chromium and the CJK font
present it says nothing and installs nothing, every time; without the font it installs it."""

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ensure-chromium"

FAKE_FC_LIST = """#!/bin/sh
# fontconfig's fc-list with a long font list (longer than a pipe's buffer), the CJK font first
if [ "$1" = "-q" ]; then
  case "$2" in *"family=Noto Sans CJK KR") [ -n "$FAKE_HAS_CJK" ] && exit 0 ;; esac
  exit 1
fi
[ -n "$FAKE_HAS_CJK" ] && echo "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc: "\\
"Noto Sans CJK KR,Noto Sans CJK KR Regular:style=Regular"
seq 1 100000 | sed 's|.*|/usr/share/fonts/truetype/filler/Filler&.ttf: Filler Sans:style=Regular|'
"""


@pytest.fixture
def fake_system(tmp_path):
    """Fake `id` (root, so the font is checked), `fc-list` and `apt-get` (which records that it ran)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    scripts = {
        "id": "#!/bin/sh\necho 0\n",
        "fc-list": FAKE_FC_LIST,
        "apt-get": f'#!/bin/sh\necho "$@" >> {tmp_path}/apt-get.log\n',
    }
    for name, text in scripts.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return tmp_path


def run(fake, *, has_font: bool):
    env = {**os.environ, "PATH": f"{fake / 'bin'}:{os.environ['PATH']}", "CHROMIUM": "/bin/true"}
    if has_font:
        env["FAKE_HAS_CJK"] = "1"
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)


def test_with_chromium_and_the_cjk_font_it_is_silent_and_installs_nothing_every_time(fake_system):
    for _ in range(5):
        done = run(fake_system, has_font=True)
        assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert not (fake_system / "apt-get.log").exists()


def test_without_the_cjk_font_it_installs_it(fake_system):
    done = run(fake_system, has_font=False)
    assert done.returncode == 0
    assert "fonts-noto-cjk" in (fake_system / "apt-get.log").read_text()
