"""The web server and a q cluster together, as `make run` starts them; Ctrl-C stops both."""

import os
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sharpsend.supervisor import Supervisor, wait_for_http


class Command(BaseCommand):
    help = (
        "Serve the console (runserver) and run a django-q2 cluster beside it. The cluster starts "
        "once the server answers, so the demo syncs it picks up find the sandbox listening. "
        "Ctrl-C or SIGTERM stops both."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--stop-timeout",
            type=float,
            default=8.0,
            help="seconds to wait for a busy cluster before killing it (a sync it was running "
            "resumes from its checkpoint)",
        )

    def handle(self, *args, host, port, stop_timeout, **options):
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        origin = f"http://{host}:{port}"
        env = {**os.environ, "SANDBOX_BASE_URL": f"{origin}/sandbox"}
        # Content URLs handed to platforms (campaigns/content.py) and the webhook URLs registered
        # with the sandbox point at this server, unless told another address.
        env.setdefault("CONSOLE_BASE_URL", origin)
        supervisor = Supervisor(stop_timeout=stop_timeout, log=self.stdout.write)
        supervisor.install_signal_handlers()
        self.stdout.write(f"Console: {origin}/admin/  (Ctrl-C stops the server and the q cluster)")
        web = supervisor.start(
            "web server", [*manage, "runserver", f"{host}:{port}", "--noreload"], env
        )
        answered = wait_for_http(
            f"{origin}/admin/login/",
            60,
            alive=lambda: web.poll() is None and not supervisor.stopping,
        )
        if supervisor.stopping:
            supervisor.stop()
            return
        if not answered:
            supervisor.stop()
            raise CommandError(f"The web server did not answer on {origin}.")
        supervisor.start("q cluster", [*manage, "qcluster"], env)
        code = supervisor.wait()
        self.stdout.write("Stopped the web server and the q cluster.")
        if code:
            raise CommandError("A process of the console stopped on its own; see its output above.")
