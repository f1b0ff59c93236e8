#!/bin/sh
# Print users.acl with password hashes added (Redis ACL `#<sha256>`), for redis.conf's `aclfile`.
# Each password is read from a file (its first line) and never appears on a command line:
#   ops/redis/with-passwords.sh ops/redis/users.acl \
#     hes-gate-hub=/run/secrets/hub hes-gate-station=/run/secrets/station \
#     hes-gate-replication=/run/secrets/replication hes-gate-sentinel=/run/secrets/sentinel > /etc/redis/users.acl
# A user given no password keeps none, and cannot log in.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 users.acl <user>=<password-file>..." >&2; exit 64; }
acl=$1
shift
script=''
for pair in "$@"; do
  user=${pair%%=*}
  file=${pair#*=}
  case $user in *[!a-z0-9-]*|'') echo "$0: bad user name: $user" >&2; exit 64 ;; esac
  grep -q "^user $user on " "$acl" || { echo "$0: $acl has no user $user" >&2; exit 65; }
  hash=$(printf '%s' "$(head -n 1 "$file")" | sha256sum | cut -d' ' -f1)
  script="$script
s/^user $user on /user $user on #$hash /"
done
sed -e "$script" "$acl"
