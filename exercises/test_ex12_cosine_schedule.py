"""Grader of exercise 12: every step of two schedules against digitnet's Schedule, and the landmarks."""

import pytest

from digitnet.schedules import Schedule


@pytest.mark.parametrize("warmup", [0, 43])
def test_every_step_matches_digitnets_schedule(answer, warmup):
    schedule = Schedule("cosine", 0.2, total_steps=430, steps_per_epoch=43, warmup_steps=warmup)
    for t in range(430):
        assert answer.cosine_lr(t, 430, 0.2, warmup) == pytest.approx(schedule.lr_at(t), rel=1e-12, abs=1e-15), t


def test_the_landmarks(answer):
    assert answer.cosine_lr(0, 100, 0.2) == pytest.approx(0.2)
    assert answer.cosine_lr(50, 100, 0.2) == pytest.approx(0.1)
    assert answer.cosine_lr(100, 100, 0.2) == pytest.approx(0.0, abs=1e-15)
    assert answer.cosine_lr(0, 100, 0.2, warmup=10) == pytest.approx(0.02)  # the warm-up starts at peak / warmup
