# attach tap qemu0 to vpc1 through qemu0
ip tuntap add dev qemu0 mode tap
ip link set dev qemu0 mtu 1430
ip link set dev qemu0 alias vpcctl-guest:vpc1:tap:qemu0
ip link set dev qemu0 master vpc1
ip link set dev qemu0 up
# detach tap qemu0 (qemu0)
ip link del dev qemu0
