"""SSH sharing: `vshare share --ssh` inserts a per-share key into a real sshd in the vm netns and
uploads it sealed with a password; `vshare connect --ssh NAME` from the client netns (which reaches
only the relay) fetches it with a proof of the password and runs the system ssh through the tunnel
(ProxyCommand `vshare connect --stdio`), with the vm's host key pinned."""
from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import json
import os
import pty
import re
import secrets
import select
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import time
import types

import pytest

import socks5
import topology as T
import vshare as V

SSH_PORT = 2222
PASSWORD = "correct horse battery staple"
SHARE_AT_RE = re.compile(r"Share will be at: (\S+)")
KEY_LINE_RE = re.compile(r'^no-agent-forwarding,no-X11-forwarding,expiry-time="(\d{14})Z" ssh-ed25519 \S+ vshare-share-\S+$')


class Machine:
    def __init__(self, user: str, home: str, identity: str, marker: str):
        self.user, self.home, self.identity, self.marker = user, home, identity, marker

    @property
    def authorized_keys(self) -> str:
        with open(os.path.join(self.home, ".ssh", "authorized_keys")) as f:
            return f.read()

    def vshare_lines(self) -> list[str]:
        return [line for line in self.authorized_keys.splitlines() if "vshare-share-" in line]


@pytest.fixture(scope="module")
def machine(topo, tmp_path_factory):
    """A test user with a vm-specific file, the agent's "Vagrant insecure key" in its
    authorized_keys, and a real sshd (own config and host key) on VM_IP:2222 in the vm netns."""
    for tool in ("sshd", "ssh", "ssh-agent", "ssh-add", "ssh-keygen", "useradd"):
        if shutil.which(tool) is None and not os.path.exists("/usr/sbin/" + tool):
            pytest.fail("missing %s (run scripts/install-deps: openssh-client openssh-server passwd)" % tool)
    conf_dir = str(tmp_path_factory.mktemp("sshd"))
    user = "vst-" + secrets.token_hex(4)
    home = "/home/" + user
    subprocess.run(["useradd", "-m", "-d", home, "-s", "/bin/sh", user], check=True, capture_output=True)
    try:
        # UsePAM no: sshd refuses accounts whose password field is locked ("!"); "*" = no password, not locked.
        subprocess.run(["usermod", "-p", "*", user], check=True, capture_output=True)
        identity = os.path.join(conf_dir, "insecure_private_key")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "vagrant-insecure", "-f", identity], check=True)
        ssh_dir = os.path.join(home, ".ssh")
        os.makedirs(ssh_dir, mode=0o700, exist_ok=True)
        with open(os.path.join(ssh_dir, "authorized_keys"), "w") as f:
            f.write(open(identity + ".pub").read())     # no trailing-newline games: ssh-keygen wrote one
        marker = "vm-answer-" + secrets.token_hex(4)
        with open(os.path.join(home, "vm-id"), "w") as f:
            f.write(marker + "\n")
        subprocess.run(["chown", "-R", "%s:%s" % (user, user), home], check=True)
        os.chmod(os.path.join(ssh_dir, "authorized_keys"), 0o600)
        host_key = os.path.join(conf_dir, "host_ed25519")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", host_key], check=True)
        config = os.path.join(conf_dir, "sshd_config")
        with open(config, "w") as f:
            f.write("\n".join([
                "Port %d" % SSH_PORT, "ListenAddress %s" % T.VM_IP, "HostKey %s" % host_key, "PidFile none",
                "UsePAM no", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes", "AuthorizedKeysFile .ssh/authorized_keys", "PermitRootLogin no",
                "StrictModes yes", "AllowUsers %s" % user, "LogLevel VERBOSE", "PrintMotd no", "PrintLastLog no",
                "AcceptEnv none", "",
            ]))
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        sshd = topo.vm.popen(["/usr/sbin/sshd", "-D", "-e", "-f", config], name="sshd")
        topo.share_host.wait_tcp((T.VM_IP, SSH_PORT), timeout=10, proc=sshd)
        yield Machine(user, home, identity, marker)
        sshd.stop()
    finally:
        subprocess.run(["userdel", "-r", "-f", user], capture_output=True)


