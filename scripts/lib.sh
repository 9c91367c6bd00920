# Shared helpers for scripts/*. Source it; do not run it.

# The repository root (the directory holding Package.swift).
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Put the Swift toolchain on PATH when it is installed at /opt/swift.
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi

# A python3 that can import pytest: the first on PATH, else the system one.
pick_python() {
    if python3 -c 'import pytest' >/dev/null 2>&1; then
        echo python3
    elif /usr/bin/python3 -c 'import pytest' >/dev/null 2>&1; then
        echo /usr/bin/python3
    else
        echo "no python3 with pytest found; run scripts/install-deps" >&2
        return 1
    fi
}
