"""Command line: ``python -m sfemu serve ...`` and ``python -m sfemu generate ...`` (see README.md)."""
import argparse
import json
import os
import sys
import tempfile

from . import DEFAULT_API_VERSION


def _write_atomically(path, text, mode):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".sfemu-")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def serve(args):
    from .estate import Estate
    from .faults import FaultRuleError, Faults
    from .server import Emulator
    from .transport import EmulatorServer
    from .tls import generate_certificates, server_context

    state_dir = args.state_dir or tempfile.mkdtemp(prefix="sfemu-")
    key_dir = os.path.join(state_dir, "keys")
    os.makedirs(key_dir, exist_ok=True)
    if args.state_file and os.path.exists(args.state_file):
        estate = Estate.load_state(args.state_file, args.estate, key_dir=key_dir)
    else:
        estate = Estate.from_file(args.estate, seed=args.seed, key_dir=key_dir)
    faults = Faults(seed=args.seed, latency_ms=args.latency_ms)
    try:
        for rule in args.fault:
            faults.add(rule)
    except FaultRuleError as exc:
        sys.exit("sfemu: bad --fault: %s" % exc)

    # The SOQL parser builds its tables on first import (seconds): do it before READY.json, so the
    # first query of a client is as fast as the others.
    from . import soql  # noqa: F401

    ca_path, cert_path, key_path = generate_certificates(state_dir)
    app = Emulator(estate, faults)
    server = EmulatorServer((args.host, args.port), app, server_context(cert_path, key_path), verbose=args.verbose)
    app.base_url = "https://%s:%d" % (args.host, server.server_address[1])

    def ready():
        info = {"base_url": app.base_url, "ca_file": ca_path, "pid": os.getpid(),
                "api_version": DEFAULT_API_VERSION, "state_dir": state_dir,
                "admin_url": app.base_url + "/__emulator__/", "orgs": app.connections()}
        if args.ready_file:
            # READY.json holds tokens and secrets: owner-only.
            _write_atomically(args.ready_file, json.dumps(info, indent=2) + "\n", 0o600)
        print("sfemu: serving %d orgs at %s" % (len(estate.orgs), app.base_url), file=sys.stderr, flush=True)

    # SIGTERM or SIGINT: the server stops accepting, finishes the requests in progress, then returns.
    try:
        server.run(on_ready=ready)
    finally:
        if args.state_file:
            with estate.lock:
                estate.save_state(args.state_file)
        print("sfemu: stopped", file=sys.stderr, flush=True)
    return 0


def generate_command(args):
    from .generate import generate
    text = generate(orgs=args.orgs, users=args.users, seed=args.seed)
    if not isinstance(text, str):
        import yaml
        text = yaml.safe_dump(text, sort_keys=False)
    if args.out:
        _write_atomically(args.out, text, 0o644)
    else:
        sys.stdout.write(text)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sfemu", description="Local HTTPS emulator of Salesforce orgs")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("serve", help="serve an estate of orgs over HTTPS")
    run.add_argument("--estate", required=True, help="estate YAML file")
    run.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    run.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one")
    run.add_argument("--ready-file", help="write READY.json here once listening")
    run.add_argument("--latency-ms", type=int, default=0, help="added latency on every request (plus jitter)")
    run.add_argument("--fault", action="append", default=[], metavar="RULE", help="fault rule (repeatable)")
    run.add_argument("--state-file", help="load state from it at start if present, save to it at shutdown")
    run.add_argument("--seed", type=int, default=0, help="seed for generated data and faults")
    run.add_argument("--state-dir", help="where ca.pem, keys and certificates go (default: a temp dir)")
    run.add_argument("--verbose", action="store_true", help="log every request to stderr")
    run.set_defaults(func=serve)

    gen = commands.add_parser("generate", help="write a large realistic estate YAML")
    gen.add_argument("--orgs", type=int, required=True, help="production orgs (each gets a sandbox)")
    gen.add_argument("--users", type=int, required=True, help="users per org")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--out", help="output file (default: stdout)")
    gen.set_defaults(func=generate_command)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
