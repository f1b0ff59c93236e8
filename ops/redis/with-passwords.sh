#!/bin/sh
# Print users.acl with each role's password hash added (Redis ACL `#<sha256>`), for redis.conf's
# `aclfile`. The passwords are read from files (one line each) and never appear on a command line.
#   ops/redis/with-passwords.sh ops/redis/users.acl /run/secrets/hub-password /run/secrets/station-password > /etc/redis/users.acl
set -eu
[ $# -eq 3 ] || { echo "usage: $0 users.acl hub-password-file station-password-file" >&2; exit 64; }
hash() { printf '%s' "$(cat "$1")" | sha256sum | cut -d' ' -f1; }
hub=$(hash "$2")
station=$(hash "$3")
sed -e "s/^user hes-gate-hub on /user hes-gate-hub on #$hub /" -e "s/^user hes-gate-station on /user hes-gate-station on #$station /" "$1"
