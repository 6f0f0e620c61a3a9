"""seqlab.plots.figure: the one save-figure helper of plots.py, compare/ and probe/."""

from pathlib import Path

import pytest

from seqlab.plots import figure, pyplot


def test_figure_writes_the_png_into_a_new_folder_and_closes_it(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "line.png"
    with figure(path, figsize=(2, 2)) as (fig, ax):
        ax.plot([0, 1], [1, 0])
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert fig.number not in pyplot().get_fignums()


def test_figure_writes_nothing_when_drawing_fails_and_still_closes(tmp_path: Path) -> None:
    path = tmp_path / "broken.png"
    with pytest.raises(ZeroDivisionError), figure(path, 1, 2) as (fig, _axes):
        1 / 0  # noqa: B018 - a drawing error
    assert not path.exists()
    assert fig.number not in pyplot().get_fignums()
