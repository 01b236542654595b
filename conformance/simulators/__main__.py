"""``python -m conformance.simulators``: run the simulators in the foreground until Ctrl-C: the counterparts of
the role certified (``--certify``: a licensing system's three by default, ``gov-platform`` for the licensing system
that receives a platform's pushes, ``sharing`` for the national platform a provincial platform reports up to) plus
any role given a port."""

from __future__ import annotations

import argparse
import os
import signal
import threading

from conformance.harness.target import COUNTERPARTS, SIMULATED_ROLES, SimulatorSettings
from conformance.simulators.handle import start


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m conformance.simulators",
        description="模拟对端系统（政务服务平台、检验检测、安全监察、许可系统、国家平台）/ counterpart simulators",
    )
    p.add_argument(
        "--certify",
        default="licensing",
        choices=sorted(COUNTERPARTS),
        help="被认证的角色：启动其对端 / the role certified: its counterparts are started (default licensing)",
    )
    p.add_argument("--host", default="127.0.0.1", help="监听地址 / bind address (default 127.0.0.1)")
    for role in SIMULATED_ROLES:
        p.add_argument(f"--{role}", type=int, default=None, metavar="PORT", help=f"{role} 端口 / port (0: free)")
    p.add_argument(
        "--hold", type=float, default=35.0, help="“超时”故障的挂起秒数 / seconds a timeout fault holds a call"
    )
    p.add_argument(
        "--control-token-env",
        default="TZSB_SIM_TOKEN",
        help="控制接口令牌所在环境变量 / env var holding the control API token (unset: no token)",
    )
    args = p.parse_args(argv)
    ports = {r: getattr(args, r.replace("-", "_")) for r in SIMULATED_ROLES}
    wanted = COUNTERPARTS[args.certify]
    roles = [*wanted, *(r for r, port in ports.items() if port is not None and r not in wanted)]
    settings = SimulatorSettings(
        host=args.host,
        ports={r: port or 0 for r, port in ports.items()},
        control_token=os.environ.get(args.control_token_env),
        hold_s=args.hold,
    )
    sims = start(settings, roles=roles)
    for role, url in sims.urls().items():
        print(f"{role}: {url}", flush=True)
    print("ready", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    sims.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
