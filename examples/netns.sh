#!/bin/sh
# A Linux network namespace on VPC vpc1: a veth whose peer moves in as eth0, with the VPC's MTU.
# `vpcctl apply --local` (and the boot unit) re-create the veth if it vanishes while the
# namespace lives on.
set -e
ip netns add blue
/usr/local/sbin/vpcctl attach vpc1 --netns blue --ip 10.100.0.20/24
ip netns exec blue ip route add default via 10.100.0.250   # a VIP of vpc1
ip netns exec blue ping -c 3 10.100.0.10
