"""The pictures the lessons draw by code."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from course_utils.kit.plotting import plot_game  # noqa: E402


def test_the_game_diagram_names_both_players_both_steps_and_the_detached_fake():
    ax = plot_game()
    texts = [t.get_text() for t in ax.texts]
    assert {"G", "D"} <= set(texts)
    d_step = next(t for t in texts if t.startswith("D step"))
    g_step = next(t for t in texts if t.startswith("G step"))
    assert "detached" in d_step and "target 0" in d_step and "update D only" in d_step
    assert "target 1" in g_step and "through D into G" in g_step and "update G only" in g_step
    arrows = [c for c in ax.get_children() if isinstance(c, matplotlib.text.Annotation)]
    assert len(arrows) == 5  # z -> G -> fake -> D, real -> D, D -> its output
    plt.close(ax.figure)
