"""An assignment's A/B test: its plan, its variants, and who is in which group.

The statistics are pure functions (split.py, sequential.py, decision.py); these rows hold a
test's settings, its state and its decision. `ExperimentMember` rows materialise the stable
split (split.group_for) so that a segment rule can select a group with the ORM and a push
can send each group to its platform.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from campaigns.experiments.decision import ExperimentPlan, Metric, NoWinner
from campaigns.experiments.split import SplitPlan


class ExperimentState(models.TextChoices):
    DRAFT = "draft", "Draft"
    TESTING = "testing", "Testing (variants sent)"
    DECIDED = "decided", "Winner chosen"
    NEEDS_PERSON = "needs_person", "Waiting for a person to pick the winner"
    WINNER_SENT = "winner_sent", "Winner sent to the rest"
    CANCELLED = "cancelled", "Cancelled"


class ExperimentMethod(models.TextChoices):
    SPLIT = "split", "Console split"
    NATIVE = "native", "The platform's own A/B test"


class Experiment(models.Model):
    assignment = models.OneToOneField(
        "campaigns.Assignment", on_delete=models.CASCADE, related_name="experiment"
    )
    metric = models.CharField(
        max_length=16,
        choices=[(m.value, m.label) for m in Metric],
        default=Metric.OPEN_RATE.value,
    )
    test_share = models.FloatField(default=0.2, help_text="Share of the audience tested (0–1).")
    holdout_share = models.FloatField(default=0.0, help_text="Share that receives nothing.")
    min_sample = models.PositiveIntegerField(default=1000, help_text="Per variant.")
    longest_wait_hours = models.PositiveIntegerField(default=24)
    alpha = models.FloatField("significance level", default=0.05)
    no_winner = models.CharField(
        max_length=12,
        choices=[
            (NoWinner.SEND_FIRST.value, "Send variant A"),
            (NoWinner.BEST_SO_FAR.value, "Send the best so far"),
            (NoWinner.ASK.value, "Wait for a person"),
        ],
        default=NoWinner.BEST_SO_FAR.value,
    )
    state = models.CharField(
        max_length=12, choices=ExperimentState.choices, default=ExperimentState.DRAFT
    )
    method = models.CharField(
        max_length=10,
        choices=ExperimentMethod.choices,
        default=ExperimentMethod.SPLIT,
        help_text="split (console) or native (the platform's).",
    )
    method_reason = models.TextField(blank=True, help_text="Why this method is used.")
    # A native test as the platform last reported it (combinations, figures, its choice).
    native_result = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    winner = models.ForeignKey(
        "campaigns.Variant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.CharField(max_length=10, blank=True, help_text="test, policy or person")
    decided_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_reason = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"A/B test of {self.assignment}"

    @property
    def key(self) -> str:
        """What the stable split hashes with each reader's id (never changes for a test)."""
        return f"experiment-{self.pk}"

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.variants.order_by("label").values_list("label", flat=True))

    def split_plan(self) -> SplitPlan:
        return SplitPlan(self.labels, self.test_share, self.holdout_share)

    def plan(self) -> ExperimentPlan:
        return ExperimentPlan(
            metric=Metric(self.metric),
            alpha=self.alpha,
            min_sample=self.min_sample,
            longest_wait=timedelta(hours=self.longest_wait_hours),
            no_winner=NoWinner(self.no_winner),
        )

    def clean(self) -> None:
        try:
            ExperimentPlan(
                metric=Metric(self.metric), alpha=self.alpha, min_sample=self.min_sample or 0
            )
            if self.pk and self.variants.exists():
                self.split_plan()
            elif not 0 < self.test_share <= 1 or self.holdout_share < 0:
                raise ValueError("The test share must be above 0 % and at most 100 %.")
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class Variant(models.Model):
    """One version tested: blank fields take the assignment's."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variants")
    label = models.CharField(max_length=1, choices=[(c, c) for c in "ABCDE"])
    subject = models.CharField(max_length=250, blank=True)
    preview_text = models.CharField(max_length=250, blank=True)
    html = models.TextField("HTML content", blank=True)
    from_name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["experiment", "label"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "label"], name="one_variant_label")
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.subject_line}"

    @property
    def subject_line(self) -> str:
        return self.subject or self.experiment.assignment.subject


class ExperimentMember(models.Model):
    """A reader's group in one platform's split of the test (a variant, holdout or rest)."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="members")
    subscriber = models.ForeignKey(
        "audience.Subscriber", on_delete=models.CASCADE, related_name="experiment_groups"
    )
    integration = models.ForeignKey(
        "integrations.Integration", on_delete=models.CASCADE, related_name="+"
    )
    group = models.CharField(max_length=10)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "integration", "subscriber"], name="one_group_per_reader"
            )
        ]
        indexes = [
            models.Index(fields=["experiment", "integration", "group"], name="experiment_group")
        ]

    def __str__(self) -> str:
        return f"{self.subscriber_id} in {self.group} of {self.experiment_id}"