def start_ssh_share(topo, relay, machine, extra=(), password=PASSWORD, label="ssh-share"):
    argv = V.share_argv(relay, token=relay.token, http_port=None,
                        extra=["--disable-http", "--ssh", "--ssh-port", str(SSH_PORT), "--ssh-user", machine.user,
                               "--ssh-identity", machine.identity, *extra])
    proc = topo.share_host.popen(argv, name=label, env=V.clean_env(), stdin=subprocess.PIPE)
    proc.popen.stdin.write((password + "\n").encode())
    proc.popen.stdin.close()
    for line in ("SSH Port: %d" % SSH_PORT, "Generating new SSH key...", "Please enter a password to encrypt the key:",
                 "Repeat the password to confirm:", "Inserting generated SSH key into machine...",
                 "Checking authentication and authorization..."):
        proc.wait_line(re.escape(line), 30)
    name = proc.wait_line(SHARE_AT_RE, 30).group(1)
    proc.wait_line(r"Your vshare is running!", 10)
    assert V.NAME_RE.match(name), name
    return proc, name


def connect_ssh_argv(relay, name, command=()):
    argv = [V.vshare_bin(), "connect", "--ssh", name, "--relay", "%s:%d" % (T.RELAY_CLIENT_SIDE_IP, relay.control_port),
            "--relay-ca", relay.ca]
    return argv + (["--", *command] if command else [])


def connect_ssh(topo, relay, name, command, password=PASSWORD, timeout=60):
    return topo.client.run(connect_ssh_argv(relay, name, command), input=(password + "\n").encode(),
                           timeout=timeout, env=V.clean_env())


@pytest.fixture(scope="module")
def ssh_share(topo, relay, machine):
    proc, name = start_ssh_share(topo, relay, machine)
    yield proc, name
    proc.stop()


def test_share_prints_no_url_and_inserted_one_key(ssh_share, machine):
    proc, name = ssh_share
    assert not re.search(r"URL: ", proc.output), proc.output
    lines = machine.vshare_lines()
    # Restricted, and refused by sshd itself after the share's end (issue 11).
    assert len(lines) == 1 and KEY_LINE_RE.match(lines[0]), machine.authorized_keys
    # The agent's own key is still there, untouched.
    assert "vagrant-insecure" in machine.authorized_keys
    assert PASSWORD not in proc.output


def test_command_runs_on_the_vm(topo, relay, ssh_share, machine):
    _, name = ssh_share
    r = connect_ssh(topo, relay, name, ["cat ~/vm-id; echo via $SSH_CONNECTION"])
    out, err = r.stdout.decode(), r.stderr.decode()
    assert r.returncode == 0, out + err
    # Standard output is not a terminal here: vshare's own lines go to standard error (issue 11),
    # and standard output holds only the command's output.
    assert "Loading share '%s'..." % name in err and "Password for the private key:" in err and "Executing SSH..." in err
    assert "==>" not in out and "Password" not in out, out
    assert machine.marker in out, out
    # sshd in the vm saw the share agent's side of the vm link, on its own address and port.
    assert re.search(r"via %s \d+ %s %d" % (re.escape(T.SHARE_VM_SIDE_IP), re.escape(T.VM_IP), SSH_PORT), out), out
    # ssh's exit status is passed through.
    r = connect_ssh(topo, relay, name, ["exit 7"])
    assert r.returncode == 7, r.stdout.decode() + r.stderr.decode()


def test_wrong_password_refused_and_ssh_not_run(topo, relay, ssh_share):
    _, name = ssh_share
    r = connect_ssh(topo, relay, name, ["echo should-not-run"], password="wrong password")
    out, err = r.stdout.decode(), r.stderr.decode()
    assert r.returncode != 0
    assert "wrong password" in err.lower(), err
    assert "Executing SSH" not in out + err and "should-not-run" not in out + err


def test_share_without_ssh_is_a_clear_error(topo, relay, new_share):
    plain = new_share()
    r = connect_ssh(topo, relay, plain.name, ["true"])
    assert r.returncode != 0
    assert "does not offer SSH" in r.stderr.decode(), r.stderr.decode()
    r = connect_ssh(topo, relay, "no-such-share-0000", ["true"])
    assert r.returncode != 0 and "no share named" in r.stderr.decode(), r.stderr.decode()


