"""Create the `admin` superuser once; its password is printed only when it is created."""

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the admin superuser if it does not exist (password: DJANGO_SUPERUSER_PASSWORD or generated)."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"Admin user '{username}' exists; its password is unchanged.")
            return
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD") or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        shown = (
            "from DJANGO_SUPERUSER_PASSWORD"
            if "DJANGO_SUPERUSER_PASSWORD" in os.environ
            else password
        )
        self.stdout.write(self.style.SUCCESS(f"Created admin user '{username}', password: {shown}"))
        if shown == password:
            self.stdout.write("This is the only time the password is shown; note it now.")
