# attach netns blue to vpc1 through vg3
ip link add name vg3 mtu 1430 type veth peer name vg3p mtu 1430 netns blue
ip link set dev vg3 alias vpcctl-guest:vpc1:netns:blue
ip -n blue link set dev vg3p name eth0
ip -n blue link set dev eth0 address 02:00:5e:10:00:0a
ip -n blue addr add 10.100.0.10/24 dev eth0
ip -n blue link set dev eth0 up
ip -n blue link set dev lo up
ip link set dev vg3 master vpc1
ip link set dev vg3 up
# detach netns blue (vg3)
ip link del dev vg3