def test_interactive_session_through_a_pty(topo, relay, ssh_share):
    _, name = ssh_share
    pid, fd = pty.fork()
    if pid == 0:
        env = V.clean_env()
        env["TERM"] = "dumb"
        os.execvpe("ip", topo.client.argv(connect_ssh_argv(relay, name)), env)
    seen = b""

    def expect(pattern: bytes, timeout: float = 30) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while not re.search(pattern, seen):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %r on the terminal; saw %r" % (pattern, seen[-2000:]))
            ready, _, _ = select.select([fd], [], [], min(left, 0.5))
            if ready:
                try:
                    seen += os.read(fd, 4096)
                except OSError:
                    raise AssertionError("terminal closed before %r; saw %r" % (pattern, seen[-2000:]))

    try:
        expect(rb"Password for the private key:")
        os.write(fd, (PASSWORD + "\n").encode())
        expect(rb"Executing SSH")
        expect(rb"\$ $|\$ ")
        os.write(fd, b"echo mark$((40+2))er\n")
        expect(rb"mark42er")
        os.write(fd, b"exit\n")
        deadline = time.monotonic() + 20
        status = None
        while time.monotonic() < deadline:
            try:
                ready, _, _ = select.select([fd], [], [], 0.2)
                if ready:
                    seen += os.read(fd, 4096)
            except OSError:
                pass
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
        assert status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, (status, seen[-2000:])
        assert PASSWORD.encode() not in seen, "the password was echoed"
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)


def wait_key_gone(machine, timeout=20):
    deadline = time.monotonic() + timeout
    while machine.vshare_lines():
        if time.monotonic() > deadline:
            raise AssertionError("the share's key is still in authorized_keys:\n" + machine.authorized_keys)
        time.sleep(0.2)


def test_ssh_once(topo, relay, machine, ssh_share):
    proc, name = start_ssh_share(topo, relay, machine, extra=["--ssh-once"], label="once-share")
    try:
        assert len(machine.vshare_lines()) == 2      # this one and the module's share
        # A peer reaching the SSH port before anyone got the key (here through connect's SOCKS)
        # must not arm the one-time removal: only streams after the relay's release count.
        peer = types.SimpleNamespace(name=name, code=V.wait_code(proc, name))
        c = V.start_connect(topo, relay, peer, extra=["--no-tun"], tun=False, label="once-socks")
        try:
            s = topo.client.call(socks5.connect, c.socks, name, SSH_PORT, timeout=15)
            banner = topo.client.call(s.recv, 100, timeout=15)
            s.close()
            assert banner.startswith(b"SSH-"), banner
        finally:
            V.stop(c.proc)
        time.sleep(1)
        assert len(machine.vshare_lines()) == 2, "a SOCKS stream to port 22 removed the one-time key"
        # A wrong password does not use the key up.
        r = connect_ssh(topo, relay, name, ["true"], password="nope")
        assert r.returncode != 0 and "wrong password" in r.stderr.decode().lower()
        r = connect_ssh(topo, relay, name, ["cat ~/vm-id"])
        assert r.returncode == 0 and machine.marker in r.stdout.decode(), r.stdout.decode() + r.stderr.decode()
        # The agent removes its key (only its key) once the first session has started.
        deadline = time.monotonic() + 20
        while len(machine.vshare_lines()) != 1:
            assert time.monotonic() < deadline, machine.authorized_keys
            time.sleep(0.2)
        r = connect_ssh(topo, relay, name, ["echo second-login"])
        assert r.returncode != 0 and "second-login" not in r.stdout.decode()
        assert "does not offer SSH" in r.stderr.decode(), r.stderr.decode()
    finally:
        proc.stop()


