from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Connections to marketing platforms: clients, syncs, segments, metering."""

    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from integrations import signals
        from integrations.platforms import runtime
        from integrations.runtime import ConsoleRuntime

        runtime.install(ConsoleRuntime())

        signals.connect_post_migrate(self)
