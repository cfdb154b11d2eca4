"""Mailchimp variate campaigns: an A/B test Mailchimp runs itself (Capability.NATIVE_AB_TEST).

Facts (../shared/platforms/mailchimp.md §7, §8; the campaign's `variate_settings` as the
Marketing API describes it): `POST /3.0/campaigns` with `"type": "variate"` and
`variate_settings` {`winner_criteria`: opens | clicks | total_revenue | manual, `wait_time`
(minutes, whole hours, > 0), `test_size` (10–100, a percentage of the recipients), and the
variables tested: `subject_lines[]`, `from_names[]` with as many `reply_to_addresses[]`,
`send_times[]`}; different contents go by `PUT /3.0/campaigns/{id}/content` with
`variate_contents[]` ({`content_label`, `html`, `plain_text`}). Mailchimp sends the test
share split across the combinations, waits, picks the best by the criterion and sends it to
the rest itself. `GET /3.0/campaigns/{id}` then holds `variate_settings.combinations[]`
({`id`, `subject_line` / `from_name` / `content_description`: the index used, `recipients`}),
`winning_combination_id` and `winning_campaign_id` (the campaign that went to the rest);
`GET /3.0/reports/{id}/sub-reports` lists the combinations' own reports (`reports[]`, in the
order of the combinations: an assumption of ours, the docs do not say how they pair).

What the console maps: its unique open rate → `opens`, unique click rate → `clicks`; one
variable varied across 2–3 versions (subject, from name, or content). Click-to-open, a
varied preview text, several variables at once (Mailchimp would test every combination of
them), a holdout, or 4–5 versions are refused by `native_test_problems`, with the reason, and
the console splits the test itself. `manual` is never used: its winner can only be picked in
Mailchimp's web app.
"""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import NotFound
from integrations.platforms.mailchimp.api import API
from integrations.platforms.sending import (
    NativeCombination,
    NativeTest,
    NativeTestResult,
    SendSpec,
)

CRITERIA = {"open_rate": "opens", "click_rate": "clicks"}
MAX_VERSIONS = 3
MIN_TEST_SIZE, MAX_TEST_SIZE = 10, 100
# The console's version field → the variate setting that tests it, and the index a
# combination names it by.
VARIABLES = {
    "subject": ("subject_lines", "subject_line"),
    "from_name": ("from_names", "from_name"),
    "html": ("contents", "content_description"),
}
LABELS = {"subject": "subject", "from_name": "from name", "html": "content"}


def varied(test: NativeTest) -> list[str]:
    """The version fields that differ between the test's versions."""
    fields = ("subject", "preview_text", "from_name", "html")
    return [f for f in fields if len({getattr(v, f) for v in test.versions}) > 1]


def test_size(test: NativeTest) -> int:
    return round(test.test_share * 100)


def variate_settings(test: NativeTest, spec: SendSpec) -> dict:
    """The create call's `variate_settings` (the test is one Mailchimp can run)."""
    settings: dict = {
        "winner_criteria": CRITERIA[test.metric],
        "wait_time": test.wait_hours * 60,
        "test_size": test_size(test),
    }
    (field,) = varied(test)
    if field == "subject":
        settings["subject_lines"] = [v.subject for v in test.versions]
    elif field == "from_name":
        settings["from_names"] = [v.from_name for v in test.versions]
        settings["reply_to_addresses"] = [spec.reply_to for _ in test.versions]
    return settings


def variate_content(test: NativeTest) -> dict | None:
    """The content call's body when the versions differ by content (else None)."""
    if varied(test) != ["html"]:
        return None
    contents = []
    for version in test.versions:
        item = {"content_label": version.label, "html": version.html}
        if version.plain_text:
            item["plain_text"] = version.plain_text
        contents.append(item)
    return {"variate_contents": contents}


def _int(value) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


class MailchimpVariate(PlatformClient):
    native_test_label = "variate"

    def native_test_problems(self, test: NativeTest) -> list[str]:
        problems = []
        if test.metric not in CRITERIA:
            problems.append(
                "Mailchimp picks a variate winner by opens, clicks, revenue or by hand in its "
                "web app, not by the click-to-open rate"
            )
        if not 2 <= len(test.versions) <= MAX_VERSIONS:
            problems.append(
                f"Mailchimp's variate test takes 2 to {MAX_VERSIONS} versions of a variable; "
                f"this test has {len(test.versions)}"
            )
        fields = varied(test)
        if "preview_text" in fields:
            problems.append("Mailchimp's variate test cannot vary the preview text")
            fields.remove("preview_text")
        if len(fields) > 1:
            named = " and ".join(LABELS[f] for f in fields)
            problems.append(
                f"The versions differ by {named}: Mailchimp would test every combination of "
                "them, not these versions"
            )
        elif not fields and "preview_text" not in varied(test):
            problems.append("The versions do not differ by subject, from name or content")
        if test.holdout_share > 0:
            problems.append("Mailchimp's variate test has no holdout")
        if not MIN_TEST_SIZE <= test_size(test) <= MAX_TEST_SIZE:
            problems.append(
                f"Mailchimp tests {MIN_TEST_SIZE} % to {MAX_TEST_SIZE} % of the recipients; "
                f"this test takes {test.test_share:.0%}"
            )
        elif abs(test.test_share * 100 - test_size(test)) > 1e-9:
            problems.append("Mailchimp's test size is a whole percentage")
        if test.wait_hours < 1:
            problems.append("Mailchimp waits a whole number of hours, at least one, to pick")
        return [f"{p}." for p in problems]

    def native_test_result(self, remote_id: str) -> NativeTestResult:
        campaign = self.request(
            "GET",
            API,
            f"/3.0/campaigns/{remote_id}",
            params={"fields": "id,type,status,variate_settings"},
        ).json()
        settings = campaign.get("variate_settings") or {}
        index_field = next(
            (
                index
                for key, (setting, index) in VARIABLES.items()
                if len(settings.get(setting) or []) > 1
            ),
            "subject_line",
        )
        try:
            reports = (
                self.request("GET", API, f"/3.0/reports/{remote_id}/sub-reports")
                .json()
                .get("reports")
                or []
            )
        except NotFound:
            reports = []  # no report before the test went out
        combinations = []
        for position, combination in enumerate(settings.get("combinations") or []):
            report = reports[position] if position < len(reports) else {}
            combinations.append(
                NativeCombination(
                    remote_id=str(combination.get("id", "")),
                    version=_int(combination.get(index_field)),
                    recipients=_int(combination.get("recipients")),
                    sent=_int(report.get("emails_sent")),
                    opened=_int((report.get("opens") or {}).get("unique_opens")),
                    clicked=_int((report.get("clicks") or {}).get("unique_subscriber_clicks")),
                )
            )
        return NativeTestResult(
            status=str(campaign.get("status", "")),
            criterion=str(settings.get("winner_criteria", "")),
            combinations=tuple(combinations),
            winner_id=str(settings.get("winning_combination_id") or ""),
            winner_campaign_id=str(settings.get("winning_campaign_id") or ""),
        )
