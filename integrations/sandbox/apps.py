from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """Emulators of the platforms' APIs, served under /sandbox/ when SANDBOX_ENABLED."""

    name = "integrations.sandbox"
    label = "sandbox"
    verbose_name = "Sandbox platforms"

    def ready(self) -> None:
        from integrations.sandbox import guard  # noqa: F401 - registers the system checks