def test_ctrl_c_removes_the_key_and_the_blob(topo, relay, machine, ssh_share):
    proc, name = start_ssh_share(topo, relay, machine, label="ended-share")
    before = set(machine.vshare_lines())
    assert len(before) == 2
    r = connect_ssh(topo, relay, name, ["true"])
    assert r.returncode == 0, r.stderr.decode()
    assert V.stop(proc, signal.SIGINT, timeout=20) == 0, proc.describe()
    after = machine.vshare_lines()
    assert len(after) == 1 and after[0] in before, machine.authorized_keys
    r = connect_ssh(topo, relay, name, ["true"])
    assert r.returncode != 0 and "no share named" in r.stderr.decode(), r.stderr.decode()
    assert "Executing SSH" not in r.stdout.decode() + r.stderr.decode()


# --- the relay's stored blob, fetched like a client does ---------------------

def relay_ask(topo, relay, message: dict) -> dict:
    """HELLO (role connect) and one CONTROL message on the relay's control port; returns the answer."""
    def exchange():
        ctx = ssl.create_default_context(cafile=relay.ca)
        raw = socket.create_connection((T.RELAY_CLIENT_SIDE_IP, relay.control_port), timeout=20)
        s = ctx.wrap_socket(raw, server_hostname=T.RELAY_CLIENT_SIDE_IP)

        def frame(kind: int, payload: bytes) -> bytes:
            n = len(payload)
            return struct.pack(">BHBBI", n >> 16, n & 0xFFFF, kind, 0, 0) + payload
        hello = b"VSHR" + struct.pack(">H", 2) + json.dumps({"role": "connect", "software": "test"}).encode()
        s.sendall(frame(0, hello) + frame(1, json.dumps(message).encode()))
        buf = b""
        while True:
            while len(buf) >= 9:
                n = (buf[0] << 16) | (buf[1] << 8) | buf[2]
                if len(buf) < 9 + n:
                    break
                kind, payload, buf = buf[3], buf[9:9 + n], buf[9 + n:]
                if kind == 1:
                    s.close()
                    return json.loads(payload)
            chunk = s.recv(65536)
            if not chunk:
                raise AssertionError("relay closed without answering")
            buf += chunk
    return topo.client.call(exchange, timeout=40)


def derive(password: str, kdf: dict) -> tuple[bytes, bytes]:
    out = hashlib.scrypt(password.encode(), salt=base64.b64decode(kdf["salt"]), n=1 << kdf["logN"], r=kdf["r"],
                         p=kdf["p"], maxmem=1 << 28, dklen=64)
    return out[:32], hmac.new(out[32:], b"vshare ssh verifier", hashlib.sha256).digest()


def test_relay_blob_is_sealed_and_needs_the_password(topo, relay, ssh_share):
    _, name = ssh_share
    params = relay_ask(topo, relay, {"kind": "sshParams", "name": name})
    assert params["kind"] == "sshParams", params
    kdf = params["sshKDF"]
    assert kdf["kdf"] == "scrypt" and kdf["logN"] >= 15 and len(base64.b64decode(kdf["salt"])) == 16, kdf
    assert "sshSealed" not in params and "verifier" not in json.dumps(params)
    # A wrong password's proof gets no ciphertext.
    _, wrong_proof = derive("not the password", kdf)
    refused = relay_ask(topo, relay, {"kind": "sshKey", "name": name, "sshProof": base64.b64encode(wrong_proof).decode()})
    assert refused["kind"] == "error" and refused["errorCode"] == "wrongPassword", refused
    assert "sshSealed" not in refused
    # The right proof gets the sealed record, which holds no private key in the clear.
    key, proof = derive(PASSWORD, kdf)
    answer = relay_ask(topo, relay, {"kind": "sshKey", "name": name, "sshProof": base64.b64encode(proof).decode()})
    assert answer["kind"] == "sshKey", answer
    sealed = answer["sshSealed"]
    ciphertext = base64.b64decode(sealed["ciphertext"])
    assert b"OPENSSH" not in ciphertext and b"ssh-ed25519" not in ciphertext and b"OPENSSH" not in json.dumps(answer).encode()
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    nonce = base64.b64decode(sealed["nonce"])
    plain = AESGCM(key).decrypt(nonce, ciphertext, b"vshare-ssh-key-v1")
    assert b"-----BEGIN OPENSSH PRIVATE KEY-----" in plain
    wrong_key, _ = derive("not the password", kdf)
    with pytest.raises(InvalidTag):
        AESGCM(wrong_key).decrypt(nonce, ciphertext, b"vshare-ssh-key-v1")


