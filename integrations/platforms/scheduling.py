"""Scheduled sends taken back: a platform whose API can unschedule what it was told to send
later fills in `plan_unschedule` (a mixin of PlatformClient), and the console's cancel of a
scheduled assignment runs it (campaigns/services/unscheduling.py).

A send scheduled on the platform is SENT in the ledger with `remote_state` "scheduled"; its
remote id (the campaign) and send id (a Braze schedule id) are what the calls name. A method
whose platform cannot unschedule says so (`unschedule_problem`), and the console then refuses
the cancel before it calls anything.
"""

from __future__ import annotations

from integrations.platforms.errors import ValidationFailed
from integrations.platforms.send_types import SendSpec, SendStep


class Unscheduling:
    """The unschedule hook and its runner (a mixin of PlatformClient)."""

    def plan_unschedule(
        self, spec: SendSpec, remote_id: str, remote_send_id: str
    ) -> list[SendStep]:
        """The calls that take back the scheduled send of `spec` ([]: the API cannot)."""
        return []

    @classmethod
    def can_unschedule(cls, method: str) -> bool:
        declared = cls.send_method(method)
        return (
            declared is not None
            and declared.can_schedule
            and cls.plan_unschedule is not Unscheduling.plan_unschedule
        )

    @classmethod
    def unschedule_problem(cls, method: str) -> str:
        """Why a scheduled send of `method` cannot be taken back from the console ("" when it
        can)."""
        if cls.can_unschedule(method):
            return ""
        return (
            f"The console does not take back a scheduled {cls.label} send (no unschedule call "
            f"is declared for it): unschedule it in {cls.label}."
        )

    def unschedule(self, spec: SendSpec, remote_id: str, remote_send_id: str) -> None:
        """Take the scheduled send back on the platform (each call with priority)."""
        if not self.can_unschedule(spec.method):
            raise ValidationFailed(self.unschedule_problem(spec.method))
        self.sending = True
        try:
            for step in self.plan_unschedule(spec, remote_id, remote_send_id):
                self.run_step(step)
        finally:
            self.sending = False
