#!/bin/sh
# Creates, on a real KurrentDB/EventStoreDB node, the users of Vigie's services (group
# "vigie"), with the node's own HTTP users API, and prints each component's
# EVENTSTORE_URL. Then `EVENTSTORE_URL=<admin URL> vigie eventstore policy --apply`
# writes the stream policy that lets each one write only its own streams (a node with
# the stream policy plugin: see infra/README.md).
#
# Usage: NODE=https://db.example.org:2113 ADMIN_PASSWORD=… CA=/path/ca.crt infra/eventstore/users.sh
# The passwords are generated here and printed once, inside the URLs: keep them in Secrets.
set -eu
: "${NODE:?NODE=https://host:2113}" "${ADMIN_PASSWORD:?ADMIN_PASSWORD of user admin}" "${CA:?CA=path of the node CA certificate}"
host=${NODE#https://}
for user in vigie-incidents vigie-resources vigie-alerts vigie-gateway vigie-projector; do
	password=$(openssl rand -hex 24)
	curl --fail --silent --show-error --cacert "$CA" -u "admin:$ADMIN_PASSWORD" \
		-H 'Content-Type: application/json' -X POST "$NODE/users/" \
		-d "{\"loginName\":\"$user\",\"fullName\":\"$user\",\"groups\":[\"vigie\"],\"password\":\"$password\"}" >/dev/null
	echo "$user: EVENTSTORE_URL=esdb://$user:$password@$host?tls=true&tlsCAFile=$CA"
done