# --- issue 11: the key's expiry, and --ssh-once over the machine IP -----------

def _expiry(line: str) -> float:
    return calendar.timegm(time.strptime(KEY_LINE_RE.match(line).group(1), "%Y%m%d%H%M%S"))


def test_the_key_expires_with_the_share(ssh_share, machine):
    """Inserted with a short provisional expiry, then set to the share's end (the relay's 8h) once
    the relay created the share: sshd refuses the key afterwards even if the agent never removed it."""
    deadline = time.monotonic() + 20
    while True:
        lines = machine.vshare_lines()
        assert len(lines) == 1, machine.authorized_keys
        left = _expiry(lines[0]) - time.time()
        if left > 30 * 60:
            break
        assert time.monotonic() < deadline, "expiry not set to the share's end: %s" % lines[0]
        time.sleep(0.2)
    assert 8 * 3600 - 120 < left <= 8 * 3600 + 120, lines[0]


def _released_private_key(topo, relay, name: str) -> bytes:
    """What a client with the password gets from the relay (this releases a one-time key)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    kdf = relay_ask(topo, relay, {"kind": "sshParams", "name": name})["sshKDF"]
    key, proof = derive(PASSWORD, kdf)
    answer = relay_ask(topo, relay, {"kind": "sshKey", "name": name, "sshProof": base64.b64encode(proof).decode()})
    assert answer["kind"] == "sshKey", answer
    sealed = answer["sshSealed"]
    plain = AESGCM(key).decrypt(base64.b64decode(sealed["nonce"]), base64.b64decode(sealed["ciphertext"]),
                                b"vshare-ssh-key-v1")
    assert plain.startswith(b"vshare-ssh-1"), plain[:16]
    (n,) = struct.unpack(">I", plain[12:16])
    return plain[16:16 + n]


@pytest.mark.timeout(90)
def test_ssh_once_counts_a_login_through_the_machine_ip(topo, relay, machine, ssh_share, tmp_path):
    """The released one-time key used over the TUN path (ssh to the machine IP) uses it up too."""
    proc, name = start_ssh_share(topo, relay, machine, extra=["--ssh-once"], label="once-tun-share")
    try:
        peer = types.SimpleNamespace(name=name, code=V.wait_code(proc, name))
        assert len(machine.vshare_lines()) == 2
        key_file = tmp_path / "released_key"
        key_file.write_bytes(_released_private_key(topo, relay, name))
        os.chmod(key_file, 0o600)
        c = V.start_connect(topo, relay, peer, extra=["--ip", "172.16.0.41"], label="once-tun")
        try:
            r = topo.client.run(["ssh", "-i", str(key_file), "-p", str(SSH_PORT), "-l", machine.user,
                                 "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "IdentityAgent=none",
                                 "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                                 "-o", "ConnectTimeout=15", c.machine_ip, "cat ~/vm-id"], timeout=40)
            assert r.returncode == 0 and machine.marker in r.stdout.decode(), r.stderr.decode()
            deadline = time.monotonic() + 25
            while len(machine.vshare_lines()) != 1:
                assert time.monotonic() < deadline, "a login through the machine IP did not use up the one-time key:\n" \
                    + machine.authorized_keys + proc.describe()
                time.sleep(0.2)
        finally:
            V.stop(c.proc)
    finally:
        proc.stop()


def test_command_output_redirected_to_a_file_is_only_the_commands(topo, relay, ssh_share, machine, tmp_path):
    """`vshare connect --ssh NAME -- cmd > file`: the file gets the command's output, nothing of vshare's."""
    _, name = ssh_share
    out_file = tmp_path / "out.txt"
    with open(out_file, "wb") as f:
        r = topo.client.run(connect_ssh_argv(relay, name, ["cat ~/vm-id"]), input=(PASSWORD + "\n").encode(),
                            stdout=f, stderr=subprocess.PIPE, capture_output=False, timeout=60, env=V.clean_env())
    assert r.returncode == 0, r.stderr.decode()
    assert out_file.read_text() == machine.marker + "\n", out_file.read_text()
    assert "Executing SSH..." in r.stderr.decode(), r.stderr.decode()
