#!/bin/sh
# A QEMU/KVM VM on VPC vpc1 (Linux). vpcctl makes the tap "qemu-db" on the vpc1 bridge with the
# VPC's MTU; QEMU opens it by name. Give the guest the VPC's MTU too (virtio-net host_mtu).
set -e
mtu=$(ip -o link show dev vpc1 | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')
/usr/local/sbin/vpcctl attach vpc1 --tap qemudb --mac 52:54:00:0a:00:01
qemu-system-x86_64 -enable-kvm -m 2048 -smp 2 \
    -drive file=/var/lib/vms/db.qcow2,if=virtio \
    -netdev tap,id=n0,ifname=qemudb,script=no,downscript=no \
    -device virtio-net-pci,netdev=n0,mac=52:54:00:0a:00:01,host_mtu="$mtu" \
    -nographic || true
/usr/local/sbin/vpcctl detach vpc1 qemudb
