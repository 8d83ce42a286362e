"""Faults on a site router's WAN side, for rehearsal and tests: loss, rate limit, link down.

The kernel here has no netem, so loss is an nftables random drop and the rate a tbf qdisc; both
act on what leaves the router's WAN interface (toward the conference side), so a ping from the
endpoint loses about PCT % of its requests. An added delay is not offered (it would need netem).
Everything lives inside the router's namespace and disappears with it at `lab down`.
"""

from __future__ import annotations

from confprov.exceptions import InputError
from confprov.lab.plan import WAN_IF, LabPlan, LabSite
from confprov.lab.state import LabState
from confprov.lab.system import require_root, run_command

FAULT_TABLE = "confprov_fault"


def _nft(site: LabSite, script: str) -> None:
    run_command(["ip", "netns", "exec", site.router_ns, "nft", "-f", "-"], input_text=script)


def set_loss(site: LabSite, pct: float) -> None:
    if not 0 < pct <= 100:
        raise InputError(f"--loss {pct}: a percentage above 0 and at most 100")
    threshold = round(pct * 100)  # in 1/10000, so 0.5 % works
    rule = f'oifname "{WAN_IF}" numgen random mod 10000 < {threshold} drop'
    script = (
        f"table inet {FAULT_TABLE}\ndelete table inet {FAULT_TABLE}\n"
        f"table inet {FAULT_TABLE} {{\n"
        f"  chain forward {{ type filter hook forward priority 0; policy accept; {rule}; }}\n"
        f"  chain output {{ type filter hook output priority 0; policy accept; {rule}; }}\n"
        "}\n"
    )
    _nft(site, script)


def set_rate(site: LabSite, kbit: int) -> None:
    if kbit < 8:
        raise InputError(f"--rate {kbit}: at least 8 kbit/s")
    # The bucket holds at least two full frames and about 20 ms of traffic.
    burst = max(3028, kbit * 1000 // 8 // 50)
    run_command(
        [
            "tc",
            "-n",
            site.router_ns,
            "qdisc",
            "replace",
            "dev",
            WAN_IF,
            "root",
            "tbf",
            "rate",
            f"{kbit}kbit",
            "burst",
            str(burst),
            "latency",
            "100ms",
        ]
    )


def set_down(site: LabSite) -> None:
    run_command(["ip", "-n", site.router_ns, "link", "set", WAN_IF, "down"])


def clear(site: LabSite) -> None:
    run_command(
        ["ip", "netns", "exec", site.router_ns, "nft", "delete", "table", "inet", FAULT_TABLE],
        check=False,
    )
    run_command(["tc", "-n", site.router_ns, "qdisc", "del", "dev", WAN_IF, "root"], check=False)
    run_command(["ip", "-n", site.router_ns, "link", "set", WAN_IF, "up"])


def apply(
    state: LabState,
    plan: LabPlan,
    site_ref: str,
    *,
    loss: float | None = None,
    rate: int | None = None,
    link_down: bool = False,
    clear_all: bool = False,
) -> str:
    """Apply one fault (or clear all) and remember it for `lab status`; return what was done."""
    require_root("confprov lab fault")
    site = plan.site(site_ref)
    faults: dict[str, list[str]] = state.read_json("faults.json") or {}
    current = list(faults.get(site.slug, []))
    if clear_all:
        clear(site)
        current = []
        done = "cleared"
    elif loss is not None:
        set_loss(site, loss)
        current = [f for f in current if not f.startswith("loss")] + [f"loss {loss:g}%"]
        done = f"loss {loss:g}%"
    elif rate is not None:
        set_rate(site, rate)
        current = [f for f in current if not f.startswith("rate")] + [f"rate {rate} kbit/s"]
        done = f"rate {rate} kbit/s"
    elif link_down:
        set_down(site)
        current = [f for f in current if f != "down"] + ["down"]
        done = "WAN link down"
    else:
        raise InputError("give one of --loss PCT, --rate KBIT, --down, --clear")
    faults[site.slug] = current
    state.write_json("faults.json", faults)
    return f"{site.slug} ({site.router_ns}, {WAN_IF}): {done}"
