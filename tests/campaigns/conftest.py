from tests.campaigns.fixtures import approver, author, make_assignment  # noqa: F401
