#!/usr/bin/env python3
"""py_walk.py - the Python side of the MIME benchmark.

What `postern mime tree --json --files-from LIST` does, with the standard
library's email package: parse each message (policy.default), walk every
part, transfer-decode every leaf (get_payload(decode=True)) and SHA-256 it.

usage: py_walk.py [-v] LIST     (-v: print "size sha256" per leaf)
"""

import hashlib
import sys
from email import policy
from email.parser import BytesParser


def main():
    args = sys.argv[1:]
    verbose = "-v" in args
    args = [a for a in args if a != "-v"]
    if len(args) != 1:
        sys.exit("usage: py_walk.py [-v] LIST")
    lst = sys.stdin if args[0] == "-" else open(args[0])
    parser = BytesParser(policy=policy.default)
    messages = leaves = decoded = 0
    for line in lst:
        path = line.rstrip("\n")
        if not path:
            continue
        with open(path, "rb") as f:
            msg = parser.parse(f)
        messages += 1
        for part in msg.walk():
            if part.is_multipart():
                continue
            data = part.get_payload(decode=True) or b""
            digest = hashlib.sha256(data).hexdigest()
            leaves += 1
            decoded += len(data)
            if verbose:
                print(len(data), digest)
    print("py_walk: %d messages, %d leaves, %d bytes decoded"
          % (messages, leaves, decoded), file=sys.stderr)


if __name__ == "__main__":
    main()
