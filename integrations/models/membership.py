"""Who is in a platform segment, as last read from the platform."""

from __future__ import annotations

from django.db import models


class SegmentMember(models.Model):
    """A SharpSend subscriber found in an imported platform segment.

    `generation` is the refresh that last saw them: a complete refresh removes the rows of
    earlier generations (those no longer in the segment).
    """

    segment = models.ForeignKey(
        "integrations.Segment", on_delete=models.CASCADE, related_name="members"
    )
    subscriber = models.ForeignKey(
        "audience.Subscriber", on_delete=models.CASCADE, related_name="platform_segments"
    )
    generation = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment", "subscriber"], name="one_member_row")
        ]
        indexes = [models.Index(fields=["segment", "generation"], name="member_by_generation")]

    def __str__(self) -> str:
        return f"{self.subscriber_id} in {self.segment_id}"
