from django.core.management.base import BaseCommand

from bidcart.core.seeding import seed_all


class Command(BaseCommand):
    help = "Seed the demo data of every app that has not been seeded yet (safe to run again)."

    def handle(self, *args, **options):
        seeded = seed_all()
        self.stdout.write(f"Seeded demo data: {', '.join(seeded)}" if seeded else "Demo data already present.")
