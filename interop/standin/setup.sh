#!/bin/bash
# Stand-in for the endpoint image's /setup.sh (quic-network-simulator, endpoint/setup.sh),
# bind-mounted at /setup.sh in every endpoint's mount namespace by interop/run: the same
# steps, with ip(8) instead of net-tools. Like the original it does not stop at an error.
echo "Setting up routes..."
# The image turns off TX checksum offload (so that packets leave with their checksums, which
# ns-3 checks); on kernels before 6.11 that makes UDP GSO sends fail with EIO.
ethtool -K eth0 tx off >/dev/null 2>&1

ip4=$(ip -4 -o addr show dev eth0 2>/dev/null | awk '{ split($4, a, "/"); print a[1]; exit }')
if [ -n "$ip4" ]; then
  echo "Endpoint's IPv4 address is $ip4"
  ip route replace 193.167.0.0/16 via "${ip4%.*}.2" dev eth0
  ip route del "${ip4%.*}.0/24" dev eth0 2>/dev/null
fi
ip6=$(ip -6 -o addr show dev eth0 scope global 2>/dev/null | awk '{ split($4, a, "/"); print a[1]; exit }')
if [ -n "$ip6" ]; then
  echo "Endpoint's IPv6 address is $ip6"
  ip -6 route replace fd00:cafe:cafe::/48 via "${ip6%:*}:2" dev eth0
  ip -6 route del "${ip6%:*}:/64" dev eth0 2>/dev/null
fi

mkdir -p /logs/qlog
