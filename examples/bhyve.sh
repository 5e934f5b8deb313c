#!/bin/sh
# A bhyve VM on VPC vpc1 (FreeBSD). vpcctl creates the tap on the vpc1 bridge with the VPC's MTU
# and tells you its name; the MAC belongs to the VM's NIC.
set -e
tap=$(/usr/local/sbin/vpcctl attach vpc1 --vm db --mac 58:9c:fc:0a:00:01 --json |
      sed -n 's/.*"interface": "\(tap[0-9]*\)".*/\1/p')
bhyve -c 2 -m 2G -A -H -P \
    -s 0,hostbridge -s 31,lpc -l com1,stdio \
    -s 2,virtio-net,"$tap",mac=58:9c:fc:0a:00:01 \
    -s 3,virtio-blk,/vm/db/disk.img \
    db || true
bhyvectl --destroy --vm=db 2>/dev/null || true
/usr/local/sbin/vpcctl detach vpc1 db

# vm-bhyve: attach first, then point the VM at the tap it got, e.g. in /vm/db/db.conf:
#   network0_type="virtio-net"
#   network0_device="tap20001"          # the interface vpcctl printed
#   network0_mac="58:9c:fc:0a:00:01"
# and detach with `vpcctl detach vpc1 db` after `vm stop db`.
