"""The private-address guard: no connections to internal networks unless a seed is on one.

The check is made on the IP address a host name resolves to, right before connecting,
so redirects and DNS names pointing inside are caught as well as literal addresses.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Blocks a crawler must not reach on its own: loopback, private, link-local (cloud
# metadata services live at 169.254.169.254), carrier-grade NAT, unique local, unspecified.
PRIVATE_NETWORKS: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "127.0.0.0/8",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "169.254.0.0/16",
        "100.64.0.0/10",
        "0.0.0.0/8",
        "::1/128",
        "::/128",
        "fc00::/7",
        "fe80::/10",
    )
)


def private_network(ip: str) -> IPNetwork | None:
    """The private block `ip` lies in, or None for a public address."""
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for network in PRIVATE_NETWORKS:
        if address.version == network.version and address in network:
            return network
    return None


class AddressGuard:
    """Says whether the crawler may connect to an IP address.

    Public addresses always; private ones if `allow_private`, or if they lie in the
    same private block as one of the seeds' addresses (a crawl of a loopback or
    intranet site may stay on that network, and nowhere else inside).
    """

    def __init__(self, seed_ips: Iterable[str] = (), allow_private: bool = False) -> None:
        self.allow_private = allow_private
        self.allowed: set[IPNetwork] = set()
        for ip in seed_ips:
            self.allow_seed(ip)

    def allow_seed(self, ip: str) -> None:
        """A seed resolved to `ip`: its private block, if any, becomes reachable."""
        network = private_network(ip)
        if network is not None:
            self.allowed.add(network)

    def refusal(self, ip: str) -> str | None:
        """Why connecting to `ip` is refused, or None if it is allowed."""
        if self.allow_private:
            return None
        network = private_network(ip)
        if network is None or network in self.allowed:
            return None
        return f"refused to connect to private address {ip} (use --allow-private to permit)"
