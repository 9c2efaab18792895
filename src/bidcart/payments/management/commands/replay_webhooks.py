from django.core.management.base import BaseCommand

from bidcart.payments import services


class Command(BaseCommand):
    help = "Process stored webhook deliveries again: every one, or with --failed only those that failed."

    def add_arguments(self, parser):
        parser.add_argument("--failed", action="store_true", help="only deliveries that failed or were never processed")
        parser.add_argument("--limit", type=int, default=500)

    def handle(self, *args, failed: bool, limit: int, **options):
        counts = services.replay_webhooks(failed_only=failed, limit=limit)
        total = sum(counts.values())
        detail = ", ".join(f"{state}: {n}" for state, n in sorted(counts.items())) or "nothing to replay"
        self.stdout.write(f"replayed {total} deliveries ({detail})")
