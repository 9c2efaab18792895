"""`bidcart manage unblock ADDRESS [ADDRESS ...]`: lift the honeypot's block on addresses and forget their
attempts (the same as the real admin's "Unblock" action)."""

from __future__ import annotations

import ipaddress

from django.core.management.base import BaseCommand, CommandError

from bidcart.accounts import honeypot
from bidcart.accounts.models import BlockedIP


class Command(BaseCommand):
    help = "Lift the admin honeypot's block on one or more IP addresses and forget their recorded attempts."

    def add_arguments(self, parser):
        parser.add_argument("addresses", nargs="+", metavar="ADDRESS", help="an IPv4 or IPv6 address")

    def handle(self, *args, addresses, **options):
        try:
            ips = [str(ipaddress.ip_address(a.strip())) for a in addresses]
        except ValueError as error:
            raise CommandError(f"not an IP address: {error}") from error
        blocked = set(BlockedIP.objects.filter(ip__in=ips).values_list("ip", flat=True))
        honeypot.unblock(ips)
        for ip in ips:
            self.stdout.write(f"{ip}: {'unblocked' if ip in blocked else 'was not blocked'}")
