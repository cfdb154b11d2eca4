"""Decide every running A/B test now: `manage.py select_ab_winners`."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from campaigns.models import Experiment, ExperimentMethod, ExperimentState
from campaigns.services import ab_sending, experiments


class Command(BaseCommand):
    help = (
        "Decide every running A/B test from its variants' latest metrics (the sequential test, "
        "then the test's no-winner rule after its longest wait), send each winner to the rest of "
        "the audience, and print each verdict. A test the platform runs itself (native) is read "
        "back instead: its winner is recorded, never sent by the console. It "
        "runs as the machine's operator."
    )

    def handle(self, *args, **options):
        running = list(Experiment.objects.filter(state=ExperimentState.TESTING))
        if not running:
            self.stdout.write("No A/B test is running.")
        for experiment in running:
            decision = experiments.decide_now(experiment)
            self.stdout.write(f"{experiment.assignment}: {decision.state.value}. {decision.reason}")
        for experiment in Experiment.objects.filter(state=ExperimentState.DECIDED):
            try:
                sends = ab_sending.send_winner(experiment)
            except ab_sending.ExperimentError as exc:
                self.stdout.write(self.style.WARNING(f"{experiment.assignment}: {exc}"))
                continue
            experiment.refresh_from_db()
            if experiment.method == ExperimentMethod.NATIVE:
                done = experiment.state == ExperimentState.WINNER_SENT
                self.stdout.write(
                    f"{experiment.assignment}: winner {experiment.winner.label}, "
                    + ("sent to the rest by the platform itself (native)." if done
                       else "chosen by the platform; it has not sent it to the rest yet.")
                )  # fmt: skip
                continue
            states = ", ".join(f"{s.target.integration}: {s.get_state_display()}" for s in sends)
            self.stdout.write(
                f"{experiment.assignment}: winner {experiment.winner.label} to the rest ({states})."
            )
